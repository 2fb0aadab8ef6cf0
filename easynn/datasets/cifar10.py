"""CIFAR-10 small colour images, read from the python tarball ``cifar-10-python.tar.gz``.

The tarball holds ``cifar-10-batches-py/data_batch_1`` .. ``data_batch_5`` and ``test_batch``.
Each batch is a Python 2 pickle of a dict with ``data`` (an ``(n, 3072)`` uint8 NumPy array:
1024 red, then 1024 green, then 1024 blue values of a 32x32 image, row-major) and ``labels``
(a list of n ints 0..9). A pickle can run any code it names, so the batches are read with
``SafeUnpickler``, which lets through only the three NumPy globals an array needs and refuses
everything else before it is called. The tarball is read member by member in memory; nothing
is extracted to disk, so member names cannot escape a folder.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from easynn.datasets._download import get_file

__all__ = ["FILE_NAME", "ORIGIN", "SHA256", "SafeUnpickler", "load_data", "safe_loads"]

# Folder URL; the file name is appended. Keras downloads from the same place.
ORIGIN = "https://www.cs.toronto.edu/~kriz/"
FILE_NAME = "cifar-10-python.tar.gz"
# The sha256 Keras pins for this file (keras/src/datasets/cifar10.py).
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"

_BATCH_DIR = "cifar-10-batches-py"
_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST_BATCH = "test_batch"
# A real batch pickle is about 31 MB; refuse members far larger than that.
_MAX_BATCH_BYTES = 256 << 20

# The function numpy's pickles name "numpy.core.multiarray._reconstruct" (numpy < 2) or
# "numpy._core.multiarray._reconstruct" (numpy >= 2). Taken from ndarray.__reduce__ so that
# neither module path has to be imported (numpy 2 warns on numpy.core).
_RECONSTRUCT = np.empty(0).__reduce__()[0]
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _RefusedGlobal(pickle.UnpicklingError):
    pass


class SafeUnpickler(pickle.Unpickler):
    """Unpickler that resolves only NumPy's array-reconstruction globals.

    ``find_class`` is the only way a pickle can reach a callable (``GLOBAL``,
    ``STACK_GLOBAL``, ``INST``, ``OBJ`` and the extension-registry opcodes all go through it),
    so refusing there stops a crafted ``__reduce__`` before anything is called. Allowed:
    ``numpy.ndarray``, ``numpy.dtype`` and ``numpy.core.multiarray._reconstruct`` (also
    spelled ``numpy._core.multiarray._reconstruct``). Dicts, lists, tuples, bytes, str and
    ints need no global.

    Example:
        >>> import io, pickle
        >>> SafeUnpickler(io.BytesIO(pickle.dumps({"labels": [1, 2]}))).load()
        {'labels': [1, 2]}
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _RefusedGlobal(
                f"refused the global '{module}.{name}': only numpy.ndarray, numpy.dtype and "
                f"numpy.core.multiarray._reconstruct may be loaded"
            ) from None


def safe_loads(data: bytes, *, encoding: str = "bytes", name: str = "pickle") -> Any:
    """Unpickle ``data`` with ``SafeUnpickler``; refuse any other global with a ValueError.

    Args:
        data: The pickle bytes.
        encoding: How Python 2 ``str`` objects are decoded; ``"bytes"`` keeps them as bytes.
        name: Name used in error messages.

    Returns:
        The unpickled object.

    Raises:
        ValueError: If the pickle names a global that is not allowed (nothing it names is
            called), or is not a valid pickle.

    Example:
        >>> import os, pickle
        >>> class Evil:
        ...     def __reduce__(self):
        ...         return (os.system, ("echo pwned",))
        >>> safe_loads(pickle.dumps(Evil()))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Refusing to load pickle: refused the global '...system'...
    """
    try:
        return SafeUnpickler(io.BytesIO(data), encoding=encoding).load()
    except _RefusedGlobal as e:
        raise ValueError(
            f"Refusing to load {name}: {e}. The file may be corrupted or malicious; nothing in it "
            f"was executed."
        ) from None
    except (
        pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
        KeyError, MemoryError, OverflowError, UnicodeDecodeError,
    ) as e:
        raise ValueError(f"{name} is not a valid pickle: {e!r}") from e


def load_data(
    path: str | os.PathLike | None = None,
    *,
    origin: str | None = None,
    file_hash: str | None = SHA256,
    cache_dir: str | os.PathLike | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse,
    8 ship, 9 truck. Images are channels_last, as Keras returns them by default.

    Args:
        path: A local copy, read with no network access and no checksum check: either the
            ``cifar-10-python.tar.gz`` file, or a folder holding the extracted batch files
            (directly or in ``cifar-10-batches-py/``). ``None`` uses the cache and downloads
            the tarball on first use.
        origin: URL of the folder holding ``cifar-10-python.tar.gz``; default ``ORIGIN``.
        file_hash: sha256 or md5 the download must match; default Keras's sha256.
            ``None`` skips the check.
        cache_dir: Cache folder; default ``$EASYNN_HOME/datasets`` or ``~/.easynn/datasets``.

    Shape:
        ``x_train`` (50000, 32, 32, 3) uint8, ``y_train`` (50000, 1) uint8,
        ``x_test`` (10000, 32, 32, 3) uint8, ``y_test`` (10000, 1) uint8.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` as C-contiguous NumPy arrays.

    Raises:
        FileNotFoundError: If ``path`` does not exist or a batch file is missing.
        ValueError: If the tarball or a batch is malformed, a batch pickle names a global
            other than NumPy's array reconstruction (it is refused, not run), or the download
            fails its checksum.
        DownloadError: If the download fails (the message gives the URL).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> x_train.shape, y_train.shape  # doctest: +SKIP
        ((50000, 32, 32, 3), (50000, 1))
    """
    if path is not None:
        source = Path(path).expanduser()
        if not source.exists():
            raise FileNotFoundError(
                f"`path` must be {FILE_NAME} or a folder of CIFAR-10 batch files. Nothing at "
                f"path={os.fspath(path)!r}"
            )
    else:
        base = (origin if origin is not None else ORIGIN).rstrip("/") + "/"
        source = get_file(FILE_NAME, base + FILE_NAME, file_hash=file_hash, cache_dir=cache_dir)

    blobs = _read_folder(source) if source.is_dir() else _read_tarball(source)
    train = [_decode_batch(blobs[name], name) for name in _TRAIN_BATCHES]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    x_test, y_test = _decode_batch(blobs[_TEST_BATCH], _TEST_BATCH)
    return (_to_keras(x_train), y_train.reshape(-1, 1)), (_to_keras(x_test), y_test.reshape(-1, 1))


def _to_keras(x: np.ndarray) -> np.ndarray:
    # (n, 3072) rows -> (n, 3, 32, 32) channels_first -> (n, 32, 32, 3) channels_last.
    return np.ascontiguousarray(x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def _read_tarball(tar_path: Path) -> dict[str, bytes]:
    wanted = set(_TRAIN_BATCHES) | {_TEST_BATCH}
    blobs: dict[str, bytes] = {}
    try:
        with tarfile.open(tar_path, "r:gz") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if len(parts) != 2 or parts[0] != _BATCH_DIR or parts[1] not in wanted:
                    continue
                if not member.isfile():
                    raise ValueError(f"{tar_path}: member {member.name} is not a regular file.")
                if member.size > _MAX_BATCH_BYTES:
                    raise ValueError(
                        f"{tar_path}: member {member.name} is implausibly large "
                        f"({member.size} bytes)."
                    )
                blobs[parts[1]] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise ValueError(
            f"{tar_path} is not a readable {FILE_NAME} ({e}). If it is in the cache folder, "
            f"delete it so that it is downloaded again."
        ) from e
    missing = sorted(wanted - set(blobs))
    if missing:
        raise ValueError(
            f"{tar_path} lacks the CIFAR-10 batches {missing} (expected under {_BATCH_DIR}/)."
        )
    return blobs


def _read_folder(folder: Path) -> dict[str, bytes]:
    if (folder / _BATCH_DIR).is_dir():
        folder = folder / _BATCH_DIR
    blobs = {}
    for name in (*_TRAIN_BATCHES, _TEST_BATCH):
        p = folder / name
        if not p.is_file():
            raise FileNotFoundError(f"Local copy of CIFAR-10 is missing {name} in {folder}")
        if p.stat().st_size > _MAX_BATCH_BYTES:
            raise ValueError(
                f"{p} is implausibly large for a CIFAR-10 batch ({p.stat().st_size} bytes)."
            )
        blobs[name] = p.read_bytes()
    return blobs


def _decode_batch(blob: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    batch = safe_loads(blob, encoding="bytes", name=f"CIFAR-10 batch {name}")
    if not isinstance(batch, dict):
        raise ValueError(f"CIFAR-10 batch {name} must hold a dict. Received {type(batch).__name__}.")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    is_array = isinstance(data, np.ndarray)
    if not is_array or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        desc = f"a {data.dtype} array of shape {data.shape}" if is_array else type(data).__name__
        raise ValueError(
            f"CIFAR-10 batch {name}: 'data' must be a uint8 array of shape (n, 3072). "
            f"Received {desc}."
        )
    if not isinstance(labels, list) or not all(type(v) is int and 0 <= v <= 9 for v in labels):
        raise ValueError(f"CIFAR-10 batch {name}: 'labels' must be a list of ints in 0..9.")
    if len(labels) != data.shape[0]:
        raise ValueError(
            f"CIFAR-10 batch {name} holds {data.shape[0]} images but {len(labels)} labels. They "
            f"must hold the same number."
        )
    return data, np.asarray(labels, dtype=np.uint8)
