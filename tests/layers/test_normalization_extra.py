"""GroupNormalization against torch's group_norm and a NumPy reference; UnitNormalization against x / ||x||."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import easynn
from easynn.layers import Dense, Flatten, Input
from easynn.layers.normalization_extra import GroupNormalization, UnitNormalization
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomize(layer):
    layer.set_weights(
        [
            np.random.RandomState(i).uniform(0.5, 1.5, w.shape).astype(np.float32)
            for i, w in enumerate(layer.get_weights())
        ]
    )


@pytest.mark.parametrize(
    "make, in_shape, params",
    [
        (lambda: GroupNormalization(groups=2), (3, 8), 2 * 8),
        (lambda: GroupNormalization(groups=4), (2, 5, 5, 8), 2 * 8),
        (lambda: GroupNormalization(groups=3, axis=1), (2, 6, 4, 4), 2 * 6),
        (lambda: GroupNormalization(groups=-1, center=False), (2, 4, 6), 6),
        (lambda: GroupNormalization(groups=1, scale=False, center=False), (2, 4, 6), 0),
        (lambda: UnitNormalization(), (2, 5), 0),
        (lambda: UnitNormalization(axis=[1, 2]), (2, 3, 4), 0),
    ],
)
def test_shapes_params_config(make, in_shape, params):
    check_layer(make(), torch.randn(in_shape), in_shape, params)


def test_group_norm_weights_are_gamma_then_beta():
    layer = GroupNormalization(groups=2)
    layer(torch.randn(2, 4))
    assert layer.trainable_weights[0] is layer.gamma and layer.trainable_weights[1] is layer.beta
    np.testing.assert_array_equal(np.stack(layer.get_weights()), [[1, 1, 1, 1], [0, 0, 0, 0]])
    assert [name for name, _ in layer.named_parameters()] == ["gamma", "beta"]


@pytest.mark.parametrize(
    "shape, groups, axis",
    [
        ((4, 6), 3, -1),
        ((3, 5, 8), 4, -1),
        ((2, 4, 4, 6), 2, -1),
        ((2, 3, 3, 2, 4), 2, -1),
        ((2, 6, 5), 3, 1),
        ((2, 6, 3, 3), 6, 1),
        ((2, 3, 8, 4), 2, 2),
    ],
)
def test_group_norm_matches_torch_group_norm(shape, groups, axis):
    layer = GroupNormalization(groups=groups, axis=axis)
    x = torch.randn(shape) * 3 + 2
    layer(x)
    _randomize(layer)
    gamma, beta = (torch.as_tensor(w) for w in layer.get_weights())
    expected = F.group_norm(x.movedim(axis, 1), groups, gamma, beta, eps=1e-3).movedim(1, axis)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)


def test_group_norm_matches_numpy_by_hand():
    # channels_last (2, 3, 4) with 2 groups of 2 channels: statistics over 3 steps x 2 channels.
    x = np.random.RandomState(1).normal(size=(2, 3, 4)).astype(np.float64)
    layer = GroupNormalization(groups=2, epsilon=0.1, dtype="float64")
    layer(torch.as_tensor(x))
    gamma, beta = np.array([0.5, 1.0, 1.5, 2.0]), np.array([0.1, -0.2, 0.3, 0.0])
    layer.set_weights([gamma, beta])
    grouped = x.reshape(2, 3, 2, 2)  # (batch, steps, group, channel in group)
    mean = grouped.mean(axis=(1, 3), keepdims=True)
    var = grouped.var(axis=(1, 3), keepdims=True)
    expected = ((grouped - mean) / np.sqrt(var + 0.1)).reshape(2, 3, 4) * gamma + beta
    np.testing.assert_allclose(layer(torch.as_tensor(x)).detach().numpy(), expected, rtol=1e-12, atol=1e-12)


def test_group_norm_minus_one_is_instance_norm_and_gradcheck():
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    layer = GroupNormalization(groups=-1, dtype="float64")
    torch.testing.assert_close(layer(x), F.instance_norm(x.movedim(-1, 1), eps=1e-3).movedim(1, -1))
    assert layer.get_config()["groups"] == -1
    assert torch.autograd.gradcheck(lambda t: layer(t), (x,))


def test_group_norm_all_zero_input_gives_beta_and_finite_gradients():
    layer = GroupNormalization(groups=2, beta_initializer="ones")
    x = torch.zeros(3, 4, 4, requires_grad=True)
    y = layer(x)
    torch.testing.assert_close(y, torch.ones_like(y))
    (y * torch.randn_like(y)).sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(layer.gamma.grad).all()


def test_group_norm_regularizers_add_losses():
    layer = GroupNormalization(groups=2, gamma_regularizer=easynn.regularizers.l2(0.5), beta_regularizer="l1")
    layer(torch.randn(2, 4))
    torch.testing.assert_close(sum(layer.losses), torch.tensor(0.5 * 4))  # 0.5 * sum(1^2) + l1(0s)


@pytest.mark.parametrize(
    "make, x, error, name",
    [
        (lambda: GroupNormalization(groups=3), torch.zeros(2, 4), ValueError, "groups"),
        (lambda: GroupNormalization(groups=8), torch.zeros(2, 4), ValueError, "groups"),
        (lambda: GroupNormalization(groups=0), None, ValueError, "groups"),
        (lambda: GroupNormalization(groups=2.0), None, ValueError, "groups"),
        (lambda: GroupNormalization(epsilon=0), None, ValueError, "epsilon"),
        (lambda: GroupNormalization(groups=1, axis=0), torch.zeros(2, 4), ValueError, "axis"),
        (lambda: GroupNormalization(groups=1, axis=3), torch.zeros(2, 4), ValueError, "axis"),
        (lambda: GroupNormalization(axis="channels"), None, TypeError, "axis"),
        (lambda: UnitNormalization(axis=2), torch.zeros(2, 4), ValueError, "axis"),
        (lambda: UnitNormalization(axis=1.0), None, TypeError, "axis"),
    ],
)
def test_bad_arguments_name_the_argument(make, x, error, name):
    with pytest.raises(error, match=f"`{name}`"):
        layer = make()
        layer(x)


def test_group_norm_rejects_other_channel_count_after_build():
    layer = GroupNormalization(groups=2)
    layer(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"built for inputs of shape \(2, 4\)"):
        layer(torch.zeros(2, 6))


@pytest.mark.parametrize("axis, dims", [(-1, (-1,)), (1, (1,)), ([1, 2], (1, 2))])
def test_unit_norm_is_x_over_its_norm(axis, dims):
    x = torch.randn(3, 4, 5)
    y = UnitNormalization(axis=axis)(x)
    torch.testing.assert_close(y, x / x.norm(dim=dims, keepdim=True))
    torch.testing.assert_close(y.norm(dim=dims), torch.ones(y.norm(dim=dims).shape))


def test_unit_norm_zero_rows_and_integer_inputs():
    x = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]], requires_grad=True)
    y = UnitNormalization()(x)
    torch.testing.assert_close(y, torch.tensor([[0.0, 0.0, 0.0], [1 / 3, 2 / 3, 2 / 3]]))
    y.sum().backward()
    assert torch.isfinite(x.grad).all()
    torch.testing.assert_close(UnitNormalization()(torch.tensor([[3, 4]])), torch.tensor([[0.6, 0.8]]))


def test_save_and_load_in_a_sequential(tmp_path):
    model = easynn.Sequential(
        [
            Input(shape=(3, 3, 4)),
            GroupNormalization(groups=2),
            UnitNormalization(axis=[1, 2]),
            Flatten(),
            Dense(2),
        ]
    )
    _randomize(model.layers[0])
    x = torch.randn(5, 3, 3, 4)
    model.save(tmp_path / "norm.keras")
    restored = easynn.models.load_model(tmp_path / "norm.keras")
    assert [type(layer).__name__ for layer in restored.layers] == [type(layer).__name__ for layer in model.layers]
    for old, new in zip(model.layers, restored.layers):
        assert new.get_config() == old.get_config()
    for old, new in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(new, old)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)


def test_group_normalization_constraints_project_after_each_step_and_round_trip():
    import numpy as np

    import easynn
    from easynn import constraints
    from easynn.layers import GroupNormalization

    layer = GroupNormalization(groups=2, gamma_constraint=constraints.NonNeg(), beta_constraint="unit_norm")
    model = easynn.Sequential([easynn.Input((6, 4)), layer])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=5.0), loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(16, 6, 4)).astype("float32"), -5 * np.ones((16, 6, 4), "float32"), epochs=2, verbose=0)
    gamma, beta = layer.get_weights()
    assert (gamma >= 0).all()
    assert np.linalg.norm(beta) == pytest.approx(1.0, rel=1e-5)
    clone = GroupNormalization.from_config(layer.get_config())
    assert isinstance(clone.gamma_constraint, constraints.NonNeg)
    assert isinstance(clone.beta_constraint, constraints.UnitNorm)
