"""Recurrent layers: LSTM and GRU with Keras's weights, computed by PyTorch's fused RNN kernels.

LSTM (the lecture's long short-term memory), one step with input ``x`` and state ``(h, c)``:
``z = x @ kernel + h @ recurrent_kernel + bias`` split into gates ``i, f, c~, o`` (Keras's order);
``c' = sigmoid(f) * c + sigmoid(i) * tanh(c~)``; ``h' = sigmoid(o) * tanh(c')``.

GRU (Keras's default ``reset_after=True``, the cuDNN formulation), gates ``z, r, h~``:
``z = sigmoid(x Wz + bz + h Uz + rz)``, ``r = sigmoid(x Wr + br + h Ur + rr)``,
``h~ = tanh(x Wh + bh + r * (h Uh + rh))``, ``h' = z * h + (1 - z) * h~``.

Storage. ``get_weights()`` gives Keras's arrays: ``kernel (in, G*units)``, ``recurrent_kernel
(units, G*units)``, ``bias`` (LSTM ``(4*units,)``, GRU ``(2, 3*units)``), so parameter counts
match Keras. Internally the weights are kept in torch's layout (``(G*units, in)``; GRU gates in
torch's order ``r, z, n``), so that ``torch.lstm``/``torch.gru`` (cuDNN on a GPU) run directly.
Keras's LSTM has one bias where torch has two: the second is a constant zero tensor, not a weight.
On CUDA the weights are packed into one cuDNN buffer (as ``nn.LSTM.flatten_parameters`` does).
Non-default activations and GRU ``reset_after=False`` run a step-by-step loop instead.

Example:
    >>> import torch
    >>> lstm = LSTM(4)
    >>> lstm(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 4])
    >>> [w.shape for w in lstm.get_weights()]
    [(3, 16), (4, 16), (16,)]
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from easynn import activations, initializers, regularizers
from easynn.layers.base import Layer

__all__ = ["LSTM", "GRU"]


def _swap_first_two_gates(value: torch.Tensor, dim: int) -> torch.Tensor:
    """Reorder GRU gate blocks ``[a, b, c] -> [b, a, c]`` along ``dim`` (Keras z,r,h <-> torch r,z,n)."""
    a, b, c = value.chunk(3, dim=dim)
    return torch.cat([b, a, c], dim=dim)


class _RNN(Layer):
    """Shared machinery of LSTM and GRU (``gates`` blocks of ``units`` each)."""

    gates = 4
    mode = "LSTM"

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
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"`units` must be a positive integer. Received: units={units!r}")
        for name, value in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ValueError(f"`{name}` must be a number in [0, 1). Received: {name}={value!r}")
            if value:
                raise NotImplementedError(
                    f"{type(self).__name__}({name}={value}) is not supported by easynn yet: use "
                    f"{name}=0 and put a Dropout layer before or after the {type(self).__name__}."
                )
        if stateful:
            raise NotImplementedError(
                f"{type(self).__name__}(stateful=True) is not supported by easynn; pass "
                "`initial_state=` when calling the layer instead."
            )
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = False
        self.unroll = bool(unroll)  # accepted for Keras compatibility; the fused kernel is used
        self.seed = seed
        self.use_cudnn = use_cudnn
        self.input_dim: int | None = None
        self._flat_key: tuple | None = None
        self._fused = self.activation is activations.get("tanh") and (
            self.recurrent_activation is activations.get("sigmoid")
        )

    # ------------------------------------------------------------------ weights
    def _keras_bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def _initial_keras_bias(self, dtype, device) -> torch.Tensor:
        return initializers.get(self.bias_initializer)(self._keras_bias_shape(), dtype=dtype, device=device)

    def build(self, input_shape) -> None:
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
            kernel = initializers.get(self.kernel_initializer)((self.input_dim, gates * units), dtype=dtype, device=device)
            recurrent = initializers.get(self.recurrent_initializer)((units, gates * units), dtype=dtype, device=device)
        self.kernel = self.add_weight(
            (gates * units, self.input_dim), "zeros", regularizer=self.kernel_regularizer, name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            (gates * units, units), "zeros", regularizer=self.recurrent_regularizer, name="recurrent_kernel"
        )
        with torch.no_grad():
            self.kernel.copy_(self._to_torch("kernel", kernel))
            self.recurrent_kernel.copy_(self._to_torch("recurrent_kernel", recurrent))
        if self.use_bias:
            with torch.no_grad():
                bias = self._initial_keras_bias(dtype, device)
            self.bias = self.add_weight(
                self._keras_bias_shape(), "zeros", regularizer=self.bias_regularizer, name="bias"
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

    def _to_keras(self, role: str, weight: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _to_torch(self, role: str, value: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def keras_layout(self, weight: torch.Tensor) -> torch.Tensor:
        role = self._role(weight)
        return self._to_keras(role, weight) if role else weight

    def torch_layout(self, weight: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        role = self._role(weight)
        return self._to_torch(role, value) if role else value

    # ------------------------------------------------------------------ calling
    def _flat_weights(self) -> list[torch.Tensor]:
        raise NotImplementedError

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
                tensors, 4 if self.use_bias else 2, self.input_dim, cudnn_rnn.get_cudnn_mode(self.mode),
                self.units, 0, 1, True, False,
            )

    def call(self, inputs: torch.Tensor, initial_state: Any = None, training: bool | None = None):
        if inputs.dim() != 3 or inputs.shape[-1] != self.input_dim:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of shape (batch, timesteps, {self.input_dim}), "
                f"but received shape {tuple(inputs.shape)}."
            )
        x = inputs.flip(1) if self.go_backwards else inputs
        states = self._initial_states(x, initial_state)
        if self._use_fused():
            if x.is_cuda:
                self._flatten_for_cudnn()
            sequence, states = self._fused_call(x, states)
        else:
            sequence, states = self._loop_call(x, states)
        output = sequence if self.return_sequences else sequence[:, -1]
        if self.return_state:
            return [output, *states]
        return output

    def _use_fused(self) -> bool:
        return self._fused

    def _initial_states(self, x: torch.Tensor, initial_state: Any) -> list[torch.Tensor]:
        count = 2 if self.mode == "LSTM" else 1
        if initial_state is None:
            zeros = x.new_zeros((x.shape[0], self.units))
            return [zeros] * count
        states = [initial_state] if isinstance(initial_state, torch.Tensor) else list(initial_state)
        if len(states) != count or any(tuple(s.shape) != (x.shape[0], self.units) for s in states):
            raise ValueError(
                f"Layer '{self.name}' expects `initial_state` to be {count} tensor(s) of shape "
                f"(batch, units) = ({x.shape[0]}, {self.units}). Received shapes "
                f"{[tuple(s.shape) for s in states]}."
            )
        return states

    def _fused_call(self, x, states):
        raise NotImplementedError

    def _loop_call(self, x, states):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            count = 2 if self.mode == "LSTM" else 1
            return [output] + [(batch, self.units)] * count
        return output

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            recurrent_activation=activations.serialize(self.recurrent_activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            seed=self.seed,
            use_cudnn=self.use_cudnn,
        )
        return config

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, in={self.input_dim}, units={self.units}, "
            f"return_sequences={self.return_sequences}, return_state={self.return_state}"
        )


class LSTM(_RNN):
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
        dropout, recurrent_dropout: must be 0 (other values raise ``NotImplementedError``).
        return_sequences: return every step's ``h`` ``(batch, timesteps, units)`` instead of the
            last one ``(batch, units)``.
        return_state: also return the final ``h`` and ``c``: ``[output, h, c]``.
        go_backwards: read the sequence backwards (the outputs come in reading order, as Keras).
        stateful: must be ``False``.
        unroll, seed, use_cudnn: accepted for Keras compatibility; no effect.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: ``(batch, timesteps, features)``.
        initial_state: optional ``[h0, c0]``, each ``(batch, units)``.

    Raises:
        ValueError: for invalid arguments or inputs.
        NotImplementedError: for non-zero dropouts or ``stateful=True``.

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

    def __init__(self, units: int, *args: Any, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, *args, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _hidden_bias(self) -> torch.Tensor:
        # torch wants a second (hidden-to-hidden) bias; Keras has none. A plain zero tensor (not
        # a buffer, so no weight list, state dict or parameter count sees it), remade on a move.
        zero = self.__dict__.get("_zero_bias")
        if zero is None or zero.device != self.kernel.device or zero.dtype != self.kernel.dtype:
            zero = torch.zeros(4 * self.units, dtype=self.kernel.dtype, device=self.kernel.device)
            self.__dict__["_zero_bias"] = zero
        return zero

    def _initial_keras_bias(self, dtype, device) -> torch.Tensor:
        init = initializers.get(self.bias_initializer)
        if not self.unit_forget_bias:
            return init((4 * self.units,), dtype=dtype, device=device)
        ones = torch.ones(self.units, dtype=dtype, device=device)
        return torch.cat([
            init((self.units,), dtype=dtype, device=device), ones,
            init((2 * self.units,), dtype=dtype, device=device),
        ])

    # Same gate order in both libraries: Keras's (in, 4u) is the transpose of torch's (4u, in).
    def _to_keras(self, role: str, weight: torch.Tensor) -> torch.Tensor:
        return weight.t() if role != "bias" else weight

    def _to_torch(self, role: str, value: torch.Tensor) -> torch.Tensor:
        return value.t() if role != "bias" else value

    def _flat_weights(self) -> list[torch.Tensor]:
        if self.bias is None:
            return [self.kernel, self.recurrent_kernel]
        return [self.kernel, self.recurrent_kernel, self.bias, self._hidden_bias()]

    def _pack_weights(self) -> None:  # pragma: no cover - CUDA only
        self._cudnn_flatten(self._flat_weights())

    def _fused_call(self, x, states):
        h0, c0 = (s.unsqueeze(0) for s in states)
        sequence, h, c = torch.lstm(
            x, (h0, c0), self._flat_weights(), self.bias is not None, 1, 0.0,
            torch.is_grad_enabled(), False, True,
        )
        return sequence, [h[0], c[0]]

    def _loop_call(self, x, states):
        h, c = states
        xw = F.linear(x, self.kernel, self.bias)
        act, rec_act = self.activation, self.recurrent_activation
        outputs = []
        for t in range(x.shape[1]):
            z = xw[:, t] + F.linear(h, self.recurrent_kernel)
            i, f, g, o = z.chunk(4, dim=-1)
            c = rec_act(f) * c + rec_act(i) * act(g)
            h = rec_act(o) * act(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1), [h, c]

    def get_config(self) -> dict:
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRU(_RNN):
    """Gated recurrent unit over ``(batch, timesteps, features)`` inputs.

    Formula (per step, Keras gate order ``z, r, h``; ``reset_after=True``):
    ``z = rec_act(x Wz + h Uz + b_z)``, ``r = rec_act(x Wr + h Ur + b_r)``,
    ``h~ = act(x Wh + b_h + r * (h Uh + b'_h))``, ``h' = z * h + (1 - z) * h~``.
    With ``reset_after=False``: ``h~ = act(x Wh + b_h + (r * h) Uh)`` and a single bias.

    Args:
        units, activation, recurrent_activation, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
        bias_regularizer, dropout, recurrent_dropout, return_sequences, go_backwards, stateful,
        unroll, seed, use_cudnn, **kwargs: as for :class:`LSTM`.
        return_state: also return the final ``h``: ``[output, h]``.
        reset_after: Keras's default ``True`` (bias ``(2, 3*units)``: input and recurrent biases;
            the cuDNN/torch formulation). ``False`` runs a step-by-step loop.

    Call arguments:
        inputs: ``(batch, timesteps, features)``.
        initial_state: optional ``h0`` (or ``[h0]``) of shape ``(batch, units)``.

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
            x, states[0].unsqueeze(0), self._flat_weights(), self.bias is not None, 1, 0.0,
            torch.is_grad_enabled(), False, True,
        )
        return sequence, [h[0]]

    def _loop_call(self, x, states):
        (h,) = states
        units = self.units
        act, rec_act = self.activation, self.recurrent_activation
        if self.bias is None:
            input_bias = recurrent_bias = None
        elif self.reset_after:
            input_bias, recurrent_bias = self.bias[0], self.bias[1]
        else:
            input_bias, recurrent_bias = self.bias, None
        xw = F.linear(x, self.kernel, input_bias)  # torch order r, z, n
        outputs = []
        for t in range(x.shape[1]):
            x_r, x_z, x_n = xw[:, t].split(units, dim=-1)
            if self.reset_after:
                h_r, h_z, h_n = F.linear(h, self.recurrent_kernel, recurrent_bias).split(units, dim=-1)
                r = rec_act(x_r + h_r)
                z = rec_act(x_z + h_z)
                n = act(x_n + r * h_n)
            else:
                h_r, h_z = F.linear(h, self.recurrent_kernel[: 2 * units]).split(units, dim=-1)
                r = rec_act(x_r + h_r)
                z = rec_act(x_z + h_z)
                n = act(x_n + F.linear(r * h, self.recurrent_kernel[2 * units:]))
            h = z * h + (1 - z) * n
            outputs.append(h)
        return torch.stack(outputs, dim=1), [h]

    def get_config(self) -> dict:
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config
