"""Helpers shared by every data source: nested structures, conversion, checks of streamed batches.

``data.py`` (arrays, torch datasets), ``generators.py`` (Python iterators) and ``py_dataset.py``
(``PyDataset``) all hand the training loop ``(x, y, sample_weight)`` tuples of device tensors.
Sources read batch by batch (generators, ``PyDataset``) pass every batch through
``BatchChecker``, which unpacks it with Keras's rules and checks it against the first batch, so a
bad batch fails with its index instead of deep inside the model.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np
import torch

from easynn.training._strings import is_string_batch, strings  # text batches (StringBatch)

__all__ = ["tree_map", "leaves", "to_tensor", "unpack_batch", "order_targets", "BatchChecker",
           "Continuation", "check_steps", "add_note"]


def add_note(error: BaseException, note: str) -> None:
    """Attach ``note`` to ``error`` (shown under its message; ``BaseException.add_note`` on Python >= 3.11)."""
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:  # Python 3.10: kept on the exception for anyone who reads it
        error.__notes__ = [*getattr(error, "__notes__", []), note]


def tree_map(fn, value):
    """Apply ``fn`` to every tensor in a tensor / list / tuple / dict structure."""
    if is_string_batch(value):  # text: a batch of strings is one leaf (see StringBatch)
        return fn(value)
    if isinstance(value, (list, tuple)):
        return type(value)(tree_map(fn, v) for v in value)
    if isinstance(value, dict):
        return {k: tree_map(fn, v) for k, v in value.items()}
    if value is None:
        return None
    return fn(value)


def leaves(value) -> list:
    """The tensors of a nested structure, in order (``None`` entries skipped)."""
    if is_string_batch(value):  # text: a batch of strings is one leaf (see StringBatch)
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in leaves(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in leaves(v)]
    return [] if value is None else [value]


def to_tensor(value: Any, name: str = "x") -> torch.Tensor:
    """Convert an array-like to a tensor: float64 becomes float32, integers stay integers.

    Raises:
        TypeError: for values that are not numbers (strings, objects, ragged lists).
    """
    if isinstance(value, torch.Tensor):
        tensor = value
    elif is_string_batch(value):  # text batches pass through as lists of str (see StringBatch)
        return strings(value)
    else:
        try:
            array = np.asarray(value)
        except ValueError as error:
            raise ValueError(f"`{name}` could not be converted to an array: {error}") from None
        if array.dtype == object or array.dtype.kind in "USV":
            raise TypeError(
                f"`{name}` must hold numbers (a NumPy array, tensor or nested list of numbers). "
                f"Received an array of dtype {array.dtype}."
            )
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.dtype == torch.float64:
        tensor = tensor.float()
    elif tensor.dtype == torch.bool:
        tensor = tensor.float()
    return tensor


def unpack_batch(item, where: str) -> tuple:
    """``(x, y, sample_weight)`` from one yielded batch, with Keras's rules.

    A tuple (or list) is ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``; anything else (an
    array, a tensor, a dict of named inputs) is ``x`` alone.
    """
    if isinstance(item, list):
        item = tuple(item)
    if not isinstance(item, tuple):
        return item, None, None
    if len(item) not in (1, 2, 3):
        raise ValueError(
            f"{where} must be x, (x,), (x, y) or (x, y, sample_weight). "
            f"Received a tuple of {len(item)} elements."
        )
    return tuple(item) + (None,) * (3 - len(item))


def order_targets(value, names: list[str] | None, label: str = "y"):
    """A dict of per-output values as a list in the model's output order (``names``).

    Outputs missing from the dict get ``None`` (no target); a key that names no output is an error.
    A single-output model gets the value itself. Anything but a dict is returned unchanged.
    """
    if not isinstance(value, dict) or not names:
        return value
    unknown = [key for key in value if key not in names]
    if unknown:
        raise ValueError(
            f"`{label}` has keys {unknown} that name no output of the model. "
            f"The outputs are {list(names)}; give `{label}` as a dict keyed by them (or a list in that order)."
        )
    ordered = [value.get(name) for name in names]
    return ordered[0] if len(ordered) == 1 else ordered


def _paths(value, prefix: str) -> list[tuple[str, Any]]:
    """``(path, leaf)`` pairs of a nested structure: ``x[0]``, ``x['image']``..."""
    if is_string_batch(value):  # text: one leaf
        return [(prefix, value)]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _paths(v, f"{prefix}[{i}]")]
    if isinstance(value, dict):
        return [p for k in sorted(value, key=str) for p in _paths(value[k], f"{prefix}[{k!r}]")]
    return [(prefix, value)]


_PARTS = ("x", "y", "sample_weight")


class BatchChecker:
    """Unpacks, converts and checks the batches of one streamed source.

    Every batch must have the structure (same parts, same nesting, same tensor ranks) of the
    first; within a batch all tensors must have the same number of samples. Sizes along the
    other axes may change from batch to batch (variable-length sequences).

    Args:
        source: how messages name the source (``"the generator"``, ``"PyDataset 'Images'"``).
        target_names: the model's output names, to order dict targets (``order_targets``).
    """

    def __init__(self, source: str, target_names: list[str] | None = None):
        self.source = source
        self.target_names = target_names
        self._first: list[tuple[str, int, tuple]] | None = None

    def __call__(self, item, index: int, device: torch.device) -> tuple:
        where = f"Batch {index} of {self.source}"
        parts = list(unpack_batch(item, where))
        pairs = []
        for i, (label, value) in enumerate(zip(_PARTS, parts)):
            if label != "x":
                value = order_targets(value, self.target_names, label)
            try:
                value = tree_map(lambda v, name=label: to_tensor(v, name), value)
            except (TypeError, ValueError) as error:
                raise type(error)(f"{where}: {error}") from None
            parts[i] = value
            pairs += [(path, leaf) for path, leaf in _paths(value, label) if leaf is not None]
        signature = [(path, leaf.dim(), tuple(leaf.shape)) for path, leaf in pairs]
        if self._first is None:
            self._check_sizes(where, signature)
            self._first = signature
        elif [(p, r) for p, r, _ in signature] != [(p, r) for p, r, _ in self._first]:
            raise ValueError(self._mismatch(where, signature))
        else:
            self._check_sizes(where, signature)
        batch = tuple(parts)
        if device.type != "cpu":
            batch = tree_map(lambda t: t.to(device, non_blocking=True), batch)
        return batch

    @staticmethod
    def _check_sizes(where: str, signature) -> None:
        sizes = {}
        for path, rank, shape in signature:
            if rank == 0:
                raise ValueError(f"{where}: `{path}` is a scalar, but every array needs a batch axis first.")
            sizes[path] = shape[0]
        if len(set(sizes.values())) > 1:
            listed = ", ".join(f"{path} has {n}" for path, n in sizes.items())
            raise ValueError(f"{where} is inconsistent: {listed} samples. All arrays of a batch must have the same first dimension.")
        if sizes and next(iter(sizes.values())) == 0:
            raise ValueError(f"{where} is empty (0 samples). Every batch needs at least one sample.")

    def _mismatch(self, where: str, signature) -> str:
        first = {p: (r, s) for p, r, s in self._first}
        this = {p: (r, s) for p, r, s in signature}
        if list(first) != list(this):
            return (f"{where} has the parts {list(this)}, but the first batch had {list(first)}. Every batch "
                    "must have the same structure: x, (x, y) or (x, y, sample_weight), nested the same way.")
        for path, (rank, shape) in this.items():
            rank0, shape0 = first[path]
            if rank != rank0:
                return (f"{where} has `{path}` of shape {shape} (rank {rank}), but the first batch's was "
                        f"{shape0} (rank {rank0}). Every batch must have arrays of the same rank; only the "
                        "batch size (and variable lengths) may change.")
        return f"{where} does not match the first batch."  # pragma: no cover - one of the above differs


def check_steps(steps: int | None, available: int | None, steps_name: str, what: str) -> None:
    """``steps`` may not exceed the batches a finite source gives per pass (a clear error, up front)."""
    if steps is not None and available is not None and steps > available:
        raise ValueError(
            f"`{steps_name}={steps}` is larger than the {available} batch(es) the data gives per epoch "
            f"({what}). Lower `{steps_name}`, or leave it None to use every batch once."
        )


_END = object()


class Continuation:
    """Epochs of exactly ``steps`` batches cut from consecutive passes over a re-iterable source.

    As in Keras, with ``steps_per_epoch`` the next epoch continues where the last one stopped;
    when a pass over the data ends, the next pass (reshuffled) begins.

    Args:
        passes: ``passes(k)`` returns an iterator over pass ``k`` of the data.
        steps: batches per epoch.
    """

    def __init__(self, passes: Callable[[int], Iterator], steps: int):
        self._passes = passes
        self.steps = steps
        self._current: Iterator | None = None
        self._next_pass = 0

    def epoch(self) -> Iterator:
        for _ in range(self.steps):
            batch = _END if self._current is None else next(self._current, _END)
            if batch is _END:
                self._current = self._passes(self._next_pass)
                self._next_pass += 1
                batch = next(self._current, _END)
                if batch is _END:
                    raise ValueError("The data produced no batches: check that it is not empty.")
            yield batch
