"""pad_sequences: make a list of sequences of different lengths into one 2-D (or more) array.

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

__all__ = ["pad_sequences"]


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
