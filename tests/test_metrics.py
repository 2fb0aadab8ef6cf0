import pytest
import torch
import torch.nn.functional as F

from easynn import metrics


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ----------------------------------------------------------------- "accuracy" resolution (Keras 3 rule)

@pytest.mark.parametrize("yt,yp,cls", [
    ((None, 1), (None, 1), metrics.BinaryAccuracy),
    ((None,), (None, 1), metrics.BinaryAccuracy),
    ((None,), (None, 10), metrics.SparseCategoricalAccuracy),
    ((None, 1), (None, 10), metrics.SparseCategoricalAccuracy),
    ((None, 10), (None, 10), metrics.CategoricalAccuracy),
    ((None, 5), (None, 5), metrics.CategoricalAccuracy),
    ((32, 7), (32, 7, 4), metrics.SparseCategoricalAccuracy),
])
@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_accuracy_resolution(yt, yp, cls, name):
    m = metrics.get(name, y_true_shape=yt, y_pred_shape=yp)
    assert type(m) is cls and m.name == name


def test_accuracy_without_shapes_resolves_on_first_update():
    m = metrics.get("acc")
    assert m.name == "acc" and m.variables == []
    m.update_state(torch.tensor([1, 0]), torch.tensor([[0.2, 0.8], [0.3, 0.7]]))
    assert float(m.result()) == 0.5 and len(m.variables) == 2
    m.reset_state()
    m.update_state(torch.tensor([1]), torch.tensor([[0.2, 0.8]]))
    assert float(m.result()) == 1.0


def test_crossentropy_resolution():
    m = metrics.get("crossentropy", (None,), (None, 3))
    assert type(m) is metrics.SparseCategoricalCrossentropy and m.name == "crossentropy"
    assert type(metrics.get("ce", (None, 1), (None, 1))) is metrics.BinaryCrossentropy


# ----------------------------------------------------------------- values against torch

def test_accuracy_functions():
    p = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    y = torch.tensor([1, 1, 2])
    torch.testing.assert_close(metrics.sparse_categorical_accuracy(y, p), torch.tensor([1.0, 0.0, 1.0]))
    torch.testing.assert_close(metrics.sparse_categorical_accuracy(y[:, None].float(), p), torch.tensor([1.0, 0.0, 1.0]))
    torch.testing.assert_close(metrics.categorical_accuracy(F.one_hot(y, 3), p), torch.tensor([1.0, 0.0, 1.0]))
    torch.testing.assert_close(metrics.binary_accuracy(torch.tensor([[1.0], [0.0], [1.0]]), torch.tensor([[0.6], [0.5], [0.4]])),
                               torch.tensor([1.0, 1.0, 0.0]))  # 0.5 is not > 0.5
    torch.testing.assert_close(metrics.binary_accuracy(torch.tensor([1.0, 0.0]), torch.tensor([[0.9], [0.9]]), threshold=0.95),
                               torch.tensor([0.0, 1.0]))
    torch.testing.assert_close(metrics.binary_accuracy(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.9, 0.9]])),
                               torch.tensor([0.5]))
    torch.testing.assert_close(metrics.accuracy(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4])), torch.tensor([1.0, 1.0, 0.0]))


def test_top_k():
    p = torch.tensor([[0.1, 0.5, 0.3, 0.1], [0.4, 0.3, 0.2, 0.1]])
    y = torch.tensor([2, 3])
    torch.testing.assert_close(metrics.sparse_top_k_categorical_accuracy(y, p, k=2), torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(metrics.top_k_categorical_accuracy(F.one_hot(y, 4), p, k=3), torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(metrics.sparse_top_k_categorical_accuracy(y, p), torch.tensor([1.0, 1.0]))  # k=5 > C
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state(y, p)
    assert float(m.result()) == 0.0 and m.name == "sparse_top_k_categorical_accuracy"
    assert metrics.TopKCategoricalAccuracy(2).get_config() == {"name": "top_k_categorical_accuracy", "dtype": "float32", "k": 2}


def test_regression_metrics_against_torch():
    yt, yp = torch.randn(6, 3), torch.randn(6, 3)
    m = metrics.get("mse")
    m.update_state(yt[:4], yp[:4])
    m.update_state(yt[4:], yp[4:])
    assert m.name == "mse"
    torch.testing.assert_close(m.result(), F.mse_loss(yp, yt))
    m = metrics.MeanAbsoluteError()
    m.update_state(yt, yp)
    assert m.name == "mean_absolute_error"
    torch.testing.assert_close(m.result(), F.l1_loss(yp, yt))


def test_crossentropy_metric():
    z = torch.randn(5, 3)
    y = torch.randint(0, 3, (5,))
    m = metrics.SparseCategoricalCrossentropy(from_logits=True)
    m.update_state(y, z)
    torch.testing.assert_close(m.result(), F.cross_entropy(z, y))


# ----------------------------------------------------------------- accumulation

def test_uneven_last_batch_gives_accuracy_over_all_samples():
    n, c = 10, 3
    p = torch.softmax(torch.randn(n, c), -1)
    y = torch.randint(0, c, (n,))
    m = metrics.get("accuracy", (None,), (None, c))
    for start in range(0, n, 4):  # batches of 4, 4, 2
        m.update_state(y[start:start + 4], p[start:start + 4])
    expected = (p.argmax(-1) == y).float().mean()
    torch.testing.assert_close(m.result(), expected)
    # the mean of per-batch means would be different here
    batch_means = torch.stack([(p[s:s + 4].argmax(-1) == y[s:s + 4]).float().mean() for s in range(0, n, 4)])
    assert not torch.isclose(batch_means.mean(), expected)


def test_sample_weighted_mean_and_reset():
    m = metrics.Mean()
    m.update_state(torch.tensor([1.0, 2.0, 3.0]), sample_weight=torch.tensor([1.0, 0.0, 3.0]))
    m.update_state(torch.tensor([[5.0]]), sample_weight=torch.tensor([[2.0]]))
    assert float(m.result()) == pytest.approx((1 + 9 + 10) / 6)
    total, count = m.variables
    m.reset_state()
    assert float(m.result()) == 0.0
    assert m.variables[0] is total and m.variables[1] is count  # zeroed in place
    acc = metrics.SparseCategoricalAccuracy()
    acc.update_state(torch.tensor([0, 1]), torch.tensor([[0.9, 0.1], [0.8, 0.2]]), sample_weight=torch.tensor([3.0, 1.0]))
    assert float(acc.result()) == pytest.approx(0.75)


def test_variables_sum_across_processes():
    # Simulate two ranks: summing their variables gives the metric over the union.
    a, b = metrics.BinaryAccuracy(), metrics.BinaryAccuracy()
    a.update_state(torch.tensor([[1.0], [1.0]]), torch.tensor([[0.9], [0.1]]))
    b.update_state(torch.tensor([[0.0]]), torch.tensor([[0.2]]))
    for va, vb in zip(a.variables, b.variables):
        va.add_(vb)  # what all_reduce(SUM) does in place
    assert float(a.result()) == pytest.approx(2 / 3)


def test_state_lives_on_update_device_and_no_host_sync():
    m = metrics.CategoricalAccuracy()
    y = torch.eye(3)
    m.update_state(y, y)
    assert all(v.device == y.device for v in m.variables)
    assert isinstance(m.result(), torch.Tensor) and m.result().dim() == 0
    m.to("cpu")
    assert m.variables[0].device.type == "cpu"
    assert float(m(y, y)) == 1.0  # __call__ updates and returns the running result


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_state():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(torch.tensor([0], device="cuda"), torch.tensor([[1.0, 0.0]], device="cuda"))
    assert m.variables[0].device.type == "cuda" and float(m.result()) == 1.0


# ----------------------------------------------------------------- get / errors / serialize

def test_get_names_and_callables():
    assert type(metrics.get("binary_accuracy")) is metrics.BinaryAccuracy
    assert type(metrics.get("SparseCategoricalAccuracy")) is metrics.SparseCategoricalAccuracy
    assert metrics.get("mae").name == "mae" and metrics.get("mean_squared_error").name == "mean_squared_error"
    m = metrics.BinaryAccuracy(threshold=0.7)
    assert metrics.get(m) is m

    def my_metric(y_true, y_pred):
        return (y_true - y_pred).abs().sum(-1)

    w = metrics.get(my_metric)
    assert w.name == "my_metric"
    w.update_state(torch.zeros(2, 2), torch.ones(2, 2), sample_weight=torch.tensor([1.0, 3.0]))
    assert float(w.result()) == 2.0


def test_get_errors():
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'.*accuracy.*binary_accuracy"):
        metrics.get("acuracy")
    with pytest.raises(TypeError, match="Could not interpret metric"):
        metrics.get(1.5)


def test_serialize_round_trip():
    for m in (metrics.BinaryAccuracy(threshold=0.3), metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")):
        back = metrics.get(metrics.serialize(m))
        assert type(back) is type(m) and back.get_config() == m.get_config()
    assert metrics.serialize(metrics.get("acc")) == "acc"
