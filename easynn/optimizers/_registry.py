"""Optimizer identifiers: ``get`` (names, configs, classes, torch optimizers), ``serialize`` and
``deserialize``."""

from __future__ import annotations

import inspect
from typing import Any

import torch

from easynn.optimizers.adam import Adam, Adamax, AdamW, Nadam
from easynn.optimizers.adaptive import Adadelta, Adafactor, Adagrad, RMSprop
from easynn.optimizers.base import Optimizer
from easynn.optimizers.ftrl import Ftrl
from easynn.optimizers.lamb import Lamb
from easynn.optimizers.lion import Lion
from easynn.optimizers.muon import Muon
from easynn.optimizers.sgd import SGD
from easynn.optimizers.torch_wrapper import TorchOptimizer

__all__ = ["get", "serialize", "deserialize"]


_CLASSES = {c.__name__.lower(): c for c in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Nadam, Adamax, Adafactor,
                                             Ftrl, Lamb, Lion, Muon)}
# Optimizers that wrap another one and cannot be made from a name alone, found only by the class
# name of a config. optimizers/loss_scale.py adds LossScaleOptimizer when imported (it imports this
# module to (de)serialize its inner optimizer, so this module cannot import it).
_WRAPPERS: dict[str, type] = {}


def get(identifier: Any) -> Optimizer | None:
    """Resolve an optimizer identifier.

    Accepts a Keras name (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``,
    ``"adadelta"``, ``"nadam"``, ``"adamax"``, ``"adafactor"``, ``"ftrl"``, ``"lamb"``, ``"lion"``, ``"muon"``;
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
        name = str(identifier["class_name"]).lower()
        cls = _CLASSES.get(name) or _WRAPPERS.get(name)
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


def deserialize(config: Any, custom_objects: dict | None = None) -> Optimizer:
    """Keras's ``optimizers.deserialize``: the inverse of ``serialize``.

    Accepts ``{"class_name", "config"}`` as ``serialize`` (or Keras's ``.keras`` files: extra keys
    such as ``"module"``/``"registered_name"`` are ignored) writes it, the class name in any case
    (``"Adam"``, ``"adam"``), or a plain name (``"adam"``, built with the defaults). A
    ``learning_rate`` given as a schedule config is rebuilt as that schedule. ``custom_objects``
    (``{name: Optimizer or LearningRateSchedule class}``) is looked up first.

    Args:
        config: the serialized optimizer (a dict) or a name.
        custom_objects: optional custom optimizer / schedule classes by name.

    Returns:
        A new, unbuilt optimizer with that configuration.

    Raises:
        ValueError: for an unknown class name or a dict without ``"class_name"``.
        TypeError: for anything other than a name or a dict.

    Example:
        >>> opt = deserialize({"class_name": "Adam", "config": {"learning_rate": 0.01, "beta_1": 0.8}})
        >>> type(opt).__name__, opt.learning_rate, opt.beta_1
        ('Adam', 0.01, 0.8)
    """
    if isinstance(config, str):
        found = (custom_objects or {}).get(config)
        return found() if isinstance(found, type) and issubclass(found, Optimizer) else get(config)
    if not isinstance(config, dict):
        raise TypeError(
            f"Could not deserialize optimizer {config!r}: expected a name or a dict with 'class_name' and 'config'."
        )
    if "class_name" not in config:
        raise ValueError(f"An optimizer config must have a 'class_name' key. Received: {config!r}")
    name, options = config["class_name"], dict(config.get("config") or {})
    found = (custom_objects or {}).get(name)
    if isinstance(found, type) and issubclass(found, Optimizer):
        if "custom_objects" in inspect.signature(found.from_config).parameters:
            return found.from_config(options, custom_objects=custom_objects)
        return found.from_config(options)  # a subclass that overrides from_config(config)
    cls = _CLASSES.get(str(name).lower()) or _WRAPPERS.get(str(name).lower())
    if cls is None:
        raise ValueError(
            f"Unknown optimizer class '{name}'. Expected one of: {', '.join(c.__name__ for c in _CLASSES.values())}, "
            "or pass the class in custom_objects."
        )
    return cls.from_config(options, custom_objects=custom_objects)
