"""``PyDataset`` (Keras's ``keras.utils.PyDataset``, also ``Sequence``) and its batches.

A ``PyDataset`` is indexed by batch: ``__len__`` gives the number of batches, ``__getitem__(i)``
returns batch ``i`` as ``x``, ``(x, y)`` or ``(x, y, sample_weight)``. Unlike a generator it can
start over every epoch, and batches can be loaded in parallel:

* ``workers <= 1`` (without multiprocessing): batches load in the main thread, one at a time;
* ``workers > 1``: a pool of that many threads loads batches ahead (I/O-bound work);
* ``use_multiprocessing=True``: a pool of ``workers`` forked processes (CPU-bound work in Python).

At most ``max_queue_size`` batches are loading or waiting at any time, and they reach the model
in index order. A new pool starts every epoch, after ``on_epoch_end``, so forked workers see what
it changed (a reshuffled index, say). When ``__getitem__`` raises, in a worker or not, the epoch
stops with that exception (its traceback included) and a note naming the batch; the pool is shut
down and every worker process joined, whatever way the epoch ends.

Epochs follow Keras: one epoch is one pass over the batches (in a new random order when ``fit``
shuffles); with ``steps`` each epoch takes the next ``steps`` batches, continuing across epochs,
and a dataset whose ``num_batches`` is ``None`` is endless and needs ``steps``.
"""

from __future__ import annotations

import multiprocessing
import random
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterator

import torch

from easynn import _validation
from easynn.training._batch import BatchChecker, add_note, check_steps

__all__ = ["PyDataset", "Sequence", "PyDatasetBatches"]


class PyDataset:
    """Base class for a dataset of batches written in Python (``keras.utils.PyDataset``).

    Subclass it, call ``super().__init__(**kwargs)``, and write ``__len__`` (the number of batches)
    and ``__getitem__(index)`` (batch ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``).
    ``on_epoch_begin`` / ``on_epoch_end`` are called around every epoch of ``fit``, ``evaluate``
    and ``predict``.

    Args:
        workers: how many threads (or processes) load batches in parallel; 0 or 1 loads them in
            the main thread.
        use_multiprocessing: load in ``workers`` forked processes instead of threads (for
            CPU-bound Python work; the dataset is copied into every process).
        max_queue_size: the most batches loading or loaded ahead of the model at a time.

    Raises:
        ValueError: for a negative ``workers`` or a ``max_queue_size`` below 1.

    Example:
        >>> import numpy as np
        >>> class Halves(PyDataset):
        ...     def __init__(self, x, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x = x
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, index):
        ...         half = self.x[index * 2:(index + 1) * 2]
        ...         return half, half.sum(axis=1, keepdims=True)
        >>> data = Halves(np.arange(8.0).reshape(4, 2), workers=2)
        >>> len(data), data.num_batches, data.workers
        (2, 2, 2)
        >>> data[1][1].tolist()
        [[9.0], [13.0]]
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self._workers = _validation.non_negative_int("workers", workers)
        if not isinstance(use_multiprocessing, bool):
            raise TypeError(f"`use_multiprocessing` must be True or False. Received: use_multiprocessing={use_multiprocessing!r}")
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = _validation.positive_int("max_queue_size", max_queue_size)

    def _warn_if_super_not_called(self) -> None:
        missing = False
        for name, default in (("_workers", 1), ("_use_multiprocessing", False), ("_max_queue_size", 10)):
            if name not in self.__dict__:
                self.__dict__[name] = default
                missing = True
        if missing:
            warnings.warn(
                f"{type(self).__name__}.__init__ should call `super().__init__(**kwargs)`; `workers`, "
                "`use_multiprocessing` and `max_queue_size` take their defaults (1, False, 10). Pass them "
                "to the PyDataset, not to fit().",
                UserWarning, stacklevel=3,
            )

    @property
    def workers(self) -> int:
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = _validation.non_negative_int("workers", value)

    @property
    def use_multiprocessing(self) -> bool:
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = bool(value)

    @property
    def max_queue_size(self) -> int:
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = _validation.positive_int("max_queue_size", value)

    def __getitem__(self, index: int):
        """Batch ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index), returning one batch.")

    @property
    def num_batches(self) -> int | None:
        """The number of batches (``len(self)``); override it to return ``None`` for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement __len__ (the number of batches), or a `num_batches` "
            "property that returns None for an endless dataset."
        )

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch (reshuffle here)."""


#: Keras 2's name, kept by Keras 3 as an alias.
Sequence = PyDataset


# ---------------------------------------------------------------------------- worker processes
_WORKER_DATASET: Any = None


def _start_worker(dataset) -> None:
    """Runs once in every worker process (forked: the dataset arrives without pickling)."""
    global _WORKER_DATASET
    _WORKER_DATASET = dataset
    torch.set_num_threads(1)  # N workers x all cores would oversubscribe the machine


def _to_numpy(value):
    if isinstance(value, torch.Tensor) and value.dtype != torch.bfloat16:
        return value.detach().cpu().numpy()  # pickled by value, not through shared-memory handles
    if isinstance(value, (list, tuple)):
        return type(value)(_to_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    return value


def _load_in_worker(index: int):
    return _to_numpy(_WORKER_DATASET[index])


def _process_context():
    # Fork, as Keras does: the dataset (often a class defined in the user's script) is inherited,
    # not pickled, and the script is not re-run in the children. Spawn where fork does not exist.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _describe(dataset, index: int, position: int, where: str) -> str:
    return (f"(raised by {type(dataset).__name__}.__getitem__({index}), batch {position} of the epoch, "
            f"{where}; the epoch was stopped)")


def _load_in_order(dataset, indices: list[int], workers: int, use_multiprocessing: bool,
                   max_queue_size: int) -> Iterator:
    """``dataset[i]`` for ``i`` in ``indices``, in order; in parallel when the dataset asks for it."""
    if workers <= 1 and not (use_multiprocessing and workers >= 1):
        for position, index in enumerate(indices):
            try:
                item = dataset[index]
            except Exception as error:
                add_note(error, _describe(dataset, index, position, "in the main thread"))
                raise
            yield item
        return
    if use_multiprocessing:
        where = "in a worker process"
        with warnings.catch_warnings():  # Python >= 3.12 warns about fork in a threaded process
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            pool = ProcessPoolExecutor(workers, mp_context=_process_context(), initializer=_start_worker,
                                       initargs=(dataset,))
        load, target = _load_in_worker, None
    else:
        where = "in a worker thread"
        pool = ThreadPoolExecutor(workers, thread_name_prefix=f"{type(dataset).__name__}-worker")
        load, target = type(dataset).__getitem__, dataset
    queue: deque = deque()
    upcoming = iter(enumerate(indices))

    def submit() -> None:
        for position, index in upcoming:
            args = (index,) if target is None else (target, index)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
                queue.append((position, index, pool.submit(load, *args)))
            return

    try:
        for _ in range(max_queue_size):
            submit()
        while queue:
            position, index, future = queue.popleft()
            try:
                item = future.result()
            except BrokenProcessPool:
                raise RuntimeError(
                    f"A worker process of {type(dataset).__name__} died (killed or crashed) while loading "
                    f"batch {index}. Check the dataset's __getitem__, or use threads (use_multiprocessing=False)."
                ) from None
            except Exception as error:
                add_note(error, _describe(dataset, index, position, where))
                raise
            submit()
            yield item
    finally:
        # Cancel what has not started; wait for what has (threads cannot be killed), so that no
        # worker outlives the epoch.
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------- batches
class PyDatasetBatches:
    """A ``PyDataset`` as ``(x, y, sample_weight)`` device batches for the training loop.

    Args:
        dataset: the ``PyDataset``.
        steps: batches per epoch (continuing across epochs); ``None`` is one whole pass.
        shuffle: visit the batches of every pass in a new random order.
        seed: seed of those orders.
        device: where batches go.
        steps_name: the argument ``steps`` came from, for messages.
        target_names: the model's output names, to order dict targets.

    Raises:
        ValueError: for an endless dataset without ``steps``, an empty one, or ``steps`` larger
            than its number of batches.
    """

    def __init__(self, dataset: PyDataset, steps: int | None = None, shuffle: bool = False, seed: int = 0,
                 device="cpu", steps_name: str = "steps", target_names: list[str] | None = None):
        name = type(dataset).__name__
        size = dataset.num_batches
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise TypeError(f"{name}.__len__ (num_batches) must return a non-negative integer or None. Received: {size!r}")
        if size == 0:
            raise ValueError(f"PyDataset '{name}' has no batches (len 0): fit, evaluate and predict need at least one.")
        if size is None and steps is None:
            raise ValueError(
                f"PyDataset '{name}' is endless (num_batches is None), so an epoch would never end. "
                f"Pass `{steps_name}=N` to run N batches per epoch."
            )
        check_steps(steps, size, steps_name, f"len({name}) = {size}")
        self.dataset = dataset
        self.size = size
        self.steps = steps
        self.shuffle = bool(shuffle) and size is not None
        self.seed = seed
        self.device = torch.device(device)
        self.num_samples = None
        self._check = BatchChecker(f"PyDataset '{name}'", target_names)
        self._cursor = 0  # batches delivered so far, over all epochs
        self._orders: dict[int, list[int]] = {}

    @property
    def num_batches(self) -> int:
        """Batches per epoch: ``steps`` when given, else the dataset's length."""
        return self.steps if self.steps is not None else self.size

    def __len__(self) -> int:
        return self.num_batches

    def _order(self, pass_index: int) -> list[int]:
        order = self._orders.get(pass_index)
        if order is None:
            order = list(range(self.size))
            if self.shuffle:
                random.Random(self.seed * 1_000_003 + pass_index).shuffle(order)
            self._orders = {pass_index: order}  # only the current pass is needed
        return order

    def _indices(self, start: int, count: int) -> list[int]:
        if self.size is None:
            return list(range(start, start + count))
        out = []
        for cursor in range(start, start + count):
            pass_index, position = divmod(cursor, self.size)
            out.append(self._order(pass_index)[position])
        return out

    def _start(self) -> int:
        if self.steps is None and self._cursor % self.size:
            # Without steps every epoch is a whole pass from its start (an epoch cut short, by
            # EarlyStopping say, does not shift the next one).
            self._cursor += self.size - self._cursor % self.size
        return self._cursor

    def first_batch(self) -> tuple:
        """The batch the next epoch starts with, loaded in the main thread (for shapes)."""
        index = self._indices(self._start(), 1)[0]
        try:
            item = self.dataset[index]
        except Exception as error:
            add_note(error, _describe(self.dataset, index, 0, "in the main thread"))
            raise
        return self._check(item, index, self.device)

    def epoch(self, epoch: int = 0) -> Iterator[tuple]:
        """Yield one epoch's batches; ``on_epoch_begin``/``on_epoch_end`` around it."""
        indices = self._indices(self._start(), self.num_batches)
        dataset = self.dataset
        dataset.on_epoch_begin()
        loader = _load_in_order(dataset, indices, dataset.workers, dataset.use_multiprocessing,
                                dataset.max_queue_size)
        try:
            for index, item in zip(indices, loader):
                batch = self._check(item, index, self.device)
                self._cursor += 1
                yield batch
        finally:
            loader.close()  # stops the pool now, also when the epoch is abandoned or fails
        dataset.on_epoch_end()
