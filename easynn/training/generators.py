"""Python generators and iterators as device batches (Keras's generator input).

A generator yields ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` per batch. It can be
read only once, so, as in Keras:

* without ``steps`` an epoch runs until the generator ends; a second epoch would find it
  exhausted, which is an error that says what to do (``steps_per_epoch`` and an endless
  generator, or a ``PyDataset``);
* with ``steps`` every epoch takes the next ``steps`` batches, continuing where the previous
  epoch stopped; a generator that ends before that is an error naming the batch;
* its length is unknown (``num_batches`` is ``None``, ``len()`` raises ``TypeError``) unless
  ``steps`` is given, so the progress bar shows no total.

Example:
    >>> import numpy as np
    >>> def batches():
    ...     while True:
    ...         yield np.ones((4, 2)), np.zeros((4, 1))
    >>> source = IteratorBatches(batches(), steps=3)
    >>> [tuple(x.shape) for x, y, w in source.epoch(0)]
    [(4, 2), (4, 2), (4, 2)]
    >>> len(source), source.num_batches
    (3, 3)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import torch

from easynn.training._batch import BatchChecker, add_note

__all__ = ["IteratorBatches", "is_iterator", "known_infinite"]


def is_iterator(x) -> bool:
    """Whether ``x`` is a one-shot Python iterator (a generator, ``iter(...)``, ``map(...)``...)."""
    return isinstance(x, Iterator)


def known_infinite(x) -> bool:
    """Iterators known never to end (``itertools.count`` / ``cycle`` / ``repeat`` without ``times``)."""
    if isinstance(x, (itertools.count, itertools.cycle)):
        return True
    return isinstance(x, itertools.repeat) and "times" not in repr(x)


class IteratorBatches:
    """A Python generator or iterator as ``(x, y, sample_weight)`` device batches, read once in order.

    Args:
        iterator: yields ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` per batch.
        steps: batches per epoch; ``None`` runs one epoch to the generator's end.
        device: where batches go.
        steps_name: the argument ``steps`` came from, for messages (``"steps_per_epoch"``...).
        target_names: the model's output names, to order dict targets.

    Raises:
        ValueError: without ``steps`` for an iterator known to be endless (``itertools.cycle``).
    """

    def __init__(self, iterator, steps: int | None = None, device="cpu", steps_name: str = "steps",
                 target_names: list[str] | None = None):
        if steps is None and known_infinite(iterator):
            raise ValueError(
                f"`x` is an endless iterator ({type(iterator).__name__}), so an epoch would never end. "
                f"Pass `{steps_name}=N` to run N batches per epoch."
            )
        self._iterator = iterator
        self.steps = steps
        self.steps_name = steps_name
        self.device = torch.device(device)
        self.num_samples = None
        self._check = BatchChecker("the generator", target_names)
        self._pending: list[tuple] = []  # read ahead by first_batch(), not yet delivered
        self._read = 0
        self._epochs = 0
        self._exhausted = False

    @property
    def num_batches(self) -> int | None:
        """Batches per epoch: ``steps`` when given, else unknown (``None``)."""
        return self.steps

    def __len__(self) -> int:
        if self.steps is None:
            raise TypeError(
                "A Python generator has no length: its number of batches is known only once it ends. "
                "Pass steps to fix the number of batches per epoch."
            )
        return self.steps

    def _next(self) -> tuple | None:
        if self._pending:
            return self._pending.pop(0)
        if self._exhausted:
            return None
        index = self._read
        try:
            item = next(self._iterator)
        except StopIteration:
            self._exhausted = True
            return None
        except Exception as error:
            add_note(error, f"(raised by the generator while producing batch {index})")
            raise
        self._read += 1
        return self._check(item, index, self.device)

    def first_batch(self) -> tuple:
        """The next batch without using it up (it is still the first of the next epoch)."""
        batch = self._next()
        if batch is None:
            raise ValueError(self._empty_message())
        self._pending.insert(0, batch)
        return batch

    def _empty_message(self) -> str:
        if self._read == 0:
            return "The generator yielded no batches: fit, evaluate and predict need at least one."
        return (
            f"The generator is exhausted: it yielded {self._read} batches, all used by earlier epochs, "
            "and a Python generator cannot start over. For several epochs, make it loop forever "
            f"(`while True: ...`) and pass `{self.steps_name}`, or use an easynn.utils.PyDataset, "
            "which is indexed and starts over every epoch."
        )

    def epoch(self, epoch: int = 0) -> Iterator[tuple]:
        """Yield the batches of one epoch (``steps`` of them, or all that are left)."""
        self._epochs += 1
        index = 0
        while self.steps is None or index < self.steps:
            batch = self._next()
            if batch is None:
                if self.steps is None and index > 0:
                    return
                if index == 0:
                    raise ValueError(self._empty_message())
                raise ValueError(
                    f"The generator ran out of data after {self._read} batches: epoch {self._epochs} got "
                    f"{index} of the {self.steps} batches that `{self.steps_name}={self.steps}` asks for "
                    "(every epoch continues the same generator). Make the generator loop forever "
                    f"(`while True: ...`) or lower `{self.steps_name}`."
                )
            index += 1
            yield batch
