"""ConvLSTM1D/2D/3D: an LSTM whose products are convolutions (Shi et al., 2015), as Keras has it.

Formula, per step (``*`` a convolution, Keras gate order ``i, f, c, o``):

    i, f, c~, o = split(x_t * kernel + b  +  h_{t-1} * recurrent_kernel)    (recurrent conv: 'same', stride 1)
    c_t = rec_act(f) c_{t-1} + rec_act(i) act(c~);     h_t = rec_act(o) act(c_t)

Weights in Keras's layout: ``kernel (*kernel_size, in_channels, 4*filters)``, ``recurrent_kernel
(*kernel_size, filters, 4*filters)``, ``bias (4*filters,)``. The input convolution of all steps
runs as one batched convolution before the loop; only the recurrent convolution is per step.

Example:
    >>> import torch
    >>> layer = ConvLSTM2D(filters=4, kernel_size=3, padding="same")
    >>> layer(torch.zeros(2, 5, 8, 8, 3)).shape
    torch.Size([2, 8, 8, 4])
    >>> layer.count_params()  # 4 * 4 * (3*3*3 + 3*3*4 + 1)
    1024
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from easynn import _validation, activations, constraints, initializers, regularizers
from easynn.layers.rnn.base import RecurrentBase, dropout_mask, first_shape, masked_loop

__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding (extra pixel at the end), valid for any stride."""
    effective = (kernel - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _out_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    return (size - (kernel - 1) * dilation - 1) // stride + 1


class _ConvLSTM(RecurrentBase):
    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
            stateful=stateful, **kwargs,
        )
        r = self.rank
        self.filters = _validation.positive_int("filters", filters)
        self.kernel_size = _validation.int_tuple("kernel_size", kernel_size, r)
        self.strides = _validation.int_tuple("strides", strides, r)
        self.dilation_rate = _validation.int_tuple("dilation_rate", dilation_rate, r)
        self.padding = _validation.one_of("padding", str(padding).lower(), ("valid", "same"))
        self.data_format = _validation.one_of(
            "data_format", data_format or "channels_last", ("channels_last", "channels_first"))
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint, argument="kernel_constraint")
        self.recurrent_constraint = constraints.get(recurrent_constraint, argument="recurrent_constraint")
        self.bias_constraint = constraints.get(bias_constraint, argument="bias_constraint")
        self.dropout = _validation.probability("dropout", dropout)
        self.recurrent_dropout = _validation.probability("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self._spatial: tuple[int, ...] | None = None

    # ------------------------------------------------------------------ shapes
    def _out_spatial(self, spatial) -> tuple[int, ...]:
        return tuple(
            _out_size(int(s), k, st, d, self.padding)
            for s, k, st, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        )

    def _split_shape(self, shape) -> tuple[tuple, int]:
        """(spatial, channels) of a per-step shape (without batch and time axes)."""
        if self.data_format == "channels_last":
            return tuple(shape[:-1]), shape[-1]
        return tuple(shape[1:]), shape[0]

    def state_shapes(self) -> list[tuple[int, ...]]:
        spatial = self._spatial or (1,) * self.rank
        shape = (*spatial, self.filters) if self.data_format == "channels_last" else (self.filters, *spatial)
        return [shape, shape]

    def output_units(self) -> Any:
        return self.state_shapes()[0]

    def compute_output_shape(self, input_shape):
        input_shape = first_shape(input_shape)
        spatial, _ = self._split_shape(tuple(input_shape)[2:])
        self._spatial = tuple(None if s is None else v for s, v in zip(spatial, self._out_spatial(
            [1 if s is None else s for s in spatial])))
        return super().compute_output_shape(input_shape)

    # ------------------------------------------------------------------ weights
    def build(self, input_shape) -> None:
        input_shape = first_shape(input_shape)
        if not isinstance(input_shape, tuple) or len(input_shape) != self.rank + 3:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank {self.rank + 3} (batch, timesteps, "
                f"{'spatial..., channels' if self.data_format == 'channels_last' else 'channels, spatial...'}), "
                f"but received input shape {input_shape}."
            )
        _, channels = self._split_shape(input_shape[2:])
        self.input_channels = int(channels)
        g = 4 * self.filters
        self.kernel = self.add_weight((*self.kernel_size, self.input_channels, g), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel",
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((*self.kernel_size, self.filters, g), self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer, name="recurrent_kernel",
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight((g,), self._initial_bias, regularizer=self.bias_regularizer, name="bias",
                                        constraint=self.bias_constraint)
        else:
            self.bias = None

    def _initial_bias(self, shape, dtype=None, device=None):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype, device=device)
        f = self.filters
        return torch.cat([self.bias_initializer((f,), dtype=dtype, device=device), torch.ones(f, dtype=dtype, device=device),
                          self.bias_initializer((2 * f,), dtype=dtype, device=device)])

    def _torch_kernel(self, kernel: torch.Tensor) -> torch.Tensor:
        """Keras ``(*k, in, out)`` -> torch ``(out, in, *k)``."""
        r = self.rank
        return kernel.permute(r + 1, r, *range(r))

    # ------------------------------------------------------------------ calling
    def call(self, inputs: torch.Tensor, initial_state: Any = None, mask: Any = None, training: bool | None = None):
        if isinstance(inputs, (list, tuple)):  # [inputs, *initial_states]
            inputs, extra = inputs[0], list(inputs[1:])
            initial_state = extra or initial_state
        if inputs.dim() != self.rank + 3:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank {self.rank + 3}, but received shape {tuple(inputs.shape)}."
            )
        spatial, _ = self._split_shape(tuple(inputs.shape[2:]))
        self._spatial = self._out_spatial(spatial)
        return super().call(inputs, initial_state=initial_state, mask=mask, training=training)

    def _to_channels_first(self, x: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_first":
            return x
        return x.movedim(-1, 1)

    def _to_keras(self, x: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_first":
            return x
        return x.movedim(1, -1)

    def _run(self, x, states, mask, training):
        conv = _CONV[self.rank]
        batch, steps = x.shape[:2]
        frames = self._to_channels_first(x.reshape(batch * steps, *x.shape[2:]))
        if training and (self.dropout or self.recurrent_dropout):
            if self.dropout:  # one input mask per sequence, the same at every step
                dp = dropout_mask(frames.new_ones(batch, *frames.shape[1:]), self.dropout)
                frames = (frames.reshape(batch, steps, *frames.shape[1:]) * dp[:, None]).reshape(frames.shape)
            rec_dp = (dropout_mask(frames.new_ones(batch, self.filters, *self._spatial), self.recurrent_dropout)
                      if self.recurrent_dropout else None)
        else:
            rec_dp = None
        if self.padding == "same":
            pads: list[int] = []
            for size, k, s, d in reversed(list(zip(frames.shape[2:], self.kernel_size, self.strides, self.dilation_rate))):
                pads += list(_same_padding(int(size), k, s, d))
            frames = F.pad(frames, pads)
        xw = conv(frames, self._torch_kernel(self.kernel), self.bias, stride=self.strides, dilation=self.dilation_rate)
        xw = xw.reshape(batch, steps, *xw.shape[1:])
        recurrent = self._torch_kernel(self.recurrent_kernel)
        act, rec_act = self.activation, self.recurrent_activation
        rec_pads: list[int] = []  # 'same' for the stride-1 recurrent convolution, padded explicitly
        for k, d in reversed(list(zip(self.kernel_size, self.dilation_rate))):
            rec_pads += list(_same_padding(1, k, 1, d))

        def step(xw_t, s):
            h, c = s
            hd = h if rec_dp is None else h * rec_dp
            z = xw_t + conv(F.pad(hd, rec_pads), recurrent, dilation=self.dilation_rate)
            i, f, g, o = z.chunk(4, dim=1)
            c = rec_act(f) * c + rec_act(i) * act(g)
            h = rec_act(o) * act(c)
            return h, [h, c]

        states = [self._to_channels_first(s) for s in states]
        sequence, last, states = masked_loop(step, xw, states, mask, zero_output_for_mask=self.zero_output_for_mask,
                                             return_sequences=self.return_sequences)
        if sequence is not None and self.data_format == "channels_last":
            sequence = sequence.movedim(2, -1)
        return sequence, self._to_keras(last), [self._to_keras(s) for s in states]

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("unroll", None)
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
            data_format=self.data_format, dilation_rate=self.dilation_rate,
            activation=activations.serialize(self.activation),
            recurrent_activation=activations.serialize(self.recurrent_activation), use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer), unit_forget_bias=self.unit_forget_bias,
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            recurrent_constraint=constraints.serialize(self.recurrent_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout, seed=self.seed,
        )
        return config


class ConvLSTM1D(_ConvLSTM):
    """1-D convolutional LSTM over ``(batch, timesteps, steps, channels)`` inputs.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
        recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
        bias_initializer, unit_forget_bias, kernel_regularizer, recurrent_regularizer,
        bias_regularizer, dropout, recurrent_dropout, seed, return_sequences, return_state,
        go_backwards, stateful, **kwargs: as for :class:`ConvLSTM2D`.

    Example:
        >>> import torch
        >>> ConvLSTM1D(2, 3)(torch.zeros(1, 4, 10, 3)).shape
        torch.Size([1, 8, 2])
    """

    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """2-D convolutional LSTM over ``(batch, timesteps, rows, cols, channels)`` inputs.

    Args:
        filters: number of output channels (the state ``h`` has ``filters`` channels).
        kernel_size: int or tuple: the size of both convolutions.
        strides, dilation_rate: of the input convolution (the recurrent one has stride 1).
        padding: ``"valid"`` or ``"same"`` for the input convolution.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        activation, recurrent_activation, use_bias, unit_forget_bias: as for ``LSTM``.
        kernel_initializer, recurrent_initializer, bias_initializer, kernel_regularizer,
        recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint,
        bias_constraint: for the weights.
        dropout, recurrent_dropout, seed: one dropout mask per sequence, as ``LSTM``.
        return_sequences, return_state, go_backwards, stateful: as for ``LSTM``.
        **kwargs: base layer arguments.

    Call arguments:
        inputs, initial_state (``[h, c]`` in the output's layout), mask, training: as ``LSTM``.

    Raises:
        ValueError: for bad arguments or inputs that are not rank 5.

    Example:
        >>> import torch
        >>> ConvLSTM2D(2, 3, return_sequences=True)(torch.zeros(1, 4, 6, 6, 1)).shape
        torch.Size([1, 4, 4, 4, 2])
    """

    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """3-D convolutional LSTM over ``(batch, timesteps, d1, d2, d3, channels)`` inputs.

    Args:
        filters, kernel_size, ...: as for :class:`ConvLSTM2D`.

    Example:
        >>> import torch
        >>> ConvLSTM3D(2, 2)(torch.zeros(1, 3, 4, 4, 4, 1)).shape
        torch.Size([1, 3, 3, 3, 2])
    """

    rank = 3
