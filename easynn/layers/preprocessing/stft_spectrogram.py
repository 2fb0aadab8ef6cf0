"""STFTSpectrogram: the short-time Fourier transform as a (trainable) 1-D convolution, as Keras 3.

Formula, for frame ``t`` of a channel ``x`` (``L = frame_length``, ``N = fft_length``, ``w`` the window,
``s = sqrt(sum w^2)`` for ``scaling="density"``, ``sum |w|`` for ``"spectrum"``, 1 for ``None``):

    X[t, k] = sum_{n<L} x[t * frame_step + n] * w[n] / s * exp(-2j pi k n / N),   k = 0 .. N//2

i.e. ``np.fft.rfft(w * frame / s, n=N)`` of each frame. It runs as ``conv1d`` with the two kernels
``real_kernel[n, 0, k] = cos(-2 pi k n / N) w[n] / s`` and ``imag_kernel[n, 0, k] = sin(...)``,
shape ``(frame_length, 1, N // 2 + 1)`` in Keras's layout: trainable weights, initialised to the
exact transform by ``easynn.initializers.STFT`` (Keras's ``STFTInitializer``), so the front end
can be fine-tuned. ``mode`` picks the output: ``"real"``,
``"imag"``, ``"angle"`` (``atan2(imag, real)``), ``"stft"`` (real then imaginary bins),
``"psd"`` (``|X|^2``, with the bins other than the first and last doubled), ``"magnitude"``
(``sqrt(max(|X|^2, eps))``) or ``"log"`` (``log(max(magnitude, eps))``), ``eps = 1e-7``.

Example:
    >>> import torch
    >>> layer = STFTSpectrogram(mode="log", frame_length=16, frame_step=8, fft_length=32)
    >>> layer(torch.rand(3, 160, 1)).shape  # (batch, frames, freq_bins)
    torch.Size([3, 19, 17])
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from easynn import _validation, initializers
from easynn.layers._conv_utils import normalize_data_format
from easynn.layers.base import Layer

__all__ = ["STFTSpectrogram"]

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_EPSILON = 1e-7  # Keras's backend.epsilon()
class STFTSpectrogram(Layer):
    """Spectrograms of 1-D signals (one per channel) by the short-time Fourier transform.

    See the module docstring for the formula and the modes. The same kernels are applied to every
    input channel.

    Args:
        mode: ``"log"`` (default), ``"magnitude"``, ``"psd"``, ``"real"``, ``"imag"``, ``"angle"``
            or ``"stft"``.
        frame_length: samples per frame (window), 256 by default.
        frame_step: hop between frames, in ``[1, frame_length]``; ``frame_length // 2`` by default.
        fft_length: FFT size, ``>= frame_length`` (a power of two is recommended; others warn);
            by default the smallest power of two ``>= frame_length``.
        window: ``"hann"`` (default), ``"hamming"``, ``"blackman"``, ``"bartlett"``, an array of
            ``frame_length`` values, or ``None`` (rectangular, and then no scaling).
        periodic: use the periodic window (for spectral analysis) instead of the symmetric one.
        scaling: ``"density"`` (divide the window by its L2 norm, default), ``"spectrum"`` (by its
            L1 norm) or ``None``.
        padding: ``"valid"`` (frames inside the signal) or ``"same"`` (zero-padded so that there
            are ``ceil(time / frame_step)`` frames).
        expand_dims: keep the channel axis apart (an image-like 4-D output).
        data_format: ``"channels_last"`` (``(batch, time, channels)``, default) or ``"channels_first"``.
        **kwargs: base layer arguments (``trainable=False`` freezes the kernels, ``name``...).

    Call arguments:
        inputs: a float tensor ``(batch, time, channels)`` (channels_last) or
            ``(batch, channels, time)`` (channels_first).

    Shape:
        ``F = fft_length // 2 + 1`` (``2 F`` for ``mode="stft"``), ``T'`` frames:
        channels_last ``(batch, T', channels * F)``, or ``(batch, T', F, channels)`` with
        ``expand_dims``; channels_first ``(batch, channels * F, T')``, or
        ``(batch, channels, T', F)`` with ``expand_dims``. The ``channels * F`` axis is channel-major.

    Returns:
        The spectrogram in the chosen ``mode``.

    Raises:
        ValueError: for an unknown ``mode``/``scaling``/``padding``/``window``, a ``frame_step``
            outside ``[1, frame_length]``, ``fft_length < frame_length``, a window array of the
            wrong length, or inputs that are not rank 3.
        TypeError: for non-float inputs.

    Example:
        >>> import torch
        >>> layer = STFTSpectrogram(mode="stft", frame_length=8, frame_step=4, padding="same", expand_dims=True)
        >>> layer(torch.rand(2, 20, 3)).shape  # 5 frames, 2 * 5 bins, 3 channels
        torch.Size([2, 5, 10, 3])
        >>> layer.count_params()  # two (8, 1, 5) kernels
        80
    """

    def __init__(
        self,
        mode: str = "log",
        frame_length: int = 256,
        frame_step: int | None = None,
        fft_length: int | None = None,
        window: Any = "hann",
        periodic: bool = False,
        scaling: str | None = "density",
        padding: str = "valid",
        expand_dims: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        _validation.one_of("mode", mode, _MODES)
        frame_length = _validation.positive_int("frame_length", frame_length)
        if frame_step is not None and (not _validation._is_int(frame_step) or not 1 <= frame_step <= frame_length):
            raise ValueError(
                "`frame_step` should be a positive integer not greater than `frame_length`. "
                f"Received: frame_step={frame_step!r}, frame_length={frame_length}"
            )
        if fft_length is not None:
            fft_length = _validation.positive_int("fft_length", fft_length)
            if fft_length < frame_length:
                raise ValueError(
                    "`fft_length` should be not less than `frame_length`. "
                    f"Received: fft_length={fft_length}, frame_length={frame_length}"
                )
            if fft_length & (fft_length - 1):
                warnings.warn(f"`fft_length` is recommended to be a power of two. Received: fft_length={fft_length}",
                              stacklevel=2)
        if scaling is not None:
            _validation.one_of("scaling", scaling, ("density", "spectrum", None))
        _validation.one_of("padding", padding, ("valid", "same"))
        if isinstance(window, str):
            initializers.STFT(window=window)  # raises for an unknown name
        elif window is not None:
            values = np.asarray(window.detach().cpu() if isinstance(window, torch.Tensor) else window, dtype=np.float64)
            if values.shape != (frame_length,):
                raise ValueError(
                    f"The shape of `window` must be ({frame_length},) = (frame_length,). Received: window "
                    f"shape={values.shape}"
                )
            window = values.tolist()
        data_format = normalize_data_format(data_format)
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = None if frame_step is None else int(frame_step)
        self._frame_step = self.frame_step or frame_length // 2 or 1
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = bool(periodic)
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = bool(expand_dims)
        self.data_format = data_format

    def build(self, input_shape) -> None:
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(
                shape, initializers.STFT("real", self.window, self.scaling, self.periodic), name="real_kernel")
        if self.mode != "real":
            self.imag_kernel = self.add_weight(
                shape, initializers.STFT("imag", self.window, self.scaling, self.periodic), name="imag_kernel")

    def _frames(self, length: int) -> int:
        if self.padding == "same":
            return -(-length // self._frame_step)
        return max((length - self.frame_length) // self._frame_step + 1, 0)

    def _convolve(self, signals: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """``(b * c, 1, time)`` -> ``(b * c, F, frames)``: one correlation per frequency bin."""
        weight = kernel.to(signals.dtype).permute(2, 1, 0)  # (F, 1, frame_length), torch's layout
        return F.conv1d(signals, weight, stride=self._frame_step)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() != 3:
            layout = "(batch, time, channels)" if self.data_format == "channels_last" else "(batch, channels, time)"
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank 3, {layout} for data_format={self.data_format!r}. "
                f"Received shape {tuple(inputs.shape)}."
            )
        if inputs.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
            raise TypeError(f"Invalid input type. Expected float16, float32 or float64. Received: input type={inputs.dtype}")
        x = inputs.transpose(1, 2) if self.data_format == "channels_last" else inputs  # (b, c, time)
        batch, channels, length = x.shape
        if self.padding == "valid" and length < self.frame_length:
            raise ValueError(
                f"Layer '{self.name}' with padding='valid' needs signals of at least frame_length="
                f"{self.frame_length} samples. Received {length} samples (input shape {tuple(inputs.shape)})."
            )
        signals = x.reshape(batch * channels, 1, length)
        if self.padding == "same":  # TensorFlow's rule: ceil(time / step) frames, the extra zero on the right
            total = max((self._frames(length) - 1) * self._frame_step + self.frame_length - length, 0)
            signals = F.pad(signals, (total // 2, total - total // 2))
        real = self._convolve(signals, self.real_kernel) if self.mode != "imag" else None
        imag = self._convolve(signals, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            out = real
        elif self.mode == "imag":
            out = imag
        elif self.mode == "angle":
            out = torch.atan2(imag, real)
        elif self.mode == "stft":
            out = torch.cat([real, imag], dim=1)
        else:
            power = real.square() + imag.square()
            if self.mode == "psd":  # one-sided power: the bins with a mirror image count twice
                out = power + F.pad(power[:, 1:-1], (0, 0, 1, 1))
            else:
                out = torch.sqrt(torch.clamp(power, min=_EPSILON))
                if self.mode == "log":
                    out = torch.log(torch.clamp(out, min=_EPSILON))
        return self._arrange(out.reshape(batch, channels, out.shape[1], out.shape[2]))

    def _arrange(self, out: torch.Tensor) -> torch.Tensor:
        """``(b, c, F, frames)`` -> Keras's output layout."""
        batch, channels, bins, frames = out.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return out.permute(0, 3, 2, 1)  # (b, frames, F, c)
            return out.reshape(batch, channels * bins, frames).transpose(1, 2)  # (b, frames, c * F)
        if self.expand_dims:
            return out.transpose(2, 3)  # (b, c, frames, F)
        return out.reshape(batch, channels * bins, frames)

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"Layer '{self.name}' expects inputs of rank 3. Received: input_shape={input_shape}")
        if self.data_format == "channels_last":
            batch, length, channels = input_shape
        else:
            batch, channels, length = input_shape
        bins = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        frames = None if length is None else self._frames(length)
        if self.expand_dims:
            return (batch, frames, bins, channels) if self.data_format == "channels_last" else (batch, channels, frames, bins)
        flat = None if channels is None else channels * bins
        return (batch, frames, flat) if self.data_format == "channels_last" else (batch, flat, frames)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            mode=self.mode,
            frame_length=self.frame_length,
            frame_step=self.frame_step,
            fft_length=self.fft_length,
            window=self.window,
            periodic=self.periodic,
            scaling=self.scaling,
            padding=self.padding,
            expand_dims=self.expand_dims,
            data_format=self.data_format,
        )
        return config

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, mode={self.mode!r}, frame_length={self.frame_length}, "
                f"frame_step={self._frame_step}, fft_length={self._fft_length}")
