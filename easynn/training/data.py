"""Turn whatever the user passed to fit/evaluate/predict into device batches.

This module knows nothing about models. Two paths:

* **In-memory data** (NumPy arrays, tensors, lists) take the fast path: converted to tensors
  once, moved to the device once per ``fit``, then each epoch draws one permutation and slices
  whole batches with it: no per-sample Python and no collation.
* **A torch ``Dataset`` or ``DataLoader``** yielding ``(x, y)`` or ``(x, y, sample_weight)`` is
  iterated as given; each batch is moved to the device (``non_blocking`` from pinned memory).
* **A Python generator or iterator** (``generators.py``) and **a ``PyDataset``**
  (``py_dataset.py``, with its worker pool) are read batch by batch, each batch checked against
  the first.

``steps`` (``steps_per_epoch``, ``validation_steps``, ``evaluate(steps=)``...) has Keras's
meaning everywhere: each epoch takes the next ``steps`` batches, continuing where the previous
epoch stopped (a new pass, reshuffled, starts when one ends). ``steps`` larger than the batches a
finite source gives per pass is an error up front. Every source has ``num_batches``: the batches
per epoch, or ``None`` when unknown (a generator without ``steps``; progress then shows no total).

In a distributed run each process gets a disjoint, strided shard of the epoch's permutation
(``perm[rank::world_size]``); the permutation comes from a seed shared by all processes. Step
``k`` of all processes together then covers one contiguous global batch of the permutation. When
the last global batch has fewer samples than there are processes, it is folded into the step
before, so every process runs the same number of steps and each sample is used once.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from easynn._validation import positive_int as _positive_int
from easynn.training._batch import Continuation, check_steps, leaves, order_targets, to_tensor, tree_map
from easynn.training._finite import check_finite as _check_finite
from easynn.training.generators import IteratorBatches, is_iterator
from easynn.training.py_dataset import PyDataset, PyDatasetBatches

__all__ = ["to_tensor", "ArrayBatches", "LoaderBatches", "IteratorBatches", "PyDatasetBatches", "adapt",
           "split_validation", "tree_map", "num_samples", "is_dataset"]


_leaves = leaves  # the name the rest of this module (and older callers) use


def _convert(value: Any, name: str):
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and any(isinstance(v, (np.ndarray, torch.Tensor)) for v in value) and all(
        v is None or isinstance(v, (np.ndarray, torch.Tensor)) for v in value
    ):
        # One array per input/output; ``None`` marks an output without a target (Keras).
        return [None if v is None else to_tensor(v, f"{name}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: to_tensor(v, f"{name}[{k!r}]") for k, v in value.items()}
    return to_tensor(value, name)


def num_samples(value) -> int:
    """The batch-axis length of the first tensor in ``value`` (0 for none or a scalar)."""
    leaves = _leaves(value)
    return int(leaves[0].shape[0]) if leaves and leaves[0].dim() > 0 else 0


def _check_lengths(x, y, sample_weight) -> int:
    counts = {}
    for label, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for leaf in _leaves(value):
            if leaf.dim() == 0:
                raise ValueError(f"`{label}` must have a batch axis; received a scalar.")
            counts.setdefault(label, set()).add(int(leaf.shape[0]))
    for label, sizes in counts.items():
        if len(sizes) > 1:
            raise ValueError(f"All arrays in `{label}` must have the same number of samples. Received sizes {sorted(sizes)}.")
    n = next(iter(counts["x"]))
    if n == 0:
        raise ValueError("`x` is empty: fit, evaluate and predict need at least one sample.")
    for label in ("y", "sample_weight"):
        if label in counts:
            m = next(iter(counts[label]))
            if m != n:
                raise ValueError(f"x has {n} samples but {label} has {m}. They must have the same first dimension.")
    return n


def _all_on(device: torch.device, *values) -> bool:
    """Whether every tensor in ``values`` already lives on ``device`` (``cuda`` means ``cuda:current``)."""
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    leaves = [t for v in values for t in _leaves(v)]
    return bool(leaves) and all(t.device == device for t in leaves)


def _gather_pinned(tensor: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``tensor[index]`` written into a fresh pinned host buffer (its lifetime across the
    asynchronous copy is tracked by PyTorch's pinned-memory allocator)."""
    out = torch.empty((len(index),) + tuple(tensor.shape[1:]), dtype=tensor.dtype, pin_memory=True)
    return torch.index_select(tensor, 0, index, out=out)


class ArrayBatches:
    """In-memory data as device batches: the fast path.

    Args:
        x, y, sample_weight: tensors (or lists/dicts of tensors for several inputs/outputs).
        batch_size: samples per batch (per process in a distributed run).
        shuffle: draw a new permutation every epoch.
        device: where batches live; the data are moved there once.
        rank, world_size: this process's shard of every epoch.
        seed: base seed of the per-epoch permutation (shared by all processes).
        steps: batches per epoch, continuing across epochs (``None``: one whole pass per epoch).
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size: int = 32, shuffle: bool = True,
                 device: torch.device | str = "cpu", rank: int = 0, world_size: int = 1, seed: int = 0,
                 pin_memory: bool | None = None, steps: int | None = None, steps_name: str = "steps"):
        self.batch_size = _positive_int("batch_size", batch_size)
        self.shuffle = shuffle
        self.device = torch.device(device)
        self.rank, self.world_size, self.seed = rank, world_size, seed
        self.num_samples = _check_lengths(x, y, sample_weight)
        # Data go to the device once; if they might not fit (CUDA, large), stay pinned on the host.
        # Data already on the device stay where they are (never copied back to the host).
        self.on_device = (self.device.type == "cpu" or _all_on(self.device, x, y, sample_weight)
                          or self._fits_on_device(x, y, sample_weight))
        target = self.device if self.on_device else None

        def place(t: torch.Tensor) -> torch.Tensor:
            if target is not None:
                return t.to(target)
            return t.pin_memory() if torch.cuda.is_available() else t

        self.x = tree_map(place, x)
        self.y = tree_map(place, y)
        self.sample_weight = tree_map(place, sample_weight)
        self._plain = (isinstance(self.x, torch.Tensor) and isinstance(self.y, torch.Tensor)
                       and self.sample_weight is None)
        self.shard_size = len(range(self.rank, self.num_samples, self.world_size))
        check_steps(steps, len(self), steps_name, f"{self.num_samples} samples with batch_size={self.batch_size}")
        self.steps = steps
        self._continuation = None if steps is None else Continuation(self._pass, steps)

    @property
    def num_batches(self) -> int:
        """Batches per epoch: ``steps`` when given, else ``len(self)`` (one pass)."""
        return self.steps if self.steps is not None else len(self)

    def _fits_on_device(self, *values) -> bool:
        size = sum(t.numel() * t.element_size() for v in values for t in _leaves(v))
        try:
            free, _ = torch.cuda.mem_get_info(self.device)
        except Exception:  # not CUDA, or no memory information
            return True
        return size < 0.25 * free

    def __len__(self) -> int:
        return len(self._starts())

    def _starts(self) -> list[int]:
        starts = list(range(0, self.shard_size, self.batch_size))
        # Distributed: a last global batch smaller than world_size would give some processes one
        # more step than others; fold it into the previous step instead (equal step counts).
        tail = self.num_samples % (self.batch_size * self.world_size)
        if self.world_size > 1 and 0 < tail < self.world_size and len(starts) > 1 and self.rank < tail:
            starts.pop()
        return starts

    def _indices(self, epoch: int) -> torch.Tensor | None:
        if not self.shuffle and self.world_size == 1:
            return None
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            if self.world_size == 1:
                index_device = self.device if self.on_device else torch.device("cpu")
                # Drawn on the host (the same order whatever the device), copied once per epoch.
                perm = torch.randperm(self.num_samples, generator=generator)
                if index_device.type == "cpu":
                    return perm
                # Staged through pinned memory: the copy does not make the host wait for the GPU.
                return perm.pin_memory().to(index_device, non_blocking=True)
            perm = torch.randperm(self.num_samples, generator=generator)
        else:
            perm = torch.arange(self.num_samples)
        shard = perm[self.rank :: self.world_size]
        return shard.to(self.device) if self.on_device else shard

    def epoch(self, epoch: int = 0) -> Iterator[tuple]:
        """Yield ``(x, y, sample_weight)`` batches for one epoch."""
        if self._continuation is not None:
            return self._continuation.epoch()
        return self._pass(epoch)

    def _pass(self, epoch: int) -> Iterator[tuple]:
        """One pass over the data, in epoch ``epoch``'s order."""
        indices = self._indices(epoch)
        starts = self._starts()
        for i, start in enumerate(starts):
            stop = starts[i + 1] if i + 1 < len(starts) else self.shard_size
            yield self._batch(indices, start, stop)

    def _batch(self, indices: torch.Tensor | None, start: int, stop: int) -> tuple:
        """Samples ``start:stop`` of this epoch's order, as ``(x, y, sample_weight)`` on the device."""
        if indices is None:
            take = lambda t: t[start:stop]  # a view, no copy
        elif self.on_device:
            index = indices[start:stop]
            if self._plain:  # one input, one target, no weights: the common case, without tree_map
                return self.x.index_select(0, index), self.y.index_select(0, index), None
            take = lambda t: t.index_select(0, index)
        else:  # gather straight into pinned memory, so the copy below is truly asynchronous
            index = indices[start:stop]
            take = lambda t: _gather_pinned(t, index)
        batch = (tree_map(take, self.x), tree_map(take, self.y), tree_map(take, self.sample_weight))
        if not self.on_device:
            batch = tree_map(lambda t: t.to(self.device, non_blocking=True), batch)
        return batch


class LoaderBatches:
    """A torch ``DataLoader`` (or ``Dataset``, wrapped in one) as device batches.

    In a distributed run a ``Dataset`` is split between processes by a ``DistributedSampler``
    (which repeats a few samples so that every process gets as many batches as the others); a
    ``DataLoader`` is used as given, so give it a ``DistributedSampler`` yourself.
    """

    def __init__(self, data, batch_size: int = 32, shuffle: bool = False, device="cpu", rank: int = 0,
                 world_size: int = 1, seed: int = 0, steps: int | None = None, steps_name: str = "steps",
                 target_names: list[str] | None = None):
        self.target_names = target_names
        if isinstance(data, DataLoader):
            self.loader = data
        else:
            sampler = None
            if world_size > 1:
                from torch.utils.data.distributed import DistributedSampler

                sampler = DistributedSampler(data, num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed)
            self.loader = DataLoader(data, batch_size=_positive_int("batch_size", batch_size),
                                     shuffle=shuffle and sampler is None, sampler=sampler,
                                     pin_memory=torch.device(device).type == "cuda")
        self.device = torch.device(device)
        try:
            self.num_samples = len(self.loader.dataset)
        except TypeError:
            self.num_samples = None
        try:
            per_pass = len(self.loader)
        except TypeError:  # an IterableDataset without __len__
            per_pass = None
        check_steps(steps, per_pass, steps_name, f"len(DataLoader) = {per_pass}")
        self.steps = steps
        self.num_batches = steps if steps is not None else per_pass
        self._continuation = None if steps is None else Continuation(self._pass, steps)

    def __len__(self) -> int:
        return len(self.loader)

    def epoch(self, epoch: int = 0) -> Iterator[tuple]:
        """Yield ``(x, y, sample_weight)`` device batches for one epoch."""
        if self._continuation is not None:
            return self._continuation.epoch()
        return self._pass(epoch)

    def _pass(self, epoch: int) -> Iterator[tuple]:
        """One pass over the loader; ``set_epoch`` on samplers that have it."""
        sampler = getattr(self.loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        for item in self.loader:
            if isinstance(item, dict):
                raise TypeError("Dataset items must be (x, y) or (x, y, sample_weight) tuples, not dicts.")
            if not isinstance(item, (list, tuple)):
                item = (item,)
            if len(item) not in (1, 2, 3):
                raise ValueError(
                    f"Dataset items must be (x,), (x, y) or (x, y, sample_weight); received {len(item)} elements."
                )
            item = tuple(item) + (None,) * (3 - len(item))
            if self.target_names:
                item = (item[0], order_targets(item[1], self.target_names, "y"),
                        order_targets(item[2], self.target_names, "sample_weight"))
            yield tree_map(lambda t: to_tensor(t).to(self.device, non_blocking=True), item)


def is_dataset(x) -> bool:
    """Whether ``x`` yields its own targets: a torch ``Dataset``/``DataLoader``, a ``PyDataset``, or
    a Python generator/iterator (then ``y`` and ``sample_weight`` must be ``None``)."""
    return isinstance(x, (DataLoader, Dataset, PyDataset)) or is_iterator(x)


def _describe_type(x) -> str:
    return "a PyDataset" if isinstance(x, PyDataset) else "a generator" if is_iterator(x) else "a Dataset or DataLoader"


def adapt(x, y=None, sample_weight=None, *, batch_size=32, shuffle=True, device="cpu", rank=0,
          world_size=1, seed=0, check_finite=True, steps=None, steps_name="steps", target_names=None):
    """Batches for what the user passed: ``ArrayBatches``, ``LoaderBatches``, ``IteratorBatches``
    (generators, iterators) or ``PyDatasetBatches``.

    Args:
        x, y, sample_weight: arrays (or lists/dicts of them), or a source that yields its own
            targets (then ``y`` and ``sample_weight`` are ``None``).
        steps: batches per epoch, continuing across epochs; required for an endless source.
        steps_name: the argument ``steps`` came from (``"steps_per_epoch"``...), for messages.
        target_names: the model's output names: a dict ``y`` (or ``sample_weight``) keyed by them
            becomes a list in that order (Keras's dict targets).

    Raises:
        ValueError: for mismatched lengths, empty data, NaN/inf values, a bad batch_size, ``steps``
            larger than a finite source, or an endless source without ``steps``.
        TypeError: for data of an unsupported type.
    """
    batch_size = _positive_int("batch_size", batch_size)
    if steps is not None:
        steps = _positive_int(steps_name, steps)
    if x is None:
        raise ValueError("`x` is required: pass arrays, tensors, a generator, a PyDataset, a torch Dataset or a DataLoader.")
    if is_dataset(x):
        for label, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                raise ValueError(
                    f"When `x` is {_describe_type(x)}, it must yield (x, y) or (x, y, sample_weight) itself; "
                    f"pass {label}=None."
                )
        if isinstance(x, PyDataset):
            return PyDatasetBatches(x, steps=steps, shuffle=shuffle, seed=seed, device=device,
                                    steps_name=steps_name, target_names=target_names)
        if is_iterator(x):
            return IteratorBatches(x, steps=steps, device=device, steps_name=steps_name, target_names=target_names)
        return LoaderBatches(x, batch_size=batch_size, shuffle=shuffle, device=device, rank=rank,
                             world_size=world_size, seed=seed, steps=steps, steps_name=steps_name,
                             target_names=target_names)
    given_x, given_y = x, y
    x, y, sample_weight = _convert(x, "x"), _convert(y, "y"), _convert(sample_weight, "sample_weight")
    y = order_targets(y, target_names, "y")
    sample_weight = order_targets(sample_weight, target_names, "sample_weight")
    if check_finite:  # once per array (see training/_finite.py)
        _check_finite(x, "x", source=given_x if isinstance(given_x, (np.ndarray, torch.Tensor)) else None)
        _check_finite(y, "y", source=given_y if isinstance(given_y, (np.ndarray, torch.Tensor)) else None)
    return ArrayBatches(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, device=device,
                        rank=rank, world_size=world_size, seed=seed, steps=steps, steps_name=steps_name)


def split_validation(x, y, sample_weight, fraction: float):
    """Keras's ``validation_split``: the **last** ``fraction`` of the samples, before shuffling."""
    if not 0 <= fraction < 1:
        raise ValueError(f"`validation_split` must be in [0, 1). Received: validation_split={fraction}")
    if is_dataset(x):
        raise ValueError("`validation_split` works with arrays only; pass validation_data for a Dataset.")
    x, y, sample_weight = _convert(x, "x"), _convert(y, "y"), _convert(sample_weight, "sample_weight")
    n = _check_lengths(x, y, sample_weight)
    cut = int(n * (1 - fraction))
    if cut == 0 or cut == n:
        raise ValueError(
            f"validation_split={fraction} leaves {'no training' if cut == 0 else 'no validation'} samples "
            f"out of {n}. Use more data or another split."
        )
    head = lambda t: t[:cut]  # noqa: E731
    tail = lambda t: t[cut:]  # noqa: E731
    return ((tree_map(head, x), tree_map(head, y), tree_map(head, sample_weight)),
            (tree_map(tail, x), tree_map(tail, y), tree_map(tail, sample_weight)))
