"""Sequence utilities: ``pad_sequences`` and ``timeseries_dataset_from_array``.

pad_sequences makes a list of sequences of different lengths into one 2-D (or more) array.

Keras's rules: every row gets ``maxlen`` steps (the longest sequence by default); longer
sequences lose steps at the start (``truncating="pre"``) or the end (``"post"``); shorter ones
get ``value`` added at the start (``padding="pre"``) or the end (``"post"``). Steps may be
scalars or arrays (all of the same shape).

Example:
    >>> pad_sequences([[1, 2, 3], [4]]).tolist()
    [[1, 2, 3], [0, 0, 4]]
    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post").tolist()
    [[1, 2], [4, 0]]
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

__all__ = ["pad_sequences", "timeseries_dataset_from_array"]


def pad_sequences(
    sequences: Iterable[Any],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad (and truncate) ``sequences`` to one NumPy array of shape ``(len(sequences), maxlen, ...)``.

    Formula: row ``i`` is ``[value] * (maxlen - n_i) + s_i`` (``padding="pre"``) or
    ``s_i + [value] * (maxlen - n_i)`` (``"post"``), where ``s_i`` is sequence ``i`` cut to its
    last (``truncating="pre"``) or first (``"post"``) ``maxlen`` steps.

    Args:
        sequences: a list (or other iterable) of sequences (lists, arrays, tensors).
        maxlen: the length of every row; the longest sequence's length by default.
        dtype: dtype of the result (``"int32"``; use ``"float32"`` for real values, ``object`` or
            a string dtype for strings).
        padding: ``"pre"`` or ``"post"``: where the padding goes.
        truncating: ``"pre"`` or ``"post"``: which end of a long sequence is dropped.
        value: the padding value.

    Returns:
        A NumPy array of ``dtype``.

    Raises:
        ValueError: for an unknown ``padding``/``truncating``, a negative ``maxlen``, a
            sequence that is not iterable, steps of different shapes, or a string ``value``
            with a numeric ``dtype``.

    Example:
        >>> pad_sequences([[1.5], [2.5, 3.5]], dtype="float32", value=-1.0).tolist()
        [[-1.0, 1.5], [2.5, 3.5]]
    """
    if padding not in ("pre", "post"):
        raise ValueError(f'`padding` must be "pre" or "post". Received: padding={padding!r}')
    if truncating not in ("pre", "post"):
        raise ValueError(f'`truncating` must be "pre" or "post". Received: truncating={truncating!r}')
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0):
        raise ValueError(f"`maxlen` must be a non-negative integer or None. Received: maxlen={maxlen!r}")
    if not hasattr(sequences, "__iter__"):
        raise ValueError(f"`sequences` must be iterable. Received: sequences={sequences!r}")
    rows = []
    for index, seq in enumerate(sequences):
        if not hasattr(seq, "__len__"):
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: sequences[{index}]={seq!r}"
            )
        if hasattr(seq, "detach"):  # a torch tensor
            seq = seq.detach().cpu().numpy()
        rows.append(seq)
    lengths = [len(s) for s in rows]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    sample_shape: tuple[int, ...] = ()
    for s in rows:
        if len(s):
            sample_shape = np.asarray(s).shape[1:]
            break
    np_dtype = np.dtype(dtype)
    is_text = np.issubdtype(np_dtype, np.str_) or np.issubdtype(np_dtype, np.object_)
    if isinstance(value, str) and not is_text:
        raise ValueError(
            f"`dtype` {np_dtype} is not compatible with `value`'s type {type(value).__name__}. "
            "Use dtype=object (or a string dtype) to pad with strings."
        )
    out = np.full((len(rows), int(maxlen), *sample_shape), value, dtype=np_dtype)
    if maxlen == 0:
        return out
    for i, s in enumerate(rows):
        if not len(s):
            continue
        cut = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        cut = np.asarray(cut, dtype=np_dtype)
        if cut.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {cut.shape[1:]} of sequence at position {i} is different from the "
                f"expected shape {sample_shape}."
            )
        if padding == "post":
            out[i, : len(cut)] = cut
        else:
            out[i, -len(cut):] = cut
    return out


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        kind = "positive" if low == 1 else "non-negative"
        raise ValueError(f"`{name}` must be a {kind} integer. Received: {name}={value!r}")
    return int(value)


class _Windows(Dataset):
    """Window ``i``: ``data[p_i : p_i + length * rate : rate]`` (and ``targets[p_i]``)."""

    def __init__(self, data, targets, positions, length: int, rate: int) -> None:
        self.data, self.targets, self.positions = data, targets, positions
        self.offsets = torch.arange(length) * rate

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index: int):
        start = int(self.positions[index])
        window = self.data[start + self.offsets]
        if self.targets is None:
            return window
        return window, self.targets[start]


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
):
    """Sliding windows over a time series, as a torch ``DataLoader`` that ``fit`` takes.

    Formula: window ``i`` starts at ``p_i = start_index + i * sequence_stride`` and holds
    ``data[p_i + k * sampling_rate]`` for ``k < sequence_length``; its target is
    ``targets[p_i]``. Windows must end before ``end_index``; with targets there are at most
    ``len(targets) - start_index`` of them (Keras's rules).

    Args:
        data: array-like ``(timesteps, ...)``.
        targets: array-like with one target per timestep, or ``None`` (windows only).
        sequence_length: steps per window.
        sequence_stride: steps between the starts of two windows.
        sampling_rate: steps between two samples of a window.
        batch_size: windows per batch; ``None`` returns the unbatched ``Dataset``.
        shuffle: shuffle the windows (each epoch, from ``seed``).
        seed: seed of the shuffling.
        start_index, end_index: use only ``data[start_index:end_index]``.

    Returns:
        A ``DataLoader`` of ``(windows, targets)`` batches (or windows only), or a ``Dataset``
        when ``batch_size`` is ``None``.

    Raises:
        ValueError: for non-positive sizes or indices outside ``data``.

    Example:
        >>> import numpy as np
        >>> loader = timeseries_dataset_from_array(np.arange(20), np.arange(20) * 10, sequence_length=3,
        ...                                        sampling_rate=2, batch_size=4)
        >>> windows, targets = next(iter(loader))
        >>> windows[:2].tolist(), targets[:2].tolist()
        ([[0, 2, 4], [1, 3, 5]], [0, 10])
    """
    length = _check_int("sequence_length", sequence_length, 1)
    stride = _check_int("sequence_stride", sequence_stride, 1)
    rate = _check_int("sampling_rate", sampling_rate, 1)
    if batch_size is not None:
        batch_size = _check_int("batch_size", batch_size, 1)
    tensor = torch.as_tensor(np.asarray(data)) if not isinstance(data, torch.Tensor) else data
    total = len(tensor)
    start = 0 if start_index is None else _check_int("start_index", start_index, 0)
    end = total if end_index is None else _check_int("end_index", end_index, 0)
    if start >= total:
        raise ValueError(f"`start_index` must be lower than the length of the data ({total}). Received: start_index={start_index}")
    if end > total or end <= start:
        raise ValueError(
            f"`end_index` must be in ({start}, {total}]. Received: end_index={end_index}"
        )
    target_tensor = None
    count = end - start - (length - 1) * rate
    if targets is not None:
        target_tensor = torch.as_tensor(np.asarray(targets)) if not isinstance(targets, torch.Tensor) else targets
        count = min(count, len(target_tensor) - start)
    positions = torch.arange(start, start + max(count, 0), stride)
    dataset = _Windows(tensor, target_tensor, positions, length, rate)
    if batch_size is None:
        return dataset
    generator = torch.Generator().manual_seed(int(seed)) if (shuffle and seed is not None) else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=bool(shuffle), generator=generator)
