"""Optimizer identifiers: ``get`` (names, configs, classes, torch optimizers) and ``serialize``."""

from __future__ import annotations

from typing import Any

import torch

from easynn.optimizers.adam import Adam, Adamax, AdamW, Nadam
from easynn.optimizers.adaptive import Adadelta, Adafactor, Adagrad, RMSprop
from easynn.optimizers.base import Optimizer
from easynn.optimizers.ftrl import Ftrl
from easynn.optimizers.lamb import Lamb
from easynn.optimizers.lion import Lion
from easynn.optimizers.sgd import SGD
from easynn.optimizers.torch_wrapper import TorchOptimizer

__all__ = ["get", "serialize"]


_CLASSES = {c.__name__.lower(): c for c in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Nadam, Adamax, Adafactor,
                                             Ftrl, Lamb, Lion)}


def get(identifier: Any) -> Optimizer | None:
    """Resolve an optimizer identifier.

    Accepts a Keras name (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``,
    ``"adadelta"``, ``"nadam"``, ``"adamax"``, ``"adafactor"``, ``"ftrl"``, ``"lamb"``, ``"lion"``;
    case-insensitive), a ``{"class_name", "config"}``
    dict, an easynn ``Optimizer`` (instance or class), a ``torch.optim.Optimizer`` subclass
    (wrapped unbound, built with torch's defaults) or instance (wrapped as built).

    Raises:
        ValueError: for an unknown name, listing the valid ones.
        TypeError: for anything else.

    Example:
        >>> opt = get("RMSprop")
        >>> type(opt).__name__, opt.learning_rate, opt.rho
        ('RMSprop', 0.001, 0.9)
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier.lower())
        if cls is None:
            raise ValueError(
                f"Unknown optimizer '{identifier}'. Expected one of: {', '.join(_CLASSES)}, an easynn "
                "Optimizer or a torch.optim optimizer."
            )
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(str(identifier["class_name"]).lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer class '{identifier['class_name']}'. Expected one of: {', '.join(_CLASSES)}.")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, torch.optim.Optimizer):
        return TorchOptimizer.from_instance(identifier)
    if isinstance(identifier, type):
        if issubclass(identifier, Optimizer) and identifier is not TorchOptimizer:
            return identifier()
        if issubclass(identifier, torch.optim.Optimizer):
            return TorchOptimizer(identifier)
    raise TypeError(
        f"Could not interpret optimizer identifier: {identifier!r}. Expected a name such as 'adam', an easynn "
        "Optimizer, or a torch.optim optimizer class or instance."
    )


def serialize(optimizer: Any) -> Any:
    """``{"class_name", "config"}`` for an easynn optimizer; names pass through.

    Raises:
        TypeError: for wrapped torch optimizers.
    """
    if optimizer is None or isinstance(optimizer, str):
        return optimizer
    if isinstance(optimizer, Optimizer):
        return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
    raise TypeError(f"Cannot serialize optimizer {optimizer!r}.")
