"""Loss classes: ``Loss`` (weighting and Keras's reductions) and one class per loss function."""

from __future__ import annotations

import copy
import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from easynn._naming import to_snake_case
from easynn.losses._checks import _REDUCTIONS, EPSILON, _as_tensor, _check_same, _match_rank
from easynn.losses._logits import clipped_sparse_crossentropy, tagged_logits
from easynn.losses.functions import (
    _CHECKS,
    _FUSED_KINDS,
    binary_crossentropy,
    categorical_crossentropy,
    huber,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_crossentropy,
)

# --------------------------------------------------------------------------- reduction

_LOW_CE, _HIGH_CE = -math.log1p(-EPSILON), -math.log(EPSILON)  # the clipped range of -log(p)


def _at_least_float32(t: torch.Tensor) -> torch.Tensor:
    return t if t.dtype in (torch.float32, torch.float64) else t.float()


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
    if reduction == "mean_with_sample_weight" and (weights is not None or mask is not None):
        w = mask if weights is None else weights.expand_as(values) if mask is None else weights.expand_as(values) * mask
        return total / w.sum().clamp_min(torch.finfo(total.dtype).tiny)
    return total / max(values.numel(), 1)


def _apply_keras_mask(values: torch.Tensor, y_pred, mask: torch.Tensor | None = None):
    """Keras: a prediction that carries a ``_keras_mask`` (bool ``(batch, timesteps)``, from
    ``Embedding(mask_zero=True)``/``Masking`` through the model) weighs its loss entries by it;
    so does a mask the loss function put on its own output (Keras's ``circle`` marks the samples
    with a positive loss).

    Formula: ``values * m`` and, for ``"sum_over_batch_size"``, ``Σ m · w · loss / Σ m``: the
    masked timesteps count zero and leave the divisor (``mask`` from ``ignore_class`` is ANDed).
    Returns ``(values, mask)`` for ``_reduce``; unchanged without a mask, or when the mask's
    shape is not the per-entry losses' shape.
    """
    for keras_mask in (getattr(y_pred, "_keras_mask", None), getattr(values, "_keras_mask", None)):
        if keras_mask is None or tuple(keras_mask.shape) != tuple(values.shape):
            continue
        keep = keras_mask.to(device=values.device, dtype=values.dtype)
        mask = keep if mask is None else mask * keep
        values = values * keep
    return values, mask


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
        values, mask = _apply_keras_mask(self.call(y_true, y_pred), y_pred)
        return _reduce(values, sample_weight, self.reduction, mask)

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
        values, mask = _apply_keras_mask(values, y_pred)
        return _reduce(values, sample_weight, self.reduction, mask)

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
            sample_weight is None
            and getattr(y_pred, "_keras_mask", None) is None
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
            if self.from_logits:
                return F.cross_entropy(_at_least_float32(y_pred), y_true)
            logits = tagged_logits(y_pred, "softmax")
            if logits is not None:  # a softmax output: the logits' gradient, Keras's clipped value
                # -log(clip(p_y, eps, 1 - eps)) = clip(-log p_y, -log(1 - eps), -log(eps)): the clipped
                # value from the fused per-sample losses, with no pass over the probabilities.
                return clipped_sparse_crossentropy(_at_least_float32(logits), y_true, _LOW_CE, _HIGH_CE)
        values = self.call(y_true, y_pred)
        ignore = self.options["ignore_class"]
        mask = None
        if ignore is not None:
            labels = _as_tensor(y_true, values)
            mask = (labels.reshape(values.shape) != ignore).to(values.dtype)
        values, mask = _apply_keras_mask(values, y_pred, mask)
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
