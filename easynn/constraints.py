"""Weight constraints: projections the optimizer applies to a weight after each update.

A constraint is a callable ``w -> w'`` (Keras's ``Constraint``). Layers take one per weight
(``Dense(kernel_constraint=MaxNorm(3))``); ``add_weight(constraint=...)`` stores it on the
variable (``variable.constraint``) and every easynn optimizer, after each update, writes
``constraint(w)`` back into the weight, outside autograd.

Constraints see the weight in **Keras's layout**, whatever easynn stores internally: a Dense
kernel is ``(in, out)``, a Conv2D kernel ``(kh, kw, in, out)``. So ``axis=0`` of a Dense kernel
(the default) normalises each output unit's incoming weights, and for a Conv2D kernel
``axis=[0, 1, 2]`` does the same per filter.

The norms are ``‖w‖ = sqrt(Σ_axis w²)`` and every division adds Keras's ``epsilon = 1e-7``
(``easynn.config.epsilon()``), so an all-zero weight stays zero instead of becoming NaN.

Example:
    >>> import torch
    >>> MaxNorm(max_value=1.0)(torch.tensor([[3.0, 0.3], [4.0, 0.4]]))
    tensor([[0.6000, 0.3000],
            [0.8000, 0.4000]])
    >>> get("non_neg")(torch.tensor([-1.0, 2.0])).tolist()  # w * (w >= 0), as Keras: -1 becomes -0.0
    [-0.0, 2.0]
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any, Callable

import torch

from easynn import config as _config

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "unit_norm",
    "get",
    "serialize",
    "deserialize",
]


def _number(name: str, value: Any, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    if not value >= low or value == float("inf"):
        raise ValueError(f"`{name}` must be a finite number >= {low:g}. Received: {name}={value!r}")
    return float(value)


def _axis(value: Any) -> int | list[int]:
    """An int or a list of ints (kept as given, so ``get_config`` echoes it)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in value)
    ):
        return [int(a) for a in value]
    raise TypeError(f"`axis` must be an integer or a non-empty list of integers. Received: axis={value!r}")


def _dims(axis: int | list[int], w: torch.Tensor) -> tuple[int, ...]:
    axes = [axis] if isinstance(axis, int) else axis
    rank = w.dim()
    if any(not -rank <= a < rank for a in axes):
        raise ValueError(
            f"`axis` {axis} is out of range for a weight of rank {rank} (shape {tuple(w.shape)}). "
            "Constraints see Keras's layout: a Dense kernel is (in, out), a Conv2D kernel (kh, kw, in, out)."
        )
    return tuple(a % rank for a in axes)


def _norms(w: torch.Tensor, axis: int | list[int]) -> torch.Tensor:
    """``sqrt(Σ_axis w²)``, keeping the reduced axes so it broadcasts against ``w``."""
    return torch.sqrt(torch.sum(torch.square(w), dim=_dims(axis, w), keepdim=True))


class Constraint:
    """Base class: ``__call__(w)`` returns the projected weight (here: ``w`` unchanged).

    Subclasses override ``__call__`` and, when they take arguments, ``get_config``; the default
    ``from_config`` calls ``cls(**config)``.

    Example:
        >>> import torch
        >>> class Clip(Constraint):
        ...     def __call__(self, w):
        ...         return w.clamp(-1.0, 1.0)
        >>> Clip()(torch.tensor([-3.0, 0.5]))
        tensor([-1.0000,  0.5000])
    """

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict:
        """The constructor arguments, JSON-able."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Constraint":
        """Rebuild a constraint from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescale each slice whose L2 norm exceeds ``max_value`` down to ``max_value``.

    Formula: ``n = sqrt(Σ_axis w²)``; ``w' = w * clip(n, 0, max_value) / (epsilon + n)``.

    Args:
        max_value: the largest norm allowed (2 by default, as Keras).
        axis: the axis (or list of axes) the norm is taken over. Keras-layout Dense kernel
            ``(in, out)``: 0, one norm per output unit. Conv2D ``(kh, kw, in, out)``: ``[0, 1, 2]``.

    Returns:
        Called on a weight: the rescaled weight, same shape.

    Raises:
        TypeError: for a non-number ``max_value`` or a bad ``axis``.
        ValueError: for a negative ``max_value``; at call time, an ``axis`` the weight lacks.

    Example:
        >>> import torch
        >>> [round(v, 4) for v in MaxNorm(2.0)(torch.tensor([[6.0], [8.0]])).flatten().tolist()]
        [1.2, 1.6]
    """

    def __init__(self, max_value: float = 2, axis: int | list[int] = 0):
        self.max_value = _number("max_value", max_value)
        self.axis = _axis(axis)

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0.0, self.max_value)
        return w * (desired / (_config.epsilon() + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each slice's L2 norm into ``[min_value, max_value]`` (fully when ``rate=1``).

    Formula: ``n = sqrt(Σ_axis w²)``; ``d = rate * clip(n, min_value, max_value) + (1 - rate) * n``;
    ``w' = w * d / (epsilon + n)``.

    Args:
        min_value: the smallest norm (0.0).
        max_value: the largest norm (1.0).
        rate: 1.0 enforces the bounds at once; a smaller rate moves the norm part of the way
            each update.
        axis: as for :class:`MaxNorm`.

    Returns:
        Called on a weight: the rescaled weight, same shape.

    Raises:
        TypeError: for non-number bounds or rate, or a bad ``axis``.
        ValueError: for negative bounds, ``min_value > max_value`` or ``rate`` outside ``[0, 1]``.

    Example:
        >>> import torch
        >>> w = MinMaxNorm(min_value=1.0, max_value=2.0)(torch.tensor([[0.3], [0.4]]))
        >>> [round(v, 4) for v in w.flatten().tolist()]  # norm 0.5 raised to 1
        [0.6, 0.8]
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: int | list[int] = 0):
        self.min_value = _number("min_value", min_value)
        self.max_value = _number("max_value", max_value)
        if self.min_value > self.max_value:
            raise ValueError(
                f"`min_value` must not exceed `max_value`. Received: min_value={min_value}, max_value={max_value}"
            )
        self.rate = _number("rate", rate)
        if self.rate > 1.0:
            raise ValueError(f"`rate` must be in [0, 1]. Received: rate={rate!r}")
        self.axis = _axis(axis)

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = _norms(w, self.axis)
        desired = self.rate * torch.clamp(norms, self.min_value, self.max_value) + (1.0 - self.rate) * norms
        return w * (desired / (_config.epsilon() + norms))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Zero the negative entries: ``w' = w * (w >= 0)``.

    Example:
        >>> import torch
        >>> NonNeg()(torch.tensor([-0.5, 0.0, 1.5])).tolist()
        [-0.0, 0.0, 1.5]
    """

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w * (w >= 0).to(w.dtype)


class UnitNorm(Constraint):
    """Scale each slice to L2 norm 1: ``w' = w / (epsilon + sqrt(Σ_axis w²))``.

    Args:
        axis: as for :class:`MaxNorm` (0 by default).

    Raises:
        TypeError: for a bad ``axis``.

    Example:
        >>> import torch
        >>> [round(v, 4) for v in UnitNorm()(torch.tensor([[3.0], [4.0]])).flatten().tolist()]
        [0.6, 0.8]
    """

    def __init__(self, axis: int | list[int] = 0):
        self.axis = _axis(axis)

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w / (_config.epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


# Keras's lowercase aliases are the classes themselves (``max_norm(3)`` is ``MaxNorm(3)``).
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

_CLASSES = {cls.__name__: cls for cls in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
_NAMES = {
    **_CLASSES,
    "constraint": Constraint,
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
}
_EXPECTED = "max_norm, min_max_norm, non_neg, unit_norm (or their class names), a Constraint or a callable"


def deserialize(config: dict, custom_objects: dict | None = None) -> Constraint:
    """Rebuild a constraint from ``serialize``'s ``{"class_name": ..., "config": {...}}``.

    Args:
        config: the serialized constraint.
        custom_objects: ``{"Name": class}`` for constraint classes of your own.

    Raises:
        ValueError: for an unknown class name.
        TypeError: if ``config`` is not such a dict.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise TypeError(f"deserialize() expects a dict with 'class_name' and 'config'. Received: {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _NAMES.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown constraint class '{name}'. Expected one of: {', '.join(_CLASSES)}, "
            "or pass the class in `custom_objects`."
        )
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier: Any, *, argument: str = "constraint") -> Callable | None:
    """Resolve ``None``, a name, a config dict, a class, a Constraint or a callable.

    Args:
        identifier: ``None``; a name (``"max_norm"``, ``"NonNeg"``...: an instance with the
            default arguments); a ``serialize`` dict; a Constraint class (instantiated) or
            instance; any callable ``w -> w'``.
        argument: the layer argument being resolved, named in error messages
            (``"kernel_constraint"``).

    Returns:
        The constraint, or ``None``.

    Raises:
        ValueError: for an unknown name or class name.
        TypeError: for anything that is not callable.

    Example:
        >>> get("max_norm")
        MaxNorm(max_value=2.0, axis=0)
        >>> get({"class_name": "UnitNorm", "config": {"axis": [0, 1, 2]}})
        UnitNorm(axis=[0, 1, 2])
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown constraint '{identifier}' for `{argument}`. Expected one of: {_EXPECTED}. "
                f"Received: {argument}={identifier!r}"
            )
        return cls()
    if isinstance(identifier, dict):
        try:
            return deserialize(identifier)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"Could not interpret `{argument}`: {error} Received: {argument}={identifier!r}"
            ) from None
    if inspect.isclass(identifier) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier) and not inspect.isclass(identifier):
        return identifier
    raise TypeError(f"Could not interpret `{argument}`. Expected {_EXPECTED}. Received: {argument}={identifier!r}")


def serialize(constraint: Any) -> Any:
    """A description that ``get`` turns back into the constraint.

    A ``Constraint`` becomes ``{"class_name": ..., "config": {...}}``; ``None`` stays ``None``;
    a plain function is returned as it is (model saving stores it by name when it is a named,
    registered function, and refuses a ``lambda``).
    """
    if constraint is None:
        return None
    if isinstance(constraint, Constraint):
        return {"class_name": type(constraint).__name__, "config": constraint.get_config()}
    if callable(constraint):
        return constraint
    raise TypeError(f"Cannot serialize constraint {constraint!r}: use an easynn Constraint or a function.")
