"""get_file: local paths and file:// URLs work offline; hashes are checked; archives extract."""

import hashlib
import tarfile
import zipfile

import pytest

from easynn.utils import get_file


def _read(path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _source(tmp_path, text=b"weights"):
    path = tmp_path / "src" / "data.bin"
    path.parent.mkdir()
    path.write_bytes(text)
    return path


def test_file_url_and_local_path_are_copied_into_the_cache(tmp_path):
    source = _source(tmp_path)
    cache = tmp_path / "cache"
    path = get_file(origin=source.as_uri(), cache_dir=cache)
    assert path == str(cache / "datasets" / "data.bin")
    assert _read(path) == b"weights"
    source.write_bytes(b"changed")  # a cached copy is used as is ...
    assert _read(get_file(origin=str(source), cache_dir=cache)) == b"weights"
    # ... unless asked to fetch again
    assert _read(get_file(origin=str(source), cache_dir=cache, force_download=True)) == b"changed"
    other = get_file("renamed.bin", origin=str(source), cache_dir=cache, cache_subdir="models")
    assert other == str(cache / "models" / "renamed.bin")
    assert not list((cache / "datasets").glob("*.part"))


def test_hashes_are_checked(tmp_path):
    source = _source(tmp_path)
    sha = hashlib.sha256(b"weights").hexdigest()
    md5 = hashlib.md5(b"weights").hexdigest()
    assert get_file(origin=str(source), cache_dir=tmp_path / "a", file_hash=sha)
    assert get_file(origin=str(source), cache_dir=tmp_path / "b", file_hash=md5, hash_algorithm="md5")
    assert get_file(origin=str(source), cache_dir=tmp_path / "c", md5_hash=md5)
    with pytest.raises(ValueError, match="does not match file_hash"):
        get_file(origin=str(source), cache_dir=tmp_path / "d", file_hash=hashlib.sha256(b"other").hexdigest())
    assert not (tmp_path / "d" / "datasets" / "data.bin").exists()


def test_extract_tar_and_zip(tmp_path):
    member = tmp_path / "hello.txt"
    member.write_text("hi")
    tar_path = tmp_path / "pack.tar.gz"
    with tarfile.open(tar_path, "w:gz") as archive:
        archive.add(member, arcname="pack/hello.txt")
    folder = get_file(origin=str(tar_path), cache_dir=tmp_path / "cache", extract=True)
    assert _read(f"{folder}/pack/hello.txt") == b"hi"
    zip_path = tmp_path / "pack.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.write(member, "hello.txt")
    folder = get_file(origin=str(zip_path), cache_dir=tmp_path / "cache", extract=True)
    assert _read(f"{folder}/hello.txt") == b"hi"
    with pytest.raises(ValueError, match="not a tar or zip"):
        get_file(origin=str(member), cache_dir=tmp_path / "cache", extract=True)


def test_bad_origin():
    with pytest.raises(ValueError, match="origin"):
        get_file("x")
    with pytest.raises(ValueError, match="origin"):
        get_file(origin="ftp://example.com/x.bin")
    with pytest.raises(FileNotFoundError):
        get_file(origin="/nonexistent/path/x.bin")
