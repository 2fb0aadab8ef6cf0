"""What the loss classes of ``margin.py``, ``probabilistic.py``, ``regression.py`` and
``overlap.py`` share: one ``Loss`` subclass that calls one loss function with stored keyword
options (Keras's ``LossFunctionWrapper`` subclasses), and the argument checks."""

from __future__ import annotations

from typing import Any, Callable

import torch

from easynn import _validation
from easynn.losses._checks import _as_tensor, _check_same, _match_rank
from easynn.losses.classes import Loss


class _FunctionLoss(Loss):
    """A ``Loss`` whose per-sample values are ``_fn(y_true, y_pred, **options)``.

    Subclasses set ``_fn`` (the loss function) and ``_check`` (the shape check the training loop
    runs before the first step); ``get_config`` returns ``name``, ``reduction`` and the options,
    which are exactly the constructor's other arguments, so ``from_config`` rebuilds the loss.
    """

    _fn: Callable
    _check: Callable = staticmethod(_check_same)

    def __init__(self, name: str | None, reduction: str | None, **options: Any):
        super().__init__(name, reduction)
        self.options = options

    def call(self, y_true, y_pred) -> torch.Tensor:
        return type(self)._fn(y_true, y_pred, **self.options)

    def check(self, y_true_shape, y_pred_shape) -> None:
        type(self)._check(self.name, tuple(y_true_shape), tuple(y_pred_shape))

    def get_config(self) -> dict:
        return {**super().get_config(), **self.options}


def _float_pair(name: str, y_true, y_pred, check: Callable | None = _check_same):
    """``(y_true, y_pred)`` as float tensors of the same rank (float32 at least for half inputs).

    ``check(name, y_true.shape, y_pred.shape)`` runs first (shapes only, no host sync); with the
    default check a trailing axis of size 1 may differ, as in Keras.
    """
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    y_true = _as_tensor(y_true, y_pred)
    if check is not None:
        check(name, tuple(y_true.shape), tuple(y_pred.shape))
    if check is _check_same:
        return _match_rank(y_true, y_pred), y_pred
    return y_true.to(y_pred.dtype), y_pred


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def _smoothing(value: Any) -> float:
    return _validation.probability("label_smoothing", value, inclusive_high=True)


def _axis(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"`axis` must be an integer. Received: axis={value!r}")
    return value


def _axes(value: Any) -> int | tuple[int, ...] | None:
    """``None`` (every axis), an int, or a tuple of ints (a list, as JSON gives back, is accepted)."""
    if value is None:
        return None
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(a, int) and not isinstance(a, bool) for a in value)
    ):
        return tuple(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"`axis` must be None, an integer or a tuple of integers. Received: axis={value!r}")


def _sum(t: torch.Tensor, axis: int | tuple[int, ...] | None) -> torch.Tensor:
    return t.sum() if axis is None else t.sum(dim=axis)
