"""Stateful metrics with Keras's names, accumulated on the device without host syncs.

A metric keeps its state as tensors (for most, a weighted ``total`` and a ``count``) that live
on the device of the first update. ``update_state`` only launches tensor ops; ``result()``
returns a 0-dim tensor that the training loop converts to a float when it logs. Because the
state is a weighted sum over samples, an epoch value is the mean over *all samples*, so a short
last batch does not skew it. ``variables`` lists the state tensors that distributed training
sums across processes (in place) before calling ``result()``.

Example:
    >>> import torch
    >>> m = get("accuracy", y_true_shape=(None,), y_pred_shape=(None, 3))
    >>> m.name, type(m).__name__
    ('accuracy', 'SparseCategoricalAccuracy')
    >>> m.update_state(torch.tensor([0, 2]), torch.tensor([[0.9, 0.1, 0.0], [0.5, 0.4, 0.1]]))
    >>> float(m.result())
    0.5
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from easynn import losses as _losses
from easynn._naming import to_snake_case

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanSquaredError", "MeanAbsoluteError", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "BinaryCrossentropy", "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "mean_squared_error",
    "mean_absolute_error", "mse", "mae", "get", "serialize",
]


def _tensor(x: Any, device=None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x if device is None else x.to(device)
    return torch.as_tensor(x, device=device)


def _state_dtype(device: torch.device) -> torch.dtype:
    # float64 keeps sample counts exact past 2**24; MPS has no float64.
    return torch.float32 if device.type == "mps" else torch.float64


# --------------------------------------------------------------------------- base classes

class Metric:
    """Base class of stateful metrics.

    Subclasses declare their state in ``_state_names`` (each a 0-dim tensor created with
    ``reset_state``), implement ``update_state`` with in-place tensor ops only, and ``result``.
    ``__call__`` updates the state and returns the running result (Keras's behaviour).

    Args:
        name: the name the metric is logged under (defaults to the snake_case class name).
    """

    _state_names: tuple[str, ...] = ()

    def __init__(self, name: str | None = None):
        self.name = name or to_snake_case(type(self).__name__)
        self._device = torch.device("cpu")
        self._built_device = False
        self.reset_state()

    # state management -------------------------------------------------
    def reset_state(self) -> None:
        """Zero every state tensor in place (references held by others stay valid)."""
        for key in self._state_names:
            value = self.__dict__.get(key)
            if isinstance(value, torch.Tensor):
                value.zero_()
            else:
                setattr(self, key, torch.zeros((), dtype=_state_dtype(self._device), device=self._device))

    def to(self, device) -> "Metric":
        """Move the state to ``device``."""
        device = torch.device(device)
        dtype = _state_dtype(device)
        for key in self._state_names:
            setattr(self, key, getattr(self, key).to(device=device, dtype=dtype))
        self._device, self._built_device = device, True
        return self

    def _ensure_device(self, ref: torch.Tensor) -> None:
        if not self._built_device or ref.device != self._device:
            self.to(ref.device)

    @property
    def variables(self) -> list[torch.Tensor]:
        """The state tensors, summed across processes in distributed training."""
        return [getattr(self, key) for key in self._state_names]

    # API --------------------------------------------------------------
    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError

    def result(self) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, *args, **kwargs) -> torch.Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _weights_like(values: torch.Tensor, sample_weight) -> torch.Tensor | None:
    if sample_weight is None:
        return None
    w = _tensor(sample_weight, values.device).to(values.dtype)
    if w.dim() > values.dim() and w.shape[-1] == 1:
        w = w.squeeze(-1)
    while w.dim() < values.dim():
        w = w.unsqueeze(-1)
    return w.expand_as(values)


class Sum(Metric):
    """Weighted sum of values: ``Σ w_i v_i``."""

    _state_names = ("total",)

    def update_state(self, values, sample_weight=None) -> None:
        values = _tensor(values)
        self._ensure_device(values)
        values = values if values.is_floating_point() else values.to(self.total.dtype)
        w = _weights_like(values, sample_weight)
        self.total.add_((values if w is None else values * w).sum())

    def result(self) -> torch.Tensor:
        return self.total.to(torch.get_default_dtype())


class Mean(Metric):
    """Weighted mean of values: ``Σ w_i v_i / Σ w_i`` (0 before any update).

    Example:
        >>> import torch
        >>> m = Mean()
        >>> m.update_state(torch.tensor([1.0, 3.0]))
        >>> m.update_state(torch.tensor([5.0]), sample_weight=torch.tensor([2.0]))
        >>> float(m.result())
        3.5
    """

    _state_names = ("total", "count")

    def update_state(self, values, sample_weight=None) -> None:
        values = _tensor(values)
        self._ensure_device(values)
        if not values.is_floating_point():
            values = values.to(self.total.dtype)
        w = _weights_like(values, sample_weight)
        if w is None:
            self.total.add_(values.sum())
            self.count.add_(values.numel())
        else:
            self.total.add_((values * w).sum())
            self.count.add_(w.sum())

    def result(self) -> torch.Tensor:
        return (self.total / self.count.clamp_min(1e-12)).to(torch.get_default_dtype())


class MeanMetricWrapper(Mean):
    """Sample-weighted mean of a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    Args:
        fn: returns one value per sample (or per element).
        name: the logged name (defaults to ``fn.__name__``).
        **kwargs: passed to ``fn``.
    """

    def __init__(self, fn: Callable, name: str | None = None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        with torch.no_grad():
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values.detach(), sample_weight)

    @property
    def fn(self) -> Callable:
        """The wrapped per-sample function."""
        return self._fn

    def get_config(self):
        return {"name": self.name, **self._fn_kwargs}


# --------------------------------------------------------------------------- functions

def _labels_like(y_true, y_pred) -> torch.Tensor:
    y_pred = _tensor(y_pred)
    return _tensor(y_true, y_pred.device), y_pred


def accuracy(y_true, y_pred) -> torch.Tensor:
    """1.0 where ``y_true == y_pred`` element-wise (a trailing axis of 1 may differ)."""
    y_true, y_pred = _labels_like(y_true, y_pred)
    y_true = _losses._match_rank(y_true, y_pred) if y_true.dim() != y_pred.dim() else y_true
    return (y_true == y_pred).to(torch.get_default_dtype())


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> torch.Tensor:
    """Per-sample fraction of ``(y_pred > threshold) == y_true`` over the last axis.

    Example:
        >>> import torch
        >>> binary_accuracy(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.7], [0.6]]))
        tensor([1., 0.])
    """
    y_true, y_pred = _labels_like(y_true, y_pred)
    y_true = _losses._match_rank(y_true, y_pred)
    hits = ((y_pred > threshold).to(y_pred.dtype) == y_true).to(torch.get_default_dtype())
    return hits.mean(dim=-1) if hits.dim() >= 2 else hits


def categorical_accuracy(y_true, y_pred) -> torch.Tensor:
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot labels)."""
    y_true, y_pred = _labels_like(y_true, y_pred)
    return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).to(torch.get_default_dtype())


def _sparse_labels(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true.long()


def sparse_categorical_accuracy(y_true, y_pred) -> torch.Tensor:
    """1.0 where the integer label equals ``argmax(y_pred)``.

    Example:
        >>> import torch
        >>> sparse_categorical_accuracy(torch.tensor([[2], [1]]), torch.tensor([[0.1, 0.2, 0.7], [0.9, 0.05, 0.05]]))
        tensor([1., 0.])
    """
    y_true, y_pred = _labels_like(y_true, y_pred)
    return (_sparse_labels(y_true, y_pred) == y_pred.argmax(dim=-1)).to(torch.get_default_dtype())


def _in_top_k(labels: torch.Tensor, y_pred: torch.Tensor, k: int) -> torch.Tensor:
    # Like Keras on torch: a label counts when its score is >= the k-th largest score (ties count).
    k = min(int(k), y_pred.shape[-1])
    kth = y_pred.topk(k, dim=-1).values[..., -1:]
    target = y_pred.gather(-1, labels.unsqueeze(-1))
    return (target >= kth).squeeze(-1).to(torch.get_default_dtype())


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> torch.Tensor:
    """1.0 where the one-hot label's class is among the ``k`` highest scores."""
    y_true, y_pred = _labels_like(y_true, y_pred)
    return _in_top_k(y_true.argmax(dim=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> torch.Tensor:
    """1.0 where the integer label is among the ``k`` highest scores."""
    y_true, y_pred = _labels_like(y_true, y_pred)
    return _in_top_k(_sparse_labels(y_true, y_pred), y_pred, k)


mean_squared_error = mse = _losses.mean_squared_error
mean_absolute_error = mae = _losses.mean_absolute_error


# --------------------------------------------------------------------------- classes

def _wrapper_class(name: str, fn: Callable, default_name: str, doc: str, params: tuple = ()):
    def __init__(self, *args, name: str = default_name, **kwargs):
        for key, value in zip(params, args):
            kwargs[key[0]] = value
        for key, default in params:
            kwargs.setdefault(key, default)
        MeanMetricWrapper.__init__(self, fn, name, **kwargs)

    return type(name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


Accuracy = _wrapper_class("Accuracy", accuracy, "accuracy", "How often ``y_pred`` equals ``y_true``.")
BinaryAccuracy = _wrapper_class(
    "BinaryAccuracy", binary_accuracy, "binary_accuracy",
    "How often ``(y_pred > threshold)`` matches binary labels (``threshold=0.5``).", (("threshold", 0.5),))
CategoricalAccuracy = _wrapper_class(
    "CategoricalAccuracy", categorical_accuracy, "categorical_accuracy", "Argmax accuracy for one-hot labels.")
SparseCategoricalAccuracy = _wrapper_class(
    "SparseCategoricalAccuracy", sparse_categorical_accuracy, "sparse_categorical_accuracy",
    "Argmax accuracy for integer labels.")
TopKCategoricalAccuracy = _wrapper_class(
    "TopKCategoricalAccuracy", top_k_categorical_accuracy, "top_k_categorical_accuracy",
    "How often the one-hot label is in the top ``k`` predictions (``k=5``).", (("k", 5),))
SparseTopKCategoricalAccuracy = _wrapper_class(
    "SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy, "sparse_top_k_categorical_accuracy",
    "How often the integer label is in the top ``k`` predictions (``k=5``).", (("k", 5),))
MeanSquaredError = _wrapper_class(
    "MeanSquaredError", mean_squared_error, "mean_squared_error", "Sample mean of the mean squared error.")
MeanAbsoluteError = _wrapper_class(
    "MeanAbsoluteError", mean_absolute_error, "mean_absolute_error", "Sample mean of the mean absolute error.")
CategoricalCrossentropy = _wrapper_class(
    "CategoricalCrossentropy", _losses.categorical_crossentropy, "categorical_crossentropy",
    "Sample mean of the categorical crossentropy.", (("from_logits", False), ("label_smoothing", 0.0)))
SparseCategoricalCrossentropy = _wrapper_class(
    "SparseCategoricalCrossentropy", _losses.sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
    "Sample mean of the sparse categorical crossentropy.", (("from_logits", False),))
BinaryCrossentropy = _wrapper_class(
    "BinaryCrossentropy", _losses.binary_crossentropy, "binary_crossentropy",
    "Sample mean of the binary crossentropy.", (("from_logits", False), ("label_smoothing", 0.0)))


class _ResolveByShape(Metric):
    """``"accuracy"``/``"crossentropy"`` given before shapes are known: resolved on first update."""

    def __init__(self, kind: str, name: str):
        self._kind = kind
        self._inner: Metric | None = None
        super().__init__(name)

    def reset_state(self):
        if self.__dict__.get("_inner") is not None:
            self._inner.reset_state()

    def _resolve(self, y_true, y_pred) -> Metric:
        if self._inner is None:
            self._inner = _by_shape(self._kind, tuple(_tensor(y_true).shape), tuple(_tensor(y_pred).shape), self.name)
        return self._inner

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._resolve(y_true, y_pred).update_state(y_true, y_pred, sample_weight)

    def result(self):
        return torch.zeros(()) if self._inner is None else self._inner.result()

    def to(self, device):
        if self._inner is not None:
            self._inner.to(device)
        return self

    @property
    def variables(self):
        return [] if self._inner is None else self._inner.variables


def _by_shape(kind: str, yt: tuple, yp: tuple, name: str) -> Metric:
    """Keras 3's rule (compile_utils): binary if y_pred's last dim is 1; sparse if y_true has a
    lower rank, or a last dim of 1 while y_pred's is larger; else categorical. Shapes only."""
    if len(yp) >= 1 and yp[-1] == 1:
        cls = BinaryAccuracy if kind == "accuracy" else BinaryCrossentropy
    elif len(yt) < len(yp) or (len(yt) >= 1 and yt[-1] == 1):  # y_pred's last dim is not 1 here
        cls = SparseCategoricalAccuracy if kind == "accuracy" else SparseCategoricalCrossentropy
    else:
        cls = CategoricalAccuracy if kind == "accuracy" else CategoricalCrossentropy
    return cls(name=name)


# --------------------------------------------------------------------------- get / serialize

_CLASSES = {c.__name__: c for c in (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
)}
_NAMES: dict[str, type] = {
    "mean": Mean, "sum": Sum, "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy, "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy, "binary_crossentropy": BinaryCrossentropy,
}
_NAMES.update({"mse": MeanSquaredError, "mae": MeanAbsoluteError, "MSE": MeanSquaredError, "MAE": MeanAbsoluteError})
_BY_SHAPE = {"accuracy": "accuracy", "acc": "accuracy", "crossentropy": "crossentropy", "ce": "crossentropy"}


def get(identifier: Any, y_true_shape: tuple | None = None, y_pred_shape: tuple | None = None) -> Metric:
    """Resolve a metric identifier into a fresh ``Metric``.

    ``"accuracy"``/``"acc"`` (and ``"crossentropy"``/``"ce"``) pick the binary, sparse or
    categorical variant from the shapes as Keras 3 does and keep the given name; without shapes
    they resolve on the first ``update_state``. Other strings are Keras's snake_case (or class)
    names, ``"mse"``/``"mae"`` keep their short names. A ``Metric`` is returned as is, a callable
    ``fn(y_true, y_pred)`` becomes a sample-weighted mean named ``fn.__name__``.

    Args:
        identifier: a name, a ``Metric`` (instance or class), a config dict or a callable.
        y_true_shape, y_pred_shape: tuples including the batch axis (``None`` entries allowed).

    Raises:
        ValueError: for an unknown name, listing the valid ones.
        TypeError: for anything else.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _BY_SHAPE:
            kind = _BY_SHAPE[identifier]
            if y_true_shape is None or y_pred_shape is None:
                return _ResolveByShape(kind, identifier)
            return _by_shape(kind, tuple(y_true_shape), tuple(y_pred_shape), identifier)
        cls = _NAMES.get(identifier) or _CLASSES.get(identifier) or _NAMES.get(identifier.lower())
        if cls is None:
            raise ValueError(
                f"Unknown metric '{identifier}'. Expected one of: "
                f"{', '.join(sorted(set(_NAMES) | set(_BY_SHAPE)))}, a Metric or a callable fn(y_true, y_pred)."
            )
        return cls(name=identifier) if identifier.lower() in ("mse", "mae") else cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"Unknown metric class '{identifier['class_name']}'. Expected one of: {', '.join(sorted(_CLASSES))}.")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, getattr(identifier, "__name__", None))
    raise TypeError(
        f"Could not interpret metric identifier: {identifier!r}. Expected a name such as 'accuracy', "
        "a Metric or a callable fn(y_true, y_pred)."
    )


def serialize(metric: Any) -> Any:
    """A JSON-able description of ``metric`` that ``get`` turns back into it."""
    if isinstance(metric, str):
        return metric
    if isinstance(metric, _ResolveByShape):
        return metric.name
    if isinstance(metric, Metric) and type(metric).__name__ in _CLASSES:
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    raise TypeError(f"Cannot serialize metric {metric!r}: only names and built-in metrics are saved.")
