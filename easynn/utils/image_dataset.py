"""``image_dataset_from_directory``: a folder of class subfolders of images as a ``DataLoader`` for ``fit``.

Images are decoded with Pillow (``pip install easynn[image]``) one batch at a time, never all at
once. Each image is converted to ``color_mode``, resized to ``image_size`` like Keras's
``tf.image.resize`` (half-pixel centres, no antialiasing; ``easynn.ops.image.resize``) and given
as ``float32`` values in ``[0, 255]``; add a ``Rescaling(1 / 255)`` layer to the model for ``[0, 1]``.
Indexing, shuffling and splitting follow Keras's rules: see ``easynn.utils.dataset_utils``.

For parallel decoding, wrap the dataset in your own loader:
``DataLoader(ds.dataset, batch_size=32, shuffle=True, num_workers=4)``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from easynn import config
from easynn.ops import image as image_ops
from easynn.utils import dataset_utils
from easynn.utils.image_utils import check_color_mode, pil_image

__all__ = ["image_dataset_from_directory", "ALLOWED_FORMATS"]

ALLOWED_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area")
_KERAS_ONLY = ("lanczos3", "lanczos5", "gaussian", "mitchellcubic")


def _resize_with_pad(x: torch.Tensor, size: tuple[int, int], interpolation: str) -> torch.Tensor:
    """Resize ``(h, w, c)`` to fit inside ``size`` keeping its aspect ratio, then pad with zeros,
    centred (``tf.image.resize_with_pad``'s arithmetic)."""
    height, width = x.shape[0], x.shape[1]
    ratio = max(width / size[1], height / size[0])
    new_h, new_w = max(int(height / ratio), 1), max(int(width / ratio), 1)
    top = max(int((size[0] - height / ratio) // 2), 0)
    left = max(int((size[1] - width / ratio) // 2), 0)
    if (new_h, new_w) != (height, width):
        x = image_ops.resize(x, (new_h, new_w), interpolation=interpolation, data_format="channels_last")
    return F.pad(x, (0, 0, left, size[1] - new_w - left, top, size[0] - new_h - top))


class ImageFileDataset(dataset_utils.FileDataset):
    """Image files decoded one at a time: item ``i`` is a ``float32`` image (and its label).

    Args:
        file_paths, labels, label_mode, class_names: see ``dataset_utils.FileDataset``.
        image_size: ``(height, width)`` of every image.
        color_mode: ``"rgb"``, ``"rgba"`` or ``"grayscale"``.
        interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio: how images are resized.
        data_format: ``"channels_last"`` gives ``(h, w, c)`` images, ``"channels_first"`` ``(c, h, w)``.
    """

    def __init__(
        self,
        file_paths,
        labels,
        label_mode,
        class_names,
        *,
        image_size,
        color_mode="rgb",
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        data_format="channels_last",
    ) -> None:
        super().__init__(file_paths, labels, label_mode, class_names)
        self.image_size = tuple(image_size)
        self.mode, self.channels = check_color_mode(color_mode)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = data_format

    def load(self, path: str) -> torch.Tensor:
        """Decode ``path`` (the first frame of an animation), convert, resize."""
        with pil_image().open(path) as img:
            if img.mode != self.mode:
                img = img.convert(self.mode)
            pixels = np.array(img, dtype=np.float32)  # a copy, so the tensor owns writable memory
        x = torch.from_numpy(pixels.reshape(pixels.shape[0], pixels.shape[1], self.channels))
        if tuple(x.shape[:2]) != self.image_size:
            if self.pad_to_aspect_ratio:
                x = _resize_with_pad(x, self.image_size, self.interpolation)
            else:
                x = image_ops.resize(
                    x,
                    self.image_size,
                    interpolation=self.interpolation,
                    crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                    data_format="channels_last",
                )
        if self.data_format == "channels_first":
            x = x.permute(2, 0, 1)
        return x.contiguous()


def _check_image_size(image_size: Any) -> tuple[int, int]:
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, (list, tuple))
        or len(image_size) != 2
        or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in image_size)
    ):
        raise ValueError(
            f"`image_size` must be a tuple of 2 positive integers (height, width). Received: image_size={image_size!r}"
        )
    return int(image_size[0]), int(image_size[1])


def _check_interpolation(interpolation: Any) -> str:
    value = interpolation.lower() if isinstance(interpolation, str) else interpolation
    if value in _KERAS_ONLY:
        raise NotImplementedError(
            f"interpolation={interpolation!r} is not implemented in easynn; use one of {', '.join(_INTERPOLATIONS)}."
        )
    if value not in _INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {', '.join(_INTERPOLATIONS)}. Received: interpolation={interpolation!r}"
        )
    return value


def image_dataset_from_directory(
    directory: Any,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    verbose: bool = True,
):
    """Images in class subfolders (``directory/<class>/<image>``) as batches for ``fit``.

    Formula: class ``k`` is the ``k``-th subfolder in sorted order (or in ``class_names``); the
    files are sorted, shuffled once with ``seed``, and the last ``int(validation_split * n)`` of
    them form the validation subset.

    Args:
        directory: the folder. With ``labels="inferred"`` it holds one subfolder per class.
        labels: ``"inferred"`` (from the subfolders), ``None`` (images only) or a list of integer
            labels, one per image file in the sorted order of their paths under ``directory``.
        label_mode: ``"int"`` (``int32`` labels, for ``sparse_categorical_crossentropy``),
            ``"categorical"`` (one-hot ``float32``), ``"binary"`` (``float32`` of shape ``(1,)``, exactly
            2 classes) or ``None`` (images only).
        class_names: with ``labels="inferred"``, the subfolders to use, in the order that numbers them.
        color_mode: ``"rgb"`` (3 channels), ``"rgba"`` (4) or ``"grayscale"`` (1).
        batch_size: images per batch; ``None`` returns the unbatched ``Dataset`` (``fit`` batches it).
        image_size: ``(height, width)`` every image is resized to (an int means a square).
        shuffle: shuffle the files once (with ``seed``) and the training batches every epoch.
        seed: seed of both shuffles; required with ``validation_split`` when shuffling.
        validation_split: fraction of the files kept for validation, in ``(0, 1)``.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (then ``[training, validation]``).
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"`` or ``"area"``.
        follow_links: walk into symbolic links to folders.
        crop_to_aspect_ratio: crop the largest centred box of ``image_size``'s aspect ratio first.
        pad_to_aspect_ratio: resize to fit, keeping the aspect ratio, and pad with zeros (centred).
        data_format: ``"channels_last"`` (default) or ``"channels_first"`` for the images' layout.
        verbose: print how many files were found and used.

    Returns:
        A ``torch.utils.data.DataLoader`` yielding ``(images, labels)`` (``images`` only without
        labels), ``images`` of shape ``(batch, height, width, channels)`` and dtype ``float32``. It has
        ``class_names`` and ``file_paths``. ``subset="both"`` gives a list of two of them.

    Raises:
        ValueError: for a missing directory, bad ``labels``/``label_mode``/``class_names``/
            ``color_mode``/``image_size``/``interpolation``/``batch_size``, ``validation_split``
            without ``subset`` (or inversely) or without ``seed`` when shuffling, both aspect-ratio
            options, ``label_mode="binary"`` with other than 2 classes, or no image found.
        NotImplementedError: for Keras's ``"lanczos3"``, ``"lanczos5"``, ``"gaussian"``, ``"mitchellcubic"``.
        ImportError: when Pillow is not installed.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from easynn.utils import save_img
        >>> root = tempfile.mkdtemp()
        >>> for name, colour in (("cat", [255, 0, 0]), ("dog", [0, 0, 255])):
        ...     os.makedirs(os.path.join(root, name))
        ...     for i in range(3):
        ...         save_img(os.path.join(root, name, f"{i}.png"), np.tile(colour, (6, 8, 1)), scale=False)
        >>> train = image_dataset_from_directory(root, image_size=(4, 4), batch_size=4, seed=1,
        ...                                      validation_split=0.5, subset="training")
        Found 6 files belonging to 2 classes.
        Using 3 files for training.
        >>> images, labels = next(iter(train))
        >>> train.class_names, tuple(images.shape), images.dtype, labels.dtype
        (['cat', 'dog'], (3, 4, 4, 3), torch.float32, torch.int32)
    """
    labels, label_mode = dataset_utils.check_label_arguments(labels, label_mode, class_names)
    check_color_mode(color_mode)
    size = _check_image_size(image_size)
    interpolation = _check_interpolation(interpolation)
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True.")
    fmt = config.image_data_format() if data_format is None else data_format
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(
            f"`data_format` must be 'channels_last' or 'channels_first'. Received: data_format={data_format!r}"
        )
    batch_size = dataset_utils.check_batch_size(batch_size)
    dataset_utils.check_validation_split(validation_split, subset, shuffle, seed)
    pil_image()  # fail now, not at the first batch, when Pillow is missing
    if seed is None:
        seed = int(np.random.randint(1_000_000))
    paths, label_ids, names = dataset_utils.index_directory(
        directory, labels, ALLOWED_FORMATS, class_names, shuffle, seed, follow_links
    )

    def new_dataset(part_paths, part_labels):
        return ImageFileDataset(
            part_paths,
            part_labels,
            label_mode,
            names,
            image_size=size,
            color_mode=color_mode,
            interpolation=interpolation,
            crop_to_aspect_ratio=crop_to_aspect_ratio,
            pad_to_aspect_ratio=pad_to_aspect_ratio,
            data_format=fmt,
        )

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
        what="images",
        directory=directory,
        verbose=verbose,
    )
