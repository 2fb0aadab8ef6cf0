"""Keras 3's other losses (easynn/losses/margin.py, probabilistic.py, regression.py, overlap.py,
sequence.py): Keras's documented numbers, NumPy formulas, reductions, masks, extreme inputs, names."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from easynn import losses as L

EPS = 1e-7
Y_TRUE = torch.tensor([[0.0, 1.0], [0.0, 0.0]])  # the pair most of Keras's docstrings use
Y_PRED = torch.tensor([[0.6, 0.4], [0.4, 0.6]])


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _close(value, expected, tol=1e-3):
    got = value.tolist() if isinstance(value, torch.Tensor) else value
    assert got == pytest.approx(expected, abs=tol)


# ----------------------------------------------------------------------- Keras's documented numbers
def test_margin_losses_keras_numbers():
    _close(L.Hinge()(Y_TRUE, Y_PRED), 1.3)  # 0/1 labels mapped to -1/1 first
    _close(L.Hinge()(Y_TRUE, Y_PRED, sample_weight=[1.0, 0.0]), 0.55)
    _close(L.SquaredHinge()(Y_TRUE, Y_PRED), 1.86)
    _close(L.CategoricalHinge()(Y_TRUE, Y_PRED), 1.4)
    _close(L.hinge(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5, -2.0]])), [0.25])  # -1/1 labels unchanged


def test_probabilistic_losses_keras_numbers():
    _close(L.KLDivergence()(Y_TRUE, Y_PRED), 0.458)
    _close(L.KLDivergence()(Y_TRUE, Y_PRED, sample_weight=[0.8, 0.2]), 0.366)
    poisson_pred = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    _close(L.Poisson()(Y_TRUE, poisson_pred), 0.5)
    _close(L.Poisson()(Y_TRUE, poisson_pred, sample_weight=[0.8, 0.2]), 0.4)


def test_regression_losses_keras_numbers():
    _close(L.LogCosh()(Y_TRUE, torch.tensor([[1.0, 1.0], [0.0, 0.0]])), 0.108)
    _close(L.LogCosh()(Y_TRUE, torch.tensor([[1.0, 1.0], [0.0, 0.0]]), sample_weight=[0.8, 0.2]), 0.087)
    cos_true, cos_pred = torch.tensor([[0.0, 1.0], [1.0, 1.0]]), torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    _close(L.CosineSimilarity()(cos_true, cos_pred), -0.5)
    _close(L.CosineSimilarity()(cos_true, cos_pred, sample_weight=[0.8, 0.2]), -0.1)
    _close(
        L.cosine_similarity([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]),
        [0.0, -1.0, 1.0],
    )
    _close(L.MeanAbsolutePercentageError()([[2.0, 1.0], [2.0, 3.0]], [[1.0, 1.0], [1.0, 0.0]]), 50.0)
    _close(L.MeanSquaredLogarithmicError()(Y_TRUE, torch.tensor([[1.0, 1.0], [1.0, 0.0]])), 0.240)


def test_binary_focal_keras_numbers():
    _close(L.binary_focal_crossentropy(Y_TRUE, Y_PRED, gamma=2), [0.330, 0.206])
    y1, p1 = torch.tensor([0.0, 1.0, 0.0, 0.0]), torch.tensor([-18.6, 0.51, 2.94, -12.8])
    _close(L.BinaryFocalCrossentropy(gamma=2, from_logits=True)(y1, p1), 0.691)
    _close(L.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=2, from_logits=True)(y1, p1), 0.51)
    y2, p2 = torch.tensor([[0.0, 1.0], [0.0, 0.0]]), torch.tensor([[-18.6, 0.51], [2.94, -12.8]])
    _close(L.BinaryFocalCrossentropy(gamma=3, from_logits=True)(y2, p2), 0.647)
    balanced3 = L.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=3, from_logits=True)
    _close(balanced3(y2, p2), 0.482)
    _close(L.BinaryFocalCrossentropy(gamma=3, from_logits=True)(y2, p2, sample_weight=[0.8, 0.2]), 0.133)
    _close(balanced3(y2, p2, sample_weight=[0.8, 0.2]), 0.097)
    _close(L.BinaryFocalCrossentropy(gamma=4, from_logits=True, reduction="sum")(y2, p2), 1.222)
    _close(
        L.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=4, from_logits=True, reduction="sum")(y2, p2), 0.914
    )
    _close(L.BinaryFocalCrossentropy(gamma=5, from_logits=True, reduction=None)(y2, p2), [0.0017, 1.1561], 1e-4)
    _close(
        L.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=5, from_logits=True, reduction=None)(y2, p2),
        [0.0004, 0.8670],
        1e-4,
    )


def test_categorical_focal_keras_numbers():
    y_true = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    y_pred = torch.tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    _close(L.CategoricalFocalCrossentropy()(y_true, y_pred), 0.23315276, 1e-6)
    _close(L.CategoricalFocalCrossentropy()(y_true, y_pred, sample_weight=torch.tensor([0.3, 0.7])), 0.1632, 1e-4)
    _close(L.CategoricalFocalCrossentropy(reduction="sum")(y_true, y_pred), 0.46631, 1e-5)
    _close(L.CategoricalFocalCrossentropy(reduction=None)(y_true, y_pred), [3.2058331e-05, 4.6627346e-01], 1e-6)
    other = torch.tensor([[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])
    _close(L.categorical_focal_crossentropy(y_true, other), [2.63401289e-04, 6.75912094e-01], 1e-6)


def test_dice_keras_numbers():
    y_true = torch.tensor([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
    y_pred = torch.tensor([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
    per_sample = L.dice(y_true, y_pred, axis=(1, 2, 3))
    assert per_sample.shape == (2,)
    _close(per_sample, [0.5, 0.75757575], 1e-6)
    whole = L.dice(y_true, y_pred)
    assert whole.shape == ()
    _close(whole, 0.6164384, 1e-6)
    _close(L.Dice(axis=(1, 2, 3), reduction=None)(y_true, y_pred), [0.5, 0.75757575], 1e-6)
    # Tversky with alpha = beta = 0.5 is the Dice loss.
    _close(L.Tversky(axis=(1, 2, 3), reduction=None)(y_true, y_pred), [0.5, 0.75757575], 1e-6)


# ----------------------------------------------------------------------- formulas against NumPy
def _np_pair(shape=(4, 3), positive=False):
    y_true = torch.rand(shape, dtype=torch.float64)
    y_pred = torch.rand(shape, dtype=torch.float64) if positive else torch.randn(shape, dtype=torch.float64)
    return y_true, y_pred


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _np_bfc(t, z, gamma, alpha, balance, smoothing):
    t = t * (1 - smoothing) + 0.5 * smoothing
    p = _sigmoid(z)
    c = np.clip(p, EPS, 1 - EPS)
    bce = -(t * np.log(c) + (1 - t) * np.log(1 - c))
    focal = (1 - (t * p + (1 - t) * (1 - p))) ** gamma * bce
    if balance:
        focal = (t * alpha + (1 - t) * (1 - alpha)) * focal
    return focal.mean(-1)


def _np_cfc(t, z, alpha, gamma, smoothing):
    t = t * (1 - smoothing) + smoothing / t.shape[-1]
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return (np.asarray(alpha) * (1 - p) ** gamma * -t * np.log(p)).sum(-1)


def test_formulas_match_numpy():
    t, p = _np_pair(positive=True)
    tn, pn = t.numpy(), p.numpy()
    signed = np.where(np.isin(tn, (0, 1)).all(), 2 * tn - 1, tn)
    np.testing.assert_allclose(L.hinge(t, p), np.maximum(1 - signed * pn, 0).mean(-1))
    np.testing.assert_allclose(L.squared_hinge(t, p), (np.maximum(1 - signed * pn, 0) ** 2).mean(-1))
    np.testing.assert_allclose(
        L.categorical_hinge(t, p), np.maximum(((1 - tn) * pn).max(-1) - (tn * pn).sum(-1) + 1, 0)
    )
    tc, pc = np.clip(tn, EPS, 1), np.clip(pn, EPS, 1)
    np.testing.assert_allclose(L.kl_divergence(t, p), (tc * np.log(tc / pc)).sum(-1))
    np.testing.assert_allclose(L.poisson(t, p), (pn - tn * np.log(pn + EPS)).mean(-1))
    np.testing.assert_allclose(
        L.mean_absolute_percentage_error(t, p), 100 * (np.abs(tn - pn) / np.maximum(np.abs(tn), EPS)).mean(-1)
    )
    np.testing.assert_allclose(
        L.mean_squared_logarithmic_error(t, p),
        ((np.log(np.maximum(pn, EPS) + 1) - np.log(np.maximum(tn, EPS) + 1)) ** 2).mean(-1),
    )
    np.testing.assert_allclose(L.log_cosh(t, p), np.log(np.cosh(pn - tn)).mean(-1))
    unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(L.cosine_similarity(t, p), -(unit(tn) * unit(pn)).sum(-1))
    inter = (tn * pn).sum()
    np.testing.assert_allclose(L.dice(t, p), 1 - 2 * inter / (tn.sum() + pn.sum() + EPS))
    np.testing.assert_allclose(
        L.tversky(t, p, alpha=0.3, beta=0.9),
        1 - inter / (inter + 0.3 * (tn * (1 - pn)).sum() + 0.9 * ((1 - tn) * pn).sum() + EPS),
    )


@pytest.mark.parametrize("gamma, alpha, balance, smoothing", [(2.0, 0.25, False, 0.0), (0.5, 0.7, True, 0.2)])
def test_binary_focal_matches_numpy(gamma, alpha, balance, smoothing):
    t = torch.randint(0, 2, (5, 3)).double()
    z = torch.randn(5, 3, dtype=torch.float64) * 3
    got = L.binary_focal_crossentropy(t, z, balance, alpha, gamma, from_logits=True, label_smoothing=smoothing)
    np.testing.assert_allclose(got, _np_bfc(t.numpy(), z.numpy(), gamma, alpha, balance, smoothing))
    probs = L.binary_focal_crossentropy(t, torch.sigmoid(z), balance, alpha, gamma, label_smoothing=smoothing)
    torch.testing.assert_close(probs, got)


def test_binary_focal_with_gamma_0_is_the_binary_crossentropy():
    t = torch.randint(0, 2, (6, 2)).float()
    p = torch.rand(6, 2)
    torch.testing.assert_close(L.binary_focal_crossentropy(t, p, gamma=0.0), L.binary_crossentropy(t, p))


@pytest.mark.parametrize("alpha, gamma, smoothing", [(0.25, 2.0, 0.0), ([0.2, 0.3, 0.5], 1.0, 0.1)])
def test_categorical_focal_matches_numpy(alpha, gamma, smoothing):
    t = F.one_hot(torch.randint(0, 3, (5,)), 3).double()
    z = torch.randn(5, 3, dtype=torch.float64) * 2
    got = L.CategoricalFocalCrossentropy(alpha, gamma, from_logits=True, label_smoothing=smoothing, reduction=None)(
        t, z
    )
    np.testing.assert_allclose(got, _np_cfc(t.numpy(), z.numpy(), alpha, gamma, smoothing))


def test_ctc_matches_torch_and_hand_count():
    # Uniform logits over {blank, 1, 2}, 4 steps: 15 of the 81 paths collapse to "1 2".
    assert float(L.ctc(torch.tensor([[1, 2]]), torch.zeros(1, 4, 3))[0]) == pytest.approx(-math.log(15 / 81))
    logits = torch.randn(3, 6, 5)
    labels = torch.tensor([[1, 2, 3], [4, 4, 0], [2, 0, 0]])  # 0-padded
    want = F.ctc_loss(
        logits.log_softmax(-1).transpose(0, 1), labels, torch.full((3,), 6), torch.tensor([3, 2, 1]), reduction="none"
    )
    torch.testing.assert_close(L.ctc(labels, logits), want)
    torch.testing.assert_close(L.CTC()(labels, logits), want.mean())
    torch.testing.assert_close(L.CTC()(labels, logits, sample_weight=[1.0, 0.0, 2.0]), (want[0] + 2 * want[2]) / 3)


# ----------------------------------------------------------------------- reductions and masks
def test_reductions_and_sample_weight():
    t, p = torch.rand(4, 3), torch.rand(4, 3)
    per_sample = L.kl_divergence(t, p)
    w = torch.tensor([0.5, 2.0, 0.0, 1.0])
    torch.testing.assert_close(L.KLDivergence(reduction="sum")(t, p), per_sample.sum())
    torch.testing.assert_close(L.KLDivergence(reduction="none")(t, p, w), per_sample * w)
    torch.testing.assert_close(L.KLDivergence(reduction=None)(t, p), per_sample)
    torch.testing.assert_close(L.KLDivergence()(t, p, w), (per_sample * w).sum() / 4)
    torch.testing.assert_close(
        L.KLDivergence(reduction="mean_with_sample_weight")(t, p, w), (per_sample * w).sum() / 3.5
    )
    with pytest.raises(ValueError, match="reduction"):
        L.Poisson(reduction="average")


def test_per_timestep_losses_leave_masked_steps_out():
    t, p = torch.randn(2, 5, 3), torch.randn(2, 5, 3)
    values = L.log_cosh(t, p)
    assert values.shape == (2, 5)
    mask = torch.tensor([[True, True, True, False, False], [True, False, False, False, False]])
    p._keras_mask = mask
    torch.testing.assert_close(L.LogCosh()(t, p), values[mask].sum() / 4)


def test_trailing_axis_of_one_may_differ():
    t, p = torch.rand(6), torch.rand(6, 1)
    torch.testing.assert_close(L.poisson(t, p), L.poisson(t.unsqueeze(-1), p))
    torch.testing.assert_close(L.hinge(t.unsqueeze(-1), p.squeeze(-1)), L.hinge(t, p.squeeze(-1)))


# ----------------------------------------------------------------------- extreme inputs
ALL_ELEMENTWISE = {
    "hinge": L.hinge,
    "squared_hinge": L.squared_hinge,
    "categorical_hinge": L.categorical_hinge,
    "kl_divergence": L.kl_divergence,
    "poisson": L.poisson,
    "binary_focal_crossentropy": L.binary_focal_crossentropy,
    "categorical_focal_crossentropy": L.categorical_focal_crossentropy,
    "mean_absolute_percentage_error": L.mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": L.mean_squared_logarithmic_error,
    "log_cosh": L.log_cosh,
    "cosine_similarity": L.cosine_similarity,
    "dice": L.dice,
    "tversky": L.tversky,
}


@pytest.mark.parametrize("name", list(ALL_ELEMENTWISE))
@pytest.mark.parametrize("case", ["zeros", "ones", "one_hot_wrong", "one_hot_right"])
def test_extreme_valid_inputs_give_finite_values_and_gradients(name, case):
    eye = torch.eye(3)
    y_true, y_pred = {
        "zeros": (torch.zeros(3, 3), torch.zeros(3, 3)),
        "ones": (torch.ones(3, 3), torch.ones(3, 3)),
        "one_hot_wrong": (eye, eye.roll(1, 0)),
        "one_hot_right": (eye, eye.clone()),
    }[case]
    y_pred = y_pred.requires_grad_()
    value = ALL_ELEMENTWISE[name](y_true, y_pred)
    (grad,) = torch.autograd.grad(value.sum(), y_pred)
    assert torch.isfinite(value).all() and torch.isfinite(grad).all()


@pytest.mark.parametrize(
    "loss",
    [
        L.BinaryFocalCrossentropy(from_logits=True),
        L.CategoricalFocalCrossentropy(from_logits=True),
        L.Hinge(),
        L.SquaredHinge(),
        L.CategoricalHinge(),
        L.LogCosh(),
        L.CosineSimilarity(),
    ],
    ids=lambda loss: loss.name,
)
def test_huge_logits_give_finite_values_and_gradients(loss):
    y_true = torch.eye(3)
    z = (torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [3e4, -3e4, -1e4]])).requires_grad_()
    value = loss(y_true, z)
    (grad,) = torch.autograd.grad(value, z)
    assert torch.isfinite(value) and torch.isfinite(grad).all()


def test_clipped_values_at_the_edges():
    # -log(1e-7) = 16.118: a confident wrong focal prediction is bounded like Keras's crossentropy.
    _close(L.binary_focal_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.0]]), gamma=0.0), [16.118])
    _close(L.kl_divergence(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])), [16.118])
    _close(L.cosine_similarity(torch.zeros(1, 3), torch.ones(1, 3)), [0.0])  # zero vector: 0
    _close(L.dice(torch.zeros(2, 2), torch.zeros(2, 2)), 1.0)


def test_half_precision_inputs_are_computed_in_float32():
    t, p = torch.rand(4, 3), torch.rand(4, 3)
    out = L.KLDivergence()(t.half(), p.half())
    assert out.dtype == torch.float32
    assert float(out) == pytest.approx(float(L.KLDivergence()(t.half().float(), p.half().float())), rel=1e-6)


# ----------------------------------------------------------------------- names, config, errors
CLASSES = {
    "hinge": L.Hinge,
    "squared_hinge": L.SquaredHinge,
    "categorical_hinge": L.CategoricalHinge,
    "kl_divergence": L.KLDivergence,
    "poisson": L.Poisson,
    "binary_focal_crossentropy": L.BinaryFocalCrossentropy,
    "categorical_focal_crossentropy": L.CategoricalFocalCrossentropy,
    "ctc": L.CTC,
    "mean_absolute_percentage_error": L.MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": L.MeanSquaredLogarithmicError,
    "log_cosh": L.LogCosh,
    "cosine_similarity": L.CosineSimilarity,
    "dice": L.Dice,
    "tversky": L.Tversky,
}


@pytest.mark.parametrize("name", list(CLASSES))
def test_function_and_class_names_resolve(name):
    cls = CLASSES[name]
    assert type(L.get(name)) is cls and type(L.get(cls.__name__)) is cls
    assert L.serialize(getattr(L, name)) == name
    wrapped = L.LossFunctionWrapper(getattr(L, name))
    assert L.get(L.serialize(wrapped)).fn is getattr(L, name)


@pytest.mark.parametrize(
    "alias, cls, name",
    [
        ("kld", L.KLDivergence, "kld"),
        ("KLD", L.KLDivergence, "kld"),
        ("mape", L.MeanAbsolutePercentageError, "mape"),
        ("MAPE", L.MeanAbsolutePercentageError, "mape"),
        ("msle", L.MeanSquaredLogarithmicError, "msle"),
        ("MSLE", L.MeanSquaredLogarithmicError, "msle"),
    ],
)
def test_keras_aliases(alias, cls, name):
    loss = L.get(alias)
    assert type(loss) is cls and loss.name == name
    assert L.kld is L.kl_divergence and L.mape is L.mean_absolute_percentage_error and L.MSLE is L.msle


@pytest.mark.parametrize(
    "loss",
    [
        L.Hinge(reduction="sum", name="h"),
        L.KLDivergence(reduction=None),
        L.BinaryFocalCrossentropy(True, 0.4, 1.5, True, 0.1, -1, "mean_with_sample_weight", "bf"),
        L.CategoricalFocalCrossentropy([0.1, 0.2, 0.7], 3.0, True, 0.2),
        L.CosineSimilarity(axis=0),
        L.Dice(axis=(1, 2)),
        L.Tversky(0.3, 0.7, axis=[1]),
        L.CTC(reduction="sum"),
        L.LogCosh(name="lc"),
    ],
    ids=lambda loss: type(loss).__name__,
)
def test_config_round_trip(loss):
    config = loss.get_config()
    again = type(loss).from_config(config)
    assert again.get_config() == config
    restored = L.deserialize(L.serialize(loss))
    assert type(restored) is type(loss) and restored.get_config() == config
    assert L.get({"class_name": type(loss).__name__, "config": config}).get_config() == config


def test_keras_defaults():
    assert L.BinaryFocalCrossentropy().get_config() == {
        "name": "binary_focal_crossentropy",
        "reduction": "sum_over_batch_size",
        "apply_class_balancing": False,
        "alpha": 0.25,
        "gamma": 2.0,
        "from_logits": False,
        "label_smoothing": 0.0,
        "axis": -1,
    }
    assert L.CategoricalFocalCrossentropy().get_config()["alpha"] == 0.25
    assert L.Tversky().get_config() == {
        "name": "tversky",
        "reduction": "sum_over_batch_size",
        "alpha": 0.5,
        "beta": 0.5,
        "axis": None,
    }
    assert L.Dice().get_config() == {"name": "dice", "reduction": "sum_over_batch_size", "axis": None}
    assert L.CosineSimilarity().get_config()["axis"] == -1
    assert L.Huber().name == "huber_loss" and L.LogCosh().name == "log_cosh"


def test_deserialize_custom_objects():
    class MyLoss(L.Loss):
        def call(self, y_true, y_pred):
            return (y_true - y_pred).abs()

    restored = L.deserialize({"class_name": "MyLoss", "config": {"name": "mine"}}, custom_objects={"MyLoss": MyLoss})
    assert isinstance(restored, MyLoss) and restored.name == "mine"


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(ValueError, match=r"`alpha`.*alpha=1.5"):
        L.BinaryFocalCrossentropy(alpha=1.5)
    with pytest.raises(ValueError, match=r"`gamma`.*gamma=-1"):
        L.BinaryFocalCrossentropy(gamma=-1)
    with pytest.raises(ValueError, match="`label_smoothing`"):
        L.CategoricalFocalCrossentropy(label_smoothing=2)
    with pytest.raises(ValueError, match="`from_logits`"):
        L.BinaryFocalCrossentropy(from_logits="yes")
    with pytest.raises(ValueError, match="`apply_class_balancing`"):
        L.BinaryFocalCrossentropy(apply_class_balancing=1)
    with pytest.raises(ValueError, match="`alpha`"):
        L.CategoricalFocalCrossentropy(alpha=[0.5, -0.1])
    with pytest.raises(ValueError, match=r"`beta`.*beta=-1"):
        L.Tversky(beta=-1)
    with pytest.raises(ValueError, match=r"`axis`.*axis='x'"):
        L.Dice(axis="x")
    with pytest.raises(ValueError, match="`axis`"):
        L.CosineSimilarity(axis=1.5)
    with pytest.raises(ValueError, match="`gamma`"):
        L.binary_focal_crossentropy(Y_TRUE, Y_PRED, gamma="2")


def test_shape_mistakes_raise():
    with pytest.raises(ValueError, match=r"hinge.*y_true.shape=\(4, 2\).*y_pred.shape=\(4, 3\)"):
        L.hinge(torch.ones(4, 2), torch.ones(4, 3))
    with pytest.raises(ValueError, match="one-hot"):
        L.categorical_hinge(torch.tensor([0, 2]), torch.rand(2, 3))
    with pytest.raises(ValueError, match="one-hot"):
        L.CategoricalFocalCrossentropy().check((None,), (None, 3))
    with pytest.raises(ValueError, match=r"y_true.shape=\(2, 3, 1\)"):
        L.ctc(torch.ones(2, 3, 1, dtype=torch.long), torch.zeros(2, 4, 3))
    with pytest.raises(ValueError, match=r"y_pred.shape=\(None, 4\)"):
        L.CTC().check((None, 3), (None, 4))
    L.CTC().check((None, 3), (None, 4, 5))  # the training loop's shapes: fine
    with pytest.raises(ValueError, match="same shape"):
        L.Dice().check((None, 4), (None, 5))


def test_compile_by_name_and_fit():
    import easynn
    from easynn import layers

    x = torch.randn(32, 4)
    y = F.one_hot((x[:, 0] > 0).long() + (x[:, 1] > 0).long(), 3).float()
    for loss in ("categorical_focal_crossentropy", "kld", "categorical_hinge"):
        torch.manual_seed(0)
        model = easynn.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss=loss)
        before = model.evaluate(x, y, verbose=0)
        model.fit(x, y, epochs=5, batch_size=8, verbose=0)
        assert model.evaluate(x, y, verbose=0) < before, loss
