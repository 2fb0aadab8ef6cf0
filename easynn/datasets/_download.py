"""Download-once file cache shared by the data-set loaders.

Who owns what:
- ``get_file`` decides where a file lives in the cache, whether the cached copy can be used,
  and publishes a finished download with one atomic ``os.replace``.
- ``_fetch`` owns the network: retries, resuming with an HTTP ``Range`` request, and the check
  that the server sent as many bytes as it announced.
- The loaders (``mnist.py``, ``fashion_mnist.py``, ``cifar10.py``) own the file formats; nothing
  here knows what is inside a file.

A download is written to ``<name>.part`` in the cache folder, flushed and fsync'ed, checked
against its hash, and only then renamed to ``<name>``. So a file under its final name is always
complete; an interrupted download leaves only the ``.part`` file, which the next call resumes.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

__all__ = ["DownloadError", "default_cache_dir", "file_digest", "get_file"]

ENV_HOME = "EASYNN_HOME"
_CHUNK_BYTES = 1 << 16
# Seconds to wait before retry k (k = 1, 2, ...) is _RETRY_BACKOFF_S * 2 ** (k - 1).
_RETRY_BACKOFF_S = 0.5
# Seconds a silent connection may stall before the attempt fails (when `timeout` is None).
_DEFAULT_TIMEOUT_S = 60.0
# HTTP statuses worth retrying; any other 4xx is final (a wrong URL does not heal by waiting).
_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")


class DownloadError(RuntimeError):
    """A file could not be downloaded after all retries (network down, server error, ...)."""


class _IncompleteDownload(OSError):
    """The server closed the connection before sending everything it announced."""


class _FinalHTTPError(Exception):
    """An HTTP error that retrying cannot fix (404, 403, ...)."""


def default_cache_dir() -> Path:
    """Return the folder where downloaded data sets are cached.

    ``$EASYNN_HOME/datasets`` when the environment variable ``EASYNN_HOME`` is set, else
    ``~/.easynn/datasets``. The folder is not created here.

    Returns:
        The cache folder as a ``Path``.

    Example:
        >>> default_cache_dir().name
        'datasets'
    """
    home = os.environ.get(ENV_HOME)
    base = Path(home).expanduser() if home else Path.home() / ".easynn"
    return base / "datasets"


def _hash_algorithm(expected: str) -> str:
    """Pick sha256 or md5 from the length of a hex digest, as Keras's ``get_file`` does."""
    if not isinstance(expected, str) or not re.fullmatch(r"[0-9a-fA-F]+", expected):
        raise ValueError(
            f"`file_hash` must be a hexadecimal sha256 (64 characters) or md5 (32 characters) "
            f"digest. Received: file_hash={expected!r}"
        )
    if len(expected) == 64:
        return "sha256"
    if len(expected) == 32:
        return "md5"
    raise ValueError(
        f"`file_hash` must be a sha256 (64 hex characters) or md5 (32 hex characters) digest. "
        f"Received {len(expected)} characters: file_hash={expected!r}"
    )


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file, read in chunks.

    Args:
        path: The file to hash.
        algorithm: ``"sha256"`` or ``"md5"``.

    Returns:
        The lowercase hex digest.

    Raises:
        ValueError: If ``algorithm`` is not ``"sha256"`` or ``"md5"``.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> _ = p.write_bytes(b"abc")
        >>> file_digest(p, "md5")
        '900150983cd24fb0d6963f7d28e17f72'
    """
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"`algorithm` must be 'sha256' or 'md5'. Received: algorithm={algorithm!r}")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_fname(fname: str) -> None:
    if (
        not isinstance(fname, str)
        or fname in ("", ".", "..")
        or os.path.basename(fname) != fname
        or "/" in fname
        or "\\" in fname
    ):
        raise ValueError(
            f"`fname` must be a plain file name with no folder part (the file is stored in the "
            f"cache folder). Received: fname={fname!r}"
        )


def get_file(
    fname: str,
    origin: str,
    *,
    file_hash: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    cache_subdir: str | None = None,
    max_retries: int = 3,
    timeout: float | None = None,
) -> Path:
    """Download a file into the cache once and return its path.

    The file is stored at ``<cache_dir>/<cache_subdir>/<fname>``. A cached copy is used without
    touching the network, after checking ``file_hash`` when one is given (a cached copy with a
    wrong hash is downloaded again). A download goes to ``<fname>.part``; a broken transfer is
    resumed with an HTTP ``Range`` request when the server supports it, else restarted, at
    most ``max_retries`` attempts in all. The finished file is fsync'ed, checked against
    ``file_hash`` and moved into place with ``os.replace``, so the cache never holds a
    half-written file under its final name.

    Args:
        fname: File name in the cache (no folder part).
        origin: ``http://`` or ``https://`` URL to download from.
        file_hash: Expected sha256 (64 hex characters) or md5 (32 hex characters) digest, or
            ``None`` to skip the check.
        cache_dir: Cache folder; default ``$EASYNN_HOME/datasets`` or ``~/.easynn/datasets``.
        cache_subdir: Optional sub-folder of ``cache_dir`` (a plain name).
        max_retries: Number of download attempts, at least 1.
        timeout: Seconds to wait on a silent connection before the attempt fails; default 60.

    Returns:
        The path of the complete, verified file.

    Raises:
        ValueError: For a bad argument, or when the downloaded file does not match
            ``file_hash`` (the partial file is deleted; the message names the file, the
            expected and the actual digest).
        DownloadError: When every attempt failed (the message names the URL and the last
            error). The ``.part`` file is kept so that a later call resumes it.

    Example:
        >>> path = get_file("mnist.npz",
        ...     "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        ...     file_hash="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        ... )  # doctest: +SKIP
    """
    _check_fname(fname)
    scheme = urllib.parse.urlsplit(origin).scheme if isinstance(origin, str) else None
    if scheme not in ("http", "https"):
        raise ValueError(f"`origin` must be an http:// or https:// URL. Received: origin={origin!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 1:
        raise ValueError(f"`max_retries` must be an integer >= 1. Received: max_retries={max_retries!r}")
    if timeout is None:
        timeout = _DEFAULT_TIMEOUT_S
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"`timeout` must be a positive number of seconds. Received: timeout={timeout!r}")
    algorithm = _hash_algorithm(file_hash) if file_hash is not None else None

    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if cache_subdir is not None:
        _check_fname(cache_subdir)
        folder = folder / cache_subdir
    dest = folder / fname
    if dest.is_file() and (algorithm is None or file_digest(dest, algorithm) == file_hash.lower()):
        return dest

    folder.mkdir(parents=True, exist_ok=True)
    part = folder / (fname + ".part")
    _fetch(origin, part, fname=fname, max_retries=max_retries, timeout=float(timeout))
    if algorithm is not None:
        actual = file_digest(part, algorithm)
        if actual != file_hash.lower():
            part.unlink(missing_ok=True)
            raise ValueError(
                f"Checksum mismatch for '{fname}' downloaded from {origin}: expected {algorithm} "
                f"{file_hash.lower()}, got {actual}. The download is corrupted or the server "
                f"sent a different file; it was deleted. Try again, use another mirror "
                f"(origin=...), or give a local copy with path=..."
            )
    os.replace(part, dest)
    _fsync_dir(folder)
    return dest


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable where the OS allows fsync on a folder (POSIX); else skip."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fetch(origin: str, part: Path, *, fname: str, max_retries: int, timeout: float) -> None:
    """Bring ``part`` to the full content of ``origin``, with bounded retries."""
    last_error: BaseException | None = None
    for attempt in range(1, max_retries + 1):
        try:
            _fetch_once(origin, part, timeout)
            return
        except _FinalHTTPError as e:
            raise DownloadError(
                f"Downloading '{fname}' from {origin} failed: {e}. Check the URL (origin=...), or "
                f"download the file yourself and give its location with path=..."
            ) from None
        except (OSError, http.client.HTTPException) as e:
            last_error = e
            if attempt < max_retries:
                time.sleep(_RETRY_BACKOFF_S * 2 ** (attempt - 1))
    raise DownloadError(
        f"Downloading '{fname}' from {origin} failed after {max_retries} attempt(s); last error: "
        f"{last_error!r}. Check the network connection, or download the file yourself and give "
        f"its location with path=... (a local copy is read without any network access)."
    ) from last_error


def _fetch_once(origin: str, part: Path, timeout: float) -> None:
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": "easynn-datasets", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(origin, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        e.close()
        if e.code == 416 and offset:
            # The server cannot serve the rest of our .part (it may be stale): start over.
            part.unlink(missing_ok=True)
            raise _IncompleteDownload("server refused the resume range; restarting") from None
        if e.code in _RETRYABLE_STATUS:
            raise
        raise _FinalHTTPError(f"HTTP {e.code} {e.reason}") from None

    with response:
        total: int | None
        if offset and response.status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) != offset:
                part.unlink(missing_ok=True)
                raise _IncompleteDownload("server answered the resume with another range; restarting")
            mode = "ab"
            total = None if match.group(3) == "*" else int(match.group(3))
        else:
            # A 200 answer carries the whole file (the server ignored or did not get a Range).
            mode, offset = "wb", 0
            length = response.headers.get("Content-Length")
            total = int(length) if length is not None and length.isdigit() else None
        written = offset
        with open(part, mode) as f:
            try:
                while chunk := response.read(_CHUNK_BYTES):
                    f.write(chunk)
                    written += len(chunk)
            finally:
                f.flush()
                os.fsync(f.fileno())
    if total is not None and written != total:
        raise _IncompleteDownload(f"received {written} of {total} bytes")
