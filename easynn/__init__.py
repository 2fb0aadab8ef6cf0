"""easynn: Keras's API for building and training networks, running on PyTorch.

``import easynn as keras`` runs the usual Keras script::

    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, batch_size=32)
"""

from easynn import (
    activations,
    callbacks,
    constraints,
    dtype_policies,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    optimizers,
    regularizers,
    utils,
)
from easynn.dtype_policies import DTypePolicy, FloatDTypePolicy
from easynn.initializers import Initializer
from easynn.layers import Input, InputSpec, Layer
from easynn.losses import Loss
from easynn.metrics import Metric
from easynn.models import Model, Sequential, load_model
from easynn.optimizers import Optimizer
from easynn.regularizers import Regularizer
from easynn.scopes import device, name_scope
from easynn.variables import Variable

__version__ = "0.1.0"


def version() -> str:
    """easynn's version (Keras's ``keras.version()``)."""
    return __version__


# Keras's name for the placeholder tensors of the functional API (``keras.Input`` returns one).
KerasTensor = layers.SymbolicTensor

__all__ = [
    "activations", "callbacks", "constraints", "initializers", "layers", "losses", "metrics", "mixed_precision", "models",
    "optimizers", "regularizers", "utils", "Input", "Model", "Sequential", "load_model", "__version__",
    "Variable", "ops", "random", "tree", "config", "backend", "Layer", "Loss", "Metric", "Optimizer", "Regularizer",
    "Initializer", "InputSpec", "device", "name_scope", "version", "KerasTensor", "preprocessing",
    "dtype_policies", "DTypePolicy", "FloatDTypePolicy",
]

_LAZY = ("datasets", "saving", "distribute", "plot", "ops", "random", "config", "backend", "preprocessing", "tree")


def __getattr__(name: str):
    # Heavier or optional parts load on first use: easynn.datasets, easynn.plot, ...
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"easynn.{name}")
    raise AttributeError(f"module 'easynn' has no attribute {name!r}")
