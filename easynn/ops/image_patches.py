"""Volume patches and patch reassembly of ``keras.ops.image`` (re-exported by ``easynn.ops.image``):
``extract_patches_3d``, ``reconstruct_patches`` and ``reconstruct_patches_3d``. ``extract_patches``
(2-D, and 3-D when ``size`` has three entries) is in ``easynn.ops.image``.

A patch is stored as one flat vector ordered (depth,) row, column, channel — TensorFlow's order —
on the last axis (channels_last) or on axis 1 after the batch (channels_first). "same" padding
pads as TensorFlow does: ``total = max((ceil(n / s) - 1) s + (k - 1) d + 1 - n, 0)``, ``total // 2``
before and the rest after.

Example:
    >>> import torch
    >>> volume = torch.arange(64.0).reshape(1, 4, 4, 4, 1)
    >>> patches = extract_patches_3d(volume, 2)
    >>> patches.shape, reconstruct_patches_3d(patches, 2).equal(volume)
    (torch.Size([1, 2, 2, 2, 8]), True)
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn import _validation
from easynn.ops._convert import real_floating as _float
from easynn.ops._dispatch import op
from easynn.ops._image_layout import _data_format

Tensor = torch.Tensor

__all__ = ["extract_patches_3d", "reconstruct_patches", "reconstruct_patches_3d"]


def _same_pads(sizes, kernel, strides, dilation) -> list[tuple[int, int]]:
    """``(before, after)`` padding per spatial axis for TensorFlow's "same"."""
    pads = []
    for n, k, s, d in zip(sizes, kernel, strides, dilation):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _padding(name: str, padding: Any) -> str:
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in ("valid", "same"):
        raise ValueError(f"{name}(): `padding` must be 'valid' or 'same'. Received: padding={padding!r}")
    return value


@op
def extract_patches_3d(volumes: Any, size: Any, strides: Any = None, dilation_rate: Any = 1, padding: str = "valid",
                       data_format: str | None = None) -> Tensor:
    """Patches of ``size = (pd, ph, pw)`` of volumes, each flattened to a vector.

    Formula: ``out[n, i, j, l, ((a ph + b) pw + c) C + ch] = xpad[n, i sd + a dd, j sh + b dh, l sw + c dw, ch]``
    (channels last), ``xpad`` being the volume padded for ``padding="same"``.

    Args:
        volumes: 4-D ``(depth, height, width, channels)`` or 5-D with a batch axis (or channels first).
        size: an int or ``(pd, ph, pw)``.
        strides: an int or a triple; defaults to ``size`` (non-overlapping patches).
        dilation_rate: an int or a triple: spacing between the voxels of a patch.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        ``(batch, gd, gh, gw, pd * ph * pw * channels)`` (channels first: ``(batch, pd ph pw C, gd, gh, gw)``),
        without the batch axis for a 4-D input; float dtype.

    Raises:
        ValueError: bad rank, sizes or padding.

    Example:
        >>> extract_patches_3d(torch.arange(8.0).reshape(2, 2, 2, 1), (2, 2, 2))
        tensor([[[[0., 1., 2., 3., 4., 5., 6., 7.]]]])
    """
    x = _float(volumes)
    fmt = _data_format(data_format)
    if x.dim() not in (4, 5):
        raise ValueError("extract_patches_3d(): `volumes` must be 4-D (one volume) or 5-D (a batch). "
                         f"Received: volumes.shape={tuple(x.shape)}")
    single = x.dim() == 4
    if single:
        x = x[None]
    if fmt == "channels_last":
        x = x.movedim(-1, 1)
    kernel = _validation.int_tuple("size", size, 3)
    steps = kernel if strides is None else _validation.int_tuple("strides", strides, 3)
    dilation = _validation.int_tuple("dilation_rate", dilation_rate, 3)
    if _padding("extract_patches_3d", padding) == "same":
        pads = _same_pads(x.shape[2:], kernel, steps, dilation)
        x = F.pad(x, [p for pair in reversed(pads) for p in pair])
    spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    if any(span > n for span, n in zip(spans, x.shape[2:])):
        raise ValueError(f"extract_patches_3d(): the patch span {tuple(spans)} is larger than the volume "
                         f"{tuple(x.shape[2:])}")
    for axis, (span, step) in enumerate(zip(spans, steps)):
        x = x.unfold(2 + axis, span, step)  # (N, C, gd, gh, gw, span_d, span_h, span_w) in the end
    x = x[..., ::dilation[0], ::dilation[1], ::dilation[2]]
    n, c, gd, gh, gw = x.shape[:5]
    patches = x.permute(0, 2, 3, 4, 5, 6, 7, 1).reshape(n, gd, gh, gw, -1)
    if fmt == "channels_first":
        patches = patches.movedim(-1, 1)
    return patches[0] if single else patches


def _reconstruct(name: str, patches: Any, size: Any, output_size: Any, strides: Any, padding: str,
                 data_format: str | None, dims: int) -> Tensor:
    x = _float(patches)
    fmt = _data_format(data_format)
    if x.dim() not in (dims + 1, dims + 2):
        raise ValueError(f"{name}(): `patches` must be {dims + 1}-D or {dims + 2}-D (with a batch axis). "
                         f"Received: patches.shape={tuple(x.shape)}")
    single = x.dim() == dims + 1
    if single:
        x = x[None]
    if fmt == "channels_first":
        x = x.movedim(1, -1)
    kernel = _validation.int_tuple("size", size, dims)
    if strides is not None and _validation.int_tuple("strides", strides, dims) != kernel:
        raise ValueError(f"{name}(): only non-overlapping patches can be reassembled: `strides` must equal "
                         f"`size` {kernel}. Received: strides={strides!r}")
    grid = tuple(x.shape[1:1 + dims])
    per_patch = 1
    for k in kernel:
        per_patch *= k
    if x.shape[-1] % per_patch:
        raise ValueError(f"{name}(): the patch length {x.shape[-1]} is not a multiple of prod(size)={per_patch}. "
                         f"Received: patches.shape={tuple(x.shape)}, size={kernel}")
    channels = x.shape[-1] // per_patch
    covered = tuple(g * k for g, k in zip(grid, kernel))
    x = x.reshape(x.shape[0], *grid, *kernel, channels)
    # (N, g1..gd, k1..kd, C) -> (N, g1, k1, ..., gd, kd, C) -> (N, g1 k1, ..., C)
    order = [0] + [axis for i in range(dims) for axis in (1 + i, 1 + dims + i)] + [1 + 2 * dims]
    x = x.permute(order).reshape(x.shape[0], *covered, channels)
    mode = _padding(name, padding)
    if mode == "same":
        if output_size is None:
            raise ValueError(f"{name}(): `output_size` is required with padding='same' (the spatial shape of the "
                             "original images), to remove the padding added by the extraction.")
        target = _validation.int_tuple("output_size", output_size, dims)
        pads = _same_pads(target, kernel, kernel, (1,) * dims)
        if any(t + before + after != c for t, (before, after), c in zip(target, pads, covered)):
            raise ValueError(f"{name}(): output_size={target} does not match the patch grid {grid} of "
                             f"size {kernel} with padding='same'")
        index = tuple(slice(before, before + t) for t, (before, _) in zip(target, pads))
        x = x[(slice(None), *index)]
    elif output_size is not None and _validation.int_tuple("output_size", output_size, dims) != covered:
        raise ValueError(f"{name}(): with padding='valid', `output_size` must be the region the patches cover, "
                         f"{covered}. Received: output_size={output_size!r}")
    if fmt == "channels_first":
        x = x.movedim(-1, 1)
    return x[0] if single else x


@op
def reconstruct_patches(patches: Any, size: Any, output_size: Any = None, strides: Any = None,
                        padding: str = "valid", data_format: str | None = None) -> Tensor:
    """Reassemble images from non-overlapping patches: the inverse of ``extract_patches`` with ``strides == size``.

    Formula: ``out[n, i ph + a, j pw + b, ch] = patches[n, i, j, (a pw + b) C + ch]``, then the "same"
    padding of the extraction is cropped away.

    Args:
        patches: ``(gh, gw, ph * pw * C)`` or ``(batch, gh, gw, ph * pw * C)`` (channels first: the patch
            axis before the grid).
        size: the patch size used for the extraction, an int or ``(ph, pw)``.
        output_size: ``(height, width)``: optional with ``padding="valid"`` (then it must be the covered
            region ``grid * size``), required with ``"same"`` (the original image size).
        strides: must equal ``size`` (``None`` means ``size``).
        padding: ``"valid"`` or ``"same"``, as for the extraction.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The images, ``(batch, height, width, C)`` (or channels first); float dtype.

    Raises:
        ValueError: overlapping ``strides``, a patch length that is not ``ph * pw * C``, or an
            ``output_size`` that does not fit.

    Example:
        >>> patches = torch.arange(16.0).reshape(1, 2, 2, 4)  # a 2x2 grid of 2x2 patches, 1 channel
        >>> reconstruct_patches(patches, 2)[0, ..., 0]
        tensor([[ 0.,  1.,  4.,  5.],
                [ 2.,  3.,  6.,  7.],
                [ 8.,  9., 12., 13.],
                [10., 11., 14., 15.]])
    """
    return _reconstruct("reconstruct_patches", patches, size, output_size, strides, padding, data_format, 2)


@op
def reconstruct_patches_3d(patches: Any, size: Any, output_size: Any = None, strides: Any = None,
                           padding: str = "valid", data_format: str | None = None) -> Tensor:
    """Reassemble volumes from non-overlapping patches: the inverse of ``extract_patches_3d`` with ``strides == size``.

    Formula: ``out[n, i pd + a, j ph + b, l pw + c, ch] = patches[n, i, j, l, ((a ph + b) pw + c) C + ch]``.

    Args:
        patches: ``(gd, gh, gw, pd * ph * pw * C)`` or with a batch axis (channels first: patch axis first).
        size: an int or ``(pd, ph, pw)``.
        output_size: ``(depth, height, width)``; as in ``reconstruct_patches``.
        strides: must equal ``size``.
        padding: ``"valid"`` or ``"same"``, as for the extraction.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The volumes, float dtype.

    Raises:
        ValueError: as ``reconstruct_patches``.

    Example:
        >>> reconstruct_patches_3d(torch.arange(8.0).reshape(1, 1, 1, 8), 2)[..., 0]
        tensor([[[0., 1.],
                 [2., 3.]],
        <BLANKLINE>
                [[4., 5.],
                 [6., 7.]]])
    """
    return _reconstruct("reconstruct_patches_3d", patches, size, output_size, strides, padding, data_format, 3)
