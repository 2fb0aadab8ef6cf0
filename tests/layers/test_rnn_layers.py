"""SimpleRNN / LSTM / GRU: masks, dropout, statefulness, configs and saving, against torch references."""

import pytest
import torch

import easynn
from easynn.layers import GRU, LSTM, SimpleRNN
from tests.layers import rnn_reference as ref
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


RIGHT_PADDED = [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]]
WITH_HOLES = [[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [0, 1, 1, 0, 1]]
LEFT_PADDED = [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]]
BLOCKS = [[0, 1, 1, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 0]]  # one block per row (fused), an empty row


def _make(cls, **kwargs):
    return cls(3, return_sequences=True, return_state=True, **kwargs)


def _reference(cls, layer, weights, x, states, **kwargs):
    if cls is LSTM:
        return ref.run(ref.lstm_step, x, states, kernel=weights[0], recurrent=weights[1], bias=weights[2], **kwargs)
    if cls is GRU:
        return ref.run(ref.gru_step, x, states, kernel=weights[0], recurrent=weights[1], bias=weights[2],
                       reset_after=layer.reset_after, **kwargs)
    return ref.run(ref.simple_step, x, states, kernel=weights[0], recurrent=weights[1], bias=weights[2], **kwargs)


@pytest.mark.parametrize(
    "make, params",
    [
        (lambda: SimpleRNN(4), 4 * (3 + 4) + 4),
        (lambda: SimpleRNN(4, use_bias=False), 4 * (3 + 4)),
        (lambda: LSTM(4, dropout=0.2, recurrent_dropout=0.1, stateful=True), 4 * (4 * (3 + 4) + 4)),
        (lambda: GRU(4, go_backwards=True, unroll=True), 3 * (4 * (3 + 4) + 2 * 4)),
    ],
)
def test_shapes_params_config(make, params):
    check_layer(make(), torch.randn(2, 6, 3), (2, 4), params)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("mask", [None, RIGHT_PADDED, WITH_HOLES, LEFT_PADDED, BLOCKS])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_outputs_and_states_match_the_step_by_step_reference(cls, mask, go_backwards):
    layer = _make(cls, go_backwards=go_backwards)
    x = torch.randn(3, 5, 4)
    layer(x)
    weights = ref.random_weights(layer)
    h0 = [torch.randn(3, 3) for _ in layer.state_shapes()]
    m = None if mask is None else torch.tensor(mask).bool()
    seq, *states = layer(x, initial_state=h0, mask=m)
    want_seq, want_states = _reference(cls, layer, weights, x, h0, mask=mask, go_backwards=go_backwards)
    torch.testing.assert_close(seq.double(), want_seq, rtol=1e-5, atol=1e-5)
    for got, want in zip(states, want_states):
        torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-5)
    # the last output (return_sequences=False) is the last step of the sequence
    layer.return_sequences = False
    torch.testing.assert_close(layer(x, initial_state=h0, mask=m)[0].double(), want_seq[:, -1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_right_padded_masks_take_the_packed_fused_path(cls, monkeypatch):
    layer = _make(cls)
    x = torch.randn(3, 5, 4)
    layer(x)
    calls = []
    monkeypatch.setattr(layer, "_step", lambda *a: calls.append(1))  # the loop would call this
    seq, *_ = layer(x, mask=torch.tensor(RIGHT_PADDED).bool())
    assert not calls
    # masked steps repeat the last real output, rows keep their order
    torch.testing.assert_close(seq[0, 3], seq[0, 2])
    torch.testing.assert_close(seq[2, 4], seq[2, 0])


def test_masked_steps_keep_the_state_and_gradients_agree_with_the_loop():
    x = torch.randn(3, 5, 4)
    mask = torch.tensor(RIGHT_PADDED).bool()
    fused, loop = LSTM(3, return_sequences=True), LSTM(3, return_sequences=True, activation=torch.tanh)
    fused(x), loop(x)
    loop.set_weights(fused.get_weights())
    y_fused, y_loop = fused(x, mask=mask), loop(x, mask=mask)
    torch.testing.assert_close(y_fused, y_loop, rtol=1e-5, atol=1e-6)
    y_fused.square().sum().backward()
    y_loop.square().sum().backward()
    for a, b in zip(fused.trainable_weights, loop.trainable_weights):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-5)
    # the padding steps' values do not matter
    x2 = x.clone()
    x2[0, 3:] = 100.0
    torch.testing.assert_close(fused(x2, mask=mask), y_fused.detach())


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_dropout_uses_one_mask_per_sequence(cls, monkeypatch):
    layer = cls(3, return_sequences=True, dropout=0.5, recurrent_dropout=0.4)
    x = torch.randn(2, 4, 5)
    layer(x)
    weights = ref.random_weights(layer)
    dp = (torch.rand(2, 5) > 0.5).float() * 2
    rec = (torch.rand(2, 3) > 0.4).float() / 0.6
    monkeypatch.setattr(layer, "_masks", lambda x, training: (dp, rec) if training else (None, None))
    got = layer(x, training=True)
    states = [torch.zeros(2, 3)] * len(layer.state_shapes())
    step = {SimpleRNN: ref.simple_step, LSTM: ref.lstm_step, GRU: ref.gru_step}[cls]
    want, _ = ref.run(step, x * dp[:, None, :], states, kernel=weights[0], recurrent=weights[1], bias=weights[2],
                      rec_dp=rec.double())
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-5)
    # inference ignores dropout
    want_eval, _ = ref.run(step, x, states, kernel=weights[0], recurrent=weights[1], bias=weights[2])
    torch.testing.assert_close(layer(x, training=False).double(), want_eval, rtol=1e-5, atol=1e-5)


def test_real_dropout_masks_are_constant_over_time():
    layer = SimpleRNN(4, return_sequences=True, dropout=0.5, kernel_initializer="identity",
                      recurrent_initializer="zeros", activation="relu", seed=3)
    x = torch.ones(64, 6, 4)
    y = layer(x, training=True)
    assert ((y == 0) | (y == 2)).all()  # relu(x * mask) with mask in {0, 2}
    assert (y == y[:, :1]).all()  # the same mask at every step
    assert 0.3 < (y == 0).float().mean() < 0.7


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_stateful_carries_state_and_reset_clears_it(cls):
    layer = cls(3, stateful=True)
    plain = cls(3, return_state=True)
    a, b = torch.randn(2, 4, 5), torch.randn(2, 3, 5)
    layer(a)
    plain(a)
    plain.set_weights(layer.get_weights())
    _, *states = plain(a)
    assert all(torch.equal(s, t) for s, t in zip(layer.states, states))
    torch.testing.assert_close(layer(b), plain(b, initial_state=states)[0])
    layer.reset_states()
    torch.testing.assert_close(layer(b), plain(b)[0])
    layer.reset_state()
    layer(b)
    with pytest.raises(ValueError, match="stateful"):
        layer(torch.randn(5, 3, 5))  # another batch size
    with pytest.raises(RuntimeError, match="not stateful"):
        plain.reset_states()


def test_stateful_states_do_not_carry_gradients():
    layer = LSTM(2, stateful=True)
    x = torch.randn(1, 3, 2)
    layer(x).sum().backward()
    assert all(not s.requires_grad for s in layer.states)
    layer(x).sum().backward()  # would fail if the graph of the first call were reused


def test_bad_inputs_raise_clear_errors():
    layer = LSTM(3)
    x = torch.randn(2, 4, 5)
    with pytest.raises(ValueError, match=r"mask of shape \(batch, timesteps\) = \(2, 4\).*\(2, 5\)"):
        layer(x, mask=torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="initial_state"):
        layer(x, initial_state=[torch.zeros(2, 3)])
    with pytest.raises(ValueError, match="rank 3"):
        GRU(2)(torch.zeros(2, 3))
    layer(x)
    with pytest.raises(ValueError, match=r"\(batch, timesteps, 5\)"):
        layer(torch.randn(2, 4, 6))


def test_output_mask():
    mask = torch.tensor(RIGHT_PADDED).bool()
    assert LSTM(2, return_sequences=True).compute_mask(None, mask) is mask
    assert LSTM(2).compute_mask(None, mask) is None
    assert GRU(2, return_sequences=True, return_state=True).compute_mask(None, mask) == [mask, None]
    assert LSTM(2).supports_masking


def test_save_and_load_round_trip(tmp_path):
    model = easynn.Sequential([
        easynn.Input(shape=(5, 3)),
        SimpleRNN(4, return_sequences=True, go_backwards=True),
        GRU(4, return_sequences=True, dropout=0.1),
        LSTM(2, recurrent_dropout=0.2),
    ])
    x = torch.randn(2, 5, 3)
    y = model(x)
    path = str(tmp_path / "rnn.keras")
    model.save(path)
    loaded = easynn.saving.load_model(path)
    torch.testing.assert_close(loaded(x), y)
    assert loaded.layers[-1].recurrent_dropout == 0.2


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_cpu_autocast_runs_in_the_weights_dtype(cls):
    layer = cls(3, return_sequences=True)
    x = torch.randn(2, 5, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 0, 1, 1]]).bool()
    want = layer(x, mask=mask)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = layer(x, mask=mask)
    torch.testing.assert_close(got, want)


requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.cuda
@requires_cuda
@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("mask", [RIGHT_PADDED, LEFT_PADDED, WITH_HOLES])
def test_cuda_masked_paths_match_cpu(cls, mask):
    layer = _make(cls)
    x = torch.randn(3, 5, 4)
    m = torch.tensor(mask).bool()
    want = layer(x, mask=m)
    layer.to("cuda")
    got = layer(x.cuda(), mask=m.cuda())
    for a, b in zip(got, want):
        torch.testing.assert_close(a.cpu(), b, rtol=1e-4, atol=1e-4)
    got[0].sum().backward()
    assert all(w.grad is not None for w in layer.trainable_weights)
