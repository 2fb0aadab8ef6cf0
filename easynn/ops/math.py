"""The math family of ``keras.ops``: special functions, segment reductions, top-k, FFT/STFT.

Keras represents complex spectra as a ``(real, imag)`` pair of float tensors; ``fft``, ``rfft``,
``stft`` return such pairs and ``fft``/``ifft2``/``irfft``/``istft`` take them.

Example:
    >>> import torch
    >>> from easynn.ops import math
    >>> math.segment_sum(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0, 0, 1]))
    tensor([3., 3.])
    >>> math.top_k(torch.tensor([1.0, 4.0, 2.0]), 2).indices
    tensor([1, 2], dtype=torch.int32)
"""

from __future__ import annotations

import collections
from typing import Any

import torch

from easynn.ops._convert import dtype_name, fail, tensor
from easynn.ops._convert import real_floating as _float
from easynn.ops._dispatch import op

Tensor = torch.Tensor

__all__ = [
    "erf", "erfinv", "rsqrt", "logsumexp", "top_k", "in_top_k", "segment_sum", "segment_max", "extract_sequences",
    "fft", "fft2", "ifft2", "rfft", "irfft", "stft", "istft", "qr", "logdet", "view_as_complex", "view_as_real",
]

TopK = collections.namedtuple("TopK", ["values", "indices"])


@op
def erf(x: Any) -> Tensor:
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``.

    Example:
        >>> erf(torch.tensor([0.0]))
        tensor([0.])
    """
    return torch.erf(_float(x))


@op
def erfinv(x: Any) -> Tensor:
    """The inverse error function (``erf(erfinv(x)) == x`` on ``(-1, 1)``)."""
    return torch.erfinv(_float(x))


@op
def rsqrt(x: Any) -> Tensor:
    """``1 / sqrt(x)``.

    Example:
        >>> rsqrt(torch.tensor([4.0]))
        tensor([0.5000])
    """
    return torch.rsqrt(_float(x))


@op
def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis`` (all axes when ``None``), computed stably.

    Example:
        >>> logsumexp(torch.tensor([0.0, 0.0]))
        tensor(0.6931)
    """
    x = _float(x)
    dims = tuple(range(x.dim())) if axis is None else axis
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


@op
def top_k(x: Any, k: int, sorted: bool = True) -> TopK:  # noqa: A002 - Keras's name
    """The ``k`` largest entries along the last axis and their indices (int32).

    Returns:
        ``(values, indices)`` (a named tuple).

    Raises:
        ValueError: if ``k`` exceeds the last axis.
    """
    x = tensor(x)
    if not 0 <= int(k) <= x.shape[-1]:
        raise ValueError(f"top_k(): `k`={k} must be in [0, {x.shape[-1]}] for x of shape {tuple(x.shape)}.")
    values, indices = torch.topk(x, int(k), dim=-1, largest=True, sorted=sorted)
    return TopK(values, indices.to(torch.int32))


@op
def in_top_k(targets: Any, predictions: Any, k: int) -> Tensor:
    """Whether each target class is among the ``k`` highest predictions of its row.

    A target tied with the k-th value counts as in the top k (as TensorFlow/Keras do).

    Example:
        >>> in_top_k(torch.tensor([0, 1]), torch.tensor([[0.1, 0.9], [0.1, 0.9]]), 1)
        tensor([False,  True])
    """
    predictions = tensor(predictions)
    targets = tensor(targets).to(predictions.device).long()
    if predictions.dim() != 2 or targets.shape != predictions.shape[:1]:
        raise ValueError(
            f"in_top_k(): expected predictions (batch, classes) and targets (batch,). Received predictions "
            f"{tuple(predictions.shape)}, targets {tuple(targets.shape)}."
        )
    target_scores = predictions.gather(1, targets[:, None])
    better = (predictions > target_scores).sum(dim=1)
    return better < int(k)


def _segments(data: Tensor, segment_ids: Any, num_segments: int | None, name: str) -> tuple[Tensor, int]:
    ids = tensor(segment_ids).to(data.device)
    if ids.is_floating_point() or ids.dim() != 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(
            f"{name}(): `segment_ids` must be 1-D integers with one entry per row of data. Received segment_ids "
            f"{tuple(ids.shape)} ({dtype_name(ids.dtype)}) for data {tuple(data.shape)}."
        )
    count = int(num_segments) if num_segments is not None else (int(ids.max()) + 1 if ids.numel() else 0)
    return ids.long(), count


@op
def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> Tensor:  # noqa: A002
    """Sums of the rows of ``data`` that share a segment id (empty segments are 0).

    Example:
        >>> segment_sum(torch.tensor([[1, 2], [3, 4], [5, 6]]), torch.tensor([1, 1, 0]), num_segments=3)
        tensor([[5, 6],
                [4, 6],
                [0, 0]])
    """
    data = tensor(data)
    ids, count = _segments(data, segment_ids, num_segments, "segment_sum")
    out = torch.zeros((count,) + tuple(data.shape[1:]), dtype=data.dtype, device=data.device)
    keep = (ids >= 0) & (ids < count)
    return out.index_add(0, ids[keep], data[keep])


@op
def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> Tensor:  # noqa: A002
    """Maxima of the rows of ``data`` that share a segment id (empty segments: the dtype's lowest value).

    Example:
        >>> segment_max(torch.tensor([1.0, 5.0, 3.0]), torch.tensor([0, 0, 1]))
        tensor([5., 3.])
    """
    data = tensor(data)
    ids, count = _segments(data, segment_ids, num_segments, "segment_max")
    low = torch.finfo(data.dtype).min if data.is_floating_point() else torch.iinfo(data.dtype).min
    out = torch.full((count,) + tuple(data.shape[1:]), low, dtype=data.dtype, device=data.device)
    keep = (ids >= 0) & (ids < count)
    index = ids[keep].reshape((-1,) + (1,) * (data.dim() - 1)).expand_as(data[keep])
    return out.scatter_reduce(0, index, data[keep], reduce="amax", include_self=True)


@op
def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> Tensor:
    """Frames of the last axis: ``(..., T)`` -> ``(..., num_frames, sequence_length)``.

    Example:
        >>> extract_sequences(torch.arange(5), 2, 2)
        tensor([[0, 1],
                [2, 3]])
    """
    x = tensor(x)
    if sequence_length > x.shape[-1]:
        raise ValueError(f"extract_sequences(): sequence_length={sequence_length} exceeds the last axis ({x.shape[-1]}).")
    return x.unfold(-1, int(sequence_length), int(sequence_stride))


def _complex(x: Any, name: str) -> Tensor:
    if not isinstance(x, (list, tuple)) or len(x) != 2:
        raise ValueError(f"{name}(): `x` must be a tuple (real, imag) of two tensors. Received: {type(x).__name__}")
    real, imag = _float(x[0]), _float(x[1])
    if real.shape != imag.shape:
        raise ValueError(f"{name}(): real and imaginary parts differ in shape: {tuple(real.shape)} vs {tuple(imag.shape)}.")
    return torch.complex(real, imag.to(real.dtype))


def _pair(z: Tensor) -> tuple[Tensor, Tensor]:
    return z.real.contiguous(), z.imag.contiguous()


@op
def fft(x: Any) -> tuple[Tensor, Tensor]:
    """The FFT along the last axis of the complex signal ``x = (real, imag)``; returns ``(real, imag)``."""
    return _pair(torch.fft.fft(_complex(x, "fft"), dim=-1))


@op
def fft2(x: Any) -> tuple[Tensor, Tensor]:
    """The 2-D FFT over the last two axes of ``x = (real, imag)``; returns ``(real, imag)``."""
    return _pair(torch.fft.fft2(_complex(x, "fft2"), dim=(-2, -1)))


@op
def ifft2(x: Any) -> tuple[Tensor, Tensor]:
    """The inverse 2-D FFT over the last two axes of ``x = (real, imag)``; returns ``(real, imag)``."""
    return _pair(torch.fft.ifft2(_complex(x, "ifft2"), dim=(-2, -1)))


@op
def rfft(x: Any, fft_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The FFT of a real signal along the last axis: ``fft_length // 2 + 1`` bins as ``(real, imag)``.

    Example:
        >>> real, imag = rfft(torch.tensor([1.0, 1.0, 1.0, 1.0]))
        >>> real.tolist(), imag.tolist()
        ([4.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    """
    return _pair(torch.fft.rfft(_float(x), n=fft_length, dim=-1))


@op
def irfft(x: Any, fft_length: int | None = None) -> Tensor:
    """The inverse of ``rfft``: a real signal of length ``fft_length`` (``2 * (bins - 1)`` by default)."""
    return torch.fft.irfft(_complex(x, "irfft"), n=fft_length, dim=-1)


def _window(window: Any, sequence_length: int, dtype: torch.dtype, device: torch.device) -> Tensor | None:
    if window is None:
        return None
    if isinstance(window, str):
        makers = {"hann": torch.hann_window, "hamming": torch.hamming_window}
        if window not in makers:
            raise ValueError(f"`window` must be 'hann', 'hamming', None or a tensor. Received: window={window!r}")
        return makers[window](sequence_length, periodic=True, dtype=dtype, device=device)
    window = tensor(window).to(dtype=dtype, device=device)
    if window.shape != (sequence_length,):
        raise ValueError(f"`window` must have shape ({sequence_length},). Received {tuple(window.shape)}")
    return window


@op
def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, window: Any = "hann",
         center: bool = True) -> tuple[Tensor, Tensor]:
    """Short-time Fourier transform of real signals ``(..., T)``: ``(real, imag)`` of shape
    ``(..., frames, fft_length // 2 + 1)``.

    Args:
        x: the signals.
        sequence_length: the window (frame) length.
        sequence_stride: the hop between frames.
        fft_length: the FFT size (>= ``sequence_length``; the window is centred in it).
        window: ``"hann"`` (periodic), ``"hamming"``, ``None`` (rectangular) or a tensor.
        center: pad the signal by ``fft_length // 2`` on both sides (reflection), so frame ``t``
            is centred at ``t * sequence_stride``.
    """
    x = _float(x)
    if fft_length < sequence_length:
        raise ValueError(f"stft(): fft_length={fft_length} must be >= sequence_length={sequence_length}.")
    win = _window(window, sequence_length, x.dtype, x.device)
    if win is None:
        win = torch.ones(sequence_length, dtype=x.dtype, device=x.device)
    batch_shape = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1])
    z = torch.stft(flat, n_fft=int(fft_length), hop_length=int(sequence_stride), win_length=int(sequence_length),
                   window=win, center=center, pad_mode="reflect", normalized=False, onesided=True, return_complex=True)
    z = z.transpose(-2, -1).reshape(batch_shape + z.shape[-1:] + z.shape[-2:-1])
    return _pair(z)


@op
def istft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, length: int | None = None,
          window: Any = "hann", center: bool = True) -> Tensor:
    """The inverse of ``stft``: real signals from ``(real, imag)`` frames."""
    z = _complex(x, "istft")
    win = _window(window, sequence_length, z.real.dtype, z.device)
    if win is None:
        win = torch.ones(sequence_length, dtype=z.real.dtype, device=z.device)
    batch_shape = z.shape[:-2]
    flat = z.reshape((-1,) + tuple(z.shape[-2:])).transpose(-2, -1)
    try:
        out = torch.istft(flat, n_fft=int(fft_length), hop_length=int(sequence_stride),
                          win_length=int(sequence_length), window=win, center=center, length=length)
    except RuntimeError as error:
        raise fail("istft", error, x=z.real) from None
    return out.reshape(batch_shape + out.shape[-1:])


@op
def qr(x: Any, mode: str = "reduced") -> tuple[Tensor, Tensor]:
    """The QR decomposition ``x = q @ r`` (``mode``: ``"reduced"`` or ``"complete"``)."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr(): `mode` must be 'reduced' or 'complete'. Received: mode={mode!r}")
    return tuple(torch.linalg.qr(_float(x), mode=mode))


@op
def logdet(x: Any) -> Tensor:
    """``log(det(x))`` of (batches of) square matrices, computed stably (NaN for a negative determinant)."""
    return torch.logdet(_float(x))


@op
def view_as_complex(x: Any) -> Tensor:
    """A real ``(..., 2)`` tensor read as complex numbers: ``out = x[..., 0] + i x[..., 1]``.

    Args:
        x: real tensor whose last axis has length 2 (integers are computed as float32).

    Returns:
        A complex tensor of shape ``x.shape[:-1]`` (complex64 from float32, complex128 from float64),
        sharing memory with ``x`` when ``x`` is contiguous.

    Raises:
        ValueError: the last axis is not of length 2.
        TypeError: ``x`` is complex.

    Example:
        >>> view_as_complex(torch.tensor([[1.0, 2.0], [3.0, -4.0]]))
        tensor([1.+2.j, 3.-4.j])
    """
    x = tensor(x)
    if x.is_complex():
        raise TypeError(f"view_as_complex(): `x` must be real. Received: x.dtype={dtype_name(x.dtype)}")
    if x.dim() == 0 or x.shape[-1] != 2:
        raise ValueError(f"view_as_complex(): the last axis of `x` must have length 2 (real, imaginary). "
                         f"Received: x.shape={tuple(x.shape)}")
    if x.dtype not in (torch.float32, torch.float64):
        x = x.to(torch.float32)
    return torch.view_as_complex(x.contiguous())


@op
def view_as_real(x: Any) -> Tensor:
    """A complex tensor as real ``(..., 2)`` pairs: ``out[..., 0] = real(x)``, ``out[..., 1] = imag(x)``.

    Args:
        x: complex tensor.

    Returns:
        A real tensor of shape ``(*x.shape, 2)`` (float32 from complex64), sharing memory with ``x``.

    Raises:
        TypeError: ``x`` is not complex.

    Example:
        >>> view_as_real(torch.tensor([1 + 2j, 3 - 4j]))
        tensor([[ 1.,  2.],
                [ 3., -4.]])
    """
    x = tensor(x)
    if not x.is_complex():
        raise TypeError(f"view_as_real(): `x` must be complex. Received: x.dtype={dtype_name(x.dtype)}")
    return torch.view_as_real(x.resolve_conj())
