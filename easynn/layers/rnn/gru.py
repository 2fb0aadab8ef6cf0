"""GRU with Keras's weights on torch's fused kernel.

Keras's default ``reset_after=True`` is the cuDNN formulation, gates ``z, r, h~``:
``z = sigmoid(x Wz + bz + h Uz + rz)``, ``r = sigmoid(x Wr + br + h Ur + rr)``,
``h~ = tanh(x Wh + bh + r * (h Uh + rh))``, ``h' = z * h + (1 - z) * h~``. Keras orders the gate
blocks ``z, r, h``, torch ``r, z, n``: the weights are reordered between the two layouts.

Example:
    >>> import torch
    >>> gru = GRU(4)
    >>> gru(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 4])
    >>> [w.shape for w in gru.get_weights()]  # Keras's layout: bias rows = input and recurrent
    [(3, 12), (4, 12), (2, 12)]
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn.layers.rnn.fused import FusedRNN

__all__ = ["GRU"]


def _swap_first_two_gates(value: torch.Tensor, dim: int) -> torch.Tensor:
    """Reorder GRU gate blocks ``[a, b, c] -> [b, a, c]`` along ``dim`` (Keras z,r,h <-> torch r,z,n)."""
    a, b, c = value.chunk(3, dim=dim)
    return torch.cat([b, a, c], dim=dim)


class GRU(FusedRNN):
    """Gated recurrent unit over ``(batch, timesteps, features)`` inputs.

    Formula (per step, Keras gate order ``z, r, h``; ``reset_after=True``):
    ``z = rec_act(x Wz + h Uz + b_z)``, ``r = rec_act(x Wr + h Ur + b_r)``,
    ``h~ = act(x Wh + b_h + r * (h Uh + b'_h))``, ``h' = z * h + (1 - z) * h~``.
    With ``reset_after=False``: ``h~ = act(x Wh + b_h + (r * h) Uh)`` and a single bias.

    Args:
        units, activation, recurrent_activation, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
        bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
        recurrent_dropout, return_sequences, go_backwards, stateful, unroll, seed, use_cudnn,
        **kwargs: as for :class:`LSTM` (the bias constraint sees Keras's ``(2, 3*units)``).
        return_state: also return the final ``h``: ``[output, h]``.
        reset_after: Keras's default ``True`` (bias ``(2, 3*units)``: input and recurrent biases;
            the cuDNN/torch formulation). ``False`` runs a step-by-step loop.

    Call arguments:
        inputs: ``(batch, timesteps, features)``.
        initial_state: optional ``h0`` (or ``[h0]``) of shape ``(batch, units)``.
        mask, training: as for :class:`LSTM`.

    Example:
        >>> import torch
        >>> gru = GRU(4)
        >>> gru(torch.zeros(2, 5, 3)).shape
        torch.Size([2, 4])
        >>> gru.count_params()  # 3 * (4 * (3 + 4) + 2 * 4)
        108
    """

    gates = 3
    mode = "GRU"
    n_states = 1

    def __init__(self, units: int, *args: Any, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, *args, **kwargs)
        self.reset_after = bool(reset_after)

    def _keras_bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _use_fused(self) -> bool:
        return self._fused and self.reset_after

    def _to_keras(self, role: str, weight: torch.Tensor) -> torch.Tensor:
        if role == "bias":
            return _swap_first_two_gates(weight, dim=-1)
        return _swap_first_two_gates(weight, dim=0).t()

    def _to_torch(self, role: str, value: torch.Tensor) -> torch.Tensor:
        if role == "bias":
            return _swap_first_two_gates(value, dim=-1)
        return _swap_first_two_gates(value.t(), dim=0)

    def _flat_weights(self) -> list[torch.Tensor]:
        if self.bias is None:
            return [self.kernel, self.recurrent_kernel]
        return [self.kernel, self.recurrent_kernel, self.bias[0], self.bias[1]]

    def _pack_weights(self) -> None:  # pragma: no cover - CUDA only
        if self.bias is None:
            self._cudnn_flatten(self._flat_weights())
            return
        # torch wants two bias tensors; Keras has one (2, 3u) weight. Flatten copies of the two
        # rows, then point the (2, 3u) bias at them when cuDNN put them side by side.
        b_ih, b_hh = self.bias[0].detach().clone(), self.bias[1].detach().clone()
        tensors = [self.kernel, self.recurrent_kernel, b_ih, b_hh]
        self._cudnn_flatten(tensors)
        step = b_ih.numel() * b_ih.element_size()
        if b_ih.untyped_storage().data_ptr() == b_hh.untyped_storage().data_ptr() and (
            b_hh.data_ptr() - b_ih.data_ptr() == step
        ):
            with torch.no_grad():
                self.bias.set_(b_ih.untyped_storage(), b_ih.storage_offset(), self.bias.shape, (self.bias.shape[1], 1))

    def _fused_call(self, x, states):
        sequence, h = torch.gru(
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
        out, h = torch.gru(
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

    def _input_projection(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is None:
            return F.linear(x, self.kernel)
        return F.linear(x, self.kernel, self.bias[0] if self.reset_after else self.bias)

    def _step(self, xw_t, states, rec_dp):
        (h,) = states
        hd = h if rec_dp is None else h * rec_dp
        units = self.units
        act, rec_act = self.activation, self.recurrent_activation
        x_r, x_z, x_n = xw_t.split(units, dim=-1)  # torch order r, z, n
        if self.reset_after:
            recurrent_bias = None if self.bias is None else self.bias[1]
            h_r, h_z, h_n = F.linear(hd, self.recurrent_kernel, recurrent_bias).split(units, dim=-1)
            r = rec_act(x_r + h_r)
            z = rec_act(x_z + h_z)
            n = act(x_n + r * h_n)
        else:
            h_r, h_z = F.linear(hd, self.recurrent_kernel[: 2 * units]).split(units, dim=-1)
            r = rec_act(x_r + h_r)
            z = rec_act(x_z + h_z)
            n = act(x_n + F.linear(r * hd, self.recurrent_kernel[2 * units :]))
        h = z * h + (1 - z) * n
        return h, [h]

    def get_config(self) -> dict:
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config
