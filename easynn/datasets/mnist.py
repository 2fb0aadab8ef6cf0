"""MNIST handwritten digits, read from the ``mnist.npz`` file that Keras distributes."""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from easynn.datasets._download import get_file

__all__ = ["FILE_NAME", "ORIGIN", "SHA256", "load_data"]

# Folder URL; the file name is appended. Keras downloads from the same place.
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_NAME = "mnist.npz"
# The sha256 Keras pins for this file (keras/src/datasets/mnist.py).
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_data(
    path: str | os.PathLike = FILE_NAME,
    *,
    origin: str | None = None,
    file_hash: str | None = SHA256,
    cache_dir: str | os.PathLike | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the MNIST data set: 60,000 training and 10,000 test 28x28 grayscale digits.

    ``x`` holds pixel values 0..255 and ``y`` the digit 0..9, as in Keras.

    Args:
        path: Where the data come from. An existing file (absolute or relative path) is a local
            copy of ``mnist.npz`` and is read with no network access and no checksum check.
            Otherwise, as in Keras, a plain file name is the name of the file in the cache
            folder, downloaded there on first use.
        origin: URL of the folder holding ``mnist.npz`` (a mirror); default ``ORIGIN``,
            Keras's location.
        file_hash: sha256 or md5 the download must match; default Keras's sha256.
            ``None`` skips the check.
        cache_dir: Cache folder; default ``$EASYNN_HOME/datasets`` or ``~/.easynn/datasets``.

    Shape:
        ``x_train`` (60000, 28, 28) uint8, ``y_train`` (60000,) uint8,
        ``x_test`` (10000, 28, 28) uint8, ``y_test`` (10000,) uint8.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` as NumPy arrays.

    Raises:
        FileNotFoundError: If ``path`` has a folder part but names no existing file.
        ValueError: If the file is not a valid MNIST ``.npz`` (missing keys, wrong dtype or
            shape, pickled objects), or the download fails its checksum.
        DownloadError: If the download fails (the message gives the URL).

    Example:
        >>> import tempfile, pathlib
        >>> import numpy as np
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "mnist.npz"
        >>> z = lambda *s: np.zeros(s, np.uint8)
        >>> np.savez(f, x_train=z(5, 28, 28), y_train=z(5), x_test=z(3, 28, 28), y_test=z(3))
        >>> (x_train, y_train), (x_test, y_test) = load_data(path=f)
        >>> x_train.shape, y_train.dtype, x_test.shape
        ((5, 28, 28), dtype('uint8'), (3, 28, 28))
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    local = _local_copy(path)
    if local is None:
        local = get_file(
            os.fspath(path),
            (origin if origin is not None else ORIGIN).rstrip("/") + "/" + FILE_NAME,
            file_hash=file_hash,
            cache_dir=cache_dir,
        )
    return _read_npz(local)


def _local_copy(path: str | os.PathLike) -> Path | None:
    """An existing file -> its path; a plain name -> None (use the cache); else an error."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or os.PathLike. Received: path={path!r}")
    candidate = Path(path).expanduser()
    if candidate.is_file():
        return candidate
    raw = os.fspath(path)
    if os.path.basename(raw) == raw and raw not in ("", ".", ".."):
        return None
    raise FileNotFoundError(
        f"`path` must be an existing file (a local copy of mnist.npz) or a plain file name in "
        f"the cache folder. No file at path={raw!r}"
    )


def _read_npz(path: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    try:
        # allow_pickle=False: an object array in the file is refused instead of unpickled.
        with np.load(path, allow_pickle=False) as npz:
            found = sorted(npz.files)
            arrays = {k: npz[k] for k in _KEYS if k in found}
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
        raise ValueError(
            f"{path} is not a readable .npz file ({e}). If it is in the cache folder, delete it "
            f"so that it is downloaded again."
        ) from e
    except ValueError as e:  # e.g. a pickle or an object array, refused by allow_pickle=False
        raise ValueError(f"{path} could not be read as an MNIST .npz file: {e}") from e
    missing = [k for k in _KEYS if k not in arrays]
    if missing:
        raise ValueError(
            f"{path} is not an MNIST .npz file: keys {missing} are missing. Expected the keys "
            f"{list(_KEYS)}; found {found}."
        )

    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise ValueError(
                f"{path}: x_{split} and y_{split} must be uint8. Received dtypes {x.dtype} and "
                f"{y.dtype}."
            )
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(
                f"{path}: x_{split} must have shape (n, rows, cols) and y_{split} shape (n,). "
                f"Received x_{split}.shape={x.shape} and y_{split}.shape={y.shape}."
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
