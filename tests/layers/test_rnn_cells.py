"""RNN(cell): the built-in cells against the fused layers, stacked cells, user-written cells."""

import pytest
import torch

from easynn.layers import GRU, LSTM, RNN, GRUCell, Layer, LSTMCell, SimpleRNN, SimpleRNNCell, StackedRNNCells
from easynn.layers.rnn.nested import deserialize_nested, serialize_nested
from tests.layers import rnn_reference as ref
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "cell, fused",
    [
        (lambda: SimpleRNNCell(3), lambda: SimpleRNN(3, return_sequences=True, return_state=True)),
        (lambda: LSTMCell(3), lambda: LSTM(3, return_sequences=True, return_state=True)),
        (lambda: GRUCell(3), lambda: GRU(3, return_sequences=True, return_state=True)),
        (lambda: GRUCell(3, reset_after=False), lambda: GRU(3, reset_after=False, return_sequences=True, return_state=True)),
    ],
    ids=["simple", "lstm", "gru", "gru_reset_before"],
)
def test_rnn_over_a_cell_equals_the_fused_layer(cell, fused):
    x = torch.randn(2, 5, 4)
    mask = torch.tensor([[1, 0, 1, 1, 0], [1, 1, 1, 1, 1]]).bool()
    layer, reference = RNN(cell(), return_sequences=True, return_state=True), fused()
    layer(x), reference(x)
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in reference.get_weights()]
    assert layer.count_params() == reference.count_params()
    layer.set_weights(reference.get_weights())
    for m in (None, mask):
        for got, want in zip(layer(x, mask=m), reference(x, mask=m)):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_lstm_cell_matches_the_reference_and_counts_parameters():
    cell = LSTMCell(3)
    x, h, c = torch.randn(2, 4), torch.randn(2, 3), torch.randn(2, 3)
    out, (h2, c2) = cell(x, [h, c])
    k, r, b = ref.random_weights(cell)
    out, (h2, c2) = cell(x, [h, c])
    want, (wh, wc) = ref.lstm_step(x.double(), [h.double(), c.double()], ref._t(k), ref._t(r), ref._t(b))
    torch.testing.assert_close(out.double(), want, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(c2.double(), wc, rtol=1e-5, atol=1e-5)
    assert cell.count_params() == 4 * (3 * (4 + 3) + 3)
    assert cell.state_size == [3, 3] and cell.output_size == 3


def test_stacked_cells_equal_two_layers():
    x = torch.randn(2, 5, 4)
    stacked = RNN([SimpleRNNCell(3), LSTMCell(2)], return_sequences=True, return_state=True)
    first, second = SimpleRNN(3, return_sequences=True, return_state=True), LSTM(2, return_sequences=True, return_state=True)
    seq, *states = stacked(x)
    assert stacked.cell.state_size == [3, 2, 2]
    assert [tuple(s.shape) for s in states] == [(2, 3), (2, 2), (2, 2)]
    h1, s1 = first(x)
    first.set_weights(stacked.get_weights()[:3])
    h1, s1 = first(x)
    second(h1)
    second.set_weights(stacked.get_weights()[3:])
    h2, s2, c2 = second(h1)
    torch.testing.assert_close(seq, h2, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(states[0], s1, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(states[2], c2, rtol=1e-5, atol=1e-5)


class MinimalRNNCell(Layer):
    """keras-io's user cell: output = x W + h U; one state."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), "ones", name="kernel")
        self.recurrent_kernel = self.add_weight((self.units, self.units), "identity", name="recurrent_kernel")

    def call(self, inputs, states):
        prev = states[0]
        output = inputs @ self.kernel + prev @ self.recurrent_kernel
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class TwoStateCell(Layer):
    """A cell with a matrix-shaped second state and its own get_initial_state."""

    state_size = [2, (2, 3)]
    output_size = 2

    def call(self, inputs, states):
        a, b = states
        a = a + inputs[:, :2]
        return a, [a, b + 1]

    def get_initial_state(self, batch_size=None):
        return [torch.ones(batch_size, 2), torch.zeros(batch_size, 2, 3)]


def test_user_cells():
    x = torch.ones(3, 4, 2)
    layer = RNN(MinimalRNNCell(2), return_sequences=True)
    # h_t = x_t @ ones + h_{t-1}: each unit sums both features every step -> 2, 4, 6, 8
    assert layer(x)[0, :, 0].tolist() == [2.0, 4.0, 6.0, 8.0]
    check_layer(RNN(MinimalRNNCell(2)), x, (3, 2), 2 * 2 + 2 * 2)
    out, a, b = RNN(TwoStateCell(), return_state=True)(torch.ones(3, 4, 5))
    assert out[0].tolist() == [5.0, 5.0] and b.shape == (3, 2, 3) and b[0, 0, 0] == 4


def test_bad_cells():
    class NoState(Layer):
        def call(self, inputs, states):
            return inputs, states

    with pytest.raises(ValueError, match="state_size"):
        RNN(NoState())
    with pytest.raises(ValueError, match="call"):
        RNN(object())
    with pytest.raises(ValueError, match="cells"):
        StackedRNNCells([])


def test_cell_dropout_is_one_mask_per_sequence():
    cell = SimpleRNNCell(4, dropout=0.5, kernel_initializer="identity", recurrent_initializer="zeros", activation="relu")
    y = RNN(cell, return_sequences=True)(torch.ones(32, 5, 4), training=True)
    assert (y == y[:, :1]).all() and ((y == 0) | (y == 2)).all()
    a = RNN(cell, return_sequences=True)
    assert not torch.equal(a(torch.ones(32, 5, 4), training=True), y)  # a new mask per call


def test_configs_round_trip():
    for layer in (RNN(LSTMCell(3), return_sequences=True, go_backwards=True),
                  RNN([GRUCell(2), SimpleRNNCell(3, dropout=0.1)], stateful=True),
                  RNN(MinimalRNNCell(4))):
        config = layer.get_config()
        clone = RNN.from_config(config)
        assert clone.get_config() == config
        x = torch.randn(2, 3, 5)
        layer(x), clone(x)
        clone.set_weights(layer.get_weights())
        if layer.stateful:
            layer.reset_states(), clone.reset_states()
        torch.testing.assert_close(clone(x), layer(x))
    spec = serialize_nested(GRUCell(2, reset_after=False))
    assert deserialize_nested(spec).reset_after is False
    with pytest.raises(ValueError, match="Unknown layer class"):
        deserialize_nested({"class_name": "NoSuchCell", "config": {}})
