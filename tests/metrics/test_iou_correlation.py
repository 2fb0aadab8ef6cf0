"""BinaryIoU, OneHotIoU, PearsonCorrelation, ConcordanceCorrelation, keras.metrics' function forms and
metrics.deserialize: values against NumPy / hand computation and Keras's documented numbers, state
over several batches, configs, the registry, and compile/fit/evaluate/save."""

import json

import numpy as np
import pytest
import torch

import easynn
from easynn import losses, metrics

T = torch.tensor


def confusion(y_true, y_pred, n, weights=None):
    cm = np.zeros((n, n))
    weights = np.ones(len(y_true)) if weights is None else weights
    for t, p, w in zip(y_true, y_pred, weights):
        cm[t, p] += w
    return cm


def np_iou(cm, ids):
    """Mean IoU over ``ids``, classes with an empty union left out (Keras's rule)."""
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    kept = [i for i in ids if union[i] > 0]
    return float(np.mean([tp[i] / union[i] for i in kept])) if kept else 0.0


def np_pearson(a, b):
    return np.array([np.corrcoef(x, y)[0, 1] for x, y in zip(a, b)])


def np_ccc(a, b):
    out = []
    for x, y in zip(a, b):
        cov = np.mean((x - x.mean()) * (y - y.mean()))
        out.append(2 * cov / (x.var() + y.var() + (x.mean() - y.mean()) ** 2))
    return np.array(out)


# --------------------------------------------------------------------------- BinaryIoU

def test_binary_iou_keras_documented_examples():
    m = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    m.update_state(T([0, 1, 0, 1]), T([0.1, 0.2, 0.4, 0.7]))
    assert float(m.result()) == pytest.approx(1 / 3, abs=1e-6)
    m.reset_state()
    m.update_state(T([0, 1, 0, 1]), T([0.1, 0.2, 0.4, 0.7]), sample_weight=T([0.2, 0.3, 0.4, 0.1]))
    # cm = [[0.2, 0.4], [0.3, 0.1]] -> IoU 0.2 / 0.9 and 0.1 / 0.8
    assert float(m.result()) == pytest.approx((0.2 / 0.9 + 0.1 / 0.8) / 2, abs=1e-6)
    assert m.name == "binary_io_u" and m.direction == "up" and m.threshold == 0.3


def test_binary_iou_accumulates_batches_against_numpy_and_resets():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=12)
    p = rng.random(12)
    w = rng.random(12)
    m = metrics.BinaryIoU(threshold=0.4)
    for s in (slice(0, 5), slice(5, 9), slice(9, 12)):
        m.update_state(T(y[s]), T(p[s], dtype=torch.float32), sample_weight=T(w[s], dtype=torch.float32))
    expected = np_iou(confusion(y, (p >= 0.4).astype(int), 2, w), [0, 1])
    assert float(m.result()) == pytest.approx(expected, rel=1e-5)
    m.reset_state()
    assert float(m.result()) == 0.0
    m.update_state(T([[1], [0]]), T([[0.9], [0.1]]))  # (batch, 1) labels and scores
    assert float(m.result()) == 1.0


def test_binary_iou_absent_class_is_left_out_of_the_mean():
    y_true, y_pred = T([1, 1, 1]), T([0.8, 0.6, 0.2])  # class 0 never a label; predicted once
    # class 0: tp 0, union 1 -> 0; class 1: tp 2, union 3
    assert float(metrics.BinaryIoU()(y_true, y_pred)) == pytest.approx((0 + 2 / 3) / 2)
    m = metrics.BinaryIoU()
    m.update_state(T([1, 1]), T([0.9, 0.7]))  # class 0 absent from labels and predictions
    assert float(m.result()) == 1.0  # the mean over class 1 only, not (0 + 1) / 2
    assert float(metrics.BinaryIoU(target_class_ids=[0])(T([1, 1]), T([0.9, 0.7]))) == 0.0


def test_binary_iou_threshold_is_inclusive_and_works_on_logits():
    assert float(metrics.BinaryIoU(target_class_ids=[1], threshold=0.5)(T([1]), T([0.5]))) == 1.0
    m = metrics.BinaryIoU(threshold=0.0)  # logits: Keras documents threshold=0 for them
    assert float(m(T([0, 1, 1, 0]), T([-2.0, 3.0, 0.5, -0.1]))) == 1.0


def test_binary_iou_config_round_trip_and_bad_arguments():
    m = metrics.BinaryIoU(target_class_ids=(1,), threshold=0.25, name="iou1")
    config = m.get_config()
    assert config == {"target_class_ids": [1], "threshold": 0.25, "name": "iou1", "dtype": "float32"}
    clone = metrics.BinaryIoU.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    y, p = T([0, 1, 1, 0]), T([0.3, 0.2, 0.9, 0.1])
    assert float(clone(y, p)) == float(m(y, p)) == pytest.approx(1 / 3)  # class 1: tp 1, fp 1, fn 1
    for bad in (float("nan"), float("inf"), "0.5", None):
        with pytest.raises(ValueError, match="threshold"):
            metrics.BinaryIoU(threshold=bad)
    with pytest.raises(ValueError, match="target_class_ids"):
        metrics.BinaryIoU(target_class_ids=[2])
    with pytest.raises(ValueError, match="target_class_ids"):
        metrics.BinaryIoU(target_class_ids=[])


# --------------------------------------------------------------------------- OneHotIoU

Y_ONE_HOT = T([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
P_SCORES = T([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
W4 = T([0.1, 0.2, 0.3, 0.4])


def test_one_hot_iou_and_one_hot_mean_iou_keras_documented_examples():
    # cm = [[0, 0, 0.6], [0.3, 0, 0], [0, 0, 0.1]]: IoU 0, 0, 0.1 / 0.7
    m = metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    assert float(m(Y_ONE_HOT, P_SCORES, sample_weight=W4)) == pytest.approx(0.1 / 0.7 / 2, abs=1e-6)
    mean = metrics.OneHotMeanIoU(num_classes=3)
    assert float(mean(Y_ONE_HOT, P_SCORES, sample_weight=W4)) == pytest.approx(0.1 / 0.7 / 3, abs=1e-6)
    assert (m.name, mean.name, m.direction) == ("one_hot_io_u", "one_hot_mean_io_u", "up")


def test_one_hot_iou_batches_absent_class_sparse_predictions_and_ignore_class():
    rng = np.random.default_rng(1)
    labels = rng.choice([0, 2, 3], size=10)  # class 1 never occurs as a label
    scores = rng.random((10, 4))
    scores[:, 1] = -1.0  # ... nor as a prediction
    m = metrics.OneHotIoU(num_classes=4, target_class_ids=[0, 1, 2, 3])
    one_hot = np.eye(4)[labels]
    for s in (slice(0, 4), slice(4, 10)):
        m.update_state(T(one_hot[s]), T(scores[s]))
    expected = np_iou(confusion(labels, scores.argmax(1), 4), [0, 1, 2, 3])  # the mean over 3 classes
    assert float(m.result()) == pytest.approx(expected, rel=1e-5)
    m.reset_state()
    assert float(m.result()) == 0.0

    sparse = metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 1, 2], sparse_y_pred=True)
    assert float(sparse(T([[1, 0, 0], [0, 1, 0]]), T([0, 1]))) == 1.0
    ignoring = metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 1], ignore_class=2)
    # the sample labelled 2 (predicted 0) is left out: class 0 IoU 1, class 1 IoU 1
    assert float(ignoring(T([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), T([[0.9, 0.1, 0], [0, 1, 0], [1, 0, 0]]))) == 1.0


def test_one_hot_iou_config_and_bad_arguments():
    m = metrics.OneHotIoU(3, [0, 2], name="oh", ignore_class=1, sparse_y_pred=True, axis=-1)
    config = m.get_config()
    assert "sparse_y_true" not in config
    assert config == {"num_classes": 3, "target_class_ids": [0, 2], "ignore_class": 1, "sparse_y_pred": True,
                      "axis": -1, "name": "oh", "dtype": "float32"}
    assert metrics.OneHotIoU.from_config(json.loads(json.dumps(config))).get_config() == config
    with pytest.raises(ValueError, match="num_classes"):
        metrics.OneHotIoU(num_classes=None, target_class_ids=[0])
    with pytest.raises(ValueError, match="num_classes"):
        metrics.OneHotIoU(num_classes=0, target_class_ids=[0])
    with pytest.raises(ValueError, match="target_class_ids"):
        metrics.OneHotIoU(num_classes=3, target_class_ids=[3])
    with pytest.raises(TypeError, match="target_class_ids"):
        metrics.OneHotIoU(3)


# --------------------------------------------------------------------------- correlation

YT = np.array([[0, 1, 0.5], [1, 1, 0.2], [1, 1, 0.1], [0.1, 0.7, 0.0]], dtype="float32")
YP = np.array([[0.1, 0.9, 0.5], [1, 0.9, 0.2], [0.2, 0.8, 0], [0.3, 0.3, 0.9]], dtype="float32")


def test_correlation_functions_against_numpy_and_keras_numbers():
    pcc = metrics.pearson_correlation(T(YT), T(YP))
    ccc = metrics.concordance_correlation(T(YT), T(YP))
    np.testing.assert_allclose(pcc.numpy(), np_pearson(YT, YP), rtol=1e-5)
    np.testing.assert_allclose(ccc.numpy(), np_ccc(YT, YP), rtol=1e-5)
    np.testing.assert_allclose(ccc.numpy(), [0.97560976, 0.98765432, 0.46511628, -0.46376812], rtol=1e-5)
    # axis=0: one coefficient per column
    np.testing.assert_allclose(metrics.pearson_correlation(T(YT), T(YP), axis=0).numpy(),
                               np_pearson(YT.T, YP.T), rtol=1e-5)
    # a tuple of axes on (batch, 2, 3) equals the flattened (batch, 6) computation
    a, b = np.random.default_rng(2).random((2, 3, 2, 3)).astype("float32")
    np.testing.assert_allclose(metrics.concordance_correlation(T(a), T(b), axis=(1, 2)).numpy(),
                               np_ccc(a.reshape(3, 6), b.reshape(3, 6)), rtol=1e-5)


@pytest.mark.parametrize("cls, fn", [(metrics.PearsonCorrelation, np_pearson), (metrics.ConcordanceCorrelation, np_ccc)])
def test_correlation_metrics_average_per_sample_values_over_batches(cls, fn):
    m = cls()
    m.update_state(T(YT[:1]), T(YP[:1]))
    m.update_state(T(YT[1:]), T(YP[1:]))
    expected = fn(YT, YP)
    assert float(m.result()) == pytest.approx(expected.mean(), rel=1e-5)  # not (v0 + mean(v1:)) / 2
    weights = np.array([1.0, 0.0, 2.0, 1.0], dtype="float32")
    m.reset_state()
    assert float(m.result()) == 0.0
    m.update_state(T(YT), T(YP), sample_weight=T(weights))
    assert float(m.result()) == pytest.approx((expected * weights).sum() / weights.sum(), rel=1e-5)
    assert m.direction == "up" and metrics.direction("val_" + m.name) == "up"


def test_correlation_on_1d_inputs_is_one_value_per_batch():
    m = metrics.PearsonCorrelation()
    a1, b1 = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 5.0])
    a2, b2 = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    m.update_state(T(a1), T(b1))
    m.update_state(T(a2), T(b2))
    expected = (np.corrcoef(a1, b1)[0, 1] + np.corrcoef(a2, b2)[0, 1]) / 2
    assert float(m.result()) == pytest.approx(expected, rel=1e-5)


def test_correlation_on_constant_inputs_is_zero_never_nan():
    const = T([[2.0, 2.0, 2.0], [1.0, 1.0, 1.0]])
    varying = T([[0.1, 0.5, 0.9], [0.3, 0.2, 0.1]])
    for fn in (metrics.pearson_correlation, metrics.concordance_correlation):
        for a, b in ((const, varying), (varying, const), (const, const), (const, const + 1.0)):
            out = fn(a, b)
            assert torch.isfinite(out).all() and out.tolist() == [0.0, 0.0]
    m = metrics.PearsonCorrelation()
    m.update_state(T(YT), T(YP))
    m.update_state(T([[0.1, 0.5, 0.9], [2.0, 2.0, 2.0]]), T([[0.2, 0.4, 0.6], [0.1, 0.5, 0.9]]))
    # Keras's test: the constant row counts as 0 in the running mean
    expected = np.concatenate([np_pearson(YT, YP), [1.0, 0.0]]).mean()
    assert float(m.result()) == pytest.approx(expected, rel=1e-5)
    one_column = metrics.ConcordanceCorrelation()  # (batch, 1) outputs: one-element rows -> 0, as in Keras
    assert float(one_column(T([[1.0], [2.0]]), T([[1.5], [2.5]]))) == 0.0


def test_correlation_config_round_trip_and_bad_axis():
    m = metrics.ConcordanceCorrelation(axis=(1, 2), name="ccc", dtype="float64")
    config = json.loads(json.dumps(m.get_config()))
    assert config == {"name": "ccc", "dtype": "float64", "axis": [1, 2]}
    clone = metrics.ConcordanceCorrelation.from_config(config)
    a, b = torch.rand(2, 2, 3, 4, generator=torch.Generator().manual_seed(0))
    assert clone.axis == (1, 2) and float(clone(a, b)) == pytest.approx(float(m(a, b)))
    assert metrics.PearsonCorrelation().get_config() == {"name": "pearson_correlation", "dtype": "float32", "axis": -1}
    for bad in ("last", 1.0, (), (0, "1"), True):
        with pytest.raises(ValueError, match="axis"):
            metrics.PearsonCorrelation(axis=bad)


# --------------------------------------------------------------------------- function forms, registry

def test_function_forms_are_the_per_sample_loss_functions():
    y_true, y_pred = T([[0.0, 1.0], [0.0, 0.0]]), T([[0.6, 0.4], [0.4, 0.6]])
    # Keras documents huber = 0.155 for these: per sample (0.18 + 0.18) / 2 and (0.08 + 0.18) / 2
    np.testing.assert_allclose(metrics.huber(y_true, y_pred).numpy(), [0.18, 0.13], rtol=1e-6)
    bce = metrics.binary_crossentropy(y_true, y_pred)
    expected = -(np.log([[0.4, 0.4], [0.6, 0.4]])).mean(1)
    np.testing.assert_allclose(bce.numpy(), expected, rtol=1e-5)
    assert metrics.sparse_categorical_crossentropy(T([1, 0]), y_pred).shape == (2,)
    assert metrics.categorical_crossentropy(T([[0.0, 1.0], [1.0, 0.0]]), y_pred).shape == (2,)
    for name in ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
                 "binary_focal_crossentropy", "categorical_focal_crossentropy", "huber"):
        assert getattr(metrics, name) is getattr(losses, name)


def test_registry_names_directions_and_function_metrics():
    assert type(metrics.get("binary_io_u")) is metrics.BinaryIoU
    assert metrics.get("pearson_correlation").name == "pearson_correlation"
    assert type(metrics.get("ConcordanceCorrelation")) is metrics.ConcordanceCorrelation
    assert [metrics.direction(n) for n in ("binary_io_u", "val_concordance_correlation", "huber")] == ["up", "up", "down"]
    m = metrics.get("huber")
    y_true, y_pred = T([[0.0, 1.0], [0.0, 0.0]]), T([[0.6, 0.4], [0.4, 0.6]])
    assert m.name == "huber" and m.direction == "down"
    assert float(m(y_true, y_pred)) == pytest.approx(0.155)
    assert metrics.get(metrics.huber).direction == "down"
    with pytest.raises(ValueError, match="Unknown metric"):
        metrics.get("one_hot_io_u_typo")


@pytest.mark.parametrize("metric", [
    metrics.BinaryIoU(target_class_ids=[1], threshold=0.2),
    metrics.OneHotIoU(4, [1, 3], ignore_class=0),
    metrics.OneHotMeanIoU(3, name="ohm"),
    metrics.PearsonCorrelation(axis=0),
    metrics.ConcordanceCorrelation(name="c"),
    metrics.MeanAbsoluteError(),
])
def test_deserialize_is_the_inverse_of_serialize(metric):
    saved = json.loads(json.dumps(metrics.serialize(metric)))
    clone = metrics.deserialize(saved)
    assert type(clone) is type(metric) and clone.get_config() == metric.get_config()
    keras_style = {"module": "keras.metrics", "class_name": saved["class_name"], "config": saved["config"],
                   "registered_name": None}
    assert metrics.deserialize(keras_style).get_config() == metric.get_config()


def test_deserialize_names_functions_custom_objects_and_errors():
    assert (type(metrics.deserialize("mse")).__name__, metrics.deserialize("mse").name) == ("MeanSquaredError", "mse")
    assert metrics.serialize(metrics.huber) == "huber" and metrics.serialize(metrics.get(metrics.huber)) == "huber"
    fn_metric = metrics.deserialize({"class_name": "function", "config": "huber"})
    assert fn_metric.name == "huber" and fn_metric.fn is losses.huber

    class Custom(metrics.Mean):
        pass

    restored = metrics.deserialize({"class_name": "Custom", "config": {"name": "cm"}}, custom_objects={"Custom": Custom})
    assert type(restored) is Custom and restored.name == "cm"
    with pytest.raises(ValueError, match="Unknown metric class"):
        metrics.deserialize({"class_name": "NoSuchMetric", "config": {}})
    with pytest.raises(ValueError, match="class_name"):
        metrics.deserialize({"config": {}})
    with pytest.raises(TypeError):
        metrics.deserialize(3)


# --------------------------------------------------------------------------- compile / fit / evaluate / save

def frozen_model(units, activation=None):
    model = easynn.Sequential([easynn.Input(shape=(4,)), easynn.layers.Dense(units, activation=activation)])
    return model


def test_correlation_and_function_metrics_in_fit_evaluate_and_saving(tmp_path):
    easynn.utils.set_random_seed(0)
    x = torch.randn(20, 4)
    y = x[:, :3] * 0.5 + 0.1 * torch.randn(20, 3)
    model = frozen_model(3)
    model.compile(optimizer=easynn.optimizers.SGD(0.0), loss="mse",
                  metrics=["pearson_correlation", metrics.ConcordanceCorrelation(name="ccc"), metrics.huber])
    history = model.fit(x, y, batch_size=6, epochs=1, verbose=0)
    with torch.no_grad():
        pred = model(x)
    expected = {
        "pearson_correlation": np_pearson(y.numpy(), pred.numpy()).mean(),
        "ccc": np_ccc(y.numpy(), pred.numpy()).mean(),
        "huber": losses.huber(y, pred).mean().item(),
    }
    for name, value in expected.items():
        assert history.history[name][0] == pytest.approx(value, rel=1e-4)
    result = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, rel=1e-4)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = easynn.load_model(path)
    again = loaded.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    assert again == pytest.approx(result, rel=1e-5)


def test_iou_metrics_in_fit_evaluate_and_saving(tmp_path):
    easynn.utils.set_random_seed(1)
    x = torch.randn(16, 4)
    labels = (x[:, 0] > 0).long()
    one_hot = torch.nn.functional.one_hot(labels, 2).float()
    model = frozen_model(2, "softmax")
    model.compile(optimizer=easynn.optimizers.SGD(0.0), loss="categorical_crossentropy",
                  metrics=[metrics.OneHotIoU(2, [0, 1]), metrics.OneHotMeanIoU(2)])
    history = model.fit(x, one_hot, batch_size=5, epochs=1, verbose=0)
    with torch.no_grad():
        predicted = model(x).argmax(1).numpy()
    expected = np_iou(confusion(labels.numpy(), predicted, 2), [0, 1])
    assert history.history["one_hot_io_u"][0] == pytest.approx(expected, rel=1e-5)
    assert history.history["one_hot_mean_io_u"][0] == pytest.approx(expected, rel=1e-5)

    binary = frozen_model(1, "sigmoid")
    binary.compile(optimizer=easynn.optimizers.SGD(0.0), loss="binary_crossentropy",
                   metrics=["binary_io_u", metrics.BinaryIoU(target_class_ids=[1], threshold=0.4, name="iou_pos")])
    result = binary.evaluate(x, labels.float().unsqueeze(1), batch_size=6, verbose=0, return_dict=True)
    with torch.no_grad():
        scores = binary(x)[:, 0].numpy()
    cm_half = confusion(labels.numpy(), (scores >= 0.5).astype(int), 2)
    cm_low = confusion(labels.numpy(), (scores >= 0.4).astype(int), 2)
    assert result["binary_io_u"] == pytest.approx(np_iou(cm_half, [0, 1]), rel=1e-5)
    assert result["iou_pos"] == pytest.approx(np_iou(cm_low, [1]), rel=1e-5)
    path = tmp_path / "b.keras"
    binary.save(path)
    again = easynn.load_model(path).evaluate(x, labels.float().unsqueeze(1), batch_size=6, verbose=0, return_dict=True)
    assert again == pytest.approx(result, rel=1e-6)
