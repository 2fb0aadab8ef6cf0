"""LSTM (the lecture's long short-term memory) with Keras's weights on torch's fused kernel.

One step with input ``x`` and state ``(h, c)``: ``z = x @ kernel + h @ recurrent_kernel + bias``
split into gates ``i, f, c~, o`` (Keras's order); ``c' = sigmoid(f) * c + sigmoid(i) * tanh(c~)``;
``h' = sigmoid(o) * tanh(c')``.

Example:
    >>> import torch
    >>> lstm = LSTM(4)
    >>> lstm(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 4])
    >>> [w.shape for w in lstm.get_weights()]
    [(3, 16), (4, 16), (16,)]
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn.layers.rnn.fused import FusedRNN

__all__ = ["LSTM"]


class LSTM(FusedRNN):
    """Long short-term memory over ``(batch, timesteps, features)`` inputs.

    Formula (per step, Keras gate order ``i, f, c, o``):
    ``i, f, c~, o = split(x @ kernel + h @ recurrent_kernel + bias)``;
    ``c' = rec_act(f) * c + rec_act(i) * act(c~)``; ``h' = rec_act(o) * act(c')``.

    Args:
        units: size of the state ``h`` (and of the output).
        activation: ``act`` above (``"tanh"``).
        recurrent_activation: ``rec_act`` above (``"sigmoid"``). Other choices than the defaults
            run a slower step-by-step loop instead of the fused (cuDNN) kernel.
        use_bias: whether to add ``bias``.
        kernel_initializer: of the ``(in, 4*units)`` kernel (``glorot_uniform``).
        recurrent_initializer: of the ``(units, 4*units)`` recurrent kernel (``orthogonal``).
        bias_initializer: of the bias (``zeros``).
        unit_forget_bias: start the forget-gate bias at 1 (Keras's default ``True``).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: optional projections after
            each update, on Keras's layouts ``(in, 4*units)``, ``(units, 4*units)``, ``(4*units,)``.
        dropout: rate of the input dropout; one mask per sequence, the same at every step
            (Keras); keeps the fused kernel.
        recurrent_dropout: rate of the dropout on ``h`` in the recurrent product, one mask per
            sequence; runs the step loop while training.
        return_sequences: return every step's ``h`` ``(batch, timesteps, units)`` instead of the
            last one ``(batch, units)``.
        return_state: also return the final ``h`` and ``c``: ``[output, h, c]``.
        go_backwards: read the sequence backwards (the outputs come in reading order, as Keras).
        stateful: start every call from the states the previous call ended with (see
            ``reset_states()``); the batch size must stay the same.
        unroll: accepted for Keras compatibility (same results).
        seed: seed of the dropout masks.
        use_cudnn: accepted for Keras compatibility; the fused kernel is used when it can be.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: ``(batch, timesteps, features)``.
        initial_state: optional ``[h0, c0]``, each ``(batch, units)``.
        mask: optional bool ``(batch, timesteps)``: masked steps keep the states, and output the
            previous step's output (Keras).
        training: enables dropout.

    Raises:
        ValueError: for bad arguments, inputs that are not rank 3 or have another feature size,
            bad ``initial_state``/mask shapes, and a stateful layer fed another batch size.

    Example:
        >>> import torch
        >>> lstm = LSTM(4, return_sequences=True)
        >>> lstm(torch.zeros(2, 5, 3)).shape
        torch.Size([2, 5, 4])
        >>> lstm.count_params()  # 4 * (4 * (3 + 4) + 4)
        128
    """

    gates = 4
    mode = "LSTM"
    n_states = 2

    def __init__(self, units: int, *args: Any, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, *args, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _initial_keras_bias(self, dtype, device) -> torch.Tensor:
        init = self.bias_initializer
        if not self.unit_forget_bias:
            return init((4 * self.units,), dtype=dtype, device=device)
        ones = torch.ones(self.units, dtype=dtype, device=device)
        return torch.cat(
            [
                init((self.units,), dtype=dtype, device=device),
                ones,
                init((2 * self.units,), dtype=dtype, device=device),
            ]
        )

    def _fused_call(self, x, states):
        h0, c0 = (s.unsqueeze(0) for s in states)
        sequence, h, c = torch.lstm(
            x,
            (h0, c0),
            self._flat_weights(),
            self.bias is not None,
            1,
            0.0,
            torch.is_grad_enabled(),
            False,
            True,
        )
        return sequence, [h[0], c[0]]

    def _fused_packed(self, data, batch_sizes, states):
        h0, c0 = (s.unsqueeze(0) for s in states)
        out, h, c = torch.lstm(
            data,
            batch_sizes,
            (h0, c0),
            self._flat_weights(),
            self.bias is not None,
            1,
            0.0,
            torch.is_grad_enabled(),
            False,
        )
        return out, [h[0], c[0]]

    def _step(self, xw_t, states, rec_dp):
        h, c = states
        if rec_dp is not None:
            h = h * rec_dp
        act, rec_act = self.activation, self.recurrent_activation
        i, f, g, o = (xw_t + F.linear(h, self.recurrent_kernel)).chunk(4, dim=-1)
        c = rec_act(f) * c + rec_act(i) * act(g)
        h = rec_act(o) * act(c)
        return h, [h, c]

    def get_config(self) -> dict:
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config
