"""``STFT``: the DFT kernels behind ``STFTSpectrogram``, as a Keras initializer."""

from __future__ import annotations

import math
from typing import Any

import torch

from easynn.initializers.base import Initializer

__all__ = ["STFT"]


# Window functions of the STFT kernels: scipy.signal.get_window's names, made by torch (the same
# formulas; ``periodic`` is scipy's ``fftbins``).
_STFT_WINDOWS = {
    "hann": torch.hann_window,
    "hamming": torch.hamming_window,
    "blackman": torch.blackman_window,
    "bartlett": torch.bartlett_window,
}


class STFT(Initializer):
    """The real or imaginary DFT kernel of a convolutional STFT (``STFTSpectrogram``'s weights).

    Formula, for a shape ``(T, 1, F)`` (``T`` samples per frame, ``F = N // 2 + 1`` bins of an
    ``N = 2 (F - 1)`` point FFT), ``w`` the window and ``s`` its scale (``sqrt(sum w^2)`` for
    ``"density"``, ``sum |w|`` for ``"spectrum"``, 1 for ``None`` or without a window):

        real[n, 0, k] = cos(-2 pi k n / N) * w[n] / s
        imag[n, 0, k] = sin(-2 pi k n / N) * w[n] / s

    so a frame ``x`` correlated with the two kernels gives ``np.fft.rfft(w * x / s, n=N)``. The
    values are computed in float64 and cast to ``dtype``.

    Args:
        side: ``"real"`` (default) or ``"imag"``: which part of the transform the kernel computes.
        window: ``"hann"`` (default), ``"hamming"``, ``"blackman"``, ``"bartlett"``, an array of
            ``T`` values, or ``None`` (no window and no scaling).
        scaling: ``"density"`` (default, divide by the window's L2 norm), ``"spectrum"`` (by its
            L1 norm) or ``None``.
        periodic: use the periodic window (scipy's ``fftbins=True``) instead of the symmetric one.

    Returns:
        ``__call__(shape, dtype=None, device=None)`` returns the ``(T, 1, F)`` kernel.

    Raises:
        ValueError: for an unknown ``side``, ``window`` name or ``scaling``, a window array that is
            not 1-D, a shape that is not ``(T, 1, F)``, or a window whose length is not ``T``.
        TypeError: for a ``periodic`` that is not a bool.

    Example:
        >>> kernel = STFT("real", window=None)((4, 1, 3))
        >>> kernel[:, 0, :].round().int().tolist()  # cos(-2 pi k n / 4), k = 0, 1, 2
        [[1, 1, 1], [1, 0, -1], [1, -1, 1], [1, 0, -1]]
    """

    def __init__(self, side: str = "real", window: Any = "hann", scaling: str | None = "density",
                 periodic: bool = False):
        if side not in ("real", "imag"):
            raise ValueError(f"`side` should be 'real' or 'imag'. Received: side={side!r}")
        if isinstance(window, str):
            if window not in _STFT_WINDOWS:
                raise ValueError(
                    f"`window` must be one of {', '.join(map(repr, _STFT_WINDOWS))}, an array of frame_length "
                    f"values or None. Received: window={window!r}"
                )
        elif window is not None:
            values = window.detach().cpu() if isinstance(window, torch.Tensor) else window
            values = torch.as_tensor(values, dtype=torch.float64)
            if values.dim() != 1:
                raise ValueError(f"`window` must be a 1-D array. Received: window of shape {tuple(values.shape)}")
            window = values.tolist()
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                f"`scaling` is invalid, it must be None, 'density' or 'spectrum'. Received: scaling={scaling!r}"
            )
        if not isinstance(periodic, bool):
            raise TypeError(f"`periodic` must be a bool. Received: periodic={periodic!r}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None, device=None):
        shape = tuple(int(s) for s in shape)
        if len(shape) != 3:
            raise ValueError(f"STFT kernels have shape (frame_length, 1, fft_length // 2 + 1). Received: shape={shape}")
        frame_length, _, bins = shape
        fft_length = max((bins - 1) * 2, 1)  # Keras derives N from the number of bins (1 bin: the DC term)
        n = torch.arange(frame_length, dtype=torch.float64)[:, None, None]
        k = torch.arange(bins, dtype=torch.float64)[None, None, :]
        angle = -2.0 * math.pi * n * k / fft_length
        kernel = torch.cos(angle) if self.side == "real" else torch.sin(angle)
        if self.window is not None:
            if isinstance(self.window, str):
                win = _STFT_WINDOWS[self.window](frame_length, periodic=self.periodic, dtype=torch.float64)
            else:
                win = torch.tensor(self.window, dtype=torch.float64)
            if win.shape != (frame_length,):
                raise ValueError(
                    f"The shape of `window` must be equal to [frame_length] = [{frame_length}]. "
                    f"Received: window shape={tuple(win.shape)}"
                )
            if self.scaling == "density":
                scale = torch.sqrt(torch.sum(win**2))
            elif self.scaling == "spectrum":
                scale = torch.sum(torch.abs(win))
            else:
                scale = 1.0
            kernel = kernel * win[:, None, None] / scale
        return kernel.to(dtype=dtype or torch.get_default_dtype(), device=device)

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic, "scaling": self.scaling}
