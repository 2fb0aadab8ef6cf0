"""``split_dataset``: Keras's ``keras.utils.split_dataset`` for in-memory arrays and torch Datasets.

Keras returns two ``tf.data`` datasets; here each half is what easynn's ``fit`` takes, of the
same kind as the input: arrays stay arrays (a ``(x, y)`` tuple gives ``(x_left, y_left)``, to pass
as ``model.fit(*left)``, which keeps fit's fast in-memory path), and a torch ``Dataset`` gives a
``torch.utils.data.Subset`` (``model.fit(left)``).

Keras's rules for the sizes: a float in ``(0, 1)`` is a fraction, rounded with Python's
``round(size * n)``; an int in ``(0, n)`` is a count; ``None`` is "the rest". The left half is
the first ``left_size`` samples and the right half the **last** ``right_size`` (so with sizes
summing to less than ``n`` the middle is left out). ``shuffle=True`` shuffles the sample order
first with ``random.Random(seed).shuffle``: the order Keras's ``random.seed(seed);
random.shuffle(...)`` gives, without touching Python's global generator.
"""

from __future__ import annotations

import numbers
import random
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, Subset

from easynn import tree

__all__ = ["split_dataset"]

_KINDS = ("a NumPy array, a tensor, a tuple/list/dict of arrays of the same length, "
          "or a map-style torch.utils.data.Dataset")


def _check_size(name: str, value: Any, n: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float in (0, 1), an integer or None. "
                        f"Received: {name}={value!r} of type {type(value).__name__}")
    if isinstance(value, numbers.Integral):
        if not 0 < value < n:
            raise ValueError(f"`{name}` must be a positive integer smaller than the {n} samples of `dataset`, "
                             f"or a float in (0, 1). Received: {name}={value}")
    elif not 0 < value < 1:
        raise ValueError(f"`{name}` must be a float in (0, 1) (a fraction of the samples) or a positive integer "
                         f"(a number of samples). Received: {name}={value}")


def _split_sizes(left_size: Any, right_size: Any, n: int) -> tuple[int, int]:
    """Keras's ``(left, right)`` sample counts for a dataset of ``n`` samples."""
    if left_size is None and right_size is None:
        raise ValueError("At least one of `left_size` and `right_size` must be given. "
                         "Received: left_size=None, right_size=None")
    _check_size("left_size", left_size, n)
    _check_size("right_size", right_size, n)
    both_fractions = all(isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral)
                         for v in (left_size, right_size))
    if both_fractions and left_size + right_size > 1:
        raise ValueError("`left_size` + `right_size` must be at most 1 when both are fractions. "
                         f"Received: left_size={left_size}, right_size={right_size}")

    def count(value: Any) -> int | None:
        if value is None:
            return None
        return int(value) if isinstance(value, numbers.Integral) else round(float(value) * n)

    left, right = count(left_size), count(right_size)
    left = n - right if left is None else left
    right = n - left if right is None else right
    if left + right > n:
        raise ValueError(f"`left_size` and `right_size` ask for {left} + {right} = {left + right} samples but "
                         f"`dataset` has {n}. Received: left_size={left_size}, right_size={right_size}")
    for side, size in (("left", left), ("right", right)):
        if size == 0:
            raise ValueError(
                f"With a dataset of {n} samples, left_size={left_size} and right_size={right_size} leave the "
                f"{side} split empty ({side}_size rounds to 0 samples). Use larger sizes or more data."
            )
    return left, right


def _array_length(dataset: Any) -> int:
    """The common first dimension of the arrays in ``dataset`` (a structure of arrays)."""
    leaves = tree.flatten_with_path(dataset)
    if not leaves:
        raise ValueError(f"`dataset` holds no arrays. Expected {_KINDS}. Received: dataset={dataset!r}")
    lengths = []
    for path, leaf in leaves:
        if not isinstance(leaf, (np.ndarray, torch.Tensor)):
            where = f" at path {path}" if path else ""
            raise TypeError(f"`dataset` must be {_KINDS}. Received {type(leaf).__name__}{where}: {leaf!r:.80}")
        if leaf.ndim == 0:
            raise ValueError(f"Every array in `dataset` needs a first (sample) dimension. Received a scalar "
                             f"at path {path}.")
        lengths.append((path, int(leaf.shape[0])))
    first_path, n = lengths[0]
    for path, length in lengths[1:]:
        if length != n:
            raise ValueError(f"All arrays in `dataset` must have the same length (first dimension). Received "
                             f"{n} at path {first_path} and {length} at path {path}.")
    if n == 0:
        raise ValueError("`dataset` is empty: it needs at least 2 samples to be split.")
    return n


def split_dataset(dataset: Any, left_size: float | int | None = None, right_size: float | int | None = None,
                  shuffle: bool = False, seed: int | None = None) -> tuple[Any, Any]:
    """Split a dataset into a left and a right part (e.g. train and test), as Keras does.

    Sizes: a float in (0, 1) is a fraction, ``round(size * n)`` samples; an int is a number of
    samples; ``None`` is the complement of the other size. Left = the first ``left`` samples,
    right = the last ``right`` samples (of the shuffled order when ``shuffle=True``).

    Args:
        dataset: a NumPy array or tensor (split along the first axis); a tuple, list or dict
            (nested or not) of arrays/tensors with the same first dimension, such as ``(x, y)``;
            or a map-style ``torch.utils.data.Dataset`` (with ``__len__``).
        left_size: fraction in (0, 1), positive int, or ``None`` (= ``n - right``).
        right_size: fraction in (0, 1), positive int, or ``None`` (= ``n - left``).
        shuffle: shuffle the samples before splitting.
        seed: the shuffle's seed (an int); ``None`` draws one from Python's ``random``, so
            ``easynn.utils.set_random_seed`` makes it reproducible.

    Returns:
        ``(left, right)``, each the same kind as ``dataset``: arrays/tensors (in the same
        tuple/list/dict) indexed along the first axis (views of ``dataset`` when not shuffled),
        or ``torch.utils.data.Subset`` objects for a torch ``Dataset``.

    Raises:
        ValueError: both sizes ``None``; a size that is zero, negative, a float not below 1, an
            int not below ``n``; sizes summing to more than the data; a split left empty;
            arrays of different lengths; an empty dataset.
        TypeError: a size that is not a number or ``None``; an unsupported ``dataset`` or a
            ``seed`` that is not an int.

    Example:
        >>> x, y = np.arange(20).reshape(10, 2), np.arange(10)
        >>> (x_left, y_left), (x_right, y_right) = split_dataset((x, y), left_size=0.8)
        >>> x_left.shape, y_right.tolist()
        ((8, 2), [8, 9])
        >>> left, right = split_dataset(np.arange(10), right_size=3, shuffle=True, seed=1)
        >>> len(left), len(right), sorted(left.tolist() + right.tolist()) == list(range(10))
        (7, 3, True)
    """
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"`seed` must be an integer or None. Received: seed={seed!r}")
    is_torch_dataset = isinstance(dataset, Dataset) and not isinstance(dataset, (np.ndarray, torch.Tensor))
    if is_torch_dataset:
        if isinstance(dataset, IterableDataset) or not hasattr(dataset, "__len__"):
            raise TypeError("`dataset` must be a map-style torch Dataset (with __len__ and __getitem__) to be "
                            f"split. Received: an iterable dataset of type {type(dataset).__name__}")
        n = len(dataset)
        if n == 0:
            raise ValueError("`dataset` is empty: it needs at least 2 samples to be split.")
    elif isinstance(dataset, (np.ndarray, torch.Tensor)) or tree.is_nested(dataset):
        n = _array_length(dataset)
    else:
        raise TypeError(f"`dataset` must be {_KINDS}. Received: dataset of type {type(dataset).__name__}")
    left, right = _split_sizes(left_size, right_size, n)

    if shuffle:
        if seed is None:
            seed = random.randint(0, 10**6)  # Keras draws the seed the same way
        order = list(range(n))
        random.Random(int(seed)).shuffle(order)
        parts = (order[:left], order[n - right:])
    else:
        parts = (slice(0, left), slice(n - right, n))

    if is_torch_dataset:
        return tuple(Subset(dataset, list(range(n))[p] if isinstance(p, slice) else p) for p in parts)

    def take(part: slice | list[int]) -> Any:
        def index(array: Any) -> Any:
            if isinstance(part, slice):
                return array[part]
            if isinstance(array, torch.Tensor):
                return array[torch.as_tensor(part, dtype=torch.long, device=array.device)]
            return array[np.asarray(part, dtype=np.intp)]

        return tree.map_structure(index, dataset)

    return take(parts[0]), take(parts[1])
