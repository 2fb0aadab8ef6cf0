"""Keras optimizers (names, defaults, clipping, decoupled weight decay, EMA, gradient
accumulation) on top of torch.optim, and learning-rate schedules (``optimizers.schedules``).

An easynn optimizer is created *unbound*, like a Keras one; ``build(variables)`` creates the
``torch.optim`` optimizer that does the work, with Keras's defaults, which differ from torch's
(Adam/RMSprop epsilon 1e-7, RMSprop rho 0.9, Adagrad initial accumulator 0.1, AdamW weight
decay 0.004, SGD lr 0.01). ``lr=`` is accepted with a DeprecationWarning (Keras 3 rejects it),
so Keras 2 scripts run. After each update, weights with a ``constraint`` are projected (Keras's
``kernel_constraint=``...). Modules: ``base`` (Optimizer), ``_update`` (its update step), ``sgd``,
``adam`` (Adam, AdamW, Nadam, Adamax), ``adaptive`` (RMSprop, Adagrad, Adadelta, Adafactor),
``lion``, ``ftrl``, ``lamb``, ``muon`` (Muon + AdamW, Keras's), ``loss_scale`` (LossScaleOptimizer, dynamic loss scaling),
``torch_wrapper`` (any torch.optim optimizer), ``schedules``.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([10.0]))
    >>> opt = RMSprop(learning_rate=0.1)
    >>> opt.build([w])
    >>> (w ** 2 / 2).sum().backward()
    >>> opt.step()
    >>> round(w.item(), 4)  # Keras documents 9.683772
    9.6838
"""

from easynn.optimizers import schedules
from easynn.optimizers._registry import deserialize, get, serialize
from easynn.optimizers.adam import Adam, Adamax, AdamW, Nadam
from easynn.optimizers.adaptive import Adadelta, Adafactor, Adagrad, RMSprop
from easynn.optimizers.base import Optimizer
from easynn.optimizers.ftrl import Ftrl
from easynn.optimizers.lamb import Lamb
from easynn.optimizers.lion import Lion
from easynn.optimizers.loss_scale import LossScaleOptimizer
from easynn.optimizers.muon import Muon
from easynn.optimizers.schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)
from easynn.optimizers.sgd import SGD
from easynn.optimizers.torch_wrapper import TorchOptimizer

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Nadam", "Adamax", "Adafactor", "Ftrl",
    "Lamb", "Lion", "Muon", "LossScaleOptimizer", "TorchOptimizer", "schedules", "LearningRateSchedule", "ExponentialDecay",
    "PiecewiseConstantDecay", "PolynomialDecay", "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts", "get",
    "serialize", "deserialize",
]
