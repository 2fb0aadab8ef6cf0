"""Loss functions with Keras's names, defaults and numerics.

Every loss *function* returns the **per-sample** loss (shape ``(batch,)``, or ``(batch, ...)``
when the targets have extra axes); every loss *class* reduces it to a scalar with Keras's
``reduction`` rules and optional ``sample_weight``. In probability space Keras clips predictions
to ``[1e-7, 1 - 1e-7]`` (and categorical crossentropy first renormalises them by their sum), so
``-log(0)`` becomes ``-log(1e-7) = 16.118``; with ``from_logits=True`` the fused, numerically
stable torch forms are used (``log_softmax``, ``F.cross_entropy``,
``F.binary_cross_entropy_with_logits``).

Modules: ``functions.py``/``classes.py`` (the crossentropies, MSE, MAE, Huber), ``margin.py``
(hinge losses), ``probabilistic.py`` (KL divergence, Poisson, focal crossentropies),
``regression.py`` (MAPE, MSLE, log-cosh, cosine similarity), ``overlap.py`` (Dice, Tversky),
``sequence.py`` (CTC) and ``metric_learning.py`` (Circle). Dice and Tversky with ``axis=None`` (Keras's default) return one number for
the whole batch, not one per sample.

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
from easynn.losses.margin import _EXTENDED_CHECKS as _MARGIN_CHECKS
from easynn.losses.margin import (
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    categorical_hinge,
    hinge,
    squared_hinge,
)
from easynn.losses.metric_learning import _EXTENDED_CHECKS as _METRIC_LEARNING_CHECKS
from easynn.losses.metric_learning import Circle, circle
from easynn.losses.overlap import _EXTENDED_CHECKS as _OVERLAP_CHECKS
from easynn.losses.overlap import Dice, Tversky, dice, tversky
from easynn.losses.probabilistic import _EXTENDED_CHECKS as _PROBABILISTIC_CHECKS
from easynn.losses.probabilistic import (
    KLD,
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    KLDivergence,
    Poisson,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
    kl_divergence,
    kld,
    poisson,
)
from easynn.losses.regression import _EXTENDED_CHECKS as _REGRESSION_CHECKS
from easynn.losses.regression import (
    MAPE,
    MSLE,
    CosineSimilarity,
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    cosine_similarity,
    log_cosh,
    mape,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    msle,
)
from easynn.losses.sequence import _EXTENDED_CHECKS as _SEQUENCE_CHECKS
from easynn.losses.sequence import CTC, ctc

__all__ = [
    "Loss", "LossFunctionWrapper", "TorchLossWrapper", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError",
    "Huber", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "mean_squared_error", "mean_absolute_error", "huber", "mse", "mae", "MSE", "MAE", "get", "serialize",
    # margin.py, probabilistic.py, regression.py, overlap.py, sequence.py
    "Hinge", "SquaredHinge", "CategoricalHinge", "hinge", "squared_hinge", "categorical_hinge",
    "KLDivergence", "Poisson", "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "CTC",
    "kl_divergence", "kld", "KLD", "poisson", "binary_focal_crossentropy", "categorical_focal_crossentropy",
    "ctc", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "LogCosh", "CosineSimilarity",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "log_cosh", "cosine_similarity",
    "mape", "MAPE", "msle", "MSLE", "Dice", "Tversky", "dice", "tversky", "deserialize", "Circle", "circle",
]

# The loss functions of the modules above check shapes (and serialize by name) like the built-in ones.
_CHECKS.update({**_MARGIN_CHECKS, **_PROBABILISTIC_CHECKS, **_REGRESSION_CHECKS, **_OVERLAP_CHECKS, **_SEQUENCE_CHECKS,
                **_METRIC_LEARNING_CHECKS})
_EXTENDED_CLASSES = (
    Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy, CTC, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCosh,
    CosineSimilarity, Dice, Tversky, Circle,
)


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
    # Keras's other losses: the function name and the class name of each, and Keras's aliases
    **{fn.__name__: cls for fn, cls in (
        (hinge, Hinge), (squared_hinge, SquaredHinge), (categorical_hinge, CategoricalHinge),
        (kl_divergence, KLDivergence), (poisson, Poisson), (binary_focal_crossentropy, BinaryFocalCrossentropy),
        (categorical_focal_crossentropy, CategoricalFocalCrossentropy), (ctc, CTC),
        (mean_absolute_percentage_error, MeanAbsolutePercentageError),
        (mean_squared_logarithmic_error, MeanSquaredLogarithmicError), (log_cosh, LogCosh),
        (cosine_similarity, CosineSimilarity), (dice, Dice), (tversky, Tversky), (circle, Circle),
    )},
    **{cls.__name__: cls for cls in _EXTENDED_CLASSES},
    "kld": lambda: KLDivergence(name="kld"), "KLD": lambda: KLDivergence(name="kld"),
    "mape": lambda: MeanAbsolutePercentageError(name="mape"), "MAPE": lambda: MeanAbsolutePercentageError(name="mape"),
    "msle": lambda: MeanSquaredLogarithmicError(name="msle"), "MSLE": lambda: MeanSquaredLogarithmicError(name="msle"),
}
_LOOSE = {k.replace("_", "").lower(): v for k, v in _NAMES.items()}
_CLASSES = {c.__name__: c for c in (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
                                     MeanSquaredError, MeanAbsoluteError, Huber, LossFunctionWrapper,
                                     *_EXTENDED_CLASSES)}


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


def deserialize(name: Any, custom_objects: dict | None = None) -> Loss | None:
    """Keras's ``losses.deserialize``: a name or a ``{"class_name", "config"}`` dict back to a ``Loss``.

    Args:
        name: what ``serialize`` returned (a name or a dict).
        custom_objects: optional ``{name: Loss class or fn(y_true, y_pred)}`` looked up first.

    Returns:
        The ``Loss`` (as ``get`` returns it).

    Raises:
        ValueError: for an unknown name or class.
        TypeError: for anything else.

    Example:
        >>> deserialize(serialize(KLDivergence(reduction="sum"))).reduction
        'sum'
    """
    key = name.get("class_name") if isinstance(name, dict) else name
    if custom_objects and isinstance(key, str) and key in custom_objects:
        found = custom_objects[key]
        if isinstance(found, type) and issubclass(found, Loss) and isinstance(name, dict):
            return found.from_config(name.get("config", {}))
        return get(found)
    return get(name)
