"""Metric identifiers: ``get`` (names, configs, classes, callables; "accuracy" resolved by the
target and output shapes), ``serialize``/``deserialize`` and ``direction`` (for the callbacks'
auto mode)."""

from __future__ import annotations

from typing import Any

import torch

from easynn.metrics import accuracy as _acc
from easynn.metrics import confusion as _conf
from easynn.metrics import constrained as _cons
from easynn.metrics import correlation as _corr
from easynn.metrics import hinge as _hinge
from easynn.metrics import iou as _iou
from easynn.metrics import probabilistic as _prob
from easynn.metrics import regression as _reg
from easynn.metrics.base import Metric
from easynn.metrics.reduction import Mean, MeanMetricWrapper, Sum
from easynn.metrics.variable import _tensor

__all__ = ["get", "serialize", "deserialize", "direction"]


class _ResolveByShape(Metric):
    """``"accuracy"``/``"crossentropy"`` given before shapes are known: resolved on first update."""

    def __init__(self, kind: str, name: str):
        self._kind = kind
        self._inner: Metric | None = None
        super().__init__(name=name)

    @property
    def direction(self) -> str:
        return "up" if self._kind == "accuracy" else "down"

    def reset_state(self) -> None:
        if self._inner is not None:
            self._inner.reset_state()

    def _resolve(self, y_true, y_pred) -> Metric:
        if self._inner is None:
            self._inner = _by_shape(self._kind, tuple(_tensor(y_true).shape), tuple(_tensor(y_pred).shape), self.name)
            if self._built_device:
                self._inner.to(self._device)
        return self._inner

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        self._resolve(y_true, y_pred).update_state(y_true, y_pred, sample_weight)

    def result(self) -> torch.Tensor:
        return torch.zeros(()) if self._inner is None else self._inner.result()

    def to(self, device) -> "Metric":
        self._device, self._built_device = torch.device(device), True
        if self._inner is not None:
            self._inner.to(device)
        return self

    @property
    def variables(self) -> list:
        return [] if self._inner is None else self._inner.variables


def _by_shape(kind: str, yt: tuple, yp: tuple, name: str) -> Metric:
    """Keras 3's rule (compile_utils): binary if y_pred's last dim is 1; sparse if y_true has a
    lower rank, or a last dim of 1 while y_pred's is larger; else categorical. Shapes only."""
    if len(yp) >= 1 and yp[-1] == 1:
        cls = _acc.BinaryAccuracy if kind == "accuracy" else _prob.BinaryCrossentropy
    elif len(yt) < len(yp) or (len(yt) >= 1 and yt[-1] == 1):  # y_pred's last dim is not 1 here
        cls = _acc.SparseCategoricalAccuracy if kind == "accuracy" else _prob.SparseCategoricalCrossentropy
    else:
        cls = _acc.CategoricalAccuracy if kind == "accuracy" else _prob.CategoricalCrossentropy
    return cls(name=name)


_ALL_CLASSES = (
    Mean,
    Sum,
    _acc.Accuracy,
    _acc.BinaryAccuracy,
    _acc.CategoricalAccuracy,
    _acc.SparseCategoricalAccuracy,
    _acc.TopKCategoricalAccuracy,
    _acc.SparseTopKCategoricalAccuracy,
    _reg.MeanSquaredError,
    _reg.MeanAbsoluteError,
    _reg.MeanAbsolutePercentageError,
    _reg.MeanSquaredLogarithmicError,
    _reg.RootMeanSquaredError,
    _reg.CosineSimilarity,
    _reg.LogCoshError,
    _reg.R2Score,
    _prob.CategoricalCrossentropy,
    _prob.SparseCategoricalCrossentropy,
    _prob.BinaryCrossentropy,
    _prob.KLDivergence,
    _prob.Poisson,
    _hinge.Hinge,
    _hinge.SquaredHinge,
    _hinge.CategoricalHinge,
    _conf.TruePositives,
    _conf.FalsePositives,
    _conf.TrueNegatives,
    _conf.FalseNegatives,
    _conf.Precision,
    _conf.Recall,
    _conf.AUC,
    _conf.FBetaScore,
    _conf.F1Score,
    _iou.IoU,
    _iou.MeanIoU,
    _iou.OneHotMeanIoU,
    _iou.BinaryIoU,
    _iou.OneHotIoU,
    _corr.PearsonCorrelation,
    _corr.ConcordanceCorrelation,
    _cons.SensitivityAtSpecificity,
    _cons.SpecificityAtSensitivity,
    _cons.PrecisionAtRecall,
    _cons.RecallAtPrecision,
)
_CLASSES: dict[str, type] = {c.__name__: c for c in _ALL_CLASSES}
# Names usable in compile(metrics=[...]) (classes needing arguments, such as MeanIoU, are not).
_NAMES: dict[str, type] = {
    "mean": Mean,
    "sum": Sum,
    "binary_accuracy": _acc.BinaryAccuracy,
    "categorical_accuracy": _acc.CategoricalAccuracy,
    "sparse_categorical_accuracy": _acc.SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": _acc.TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": _acc.SparseTopKCategoricalAccuracy,
    "mean_squared_error": _reg.MeanSquaredError,
    "mean_absolute_error": _reg.MeanAbsoluteError,
    "mean_absolute_percentage_error": _reg.MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": _reg.MeanSquaredLogarithmicError,
    "root_mean_squared_error": _reg.RootMeanSquaredError,
    "cosine_similarity": _reg.CosineSimilarity,
    "logcosh": _reg.LogCoshError,
    "log_cosh": _reg.LogCoshError,
    "r2_score": _reg.R2Score,
    "categorical_crossentropy": _prob.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": _prob.SparseCategoricalCrossentropy,
    "binary_crossentropy": _prob.BinaryCrossentropy,
    "kl_divergence": _prob.KLDivergence,
    "poisson": _prob.Poisson,
    "hinge": _hinge.Hinge,
    "squared_hinge": _hinge.SquaredHinge,
    "categorical_hinge": _hinge.CategoricalHinge,
    "true_positives": _conf.TruePositives,
    "false_positives": _conf.FalsePositives,
    "true_negatives": _conf.TrueNegatives,
    "false_negatives": _conf.FalseNegatives,
    "precision": _conf.Precision,
    "recall": _conf.Recall,
    "auc": _conf.AUC,
    "f1_score": _conf.F1Score,
    "fbeta_score": _conf.FBetaScore,
    "binary_io_u": _iou.BinaryIoU,
    "pearson_correlation": _corr.PearsonCorrelation,
    "concordance_correlation": _corr.ConcordanceCorrelation,
}
# keras.metrics' loss functions without a metric class of their own: the mean of the function,
# logged under its name (a model compiled with metrics=[easynn.metrics.huber] saves it by name).
_FUNCTIONS: dict[str, Any] = {
    "huber": _reg.huber,
    "binary_focal_crossentropy": _prob.binary_focal_crossentropy,
    "categorical_focal_crossentropy": _prob.categorical_focal_crossentropy,
}
# Short names keep their spelling as the logged name, as in Keras ("mse" logs "mse").
_ALIASES: dict[str, type] = {
    "mse": _reg.MeanSquaredError,
    "mae": _reg.MeanAbsoluteError,
    "mape": _reg.MeanAbsolutePercentageError,
    "msle": _reg.MeanSquaredLogarithmicError,
    "kld": _prob.KLDivergence,
    "rmse": _reg.RootMeanSquaredError,
}
_BY_SHAPE = {"accuracy": "accuracy", "acc": "accuracy", "crossentropy": "crossentropy", "ce": "crossentropy"}


def _lookup(identifier: str) -> tuple[type | None, bool]:
    """``(class, keep_name)`` for a metric name (case-insensitive for short aliases)."""
    if identifier in _NAMES:
        return _NAMES[identifier], False
    if identifier in _CLASSES:
        return _CLASSES[identifier], False
    if identifier.lower() in _ALIASES:
        return _ALIASES[identifier.lower()], True
    return _NAMES.get(identifier.lower()), False


def get(identifier: Any, y_true_shape: tuple | None = None, y_pred_shape: tuple | None = None) -> Metric:
    """Resolve a metric identifier into a fresh ``Metric``.

    ``"accuracy"``/``"acc"`` (and ``"crossentropy"``/``"ce"``) pick the binary, sparse or
    categorical variant from the shapes as Keras 3 does and keep the given name; without shapes
    they resolve on the first ``update_state``. Other strings are Keras's snake_case (or class)
    names; ``"mse"``/``"mae"``/``"mape"``/``"msle"``/``"kld"`` keep their short names. A
    ``Metric`` is returned as is, a callable ``fn(y_true, y_pred)`` becomes a sample-weighted
    mean named ``fn.__name__``.

    Args:
        identifier: a name, a ``Metric`` (instance or class), a config dict or a callable.
        y_true_shape, y_pred_shape: tuples including the batch axis (``None`` entries allowed).

    Raises:
        ValueError: for an unknown name, listing the valid ones.
        TypeError: for anything else.

    Example:
        >>> m = get("accuracy", y_true_shape=(None,), y_pred_shape=(None, 3))
        >>> m.name, type(m).__name__
        ('accuracy', 'SparseCategoricalAccuracy')
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _BY_SHAPE:
            kind = _BY_SHAPE[identifier]
            if y_true_shape is None or y_pred_shape is None:
                return _ResolveByShape(kind, identifier)
            return _by_shape(kind, tuple(y_true_shape), tuple(y_pred_shape), identifier)
        if identifier in _FUNCTIONS:
            return _function_metric(identifier)
        cls, keep_name = _lookup(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown metric '{identifier}'. Expected one of: "
                f"{', '.join(sorted(set(_NAMES) | set(_BY_SHAPE) | set(_ALIASES) | set(_FUNCTIONS)))}, a Metric or a callable "
                "fn(y_true, y_pred)."
            )
        return cls(name=identifier) if keep_name else cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        if identifier["class_name"] == "function" and isinstance(identifier.get("config"), str):
            return get(identifier["config"])  # Keras's form of a function saved by name
        cls = _CLASSES.get(identifier["class_name"])
        if cls is None:
            raise ValueError(
                f"Unknown metric class '{identifier['class_name']}'. Expected one of: {', '.join(sorted(_CLASSES))}, "
                "or pass a custom metric class in custom_objects."
            )
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        metric = MeanMetricWrapper(identifier, getattr(identifier, "__name__", None))
        if any(identifier is fn for fn in _FUNCTIONS.values()):
            metric.direction = "down"
        return metric
    raise TypeError(
        f"Could not interpret metric identifier: {identifier!r}. Expected a name such as 'accuracy', "
        "a Metric or a callable fn(y_true, y_pred)."
    )


def serialize(metric: Any) -> Any:
    """A JSON-able description of ``metric`` that ``get`` (or ``from_config`` of a custom class,
    found through ``custom_objects``) turns back into it.

    Raises:
        TypeError: for a wrapper around a custom function (save the function by name instead).
    """
    if isinstance(metric, str):
        return metric
    if isinstance(metric, _ResolveByShape):
        return metric.name
    known = _known_function_name(metric)
    if known is not None:
        return known
    if isinstance(metric, MeanMetricWrapper) and type(metric) is MeanMetricWrapper:
        known = _known_function_name(metric.fn)
        if known is not None and metric.name == known and not metric.get_config().keys() - {"name", "dtype"}:
            return known
        raise TypeError(f"Cannot serialize metric {metric!r}: a MeanMetricWrapper around a custom function.")
    if isinstance(metric, Metric):
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    raise TypeError(f"Cannot serialize metric {metric!r}: only names and Metric objects are saved.")


def deserialize(config: Any, custom_objects: dict | None = None) -> Metric:
    """Keras's ``metrics.deserialize``: the inverse of ``serialize``.

    Accepts what ``serialize`` returns (a name, or ``{"class_name", "config"}``, extra Keras keys
    such as ``"module"``/``"registered_name"`` ignored) and Keras's ``{"class_name": "function",
    "config": name}``. ``custom_objects`` (``{name: Metric class or function}``) is looked up first.

    Args:
        config: a metric name or a config dict.
        custom_objects: optional custom metric classes or functions by name.

    Returns:
        A fresh ``Metric`` (a function becomes the mean of its values, named after it).

    Raises:
        ValueError: for an unknown name or class.
        TypeError: for anything other than a name or a dict.

    Example:
        >>> m = deserialize(serialize(get("mae")))
        >>> type(m).__name__, m.name
        ('MeanAbsoluteError', 'mae')
    """
    if not isinstance(config, (str, dict)):
        raise TypeError(
            f"Could not deserialize metric {config!r}: expected a name or a dict with 'class_name' and 'config'."
        )
    key = config.get("class_name") if isinstance(config, dict) else config
    if custom_objects and isinstance(key, str) and key in custom_objects:
        found = custom_objects[key]
        if isinstance(found, type) and issubclass(found, Metric) and isinstance(config, dict):
            return found.from_config(dict(config.get("config") or {}))
        return get(found)
    if isinstance(config, dict) and "class_name" not in config:
        raise ValueError(f"A metric config must have a 'class_name' key. Received: {config!r}")
    return get(config)


def _function_metric(name: str) -> Metric:
    metric = MeanMetricWrapper(_FUNCTIONS[name], name)
    metric.direction = "down"
    return metric


def _known_function_name(fn: Any) -> str | None:
    """The name ``get`` resolves back to ``fn``'s metric, for keras.metrics' own functions."""
    name = getattr(fn, "__name__", None)
    if not callable(fn) or isinstance(fn, (type, Metric)) or name is None:
        return None
    if name not in _NAMES and name not in _FUNCTIONS and name.lower() not in _ALIASES:
        return None
    modules = (_acc, _reg, _prob, _hinge, _corr)
    return name if any(getattr(module, name, None) is fn for module in modules) else None


def direction(name: str) -> str | None:
    """``"up"`` if larger values of the metric logged as ``name`` are better, ``"down"`` if
    smaller are, ``None`` when ``name`` is not a known metric. A ``val_`` prefix is ignored;
    names ending in ``loss`` are ``"down"``.

    Example:
        >>> direction("val_auc"), direction("mae"), direction("val_loss"), direction("my_score")
        ('up', 'down', 'down', None)
    """
    base = name.removeprefix("val_")
    if base.endswith("loss"):
        return "down"
    if base in _BY_SHAPE:
        return "up" if _BY_SHAPE[base] == "accuracy" else "down"
    if base in _FUNCTIONS:
        return "down"
    cls, _ = _lookup(base)
    return getattr(cls, "direction", None) if cls is not None else None
