"""ConvLSTM1D/2D/3D against a step-by-step reference with torch's own convolutions."""

import pytest
import torch
import torch.nn.functional as F

from easynn.layers import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _reference(layer, x, mask=None):
    """Keras's ConvLSTM2D (channels_last, stride 1, 'same') step by step, from Keras-layout weights."""
    kernel = torch.as_tensor(layer.get_weights()[0]).permute(3, 2, 0, 1)
    recurrent = torch.as_tensor(layer.get_weights()[1]).permute(3, 2, 0, 1)
    bias = torch.as_tensor(layer.get_weights()[2])
    h = c = None
    outputs = []
    for t in range(x.shape[1]):
        xt = x[:, t].movedim(-1, 1)
        z_x = F.conv2d(xt, kernel, bias, padding="same")
        if h is None:
            h = c = torch.zeros(x.shape[0], layer.filters, *z_x.shape[2:])
            prev = torch.zeros_like(h)
        z = z_x + F.conv2d(h, recurrent, padding="same")
        i, f, g, o = z.chunk(4, dim=1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        if mask is not None:
            m = mask[:, t].view(-1, 1, 1, 1)
            h_new, c_new = torch.where(m, h_new, h), torch.where(m, c_new, c)
            out = torch.where(m, h_new, prev)
        else:
            out = h_new
        h, c, prev = h_new, c_new, out
        outputs.append(out.movedim(1, -1))
    return torch.stack(outputs, 1), h.movedim(1, -1), c.movedim(1, -1)


@pytest.mark.parametrize("mask", [None, [[1, 1, 0, 1], [0, 1, 1, 1]]])
def test_conv_lstm_2d_matches_the_reference(mask):
    layer = ConvLSTM2D(3, 3, padding="same", return_sequences=True, return_state=True)
    x = torch.randn(2, 4, 5, 6, 2)
    m = None if mask is None else torch.tensor(mask).bool()
    layer(x)
    with torch.no_grad():
        layer.bias.uniform_(-0.5, 0.5)
    seq, h, c = layer(x, mask=m)
    want_seq, want_h, want_c = _reference(layer, x, m)
    torch.testing.assert_close(seq, want_seq, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(h, want_h, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(c, want_c, rtol=1e-5, atol=1e-5)


def test_shapes_parameter_counts_and_configs():
    check_layer(ConvLSTM2D(4, (3, 2), strides=(2, 1), padding="same"), torch.randn(2, 3, 7, 6, 2), (2, 4, 6, 4),
                4 * 4 * (3 * 2 * 2 + 3 * 2 * 4 + 1))
    check_layer(ConvLSTM1D(2, 3, return_sequences=True), torch.randn(2, 3, 10, 3), (2, 3, 8, 2),
                4 * 2 * (3 * 3 + 3 * 2 + 1))
    check_layer(ConvLSTM3D(2, 2, use_bias=False), torch.randn(1, 2, 4, 4, 4, 1), (1, 3, 3, 3, 2),
                4 * 2 * (8 * 1 + 8 * 2))
    first = ConvLSTM2D(2, 3, data_format="channels_first")
    assert first(torch.randn(1, 3, 2, 6, 6)).shape == (1, 2, 4, 4)
    assert [w.shape for w in first.get_weights()] == [(3, 3, 2, 8), (3, 3, 2, 8), (8,)]
    with pytest.raises(ValueError, match="rank 5"):
        ConvLSTM2D(2, 3)(torch.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="padding"):
        ConvLSTM2D(2, 3, padding="full")


def test_stateful_and_initial_state():
    layer = ConvLSTM1D(2, 3, padding="same", stateful=True)
    x = torch.randn(2, 3, 5, 1)
    first = layer(x)
    h, c = layer.states
    plain = ConvLSTM1D(2, 3, padding="same")
    plain(x)
    plain.set_weights(layer.get_weights())
    torch.testing.assert_close(plain(x), first)
    torch.testing.assert_close(layer(x), plain(x, initial_state=[h, c]))
    layer.reset_states()
    torch.testing.assert_close(layer(x), first)


def test_conv_lstm_constraints_project_each_filter_after_every_step():
    import numpy as np

    import easynn
    from easynn import constraints

    layer = easynn.layers.ConvLSTM2D(
        3, 3, padding="same", kernel_constraint=constraints.MaxNorm(0.3, axis=[0, 1, 2]),
        recurrent_constraint="non_neg", bias_constraint=constraints.NonNeg(),
    )
    model = easynn.Sequential([easynn.Input((2, 5, 5, 2)), layer])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=2.0), loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(4, 2, 5, 5, 2)).astype("float32"), -np.ones((4, 5, 5, 3), "float32"),
              epochs=2, verbose=0)
    kernel, recurrent, bias = layer.get_weights()
    assert np.sqrt((kernel ** 2).sum(axis=(0, 1, 2))).max() <= 0.3 + 1e-5
    assert recurrent.min() >= 0 and bias.min() >= 0
    config = layer.get_config()
    clone = easynn.layers.ConvLSTM2D.from_config(config)
    assert isinstance(clone.kernel_constraint, constraints.MaxNorm) and clone.kernel_constraint.axis == [0, 1, 2]
