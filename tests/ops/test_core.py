"""easynn.ops core and math families against NumPy, torch's own functions and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from easynn import ops
from easynn.ops import core, math


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_cast_and_saturate_cast():
    assert ops.cast(np.array([1.7, -1.7]), "int32").tolist() == [1, -1]
    assert ops.cast([1, 2], "float16").dtype == torch.float16
    assert ops.saturate_cast(torch.tensor([-5.0, 100.0, 300.0]), "uint8").tolist() == [0, 100, 255]
    # the largest float32 not above int32's maximum (a plain clamp to 2**31 - 1 would wrap to -2**31)
    assert ops.saturate_cast(torch.tensor([1e10, -1e10]), "int32").tolist() == [2147483520, -2147483648]


def test_dtype_shape_is_tensor():
    assert ops.dtype(torch.zeros(2, dtype=torch.int64)) == "int64"
    assert ops.dtype(np.zeros(2, dtype="float64")) == "float64"
    assert ops.shape(np.zeros((2, 3))) == (2, 3) and isinstance(ops.shape(torch.zeros(2)), tuple)
    assert ops.is_tensor(torch.zeros(1)) and not ops.is_tensor(np.zeros(1))


def test_control_flow():
    assert ops.cond(torch.tensor(False), lambda: 1, lambda: 2) == 2
    assert ops.switch(-3, [lambda: "a", lambda: "b"]) == "a"
    i, total = ops.while_loop(lambda i, t: i < 5, lambda i, t: (i + 1, t + i), (0, 0))
    assert (i, total) == (5, 10)
    assert ops.while_loop(lambda v: v < 100, lambda v: v * 2, 1, maximum_iterations=3) == 8
    assert ops.fori_loop(1, 4, lambda i, acc: acc * i, 1) == 6


def test_map_scan_associative_scan_vectorized_map_against_loops():
    xs = torch.randn(4, 3)
    torch.testing.assert_close(ops.map(lambda r: (r ** 2).sum(), xs), (xs ** 2).sum(1))
    carry, ys = ops.scan(lambda c, x: (c + x, c), torch.zeros(3), xs)
    torch.testing.assert_close(carry, xs.sum(0))
    torch.testing.assert_close(ys, torch.cumsum(xs, 0) - xs)
    carry_r, ys_r = ops.scan(lambda c, x: (c + x, c), torch.zeros(3), xs, reverse=True)
    torch.testing.assert_close(ys_r, xs.flip(0).cumsum(0).flip(0) - xs)
    torch.testing.assert_close(ops.associative_scan(torch.add, xs, axis=0), torch.cumsum(xs, 0))
    torch.testing.assert_close(ops.associative_scan(torch.maximum, xs, reverse=True, axis=0),
                               torch.flip(torch.cummax(xs.flip(0), 0).values, [0]))
    torch.testing.assert_close(ops.vectorized_map(lambda r: r @ r, xs), (xs * xs).sum(1))


def test_scatter_sums_duplicates_and_scatter_update_replaces():
    out = ops.scatter([[0, 1], [0, 1], [2, 0]], torch.tensor([1.0, 2.0, 5.0]), (3, 2))
    expected = np.zeros((3, 2), dtype="float32")
    np.add.at(expected, ([0, 0, 2], [1, 1, 0]), [1.0, 2.0, 5.0])
    np.testing.assert_allclose(out.numpy(), expected)
    rows = ops.scatter([[1]], torch.ones(1, 3), (2, 3))  # partial index: whole rows
    assert rows.tolist() == [[0, 0, 0], [1, 1, 1]]
    updated = ops.scatter_update(torch.ones(2, 2), [[0, 0], [1, 1]], [7.0, 8.0])
    assert updated.tolist() == [[7.0, 1.0], [1.0, 8.0]]
    with pytest.raises(TypeError, match="indices"):
        ops.scatter([[0.5]], [1.0], (2,))


def test_slice_and_slice_update_against_numpy():
    x = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(ops.slice(x, (0, 1, 2), (2, 2, -1)).numpy(), x[0:2, 1:3, 2:])
    updated = ops.slice_update(torch.as_tensor(x), (1, 0, 1), torch.full((1, 2, 2), -1))
    expected = x.copy()
    expected[1:2, 0:2, 1:3] = -1
    np.testing.assert_array_equal(updated.numpy(), expected)
    with pytest.raises(ValueError, match="slice"):
        ops.slice(x, (0, 0, 3), (1, 1, 2))
    with pytest.raises(ValueError, match="slice_update"):
        ops.slice_update(x, (0, 0, 3), np.zeros((1, 1, 2), dtype="int64"))


def test_stop_gradient_unstack():
    w = torch.ones(3, requires_grad=True)
    (ops.stop_gradient(w * 2) * w).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    parts = ops.unstack(torch.arange(6).reshape(2, 3), axis=1)
    assert [p.tolist() for p in parts] == [[0, 3], [1, 4], [2, 5]]
    with pytest.raises(ValueError, match="num"):
        ops.unstack(torch.zeros(2, 3), num=3)


def test_custom_gradient_replaces_the_derivative():
    @ops.custom_gradient
    def log1pexp(x):
        e = torch.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return upstream * (1.0 - 1.0 / (1 + e))

        return torch.log(1 + e), grad

    x = torch.tensor([0.0, 100.0], requires_grad=True)
    y = log1pexp(x)
    y.sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([0.5, 1.0]))  # the naive gradient would be NaN at 100
    assert torch.isfinite(y[0])


def test_erf_erfinv_rsqrt_logsumexp_against_torch():
    x = torch.rand(5) * 1.8 - 0.9
    torch.testing.assert_close(math.erf(x), torch.erf(x))
    torch.testing.assert_close(math.erf(math.erfinv(x)), x, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ops.rsqrt(torch.tensor([4.0, 16.0])), torch.tensor([0.5, 0.25]))
    a = np.random.default_rng(0).normal(size=(2, 3, 4))
    ref = np.log(np.exp(a).sum(axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(ops.logsumexp(a, axis=(0, 2), keepdims=True).numpy(), ref, rtol=1e-6)
    np.testing.assert_allclose(ops.logsumexp(a).numpy(), np.log(np.exp(a).sum()), rtol=1e-6)
    big = torch.tensor([1000.0, 1000.0])
    torch.testing.assert_close(ops.logsumexp(big), torch.tensor(1000.0 + np.log(2.0), dtype=torch.float32))


def test_top_k_in_top_k_against_numpy():
    x = np.random.default_rng(1).permutation(20).reshape(4, 5).astype("float32")
    values, indices = ops.top_k(x, 3)
    np.testing.assert_array_equal(values.numpy(), -np.sort(-x, axis=-1)[:, :3])
    np.testing.assert_array_equal(indices.numpy(), np.argsort(-x, axis=-1)[:, :3])
    assert indices.dtype == torch.int32
    targets = np.array([0, 1, 2, 3])
    ranks = (x > x[np.arange(4), targets][:, None]).sum(1)
    np.testing.assert_array_equal(ops.in_top_k(targets, x, 2).numpy(), ranks < 2)
    with pytest.raises(ValueError, match="top_k"):
        ops.top_k(x, 6)


def test_segment_sum_and_max_against_numpy():
    data = np.random.default_rng(2).normal(size=(6, 2)).astype("float32")
    ids = np.array([0, 2, 0, 2, 3, 0])
    sums = ops.segment_sum(data, ids, num_segments=4).numpy()
    maxes = ops.segment_max(data, ids, num_segments=4).numpy()
    for segment in range(4):
        rows = data[ids == segment]
        np.testing.assert_allclose(sums[segment], rows.sum(0) if len(rows) else 0, rtol=1e-6)
        if len(rows):
            np.testing.assert_allclose(maxes[segment], rows.max(0))
    with pytest.raises(ValueError, match="segment_ids"):
        ops.segment_sum(data, ids[:3])


def test_extract_sequences_fft_rfft_stft():
    x = torch.arange(10.0).reshape(2, 5)
    frames = ops.extract_sequences(x, 3, 2)
    assert frames.shape == (2, 2, 3) and frames[1, 1].tolist() == [7.0, 8.0, 9.0]
    signal = np.random.default_rng(3).normal(size=(2, 8)).astype("float32")
    real, imag = ops.rfft(signal)
    np.testing.assert_allclose(real.numpy() + 1j * imag.numpy(), np.fft.rfft(signal), atol=1e-5)
    real, imag = ops.fft((signal, np.zeros_like(signal)))
    np.testing.assert_allclose(real.numpy() + 1j * imag.numpy(), np.fft.fft(signal), atol=1e-5)
    np.testing.assert_allclose(ops.irfft(ops.rfft(signal)).numpy(), signal, atol=1e-5)
    audio = torch.randn(2, 64)
    real, imag = ops.stft(audio, 16, 8, 16)
    assert real.shape == (2, 9, 9)
    torch.testing.assert_close(ops.istft((real, imag), 16, 8, 16, length=64), audio, atol=1e-4, rtol=1e-4)
    window = torch.hann_window(16, periodic=True)
    frame = torch.nn.functional.pad(audio[:1, None], (8, 8), mode="reflect")[0, 0, 8:24]  # frame 1, centred at 8
    expected = torch.fft.rfft(frame * window)
    torch.testing.assert_close(real[0, 1], expected.real, atol=1e-4, rtol=1e-4)


def test_math_qr_and_logdet():
    a = torch.randn(4, 3)
    q, r = core_qr = ops.qr(a)
    torch.testing.assert_close(q @ r, a, atol=1e-5, rtol=1e-5)
    assert len(core_qr) == 2 and q.shape == (4, 3)
    assert ops.qr(a, mode="complete")[0].shape == (4, 4)
    spd = a.T @ a + torch.eye(3)
    torch.testing.assert_close(ops.logdet(spd), torch.log(torch.det(spd)))


def test_core_module_lists_only_real_functions():
    for name in core.__all__ + math.__all__:
        assert callable(getattr(ops, name)), name
