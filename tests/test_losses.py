import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from easynn import losses


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _onehot(labels, c):
    return F.one_hot(torch.as_tensor(labels), c).float()


# ----------------------------------------------------------------- Keras formulas and clipping

def test_categorical_keras_documented_number():
    y_true = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    y_pred = torch.tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    out = losses.categorical_crossentropy(y_true, y_pred)
    assert out.shape == (2,)
    expected = torch.tensor([-math.log(0.95), -math.log(0.1)])
    torch.testing.assert_close(out, expected)
    # Keras's documented mean for this example: 1.177
    assert abs(float(losses.CategoricalCrossentropy()(y_true, y_pred)) - 1.1769392) < 1e-5


def test_categorical_renormalises_then_clips():
    y_true = torch.tensor([[0.0, 1.0]])
    out = losses.categorical_crossentropy(y_true, torch.tensor([[2.0, 2.0]]))  # sums to 4 -> 0.5
    assert abs(float(out) - math.log(2)) < 1e-6
    out = losses.categorical_crossentropy(y_true, torch.tensor([[1.0, 0.0]]))
    assert abs(float(out) - (-math.log(1e-7))) < 1e-3  # 16.118, not inf
    assert abs(float(out) - 16.118) < 1e-3


def test_sparse_matches_categorical_and_clips():
    p = torch.softmax(torch.randn(5, 4), -1)
    y = torch.tensor([0, 3, 1, 2, 3])
    torch.testing.assert_close(
        losses.sparse_categorical_crossentropy(y, p), losses.categorical_crossentropy(_onehot(y, 4), p)
    )
    zero = losses.sparse_categorical_crossentropy(torch.tensor([1]), torch.tensor([[1.0, 0.0]]))
    assert abs(float(zero) - 16.118) < 1e-3


@pytest.mark.parametrize("labels", [
    torch.tensor([0, 3, 1]), torch.tensor([[0], [3], [1]]), torch.tensor([0.0, 3.0, 1.0]),
    torch.tensor([[0.0], [3.0], [1.0]]),
])
def test_sparse_label_dtypes_and_shapes(labels):
    z = torch.randn(3, 4)
    out = losses.sparse_categorical_crossentropy(labels, z, from_logits=True)
    torch.testing.assert_close(out, F.cross_entropy(z, torch.tensor([0, 3, 1]), reduction="none"))


def test_binary_clipped_formula():
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    p = torch.tensor([[0.8, 0.0], [1.0, 0.6]])
    out = losses.binary_crossentropy(y, p)
    e = 1e-7
    pc = p.clamp(e, 1 - e)
    expected = (-(y * pc.log() + (1 - y) * (1 - pc).log())).mean(-1)
    torch.testing.assert_close(out, expected)
    # a zero probability for the true class costs -log(1e-7) = 16.118, not inf
    zero = losses.binary_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.0]]))
    assert abs(float(zero) - 16.118) < 1e-3


def test_binary_rank_difference_accepted():
    y = torch.tensor([1.0, 0.0, 1.0])
    p = torch.tensor([[0.9], [0.2], [0.3]])
    torch.testing.assert_close(losses.binary_crossentropy(y, p), losses.binary_crossentropy(y[:, None], p))


def test_regression_losses_against_torch():
    yt, yp = torch.randn(4, 3), torch.randn(4, 3)
    torch.testing.assert_close(losses.mean_squared_error(yt, yp), F.mse_loss(yp, yt, reduction="none").mean(-1))
    torch.testing.assert_close(losses.mean_absolute_error(yt, yp), F.l1_loss(yp, yt, reduction="none").mean(-1))
    torch.testing.assert_close(losses.huber(yt, yp, 0.5), F.huber_loss(yp, yt, reduction="none", delta=0.5).mean(-1))
    assert losses.mse is losses.mean_squared_error and losses.mae is losses.mean_absolute_error
    torch.testing.assert_close(losses.MeanSquaredError()(yt, yp), F.mse_loss(yp, yt))
    torch.testing.assert_close(losses.MeanAbsoluteError()(yt, yp), F.l1_loss(yp, yt))
    torch.testing.assert_close(losses.Huber(2.0)(yt, yp), F.huber_loss(yp, yt, delta=2.0))


def test_mse_1d_vs_column_and_integer_targets():
    yp = torch.tensor([[1.0], [2.0], [4.0]])
    out = losses.mean_squared_error(torch.tensor([1, 2, 3]), yp)  # int targets, (batch,) vs (batch, 1)
    torch.testing.assert_close(out, torch.tensor([0.0, 0.0, 1.0]))


# ----------------------------------------------------------------- logits forms

def test_logits_forms_match_torch_and_gradient():
    z = torch.randn(6, 5, requires_grad=True)
    y = torch.randint(0, 5, (6,))
    loss = losses.CategoricalCrossentropy(from_logits=True)(_onehot(y, 5), z)
    torch.testing.assert_close(loss, F.cross_entropy(z, y))
    (g,) = torch.autograd.grad(loss, z)
    torch.testing.assert_close(g, (torch.softmax(z, -1) - _onehot(y, 5)).detach() / 6)
    torch.testing.assert_close(losses.SparseCategoricalCrossentropy(from_logits=True)(y, z), F.cross_entropy(z, y))
    b = torch.randint(0, 2, (6, 5)).float()
    torch.testing.assert_close(
        losses.BinaryCrossentropy(from_logits=True)(b, z), F.binary_cross_entropy_with_logits(z, b)
    )


@pytest.mark.parametrize("name,kind", [
    ("categorical_crossentropy", "categorical"), ("sparse_categorical_crossentropy", "sparse_categorical"),
    ("binary_crossentropy", "binary"),
])
def test_with_logits_equals_probability_form(name, kind):
    z = torch.randn(8, 4)
    if kind == "binary":
        y, probs = torch.randint(0, 2, (8, 4)).float(), torch.sigmoid(z)
    else:
        labels = torch.randint(0, 4, (8,))
        y, probs = (labels if kind == "sparse_categorical" else _onehot(labels, 4)), torch.softmax(z, -1)
    w = torch.rand(8)
    for obj in (losses.get(name), losses.get(getattr(losses, name))):  # class and plain function
        assert obj.fused_kind == kind
        fused = obj.with_logits()
        assert fused.fused_kind is None
        torch.testing.assert_close(fused(y, z, w), obj(y, probs, w), rtol=1e-5, atol=1e-6)
        # extreme logits: finite with logits, and a large loss for a confident wrong answer
        big = z * 1e4
        out = fused(y, big, w)
        assert torch.isfinite(out) and float(out) > 100


def test_with_logits_keeps_options():
    loss = losses.CategoricalCrossentropy(label_smoothing=0.1, reduction="sum", name="cce")
    fused = loss.with_logits()
    assert fused.get_config() == {**loss.get_config(), "from_logits": True}
    assert losses.CategoricalCrossentropy(from_logits=True).fused_kind is None
    with pytest.raises(TypeError, match="from_logits"):
        losses.MeanSquaredError().with_logits()


def test_confident_wrong_logits_are_finite_with_gradient():
    z = torch.tensor([[1000.0, -1000.0]], requires_grad=True)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)(torch.tensor([1]), z)
    assert float(loss.detach()) == pytest.approx(2000.0)
    (g,) = torch.autograd.grad(loss, z)
    torch.testing.assert_close(g, torch.tensor([[1.0, -1.0]]))


def test_label_smoothing():
    y = torch.tensor([[0.0, 1.0, 0.0]])
    p = torch.tensor([[0.2, 0.7, 0.1]])
    out = losses.categorical_crossentropy(y, p, label_smoothing=0.3)
    ys = y * 0.7 + 0.1
    torch.testing.assert_close(out, -(ys * p.log()).sum(-1))
    out = losses.binary_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.7]]), label_smoothing=0.2)
    torch.testing.assert_close(out, torch.tensor([-(0.9 * math.log(0.7) + 0.1 * math.log(0.3))]))
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalCrossentropy(label_smoothing=2)


def test_sparse_ignore_class():
    z = torch.randn(4, 3)
    y = torch.tensor([0, -1, 2, -1])
    per = losses.sparse_categorical_crossentropy(y, z, from_logits=True, ignore_class=-1)
    assert float(per[1]) == 0.0 and float(per[3]) == 0.0
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)(y, z)
    torch.testing.assert_close(loss, F.cross_entropy(z, y, ignore_index=-1))


def test_sequence_targets():
    z = torch.randn(2, 5, 3)
    y = torch.randint(0, 3, (2, 5))
    per = losses.sparse_categorical_crossentropy(y, z, from_logits=True)
    assert per.shape == (2, 5)
    torch.testing.assert_close(per, F.cross_entropy(z.permute(0, 2, 1), y, reduction="none"))
    w = torch.tensor([1.0, 0.0])
    out = losses.SparseCategoricalCrossentropy(from_logits=True)(y, z, w)
    torch.testing.assert_close(out, per[0].sum() / 10)


# ----------------------------------------------------------------- reduction and sample weights

def test_reductions_and_sample_weight():
    yt = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    yp = torch.zeros(4, 1)
    w = torch.tensor([1.0, 0.5, 0.0, 2.0])
    per = torch.tensor([0.0, 1.0, 4.0, 9.0])
    assert float(losses.MeanSquaredError()(yt, yp, w)) == pytest.approx(float((per * w).sum() / 4))
    assert float(losses.MeanSquaredError(reduction="sum")(yt, yp, w)) == pytest.approx(float((per * w).sum()))
    assert float(losses.MeanSquaredError(reduction="mean")(yt, yp, w)) == pytest.approx(float((per * w).sum() / 4))
    assert float(losses.MeanSquaredError(reduction="mean_with_sample_weight")(yt, yp, w)) == pytest.approx(
        float((per * w).sum() / w.sum()))
    torch.testing.assert_close(losses.MeanSquaredError(reduction="none")(yt, yp, w), per * w)
    torch.testing.assert_close(losses.MeanSquaredError(reduction=None)(yt, yp), per)
    # (batch, 1) weights too
    assert float(losses.MeanSquaredError()(yt, yp, w[:, None])) == pytest.approx(float((per * w).sum() / 4))
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")


# ----------------------------------------------------------------- validation messages

def test_integer_labels_to_categorical_raise():
    p = torch.softmax(torch.randn(3, 4), -1)
    for y in (torch.tensor([0, 1, 2]), torch.tensor([[0], [1], [2]])):
        with pytest.raises(ValueError, match="categorical_crossentropy.*sparse_categorical_crossentropy.*to_categorical"):
            losses.categorical_crossentropy(y, p)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.get("categorical_crossentropy").check((3,), (3, 4))
    with pytest.raises(ValueError, match="same shape"):
        losses.CategoricalCrossentropy().check((3, 5), (3, 4))


def test_onehot_labels_to_sparse_raise():
    with pytest.raises(ValueError, match="one-hot.*categorical_crossentropy"):
        losses.sparse_categorical_crossentropy(_onehot([0, 1, 2], 4), torch.rand(3, 4))
    with pytest.raises(ValueError, match="one-hot"):
        losses.get("sparse_categorical_crossentropy").check((3, 4), (3, 4))
    with pytest.raises(ValueError, match=r"y_true.shape=\(5,\)"):
        losses.SparseCategoricalCrossentropy().check((5,), (3, 4))
    losses.SparseCategoricalCrossentropy().check((3, 1), (3, 4))  # fine


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"mean_squared_error.*y_true.shape=\(4, 2\).*y_pred.shape=\(4, 3\)"):
        losses.mean_squared_error(torch.zeros(4, 2), torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 3\)"):
        losses.get("mse").check((4,), (4, 3))  # would silently broadcast in torch
    for name in ("mae", "huber", "binary_crossentropy"):
        with pytest.raises(ValueError, match="same shape"):
            losses.get(name).check((4, 2), (4, 3))
    losses.get("mse").check((4,), (4, 1))  # Keras squeezes a trailing 1


# ----------------------------------------------------------------- get / serialize / wrappers

@pytest.mark.parametrize("name,cls", [
    ("categorical_crossentropy", losses.CategoricalCrossentropy), ("CategoricalCrossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("binary_crossentropy", losses.BinaryCrossentropy), ("BinaryCrossentropy", losses.BinaryCrossentropy),
    ("mean_squared_error", losses.MeanSquaredError), ("mse", losses.MeanSquaredError), ("MSE", losses.MeanSquaredError),
    ("mean_absolute_error", losses.MeanAbsoluteError), ("mae", losses.MeanAbsoluteError), ("MAE", losses.MeanAbsoluteError),
    ("huber", losses.Huber), ("Huber", losses.Huber), ("MeanSquaredError", losses.MeanSquaredError),
])
def test_get_names(name, cls):
    assert type(losses.get(name)) is cls


def test_get_errors_and_passthrough():
    with pytest.raises(ValueError, match="Unknown loss 'msee'.*categorical_crossentropy.*mean_squared_error"):
        losses.get("msee")
    with pytest.raises(TypeError, match="Could not interpret loss"):
        losses.get(3)
    obj = losses.Huber()
    assert losses.get(obj) is obj and losses.get(None) is None
    assert losses.get("mse").name == "mse" and losses.get("mean_squared_error").name == "mean_squared_error"


def test_torch_module_wrapping_swaps_arguments():
    z = torch.randn(5, 3)
    y = torch.tensor([0, 2, 1, 1, 0])
    for ident in (nn.CrossEntropyLoss(), nn.CrossEntropyLoss):
        loss = losses.get(ident)
        torch.testing.assert_close(loss(y, z), F.cross_entropy(z, y))
        torch.testing.assert_close(loss(y.float(), z), F.cross_entropy(z, y))  # float labels
        assert loss.fused_kind is None
    w = torch.tensor([1.0, 0.0, 2.0, 1.0, 0.0])
    torch.testing.assert_close(losses.get(nn.CrossEntropyLoss())(y, z, w),
                               (F.cross_entropy(z, y, reduction="none") * w).sum() / 5)
    yt, yp = torch.randn(5), torch.randn(5, 1)
    torch.testing.assert_close(losses.get(nn.MSELoss)(yt, yp), F.mse_loss(yp, yt[:, None]))
    # module(input, target) order matters for asymmetric losses
    p, t = torch.rand(4, 1), torch.randint(0, 2, (4, 1)).float()
    torch.testing.assert_close(losses.get(nn.BCELoss())(t, p), F.binary_cross_entropy(p, t))


def test_custom_function():
    def my_loss(y_true, y_pred):
        return (y_pred - y_true).abs().sum(-1)

    def scalar_loss(y_true, y_pred):
        return (y_pred - y_true).square().mean()

    yt, yp = torch.randn(4, 2), torch.randn(4, 2)
    w = torch.tensor([1.0, 0.0, 1.0, 0.0])
    loss = losses.get(my_loss)
    assert loss.name == "my_loss" and loss.fused_kind is None
    torch.testing.assert_close(loss(yt, yp, w), ((yp - yt).abs().sum(-1) * w).sum() / 4)
    torch.testing.assert_close(losses.get(scalar_loss)(yt, yp, w), F.mse_loss(yp, yt))
    loss.check((4, 9), (4, 2))  # custom: no checks


def test_serialize_round_trip():
    for loss in (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
                 losses.SparseCategoricalCrossentropy(ignore_class=0), losses.Huber(0.5, reduction="sum"),
                 losses.get("mae"), losses.get(losses.binary_crossentropy)):
        back = losses.get(losses.serialize(loss))
        assert type(back) is type(loss) and back.get_config() == loss.get_config()
    assert losses.serialize("mse") == "mse"
    assert losses.serialize(losses.huber) == "huber"
    with pytest.raises(TypeError, match="Cannot serialize"):
        losses.serialize(losses.get(nn.MSELoss()))


def test_half_precision_predictions_computed_in_float32():
    p = torch.tensor([[0.0, 1.0]], dtype=torch.float16)
    out = losses.categorical_crossentropy(torch.tensor([[1.0, 0.0]]), p)
    assert out.dtype == torch.float32 and abs(float(out) - 16.118) < 1e-3
    z = torch.randn(4, 3).bfloat16()
    y = torch.tensor([0, 1, 2, 0])
    out = losses.SparseCategoricalCrossentropy(from_logits=True)(y, z)
    torch.testing.assert_close(out, F.cross_entropy(z.float(), y))


def test_fused_clipped_sparse_crossentropy_value_and_gradient():
    """The fused node: Keras's clipped value, the exact gradient (p - onehot) / batch."""
    from easynn.losses._logits import clipped_sparse_crossentropy

    torch.manual_seed(0)
    z = torch.randn(6, 4, dtype=torch.float64) * 3
    z[0] = torch.tensor([80.0, 0.0, 0.0, 0.0], dtype=torch.float64)  # confident and wrong for label 1
    z[1] = torch.tensor([90.0, 0.0, 0.0, 0.0], dtype=torch.float64)  # confident and right for label 0
    labels = torch.tensor([1, 0, 2, 3, 0, 1])
    low, high = -math.log1p(-1e-7), -math.log(1e-7)
    z.requires_grad_(True)
    loss = clipped_sparse_crossentropy(z, labels, low, high)
    log_p = torch.log_softmax(z.detach(), 1).numpy()
    per_sample = np.clip(-log_p[np.arange(6), labels.numpy()], low, high)
    assert loss.item() == pytest.approx(per_sample.mean(), rel=1e-12)
    assert per_sample[0] == pytest.approx(high) and per_sample[1] == pytest.approx(low)
    loss.backward()
    expected = (np.exp(log_p) - np.eye(4)[labels.numpy()]) / 6
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_fused_clipped_sparse_crossentropy_second_order_and_vmap():
    from easynn.losses._logits import clipped_sparse_crossentropy

    z = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 2, 1, 1, 0])
    # Away from the clip the value is the plain crossentropy, so torch's gradcheck applies.
    assert torch.autograd.gradcheck(lambda t: clipped_sparse_crossentropy(t, labels, 0.0, 1e9), (z,))
    (grad,) = torch.autograd.grad(clipped_sparse_crossentropy(z, labels, 0.0, 1e9), z, create_graph=True)
    (hess_row,) = torch.autograd.grad(grad[0, 0], z)
    p = torch.softmax(z.detach(), 1)[0]
    assert hess_row[0, 0].item() == pytest.approx((p[0] * (1 - p[0])).item() / 5, rel=1e-9)
    batched = torch.func.vmap(lambda t: clipped_sparse_crossentropy(t, labels, 0.0, 1e9))(z.detach().expand(2, 5, 3))
    ref = torch.nn.functional.cross_entropy(z.detach(), labels)
    torch.testing.assert_close(batched, ref.expand(2))


def test_broadcastable_shapes_are_broadcast_with_a_warning_as_keras():
    """(batch, 10) targets against (batch, 1) outputs: Keras broadcasts; easynn too, and warns once."""
    y_true = torch.arange(12.0).reshape(3, 4)
    y_pred = torch.tensor([[1.0], [2.0], [3.0]])
    expected = ((y_true - y_pred) ** 2).mean()
    with pytest.warns(UserWarning, match=r"y_true.shape=\(3, 4\) and y_pred.shape=\(3, 1\): they are broadcast"):
        value = losses.MeanSquaredError()(y_true, y_pred)
    assert value.item() == pytest.approx(expected.item())
    import warnings as _warnings

    with _warnings.catch_warnings():
        _warnings.simplefilter("error")
        losses.MeanSquaredError()(y_true, y_pred)  # once per shape pair
    with pytest.raises(ValueError, match="same shape"):
        losses.MeanSquaredError()(torch.zeros(3, 4), torch.zeros(3, 2))  # does not broadcast
