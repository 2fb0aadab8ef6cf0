"""Offline tests for easynn.datasets: tiny files in the real formats, served from 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import pickle
import socket
import struct
import tarfile
import threading
import time

import numpy as np
import pytest

from easynn.datasets import DownloadError, _download, cifar10, fashion_mnist, get_file, mnist

# ---------------------------------------------------------------------------------------------
# Tiny data sets in the real file formats.


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mnist_npz(rng, n_train=5, n_test=3) -> tuple[bytes, dict]:
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue(), arrays


def _idx(array: np.ndarray, magic: int) -> bytes:
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def _fashion_files(rng, n_train=5, n_test=3) -> tuple[dict[str, bytes], dict]:
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    files = {
        "train-labels-idx1-ubyte.gz": gzip.compress(_idx(arrays["y_train"], 2049)),
        "train-images-idx3-ubyte.gz": gzip.compress(_idx(arrays["x_train"], 2051)),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(_idx(arrays["y_test"], 2049)),
        "t10k-images-idx3-ubyte.gz": gzip.compress(_idx(arrays["x_test"], 2051)),
    }
    return files, arrays


def _py2_batch_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """Write a batch the way Python 2's cPickle (protocol 2) wrote the real CIFAR-10 files:
    str as BINSTRING opcodes and the array through numpy.core.multiarray._reconstruct."""

    def s(b: bytes) -> bytes:  # a Python 2 str
        return (b"U" + bytes([len(b)]) if len(b) < 256 else b"T" + struct.pack("<I", len(b))) + b

    def i(v: int) -> bytes:
        return b"K" + bytes([v]) if v < 256 else b"M" + struct.pack("<H", v) if v < 65536 else b"J" + struct.pack("<i", v)

    arr = (
        b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + i(0) + b"\x85" + s(b"b") + b"\x87R"
        + b"(" + i(1) + i(data.shape[0]) + i(data.shape[1]) + b"\x86"
        + b"cnumpy\ndtype\n" + s(b"u1") + i(0) + i(1) + b"\x87R"
        + b"(" + i(3) + s(b"|") + b"NNN" + b"J\xff\xff\xff\xffJ\xff\xff\xff\xff" + i(0) + b"tb"
        + b"\x89" + s(data.tobytes()) + b"tb"
    )
    label_list = b"](" + b"".join(i(v) for v in labels) + b"e"
    return (
        b"\x80\x02}(" + s(b"batch_label") + s(b"training batch 1 of 5") + s(b"data") + arr
        + s(b"labels") + label_list + s(b"filenames") + b"](" + s(b"a.png") * len(labels) + b"eu."
    )


def _py3_batch_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    # Protocol 4 spells the module numpy._core.multiarray (numpy >= 2) and uses STACK_GLOBAL.
    return pickle.dumps({b"batch_label": b"x", b"labels": labels, b"data": data, b"filenames": []}, protocol=4)


def _cifar_tarball(rng, n_train=(1, 1, 1, 1, 1), n_test=3, writer=_py2_batch_pickle, replace=None):
    """Tarball with 5 training batches (sizes n_train) and a test batch; `replace` overrides
    the bytes of named batches (to plant a malicious pickle)."""
    batches, arrays = {}, {"x_train": [], "y_train": [], "x_test": None, "y_test": None}
    for k, n in enumerate(n_train, start=1):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        batches[f"data_batch_{k}"] = writer(data, labels)
        arrays["x_train"].append(data)
        arrays["y_train"].extend(labels)
    data = rng.integers(0, 256, (n_test, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, n_test)]
    batches["test_batch"] = writer(data, labels)
    arrays["x_test"], arrays["y_test"] = data, labels
    batches.update(replace or {})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, blob in {**batches, "batches.meta": pickle.dumps({b"label_names": []})}.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue(), batches, arrays


# ---------------------------------------------------------------------------------------------
# A loopback HTTP server with Range support and scripted faults.


class _Server:
    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.requests: list[tuple[str, str | None]] = []
        self.truncate_once: set[str] = set()  # first GET of these sends half and hangs up
        self.ranges = True  # honour Range requests
        self.stall_once = 0.0  # seconds the first response waits between headers and body
        self.stall_done = threading.Event()  # set when the stalled handler has finished
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                owner.requests.append((name, self.headers.get("Range")))
                try:
                    body = owner.files.get(name)
                except _Unavailable:
                    self.send_error(503)
                    return
                if body is None:
                    self.send_error(404)
                    return
                start, rng = 0, self.headers.get("Range")
                if rng and owner.ranges:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if owner.stall_once:
                    delay, owner.stall_once = owner.stall_once, 0.0
                    self.wfile.flush()
                    time.sleep(delay)
                    self.close_connection = True
                    try:
                        self.wfile.write(payload)  # the client gave up long ago
                    except OSError:
                        pass
                    owner.stall_done.set()
                    return
                if name in owner.truncate_once:
                    owner.truncate_once.discard(name)
                    payload = payload[: len(payload) // 2]
                    self.close_connection = True
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/data/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    # Loopback only: no proxy may intercept 127.0.0.1; no real cache is touched; no sleeping.
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EASYNN_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(_download, "_RETRY_BACKOFF_S", 0.0)
    monkeypatch.setattr(_download, "_DEFAULT_TIMEOUT_S", 5.0)
    for module in (mnist, fashion_mnist, cifar10):  # never the real servers
        monkeypatch.setattr(module, "ORIGIN", "http://127.0.0.1:9/unused/")


@pytest.fixture
def serve():
    servers = []

    def start(files):
        servers.append(_Server(files))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/data/"


def _cache_files(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _assert_equal_arrays(got, want):
    (x_train, y_train), (x_test, y_test) = got
    for g, w in ((x_train, want["x_train"]), (y_train, want["y_train"]), (x_test, want["x_test"]), (y_test, want["y_test"])):
        assert g.dtype == np.uint8 and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


# ---------------------------------------------------------------------------------------------
# MNIST


def test_mnist_download_round_trip_and_cache(rng, serve, tmp_path):
    blob, arrays = _mnist_npz(rng)
    server = serve({"mnist.npz": blob})
    got = mnist.load_data(origin=server.url, file_hash=_sha256(blob))
    _assert_equal_arrays(got, arrays)
    cached = tmp_path / "home" / "datasets" / "mnist.npz"
    assert cached.read_bytes() == blob
    assert _cache_files(tmp_path / "home") == ["mnist.npz"]  # no .part left behind

    n = len(server.requests)
    again = mnist.load_data(origin=server.url, file_hash=_sha256(blob))
    assert len(server.requests) == n  # second load read the cache, server not contacted
    _assert_equal_arrays(again, arrays)


def test_mnist_keras_path_is_cache_name_and_cache_dir(rng, serve, tmp_path):
    blob, arrays = _mnist_npz(rng)
    server = serve({"mnist.npz": blob})
    got = mnist.load_data(path="my_mnist.npz", origin=server.url, file_hash=None, cache_dir=tmp_path / "c")
    _assert_equal_arrays(got, arrays)
    assert (tmp_path / "c" / "my_mnist.npz").read_bytes() == blob
    assert not (tmp_path / "home").exists()


def test_mnist_local_path_reads_without_network(rng, tmp_path):
    blob, arrays = _mnist_npz(rng)
    local = tmp_path / "copy" / "mnist.npz"
    local.parent.mkdir()
    local.write_bytes(blob)
    _assert_equal_arrays(mnist.load_data(path=local, origin=_closed_port_url()), arrays)
    _assert_equal_arrays(mnist.load_data(path=str(local)), arrays)
    assert not (tmp_path / "home").exists()
    with pytest.raises(FileNotFoundError, match="no_such"):
        mnist.load_data(path=tmp_path / "no_such" / "mnist.npz")


def test_mnist_checksum_mismatch_raises_and_leaves_no_file(rng, serve, tmp_path):
    blob, _ = _mnist_npz(rng)
    server = serve({"mnist.npz": blob})
    wrong = _sha256(b"something else")
    with pytest.raises(ValueError) as info:
        mnist.load_data(origin=server.url, file_hash=wrong)
    msg = str(info.value)
    assert "mnist.npz" in msg and wrong in msg and _sha256(blob) in msg
    assert _cache_files(tmp_path / "home") == []


def test_corrupted_download_raises(rng, serve, tmp_path):
    blob, _ = _mnist_npz(rng)
    corrupted = bytearray(blob)
    corrupted[len(blob) // 2] ^= 0xFF
    server = serve({"mnist.npz": bytes(corrupted)})
    with pytest.raises(ValueError, match="Checksum mismatch"):
        mnist.load_data(origin=server.url, file_hash=_sha256(blob))
    assert _cache_files(tmp_path / "home") == []
    # Without a hash, the damage is caught by the reader, which names the file.
    with pytest.raises(ValueError, match="mnist.npz"):
        mnist.load_data(origin=server.url, file_hash=None)


def test_corrupted_cache_is_downloaded_again_when_hash_known(rng, serve, tmp_path):
    blob, arrays = _mnist_npz(rng)
    server = serve({"mnist.npz": blob})
    cached = tmp_path / "home" / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"garbage")
    _assert_equal_arrays(mnist.load_data(origin=server.url, file_hash=_sha256(blob)), arrays)
    assert cached.read_bytes() == blob and len(server.requests) == 1


def test_truncated_download_is_resumed_with_range(rng, serve, tmp_path):
    blob, arrays = _mnist_npz(rng)
    server = serve({"mnist.npz": blob})
    server.truncate_once.add("mnist.npz")
    _assert_equal_arrays(mnist.load_data(origin=server.url, file_hash=_sha256(blob)), arrays)
    assert [r for _, r in server.requests] == [None, f"bytes={len(blob) // 2}-"]
    assert _cache_files(tmp_path / "home") == ["mnist.npz"]


def test_truncated_download_restarts_when_server_ignores_range(rng, serve, tmp_path):
    blob, arrays = _mnist_npz(rng)
    server = serve({"mnist.npz": blob})
    server.ranges = False
    server.truncate_once.add("mnist.npz")
    _assert_equal_arrays(mnist.load_data(origin=server.url, file_hash=_sha256(blob)), arrays)
    assert len(server.requests) == 2  # the 200 answer to the Range request replaced the part
    assert (tmp_path / "home" / "datasets" / "mnist.npz").read_bytes() == blob


def test_leftover_part_file_is_resumed(serve, tmp_path):
    blob = bytes(range(256)) * 40
    server = serve({"f.bin": blob})
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "f.bin.part").write_bytes(blob[:1000])
    path = get_file("f.bin", server.url + "f.bin", file_hash=hashlib.md5(blob).hexdigest(), cache_dir=folder)
    assert path.read_bytes() == blob
    assert server.requests == [("f.bin", "bytes=1000-")]
    assert _cache_files(folder) == ["f.bin"]


def test_no_network_error_names_url_and_path(tmp_path):
    url = _closed_port_url()
    with pytest.raises(DownloadError) as info:
        mnist.load_data(origin=url)
    msg = str(info.value)
    assert url + "mnist.npz" in msg and "path=" in msg and "3 attempt" in msg
    assert _cache_files(tmp_path / "home") == []


def test_retries_are_bounded(serve, tmp_path):
    server = serve({})
    server.files = _AlwaysUnavailable()
    with pytest.raises(DownloadError, match="after 4 attempt"):
        get_file("x.bin", server.url + "x.bin", max_retries=4, cache_dir=tmp_path / "c")
    assert len(server.requests) == 4


class _AlwaysUnavailable(dict):
    def get(self, name, default=None):
        raise _Unavailable


class _Unavailable(Exception):
    pass


def test_http_404_fails_fast_without_retries(serve):
    server = serve({})
    with pytest.raises(DownloadError, match="404"):
        get_file("x.bin", server.url + "x.bin", max_retries=5)
    assert len(server.requests) == 1


def test_mnist_npz_with_pickled_object_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    bad = tmp_path / "evil.npz"
    obj = np.empty(1, dtype=object)
    obj[0] = Evil()
    z = np.zeros((1, 28, 28), np.uint8)
    np.savez(bad, x_train=obj, y_train=np.zeros(1, np.uint8), x_test=z, y_test=np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match="evil.npz"):
        mnist.load_data(path=bad)
    assert not marker.exists()


@pytest.mark.parametrize(
    "bad_hash, match", [("xyz", "hexadecimal"), ("ab" * 20, "40 characters")]
)
def test_get_file_rejects_bad_hash_argument(bad_hash, match):
    with pytest.raises(ValueError, match=match):
        get_file("f", "http://127.0.0.1:9/f", file_hash=bad_hash)


@pytest.mark.parametrize("fname", ["../x", "a/b", "", ".."])
def test_get_file_rejects_names_with_folders(fname):
    with pytest.raises(ValueError, match="fname"):
        get_file(fname, "http://127.0.0.1:9/f")


def test_cache_dir_follows_easynn_home(monkeypatch, tmp_path):
    monkeypatch.setenv("EASYNN_HOME", str(tmp_path / "h"))
    assert _download.default_cache_dir() == tmp_path / "h" / "datasets"
    monkeypatch.delenv("EASYNN_HOME")
    assert _download.default_cache_dir() == _download.Path.home() / ".easynn" / "datasets"


# ---------------------------------------------------------------------------------------------
# Fashion-MNIST


def test_fashion_download_round_trip_and_cache(rng, serve, tmp_path):
    files, arrays = _fashion_files(rng)
    server = serve(files)
    hashes = {k: _sha256(v) for k, v in files.items()}
    got = fashion_mnist.load_data(origin=server.url, file_hashes=hashes)
    _assert_equal_arrays(got, arrays)
    assert got[0][0].flags.writeable
    assert _cache_files(tmp_path / "home") == sorted(files)
    assert (tmp_path / "home" / "datasets" / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").is_file()
    n = len(server.requests)
    fashion_mnist.load_data(origin=server.url, file_hashes=hashes)
    assert len(server.requests) == n


def test_fashion_local_folder(rng, tmp_path):
    files, arrays = _fashion_files(rng)
    for name, blob in files.items():
        (tmp_path / name).write_bytes(blob)
    _assert_equal_arrays(fashion_mnist.load_data(path=tmp_path), arrays)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels"):
        fashion_mnist.load_data(path=tmp_path)


def test_fashion_checksum_mismatch_leaves_no_file(rng, serve, tmp_path):
    files, _ = _fashion_files(rng)
    server = serve(files)
    wrong = hashlib.md5(b"nope").hexdigest()
    with pytest.raises(ValueError, match=f"train-labels-idx1-ubyte.gz.*{wrong}"):
        fashion_mnist.load_data(origin=server.url, file_hashes={"train-labels-idx1-ubyte.gz": wrong})
    assert _cache_files(tmp_path / "home") == []


def _write_fashion(tmp_path, files, **overrides):
    for name, blob in {**files, **overrides}.items():
        (tmp_path / name).write_bytes(blob)


@pytest.mark.parametrize(
    "override, match",
    [
        # Image and label files swapped: magic 2049 where 2051 is expected.
        ({"train-images-idx3-ubyte.gz": gzip.compress(_idx(np.zeros(5, np.uint8), 2049))}, "must be 2051"),
        # Header announces 5 images, only 4 follow.
        ({"train-images-idx3-ubyte.gz": gzip.compress(_idx(np.zeros((5, 28, 28), np.uint8), 2051)[:-784])}, "truncated"),
        # Trailing bytes after the data.
        ({"train-labels-idx1-ubyte.gz": gzip.compress(_idx(np.zeros(5, np.uint8), 2049) + b"\0")}, "more data"),
        # 4 labels for 5 images.
        ({"train-labels-idx1-ubyte.gz": gzip.compress(_idx(np.zeros(4, np.uint8), 2049))}, "5 images but"),
        ({"train-labels-idx1-ubyte.gz": gzip.compress(_idx(np.full(5, 10, np.uint8), 2049))}, "0..9"),
        ({"t10k-images-idx3-ubyte.gz": b"not gzip at all"}, "not a valid gzip"),
        ({"t10k-images-idx3-ubyte.gz": gzip.compress(_idx(np.zeros((3, 28, 28), np.uint8), 2051))[:-20]}, "gzip"),
    ],
)
def test_fashion_idx_validation(rng, tmp_path, override, match):
    files, _ = _fashion_files(rng)
    _write_fashion(tmp_path, files, **override)
    with pytest.raises(ValueError, match=match):
        fashion_mnist.load_data(path=tmp_path)


def test_read_idx_matches_header_dims():
    raw = struct.pack(">IIII", 2051, 2, 3, 4) + bytes(range(24))
    out = fashion_mnist.read_idx(io.BytesIO(raw), expected_magic=2051)
    np.testing.assert_array_equal(out, np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    with pytest.raises(ValueError, match="unsigned-byte"):
        fashion_mnist.read_idx(io.BytesIO(struct.pack(">II", 0x0D01, 1) + b"\0" * 4), expected_magic=0x0D01)


# ---------------------------------------------------------------------------------------------
# CIFAR-10


def _check_cifar(got, arrays):
    (x_train, y_train), (x_test, y_test) = got
    want_train = np.concatenate(arrays["x_train"]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    want_test = arrays["x_test"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    assert x_train.shape == (5, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (5, 1) and y_test.shape == (3, 1)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(x_train, want_train)
    np.testing.assert_array_equal(x_test, want_test)
    np.testing.assert_array_equal(y_train[:, 0], arrays["y_train"])
    np.testing.assert_array_equal(y_test[:, 0], arrays["y_test"])
    # channels_last: pixel (row 0, col 1) of image 0 has R, G, B at offsets 1, 1025, 2049.
    row = np.concatenate(arrays["x_train"])[0]
    np.testing.assert_array_equal(x_train[0, 0, 1], row[[1, 1025, 2049]])


@pytest.mark.parametrize("writer", [_py2_batch_pickle, _py3_batch_pickle])
def test_cifar_download_round_trip_and_cache(rng, serve, tmp_path, writer):
    blob, _, arrays = _cifar_tarball(rng, writer=writer)
    server = serve({"cifar-10-python.tar.gz": blob})
    _check_cifar(cifar10.load_data(origin=server.url, file_hash=_sha256(blob)), arrays)
    assert _cache_files(tmp_path / "home") == ["cifar-10-python.tar.gz"]
    n = len(server.requests)
    _check_cifar(cifar10.load_data(origin=server.url, file_hash=_sha256(blob)), arrays)
    assert len(server.requests) == n


def test_py2_style_pickle_needs_only_the_allowed_numpy_globals():
    data = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    blob = _py2_batch_pickle(data, [3, 7])
    loaded = cifar10.safe_loads(blob)
    np.testing.assert_array_equal(loaded[b"data"], data)
    assert loaded[b"labels"] == [3, 7]


def test_cifar_local_tarball_and_folder(rng, tmp_path):
    blob, batches, arrays = _cifar_tarball(rng)
    tar = tmp_path / "cifar-10-python.tar.gz"
    tar.write_bytes(blob)
    _check_cifar(cifar10.load_data(path=tar, origin=_closed_port_url()), arrays)
    folder = tmp_path / "extracted" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name, b in batches.items():
        (folder / name).write_bytes(b)
    _check_cifar(cifar10.load_data(path=folder.parent), arrays)
    _check_cifar(cifar10.load_data(path=folder), arrays)
    assert not (tmp_path / "home").exists()


class _Evil:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_malicious_cifar_pickle_is_refused_without_executing(rng, tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps({b"data": _Evil(f"touch {marker}"), b"labels": [0]}, protocol=4)
    # The payload is live: plain pickle would run it (checked with a harmless second marker).
    control = tmp_path / "control"
    pickle.loads(pickle.dumps({b"data": _Evil(f"touch {control}"), b"labels": [0]}, protocol=4))
    assert control.exists()
    blob, _, _ = _cifar_tarball(rng, replace={"data_batch_3": evil})
    tar = tmp_path / "cifar.tar.gz"
    tar.write_bytes(blob)
    with pytest.raises(ValueError, match=r"data_batch_3.*(posix|os|nt)\.system"):
        cifar10.load_data(path=tar)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(_Evil("true"), protocol=0),  # GLOBAL + REDUCE, text protocol
        pickle.dumps(_Evil("true"), protocol=5),  # STACK_GLOBAL
        b"cbuiltins\neval\n(S'1+1'\ntR.",  # a builtin
        b"ccopyreg\n_reconstructor\n(cbuiltins\nobject\nNtR.",  # copyreg gadget
        b"cnumpy\nload\n(S'x'\ntR.",  # a numpy global that is not an array rebuilder
    ],
)
def test_safe_unpickler_refuses_every_other_global(payload):
    with pytest.raises(ValueError, match="refused the global"):
        cifar10.safe_loads(payload)


@pytest.mark.parametrize(
    "batch, match",
    [
        ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "uint8"),
        ({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, r"\(n, 3072\)"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "2 images but 1 labels"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 12]}, "0..9"),
        ([1, 2], "dict"),
    ],
)
def test_cifar_batch_validation(rng, tmp_path, batch, match):
    blob, _, _ = _cifar_tarball(rng, replace={"test_batch": pickle.dumps(batch, protocol=4)})
    tar = tmp_path / "c.tar.gz"
    tar.write_bytes(blob)
    with pytest.raises(ValueError, match=match):
        cifar10.load_data(path=tar)


def test_cifar_checksum_mismatch_leaves_no_file(rng, serve, tmp_path):
    blob, _, _ = _cifar_tarball(rng)
    server = serve({"cifar-10-python.tar.gz": blob})
    with pytest.raises(ValueError, match="cifar-10-python.tar.gz"):
        cifar10.load_data(origin=server.url, file_hash="0" * 64)
    assert _cache_files(tmp_path / "home") == []


def test_cifar_truncated_download_is_resumed(rng, serve, tmp_path):
    blob, _, arrays = _cifar_tarball(rng)
    server = serve({"cifar-10-python.tar.gz": blob})
    server.truncate_once.add("cifar-10-python.tar.gz")
    _check_cifar(cifar10.load_data(origin=server.url, file_hash=_sha256(blob)), arrays)
    assert server.requests[-1][1] == f"bytes={len(blob) // 2}-"


def test_registry_hashes_are_well_formed():
    # Keras's pinned sha256 values; Zalando's published sha256 for Fashion-MNIST.
    assert mnist.SHA256 == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    assert cifar10.SHA256 == "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
    assert set(fashion_mnist.OFFICIAL_SHA256) == set(fashion_mnist.FILES)
    assert all(len(h) == 64 for h in fashion_mnist.OFFICIAL_SHA256.values())


def test_module_origin_is_the_default_mirror(rng, serve, monkeypatch):
    blob, arrays = _mnist_npz(rng)
    server = serve({"mnist.npz": blob})
    monkeypatch.setattr(mnist, "ORIGIN", server.url)
    _assert_equal_arrays(mnist.load_data(file_hash=_sha256(blob)), arrays)
    assert server.requests == [("mnist.npz", None)]


def test_stalled_connection_times_out_and_is_retried(serve, monkeypatch, tmp_path):
    blob = b"x" * 5000
    server = serve({"f.bin": blob})
    server.stall_once = 1.0  # first response: headers, then 1 s of silence before the body
    monkeypatch.setattr(_download, "_DEFAULT_TIMEOUT_S", 0.2)
    path = get_file("f.bin", server.url + "f.bin", cache_dir=tmp_path / "c")
    assert path.read_bytes() == blob
    assert len(server.requests) == 2
    assert server.stall_done.wait(timeout=5)
