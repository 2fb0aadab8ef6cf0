"""The keras.ops names added in session 4: NumPy (nanprod, vsplit), nn (depth/space moves, adaptive
pooling, sparse_sigmoid, polar, unfold, ctc_decode), core/math (view_as_complex/real, jvp,
rearrange), image (gaussian_blur, perspective_transform, sobel_edges, ssim, elastic_transform,
extract_patches_3d, reconstruct_patches[_3d]), each against NumPy, torch, loops or hand-worked
values, plus their argument errors and a functional model that records them."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import easynn
from easynn import ops
from easynn.layers import Input
from easynn.ops import image
from tests.ops._reference import assert_matches

NAN = float("nan")


# ------------------------------------------------------------------------------ numpy
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_nanprod_matches_numpy(axis, keepdims):
    x = np.array([[1.5, NAN, 3.0], [NAN, 2.0, -1.0]], dtype="float32")
    assert_matches(ops.nanprod(x, axis=axis, keepdims=keepdims), np.nanprod(x, axis=axis, keepdims=keepdims),
                   dtype="float32")


def test_nanprod_all_nan_slice_is_one_and_integers_give_int32():
    x = torch.tensor([[NAN, NAN], [2.0, NAN]])
    assert ops.numpy.nanprod(x, axis=1).tolist() == [1.0, 2.0]
    out = ops.nanprod(torch.tensor([[2, 3], [4, 5]], dtype=torch.int8), axis=0)
    assert out.tolist() == [8, 15] and out.dtype == torch.int32


@pytest.mark.parametrize("sections", [2, [1], [1, 3]])
def test_vsplit_matches_numpy(sections):
    x = np.arange(24).reshape(4, 3, 2)
    parts = ops.numpy.vsplit(x, sections)
    expected = np.vsplit(x, sections)
    assert len(parts) == len(expected)
    for got, want in zip(parts, expected):
        assert_matches(got, want)


def test_vsplit_rejects_1d_and_uneven_sections():
    with pytest.raises(ValueError, match="`x` must have at least 2 dimensions"):
        ops.vsplit(torch.arange(4), 2)
    with pytest.raises(ValueError, match="cannot be split into 3 equal sections"):
        ops.vsplit(torch.zeros(4, 2), 3)


# ------------------------------------------------------------------------------ depth_to_space / space_to_depth
def test_depth_to_space_hand_checked_2x2():
    # channels_last (TensorFlow's order): out[i, j, k] = x[(2 i + j) * c + k], here c = 2
    x = torch.arange(8.0).reshape(1, 1, 1, 8)
    out = ops.depth_to_space(x, 2)
    assert out.shape == (1, 2, 2, 2)
    assert out[0, :, :, 0].tolist() == [[0.0, 2.0], [4.0, 6.0]]
    assert out[0, :, :, 1].tolist() == [[1.0, 3.0], [5.0, 7.0]]
    assert ops.space_to_depth(out, 2).equal(x)


def test_channels_first_is_torch_pixel_shuffle():
    x = torch.randn(2, 12, 3, 2)
    torch.testing.assert_close(ops.nn.depth_to_space(x, 2, data_format="channels_first"), F.pixel_shuffle(x, 2))
    y = torch.randn(2, 3, 6, 4)
    torch.testing.assert_close(ops.space_to_depth(y, 2, data_format="channels_first"), F.pixel_unshuffle(y, 2))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("block", [1, 2, 3])
def test_space_to_depth_and_back_round_trip(data_format, block):
    shape = (2, 6, 3 * block, 2) if data_format == "channels_last" else (2, 2, 6, 3 * block)
    x = torch.randn(shape)
    packed = ops.space_to_depth(x, block, data_format=data_format)
    channel_axis = -1 if data_format == "channels_last" else 1
    assert packed.shape[channel_axis] == 2 * block * block
    assert ops.depth_to_space(packed, block, data_format=data_format).equal(x)


def test_depth_to_space_argument_errors():
    with pytest.raises(ValueError, match="block_size"):
        ops.depth_to_space(torch.zeros(1, 2, 2, 4), 0)
    with pytest.raises(ValueError, match="divisible by block_size"):
        ops.depth_to_space(torch.zeros(1, 2, 2, 6), 2)
    with pytest.raises(ValueError, match="4-D"):
        ops.space_to_depth(torch.zeros(2, 2, 4), 2)
    with pytest.raises(ValueError, match="height and width must be divisible"):
        ops.space_to_depth(torch.zeros(1, 3, 4, 1), 2)
    with pytest.raises(ValueError, match="data_format"):
        ops.space_to_depth(torch.zeros(1, 4, 4, 1), 2, data_format="NHWC")


# ------------------------------------------------------------------------------ adaptive pooling
_TORCH_ADAPTIVE = {
    ("average", 1): F.adaptive_avg_pool1d, ("average", 2): F.adaptive_avg_pool2d, ("average", 3): F.adaptive_avg_pool3d,
    ("max", 1): F.adaptive_max_pool1d, ("max", 2): F.adaptive_max_pool2d, ("max", 3): F.adaptive_max_pool3d,
}


@pytest.mark.parametrize("kind", ["average", "max"])
@pytest.mark.parametrize("spatial,output_size", [((7,), 3), ((7, 5), (3, 2)), ((5, 4, 6), 2), ((6, 6), (6, 1))])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_adaptive_pools_match_torch(kind, spatial, output_size, data_format):
    torch.manual_seed(0)
    first = torch.randn(2, 3, *spatial)  # (N, C, *spatial): torch's layout
    op = ops.adaptive_average_pool if kind == "average" else ops.nn.adaptive_max_pool
    expected = _TORCH_ADAPTIVE[(kind, len(spatial))](first, output_size)
    if data_format == "channels_last":
        got = op(first.movedim(1, -1), output_size, data_format="channels_last").movedim(-1, 1)
    else:
        got = op(first, output_size, data_format="channels_first")
    torch.testing.assert_close(got, expected)


def test_adaptive_pool_hand_checked_and_errors():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])[None, :, None]  # 5 -> 2: windows [0, 3) and [2, 5)
    assert ops.adaptive_average_pool(x, 2)[0, :, 0].tolist() == [2.0, 4.0]
    assert ops.adaptive_max_pool(x, 2)[0, :, 0].tolist() == [3.0, 5.0]
    with pytest.raises(ValueError, match="3-D, 4-D or 5-D"):
        ops.adaptive_average_pool(torch.zeros(4, 4), 2)
    with pytest.raises(ValueError, match="output_size"):
        ops.adaptive_max_pool(torch.zeros(1, 4, 4, 1), (2,))


# ------------------------------------------------------------------------------ activations, polar, unfold
def test_sparse_sigmoid_values_and_gradient():
    x = torch.tensor([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    y = ops.sparse_sigmoid(x)
    assert y.tolist() == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    y.sum().backward()
    assert x.grad[[0, 2, 3, 4, 6]].tolist() == [0.0, 0.5, 0.5, 0.5, 0.0]
    assert ops.nn.sparse_sigmoid(torch.tensor([3])).dtype == torch.float32


def test_polar_matches_cos_sin():
    r = torch.tensor([1.0, 2.0, 0.5])
    theta = torch.tensor([0.0, math.pi / 2, -1.0])
    out = ops.polar(r, theta)
    assert out.dtype == torch.complex64
    torch.testing.assert_close(out, torch.complex(r * torch.cos(theta), r * torch.sin(theta)))
    assert ops.nn.polar(torch.ones(2, 1, dtype=torch.float64), torch.zeros(3)).shape == (2, 3)
    with pytest.raises(TypeError, match="must be real"):
        ops.polar(torch.ones(2, dtype=torch.complex64), torch.zeros(2))


def test_unfold_matches_torch_and_a_hand_case():
    x = torch.randn(2, 3, 5, 6)
    for kwargs in ({"kernel_size": 2}, {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": (2, 1)}):
        torch.testing.assert_close(ops.unfold(x, **kwargs), F.unfold(x, **kwargs))
    hand = ops.nn.unfold(torch.arange(6.0).reshape(1, 1, 2, 3), (2, 2))[0]
    assert hand.tolist() == [[0.0, 1.0], [1.0, 2.0], [3.0, 4.0], [4.0, 5.0]]
    with pytest.raises(ValueError, match="4-D"):
        ops.unfold(torch.zeros(3, 4, 4), 2)
    with pytest.raises(ValueError, match="kernel_size"):
        ops.unfold(x, 0)


# ------------------------------------------------------------------------------ ctc_decode
def _logits(best_per_step, classes=4):
    """Logits whose argmax at step t is best_per_step[t] (value 2), every other class 0."""
    out = torch.zeros(len(best_per_step), classes)
    out[torch.arange(len(best_per_step)), torch.tensor(best_per_step)] = 2.0
    return out


def test_ctc_greedy_decode_hand_example():
    # sequence 0: 1 1 0 1 2 2 -> merge repeats (1 _ 1 2), drop blank 0 -> [1, 1, 2]
    # sequence 1: 3 3 3 0 2 | 1 (length 5) -> [3, 2]
    inputs = torch.stack([_logits([1, 1, 0, 1, 2, 2]), _logits([3, 3, 3, 0, 2, 1])])
    decoded, scores = ops.ctc_decode(inputs, torch.tensor([6, 5]))
    assert decoded.dtype == torch.int32 and decoded.shape == (1, 2, 6)
    assert decoded[0].tolist() == [[1, 1, 2, -1, -1, -1], [3, 2, -1, -1, -1, -1]]
    assert scores.tolist() == [[-12.0], [-10.0]]  # minus the sum of the best logit over the valid steps
    unmerged, _ = ops.nn.ctc_decode(inputs, [6, 5], merge_repeated=False)
    assert unmerged[0].tolist() == [[1, 1, 1, 2, 2, -1], [3, 3, 3, 2, -1, -1]]
    last_blank, _ = ops.ctc_decode(inputs, [6, 6], mask_index=None)  # blank = class 3
    assert last_blank[0].tolist() == [[1, 0, 1, 2, -1, -1], [0, 2, 1, -1, -1, -1]]


def _exact_label_log_probs(logits, blank):
    """log P(labelling) by summing every alignment (brute force; tiny T and C only)."""
    log_p = torch.log_softmax(logits.double(), dim=-1)
    totals: dict = {}
    for path in itertools.product(range(logits.shape[1]), repeat=logits.shape[0]):
        collapsed = tuple(k for i, k in enumerate(path) if k != blank and (i == 0 or path[i - 1] != k))
        score = sum(log_p[t, k].item() for t, k in enumerate(path))
        totals[collapsed] = np.logaddexp(totals.get(collapsed, -np.inf), score)
    return totals


def test_ctc_beam_search_is_exact_with_a_wide_beam():
    torch.manual_seed(3)
    inputs = torch.randn(2, 4, 3)
    decoded, scores = ops.ctc_decode(inputs, [4, 3], strategy="beam_search", beam_width=50, top_paths=2)
    assert decoded.shape == (2, 2, 4) and scores.shape == (2, 2)
    for b, length in enumerate([4, 3]):
        exact = sorted(_exact_label_log_probs(inputs[b, :length], blank=0).items(), key=lambda kv: -kv[1])
        for rank in range(2):
            labels, log_p = exact[rank]
            row = decoded[rank, b].tolist()
            assert row[:len(labels)] == list(labels) and all(v == -1 for v in row[len(labels):])
            assert scores[b, rank].item() == pytest.approx(log_p, abs=1e-5)


def test_ctc_decode_argument_errors():
    inputs = torch.zeros(1, 3, 4)
    with pytest.raises(ValueError, match="strategy"):
        ops.ctc_decode(inputs, [3], strategy="beam")
    with pytest.raises(ValueError, match="3-D"):
        ops.ctc_decode(torch.zeros(3, 4), [3])
    with pytest.raises(ValueError, match="mask_index"):
        ops.ctc_decode(inputs, [3], mask_index=4)
    with pytest.raises(ValueError, match="beam_width"):
        ops.ctc_decode(inputs, [3], strategy="beam_search", beam_width=0)
    with pytest.raises(ValueError, match="sequence_lengths"):
        ops.ctc_decode(torch.zeros(3, 3, 4), [3, 3])


# ------------------------------------------------------------------------------ complex views, jvp
def test_view_as_complex_and_back():
    x = torch.tensor([[1.0, 2.0], [3.0, -4.0]])
    z = ops.view_as_complex(x)
    assert z.dtype == torch.complex64 and z.tolist() == [1 + 2j, 3 - 4j]
    assert ops.view_as_real(z).equal(x)
    assert ops.view_as_complex(np.zeros((2, 3, 2))).dtype == torch.complex128
    assert ops.view_as_complex(x.T.contiguous().T).tolist() == [1 + 2j, 3 - 4j]  # not contiguous
    with pytest.raises(ValueError, match="length 2"):
        ops.view_as_complex(torch.zeros(2, 3))
    with pytest.raises(TypeError, match="must be complex"):
        ops.view_as_real(torch.zeros(2))


def test_jvp_matches_the_analytic_derivative():
    x, y = torch.tensor([0.3, 1.2]), torch.tensor([2.0, -1.0])
    tx, ty = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 2.0])
    out, tangent = ops.jvp(lambda a, b: torch.sin(a) * b, (x, y), (tx, ty))
    torch.testing.assert_close(out, torch.sin(x) * y)
    torch.testing.assert_close(tangent, torch.cos(x) * y * tx + torch.sin(x) * ty)


def test_jvp_matches_finite_differences_and_returns_aux():
    torch.manual_seed(0)
    w = torch.randn(3, 3, dtype=torch.float64)
    x, v = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)

    def f(a):
        return torch.tanh(w @ a), a.sum()

    out, tangent, aux = ops.linalg.jvp(f, [x], [v], has_aux=True)
    eps = 1e-6
    numeric = (torch.tanh(w @ (x + eps * v)) - torch.tanh(w @ (x - eps * v))) / (2 * eps)
    torch.testing.assert_close(tangent, numeric, rtol=1e-6, atol=1e-8)
    assert aux.item() == pytest.approx(x.sum().item())
    torch.testing.assert_close(out, torch.tanh(w @ x))


def test_jvp_argument_errors():
    with pytest.raises(TypeError, match="`primals` must be a tuple or list"):
        ops.jvp(torch.sin, torch.ones(2), (torch.ones(2),))
    with pytest.raises(ValueError, match="same length"):
        ops.jvp(torch.sin, (torch.ones(2),), (torch.ones(2), torch.ones(2)))
    with pytest.raises(TypeError, match="`fun` must be callable"):
        ops.jvp(3, (torch.ones(2),), (torch.ones(2),))


# ------------------------------------------------------------------------------ rearrange
def test_rearrange_matches_explicit_reshape_and_permute():
    x = torch.arange(2 * 4 * 6 * 3).reshape(2, 4, 6, 3)  # b h w c
    assert ops.rearrange(x, "b h w c -> b c h w").equal(x.permute(0, 3, 1, 2))
    assert ops.rearrange(x, "b h w c -> (b h) w c").equal(x.reshape(8, 6, 3))
    assert ops.rearrange(x, "b h w c -> h (b w) c").equal(x.permute(1, 0, 2, 3).reshape(4, 12, 3))
    assert ops.rearrange(x, "b h w c -> b (c h w)").equal(x.permute(0, 3, 1, 2).reshape(2, 72))
    split = ops.rearrange(x, "b (h1 h) (w1 w) c -> (b h1 w1) h w c", h1=2, w1=3)
    manual = x.reshape(2, 2, 2, 3, 2, 3).permute(0, 1, 3, 2, 4, 5).reshape(12, 2, 2, 3)
    assert split.equal(manual)
    s2d = ops.rearrange(x, "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2, w1=2)
    assert s2d.equal(x.reshape(2, 2, 2, 3, 2, 3).permute(0, 1, 3, 5, 2, 4).reshape(2, 2, 3, 12))


def test_rearrange_ellipsis_and_unit_axes():
    x = torch.randn(2, 3, 4, 5)
    assert ops.rearrange(x, "b ... c -> b c ...").equal(x.permute(0, 3, 1, 2))
    assert ops.rearrange(x, "b ... c -> b (...) c").equal(x.reshape(2, 12, 5))
    assert ops.rearrange(x, "b h w c -> b 1 h w c").shape == (2, 1, 3, 4, 5)
    assert ops.rearrange(x[:, :1], "b () w c -> b w c").equal(x[:, 0])


@pytest.mark.parametrize("pattern,lengths,message", [
    ("b h w -> b h w", {}, "3 entries but the tensor has 4"),
    ("b h w c -> b h w", {}, "only in the input: \\['c'\\]"),
    ("b (h1 h2) w c -> b h1 h2 w c", {}, "cannot infer"),
    ("b (h1 h) w c -> b h1 h w c", {"h1": 4}, "cannot be split"),
    ("b h w c -> b h w c", {"q": 2}, "not axes of the input"),
    ("b h w c", {}, "one '->'"),
    ("b h h c -> b h c", {}, "appear twice"),
    ("b (h w c -> b h w c", {}, "unbalanced"),
])
def test_rearrange_errors(pattern, lengths, message):
    with pytest.raises(ValueError, match=message):
        ops.rearrange(torch.zeros(2, 3, 4, 5), pattern, **lengths)


# ------------------------------------------------------------------------------ image
def _gaussian(size, sigma):
    t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-t ** 2 / (2 * sigma ** 2))
    return g / g.sum()


@pytest.mark.parametrize("kernel_size,sigma", [((3, 3), (1.0, 1.0)), ((3, 5), (0.8, 2.0)), ((5, 1), (1.5, 1.0))])
def test_gaussian_blur_matches_a_hand_built_kernel(kernel_size, sigma):
    torch.manual_seed(0)
    x = torch.rand(2, 6, 7, 3, dtype=torch.float64)  # NHWC
    kernel = torch.outer(_gaussian(kernel_size[0], sigma[0]), _gaussian(kernel_size[1], sigma[1]))
    first = x.permute(0, 3, 1, 2)
    weight = kernel.expand(3, 1, *kernel_size)
    expected = F.conv2d(first, weight, padding=(kernel_size[0] // 2, kernel_size[1] // 2), groups=3)
    got = image.gaussian_blur(x, kernel_size, sigma)
    torch.testing.assert_close(got, expected.permute(0, 2, 3, 1))
    torch.testing.assert_close(image.gaussian_blur(first, kernel_size, sigma, data_format="channels_first"), expected)
    torch.testing.assert_close(image.gaussian_blur(x[0], kernel_size, sigma), got[0])


def test_gaussian_blur_keeps_the_size_for_even_kernels_and_checks_arguments():
    assert image.gaussian_blur(torch.ones(5, 6, 1), (4, 2), 1.0).shape == (5, 6, 1)
    assert image.gaussian_blur(torch.ones(1, 3, 3, 1, dtype=torch.uint8)).dtype == torch.float32
    with pytest.raises(ValueError, match="kernel_size"):
        image.gaussian_blur(torch.ones(4, 4, 1), (0, 3))
    with pytest.raises(ValueError, match="sigma"):
        image.gaussian_blur(torch.ones(4, 4, 1), (3, 3), (1.0, -1.0))
    with pytest.raises(ValueError, match="3-D"):
        image.gaussian_blur(torch.ones(4, 4), (3, 3))


_CORNERS = [[0, 0], [4, 0], [0, 3], [4, 3]]


def test_perspective_transform_identity_returns_the_image():
    x = torch.rand(2, 4, 5, 3)
    torch.testing.assert_close(image.perspective_transform(x, _CORNERS, _CORNERS), x)
    torch.testing.assert_close(image.perspective_transform(x[0], _CORNERS, _CORNERS, interpolation="nearest"), x[0])


def test_perspective_transform_pure_translation():
    x = torch.arange(20.0).reshape(1, 4, 5, 1)
    shifted = [[px + 1, py + 2] for px, py in _CORNERS]  # content moves 1 right, 2 down
    out = image.perspective_transform(x, _CORNERS, shifted, fill_value=-1.0)
    expected = torch.full_like(x, -1.0)
    expected[0, 2:, 1:, 0] = x[0, :2, :4, 0]
    torch.testing.assert_close(out, expected)
    # a batch with its own points per image, channels first
    first = x.permute(0, 3, 1, 2).expand(2, 1, 4, 5)
    batch = image.perspective_transform(first, [_CORNERS, _CORNERS], [_CORNERS, shifted], fill_value=-1.0,
                                        data_format="channels_first")
    torch.testing.assert_close(batch[0], first[0])
    torch.testing.assert_close(batch[1], expected[0].permute(2, 0, 1))


def test_perspective_transform_argument_errors():
    x = torch.rand(4, 5, 1)
    with pytest.raises(ValueError, match="start_points"):
        image.perspective_transform(x, [[0, 0], [1, 1]], _CORNERS)
    with pytest.raises(ValueError, match="same shape"):
        image.perspective_transform(torch.rand(2, 4, 5, 1), _CORNERS, [_CORNERS, _CORNERS])
    with pytest.raises(ValueError, match="on one line"):
        image.perspective_transform(x, [[0, 0], [1, 1], [2, 2], [3, 3]], _CORNERS)
    with pytest.raises(ValueError, match="interpolation"):
        image.perspective_transform(x, _CORNERS, _CORNERS, interpolation="bicubic")


def test_sobel_edges_match_a_reflect_padded_convolution():
    torch.manual_seed(0)
    x = torch.rand(2, 5, 6, 3)
    ky = torch.tensor([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]])
    first = F.pad(x.permute(0, 3, 1, 2), (1, 1, 1, 1), mode="reflect")
    dy = F.conv2d(first, ky.expand(3, 1, 3, 3), groups=3)
    dx = F.conv2d(first, ky.T.expand(3, 1, 3, 3), groups=3)
    out = image.sobel_edges(x)
    assert out.shape == (2, 5, 6, 3, 2)
    torch.testing.assert_close(out, torch.stack([dy, dx], dim=-1).permute(0, 2, 3, 1, 4))
    channels_first = image.sobel_edges(x.permute(0, 3, 1, 2), data_format="channels_first")
    torch.testing.assert_close(channels_first, torch.stack([dy, dx], dim=-1))
    with pytest.raises(ValueError, match="at least 2x2"):
        image.sobel_edges(torch.rand(1, 1, 5, 1))


# ------------------------------------------------------------------------------ symbolic (functional API)
def test_new_ops_record_model_nodes_and_survive_save_and_load(tmp_path):
    inputs = Input(shape=(4, 4, 8))
    moved = ops.depth_to_space(inputs, 2)  # (8, 8, 2)
    pooled = ops.adaptive_average_pool(image.gaussian_blur(moved, (3, 3), (1.0, 1.0)), (2, 3))
    flat = ops.rearrange(pooled, "b h w c -> b (h w c)")
    out = ops.concatenate([ops.sparse_sigmoid(flat), ops.nanprod(inputs, axis=(1, 2))], axis=-1)
    model = easynn.Model(inputs, out)
    x = torch.randn(2, 4, 4, 8)
    eager_pool = ops.adaptive_average_pool(image.gaussian_blur(ops.depth_to_space(x, 2)), (2, 3))
    expected = torch.cat([ops.sparse_sigmoid(eager_pool.reshape(2, -1)), ops.nanprod(x, axis=(1, 2))], dim=-1)
    torch.testing.assert_close(model(x), expected)
    path = tmp_path / "added_ops.keras"
    model.save(path)
    torch.testing.assert_close(easynn.saving.load_model(path)(x), expected)


def _ssim_reference(x, y, size, sigma, max_val=1.0, k1=0.01, k2=0.03):
    """SSIM of one HWC image pair by explicit windows (NumPy, float64)."""
    t = np.arange(size) - (size - 1) / 2
    g = np.exp(-t ** 2 / (2 * sigma ** 2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    values = []
    for ch in range(x.shape[2]):
        for i in range(x.shape[0] - size + 1):
            for j in range(x.shape[1] - size + 1):
                a, b = x[i:i + size, j:j + size, ch], y[i:i + size, j:j + size, ch]
                mu_a, mu_b = (w * a).sum(), (w * b).sum()
                var_a, var_b = (w * a * a).sum() - mu_a ** 2, (w * b * b).sum() - mu_b ** 2
                cov = (w * a * b).sum() - mu_a * mu_b
                values.append((2 * mu_a * mu_b + c1) * (2 * cov + c2) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))
    return float(np.mean(values))


def test_ssim_matches_explicit_windows():
    rng = np.random.default_rng(0)
    x = rng.random((2, 6, 7, 2))
    y = np.clip(x + rng.normal(0, 0.2, x.shape), 0, 1)
    got = image.ssim(x, y, filter_size=3, filter_sigma=0.8)
    assert got.shape == (2,) and got.dtype == torch.float64
    for b in range(2):
        assert got[b].item() == pytest.approx(_ssim_reference(x[b], y[b], 3, 0.8), rel=1e-9)
    assert image.ssim(x[0], x[0], filter_size=5).item() == pytest.approx(1.0)
    scaled = image.ssim(255 * x[0], 255 * y[0], max_val=255.0, filter_size=3, filter_sigma=0.8)
    assert scaled.item() == pytest.approx(got[0].item(), rel=1e-9)  # max_val scales c1, c2 with the data
    first = image.ssim(np.moveaxis(x, -1, 1), np.moveaxis(y, -1, 1), filter_size=3, filter_sigma=0.8,
                       data_format="channels_first")
    torch.testing.assert_close(first, got)


def test_ssim_argument_errors():
    x = torch.rand(8, 8, 1)
    with pytest.raises(ValueError, match="filter_size"):
        image.ssim(x, x, filter_size=4)
    with pytest.raises(ValueError, match="at least filter_size"):
        image.ssim(x, x)  # 11 > 8
    with pytest.raises(ValueError, match="same shape"):
        image.ssim(x, torch.rand(8, 7, 1), filter_size=3)


def test_elastic_transform_alpha_zero_seed_and_constant_images():
    torch.manual_seed(0)
    x = torch.rand(2, 12, 10, 3)
    assert image.elastic_transform(x, alpha=0.0, sigma=2.0, seed=0).equal(x)
    a = image.elastic_transform(x, alpha=5.0, sigma=2.0, seed=7)
    assert a.shape == x.shape and a.equal(image.elastic_transform(x, alpha=5.0, sigma=2.0, seed=7))
    assert not a.equal(image.elastic_transform(x, alpha=5.0, sigma=2.0, seed=8))
    assert (a - x).abs().mean() > 1e-3  # it did move pixels
    flat = torch.full((1, 9, 9, 2), 0.25)  # reads anywhere inside the reflected image give the same value
    torch.testing.assert_close(image.elastic_transform(flat, alpha=30.0, sigma=1.5, seed=1), flat)
    filled = image.elastic_transform(flat, alpha=500.0, sigma=1.5, fill_mode="constant", fill_value=-1.0, seed=1)
    assert (filled == -1.0).any()  # huge displacements read outside: the fill value
    with pytest.raises(ValueError, match="sigma"):
        image.elastic_transform(x, sigma=0.0)
    with pytest.raises(ValueError, match="fill_mode"):
        image.elastic_transform(x, fill_mode="edge")


def _patches_3d_reference(v, size, strides, dilation):
    """(gd, gh, gw, pd*ph*pw*C) patches of one DHWC volume by loops."""
    grid = [(n - (k - 1) * d - 1) // s + 1 for n, k, s, d in zip(v.shape[:3], size, strides, dilation)]
    out = np.zeros((*grid, int(np.prod(size)) * v.shape[3]))
    for i, j, q in itertools.product(*(range(g) for g in grid)):
        vector = [v[i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1], q * strides[2] + c * dilation[2]]
                  for a, b, c in itertools.product(*(range(k) for k in size))]
        out[i, j, q] = np.concatenate(vector)
    return out


@pytest.mark.parametrize("size,strides,dilation", [((2, 2, 2), None, 1), ((2, 3, 1), (1, 2, 1), 1),
                                                   ((2, 2, 2), 1, (2, 1, 1))])
def test_extract_patches_3d_matches_loops(size, strides, dilation):
    rng = np.random.default_rng(1)
    volumes = rng.random((2, 5, 6, 4, 2))
    got = image.extract_patches_3d(volumes, size, strides=strides, dilation_rate=dilation)
    steps = size if strides is None else ((strides,) * 3 if isinstance(strides, int) else strides)
    dil = (dilation,) * 3 if isinstance(dilation, int) else dilation
    for b in range(2):
        np.testing.assert_allclose(got[b].numpy(), _patches_3d_reference(volumes[b], size, steps, dil))
    assert image.extract_patches(volumes, size, strides=strides, dilation_rate=dilation).equal(got)
    first = image.extract_patches_3d(np.moveaxis(volumes, -1, 1), size, strides=strides, dilation_rate=dilation,
                                     data_format="channels_first")
    assert first.movedim(1, -1).equal(got)


def test_extract_patches_3d_same_padding_and_errors():
    v = np.arange(3 * 5 * 4, dtype="float64").reshape(3, 5, 4, 1)
    got = image.extract_patches_3d(v, 2, padding="same")
    padded = np.pad(v, ((0, 1), (0, 1), (0, 0), (0, 0)))  # totals 1, 1, 0: all padding after
    np.testing.assert_allclose(got.numpy(), _patches_3d_reference(padded, (2, 2, 2), (2, 2, 2), (1, 1, 1)))
    with pytest.raises(ValueError, match="4-D"):
        image.extract_patches_3d(np.zeros((4, 4, 1)), 2)
    with pytest.raises(ValueError, match="padding"):
        image.extract_patches_3d(v, 2, padding="full")


def test_reconstruct_patches_inverts_extract_patches():
    rng = np.random.default_rng(2)
    x = torch.as_tensor(rng.random((2, 5, 7, 3)))
    valid = image.reconstruct_patches(image.extract_patches(x, 2), 2)
    assert valid.equal(x[:, :4, :6])  # the region the patches cover
    same = image.extract_patches(x, (2, 3), padding="same")
    assert image.reconstruct_patches(same, (2, 3), output_size=(5, 7), padding="same").equal(x)
    first = image.extract_patches(x.permute(0, 3, 1, 2), 2, data_format="channels_first")
    assert image.reconstruct_patches(first, 2, data_format="channels_first").equal(x[:, :4, :6].permute(0, 3, 1, 2))
    v = torch.as_tensor(rng.random((5, 4, 6, 2)))
    patches = image.extract_patches_3d(v, (2, 2, 3), padding="same")
    assert image.reconstruct_patches_3d(patches, (2, 2, 3), output_size=(5, 4, 6), padding="same").equal(v)


def test_reconstruct_patches_argument_errors():
    patches = torch.zeros(1, 2, 2, 12)
    with pytest.raises(ValueError, match="strides"):
        image.reconstruct_patches(patches, 2, strides=1)
    with pytest.raises(ValueError, match="output_size` is required"):
        image.reconstruct_patches(patches, 2, padding="same")
    with pytest.raises(ValueError, match="must be the region"):
        image.reconstruct_patches(patches, 2, output_size=(5, 4))
    with pytest.raises(ValueError, match="multiple of prod"):
        image.reconstruct_patches(torch.zeros(1, 2, 2, 10), 2)


def test_scale_and_translate_linear_matches_torch_resizing():
    torch.manual_seed(0)
    x = torch.rand(2, 5, 6, 3, dtype=torch.float64)
    up = image.scale_and_translate(x, (2, 10, 12, 3), [2.0, 2.0], [0.0, 0.0], [1, 2], "bilinear")
    expected = F.interpolate(x.permute(0, 3, 1, 2), size=(10, 12), mode="bilinear", align_corners=False)
    torch.testing.assert_close(up, expected.permute(0, 2, 3, 1))
    big = torch.rand(1, 8, 12, 2, dtype=torch.float64)  # shrinking: the antialiased (widened) triangle filter
    down = image.scale_and_translate(big, (1, 4, 5, 2), [0.5, 5 / 12], [0.0, 0.0], [1, 2], "linear")
    expected = F.interpolate(big.permute(0, 3, 1, 2), size=(4, 5), mode="bilinear", align_corners=False,
                             antialias=True)
    torch.testing.assert_close(down, expected.permute(0, 2, 3, 1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("method", ["linear", "cubic", "lanczos3", "lanczos5"])
def test_scale_and_translate_identity_and_shift(method):
    x = torch.rand(4, 7, dtype=torch.float64)
    torch.testing.assert_close(image.scale_and_translate(x, (4, 7), [1.0, 1.0], [0.0, 0.0], [0, 1], method), x)
    shifted = image.scale_and_translate(x, (4, 7), [1.0], [2.0], [1], method)  # 2 pixels to the right
    torch.testing.assert_close(shifted[:, 2:], x[:, :5])
    assert shifted[:, :2].abs().max() == 0  # read from outside the input: zero


def test_scale_and_translate_argument_errors():
    x = torch.rand(1, 4, 4, 1)
    with pytest.raises(ValueError, match="method"):
        image.scale_and_translate(x, (1, 8, 8, 1), [2.0, 2.0], [0.0, 0.0], [1, 2], "nearest")
    with pytest.raises(ValueError, match="one value per spatial dim"):
        image.scale_and_translate(x, (1, 8, 8, 1), [2.0], [0.0, 0.0], [1, 2], "linear")
    with pytest.raises(ValueError, match="must keep"):
        image.scale_and_translate(x, (2, 8, 8, 1), [2.0, 2.0], [0.0, 0.0], [1, 2], "linear")


def test_gradients_flow_through_the_new_differentiable_ops():
    torch.manual_seed(0)

    def check(fn, *shapes):
        inputs = [torch.rand(*shape, dtype=torch.float64, requires_grad=True) for shape in shapes]
        assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5)

    check(lambda x: ops.depth_to_space(x, 2), (1, 2, 2, 8))
    check(lambda x: ops.adaptive_max_pool(ops.adaptive_average_pool(x, (3, 2)), 2), (1, 5, 4, 2))
    check(lambda x: ops.rearrange(x, "b (h h1) w -> b h (w h1)", h1=2), (2, 4, 3))
    check(lambda r, a: torch.view_as_real(ops.polar(r, a)), (3,), (3,))
    check(lambda x: image.gaussian_blur(x, (3, 5), (0.7, 1.3)), (1, 4, 5, 2))
    check(lambda x: image.scale_and_translate(x, (1, 7, 3), [1.7, 0.6], [0.3, -0.2], [1, 2], "cubic"), (1, 4, 5))
    check(lambda x, y: image.ssim(x, y, filter_size=3), (5, 5, 1), (5, 5, 1))


def test_symbolic_ctc_decode_and_scale_and_translate_match_eager():
    logits, images = Input(shape=(6, 4)), Input(shape=(4, 4, 1))
    decoded, scores = ops.ctc_decode(logits, [6])
    resized = image.scale_and_translate(images, (None, 8, 8, 1), [2.0, 2.0], [0.0, 0.0], [1, 2], "linear")
    model = easynn.Model([logits, images], [decoded, scores, resized])
    x, y = _logits([1, 1, 0, 2, 2, 3])[None], torch.rand(1, 4, 4, 1)
    got_decoded, got_scores, got_resized = model([x, y])
    assert got_decoded[0].tolist() == [[1, 2, 3, -1, -1, -1]] and got_scores.tolist() == [[-12.0]]
    torch.testing.assert_close(got_resized, image.scale_and_translate(y, (1, 8, 8, 1), [2.0, 2.0], [0.0, 0.0],
                                                                      [1, 2], "linear"))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_new_ops_keep_cuda_inputs_on_cuda_and_match_the_cpu():
    torch.manual_seed(0)
    x = torch.rand(2, 6, 6, 4)
    logits = torch.randn(2, 5, 3)
    cases = [
        lambda t: ops.depth_to_space(t, 2),
        lambda t: ops.adaptive_max_pool(t, (4, 3)),
        lambda t: ops.rearrange(t, "b h w c -> b (c h) w"),
        lambda t: image.gaussian_blur(t, (3, 5), (1.0, 2.0)),
        lambda t: image.perspective_transform(t, _CORNERS, [[1, 0], [5, 1], [0, 3], [4, 4]]),
        lambda t: image.sobel_edges(t),
        lambda t: image.ssim(t, t.flip(1), filter_size=3),
        lambda t: image.elastic_transform(t, alpha=3.0, sigma=1.0, seed=4),
        lambda t: image.scale_and_translate(t, (2, 9, 4, 4), [1.5, 0.7], [0.2, 0.0], [1, 2], "lanczos3"),
        lambda t: image.extract_patches_3d(t[..., None], (2, 2, 2)),
    ]
    for case in cases:
        got = case(x.cuda())
        assert got.device.type == "cuda"
        torch.testing.assert_close(got.cpu(), case(x), rtol=1e-4, atol=1e-5)
    for strategy in ("greedy", "beam_search"):
        decoded, scores = ops.ctc_decode(logits.cuda(), [5, 4], strategy=strategy, beam_width=4)
        expected = ops.ctc_decode(logits, [5, 4], strategy=strategy, beam_width=4)
        assert decoded.device.type == "cuda" and decoded.cpu().equal(expected[0])
        torch.testing.assert_close(scores.cpu(), expected[1])
