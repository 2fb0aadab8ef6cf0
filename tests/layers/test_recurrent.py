import numpy as np
import pytest
import torch

from easynn.layers.recurrent import GRU, LSTM
from tests.layers.layer_checks import check_layer

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0)


def keras_lstm(x, kernel, recurrent, bias, act=np.tanh, rec_act=sigmoid, h=None, c=None):
    """Keras's LSTM step by step from Keras-layout weights (gates i, f, c, o)."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h = np.zeros((batch, units)) if h is None else h
    c = np.zeros((batch, units)) if c is None else c
    bias = np.zeros(4 * units) if bias is None else bias
    outputs = []
    for t in range(steps):
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        c = rec_act(f) * c + rec_act(i) * act(g)
        h = rec_act(o) * act(c)
        outputs.append(h)
    return np.stack(outputs, 1), h, c


def keras_gru(x, kernel, recurrent, bias, reset_after=True, act=np.tanh, rec_act=sigmoid, h=None):
    """Keras's GRU step by step from Keras-layout weights (gates z, r, h)."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h = np.zeros((batch, units)) if h is None else h
    if bias is None:
        bias = np.zeros((2, 3 * units)) if reset_after else np.zeros(3 * units)
    in_bias, rec_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * units))
    wz, wr, wh = np.split(kernel, 3, axis=-1)
    uz, ur, uh = np.split(recurrent, 3, axis=-1)
    bz, br, bh = np.split(in_bias, 3)
    rz, rr, rh = np.split(rec_bias, 3)
    outputs = []
    for t in range(steps):
        xt = x[:, t]
        z = rec_act(xt @ wz + bz + h @ uz + rz)
        r = rec_act(xt @ wr + br + h @ ur + rr)
        if reset_after:
            hh = act(xt @ wh + bh + r * (h @ uh + rh))
        else:
            hh = act(xt @ wh + bh + (r * h) @ uh)
        h = z * h + (1 - z) * hh
        outputs.append(h)
    return np.stack(outputs, 1), h


def _random_weights(layer, seed=1):
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.get_weights()])
    return [w.astype(np.float64) for w in layer.get_weights()]


@pytest.mark.parametrize(
    "make, out_shape, params",
    [
        (lambda: LSTM(4), (2, 4), 4 * (4 * (3 + 4) + 4)),
        (lambda: LSTM(4, use_bias=False), (2, 4), 4 * 4 * (3 + 4)),
        (lambda: LSTM(5, return_sequences=True), (2, 6, 5), 4 * (5 * (3 + 5) + 5)),
        (lambda: GRU(4), (2, 4), 3 * (4 * (3 + 4) + 2 * 4)),
        (lambda: GRU(4, reset_after=False), (2, 4), 3 * (4 * (3 + 4) + 4)),
        (lambda: GRU(2, return_sequences=True), (2, 6, 2), 3 * (2 * (3 + 2) + 2 * 2)),
    ],
)
def test_shapes_params_config(make, out_shape, params):
    check_layer(make(), torch.randn(2, 6, 3), out_shape, params)


def test_keras_weight_shapes():
    lstm, gru, gru_v1 = LSTM(4), GRU(4), GRU(4, reset_after=False)
    for layer in (lstm, gru, gru_v1):
        layer(torch.zeros(1, 2, 3))
    assert [w.shape for w in lstm.get_weights()] == [(3, 16), (4, 16), (16,)]
    assert [w.shape for w in gru.get_weights()] == [(3, 12), (4, 12), (2, 12)]
    assert [w.shape for w in gru_v1.get_weights()] == [(3, 12), (4, 12), (12,)]


def test_lstm_matches_keras_step_by_step():
    layer = LSTM(3, return_sequences=True, return_state=True)
    x = torch.randn(2, 5, 4)
    layer(x)
    kernel, recurrent, bias = _random_weights(layer)
    seq, h, c = layer(x)
    ref_seq, ref_h, ref_c = keras_lstm(x.numpy().astype(np.float64), kernel, recurrent, bias)
    np.testing.assert_allclose(seq.detach().numpy(), ref_seq, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h.detach().numpy(), ref_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c.detach().numpy(), ref_c, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_matches_keras_step_by_step(reset_after):
    layer = GRU(3, return_sequences=True, return_state=True, reset_after=reset_after)
    x = torch.randn(2, 5, 4)
    layer(x)
    kernel, recurrent, bias = _random_weights(layer)
    seq, h = layer(x)
    ref_seq, ref_h = keras_gru(x.numpy().astype(np.float64), kernel, recurrent, bias, reset_after)
    np.testing.assert_allclose(seq.detach().numpy(), ref_seq, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h.detach().numpy(), ref_h, rtol=1e-5, atol=1e-5)


def test_non_default_activations_use_the_loop_and_match_keras():
    x = torch.randn(2, 4, 3)
    lstm = LSTM(2, activation="relu", recurrent_activation="sigmoid")
    lstm(x)
    weights = _random_weights(lstm)
    np.testing.assert_allclose(
        lstm(x).detach().numpy(), keras_lstm(x.numpy().astype(np.float64), *weights, act=relu)[1], rtol=1e-5, atol=1e-5
    )
    gru = GRU(2, activation="relu")
    gru(x)
    weights = _random_weights(gru)
    np.testing.assert_allclose(
        gru(x).detach().numpy(), keras_gru(x.numpy().astype(np.float64), *weights, act=relu)[1], rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_fused_and_loop_paths_agree_with_gradients(cls):
    x = torch.randn(3, 5, 4)
    fused = cls(3, return_sequences=True)
    loop = cls(3, return_sequences=True, activation=torch.tanh)  # a plain callable forces the loop
    fused(x)
    loop(x)
    assert fused._use_fused() and not loop._use_fused()
    loop.set_weights(_random_weights(fused))
    y_fused, y_loop = fused(x), loop(x)
    torch.testing.assert_close(y_fused, y_loop, rtol=1e-5, atol=1e-5)
    y_fused.square().sum().backward()
    y_loop.square().sum().backward()
    for a, b in zip(fused.trainable_weights, loop.trainable_weights):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_go_backwards_reads_the_reversed_sequence(cls):
    x = torch.randn(2, 5, 3)
    forward = cls(2, return_sequences=True)
    backward = cls(2, return_sequences=True, go_backwards=True)
    forward(x)
    backward(x)
    backward.set_weights(forward.get_weights())
    torch.testing.assert_close(backward(x), forward(x.flip(1)))


def test_initial_state():
    x = torch.randn(2, 3, 4)
    lstm = LSTM(3)
    lstm(x)
    weights = _random_weights(lstm)
    h0, c0 = torch.randn(2, 3), torch.randn(2, 3)
    expected = keras_lstm(x.double().numpy(), *weights, h=h0.double().numpy(), c=c0.double().numpy())[1]
    np.testing.assert_allclose(lstm(x, initial_state=[h0, c0]).detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    gru = GRU(3)
    gru(x)
    weights = _random_weights(gru)
    expected = keras_gru(x.double().numpy(), *weights, h=h0.double().numpy())[1]
    np.testing.assert_allclose(gru(x, initial_state=h0).detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="initial_state"):
        lstm(x, initial_state=[h0])


def test_keras_initialization():
    lstm = LSTM(4)
    lstm(torch.zeros(1, 2, 3))
    kernel, recurrent, bias = lstm.get_weights()
    np.testing.assert_array_equal(bias, [0] * 4 + [1] * 4 + [0] * 8)  # unit_forget_bias
    # orthogonal in Keras's (units, 4*units) layout: orthonormal rows
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)
    assert np.abs(kernel).max() <= np.sqrt(6 / (3 + 16))
    no_forget = LSTM(4, unit_forget_bias=False)
    no_forget(torch.zeros(1, 2, 3))
    np.testing.assert_array_equal(no_forget.get_weights()[2], np.zeros(16))


def test_set_get_round_trip():
    gru = GRU(3)
    gru(torch.zeros(1, 2, 4))
    rng = np.random.RandomState(0)
    arrays = [rng.randn(*w.shape).astype(np.float32) for w in gru.get_weights()]
    gru.set_weights(arrays)
    for got, want in zip(gru.get_weights(), arrays):
        np.testing.assert_array_equal(got, want)


def test_bad_arguments():
    with pytest.raises(ValueError, match="dropout"):
        LSTM(3, dropout=1.5)
    with pytest.raises(ValueError, match="recurrent_dropout"):
        GRU(3, recurrent_dropout=-0.1)
    with pytest.raises(ValueError, match="units"):
        GRU(0)
    with pytest.raises(ValueError, match="rank 3"):
        LSTM(2)(torch.zeros(2, 3))


@pytest.mark.cuda
@requires_cuda
@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_cuda_matches_cpu_and_weights_are_packed(cls):
    x = torch.randn(3, 7, 4)
    layer = cls(5, return_sequences=True)
    y_cpu = layer(x)
    weights = layer.get_weights()
    layer.to("cuda")
    y_gpu = layer(x.cuda())  # warnings are errors: cuDNN must not complain about the weights
    torch.testing.assert_close(y_gpu.cpu(), y_cpu, rtol=1e-4, atol=1e-4)
    for a, b in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    y_gpu.sum().backward()
    assert all(w.grad is not None for w in layer.trainable_weights)
    storages = {w.untyped_storage().data_ptr() for w in layer.trainable_weights}
    assert len(storages) == 1  # one cuDNN buffer
