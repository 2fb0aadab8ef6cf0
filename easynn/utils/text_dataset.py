"""``text_dataset_from_directory``: a folder of class subfolders of ``.txt`` files as batches of strings.

Each file is read when its batch is drawn (UTF-8, undecodable bytes replaced by U+FFFD) and
given whole, or cut to its first ``max_length`` characters. A batch is ``(list_of_str, labels)``:
easynn has no string tensors: the lists of ``str`` go to the model's first layer as they are,
so start the model with ``TextVectorization`` (or tokenize yourself, then ``pad_sequences``). Indexing, shuffling and
splitting follow Keras's rules: see ``easynn.utils.dataset_utils``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from easynn.utils import dataset_utils

__all__ = ["text_dataset_from_directory"]


def collate_texts(items: list) -> Any:
    """A batch of texts as a ``list`` of ``str`` (and the labels stacked into one tensor)."""
    if items and isinstance(items[0], tuple):
        return [text for text, _ in items], torch.stack([label for _, label in items])
    return list(items)


class TextFileDataset(dataset_utils.FileDataset):
    """Text files read one at a time: item ``i`` is a ``str`` (and its label).

    Args:
        file_paths, labels, label_mode, class_names: see ``dataset_utils.FileDataset``.
        max_length: keep only the first ``max_length`` characters (``None``: the whole file).
    """

    def __init__(self, file_paths, labels, label_mode, class_names, *, max_length: int | None = None) -> None:
        super().__init__(file_paths, labels, label_mode, class_names)
        self.max_length = max_length
        self.collate_fn = collate_texts

    def load(self, path: str) -> str:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", errors="replace")
        return text if self.max_length is None else text[: self.max_length]


def text_dataset_from_directory(
    directory: Any,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
):
    """Text files in class subfolders (``directory/<class>/<file>.txt``) as batches of strings.

    Formula: class ``k`` is the ``k``-th subfolder in sorted order (or in ``class_names``); the
    files are sorted, shuffled once with ``seed``, and the last ``int(validation_split * n)`` of
    them form the validation subset.

    Args:
        directory: the folder. With ``labels="inferred"`` it holds one subfolder per class.
        labels: ``"inferred"`` (from the subfolders), ``None`` (texts only) or a list of integer
            labels, one per ``.txt`` file in the sorted order of their paths under ``directory``.
        label_mode: ``"int"`` (``int32``), ``"categorical"`` (one-hot ``float32``), ``"binary"``
            (``float32`` of shape ``(1,)``, exactly 2 classes) or ``None`` (texts only).
        class_names: with ``labels="inferred"``, the subfolders to use, in the order that numbers them.
        batch_size: texts per batch; ``None`` returns the unbatched ``Dataset``.
        max_length: keep only the first ``max_length`` characters of each text (Keras counts bytes).
        shuffle: shuffle the files once (with ``seed``) and the training batches every epoch.
        seed: seed of both shuffles; required with ``validation_split`` when shuffling.
        validation_split: fraction of the files kept for validation, in ``(0, 1)``.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (then ``[training, validation]``).
        follow_links: walk into symbolic links to folders.
        verbose: print how many files were found and used.

    Returns:
        A ``torch.utils.data.DataLoader`` yielding ``(texts, labels)`` with ``texts`` a ``list`` of
        ``str`` (``texts`` only without labels). It has ``class_names`` and ``file_paths``.
        ``subset="both"`` gives a list of two of them.

    Raises:
        ValueError: for a missing directory, bad ``labels``/``label_mode``/``class_names``/
            ``max_length``/``batch_size``, ``validation_split`` without ``subset`` (or inversely) or
            without ``seed`` when shuffling, ``label_mode="binary"`` with other than 2 classes, or no
            ``.txt`` file found.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for name, text in (("neg", "awful film"), ("pos", "great film")):
        ...     os.makedirs(os.path.join(root, name))
        ...     with open(os.path.join(root, name, "a.txt"), "w") as f:
        ...         _ = f.write(text)
        >>> ds = text_dataset_from_directory(root, shuffle=False, max_length=5, verbose=False)
        >>> texts, labels = next(iter(ds))
        >>> ds.class_names, texts, labels.tolist()
        (['neg', 'pos'], ['awful', 'great'], [0, 1])
    """
    labels, label_mode = dataset_utils.check_label_arguments(labels, label_mode, class_names)
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral) or max_length <= 0
    ):
        raise ValueError(f"`max_length` must be a positive integer or None. Received: max_length={max_length!r}")
    batch_size = dataset_utils.check_batch_size(batch_size)
    dataset_utils.check_validation_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = int(np.random.randint(1_000_000))
    paths, label_ids, names = dataset_utils.index_directory(
        directory, labels, (".txt",), class_names, shuffle, seed, follow_links
    )

    def new_dataset(part_paths, part_labels):
        return TextFileDataset(part_paths, part_labels, label_mode, names, max_length=max_length)

    return dataset_utils.make_datasets(
        new_dataset,
        paths,
        label_ids,
        names,
        label_mode=label_mode,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        validation_split=validation_split,
        subset=subset,
        what="text files",
        directory=directory,
        verbose=verbose,
    )
