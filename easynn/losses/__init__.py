"""Loss functions with Keras's names, defaults and numerics.

Every loss *function* returns the **per-sample** loss (shape ``(batch,)``, or ``(batch, ...)``
when the targets have extra axes); every loss *class* reduces it to a scalar with Keras's
``reduction`` rules and optional ``sample_weight``. In probability space Keras clips predictions
to ``[1e-7, 1 - 1e-7]`` (and categorical crossentropy first renormalises them by their sum), so
``-log(0)`` becomes ``-log(1e-7) = 16.118``; with ``from_logits=True`` the fused, numerically
stable torch forms are used (``log_softmax``, ``F.cross_entropy``,
``F.binary_cross_entropy_with_logits``).

Contract used by the training loop (``easynn.training``):
    * ``get(identifier)`` returns an object ``loss(y_true, y_pred, sample_weight=None) -> scalar``.
    * ``loss.check(y_true_shape, y_pred_shape)`` raises a ``ValueError`` for label/shape mistakes.
    * ``loss.fused_kind`` is ``"categorical"``, ``"sparse_categorical"``, ``"binary"`` (a Keras
      crossentropy in probability space) or ``None`` (the setup reads it to check label ranges);
      ``loss.with_logits()`` returns the same crossentropy computed from logits.
    * A probability-space crossentropy given an output of easynn's softmax/sigmoid uses the logits
      that output carries (``losses/_logits.py``): the fused gradient ŷ − y, Keras's clipped value.

Example:
    >>> import torch
    >>> y_true = torch.tensor([[0.0, 1.0, 0.0]])
    >>> y_pred = torch.tensor([[0.05, 0.95, 0.0]])
    >>> round(float(categorical_crossentropy(y_true, y_pred)[0]), 4)
    0.0513
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from easynn.losses._checks import EPSILON, _match_rank  # noqa: F401  (public constant; tests use _match_rank)
from easynn.losses.classes import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    Loss,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
    TorchLossWrapper,
)
from easynn.losses.functions import (
    _CHECKS,
    MAE,
    MSE,
    binary_crossentropy,
    categorical_crossentropy,
    huber,
    mae,
    mean_absolute_error,
    mean_squared_error,
    mse,
    sparse_categorical_crossentropy,
)

__all__ = [
    "Loss", "LossFunctionWrapper", "TorchLossWrapper", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError",
    "Huber", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "mean_squared_error", "mean_absolute_error", "huber", "mse", "mae", "MSE", "MAE", "get", "serialize",
]


# --------------------------------------------------------------------------- get / serialize

_NAMES: dict[str, Callable[[], Loss]] = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber,
    "CategoricalCrossentropy": CategoricalCrossentropy,
    "SparseCategoricalCrossentropy": SparseCategoricalCrossentropy,
    "BinaryCrossentropy": BinaryCrossentropy,
    "MeanSquaredError": MeanSquaredError,
    "MeanAbsoluteError": MeanAbsoluteError,
    "Huber": Huber,
    "mse": lambda: MeanSquaredError(name="mse"), "MSE": lambda: MeanSquaredError(name="mse"),
    "mae": lambda: MeanAbsoluteError(name="mae"), "MAE": lambda: MeanAbsoluteError(name="mae"),
    "bce": lambda: BinaryCrossentropy(name="bce"), "BCE": lambda: BinaryCrossentropy(name="bce"),
}
_LOOSE = {k.replace("_", "").lower(): v for k, v in _NAMES.items()}
_CLASSES = {c.__name__: c for c in (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
                                     MeanSquaredError, MeanAbsoluteError, Huber, LossFunctionWrapper)}


def get(identifier: Any) -> Loss | None:
    """Resolve a loss identifier into a ``Loss`` object.

    Accepts Keras names (``"categorical_crossentropy"``, ``"CategoricalCrossentropy"``, ``"mse"``,
    ...; exact Keras spelling first, then case/underscore-insensitive), a ``{"class_name",
    "config"}`` dict, a ``Loss``, a ``torch.nn`` loss module or class (wrapped so that it is
    called as ``module(y_pred, y_true)``), or any ``fn(y_true, y_pred)``.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
        TypeError: for anything else.

    Example:
        >>> get("mse").name, get("categorical_crossentropy").fused_kind
        ('mse', 'categorical')
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        factory = _NAMES.get(identifier) or _LOOSE.get(identifier.replace("_", "").lower())
        if factory is None:
            raise ValueError(
                f"Unknown loss '{identifier}'. Expected one of: {', '.join(sorted(_NAMES))}, a Loss, "
                "a torch.nn loss module or a callable fn(y_true, y_pred)."
            )
        return factory()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"Unknown loss class '{identifier['class_name']}'. Expected one of: {', '.join(sorted(_CLASSES))}.")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, nn.Module):
        return TorchLossWrapper(identifier)
    if isinstance(identifier, type):
        if issubclass(identifier, Loss):
            return identifier()
        if issubclass(identifier, nn.Module):
            return TorchLossWrapper(identifier())
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise TypeError(
        f"Could not interpret loss identifier: {identifier!r}. Expected a name such as "
        "'categorical_crossentropy', a Loss, a torch.nn loss module or a callable."
    )


def serialize(loss: Any) -> Any:
    """A JSON-able description of ``loss`` that ``get`` turns back into it.

    Raises:
        TypeError: for custom functions and torch modules (pass them again when loading).
    """
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    if callable(loss) and loss in _CHECKS:
        return loss.__name__
    raise TypeError(f"Cannot serialize loss {loss!r}: only names and easynn losses are saved.")
