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
      crossentropy in probability space) or ``None``; ``loss.with_logits()`` returns the same
      crossentropy computed from logits, used when the model ends in softmax/sigmoid.

Example:
    >>> import torch
    >>> y_true = torch.tensor([[0.0, 1.0, 0.0]])
    >>> y_pred = torch.tensor([[0.05, 0.95, 0.0]])
    >>> round(float(categorical_crossentropy(y_true, y_pred)[0]), 4)
    0.0513
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from easynn._naming import to_snake_case

__all__ = [
    "Loss", "LossFunctionWrapper", "TorchLossWrapper", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError",
    "Huber", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "mean_squared_error", "mean_absolute_error", "huber", "mse", "mae", "get", "serialize",
]

EPSILON = 1e-7  # Keras's backend.epsilon(): the clipping bound of probability crossentropies
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# --------------------------------------------------------------------------- shape checks
# Shape comparisons only (no host sync): cheap enough to run on every call.

def _shape(x: Any) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else tuple(x)


def _check_categorical(name: str, yt: tuple, yp: tuple) -> None:
    if len(yp) >= 1 and yp[-1] > 1 and (len(yt) == len(yp) - 1 or (len(yt) == len(yp) and yt[-1] == 1)):
        raise ValueError(
            f"`{name}` expects one-hot labels with the same shape as the predictions, but received "
            f"y_true.shape={yt} (integer class labels) and y_pred.shape={yp}. Use "
            "loss='sparse_categorical_crossentropy' for integer labels, or one-hot encode them "
            "with easynn.utils.to_categorical(y, num_classes)."
        )
    if yt != yp:
        raise ValueError(
            f"`{name}` expects y_true and y_pred of the same shape. Received: "
            f"y_true.shape={yt}, y_pred.shape={yp}."
        )


def _check_sparse(name: str, yt: tuple, yp: tuple) -> None:
    if len(yt) == len(yp) and len(yp) >= 1 and yt[-1] == yp[-1] and yp[-1] > 1:
        raise ValueError(
            f"`{name}` expects integer class labels of shape {yp[:-1]} (or {yp[:-1] + (1,)}), but "
            f"received y_true.shape={yt} which looks one-hot encoded (y_pred.shape={yp}). Use "
            "loss='categorical_crossentropy' for one-hot labels."
        )
    labels = yt[:-1] if len(yt) == len(yp) and len(yt) >= 1 and yt[-1] == 1 else yt
    if labels != yp[:-1]:
        raise ValueError(
            f"`{name}` expects y_true of shape {yp[:-1]} (one integer label per sample) for "
            f"y_pred of shape {yp}. Received: y_true.shape={yt}, y_pred.shape={yp}."
        )


def _check_same(name: str, yt: tuple, yp: tuple) -> None:
    # Keras squeezes/expands a trailing axis of size 1, so (batch,) vs (batch, 1) is accepted.
    if yt == yp or yt + (1,) == yp or yt == yp + (1,):
        return
    raise ValueError(
        f"`{name}` expects y_true and y_pred of the same shape. Received: y_true.shape={yt}, "
        f"y_pred.shape={yp}."
    )


def _match_rank(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Cast y_true to y_pred's dtype and give it y_pred's rank (trailing axis of size 1)."""
    if y_true.dim() == y_pred.dim() - 1:
        y_true = y_true.unsqueeze(-1)
    elif y_true.dim() == y_pred.dim() + 1:
        y_true = y_true.squeeze(-1)
    return y_true.to(y_pred.dtype)


def _last_axis_mean(values: torch.Tensor) -> torch.Tensor:
    # A 1-D target is already one value per sample; otherwise average the last axis like Keras.
    return values.mean(dim=-1) if values.dim() >= 2 else values


def _as_tensor(x: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    if like is not None:
        return x if isinstance(x, torch.Tensor) else torch.as_tensor(x, device=like.device)
    if not isinstance(x, torch.Tensor):
        return torch.as_tensor(x, dtype=torch.get_default_dtype())
    # Mixed precision: compute losses in float32 (1e-7 clipping and log are poor in half).
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


# --------------------------------------------------------------------------- functions

def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> torch.Tensor:
    """Crossentropy between one-hot (or soft) labels and predicted class probabilities.

    Formula: ``-Σ_c y_c · log(clip(p_c / Σ_k p_k, 1e-7, 1 - 1e-7))``; with ``from_logits=True``,
    ``-Σ_c y_c · log_softmax(z)_c`` whose gradient per sample is ``softmax(z) - y``.

    Args:
        y_true: one-hot labels, same shape as ``y_pred``.
        y_pred: probabilities (or logits when ``from_logits=True``).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in ``[0, 1]``; labels become ``y (1 - s) + s / C``.
        axis: the class axis.

    Returns:
        The per-sample loss, ``y_pred``'s shape without ``axis``.

    Raises:
        ValueError: for integer labels (use ``sparse_categorical_crossentropy``) or mismatched shapes.

    Example:
        >>> import torch
        >>> float(categorical_crossentropy(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))[0])
        16.11809539794922
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    _check_categorical("categorical_crossentropy", tuple(y_true.shape), tuple(y_pred.shape))
    y_true = y_true.to(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    if from_logits:
        log_prob = torch.log_softmax(y_pred, dim=axis)
    else:
        probs = y_pred / y_pred.sum(dim=axis, keepdim=True)
        log_prob = probs.clamp(EPSILON, 1.0 - EPSILON).log()
    return -(y_true * log_prob).sum(dim=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None,
                                    axis: int = -1) -> torch.Tensor:
    """Crossentropy between integer class labels and predicted class probabilities.

    Formula: ``-log(clip(p_y / Σ_k p_k, 1e-7, 1 - 1e-7))``; with ``from_logits=True``,
    ``-log_softmax(z)_y`` (``F.cross_entropy``).

    Args:
        y_true: integer labels (int or float dtype) of shape ``(batch,)`` or ``(batch, 1)``.
        y_pred: probabilities (or logits) of shape ``(batch, C)``.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value whose samples get loss 0 (and are left out of the mean by
            ``SparseCategoricalCrossentropy``).
        axis: the class axis.

    Returns:
        The per-sample loss of shape ``(batch,)``.

    Raises:
        ValueError: for one-hot labels (use ``categorical_crossentropy``) or mismatched shapes.

    Example:
        >>> import torch
        >>> round(float(sparse_categorical_crossentropy(torch.tensor([1]), torch.tensor([[0.05, 0.95, 0.0]]))[0]), 4)
        0.0513
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    if axis != -1 and axis != y_pred.dim() - 1:
        y_pred = y_pred.movedim(axis, -1)
    _check_sparse("sparse_categorical_crossentropy", tuple(y_true.shape), tuple(y_pred.shape))
    if y_true.dim() == y_pred.dim():
        y_true = y_true.squeeze(-1)
    target = y_true.long()
    ignore = -100 if ignore_class is None else int(ignore_class)
    if from_logits:
        log_prob = torch.log_softmax(y_pred, dim=-1)
    else:
        probs = y_pred / y_pred.sum(dim=-1, keepdim=True)
        log_prob = probs.clamp(EPSILON, 1.0 - EPSILON).log()
    if log_prob.dim() > 2:
        log_prob = log_prob.movedim(-1, 1)
    elif log_prob.dim() == 1:  # a single unbatched sample
        return F.nll_loss(log_prob.unsqueeze(0), target.reshape(1), ignore_index=ignore, reduction="none")[0]
    return F.nll_loss(log_prob, target, ignore_index=ignore, reduction="none")


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> torch.Tensor:
    """Binary crossentropy, averaged over the last axis.

    Formula: ``-(y log(p) + (1 - y) log(1 - p))`` with ``p = clip(y_pred, 1e-7, 1 - 1e-7)``; with
    ``from_logits=True`` it is ``F.binary_cross_entropy_with_logits`` (gradient ``sigmoid(z) - y``).

    Args:
        y_true: 0/1 (or soft) labels, shape ``(batch, d)`` or ``(batch,)``.
        y_pred: probabilities (or logits), the same shape (a trailing axis of 1 may differ).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: labels become ``y (1 - s) + s / 2``.
        axis: the axis averaged over.

    Returns:
        The per-sample loss of shape ``(batch,)``.

    Raises:
        ValueError: for mismatched shapes.

    Example:
        >>> import torch
        >>> round(float(binary_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.8]]))[0]), 4)
        0.2231
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    _check_same("binary_crossentropy", tuple(y_true.shape), tuple(y_pred.shape))
    y_true = _match_rank(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        # Keras's clipped formula, written out (autocast-safe, unlike F.binary_cross_entropy).
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        values = -(y_true * p.log() + (1.0 - y_true) * (1.0 - p).log())
    return values.mean(dim=axis) if values.dim() >= 2 else values


def mean_squared_error(y_true, y_pred) -> torch.Tensor:
    """Mean of ``(y_true - y_pred)²`` over the last axis.

    Args:
        y_true: targets; y_pred: predictions of the same shape (a trailing axis of 1 may differ).

    Returns:
        The per-sample loss of shape ``(batch,)``.

    Raises:
        ValueError: for mismatched shapes (which torch would silently broadcast).

    Example:
        >>> import torch
        >>> mean_squared_error(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
        tensor([0.5000])
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    _check_same("mean_squared_error", tuple(y_true.shape), tuple(y_pred.shape))
    return _last_axis_mean((y_pred - _match_rank(y_true, y_pred)).square())


def mean_absolute_error(y_true, y_pred) -> torch.Tensor:
    """Mean of ``|y_true - y_pred|`` over the last axis (see ``mean_squared_error``).

    Example:
        >>> import torch
        >>> mean_absolute_error(torch.tensor([[0.0, 1.0]]), torch.tensor([[2.0, 1.0]]))
        tensor([1.])
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    _check_same("mean_absolute_error", tuple(y_true.shape), tuple(y_pred.shape))
    return _last_axis_mean((y_pred - _match_rank(y_true, y_pred)).abs())


def huber(y_true, y_pred, delta: float = 1.0) -> torch.Tensor:
    """Huber loss, averaged over the last axis.

    Formula: with ``e = y_pred - y_true``: ``½ e²`` if ``|e| <= delta`` else
    ``delta (|e| - ½ delta)``.

    Example:
        >>> import torch
        >>> huber(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.5, 3.0]]))
        tensor([1.3125])
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    _check_same("huber", tuple(y_true.shape), tuple(y_pred.shape))
    return _last_axis_mean(F.huber_loss(y_pred, _match_rank(y_true, y_pred), reduction="none", delta=float(delta)))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

_CHECKS: dict[Callable, Callable] = {
    categorical_crossentropy: _check_categorical,
    sparse_categorical_crossentropy: _check_sparse,
    binary_crossentropy: _check_same,
    mean_squared_error: _check_same,
    mean_absolute_error: _check_same,
    huber: _check_same,
}
_FUSED_KINDS = {
    categorical_crossentropy: "categorical",
    sparse_categorical_crossentropy: "sparse_categorical",
    binary_crossentropy: "binary",
}


# --------------------------------------------------------------------------- reduction

def _reduce(values: torch.Tensor, sample_weight, reduction, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Keras's ``reduce_weighted_values``: weight, then sum / divide by the element count."""
    weights = None
    if sample_weight is not None:
        weights = _as_tensor(sample_weight, values).to(values.dtype)
        if weights.dim() > values.dim():
            weights = weights.reshape(values.shape) if weights.numel() == values.numel() else weights.squeeze(-1)
        while weights.dim() < values.dim():  # (batch,) weights for (batch, T) values
            weights = weights.unsqueeze(-1)
        values = values * weights
    if reduction is None or reduction == "none":
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if mask is not None and reduction in ("sum_over_batch_size", "mean"):
        # Keras leaves masked (ignored) entries out of the divisor.
        return total / mask.sum().clamp_min(1).to(total.dtype)
    if reduction == "mean_with_sample_weight" and weights is not None:
        w = weights.expand_as(values) if mask is None else weights.expand_as(values) * mask
        return total / w.sum().clamp_min(torch.finfo(total.dtype).tiny)
    return total / max(values.numel(), 1)


# --------------------------------------------------------------------------- classes

class Loss:
    """Base class: ``call`` gives per-sample losses, ``__call__`` weights and reduces them.

    Formula (``"sum_over_batch_size"``, Keras's default): ``Σ_i w_i · loss_i / N`` where N is the
    number of loss entries (the batch size for per-sample losses). ``"sum"`` drops the division,
    ``"mean"`` is the same as ``"sum_over_batch_size"``, ``"mean_with_sample_weight"`` divides by
    ``Σ w_i`` and ``"none"``/``None`` returns the weighted per-sample tensor.

    Args:
        name: the loss name (defaults to the snake_case Keras name).
        reduction: one of ``"sum_over_batch_size"``, ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"``, ``None``.

    Raises:
        ValueError: for an unknown ``reduction``.
    """

    fused_kind: str | None = None

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"Invalid value for argument `reduction`. Expected one of {_REDUCTIONS}. "
                f"Received: reduction={reduction!r}"
            )
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true, y_pred) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        return _reduce(self.call(y_true, y_pred), sample_weight, self.reduction)

    def check(self, y_true_shape, y_pred_shape) -> None:
        """Raise a ``ValueError`` if these shapes cannot go into this loss (no-op by default)."""

    def with_logits(self) -> "Loss":
        raise TypeError(f"Loss {self.name!r} has no from_logits form (its fused_kind is None).")

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """Turns ``fn(y_true, y_pred, **kwargs)`` into a ``Loss``.

    If ``fn`` returns per-sample values they are weighted and reduced; if it returns a scalar,
    that scalar is the batch loss and ``sample_weight`` is ignored (it cannot be applied).
    """

    def __init__(self, fn: Callable, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 **kwargs):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction)
        self.fn = fn
        self.kwargs = kwargs
        self.fused_kind = None if kwargs.get("from_logits") else _FUSED_KINDS.get(fn)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        if values.dim() == 0:
            return values
        return _reduce(values, sample_weight, self.reduction)

    def check(self, y_true_shape, y_pred_shape):
        check = _CHECKS.get(self.fn)
        if check is not None:
            check(self.name, tuple(y_true_shape), tuple(y_pred_shape))

    def with_logits(self):
        if self.fn not in _FUSED_KINDS:
            return super().with_logits()
        return LossFunctionWrapper(self.fn, self.name, self.reduction, **{**self.kwargs, "from_logits": True})

    def get_config(self):
        if self.fn not in _CHECKS:
            raise TypeError(f"Cannot serialize the custom loss function {self.fn!r}; pass it again when loading.")
        return {"fn": self.fn.__name__, **super().get_config(), **self.kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        fn = {f.__name__: f for f in _CHECKS}[config.pop("fn")]
        return cls(fn, **config)


class _Crossentropy(Loss):
    _fn: Callable
    _kind: str

    def __init__(self, from_logits: bool = False, name: str | None = None,
                 reduction: str | None = "sum_over_batch_size", **options):
        super().__init__(name, reduction)
        self.from_logits = bool(from_logits)
        self.options = options
        self.fused_kind = None if self.from_logits else self._kind

    def call(self, y_true, y_pred):
        return type(self)._fn(y_true, y_pred, from_logits=self.from_logits, **self.options)

    def check(self, y_true_shape, y_pred_shape):
        _CHECKS[type(self)._fn](self.name, tuple(y_true_shape), tuple(y_pred_shape))

    def with_logits(self):
        return type(self).from_config({**self.get_config(), "from_logits": True})

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, **self.options}


class CategoricalCrossentropy(_Crossentropy):
    """Class form of ``categorical_crossentropy`` (one-hot labels).

    Example:
        >>> import torch
        >>> loss = CategoricalCrossentropy()
        >>> round(float(loss(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))), 4)
        0.6931
    """

    _fn = staticmethod(categorical_crossentropy)
    _kind = "categorical"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "categorical_crossentropy"):
        if not 0.0 <= float(label_smoothing) <= 1.0:
            raise ValueError(f"`label_smoothing` must be in [0, 1]. Received: label_smoothing={label_smoothing}")
        super().__init__(from_logits, name, reduction, label_smoothing=float(label_smoothing), axis=axis)


class SparseCategoricalCrossentropy(_Crossentropy):
    """Class form of ``sparse_categorical_crossentropy`` (integer labels).

    With ``ignore_class`` the mean is taken over the samples whose label is not ignored.

    Example:
        >>> import torch
        >>> loss = SparseCategoricalCrossentropy(from_logits=True)
        >>> round(float(loss(torch.tensor([0]), torch.tensor([[0.0, 0.0]]))), 4)
        0.6931
    """

    _fn = staticmethod(sparse_categorical_crossentropy)
    _kind = "sparse_categorical"

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "sparse_categorical_crossentropy"):
        super().__init__(from_logits, name, reduction, ignore_class=ignore_class, axis=axis)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if (
            self.from_logits
            and sample_weight is None
            and self.reduction in ("sum_over_batch_size", "mean")
            and self.options["ignore_class"] is None
            and isinstance(y_true, torch.Tensor)
            and isinstance(y_pred, torch.Tensor)
            and y_true.dtype == torch.int64
            and y_true.dim() == 1
            and y_pred.dim() == 2
            and self.options["axis"] in (-1, 1)
            and y_true.shape[0] == y_pred.shape[0]
        ):
            # The common training case in one fused kernel: mean of -log_softmax(z)_y (in float32
            # at least, as everywhere in this module).
            return F.cross_entropy(y_pred if y_pred.dtype in (torch.float32, torch.float64) else y_pred.float(), y_true)
        values = self.call(y_true, y_pred)
        ignore = self.options["ignore_class"]
        mask = None
        if ignore is not None:
            labels = _as_tensor(y_true, values)
            mask = (labels.reshape(values.shape) != ignore).to(values.dtype)
        return _reduce(values, sample_weight, self.reduction, mask)


class BinaryCrossentropy(_Crossentropy):
    """Class form of ``binary_crossentropy``.

    Example:
        >>> import torch
        >>> loss = BinaryCrossentropy(from_logits=True)
        >>> round(float(loss(torch.tensor([[1.0]]), torch.tensor([[0.0]]))), 4)
        0.6931
    """

    _fn = staticmethod(binary_crossentropy)
    _kind = "binary"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "binary_crossentropy"):
        if not 0.0 <= float(label_smoothing) <= 1.0:
            raise ValueError(f"`label_smoothing` must be in [0, 1]. Received: label_smoothing={label_smoothing}")
        super().__init__(from_logits, name, reduction, label_smoothing=float(label_smoothing), axis=axis)


class MeanSquaredError(Loss):
    """Class form of ``mean_squared_error``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "mean_squared_error"):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)

    def check(self, y_true_shape, y_pred_shape):
        _check_same(self.name, tuple(y_true_shape), tuple(y_pred_shape))


class MeanAbsoluteError(Loss):
    """Class form of ``mean_absolute_error``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "mean_absolute_error"):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return mean_absolute_error(y_true, y_pred)

    def check(self, y_true_shape, y_pred_shape):
        _check_same(self.name, tuple(y_true_shape), tuple(y_pred_shape))


class Huber(Loss):
    """Class form of ``huber`` (``delta=1.0``)."""

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size", name: str = "huber_loss"):
        if not float(delta) > 0:
            raise ValueError(f"`delta` must be positive. Received: delta={delta}")
        super().__init__(name, reduction)
        self.delta = float(delta)

    def call(self, y_true, y_pred):
        return huber(y_true, y_pred, self.delta)

    def check(self, y_true_shape, y_pred_shape):
        _check_same(self.name, tuple(y_true_shape), tuple(y_pred_shape))

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class TorchLossWrapper(Loss):
    """Adapts a ``torch.nn`` loss module to easynn's ``loss(y_true, y_pred)`` order.

    torch modules take ``(input, target)`` = ``(y_pred, y_true)``; this wrapper swaps them. Integer
    labels stored as floats are cast to ``long`` for ``CrossEntropyLoss``/``NLLLoss`` and other
    targets are cast to the prediction dtype (a trailing axis of 1 is added or removed to match).
    With ``sample_weight`` the module is run with ``reduction="none"``, per-sample values are
    weighted and divided by the batch size (Keras's ``"sum_over_batch_size"``).
    """

    def __init__(self, module: nn.Module, name: str | None = None):
        super().__init__(name or to_snake_case(type(module).__name__), "sum_over_batch_size")
        self.module = module
        self._class_targets = isinstance(module, (nn.CrossEntropyLoss, nn.NLLLoss))

    def _targets(self, y_true, y_pred):
        y_true = _as_tensor(y_true, y_pred)
        if self._class_targets:
            if y_true.dim() == y_pred.dim() - 1 and not y_true.is_floating_point():
                return y_true
            if y_true.dim() == y_pred.dim() - 1:
                return y_true.long()
            if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1 and y_pred.shape[-1] > 1:
                return y_true.squeeze(-1).long()
            return y_true.to(y_pred.dtype)
        return _match_rank(y_true, y_pred) if y_true.dim() != y_pred.dim() else y_true.to(y_pred.dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true = self._targets(y_true, y_pred)
        if sample_weight is None:
            return self.module(y_pred, y_true)
        module = copy.copy(self.module)
        module.reduction = "none"
        values = module(y_pred, y_true)
        if values.dim() > 1:
            values = values.reshape(values.shape[0], -1).mean(dim=1)
        return _reduce(values, sample_weight, "sum_over_batch_size")

    def call(self, y_true, y_pred):
        module = copy.copy(self.module)
        module.reduction = "none"
        return module(y_pred, self._targets(y_true, y_pred))

    def get_config(self):
        raise TypeError(f"Cannot serialize the torch loss module {self.module!r}; pass it again when loading.")


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
