"""Fashion-MNIST (Zalando article images), read from the four gzipped IDX files.

IDX format (big-endian): a 4-byte magic number ``0x0000TTNN`` -- two zero bytes, the element
type ``TT`` (``0x08`` = unsigned byte) and the number of dimensions ``NN`` -- then ``NN``
32-bit sizes, then the elements in row-major order. Label files have magic 2049 (ubyte, 1
dimension), image files magic 2051 (ubyte, 3 dimensions: count, rows, columns).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from easynn.datasets._download import get_file

__all__ = [
    "FILE_HASHES",
    "FILES",
    "OFFICIAL_ORIGIN",
    "OFFICIAL_SHA256",
    "ORIGIN",
    "load_data",
    "read_idx",
]

# Keras's mirror (folder URL; each file name is appended).
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# Zalando's own mirror, for which Zalando publishes the hashes in OFFICIAL_SHA256.
OFFICIAL_ORIGIN = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
# sha256 of the files as published by Zalando (github.com/zalandoresearch/fashion-mnist).
OFFICIAL_SHA256 = {
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}
# Hashes checked for downloads from ORIGIN. Keras pins none for its mirror, and whether its
# bytes equal Zalando's has not been verified here, so the default is no check (None). Fill
# these in, or pass file_hashes=OFFICIAL_SHA256 with origin=OFFICIAL_ORIGIN.
FILE_HASHES: dict[str, str | None] = {name: None for name in FILES}

_CACHE_SUBDIR = "fashion-mnist"
_LABEL_MAGIC = 2049
_IMAGE_MAGIC = 2051
# Refuse headers announcing more than this many elements (the real image file has 47M).
_MAX_ELEMENTS = 1 << 31


def load_data(
    path: str | os.PathLike | None = None,
    *,
    origin: str | None = None,
    file_hashes: Mapping[str, str | None] | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale article images.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.

    Args:
        path: A folder holding a local copy of the four ``.gz`` files (read with no network
            access and no checksum check), or ``None`` to use the cache and download what is
            missing.
        origin: URL of the folder holding the four files; default ``ORIGIN`` (Keras's mirror).
        file_hashes: ``{file name: sha256 or md5 or None}`` checked on download; default
            ``FILE_HASHES``. For a verified download use
            ``origin=OFFICIAL_ORIGIN, file_hashes=OFFICIAL_SHA256``.
        cache_dir: Cache folder; the files go to its ``fashion-mnist`` sub-folder. Default
            ``$EASYNN_HOME/datasets`` or ``~/.easynn/datasets``.

    Shape:
        ``x_train`` (60000, 28, 28) uint8, ``y_train`` (60000,) uint8,
        ``x_test`` (10000, 28, 28) uint8, ``y_test`` (10000,) uint8.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` as NumPy arrays.

    Raises:
        FileNotFoundError: If ``path`` is not a folder or lacks one of the files.
        ValueError: If a file is not valid gzip, its IDX header is wrong (magic number,
            sizes), images and labels disagree in count, a label is above 9, or a download
            fails its checksum.
        DownloadError: If a download fails (the message gives the URL).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> x_train.shape, y_train.shape  # doctest: +SKIP
        ((60000, 28, 28), (60000,))
    """
    hashes = dict(FILE_HASHES)
    if file_hashes is not None:
        if not isinstance(file_hashes, Mapping) or set(file_hashes) - set(FILES):
            raise ValueError(
                f"`file_hashes` must map some of the file names {list(FILES)} to a hash or None. "
                f"Received: file_hashes={file_hashes!r}"
            )
        hashes.update(file_hashes)

    if path is not None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(
                f"`path` must be a folder holding {list(FILES)}. No folder at path={os.fspath(path)!r}"
            )
        paths = [folder / name for name in FILES]
        for p in paths:
            if not p.is_file():
                raise FileNotFoundError(f"Local copy of Fashion-MNIST is missing {p.name} in {folder}")
    else:
        base = (origin if origin is not None else ORIGIN).rstrip("/") + "/"
        paths = [
            get_file(
                name,
                base + name,
                file_hash=hashes[name],
                cache_dir=cache_dir,
                cache_subdir=_CACHE_SUBDIR,
            )
            for name in FILES
        ]

    y_train = _read_gz_idx(paths[0], _LABEL_MAGIC)
    x_train = _read_gz_idx(paths[1], _IMAGE_MAGIC)
    y_test = _read_gz_idx(paths[2], _LABEL_MAGIC)
    x_test = _read_gz_idx(paths[3], _IMAGE_MAGIC)
    splits = ((x_train, y_train, paths[1], paths[0]), (x_test, y_test, paths[3], paths[2]))
    for x, y, px, py in splits:
        if x.shape[0] != y.shape[0]:
            raise ValueError(
                f"{px.name} holds {x.shape[0]} images but {py.name} holds {y.shape[0]} labels. "
                f"They must hold the same number."
            )
        if y.size and int(y.max()) > 9:
            raise ValueError(f"{py}: labels must be in 0..9. Received a label {int(y.max())}.")
    return (x_train, y_train), (x_test, y_test)


def _read_gz_idx(path: Path, magic: int) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as f:
            return read_idx(f, expected_magic=magic, name=str(path))
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(
            f"{path} is not a valid gzip file ({e}). If it is in the cache folder, delete it so "
            f"that it is downloaded again."
        ) from e


def _read_exact(f: BinaryIO, n: int, name: str, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ValueError(f"{name}: the file ends inside the IDX {what} ({len(data)} of {n} bytes).")
    return data


def read_idx(f: BinaryIO, *, expected_magic: int, name: str = "IDX file") -> np.ndarray:
    """Read one unsigned-byte IDX array from a binary stream, validating its header.

    Args:
        f: Binary stream positioned at the magic number (e.g. an open ``gzip`` file).
        expected_magic: 2049 for a label file, 2051 for an image file (or any ``0x08NN``).
        name: Name used in error messages.

    Returns:
        A writable uint8 array with the shape the header gives.

    Raises:
        ValueError: If the magic number differs from ``expected_magic``, the element type is
            not unsigned byte, the sizes are implausible, or the data are shorter or longer
            than the header says.

    Example:
        >>> import io, struct
        >>> raw = struct.pack(">IIII", 2051, 2, 1, 3) + bytes(range(6))
        >>> read_idx(io.BytesIO(raw), expected_magic=2051).tolist()
        [[[0, 1, 2]], [[3, 4, 5]]]
    """
    (magic,) = struct.unpack(">I", _read_exact(f, 4, name, "magic number"))
    if magic != expected_magic:
        kind = {_LABEL_MAGIC: "label ", _IMAGE_MAGIC: "image "}.get(expected_magic, "")
        raise ValueError(
            f"{name}: IDX magic number must be {expected_magic}. Received {magic}. "
            f"The file is not the expected {kind}file."
        )
    if magic >> 16 != 0 or (magic >> 8) & 0xFF != 0x08:
        raise ValueError(
            f"{name}: only unsigned-byte IDX files (type 0x08) are supported. Received magic {magic}."
        )
    ndim = magic & 0xFF
    dims = struct.unpack(f">{ndim}I", _read_exact(f, 4 * ndim, name, "sizes"))
    count = math.prod(dims)
    if count > _MAX_ELEMENTS or any(d == 0 for d in dims[1:]):
        raise ValueError(f"{name}: implausible IDX sizes {dims}.")
    out = np.empty(count, dtype=np.uint8)
    view, filled = memoryview(out), 0
    while filled < count:
        n = f.readinto(view[filled:])
        if not n:
            raise ValueError(
                f"{name}: the IDX header announces sizes {dims} ({count} bytes of data) but the "
                f"file holds only {filled}. The file is truncated."
            )
        filled += n
    if f.read(1):
        raise ValueError(f"{name}: the file holds more data than its IDX header announces {dims}.")
    return out.reshape(dims)
