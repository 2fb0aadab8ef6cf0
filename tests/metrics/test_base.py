"""Metric base class: Keras 3's add_variable/update_state/result contract, variables, devices,
and a custom metric written as in the keras-io guides used by compile/fit/evaluate."""

import numpy as np
import pytest
import torch

import easynn
from easynn import metrics


class CategoricalTruePositives(metrics.Metric):
    """The keras-io guide's custom metric (training_with_built_in_methods)."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = torch.reshape(torch.argmax(y_pred, dim=1), (-1, 1))
        values = (y_true.reshape(-1, 1).int() == y_pred.int()).float()
        if sample_weight is not None:
            values = values * sample_weight.reshape(-1, 1).float()
        self.true_positives.assign_add(values.sum())

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_custom_metric_standalone_call_reset_and_variables():
    m = CategoricalTruePositives()
    out = m(torch.tensor([0, 1, 1]), torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]))
    assert float(out) == 2.0 and m.name == "categorical_true_positives" and m.dtype == "float32"
    assert [v.name for v in m.variables] == ["ctp"] and m.variables[0] is m.true_positives
    m.update_state(torch.tensor([0]), torch.tensor([[1.0, 0.0]]), sample_weight=torch.tensor([3.0]))
    assert float(m.result()) == 5.0 and m.true_positives.numpy() == np.float32(5.0)
    m.reset_state()
    assert float(m.result()) == 0.0
    assert metrics.serialize(m) == {"class_name": "CategoricalTruePositives",
                                    "config": {"name": "categorical_true_positives", "dtype": "float32"}}


def test_custom_metric_in_fit_logs_and_evaluate():
    torch.manual_seed(0)
    x = torch.randn(32, 4)
    y = (x[:, 0] > 0).long()
    model = easynn.Sequential([easynn.Input(shape=(4,)), easynn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=[CategoricalTruePositives(), "accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(history.history["categorical_true_positives"]) == 2
    result = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    with torch.no_grad():
        hits = (model(x).argmax(1) == y).sum().item()
    assert result["categorical_true_positives"] == hits  # reset at the start of evaluate, summed over batches
    assert result["accuracy"] == pytest.approx(hits / 32)


def test_add_variable_shapes_initializers_and_errors():
    m = metrics.Metric(name="m")
    v = m.add_variable((2, 3), "ones", dtype="float64", name="v")
    assert v.shape == (2, 3) and v.dtype == torch.float64 and float(v.value.sum()) == 6.0
    w = m.add_weight(name="w", shape=(2,), initializer=4.0)
    assert w.tolist() == [4.0, 4.0] and m.variables == [v, w]
    m.reset_state()
    assert float(v.value.sum()) == 0.0 and float(w.value.sum()) == 0.0
    with pytest.raises(ValueError, match="aggregation"):
        m.add_variable((), "zeros", aggregation="max")

    class Forgot(metrics.Metric):
        def __init__(self):
            self.v = self.add_variable((), "zeros")

    with pytest.raises(RuntimeError, match="super"):
        Forgot()
    with pytest.raises(NotImplementedError):
        metrics.Metric().result()


def test_variables_are_tensors_that_keep_their_identity_when_moved():
    m = metrics.Mean()
    total = m.total
    m.to("meta")
    assert total.device.type == "meta" and m.total is total
    m = metrics.Mean()
    m.update_state(torch.tensor([1.0, 2.0]))
    # the training loop sums variables across processes in place: copy_ must reach the metric
    for v in m.variables:
        v.copy_(v.detach() * 2)
    assert float(m.result()) == pytest.approx(1.5) and float(m.total) == 6.0


def test_sub_metrics_are_tracked():
    class Both(metrics.Metric):
        def __init__(self):
            super().__init__(name="both")
            self.a, self.b = metrics.Mean(), metrics.Sum()

        def update_state(self, values):
            self.a.update_state(values)
            self.b.update_state(values)

        def result(self):
            return self.a.result() + self.b.result()

    m = Both()
    assert float(m(torch.tensor([1.0, 3.0]))) == 6.0 and len(m.variables) == 3
    m.reset_state()
    assert float(m.result()) == 0.0


def test_variable_arithmetic_and_torch_functions():
    m = metrics.Metric()
    v = m.add_variable((2,), "zeros", name="v")
    v.assign(torch.tensor([1.0, 4.0]))
    assert (v + 1).tolist() == [2.0, 5.0] and (2 * v).tolist() == [2.0, 8.0] and torch.sqrt(v).tolist() == [1.0, 2.0]
    v.assign_sub(torch.tensor([1.0, 1.0]))
    assert v.tolist() == [0.0, 3.0] and f"{v[1]:.1f}" == "3.0"


def test_a_result_returning_a_variable_gives_a_tensor_copy():
    m = CategoricalTruePositives()
    first = m(torch.tensor([1]), torch.tensor([[0.1, 0.9]]))
    assert isinstance(first, torch.Tensor) and float(first) == 1.0
    m.update_state(torch.tensor([1]), torch.tensor([[0.1, 0.9]]))
    assert float(first) == 1.0 and float(m.result()) == 2.0  # the earlier result did not change


def test_custom_metric_survives_save_and_load_with_custom_objects(tmp_path):
    x = torch.randn(8, 4)
    y = torch.randint(0, 2, (8,))
    model = easynn.Sequential([easynn.Input(shape=(4,)), easynn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=[CategoricalTruePositives(), metrics.AUC(curve="PR", num_thresholds=50)])
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = easynn.load_model(path, custom_objects={"CategoricalTruePositives": CategoricalTruePositives})
    result = loaded.evaluate(x, y, verbose=0, return_dict=True)
    with torch.no_grad():
        hits = (loaded(x).argmax(1) == y).sum().item()
    assert result["categorical_true_positives"] == hits and "auc" in result
    with pytest.raises(Exception, match="CategoricalTruePositives"):
        easynn.load_model(path)
