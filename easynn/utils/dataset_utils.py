"""What ``image_dataset_from_directory`` and ``text_dataset_from_directory`` share.

Keras's rules, step by step:

1. **Index.** With ``labels="inferred"`` every subfolder of ``directory`` (sorted by name, hidden
   ones skipped) is a class, in that order unless ``class_names`` gives another order (or a
   subset); each class folder is walked recursively (folders in sorted order, files sorted
   within each) for files with an allowed extension. With ``labels=None`` or a list of labels
   the whole ``directory`` is walked the same way (hidden folders included: they are skipped only
   as classes), and the list gives one label per file in that order.
2. **Shuffle once** (``shuffle=True``) with NumPy's ``RandomState(seed)``, before any split, so the
   same seed gives the same order to both subsets (and the same order as Keras's for the same files).
3. **Split**: the last ``int(validation_split * n)`` files are the validation subset, the rest the
   training subset. With one seed the two are disjoint and together cover every file.
4. **Load lazily**: a ``torch.utils.data.Dataset`` decodes one file per item; a ``DataLoader``
   batches them and reshuffles the training files every epoch (``torch.Generator`` seeded with
   ``seed``). Labels are ``int32`` (``"int"``), one-hot ``float32`` (``"categorical"``) or ``float32``
   of shape ``(1,)`` (``"binary"``).

The result carries ``class_names`` (``None`` without labels) and ``file_paths`` (in the
dataset's order before the per-epoch shuffle), on the ``DataLoader`` and on its ``Dataset``.
"""

from __future__ import annotations

import numbers
import os
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

__all__ = [
    "FileDataset",
    "check_label_arguments",
    "check_validation_split",
    "check_batch_size",
    "index_directory",
    "make_datasets",
]

_LABEL_MODES = ("int", "categorical", "binary", None)


class FileDataset(Dataset):
    """Files and their labels; item ``i`` is ``load(file_paths[i])`` (and its label).

    Subclasses define ``load(path)``, and may set ``collate_fn`` (how the ``DataLoader`` makes a
    batch; ``None``: torch's default). Labels are encoded once, up front, by ``label_mode``.
    """

    collate_fn: Callable | None = None

    def __init__(
        self, file_paths: list[str], labels: np.ndarray | None, label_mode: str | None, class_names: list[str] | None
    ) -> None:
        self.file_paths = list(file_paths)
        self.class_names = None if class_names is None else list(class_names)
        self.label_mode = label_mode
        self.targets = _encode(labels, label_mode, len(class_names or ()))

    def __len__(self) -> int:
        return len(self.file_paths)

    def __getitem__(self, index: int):
        x = self.load(self.file_paths[index])  # IndexError past the end also ends plain iteration
        return x if self.targets is None else (x, self.targets[index])

    def load(self, path: str) -> Any:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


def _encode(labels: np.ndarray | None, label_mode: str | None, num_classes: int) -> torch.Tensor | None:
    if labels is None or label_mode is None:
        return None
    ids = torch.as_tensor(labels, dtype=torch.int64)
    if label_mode == "int":
        return ids.to(torch.int32)
    if label_mode == "binary":
        return ids.to(torch.float32)[:, None]
    return torch.nn.functional.one_hot(ids, num_classes).to(torch.float32)


def check_label_arguments(labels: Any, label_mode: Any, class_names: Any) -> tuple[Any, str | None]:
    """``(labels, label_mode)`` checked; both become ``None`` when either is ``None`` (no labels)."""
    if isinstance(labels, str):
        if labels != "inferred":
            raise ValueError(
                "`labels` must be 'inferred', None, or a list of integer labels (one per file). "
                f"Received: labels={labels!r}"
            )
    elif labels is not None:
        if not isinstance(labels, (list, tuple, np.ndarray)):
            raise ValueError(
                "`labels` must be 'inferred' (labels from the subfolder names), None (no labels), or a "
                "list/tuple of integer labels, one per file in the sorted order of the file paths. "
                f"Received: labels={labels!r}"
            )
        if class_names is not None:
            raise ValueError(
                "`class_names` can only be passed with labels='inferred' (with a list of labels the class "
                f"names are the sorted labels). Received: class_names={class_names!r}"
            )
    if labels is None and class_names is not None:
        raise ValueError(
            f"`class_names` cannot be passed with labels=None (no labels). Received: class_names={class_names!r}"
        )
    if label_mode not in _LABEL_MODES:
        raise ValueError(
            f"`label_mode` must be one of 'int', 'categorical', 'binary', or None. Received: label_mode={label_mode!r}"
        )
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def check_validation_split(validation_split: Any, subset: Any, shuffle: bool, seed: Any) -> None:
    """Keras's checks of ``validation_split``, ``subset``, ``shuffle`` and ``seed`` together."""
    if validation_split is not None and (
        isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real)
    ):
        raise ValueError(
            f"`validation_split` must be a number between 0 and 1. Received: validation_split={validation_split!r}"
        )
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1 (exclusive). Received: validation_split={validation_split!r}"
        )
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f"`subset` must be 'training', 'validation', 'both' or None. Received: subset={subset!r}")
    if bool(validation_split) != bool(subset):
        raise ValueError(
            "`subset` and `validation_split` go together: pass both or neither. "
            f"Received: validation_split={validation_split!r}, subset={subset!r}"
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "With `validation_split` and shuffle=True, pass a `seed` so that the training and validation "
            "subsets are drawn from the same shuffled order and do not overlap. Received: seed=None"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"`seed` must be a non-negative integer or None. Received: seed={seed!r}")


def check_batch_size(batch_size: Any) -> int | None:
    """A positive int, or ``None`` (unbatched samples)."""
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: batch_size={batch_size!r}")
    return int(batch_size)


def _walk(top: str, follow_links: bool, formats: tuple[str, ...]) -> list[str]:
    """Files under ``top`` with an allowed extension, relative to ``top``: folders sorted, then files."""
    found = []
    for root, _, files in sorted(os.walk(top, followlinks=follow_links), key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                found.append(os.path.relpath(os.path.join(root, name), top))
    return found


def index_directory(
    directory: Any,
    labels: Any,
    formats: tuple[str, ...],
    class_names: Sequence[str] | None,
    shuffle: bool,
    seed: int,
    follow_links: bool,
) -> tuple[list[str], np.ndarray | None, list[str] | None]:
    """``(file_paths, labels, class_names)`` by Keras's rules (steps 1 and 2 of the module docstring).

    Raises:
        ValueError: for a missing directory, ``class_names`` that are not subfolders, or a list of
            labels whose length is not the number of files (or whose values are not integers >= 0).
    """
    if not isinstance(directory, (str, os.PathLike)):
        raise ValueError(f"`directory` must be a path (str or os.PathLike). Received: directory={directory!r}")
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` must be an existing folder. Received: directory={directory!r}")
    inferred = isinstance(labels, str)  # "inferred" (checked by check_label_arguments)
    if inferred:
        folders = sorted(
            name
            for name in os.listdir(directory)
            if not name.startswith(".") and os.path.isdir(os.path.join(directory, name))
        )
        if class_names is not None:
            if (
                isinstance(class_names, str)
                or not all(isinstance(c, str) for c in class_names)
                or not set(class_names) <= set(folders)
                or len(set(class_names)) != len(class_names)
            ):
                raise ValueError(
                    "`class_names` must name distinct subfolders of `directory` "
                    f"(expected some of {folders}). Received: class_names={class_names!r}"
                )
            folders = list(class_names)
    else:
        folders = [""]
    relative, ids = [], []
    for index, folder in enumerate(folders):
        for path in _walk(os.path.join(directory, folder) if folder else directory, follow_links, formats):
            relative.append(os.path.join(folder, path) if folder else path)
            ids.append(index)
    file_paths = [os.path.join(directory, path) for path in relative]
    if inferred:
        names, label_array = folders, np.asarray(ids, dtype=np.int32)
    elif labels is None:
        names, label_array = None, None
    else:
        label_array = np.asarray(labels)
        if label_array.ndim != 1 or len(label_array) != len(file_paths):
            raise ValueError(
                f"`labels` must have one label per file: {len(file_paths)} files were found in "
                f"directory {directory!r}, but len(labels)={len(labels)}."
            )
        if len(label_array) and (not np.issubdtype(label_array.dtype, np.integer) or label_array.min() < 0):
            raise ValueError(f"`labels` must be integers >= 0. Received: labels={list(labels)!r}")
        label_array = label_array.astype(np.int32)
        names = [str(value) for value in sorted(set(label_array.tolist()))]
    if shuffle:
        order = np.random.RandomState(seed).permutation(len(file_paths))
        file_paths = [file_paths[i] for i in order]
        if label_array is not None:
            label_array = label_array[order]
    return file_paths, label_array, names


def _check_label_values(labels: np.ndarray | None, label_mode: str | None, class_names: list[str] | None) -> None:
    if label_mode == "binary" and len(class_names or ()) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes. Received: class_names={class_names}")
    if label_mode in ("binary", "categorical") and labels is not None and len(labels):
        top = int(labels.max())
        if top >= len(class_names):
            raise ValueError(
                f"label_mode={label_mode!r} needs labels in 0..{len(class_names) - 1} (one per class), "
                f"but a label is {top}. Use label_mode='int' or renumber the labels."
            )


def make_datasets(
    new_dataset: Callable[[list[str], np.ndarray | None], FileDataset],
    file_paths: list[str],
    labels: np.ndarray | None,
    class_names: list[str] | None,
    *,
    label_mode: str | None,
    batch_size: int | None,
    shuffle: bool,
    seed: int,
    validation_split: float | None,
    subset: str | None,
    what: str,
    directory: Any,
    verbose: bool,
):
    """The split (step 3) and the loaders (step 4): one result, or ``[training, validation]`` for
    ``subset="both"``. ``what`` names the files in messages (``"images"``, ``"text files"``)."""
    _check_label_values(labels, label_mode, class_names)
    if verbose:
        found = f"Found {len(file_paths)} files"
        print(found + ("." if class_names is None else f" belonging to {len(class_names)} classes."))
    n_val = int(validation_split * len(file_paths)) if validation_split else 0
    cut = len(file_paths) - n_val

    def build(part: str | None, reshuffle: bool):
        if part == "validation":
            paths, part_labels = file_paths[cut:], None if labels is None else labels[cut:]
        elif part == "training":
            paths, part_labels = file_paths[:cut], None if labels is None else labels[:cut]
        else:
            paths, part_labels = file_paths, labels
        if not paths:
            kind = f"{part} " if part else ""
            raise ValueError(
                f"No {kind}{what} found in directory {os.fspath(directory)!r} "
                f"({len(file_paths)} files in all, validation_split={validation_split})."
            )
        if verbose and part:
            print(f"Using {len(paths)} files for {part}.")
        dataset = new_dataset(paths, part_labels)
        if batch_size is None:
            return dataset
        generator = torch.Generator().manual_seed(int(seed)) if reshuffle else None
        loader = DataLoader(
            dataset, batch_size=batch_size, shuffle=reshuffle, generator=generator, collate_fn=dataset.collate_fn
        )
        loader.class_names = dataset.class_names
        loader.file_paths = dataset.file_paths
        return loader

    if subset == "both":
        return [build("training", shuffle), build("validation", False)]
    return build(subset if validation_split else None, shuffle)
