"""Files: atomic writes and a defensive zip reader.

Atomic write: the bytes go to a temporary file in the destination's folder, are flushed and
``fsync``-ed, and only then ``os.replace`` puts the file in place (a single rename on the same
file system). A save that is interrupted at any point -- an exception, a full disk, a killed
process -- therefore leaves the previous file untouched.

Defensive read: member names must be plain relative paths, member and total sizes are capped
(the declared sizes and the bytes actually read), and CRC errors, truncation and bad headers
become ``ValueError``. Nothing is ever extracted to disk and nothing is ever unpickled.
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
import zlib
from typing import BinaryIO, Callable

__all__ = ["atomic_write", "write_archive", "read_archive", "check_path", "is_zip", "PICKLE_HINT"]

# Caps for what a model file may ask us to read into memory (module attributes so that a
# deployment can tighten them).
MAX_JSON_BYTES = 64 * 2**20
MAX_MEMBER_BYTES = 64 * 2**30
MAX_TOTAL_BYTES = 128 * 2**30
MAX_MEMBERS = 4096

PICKLE_HINT = (
    "easynn never unpickles files, because unpickling can run arbitrary code. If this file came "
    "from torch.save(), load it yourself with torch.load(path, weights_only=True) and copy the "
    "tensors into the model with load_state_dict() or set_weights()."
)


def check_path(filepath) -> str:
    """``filepath`` as a string; raises TypeError for anything that is not a path."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"`filepath` must be a str or os.PathLike. Received: filepath={filepath!r}")
    return os.fspath(filepath)


def _file_mode(path: str) -> int:
    if os.path.exists(path):
        return stat.S_IMODE(os.stat(path).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


def atomic_write(filepath, writer: Callable[[BinaryIO], None], overwrite: bool = True) -> None:
    """Write a file through ``writer(fileobj)`` so that it appears whole or not at all.

    Args:
        filepath: destination path (any extension).
        writer: writes the content into the binary file object it receives.
        overwrite: when False, an existing file is an error.

    Raises:
        FileNotFoundError: if the destination folder does not exist.
        FileExistsError: if the file exists and ``overwrite`` is False.
        IsADirectoryError: if ``filepath`` is a folder.
    """
    path = os.path.abspath(check_path(filepath))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot save to '{filepath}': the folder '{folder}' does not exist.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot save to '{filepath}': it is a folder. Give a file name such as model.keras.")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"'{filepath}' already exists and overwrite=False.")
    mode = _file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _write_member(archive: zipfile.ZipFile, name: str, data: bytes, compress: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def write_archive(handle: BinaryIO, members: list[tuple[str, bytes, bool]]) -> None:
    """Write ``(name, data, compress)`` members as a zip into ``handle``."""
    with zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
        for name, data, compress in members:
            _write_member(archive, name, data, compress)


def looks_like_pickle(head: bytes) -> bool:
    """A pickle (protocol 2 or later) starts with PROTO 0x80 and the protocol number."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def is_zip(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _unsafe_name(name: str) -> bool:
    normalized = name.replace("\\", "/")
    parts = normalized.split("/")
    return (normalized.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":")
            or "\x00" in name)


def read_archive(filepath, wanted: dict[str, int], prefixes: dict[str, int] | None = None) -> tuple[list[str], dict[str, bytes]]:
    """Read the members named in ``wanted`` (name -> size cap) from a zip file.

    Members whose names start with a key of ``prefixes`` (prefix -> size cap per member) are
    read too (the assets of a model file).

    Returns:
        ``(all member names, {name: bytes} for the wanted members present)``.

    Raises:
        ValueError: for a corrupted or truncated archive, unsafe member names, duplicate
            members, or sizes above the caps.
    """
    path = check_path(filepath)
    try:
        archive = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as error:
        raise ValueError(f"'{path}' is corrupted or truncated: it is not a readable zip archive ({error}).") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ValueError(f"'{path}' has {len(infos)} members; a model file has at most {MAX_MEMBERS}.")
        names = [info.filename for info in infos]
        for name in names:
            if _unsafe_name(name):
                raise ValueError(f"'{path}' contains the unsafe member path {name!r} (absolute or with '..'); refusing it.")
        if len(set(names)) != len(names):
            raise ValueError(f"'{path}' contains duplicate member names; refusing it.")
        declared_total = sum(info.file_size for info in infos)
        if declared_total > MAX_TOTAL_BYTES:
            raise ValueError(
                f"'{path}' declares {declared_total} uncompressed bytes, above the cap of {MAX_TOTAL_BYTES} "
                "(easynn.saving.files.MAX_TOTAL_BYTES)."
            )
        out: dict[str, bytes] = {}
        total = 0
        for info in infos:
            cap = wanted.get(info.filename)
            if cap is None and prefixes and not info.filename.endswith("/"):
                cap = next((c for p, c in prefixes.items() if info.filename.startswith(p)), None)
            if cap is None:
                continue
            if info.file_size > cap:
                raise ValueError(
                    f"Member {info.filename!r} of '{path}' declares {info.file_size} bytes, above its cap of {cap}."
                )
            try:
                with archive.open(info) as member:
                    data = member.read(cap + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
                raise ValueError(f"'{path}' is corrupted or truncated: member {info.filename!r} cannot be read ({error}).") from None
            if len(data) > cap:
                raise ValueError(f"Member {info.filename!r} of '{path}' is larger than its cap of {cap} bytes.")
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise ValueError(f"'{path}' holds more than {MAX_TOTAL_BYTES} bytes; refusing it.")
            out[info.filename] = data
        return names, out
