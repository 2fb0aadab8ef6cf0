"""MelSpectrogram: raw audio to (log-)mel spectrograms, as Keras 3's preprocessing layer.

Formula (``S`` samples, ``N = fft_length``, hop ``h = sequence_stride``, window ``w`` of
``sequence_length`` samples centred in ``N``, periodic Hann by default):

    X[t, k]  = rfft(w * x_pad[t h : t h + N])[k]         x_pad: x reflected by N // 2 on each side
    P[t, k]  = |X[t, k]| ** mag_exp                      (2: power, 1: magnitude)
    M[t, m]  = sum_k P[t, k] W[k, m]                     W: HTK mel filterbank, below
    dB       = 10 log10(max(M, min_power)) - 10 log10(max(|ref_power|, min_power))
    out      = max(dB, max(dB) - top_db)                 (max over the whole batch, as Keras)

The filterbank ``W`` (``N // 2 + 1`` rows, ``num_mel_bins`` columns) uses ``mel(f) = 1127 ln(1 + f / 700)``:
``num_mel_bins + 2`` points evenly spaced in mel between ``min_freq`` and ``max_freq`` give each
band's lower edge, centre and upper edge; bin ``k`` (frequency ``k * sampling_rate / N``, the DC
bin excluded) gets ``max(0, min(rising, falling))``, the triangle of height 1 measured in mel.

The output is ``(batch, num_mel_bins, frames)`` (Keras's layout: time last), with
``frames = 1 + samples // sequence_stride`` for an even ``fft_length``.

Example:
    >>> import torch
    >>> layer = MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=10, sampling_rate=8000)
    >>> layer(torch.rand(2, 256)).shape
    torch.Size([2, 10, 17])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from easynn import _validation
from easynn.layers.base import Layer

__all__ = ["MelSpectrogram", "linear_to_mel_weight_matrix"]

_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0
_WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window}  # periodic, as keras.ops.stft


def _hertz_to_mel(frequencies: np.ndarray | float) -> np.ndarray:
    return _MEL_HIGH_FREQUENCY_Q * np.log1p(np.asarray(frequencies, dtype=np.float64) / _MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins: int = 20, num_spectrogram_bins: int = 129, sampling_rate: float = 8000,
                                lower_edge_hertz: float = 125.0, upper_edge_hertz: float = 3800.0) -> np.ndarray:
    """The HTK mel filterbank ``(num_spectrogram_bins, num_mel_bins)`` (float64), peaks of 1.

    ``spectrogram @ matrix`` maps linear-frequency bins (``0 .. sampling_rate / 2``) to mel bands
    (see the module docstring). The first (DC) row is zero.

    Example:
        >>> w = linear_to_mel_weight_matrix(4, 9, 8000, 100.0, 4000.0)
        >>> w.shape, bool((w[0] == 0).all()), bool(w.max() <= 1.0)
        ((9, 4), True, True)
    """
    linear = np.linspace(0.0, sampling_rate / 2.0, num_spectrogram_bins)[1:]  # HTK drops the DC bin
    bins_mel = _hertz_to_mel(linear)[:, None]
    edges = np.linspace(_hertz_to_mel(lower_edge_hertz), _hertz_to_mel(upper_edge_hertz), num_mel_bins + 2)
    lower, center, upper = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.concatenate([np.zeros((1, num_mel_bins)), weights], axis=0)


class MelSpectrogram(Layer):
    """Converts raw audio signals to (log-)mel spectrograms: STFT, power, mel filterbank, decibels.

    See the module docstring for the formula. No weights; runs on the input's device.

    Args:
        fft_length: FFT size (2048).
        sequence_stride: samples between successive frames (512).
        sequence_length: window length, ``<= fft_length`` (``fft_length`` by default).
        window: ``"hann"`` (default), ``"hamming"`` (both periodic), an array of
            ``sequence_length`` values, or ``None`` (rectangular).
        sampling_rate: samples per second of the signal (16000).
        num_mel_bins: number of mel bands (128).
        min_freq: lower edge of the lowest band, Hz (20).
        max_freq: upper edge of the highest band, Hz (``int(sampling_rate / 2)`` by default).
        power_to_db: convert to decibels (True).
        top_db: the output is clipped below ``max - top_db`` (80).
        mag_exp: exponent of the magnitude: 1 for magnitude, 2 for power (2).
        min_power: floor of the power and of ``ref_power`` before the logarithm (1e-10).
        ref_power: 0 dB reference (1.0).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: float signals ``(batch, samples)``, or one ``(samples,)``; integers are converted
            to float. ``samples`` must exceed ``fft_length // 2`` (reflection padding).

    Shape:
        ``(batch, samples) -> (batch, num_mel_bins, frames)``; ``(samples,) -> (num_mel_bins, frames)``.

    Returns:
        The mel spectrogram, in dB with ``power_to_db=True``.

    Raises:
        ValueError: for non-positive sizes, ``fft_length < sequence_length``, an unknown
            ``window`` or one of the wrong length, inputs that are not rank 1 or 2, or signals too
            short for the reflection padding.

    Example:
        >>> import torch
        >>> layer = MelSpectrogram(fft_length=32, sequence_stride=8, num_mel_bins=4, sampling_rate=100,
        ...                        min_freq=0.0, power_to_db=False)
        >>> tone = torch.sin(2 * torch.pi * 5.0 * torch.arange(128) / 100)  # 5 Hz: the lowest band
        >>> layer(tone).mean(dim=1).argmax().item()
        0
    """

    def __init__(
        self,
        fft_length: int = 2048,
        sequence_stride: int = 512,
        sequence_length: int | None = None,
        window: Any = "hann",
        sampling_rate: int = 16000,
        num_mel_bins: int = 128,
        min_freq: float = 20.0,
        max_freq: float | None = None,
        power_to_db: bool = True,
        top_db: float = 80.0,
        mag_exp: float = 2.0,
        min_power: float = 1e-10,
        ref_power: float = 1.0,
        **kwargs: Any,
    ) -> None:
        fft_length = _validation.positive_int("fft_length", fft_length)
        sequence_stride = _validation.positive_int("sequence_stride", sequence_stride)
        sequence_length = fft_length if sequence_length is None else _validation.positive_int(
            "sequence_length", sequence_length)
        if fft_length < sequence_length:
            raise ValueError(
                "`fft_length` must be greater than or equal to `sequence_length`. Received: "
                f"sequence_length={sequence_length}, fft_length={fft_length}"
            )
        if isinstance(window, str):
            _validation.one_of("window", window, tuple(_WINDOWS))
        elif window is not None:
            values = np.asarray(window.detach().cpu() if isinstance(window, torch.Tensor) else window, dtype=np.float64)
            if values.shape != (sequence_length,):
                raise ValueError(
                    f"The shape of `window` must be ({sequence_length},) = (sequence_length,). Received: "
                    f"window shape={values.shape}"
                )
            window = values.tolist()
        sampling_rate = _validation.positive_float("sampling_rate", sampling_rate)
        num_mel_bins = _validation.positive_int("num_mel_bins", num_mel_bins)
        min_freq = _validation.non_negative_float("min_freq", min_freq)
        max_freq = int(sampling_rate / 2) if max_freq is None else _validation.positive_float("max_freq", max_freq)
        if max_freq <= min_freq:
            raise ValueError(f"`max_freq` must be greater than `min_freq`. Received: min_freq={min_freq}, "
                             f"max_freq={max_freq}")
        if top_db is not None:
            top_db = _validation.non_negative_float("top_db", top_db)
        mag_exp = _validation.positive_float("mag_exp", mag_exp)
        min_power = _validation.positive_float("min_power", min_power)
        ref_power = _validation._real("ref_power", ref_power, "a number")
        super().__init__(**kwargs)
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length
        self.window = window
        self.sampling_rate = int(sampling_rate) if float(sampling_rate).is_integer() else sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq
        self.power_to_db = bool(power_to_db)
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        self._cache: dict = {}

    def _constants(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The window and the mel filterbank for ``dtype`` on ``device`` (made once each)."""
        key = (dtype, device)
        if key not in self._cache:
            if isinstance(self.window, str):
                win = _WINDOWS[self.window](self.sequence_length, periodic=True, dtype=dtype, device=device)
            elif self.window is None:
                win = torch.ones(self.sequence_length, dtype=dtype, device=device)
            else:
                win = torch.as_tensor(self.window, dtype=dtype, device=device)
            matrix = linear_to_mel_weight_matrix(self.num_mel_bins, self.fft_length // 2 + 1, self.sampling_rate,
                                                 self.min_freq, self.max_freq)
            self._cache[key] = (win, torch.as_tensor(matrix, dtype=dtype, device=device))
        return self._cache[key]

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(inputs)
        if x.dim() not in (1, 2):
            raise ValueError(
                f"Layer '{self.name}' expects audio of shape (samples,) or (batch, samples). Received shape "
                f"{tuple(x.shape)}."
            )
        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        compute = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32  # stft's dtypes
        x = x.to(compute)
        if x.shape[-1] <= self.fft_length // 2:
            raise ValueError(
                f"Layer '{self.name}' needs more than fft_length // 2 = {self.fft_length // 2} samples per signal "
                f"(the frames are centred by reflection padding). Received shape {tuple(x.shape)}."
            )
        win, matrix = self._constants(compute, x.device)
        spectrum = torch.stft(x, n_fft=self.fft_length, hop_length=self.sequence_stride,
                              win_length=self.sequence_length, window=win, center=True, pad_mode="reflect",
                              onesided=True, return_complex=True)  # (..., bins, frames)
        power = spectrum.abs() ** self.mag_exp
        mel = torch.einsum("...kt,km->...mt", power, matrix)  # (..., num_mel_bins, frames)
        if self.power_to_db:
            mel = self._db(mel)
        return mel.to(inputs.dtype) if inputs.dtype in (torch.float16, torch.bfloat16) else mel

    def _db(self, mel: torch.Tensor) -> torch.Tensor:
        db = 10.0 * torch.log10(torch.clamp(mel, min=self.min_power))
        db = db - 10.0 * math.log10(max(abs(self.ref_power), self.min_power))
        if self.top_db is not None:
            db = torch.maximum(db, db.max() - self.top_db)
        return db

    def _frames(self, samples: int | None) -> int | None:
        if samples is None:
            return None
        return (samples + 2 * (self.fft_length // 2) - self.fft_length) // self.sequence_stride + 1

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        if len(input_shape) == 1:
            return (self.num_mel_bins, self._frames(input_shape[0]))
        if len(input_shape) != 2:
            raise ValueError(f"Layer '{self.name}' expects inputs of rank 1 or 2. Received: input_shape={input_shape}")
        return (input_shape[0], self.num_mel_bins, self._frames(input_shape[1]))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            fft_length=self.fft_length,
            sequence_stride=self.sequence_stride,
            sequence_length=self.sequence_length,
            window=self.window,
            sampling_rate=self.sampling_rate,
            num_mel_bins=self.num_mel_bins,
            min_freq=self.min_freq,
            max_freq=self.max_freq,
            power_to_db=self.power_to_db,
            top_db=self.top_db,
            mag_exp=self.mag_exp,
            min_power=self.min_power,
            ref_power=self.ref_power,
        )
        return config

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, fft_length={self.fft_length}, sequence_stride={self.sequence_stride}, "
                f"num_mel_bins={self.num_mel_bins}")
