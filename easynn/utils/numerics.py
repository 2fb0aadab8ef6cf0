"""Label encoding."""

from __future__ import annotations

import numpy as np

__all__ = ["to_categorical"]


def to_categorical(y, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """One-hot encode integer class labels, as ``keras.utils.to_categorical``.

    Args:
        y: integer labels of any shape (a trailing axis of size 1 is dropped).
        num_classes: number of classes; ``max(y) + 1`` when ``None``.
        dtype: dtype of the result.

    Returns:
        An array of shape ``y.shape + (num_classes,)``.

    Raises:
        ValueError: for negative, non-integer or out-of-range labels.

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError("to_categorical expects integer class labels; received non-integer values.")
    y = y.astype("int64")
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size and y.min() < 0:
        raise ValueError(f"Class labels must be non-negative. Received a label {int(y.min())}.")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(f"Label {int(y.max())} is out of range for num_classes={num_classes}.")
    out = np.zeros(y.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out
