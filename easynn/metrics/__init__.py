"""Stateful metrics with Keras's names, accumulated on the device without host syncs.

A metric keeps its state in variables (device tensors) made by ``Metric.add_variable``;
``update_state`` only launches tensor ops; ``result()`` returns a tensor that the training loop
converts to a float when it logs. ``variables`` lists the state that distributed training sums
across processes before calling ``result()``. Every metric has a ``direction`` (``"up"``,
``"down"``), which the callbacks' ``mode="auto"`` reads; ``direction(name)`` gives it for a
logged name.

Modules: ``base`` (Metric), ``variable`` (MetricVariable), ``reduction`` (Mean, Sum,
MeanMetricWrapper), ``accuracy``, ``regression``, ``confusion`` (counts, Precision, Recall),
``auc``, ``f_score``, ``constrained`` (PrecisionAtRecall...), ``iou``, ``probabilistic``, ``hinge``,
``correlation`` (PearsonCorrelation, ConcordanceCorrelation). As in Keras, ``binary_crossentropy``,
``categorical_crossentropy``, ``sparse_categorical_crossentropy``, the focal crossentropies and
``huber`` here are the per-sample loss functions of ``easynn.losses``.

Masks: the mean metrics (every ``MeanMetricWrapper``: accuracies, regression errors,
crossentropies, hinges) weigh each entry by the mask the prediction carries
(``y_pred._keras_mask``, from ``Embedding(mask_zero=True)``/``Masking``), as Keras 3 does, so
padded timesteps do not count.

Example:
    >>> import torch
    >>> m = get("accuracy", y_true_shape=(None,), y_pred_shape=(None, 3))
    >>> m.name, type(m).__name__
    ('accuracy', 'SparseCategoricalAccuracy')
    >>> m.update_state(torch.tensor([0, 2]), torch.tensor([[0.9, 0.1, 0.0], [0.5, 0.4, 0.1]]))
    >>> float(m.result())
    0.5
"""

from easynn.metrics._registry import deserialize, direction, get, serialize
from easynn.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from easynn.metrics.base import Metric
from easynn.metrics.confusion import (
    AUC,
    F1Score,
    FalseNegatives,
    FalsePositives,
    FBetaScore,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from easynn.metrics.constrained import (
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from easynn.metrics.correlation import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from easynn.metrics.hinge import CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge
from easynn.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from easynn.metrics.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    kl_divergence,
    kld,
    poisson,
    sparse_categorical_crossentropy,
)
from easynn.metrics.reduction import Mean, MeanMetricWrapper, Sum
from easynn.metrics.regression import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
    cosine_similarity,
    huber,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
)
from easynn.metrics.variable import MetricVariable

__all__ = [
    "Metric",
    "MetricVariable",
    "Mean",
    "Sum",
    "MeanMetricWrapper",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "RootMeanSquaredError",
    "CosineSimilarity",
    "LogCoshError",
    "R2Score",
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "mean_absolute_percentage_error",
    "mape",
    "mean_squared_logarithmic_error",
    "msle",
    "cosine_similarity",
    "log_cosh",
    "logcosh",
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "Precision",
    "Recall",
    "AUC",
    "FBetaScore",
    "F1Score",
    "IoU",
    "MeanIoU",
    "OneHotMeanIoU",
    "BinaryIoU",
    "OneHotIoU",
    "PearsonCorrelation",
    "ConcordanceCorrelation",
    "pearson_correlation",
    "concordance_correlation",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "KLDivergence",
    "Poisson",
    "kl_divergence",
    "kld",
    "poisson",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "huber",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "get",
    "serialize",
    "deserialize",
    "direction",
]
