"""Recurrent layers: SimpleRNN/LSTM/GRU (fused kernels), cells, RNN(cell), Bidirectional, TimeDistributed."""

from easynn.layers.rnn.bidirectional import Bidirectional
from easynn.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from easynn.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from easynn.layers.rnn.gru import GRU
from easynn.layers.rnn.lstm import LSTM
from easynn.layers.rnn.rnn import RNN
from easynn.layers.rnn.simple_rnn import SimpleRNN
from easynn.layers.rnn.time_distributed import TimeDistributed

__all__ = [
    "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells", "RNN",
    "Bidirectional", "TimeDistributed", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
]
