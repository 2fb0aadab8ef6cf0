"""Bidirectional against two RNNs by hand; TimeDistributed against a per-step loop."""

import pytest
import torch

import easynn
from easynn.layers import GRU, LSTM, Bidirectional, Conv1D, Dense, SimpleRNN, TimeDistributed
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _copies(layer, x, **changes):
    """Independent forward and go_backwards RNNs with the wrapper's weights."""
    fw = type(layer.forward_layer).from_config({**layer.forward_layer.get_config(), "name": None, **changes})
    bw = type(layer.backward_layer).from_config({**layer.backward_layer.get_config(), "name": None, **changes})
    fw(x), bw(x)
    fw.set_weights(layer.forward_layer.get_weights())
    bw.set_weights(layer.backward_layer.get_weights())
    return fw, bw


def _halves(layer, x, **kwargs):
    fw, bw = _copies(layer, x)
    return fw(x, **kwargs), bw(x, **kwargs)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_merge_modes_equal_two_rnns_by_hand(merge_mode):
    x = torch.randn(2, 5, 3)
    layer = Bidirectional(LSTM(4, return_sequences=True), merge_mode=merge_mode)
    out = layer(x)
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    y_fw, y_bw = _halves(layer, x)
    y_bw = y_bw.flip(1)  # back in input order
    want = {
        "concat": lambda: torch.cat([y_fw, y_bw], -1), "sum": lambda: y_fw + y_bw, "mul": lambda: y_fw * y_bw,
        "ave": lambda: (y_fw + y_bw) / 2, None: lambda: [y_fw, y_bw],
    }[merge_mode]()
    if merge_mode is None:
        torch.testing.assert_close(out[0], want[0])
        torch.testing.assert_close(out[1], want[1])
    else:
        torch.testing.assert_close(out, want)
    assert layer.count_params() == 2 * 4 * (4 * (3 + 4) + 4)


def test_return_state_initial_state_and_masks():
    x = torch.randn(2, 5, 3)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]).bool()
    layer = Bidirectional(GRU(4, return_state=True))
    states = [torch.randn(2, 4), torch.randn(2, 4)]
    out, h_fw, h_bw = layer(x, initial_state=states, mask=mask)
    fw, bw = _copies(layer, x)
    (y_fw, s_fw), (y_bw, s_bw) = fw(x, initial_state=states[0], mask=mask), bw(x, initial_state=states[1], mask=mask)
    torch.testing.assert_close(out, torch.cat([y_fw, y_bw], -1))
    torch.testing.assert_close(h_fw, s_fw)
    torch.testing.assert_close(h_bw, s_bw)
    # the backward half reads the real steps backwards: row 0 starts at step 2
    only_real = bw(x[:1, :3], initial_state=states[1][:1])[0]
    torch.testing.assert_close(y_bw[:1], only_real)
    with pytest.raises(ValueError, match="initial_state"):
        layer(x, initial_state=states[:1])


def test_sequences_with_masks_output_zeros_at_masked_steps():
    x = torch.randn(2, 5, 3)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]).bool()
    out = Bidirectional(SimpleRNN(2, return_sequences=True))(x, mask=mask)
    assert torch.equal(out[0, 3:], torch.zeros(2, 4))
    assert (out[1] != 0).all()


def test_backward_layer_config_and_summary_numbers():
    layer = Bidirectional(LSTM(3, return_sequences=True), backward_layer=LSTM(3, return_sequences=True, go_backwards=True,
                                                                             activation="relu"))
    check_layer(layer, torch.randn(2, 4, 5), (2, 4, 6), 2 * 4 * (3 * (5 + 3) + 3))
    assert layer.backward_layer.activation is easynn.activations.get("relu")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3))
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="recurrent layer"):
        Bidirectional(Dense(3))
    # keras-io's stacked bidirectional model (smaller): LSTM(8) then LSTM(4), Dense(10)
    model = easynn.Sequential([
        easynn.Input(shape=(5, 10)),
        Bidirectional(LSTM(8, return_sequences=True)),
        Bidirectional(LSTM(4)),
        Dense(10),
    ])
    assert model(torch.randn(3, 5, 10)).shape == (3, 10)
    assert model.count_params() == 2 * 4 * (8 * (10 + 8) + 8) + 2 * 4 * (4 * (16 + 4) + 4) + 8 * 10 + 10


def test_time_distributed_equals_a_loop_over_steps():
    x = torch.randn(2, 4, 3)
    layer = TimeDistributed(Dense(5))
    check_layer(layer, x, (2, 4, 5), 3 * 5 + 5)
    want = torch.stack([layer.layer(x[:, t]) for t in range(4)], 1)
    torch.testing.assert_close(layer(x), want)
    conv = TimeDistributed(Conv1D(2, 3))
    frames = torch.randn(2, 4, 6, 3)
    assert conv(frames).shape == (2, 4, 4, 2)
    torch.testing.assert_close(conv(frames)[:, 1], conv.layer(frames[:, 1]))
    mask = torch.ones(2, 4, dtype=torch.bool)
    assert layer.compute_mask(x, mask) is mask
    with pytest.raises(ValueError, match="layer instance"):
        TimeDistributed("dense")
    with pytest.raises(ValueError, match="rank 3"):
        TimeDistributed(Dense(2))(torch.zeros(2, 3))


def test_save_and_load_round_trip(tmp_path):
    model = easynn.Sequential([
        easynn.Input(shape=(5, 3)),
        Bidirectional(GRU(4, return_sequences=True), merge_mode="sum"),
        TimeDistributed(Dense(2)),
    ])
    x = torch.randn(2, 5, 3)
    y = model(x)
    path = str(tmp_path / "wrappers.keras")
    model.save(path)
    loaded = easynn.saving.load_model(path)
    torch.testing.assert_close(loaded(x), y)
    assert loaded.layers[0].merge_mode == "sum"


def test_functional_initial_state_from_another_layer():
    """keras-io's seq2seq: the decoder LSTM starts from the encoder's symbolic states."""
    enc_in, dec_in = easynn.Input(shape=(None, 3)), easynn.Input(shape=(None, 2))
    _, h, c = LSTM(4, return_state=True, name="enc_fn")(enc_in)
    decoded = LSTM(4, name="dec_fn")(dec_in, initial_state=[h, c])
    model = easynn.Model([enc_in, dec_in], decoded)
    a, b = torch.randn(2, 5, 3), torch.randn(2, 6, 2)
    encoder, decoder = model.get_layer("enc_fn"), model.get_layer("dec_fn")
    _, h_real, c_real = encoder(a)
    torch.testing.assert_close(model([a, b]), decoder(b, initial_state=[h_real, c_real]))
    assert model.count_params() == 4 * (4 * (3 + 4) + 4) + 4 * (4 * (2 + 4) + 4)
    x, s_fw, s_bw = easynn.Input(shape=(5, 3)), easynn.Input(shape=(4,)), easynn.Input(shape=(4,))
    bi = Bidirectional(GRU(4), name="bi_fn")
    bi_model = easynn.Model([x, s_fw, s_bw], bi(x, initial_state=[s_fw, s_bw]))
    xs, f0, b0 = torch.randn(2, 5, 3), torch.randn(2, 4), torch.randn(2, 4)
    torch.testing.assert_close(bi_model([xs, f0, b0]), bi(xs, initial_state=[f0, b0]))
