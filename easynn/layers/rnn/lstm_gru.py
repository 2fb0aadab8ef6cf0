"""SimpleRNN, LSTM and GRU (the path before the split into ``simple_rnn``, ``lstm``, ``gru`` and
the shared ``fused`` machinery); kept so that ``from easynn.layers.rnn.lstm_gru import LSTM`` works.

Example:
    >>> import torch
    >>> LSTM(4)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 4])
"""

from easynn.layers.rnn.gru import GRU
from easynn.layers.rnn.lstm import LSTM
from easynn.layers.rnn.simple_rnn import SimpleRNN

__all__ = ["SimpleRNN", "LSTM", "GRU"]
