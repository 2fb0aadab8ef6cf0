"""Weight penalties: the "structured risk" term of the lecture.

The lecture writes the regularized risk as ``1/N Σ L(y, ŷ) + ½ λ ‖W‖²_F``. Keras (and easynn)
define ``l2(λ)`` as ``λ Σ w²`` with **no ½**: so the lecture's ``½ λ‖W‖²`` is ``l2(λ / 2)``, and
``l2(λ)`` matches ``torch.optim.SGD(weight_decay=2λ)``. Penalties are added to the loss unscaled
(not divided by the batch size), exactly as Keras does.

Example:
    >>> import torch
    >>> float(l2(0.5)(torch.tensor([1.0, -2.0])))
    2.5
"""

from __future__ import annotations

from typing import Any

import torch

from easynn import config as _config

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2", "orthogonal_regularizer",
           "get", "serialize", "deserialize"]


def _check_factor(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"`{name}` must be a finite, non-negative number. Received: {name}={value}")
    return value


class Regularizer:
    """Base class: ``__call__(weight)`` returns a scalar penalty tensor."""

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 · Σ|w| + l2 · Σw²``. Both factors default to 0, as in Keras.

    Args:
        l1: the L1 factor.
        l2: the L2 factor.
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        penalty = weight.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * weight.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * weight.square().sum()
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 · Σ|w|`` (Keras's default factor: 0.01)."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 · Σw²`` (no ½; Keras's default factor: 0.01)."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


def l1(l1: float = 0.01) -> L1:
    """An L1 penalty ``l1 · Σ|w|``."""
    return L1(l1)


def l2(l2: float = 0.01) -> L2:
    """An L2 penalty ``l2 · Σw²`` (the lecture's ½λ‖W‖² is ``l2(λ/2)``)."""
    return L2(l2)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Both penalties; this function form defaults both factors to 0.01 (Keras 2's shortcut)."""
    return L1L2(l1=l1, l2=l2)


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards being orthogonal to each other.

    Formula: with ``u_i`` the L2-normalised rows (``mode="rows"``) or columns
    (``mode="columns"``) and ``n`` their number, ``factor · Σ_{i≠j} |u_i · u_j| / (n (n - 1))``:
    ``factor`` times the mean absolute cosine between two different rows. A single row (or column)
    has no pair and gives 0 (Keras divides by zero pairs there).

    Args:
        factor: the regularization factor (Keras's default 0.01), finite and ``>= 0``.
        mode: ``"rows"`` (for a ``Dense`` kernel ``(input_dim, units)``: its input-feature vectors)
            or ``"columns"`` (its units' weight vectors).

    Raises:
        ValueError: for a negative or non-finite ``factor``, an unknown ``mode``, or (when called)
            a weight that is not 2-D.

    Example:
        >>> import torch
        >>> w = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
        >>> round(float(OrthogonalRegularizer(factor=1.0)(w)), 4)  # cosines 0.7071, 0, 0.7071 -> mean 0.4714
        0.4714
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _check_factor("factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f"Invalid value for argument `mode`. Expected one of 'rows', 'columns'. Received: mode={mode!r}")
        self.mode = mode

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        if weight.dim() != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={tuple(weight.shape)}")
        vectors = weight if self.mode == "rows" else weight.T
        n = vectors.shape[0]
        if n < 2:
            return weight.new_zeros(())
        unit = vectors / torch.linalg.vector_norm(vectors, dim=1, keepdim=True).clamp_min(_config.epsilon())
        cosines = unit @ unit.T
        off_diagonal = cosines.abs().sum() - cosines.diagonal().abs().sum()
        return self.factor * off_diagonal / (n * (n - 1))

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


orthogonal_regularizer = OrthogonalRegularizer  # Keras exports the class under both names

_NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2,
          "OrthogonalRegularizer": OrthogonalRegularizer, "orthogonal_regularizer": OrthogonalRegularizer}


def get(identifier: Any) -> Regularizer | None:
    """Resolve ``None``, a name, a config dict, a Regularizer or a callable.

    Raises:
        ValueError: for an unknown name.
        TypeError: for anything else.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier not in _NAMES:
            raise ValueError(
                f"Unknown regularizer '{identifier}'. Expected one of: l1, l2, l1_l2, orthogonal_regularizer, "
                "a Regularizer or a callable."
            )
        return _NAMES[identifier]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _NAMES.get(identifier["class_name"])
        if cls is None:
            raise ValueError(
                f"Unknown regularizer class '{identifier['class_name']}'. Expected one of: {', '.join(_NAMES)}, "
                "or pass the class in custom_objects to deserialize()."
            )
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(
        f"Could not interpret regularizer identifier: {identifier!r}. "
        "Expected 'l1', 'l2', 'l1_l2', a Regularizer or a callable."
    )


def serialize(regularizer: Any) -> Any:
    """A JSON-able description that ``get`` turns back into the regularizer."""
    if regularizer is None:
        return None
    if isinstance(regularizer, Regularizer):
        return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
    raise TypeError(f"Cannot serialize regularizer {regularizer!r}: use an easynn Regularizer.")


def deserialize(config: Any, custom_objects: dict | None = None) -> Regularizer | None:
    """Keras's ``regularizers.deserialize``: the inverse of ``serialize``.

    Accepts ``{"class_name", "config"}`` (Keras's extra keys such as ``"module"`` are ignored), a
    name (``"l2"``, ``"OrthogonalRegularizer"``...) or ``None``; ``custom_objects`` (``{name:
    Regularizer class or callable}``) is looked up first.

    Raises:
        ValueError: for an unknown name or class.
        TypeError: for anything other than a name, a dict or ``None``.

    Example:
        >>> r = deserialize(serialize(OrthogonalRegularizer(0.1, mode="columns")))
        >>> type(r).__name__, r.factor, r.mode
        ('OrthogonalRegularizer', 0.1, 'columns')
    """
    if config is None:
        return None
    if not isinstance(config, (str, dict)):
        raise TypeError(
            f"Could not deserialize regularizer {config!r}: expected a name or a dict with 'class_name' and 'config'."
        )
    key = config.get("class_name") if isinstance(config, dict) else config
    if custom_objects and isinstance(key, str) and key in custom_objects:
        found = custom_objects[key]
        if isinstance(found, type) and isinstance(config, dict):
            return found.from_config(dict(config.get("config") or {}))
        return found() if isinstance(found, type) else found
    if isinstance(config, dict) and "class_name" not in config:
        raise ValueError(f"A regularizer config must have a 'class_name' key. Received: {config!r}")
    if isinstance(config, dict):
        return get({"class_name": config["class_name"], "config": config.get("config") or {}})
    return get(config)
