"""SimpleRNN: the fully-connected recurrence ``h' = act(x @ kernel + h @ recurrent_kernel + bias)``
on torch's fused ``rnn_tanh``/``rnn_relu`` kernels.

Example:
    >>> import torch
    >>> SimpleRNN(4, return_sequences=True)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 4])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn import activations
from easynn.layers.rnn.fused import FusedRNN

__all__ = ["SimpleRNN"]


class SimpleRNN(FusedRNN):
    """Fully-connected RNN whose output is fed back as the next step's state.

    Formula: ``h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Args:
        units: size of the state ``h`` (and of the output).
        activation: ``act`` above (``"tanh"``; ``"relu"`` also runs fused, others loop).
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
        recurrent_constraint, bias_constraint, dropout, recurrent_dropout, return_sequences,
        return_state, go_backwards, stateful, unroll, seed, **kwargs: as for :class:`LSTM`.

    Call arguments:
        inputs: ``(batch, timesteps, features)``.
        initial_state: optional ``h0`` (or ``[h0]``) of shape ``(batch, units)``.
        mask: optional bool ``(batch, timesteps)``; masked steps keep the state.
        training: enables dropout.

    Example:
        >>> import torch
        >>> rnn = SimpleRNN(4)
        >>> rnn(torch.zeros(2, 5, 3)).shape
        torch.Size([2, 4])
        >>> rnn.count_params()  # 4 * (3 + 4) + 4
        32
    """

    gates = 1
    mode = "RNN_TANH"
    n_states = 1

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True, **kwargs: Any) -> None:
        kwargs.pop("recurrent_activation", None)
        kwargs.pop("use_cudnn", None)
        super().__init__(units, activation=activation, recurrent_activation="sigmoid", use_bias=use_bias, **kwargs)
        self._fused = self.activation in (activations.get("tanh"), activations.get("relu"))

    def _torch_mode(self) -> str:
        return "RNN_RELU" if self.activation is activations.get("relu") else "RNN_TANH"

    def _kernel_fn(self):
        return torch.rnn_relu if self._torch_mode() == "RNN_RELU" else torch.rnn_tanh

    def _fused_call(self, x, states):
        sequence, h = self._kernel_fn()(
            x,
            states[0].unsqueeze(0),
            self._flat_weights(),
            self.bias is not None,
            1,
            0.0,
            torch.is_grad_enabled(),
            False,
            True,
        )
        return sequence, [h[0]]

    def _fused_packed(self, data, batch_sizes, states):
        out, h = self._kernel_fn()(
            data,
            batch_sizes,
            states[0].unsqueeze(0),
            self._flat_weights(),
            self.bias is not None,
            1,
            0.0,
            torch.is_grad_enabled(),
            False,
        )
        return out, [h[0]]

    def _step(self, xw_t, states, rec_dp):
        h = states[0] if rec_dp is None else states[0] * rec_dp
        out = self.activation(xw_t + F.linear(h, self.recurrent_kernel))
        return out, [out]
