"""The metric classes against Keras's documented numbers and values worked out by hand."""

import math

import numpy as np
import pytest
import torch

from easynn import metrics

T = torch.tensor


def value(metric, *args, **kwargs):
    return metric(*[T(a) if isinstance(a, list) else a for a in args], **kwargs)


@pytest.mark.parametrize("metric, y_true, y_pred, sample_weight, expected", [
    (metrics.TruePositives(), [0, 1, 1, 1], [1.0, 0, 1, 1], None, 2.0),
    (metrics.FalsePositives(), [0, 1, 0, 0], [0.0, 0, 1, 1], None, 2.0),
    (metrics.TrueNegatives(), [0, 1, 0, 0], [1.0, 1, 0, 0], None, 2.0),
    (metrics.FalseNegatives(), [0, 1, 1, 1], [0.0, 1, 0, 0], None, 2.0),
    (metrics.Precision(), [0, 1, 1, 1], [1.0, 0, 1, 1], None, 2 / 3),
    (metrics.Precision(), [0, 1, 1, 1], [1.0, 0, 1, 1], [0.0, 0, 1, 0], 1.0),
    (metrics.Precision(top_k=2), [0, 0, 1, 1], [1.0, 1, 1, 1], None, 0.0),
    (metrics.Precision(top_k=4), [0, 0, 1, 1], [1.0, 1, 1, 1], None, 0.5),
    (metrics.Recall(), [0, 1, 1, 1], [1.0, 0, 1, 1], None, 2 / 3),
    (metrics.Recall(), [0, 1, 1, 1], [1.0, 0, 1, 1], [0.0, 0, 1, 0], 1.0),
    (metrics.AUC(num_thresholds=3), [0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9], None, 0.75),
    (metrics.MeanIoU(num_classes=2), [0, 0, 1, 1], [0, 1, 0, 1], None, 1 / 3),
    (metrics.MeanIoU(num_classes=2), [0, 0, 1, 1], [0, 1, 0, 1], [0.3, 0.3, 0.3, 0.1], (0.3 / 0.9 + 0.1 / 0.7) / 2),
    (metrics.R2Score(), [[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]], None, 0.5714285),
    (metrics.RootMeanSquaredError(), [[0.0, 1], [0, 0]], [[1.0, 1], [0, 0]], None, 0.5),
    (metrics.RootMeanSquaredError(), [[0.0, 1], [0, 0]], [[1.0, 1], [0, 0]], [1.0, 0.0], math.sqrt(0.5)),
    (metrics.MeanAbsolutePercentageError(), [[0.0, 1], [0, 0]], [[1.0, 1], [0, 0]], None, 2.5e8),
    (metrics.MeanSquaredLogarithmicError(), [[0.0, 1], [0, 0]], [[1.0, 1], [0, 0]], None, math.log(2) ** 2 / 4),
    (metrics.CosineSimilarity(), [[0.0, 1], [1, 1]], [[1.0, 0], [1, 1]], None, 0.5),
    (metrics.LogCoshError(), [[0.0, 1], [0, 0]], [[1.0, 1], [0, 0]], None, math.log(math.cosh(1.0)) / 4),
    (metrics.KLDivergence(), [[0.0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], None, 0.45814306),
    (metrics.Poisson(), [[0.0, 1], [0, 0]], [[1.0, 1], [0, 0]], None, 0.5),
    (metrics.Hinge(), [[0.0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], None, 1.3),
    (metrics.SquaredHinge(), [[0.0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], None, 1.86),
    (metrics.CategoricalHinge(), [[0.0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], None, 1.4),
    (metrics.SparseTopKCategoricalAccuracy(k=1), [2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], None, 0.5),
])
def test_keras_documented_values(metric, y_true, y_pred, sample_weight, expected):
    sw = None if sample_weight is None else T(sample_weight)
    assert float(metric(T(y_true), T(y_pred), sample_weight=sw)) == pytest.approx(expected, rel=1e-5)


def test_f1_and_fbeta_per_class_and_averages():
    y_true = T([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    y_pred = T([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    f1 = metrics.F1Score(threshold=0.5)(y_true, y_pred)
    np.testing.assert_allclose(f1.numpy(), [0.5, 0.8, 2 / 3], rtol=1e-6)
    fb = metrics.FBetaScore(beta=2.0, threshold=0.5)(y_true, y_pred)
    np.testing.assert_allclose(fb.numpy(), [5 / 13, 0.9090909, 0.8333333], rtol=1e-6)
    assert float(metrics.F1Score(average="macro", threshold=0.5)(y_true, y_pred)) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    # micro: tp=4, fp=2, fn=2 over all classes -> P = R = 2/3
    assert float(metrics.F1Score(average="micro", threshold=0.5)(y_true, y_pred)) == pytest.approx(2 / 3)
    # weighted by true counts 3, 2, 1
    weighted = (3 * 0.5 + 2 * 0.8 + 1 * 2 / 3) / 6
    assert float(metrics.F1Score(average="weighted", threshold=0.5)(y_true, y_pred)) == pytest.approx(weighted)
    # threshold=None: the row's argmax is the prediction
    f1_argmax = metrics.F1Score()(T([[0, 1], [0, 1]]), T([[0.3, 0.4], [0.2, 0.1]]))
    np.testing.assert_allclose(f1_argmax.numpy(), [0.0, 2 / 3], rtol=1e-6)


def _pairwise_auc(y, p):
    pos, neg = p[y == 1], p[y == 0]
    return float(((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg)))


def test_roc_auc_equals_rank_statistic_when_each_prediction_has_its_own_bucket():
    g = torch.Generator().manual_seed(0)
    y = (torch.rand(40, generator=g) > 0.5).long()
    p = (torch.randperm(40, generator=g).float() + 0.5) / 40
    m = metrics.AUC(thresholds=[i / 40 for i in range(1, 40)])
    for chunk in range(0, 40, 16):  # several batches accumulate
        m.update_state(y[chunk:chunk + 16], p[chunk:chunk + 16])
    assert float(m.result()) == pytest.approx(_pairwise_auc(y, p), abs=1e-6)
    default = metrics.AUC()
    default.update_state(y, p)
    assert float(default.result()) == pytest.approx(_pairwise_auc(y, p), abs=0.02)
    assert len(default.thresholds) == 200 and default.thresholds[0] == pytest.approx(-1e-7)


def test_pr_auc_interpolation_by_hand():
    # tp = [2, 1, 0], fp = [1, 1, 0], fn = [0, 1, 2] at thresholds (-eps, 0.5, 1 + eps)
    m = metrics.AUC(curve="PR", thresholds=[0.5])
    m.update_state(T([1, 0, 1]), T([0.8, 0.6, 0.3]))
    expected = (1 - math.log(1.5)) / 2 + 0.25
    assert float(m.result()) == pytest.approx(expected, rel=1e-6)
    # minoring Riemann sum of the ROC curve: tpr = [1, .5, 0], fpr = [1, 1, 0] -> 1 * min(.5, 0) + 0 = 0
    roc_min = metrics.AUC(thresholds=[0.5], summation_method="minoring")
    roc_min.update_state(T([1, 0, 1]), T([0.8, 0.6, 0.3]))
    assert float(roc_min.result()) == pytest.approx(0.0)
    perfect = metrics.AUC(curve="PR")
    perfect.update_state(T([1, 0]), T([0.9, 0.1]))
    assert float(perfect.result()) == pytest.approx(1.0, rel=1e-6)


def test_auc_multi_label_averages_the_per_label_areas_and_from_logits():
    y = T([[1, 0], [0, 1], [1, 1], [0, 0]])
    p = T([[0.9, 0.2], [0.2, 0.8], [0.6, 0.1], [0.4, 0.7]])
    m = metrics.AUC(multi_label=True, thresholds=[i / 10 for i in range(1, 10)])
    m.update_state(y, p)
    per_label = [_pairwise_auc(y[:, j], p[:, j]) for j in range(2)]
    assert float(m.result()) == pytest.approx(sum(per_label) / 2, abs=1e-6)
    logits = metrics.AUC(from_logits=True, num_thresholds=3)
    logits.update_state(T([0, 0, 1, 1]), torch.logit(T([0.01, 0.5, 0.3, 0.9])))
    assert float(logits.result()) == pytest.approx(0.75)


def test_thresholds_list_gives_one_value_per_threshold():
    m = metrics.Precision(thresholds=[0.7, 0.2])
    out = m(T([1, 0, 1]), T([0.8, 0.5, 0.3]))
    np.testing.assert_allclose(out.numpy(), [1.0, 2 / 3], rtol=1e-6)
    with pytest.raises(ValueError, match="thresholds"):
        metrics.Recall(thresholds=[1.5])


def test_precision_class_id_and_reset():
    m = metrics.Precision(class_id=1)
    m.update_state(T([[0, 1], [1, 0], [0, 1]]), T([[0.2, 0.9], [0.4, 0.6], [0.7, 0.3]]))
    assert float(m.result()) == pytest.approx(0.5)
    m.reset_state()
    assert float(m.result()) == 0.0 and all(float(v.value.sum()) == 0 for v in m.variables)


def test_iou_variants():
    iou = metrics.IoU(num_classes=3, target_class_ids=[0])
    iou.update_state(T([0, 0, 1, 2]), T([0, 1, 1, 0]))
    assert float(iou.result()) == pytest.approx(1 / 3)  # tp 1, predicted 2, actual 2
    one_hot = metrics.OneHotMeanIoU(num_classes=2)
    one_hot.update_state(T([[1, 0], [0, 1]]), T([[0.8, 0.2], [0.6, 0.4]]))
    assert float(one_hot.result()) == pytest.approx((0.5 + 0.0) / 2)
    ignored = metrics.MeanIoU(num_classes=2, ignore_class=1)
    ignored.update_state(T([0, 1, 1]), T([0, 0, 0]))
    assert float(ignored.result()) == pytest.approx(1.0)
    assert metrics.MeanIoU(num_classes=2).name == "mean_io_u"


def test_r2_aggregations_and_adjusted():
    y = T([[1.0, 2.0], [2.0, 4.0], [3.0, 3.0], [4.0, 7.0]])
    p = T([[1.5, 2.0], [2.0, 3.0], [2.5, 3.0], [4.0, 6.0]])
    ss_res = ((y - p) ** 2).sum(0)
    ss_tot = ((y - y.mean(0)) ** 2).sum(0)
    raw = 1 - ss_res / ss_tot
    np.testing.assert_allclose(metrics.R2Score(class_aggregation=None)(y, p).numpy(), raw.numpy(), rtol=1e-6)
    weighted = float((raw * ss_tot).sum() / ss_tot.sum())
    assert float(metrics.R2Score(class_aggregation="variance_weighted_average")(y, p)) == pytest.approx(weighted, rel=1e-6)
    adjusted = 1 - (1 - float(raw.mean())) * (4 - 1) / (4 - 1 - 1)
    assert float(metrics.R2Score(num_regressors=1)(y, p)) == pytest.approx(adjusted, rel=1e-6)


def test_directions_and_registry_names():
    assert metrics.AUC.direction == "up" and metrics.FalsePositives.direction == "down"
    assert metrics.MeanAbsolutePercentageError.direction == "down" and metrics.R2Score.direction == "up"
    assert metrics.direction("val_precision") == "up" and metrics.direction("val_loss") == "down"
    assert metrics.direction("val_acc") == "up" and metrics.direction("mape") == "down"
    assert metrics.direction("my_score") is None
    for name, cls in [("auc", metrics.AUC), ("precision", metrics.Precision), ("recall", metrics.Recall),
                      ("r2_score", metrics.R2Score), ("root_mean_squared_error", metrics.RootMeanSquaredError),
                      ("kl_divergence", metrics.KLDivergence), ("logcosh", metrics.LogCoshError)]:
        m = metrics.get(name)
        assert type(m) is cls and m.name == name
    assert metrics.get("mape").name == "mape" and type(metrics.get("msle")) is metrics.MeanSquaredLogarithmicError


@pytest.mark.parametrize("metric", [metrics.AUC(curve="PR", num_thresholds=50), metrics.Precision(thresholds=[0.3, 0.6]),
                                    metrics.F1Score(average="macro"), metrics.MeanIoU(num_classes=3),
                                    metrics.R2Score(num_regressors=2), metrics.CosineSimilarity(axis=1)])
def test_config_round_trip(metric):
    config = metrics.serialize(metric)
    clone = metrics.get(config)
    assert type(clone) is type(metric) and clone.get_config() == metric.get_config()


def test_rate_at_a_constrained_rate_by_hand():
    y = T([0, 0, 0, 1, 1, 1])
    p = T([0.1, 0.4, 0.7, 0.3, 0.8, 0.9])
    # thresholds 0, .25, .5, .75, 1: (tp, fp, tn, fn) = (3,3,0,0) (3,2,1,0) (2,1,2,1) (2,0,3,1) (0,0,3,3)
    kw = {"num_thresholds": 5}
    assert float(metrics.PrecisionAtRecall(0.6, **kw)(y, p)) == pytest.approx(1.0)  # t=.75: R=2/3, P=1
    assert float(metrics.PrecisionAtRecall(0.9, **kw)(y, p)) == pytest.approx(0.6)  # R=1 at t=0, .25
    assert float(metrics.RecallAtPrecision(0.65, **kw)(y, p)) == pytest.approx(2 / 3)
    assert float(metrics.SensitivityAtSpecificity(0.6, **kw)(y, p)) == pytest.approx(2 / 3)
    assert float(metrics.SpecificityAtSensitivity(1.0, **kw)(y, p)) == pytest.approx(1 / 3)
    assert float(metrics.RecallAtPrecision(1.0, num_thresholds=3)(T([0, 1]), T([0.9, 0.1]))) == 0.0  # none feasible
    m = metrics.PrecisionAtRecall(0.5)
    assert len(m.thresholds) == 200 and m.thresholds[0] == 0.0 and m.thresholds[-1] == 1.0
    assert metrics.get(metrics.serialize(m)).get_config() == m.get_config()
    with pytest.raises(ValueError, match="recall"):
        metrics.PrecisionAtRecall(1.5)
