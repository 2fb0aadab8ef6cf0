"""``get_file``: Keras's download-once cache, on easynn's verified, resumable, atomic downloader.

A file from ``http(s)://`` is fetched by ``easynn.datasets._download`` (resumes a broken
transfer, checks the hash before the file gets its final name). A local path or a ``file://``
URL is copied into the cache the same way (to ``<name>.part``, checked, renamed), so both work
offline.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from easynn.datasets import _download

__all__ = ["get_file"]

_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip")


def _cache_base(cache_dir) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    return _download.default_cache_dir().parent  # $EASYNN_HOME or ~/.easynn


def _check_hash(path: Path, file_hash: str | None, hash_algorithm: str) -> bool:
    if file_hash is None:
        return True
    algorithm = _download._hash_algorithm(file_hash) if hash_algorithm == "auto" else hash_algorithm
    if algorithm not in ("md5", "sha256"):
        raise ValueError(f"`hash_algorithm` must be 'auto', 'md5' or 'sha256'. Received: hash_algorithm={hash_algorithm!r}")
    return _download.file_digest(path, algorithm) == file_hash.lower()


def _local_source(origin: str) -> Path | None:
    """The local file an ``origin`` names (a path or a ``file://`` URL), else ``None``."""
    scheme = urllib.parse.urlsplit(origin).scheme
    if scheme == "file":
        return Path(urllib.request.url2pathname(urllib.parse.urlsplit(origin).path))
    if scheme in ("http", "https"):
        return None
    if len(scheme) > 1:  # ftp://, s3://... (a one-letter scheme is a Windows drive)
        raise ValueError(f"`origin` must be an http(s):// or file:// URL or a local path. Received: origin={origin!r}")
    return Path(origin).expanduser()


def _copy_atomically(source: Path, dest: Path) -> None:
    part = dest.with_name(dest.name + ".part")
    with open(source, "rb") as src, open(part, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(part, dest)


def _archive_kind(path: Path, archive_format) -> str | None:
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format or []))
    if "tar" in formats and tarfile.is_tarfile(path):
        return "tar"
    if "zip" in formats and zipfile.is_zipfile(path):
        return "zip"
    return None


def _extract(path: Path, archive_format) -> Path:
    kind = _archive_kind(path, archive_format)
    if kind is None:
        raise ValueError(f"`extract=True` but {path.name} is not a tar or zip archive (archive_format={archive_format!r}).")
    target = path.with_name(path.name + "_extracted")
    if target.is_dir():
        return target
    staging = path.with_name(path.name + "_extracting")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if kind == "tar":
        with tarfile.open(path) as archive:
            if hasattr(tarfile, "data_filter"):  # refuses absolute paths, links out, devices
                archive.extractall(staging, filter="data")
            else:  # pragma: no cover - Python < 3.10.12
                archive.extractall(staging)
    else:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():  # refuse paths that leave the folder
                resolved = (staging / member).resolve()
                if not str(resolved).startswith(str(staging.resolve())):
                    raise ValueError(f"Refusing to extract {member!r} from {path.name}: it points outside the folder.")
            archive.extractall(staging)
    os.replace(staging, target)
    return target


def get_file(fname: str | None = None, origin: str | None = None, untar: bool = False, md5_hash: str | None = None,
             file_hash: str | None = None, cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format="auto", cache_dir=None, force_download: bool = False) -> str:
    """Download (or copy) a file into the cache unless it is already there; return its path.

    The file goes to ``<cache_dir>/<cache_subdir>/<fname>``, by default
    ``~/.easynn/datasets/<fname>`` (``$EASYNN_HOME`` replaces ``~/.easynn``). A cached copy is
    used as is, after checking ``file_hash`` when one is given (a copy with the wrong hash is
    fetched again).

    Args:
        fname: the file's name in the cache (an absolute path saves it there); default the last
            part of ``origin``.
        origin: an ``http(s)://`` URL, a ``file://`` URL or a local path.
        untar: Keras 1 spelling of ``extract=True`` (for tar archives).
        md5_hash: Keras 1 spelling of ``file_hash`` (an md5 digest).
        file_hash: expected sha256 or md5 hex digest of the file.
        cache_subdir: sub-folder of ``cache_dir`` (an absolute path is used as is).
        hash_algorithm: ``"auto"`` (from the digest's length), ``"md5"`` or ``"sha256"``.
        extract: unpack a tar or zip archive into ``<path>_extracted`` and return that folder.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"`` or a list of those.
        cache_dir: cache root; default ``$EASYNN_HOME`` or ``~/.easynn``.
        force_download: fetch again even when a valid copy is cached.

    Returns:
        The path of the file (or of the extracted folder) as a string.

    Raises:
        ValueError: for a missing ``origin``, an unknown scheme, or a file whose hash does not
            match ``file_hash``.
        FileNotFoundError: when a local ``origin`` does not exist.
        easynn.datasets.DownloadError: when a download fails after its retries.

    Example:
        >>> import pathlib, tempfile
        >>> source = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
        >>> _ = source.write_text("hello")
        >>> path = get_file(origin=source.as_uri(), cache_dir=tempfile.mkdtemp())
        >>> pathlib.Path(path).read_text(), pathlib.Path(path).parent.name
        ('hello', 'datasets')
    """
    if not origin:
        raise ValueError(f"`origin` must be a URL or a path to download from. Received: origin={origin!r}")
    origin = os.fspath(origin)
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if fname is None:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path) or None
        if not fname:
            raise ValueError(f"Cannot tell a file name from origin={origin!r}. Pass fname=...")
    folder = Path(os.path.join(_cache_base(cache_dir), cache_subdir or ""))
    dest = Path(os.path.join(folder, os.fspath(fname)))  # an absolute fname wins, as in Keras
    dest.parent.mkdir(parents=True, exist_ok=True)

    if force_download or not dest.is_file() or not _check_hash(dest, file_hash, hash_algorithm):
        source = _local_source(origin)
        if source is None:
            if dest.exists() and force_download:
                dest.unlink()
            _download.get_file(dest.name, origin, file_hash=file_hash, cache_dir=dest.parent)
        else:
            if not source.is_file():
                raise FileNotFoundError(f"`origin` names a local file that does not exist: {source}")
            _copy_atomically(source, dest)
        if not _check_hash(dest, file_hash, hash_algorithm):
            dest.unlink()
            raise ValueError(
                f"The file {fname!r} from {origin} does not match file_hash={file_hash!r}; it was deleted. "
                "Check the hash or the source.")
    if extract or untar:
        return str(_extract(dest, "tar" if untar and not extract else archive_format))
    return str(dest)
