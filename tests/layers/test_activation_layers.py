"""easynn.layers.activation: shapes, Keras parameter counts, configs and values."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from easynn.layers.activation import ELU, LeakyReLU, Maxout, PReLU, ReLU, Softmax
from tests.layers.layer_checks import check_layer as shared_check_layer

KERAS_INPUT = torch.tensor([-3.0, -1.0, 0.0, 2.0])


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def check_layer(layer, input_shape, output_shape, params):
    """The shared shape/parameter-count/config checks, plus: a clone with the same weights
    computes the same values."""
    x = torch.randn(*input_shape)
    y = shared_check_layer(layer, x, output_shape, params)
    clone = type(layer).from_config(layer.get_config())
    clone(x)
    if params:
        clone.set_weights(layer.get_weights())
    torch.testing.assert_close(clone(x), y)
    return y


# ------------------------------------------------------------------------------ ReLU
def test_relu_keras_examples():
    # the four examples of Keras's ReLU docstring
    assert ReLU()(KERAS_INPUT).tolist() == [0.0, 0.0, 0.0, 2.0]
    assert ReLU(max_value=1.0)(KERAS_INPUT).tolist() == [0.0, 0.0, 0.0, 1.0]
    assert ReLU(negative_slope=1.0)(KERAS_INPUT).tolist() == [-3.0, -1.0, 0.0, 2.0]
    assert ReLU(threshold=1.5)(KERAS_INPUT).tolist() == [-0.0, -0.0, -0.0, 2.0]


def test_relu_layer_shape_config_and_value():
    layer = ReLU(max_value=6.0, negative_slope=0.1)
    y = check_layer(layer, (3, 5), (3, 5), 0)
    assert layer.get_config()["max_value"] == 6.0
    assert "negative_slope=0.1" in repr(layer)
    x = torch.randn(4, 5) * 10
    torch.testing.assert_close(ReLU()(x), F.relu(x))
    torch.testing.assert_close(layer(x), torch.clamp(F.leaky_relu(x, 0.1), max=6.0))
    assert y.shape == (3, 5)


def test_relu_rejects_negative_arguments():
    with pytest.raises(ValueError, match="max_value"):
        ReLU(max_value=-1.0)
    with pytest.raises(ValueError, match="negative_slope"):
        ReLU(negative_slope=-0.5)


def test_relu_layer_uses_easynn_backward():
    x = torch.randn(3, 4, requires_grad=True)
    assert type(ReLU()(x).grad_fn).__name__ == "_ReLUFunctionBackward"


# ------------------------------------------------------------------------------ LeakyReLU
def test_leaky_relu_keras_default_is_0_3():
    layer = LeakyReLU()
    torch.testing.assert_close(layer(KERAS_INPUT), torch.tensor([-0.9, -0.3, 0.0, 2.0]))
    check_layer(LeakyReLU(negative_slope=0.5), (2, 3), (2, 3), 0)
    assert "negative_slope=0.3" in repr(layer)


def test_leaky_relu_legacy_alpha_warns():
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        layer = LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
    torch.testing.assert_close(layer(KERAS_INPUT), F.leaky_relu(KERAS_INPUT, 0.1))
    with pytest.raises(ValueError, match="negative_slope"):
        LeakyReLU(negative_slope=-1.0)


# ------------------------------------------------------------------------------ PReLU
def test_prelu_parameter_counts_match_keras():
    layer = PReLU()
    check_layer(layer, (2, 10), (2, 10), 10)
    assert tuple(layer.alpha.shape) == (10,)
    shared = PReLU(shared_axes=[1, 2])
    check_layer(shared, (2, 4, 4, 3), (2, 4, 4, 3), 3)
    assert tuple(shared.alpha.shape) == (1, 1, 3)
    check_layer(PReLU(), (2, 4, 4, 3), (2, 4, 4, 3), 48)


def test_prelu_starts_as_relu_and_matches_torch_prelu():
    x = torch.randn(5, 6)
    torch.testing.assert_close(PReLU()(x), F.relu(x))
    layer = PReLU(alpha_initializer="ones")
    layer(x)
    with torch.no_grad():
        layer.alpha.copy_(torch.linspace(-0.5, 0.5, 6))
    torch.testing.assert_close(layer(x), F.prelu(x, layer.alpha.detach()))


def test_prelu_alpha_gets_a_gradient_per_channel():
    layer = PReLU(shared_axes=[1, 2])
    x = torch.randn(2, 3, 3, 4)
    layer(x).sum().backward()
    want = torch.clamp_max(x, 0).sum(dim=(0, 1, 2)).reshape(1, 1, 4)
    torch.testing.assert_close(layer.alpha.grad, want)


def test_prelu_bad_shared_axes_and_constraint():
    with pytest.raises(ValueError, match="shared_axes"):
        PReLU(shared_axes=[3])(torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match="alpha_constraint"):
        PReLU(alpha_constraint="nonneg")
    layer = PReLU(alpha_constraint="non_neg")
    assert PReLU.from_config(layer.get_config()).alpha_constraint.get_config() == {}
    assert type(PReLU.from_config(layer.get_config()).alpha_constraint).__name__ == "NonNeg"


def test_prelu_regularizer_adds_a_loss():
    layer = PReLU(alpha_initializer="ones", alpha_regularizer="l2")
    layer(torch.randn(2, 3))
    assert len(layer.losses) == 1 and layer.losses[0].item() > 0


# ------------------------------------------------------------------------------ ELU
def test_elu_layer():
    layer = ELU(alpha=0.5)
    check_layer(layer, (3, 4), (3, 4), 0)
    x = torch.randn(3, 4)
    torch.testing.assert_close(layer(x), F.elu(x, 0.5))
    assert layer.get_config()["alpha"] == 0.5
    assert "alpha=0.5" in repr(layer)


# ------------------------------------------------------------------------------ Softmax
def test_softmax_layer_and_fused_path_hooks():
    layer = Softmax()
    y = check_layer(layer, (3, 4), (3, 4), 0)
    torch.testing.assert_close(y.sum(-1), torch.ones(3))
    assert layer.final_activation() == "softmax"
    x = torch.randn(3, 4)
    assert layer.call_logits(x) is x
    other = Softmax(axis=1)
    assert other.final_activation() is None
    torch.testing.assert_close(other(torch.randn(2, 3, 4)).sum(1), torch.ones(2, 4))
    assert "axis=1" in repr(other)


# ------------------------------------------------------------------------------ Maxout
def test_maxout_counts_and_value():
    layer = Maxout(4, pieces=3)
    check_layer(layer, (5, 10), (5, 4), 10 * 12 + 12)
    assert [w.shape for w in layer.get_weights()] == [(10, 12), (12,)]
    x = torch.randn(5, 10)
    z = x @ layer.kernel + layer.bias
    want = torch.stack([z[:, j * 3:(j + 1) * 3].max(-1).values for j in range(4)], dim=-1)
    torch.testing.assert_close(layer(x), want)
    check_layer(Maxout(2, pieces=2, use_bias=False), (3, 4, 6), (3, 4, 2), 6 * 4)


def test_maxout_gradient_reaches_only_the_winning_piece():
    layer = Maxout(3, pieces=2)
    x = torch.randn(1, 4)
    layer(x).sum().backward()
    z = (x @ layer.kernel + layer.bias).reshape(3, 2)
    winners = z.argmax(-1)
    for unit in range(3):
        for piece in range(2):
            column = layer.kernel.grad[:, unit * 2 + piece]
            if piece == winners[unit]:
                torch.testing.assert_close(column, x[0])
            else:
                assert torch.count_nonzero(column) == 0


def test_maxout_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        Maxout(0)
    with pytest.raises(ValueError, match="pieces"):
        Maxout(3, pieces=0)
    layer = Maxout(2)
    layer(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="last dimension 3"):
        layer(torch.zeros(1, 4))
