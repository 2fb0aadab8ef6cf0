"""Saving and loading models and weights, safely.

``model.save(path)`` writes one zip file (any name, e.g. ``model.keras``) with the architecture
(``config.json``), the weights (``model.safetensors``), the compile arguments and the optimizer
state (``optimizer.safetensors``) and ``metadata.json``. ``load_model(path)`` rebuilds it.
``save_weights``/``load_weights`` write/read the weights alone as one safetensors file.
Files written by Keras 3 load too: ``load_model("m.keras")`` and ``model.load_weights("w.weights.h5")``
(with h5py, ``pip install "easynn[keras-files]"``; see ``keras_file.py``).

Safety: classes are resolved only through an explicit registry (easynn's own layers, classes
registered with ``@register_keras_serializable``, and ``custom_objects``); no module path from a
file is ever imported, no code from a file is ever run and nothing is ever unpickled. Writes are atomic (temporary file + fsync +
rename), so an interrupted save leaves the previous file intact.

Keras's serialization API is here too: ``serialize_keras_object``/``deserialize_keras_object``,
``get_custom_objects``, ``custom_object_scope``, ``to_json``/``model_from_json``, ``clone_model``,
and the layer hooks (``get_build_config``, ``save_own_variables``, ``save_assets``,
``get_compile_config`` and their inverses; see ``hooks.py``).

Example:
    >>> import os, tempfile, torch, easynn
    >>> model = easynn.Sequential([easynn.Input(shape=(3,)), easynn.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> model.save(path)
    >>> restored = easynn.saving.load_model(path)
    >>> bool(torch.equal(restored(torch.ones(1, 3)), model(torch.ones(1, 3))))
    True
"""

from easynn.saving.cloning import clone_model
from easynn.saving.export import export_model
from easynn.saving.json_api import model_from_json, to_json
from easynn.saving.model_file import load_model, save_model
from easynn.saving.registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_builtin,
    register_keras_serializable,
    register_serializable,
)
from easynn.saving.serialization import (
    deserialize_keras_object,
    deserialize_layer,
    serialize_keras_object,
    serialize_layer,
)
from easynn.saving.weights import load_weights, save_weights

__all__ = [
    "save_model", "load_model", "save_weights", "load_weights", "register_keras_serializable",
    "register_serializable", "register_builtin", "get_custom_objects", "get_registered_name",
    "get_registered_object", "custom_object_scope", "CustomObjectScope", "serialize_keras_object",
    "deserialize_keras_object", "serialize_layer", "deserialize_layer", "to_json", "model_from_json",
    "clone_model", "export_model",
]


def _attach_layer_aliases() -> None:
    """Keras's ``keras.layers.serialize`` / ``deserialize`` are these two functions.

    ``easynn.layers`` sits below ``easynn.saving`` in the import layering and cannot import
    them, so saving attaches them (only where easynn.layers defines no such name itself).
    """
    import easynn.layers as layers_package

    for name, function in (("serialize", serialize_keras_object), ("deserialize", deserialize_keras_object)):
        if not hasattr(layers_package, name):
            setattr(layers_package, name, function)


_attach_layer_aliases()
