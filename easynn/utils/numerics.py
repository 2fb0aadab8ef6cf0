"""Label encoding and array normalisation, as ``keras.utils.to_categorical`` / ``normalize``."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["to_categorical", "normalize"]


def to_categorical(x=None, num_classes: int | None = None, dtype: str = "float32", *, y=None):
    """One-hot encode integer class labels, as ``keras.utils.to_categorical``.

    Args:
        x: integer labels of any shape (a trailing axis of size 1 is dropped). A torch tensor
            gives a torch tensor, anything else a NumPy array.
        num_classes: number of classes; ``max(x) + 1`` when ``None``.
        dtype: dtype of the result.
        y: the Keras 2 name of ``x``.

    Returns:
        An array of shape ``x.shape + (num_classes,)``.

    Raises:
        ValueError: for negative, non-integer or out-of-range labels.
        TypeError: when both ``x`` and ``y`` (or neither) are given.

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    if (x is None) == (y is None):
        raise TypeError("to_categorical() takes the labels once, as `x` (Keras 3) or `y` (Keras 2).")
    labels = x if x is not None else y
    if isinstance(labels, torch.Tensor):
        out = to_categorical(labels.detach().cpu().numpy(), num_classes=num_classes, dtype=dtype)
        return torch.from_numpy(out).to(labels.device)
    labels = np.asarray(labels)
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError("to_categorical expects integer class labels; received non-integer values.")
    labels = labels.astype("int64")
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.size and labels.min() < 0:
        raise ValueError(f"Class labels must be non-negative. Received a label {int(labels.min())}.")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"Label {int(labels.max())} is out of range for num_classes={num_classes}.")
    out = np.zeros(labels.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out


def normalize(x, axis: int = -1, order: int = 2):
    """Scale ``x`` to unit ``order``-norm along ``axis``, as ``keras.utils.normalize``.

    Formula: ``x / ||x||_order`` along ``axis``; slices whose norm is 0 are left as they are.

    Args:
        x: a NumPy array (or anything ``np.asarray`` takes) or a torch tensor (returned as one).
        axis: the axis along which to normalise.
        order: the norm's order (2 for Euclidean, 1 for the sum of absolute values...).

    Returns:
        An array (or tensor) of the shape of ``x``.

    Example:
        >>> normalize([[3.0, 4.0], [0.0, 0.0]])
        array([[0.6, 0.8],
               [0. , 0. ]])
    """
    if isinstance(x, torch.Tensor):
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype("float64")
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)
