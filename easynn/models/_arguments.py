"""Argument handling shared by ``fit``, ``evaluate`` and ``predict`` (validation, defaults)."""

from __future__ import annotations

from typing import Any

import torch

from easynn import _validation
from easynn.callbacks.base import Callback
from easynn.training import data as data_module

__all__ = ["default_device", "current_strategy", "verbose_level", "optional_steps", "as_callbacks",
           "require_targets", "first_param_device", "check_batch_axis"]


def default_device() -> torch.device:
    """CUDA when available (this process's local GPU under torchrun), else the CPU."""
    strategy = current_strategy()
    if hasattr(strategy, "device"):
        return strategy.device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def current_strategy():
    from easynn import distribute

    return distribute.current_strategy()


def verbose_level(value: Any) -> int:
    if value == "auto":
        return 1
    if value not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={value!r}")
    return int(value)


def optional_steps(name: str, value: Any) -> int | None:
    return None if value is None else _validation.positive_int(name, value)


def debug_caps(epochs: int, steps_per_epoch: int | None, num_batches: int | None) -> tuple[int, int | None]:
    """``epochs`` and the steps of each epoch under ``easynn.config.set_max_epochs`` /
    ``set_max_steps_per_epoch`` (Keras's debugging caps; unchanged when none is set)."""
    from easynn import config

    cap_epochs, cap_steps = config.max_epochs(), config.max_steps_per_epoch()
    if cap_epochs is not None:
        epochs = min(epochs, cap_epochs)
    if cap_steps is not None:
        known = [n for n in (steps_per_epoch, num_batches) if n is not None]
        steps_per_epoch = min(known + [cap_steps])
    return epochs, steps_per_epoch


def as_callbacks(callbacks) -> list:
    """``callbacks`` as a list; a single callback is accepted, as Keras 3 does."""
    if isinstance(callbacks, Callback):
        return [callbacks]
    return list(callbacks or [])


def require_targets(model, x, y, what: str) -> None:
    """Targets are required unless x is a dataset, the model has its own step, or it was compiled
    without a loss (its losses come from add_loss, as with keras-io's LogisticEndpoint)."""
    own_step = model._overrides("train_step" if what != "evaluate" else "test_step")
    if y is None and not data_module.is_dataset(x) and not own_step and getattr(model, "loss", None) is not None:
        raise ValueError(
            f"{what}() needs targets: pass y=... with one target per sample of x (or give x as a "
            "Dataset/DataLoader that yields (x, y) pairs)."
        )


def first_param_device(model) -> torch.device:
    for param in model.parameters():
        return param.device
    return default_device()


def check_batch_axis(model, x, what: str) -> None:
    """A single sample given without its batch axis gets a message saying how to add one.

    Raises:
        ValueError: when ``x`` has exactly the model's input shape minus the batch axis.
    """
    try:
        expected = model.input_shape
    except (AttributeError, ValueError, TypeError):
        return
    shape = getattr(x, "shape", None)
    if shape is None or not isinstance(expected, tuple) or len(shape) != len(expected) - 1:
        return
    if all(e is None or int(e) == int(s) for e, s in zip(expected[1:], shape)):
        raise ValueError(
            f"{what}() received one sample of shape {tuple(shape)} without a batch axis, but the model "
            f"expects inputs of shape {expected}. Add the batch axis: x[None] (or x.reshape(1, *x.shape))."
        )

