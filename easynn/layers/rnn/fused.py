"""The machinery SimpleRNN, LSTM and GRU share: Keras's weights stored in torch's layout, run by
PyTorch's fused RNN kernels (cuDNN on a GPU), with packed sequences for padded batches.

Storage. ``get_weights()`` gives Keras's arrays: ``kernel (in, G*units)``, ``recurrent_kernel
(units, G*units)``, ``bias`` (SimpleRNN ``(units,)``, LSTM ``(4*units,)``, GRU ``(2, 3*units)``),
so parameter counts match Keras. Internally the weights are kept in torch's layout
(``(G*units, in)``; GRU gates in torch's order ``r, z, n``), so that ``torch.lstm``/``torch.gru``/
``torch.rnn_tanh`` (cuDNN on a GPU) run directly. Where Keras has one bias and torch two, the
second is a constant zero tensor, not a weight. On CUDA the weights are packed into one cuDNN
buffer (as ``nn.LSTM.flatten_parameters`` does).

Which path runs:
    * fused kernel: default activations, no mask, or a mask whose real steps form one block per
      row (right padding, and its reversal under ``go_backwards``) through packed sequences;
      ``dropout`` (one input mask per sequence) keeps the fused path;
    * step loop: other activations, GRU ``reset_after=False``, ``recurrent_dropout`` while
      training, and masks with holes.

A subclass sets ``gates``, ``mode`` and ``n_states`` and writes ``_fused_call`` (the kernel on a
whole batch), ``_fused_packed`` (on a packed batch) and ``_step`` (one step of the loop).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from easynn import _validation, activations, constraints, initializers, regularizers
from easynn.layers.rnn.base import (
    RecurrentBase,
    contiguous_spans,
    dropout_mask,
    first_shape,
    masked_loop,
    recurrent_arguments,
)

__all__ = ["FusedRNN"]


class FusedRNN(RecurrentBase):
    """Shared machinery of SimpleRNN, LSTM and GRU (``gates`` blocks of ``units`` each)."""

    gates = 4
    mode = "LSTM"
    n_states = 1

    def __init__(
        self,
        units: int,
        activation: str | Callable | None = "tanh",
        recurrent_activation: str | Callable | None = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        seed: int | None = None,
        use_cudnn: Any = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )
        self.units = _validation.positive_int("units", units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint, argument="kernel_constraint")
        self.recurrent_constraint = constraints.get(recurrent_constraint, argument="recurrent_constraint")
        self.bias_constraint = constraints.get(bias_constraint, argument="bias_constraint")
        self.dropout = _validation.probability("dropout", dropout)
        self.recurrent_dropout = _validation.probability("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self._generator: torch.Generator | None = None
        self.use_cudnn = use_cudnn
        self.input_dim: int | None = None
        self._flat_key: tuple | None = None
        self._fused = self.activation is activations.get("tanh") and (
            self.recurrent_activation is activations.get("sigmoid")
        )

    def state_shapes(self) -> list[tuple[int, ...]]:
        return [(self.units,)] * self.n_states

    def output_units(self) -> int:
        return self.units

    # ------------------------------------------------------------------ weights
    def _keras_bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def _initial_keras_bias(self, dtype, device) -> torch.Tensor:
        return self.bias_initializer(self._keras_bias_shape(), dtype=dtype, device=device)

    def build(self, input_shape) -> None:
        input_shape = first_shape(input_shape)
        if not isinstance(input_shape, tuple) or len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank 3 (batch, timesteps, features), "
                f"but received input shape {input_shape}."
            )
        self.input_dim = int(input_shape[-1])
        units, gates = self.units, self.gates
        dtype = self.dtype or torch.get_default_dtype()
        device = self._build_device
        # Initialize in Keras's layout (so the fans and the orthogonal axes are Keras's), then
        # store in torch's layout.
        with torch.no_grad():
            kernel = self.kernel_initializer((self.input_dim, gates * units), dtype=dtype, device=device)
            recurrent = self.recurrent_initializer((units, gates * units), dtype=dtype, device=device)
        self.kernel = self.add_weight(
            (gates * units, self.input_dim),
            "zeros",
            regularizer=self.kernel_regularizer,
            name="kernel",
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            (gates * units, units),
            "zeros",
            regularizer=self.recurrent_regularizer,
            name="recurrent_kernel",
            constraint=self.recurrent_constraint,
        )
        with torch.no_grad():
            self.kernel.copy_(self._to_torch("kernel", kernel))
            self.recurrent_kernel.copy_(self._to_torch("recurrent_kernel", recurrent))
        if self.use_bias:
            with torch.no_grad():
                bias = self._initial_keras_bias(dtype, device)
            self.bias = self.add_weight(
                self._keras_bias_shape(),
                "zeros",
                regularizer=self.bias_regularizer,
                name="bias",
                constraint=self.bias_constraint,
            )
            with torch.no_grad():
                self.bias.copy_(self._to_torch("bias", bias))
        else:
            self.bias = None

    def _role(self, weight: torch.Tensor) -> str:
        for name in ("kernel", "recurrent_kernel", "bias"):
            own = getattr(self, name, None)
            if own is not None and own.data_ptr() == weight.data_ptr() and own.shape == weight.shape:
                return name
        return ""

    # SimpleRNN and LSTM: same gate order in both libraries, Keras's (in, G*u) is torch's transposed.
    def _to_keras(self, role: str, weight: torch.Tensor) -> torch.Tensor:
        return weight.t() if role != "bias" else weight

    def _to_torch(self, role: str, value: torch.Tensor) -> torch.Tensor:
        return value.t() if role != "bias" else value

    def keras_layout(self, weight: torch.Tensor) -> torch.Tensor:
        role = self._role(weight)
        return self._to_keras(role, weight) if role else weight

    def torch_layout(self, weight: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        role = self._role(weight)
        return self._to_torch(role, value) if role else value

    def _hidden_bias(self) -> torch.Tensor:
        # torch wants a second (hidden-to-hidden) bias where Keras has none. A plain zero tensor
        # (not a buffer, so no weight list, state dict or parameter count sees it).
        zero = self.__dict__.get("_zero_bias")
        if zero is None or zero.device != self.kernel.device or zero.dtype != self.kernel.dtype:
            zero = torch.zeros(self.gates * self.units, dtype=self.kernel.dtype, device=self.kernel.device)
            self.__dict__["_zero_bias"] = zero
        return zero

    def _flat_weights(self) -> list[torch.Tensor]:
        if self.bias is None:
            return [self.kernel, self.recurrent_kernel]
        return [self.kernel, self.recurrent_kernel, self.bias, self._hidden_bias()]

    # ------------------------------------------------------------------ cuDNN packing
    def _flatten_for_cudnn(self) -> None:
        """Pack the weights into one cuDNN buffer (once per device move), like ``nn.LSTM``.

        Without it cuDNN copies the weights on every call (and warns). Any failure leaves the
        weights as they are: the result is the same, only slower.
        """
        key = tuple(w.data_ptr() for w in self._flat_weights())
        if key == self._flat_key:
            return
        self._flat_key = key
        try:
            self._pack_weights()
        except Exception:  # pragma: no cover - depends on the cuDNN build
            pass
        self._flat_key = tuple(w.data_ptr() for w in self._flat_weights())

    def _pack_weights(self) -> None:  # pragma: no cover - CUDA only
        self._cudnn_flatten(self._flat_weights())

    def _cudnn_flatten(self, tensors: list[torch.Tensor]) -> None:  # pragma: no cover - CUDA only
        import torch.backends.cudnn.rnn as cudnn_rnn

        first = tensors[0]
        if not (
            torch.backends.cudnn.is_acceptable(first)
            and torch._use_cudnn_rnn_flatten_weight()
            and all(t.is_cuda and t.dtype == first.dtype for t in tensors)
        ):
            return
        with torch.cuda.device_of(first), torch.no_grad():
            torch._cudnn_rnn_flatten_weight(
                tensors,
                4 if self.use_bias else 2,
                self.input_dim,
                cudnn_rnn.get_cudnn_mode(self._torch_mode()),
                self.units,
                0,
                1,
                True,
                False,
            )

    def _torch_mode(self) -> str:
        return self.mode

    # ------------------------------------------------------------------ calling
    def _use_fused(self) -> bool:
        return self._fused

    def _masks(self, x: torch.Tensor, training: bool) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Keras's dropout: one input mask and one recurrent mask per sequence, while training."""
        if not training or not (self.dropout or self.recurrent_dropout):
            return None, None
        if self.seed is not None and (self._generator is None or self._generator.device != x.device):
            self._generator = torch.Generator(device=x.device).manual_seed(int(self.seed))
        batch = x.shape[0]
        dp = dropout_mask(x.new_ones(batch, x.shape[-1]), self.dropout, self._generator) if self.dropout else None
        rec = (
            dropout_mask(x.new_ones(batch, self.units), self.recurrent_dropout, self._generator)
            if self.recurrent_dropout
            else None
        )
        return dp, rec

    def _run(self, x, states, mask, training):
        if x.shape[-1] != self.input_dim:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of shape (batch, timesteps, {self.input_dim}), "
                f"but received shape {tuple(x.shape)}."
            )
        if x.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            # oneDNN's low-precision RNN kernels reject torch's weight layout: run the recurrence
            # in the weights' dtype (what mixed precision keeps for variables) on CPU.
            dtype = self.kernel.dtype
            with torch.autocast("cpu", enabled=False):
                return self._run_in(x.to(dtype), [s.to(dtype) for s in states], mask, training)
        return self._run_in(x, states, mask, training)

    def _run_in(self, x, states, mask, training):
        dp, rec_dp = self._masks(x, training)
        if dp is not None:
            x = x * dp[:, None, :]
        if self._use_fused() and rec_dp is None:
            if x.is_cuda:
                self._flatten_for_cudnn()
            if mask is None:
                sequence, states = self._fused_call(x, states)
                return sequence, sequence[:, -1], states
            spans = contiguous_spans(mask)
            if spans is not None:
                return self._packed_call(x, states, *spans)
        xw = self._input_projection(x)
        return masked_loop(
            lambda xt, s: self._step(xt, s, rec_dp),
            xw,
            states,
            mask,
            zero_output_for_mask=self.zero_output_for_mask,
            return_sequences=self.return_sequences,
        )

    def _packed_call(self, x, states, start, lengths):
        """The fused kernel on a masked batch whose real steps form one block ``[start, start+len)``.

        Each row is shifted left by ``start`` (nothing to do for right padding) and packed with
        its length; the outputs are put back in place with Keras's rules: before the block zeros,
        after it the last real output (zeros with ``zero_output_for_mask``); rows without any
        real step keep their states. Without ``return_sequences`` the last output is the final
        ``h`` and the padded sequence is never built.
        """
        batch, steps = x.shape[:2]
        start_cpu, lengths_cpu = torch.stack([start, lengths]).cpu()  # one host sync
        right_padded = bool((start_cpu == 0).all())
        has_empty = bool((lengths_cpu == 0).any())
        position = torch.arange(steps, device=x.device)
        if right_padded:
            shifted = x
        else:
            index = (position[None, :] + start[:, None]).clamp(max=steps - 1)
            shifted = x.gather(1, index[..., None].expand(-1, -1, x.shape[-1]))
        packed = pack_padded_sequence(shifted, lengths_cpu.clamp(min=1), batch_first=True, enforce_sorted=False)
        sorted_states = [s.index_select(0, packed.sorted_indices) for s in states]
        data, new_states = self._fused_packed(packed.data, packed.batch_sizes, sorted_states)
        new_states = [s.index_select(0, packed.unsorted_indices) for s in new_states]
        real = lengths > 0
        if has_empty:
            new_states = [torch.where(real.view(-1, 1), n, s) for n, s in zip(new_states, states)]
        if not self.return_sequences and not self.zero_output_for_mask:
            last = new_states[0]
            if has_empty:
                last = last * real[:, None].to(last.dtype)
            return None, last, new_states
        padded, _ = pad_packed_sequence(packed._replace(data=data), batch_first=True, total_length=steps)
        relative = position[None, :] - start[:, None]
        source = torch.minimum(relative.clamp(min=0), (lengths - 1).clamp(min=0)[:, None])
        sequence = padded.gather(1, source[..., None].expand(-1, -1, padded.shape[-1]))
        valid = (relative >= 0) & real[:, None]
        if self.zero_output_for_mask:
            valid = valid & (relative < lengths[:, None])
        sequence = sequence * valid[..., None].to(sequence.dtype)
        return sequence, sequence[:, -1], new_states

    def _input_projection(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.kernel, self.bias)

    def _fused_call(self, x, states):
        raise NotImplementedError

    def _fused_packed(self, data, batch_sizes, states):
        raise NotImplementedError

    def _step(self, xw_t, states, rec_dp):
        raise NotImplementedError

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(recurrent_arguments(self))
        if self.gates > 1:
            config["use_cudnn"] = self.use_cudnn
        return config

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, in={self.input_dim}, units={self.units}, "
            f"return_sequences={self.return_sequences}, return_state={self.return_state}"
        )
