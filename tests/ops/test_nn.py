"""easynn.ops nn family against PyTorch's own functions (re-laid-out to Keras's conventions) and hand values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from easynn import ops


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


ACTIVATIONS = [
    (ops.relu, torch.relu),
    (ops.relu6, F.relu6),
    (ops.sigmoid, torch.sigmoid),
    (ops.softplus, F.softplus),
    (ops.softsign, F.softsign),
    (ops.silu, F.silu),
    (ops.swish, F.silu),
    (ops.log_sigmoid, F.logsigmoid),
    (ops.leaky_relu, lambda x: F.leaky_relu(x, 0.2)),
    (ops.hard_sigmoid, F.hardsigmoid),
    (ops.hard_silu, F.hardswish),
    (ops.elu, F.elu),
    (ops.selu, F.selu),
    (ops.gelu, lambda x: F.gelu(x, approximate="tanh")),  # keras.ops.gelu: approximate=True by default
    (ops.celu, F.celu),
    (ops.hard_tanh, F.hardtanh),
    (ops.hard_shrink, F.hardshrink),
    (ops.soft_shrink, F.softshrink),
    (ops.tanh_shrink, F.tanhshrink),
    (ops.squareplus, lambda x: (x + torch.sqrt(x * x + 4)) / 2),
    (ops.softmax, lambda x: torch.softmax(x, -1)),
    (ops.log_softmax, lambda x: torch.log_softmax(x, -1)),
]


@pytest.mark.parametrize("fn, reference", ACTIVATIONS, ids=lambda v: getattr(v, "__name__", ""))
def test_activation_values_and_gradients_match_torch(fn, reference):
    x = (torch.randn(3, 4, dtype=torch.float64) * 3).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    out, expected = fn(x), reference(x_ref)
    torch.testing.assert_close(out, expected)
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_activations_take_integers_lists_and_keep_float16():
    assert ops.relu([-1, 2]).tolist() == [0.0, 2.0]
    assert ops.sigmoid(torch.zeros(2, dtype=torch.float16)).dtype == torch.float16
    assert ops.gelu(torch.tensor([1.0]), approximate=False).item() == pytest.approx(0.8413447, abs=1e-6)


def test_glu_sparse_plus_sparsemax_threshold_softmax_axes():
    x = torch.randn(2, 6)
    torch.testing.assert_close(ops.glu(x), x[:, :3] * torch.sigmoid(x[:, 3:]))
    with pytest.raises(ValueError, match="glu"):
        ops.glu(torch.randn(2, 5))
    assert ops.sparse_plus(torch.tensor([-2.0, 0.0, 2.0])).tolist() == [0.0, 0.25, 2.0]
    sparse = ops.sparsemax(torch.tensor([[0.5, 0.2, -1.0], [3.0, 0.0, 0.0]]))
    torch.testing.assert_close(sparse, torch.tensor([[0.65, 0.35, 0.0], [1.0, 0.0, 0.0]]))
    assert ops.threshold(torch.tensor([0.5, 2.0]), 1.0, -7.0).tolist() == [-7.0, 2.0]
    joint = ops.softmax(torch.randn(2, 3, 4), axis=(1, 2))
    torch.testing.assert_close(joint.sum(dim=(1, 2)), torch.ones(2))


def test_one_hot_and_multi_hot():
    out = ops.one_hot(np.array([0, 2, -1, 3]), 3)
    np.testing.assert_array_equal(out.numpy(), np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]], "float32"))
    assert ops.one_hot(torch.tensor([1, 0]), 2, axis=0).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert ops.one_hot([1], 2, dtype="int32").dtype == torch.int32
    assert ops.multi_hot(torch.tensor([[0, 0, 3], [1, 2, 2]]), 4).tolist() == [[1, 0, 0, 1], [0, 1, 1, 0]]
    assert ops.multi_hot([1, 3], 4).tolist() == [0.0, 1.0, 0.0, 1.0]


def test_crossentropies_match_torch_and_the_formula():
    logits = torch.randn(5, 4)
    labels = torch.tensor([0, 3, 1, 1, 2])
    targets = F.one_hot(labels, 4).float()
    probs = torch.softmax(logits, -1)
    torch.testing.assert_close(ops.categorical_crossentropy(targets, logits, from_logits=True),
                               F.cross_entropy(logits, labels, reduction="none"))
    torch.testing.assert_close(ops.categorical_crossentropy(targets, probs),
                               -(targets * torch.log(probs)).sum(-1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True),
                               F.cross_entropy(logits, labels, reduction="none"))
    torch.testing.assert_close(ops.sparse_categorical_crossentropy(labels[:, None], probs),
                               F.nll_loss(torch.log(probs), labels, reduction="none"), atol=1e-5, rtol=1e-5)
    p = torch.rand(3, 2) * 0.9 + 0.05
    t = torch.randint(0, 2, (3, 2)).float()
    torch.testing.assert_close(ops.binary_crossentropy(t, p), F.binary_cross_entropy(p, t, reduction="none"))
    torch.testing.assert_close(ops.binary_crossentropy(t, logits[:3, :2], from_logits=True),
                               F.binary_cross_entropy_with_logits(logits[:3, :2], t, reduction="none"))
    # Keras clips probabilities to [eps, 1 - eps]: a confident wrong answer costs -log(1e-7), not inf.
    assert ops.binary_crossentropy(torch.tensor([1.0]), torch.tensor([0.0])).item() == pytest.approx(16.118, abs=1e-3)
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        ops.categorical_crossentropy(targets[:, :3], probs)


def test_moments_batch_normalization_normalize_against_numpy():
    x = np.random.default_rng(0).normal(size=(4, 3, 2)).astype("float32")
    mean, var = ops.moments(x, axes=[0, 2])
    np.testing.assert_allclose(mean.numpy(), x.mean(axis=(0, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var.numpy(), x.var(axis=(0, 2)), rtol=1e-5)
    mean_k, _ = ops.moments(x, axes=[0, 2], keepdims=True)
    assert mean_k.shape == (1, 3, 1)
    out = ops.batch_normalization(x, mean, var, axis=1, offset=np.ones(3), scale=np.full(3, 2.0), epsilon=1e-3)
    expected = (x - x.mean(axis=(0, 2), keepdims=True)) / np.sqrt(x.var(axis=(0, 2), keepdims=True) + 1e-3) * 2 + 1
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ops.normalize(x, axis=1).numpy(), x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-5)
    torch.testing.assert_close(ops.layer_normalization(torch.as_tensor(x), epsilon=1e-5),
                               F.layer_norm(torch.as_tensor(x), (2,), eps=1e-5), atol=1e-5, rtol=1e-5)


def _conv_ref(x_last, kernel, stride=1, pad=None, dilation=1, groups=1):
    """torch's conv2d on Keras layouts: NHWC input, (kh, kw, in/groups, out) kernel, explicit (l, r, t, b) pad."""
    x = x_last.permute(0, 3, 1, 2)
    if pad is not None:
        x = F.pad(x, pad)
    out = F.conv2d(x, kernel.permute(3, 2, 0, 1), stride=stride, dilation=dilation, groups=groups)
    return out.permute(0, 2, 3, 1)


def test_conv_valid_same_strided_dilated_grouped():
    x = torch.randn(2, 6, 6, 4)
    k = torch.randn(3, 3, 4, 5)
    torch.testing.assert_close(ops.conv(x, k), _conv_ref(x, k), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ops.conv(x, k, padding="same"), _conv_ref(x, k, pad=(1, 1, 1, 1)), atol=1e-5, rtol=1e-5)
    # stride 2 on 6 pixels: TensorFlow pads 1 pixel in total, at the end
    strided = ops.conv(x, k, strides=2, padding="same")
    assert strided.shape == (2, 3, 3, 5)
    torch.testing.assert_close(strided, _conv_ref(x, k, stride=2, pad=(0, 1, 0, 1)), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ops.conv(x, k, dilation_rate=2), _conv_ref(x, k, dilation=2), atol=1e-5, rtol=1e-5)
    grouped = torch.randn(3, 3, 2, 6)
    torch.testing.assert_close(ops.conv(x, grouped), _conv_ref(x, grouped, groups=2), atol=1e-5, rtol=1e-5)
    first = ops.conv(x.permute(0, 3, 1, 2), k, data_format="channels_first")
    torch.testing.assert_close(first, _conv_ref(x, k).permute(0, 3, 1, 2), atol=1e-5, rtol=1e-5)
    signal = torch.randn(2, 7, 3)
    k1 = torch.randn(2, 3, 4)
    expected1 = F.conv1d(signal.transpose(1, 2), k1.permute(2, 1, 0)).transpose(1, 2)
    torch.testing.assert_close(ops.conv(signal, k1), expected1, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="conv"):
        ops.conv(x, torch.randn(3, 3, 3, 5))


def test_depthwise_and_separable_conv():
    x = torch.randn(1, 5, 5, 3)
    k = torch.randn(3, 3, 3, 2)
    expected = _conv_ref(x, k.reshape(3, 3, 1, 6), groups=3)
    torch.testing.assert_close(ops.depthwise_conv(x, k), expected, atol=1e-5, rtol=1e-5)
    pointwise = torch.randn(1, 1, 6, 4)
    torch.testing.assert_close(ops.separable_conv(x, k, pointwise), _conv_ref(expected, pointwise), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("padding, stride, size", [("same", 2, 6), ("same", 3, 6), ("same", 1, 4), ("valid", 1, 5),
                                                   ("valid", 2, 7)])
def test_conv_transpose_is_the_adjoint_of_conv(padding, stride, size):
    # <conv(x), y> == <x, conv_transpose(y)> with the same Keras kernel: what makes it a transposed convolution
    # (for input sizes that conv_transpose's output size maps back to, as in Keras).
    x = torch.randn(2, size, size, 3, dtype=torch.float64)
    k = torch.randn(3, 3, 3, 4, dtype=torch.float64)
    forward = ops.conv(x, k, strides=stride, padding=padding)
    y = torch.randn_like(forward)
    back = ops.conv_transpose(y, k, strides=stride, padding=padding)
    if padding == "same":
        assert back.shape[1] == forward.shape[1] * stride
    else:
        assert back.shape[1] == forward.shape[1] * stride + max(3 - stride, 0)
    torch.testing.assert_close((forward * y).sum(), (x * back).sum())


def test_conv_transpose_valid_matches_torch_and_output_padding():
    y = torch.randn(1, 4, 4, 2)
    k = torch.randn(3, 3, 5, 2)
    expected = F.conv_transpose2d(y.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), stride=2).permute(0, 2, 3, 1)
    torch.testing.assert_close(ops.conv_transpose(y, k, strides=2), expected, atol=1e-5, rtol=1e-5)
    assert ops.conv_transpose(y, k, strides=2, output_padding=1).shape == (1, 10, 10, 5)


def test_pooling_matches_torch_and_same_average_ignores_padding():
    x = torch.randn(2, 5, 5, 3)
    first = x.permute(0, 3, 1, 2)
    torch.testing.assert_close(ops.max_pool(x, 2), F.max_pool2d(first, 2).permute(0, 2, 3, 1))
    torch.testing.assert_close(ops.average_pool(x, 3, strides=1), F.avg_pool2d(first, 3, 1).permute(0, 2, 3, 1))
    same_max = ops.max_pool(x, 2, padding="same")
    assert same_max.shape == (2, 3, 3, 3)
    torch.testing.assert_close(same_max[:, 2, 2], x[:, 4, 4])
    same_avg = ops.average_pool(torch.ones(1, 5, 5, 1), 2, padding="same")
    assert torch.all(same_avg == 1.0)  # padded pixels are not counted (a zero-padded mean would give 0.5)
    torch.testing.assert_close(ops.max_pool(torch.arange(6.0).reshape(1, 6, 1), 3, 2, padding="same")[0, :, 0],
                               torch.tensor([2.0, 4.0, 5.0]))
    with pytest.raises(ValueError, match="pool_size"):
        ops.max_pool(torch.zeros(1, 2, 2, 1), 3)


def test_dot_product_attention_matches_torch_sdpa():
    q, k, v = torch.randn(2, 5, 4, 8), torch.randn(2, 6, 4, 8), torch.randn(2, 6, 4, 8)
    expected = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(ops.dot_product_attention(q, k, v), expected, atol=1e-5, rtol=1e-5)
    mask = torch.rand(2, 4, 5, 6) > 0.3
    mask[..., 0] = True
    masked = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                            attn_mask=mask).transpose(1, 2)
    torch.testing.assert_close(ops.dot_product_attention(q, k, v, mask=mask), masked, atol=1e-5, rtol=1e-5)
    q6 = torch.randn(2, 6, 4, 8)
    causal = F.scaled_dot_product_attention(q6.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                            is_causal=True).transpose(1, 2)
    torch.testing.assert_close(ops.dot_product_attention(q6, k, v, is_causal=True), causal, atol=1e-5, rtol=1e-5)
    grouped = ops.dot_product_attention(q, k[:, :, :2], v[:, :, :2])  # 4 query heads share 2 key/value heads
    repeated = ops.dot_product_attention(q, k[:, :, [0, 0, 1, 1]], v[:, :, [0, 0, 1, 1]])
    torch.testing.assert_close(grouped, repeated)


def test_ctc_loss_and_psnr():
    logits = torch.randn(2, 6, 5)
    target = torch.tensor([[1, 2, 0], [3, 3, 4]])
    loss = ops.ctc_loss(target, logits, torch.tensor([2, 3]), torch.tensor([6, 5]), mask_index=0)
    expected = F.ctc_loss(torch.log_softmax(logits, -1).transpose(0, 1), target, torch.tensor([6, 5]),
                          torch.tensor([2, 3]), blank=0, reduction="none")
    torch.testing.assert_close(loss, expected)
    a, b = torch.zeros(4), torch.full((4,), 0.1)
    assert ops.psnr(a, b, 1.0).item() == pytest.approx(20.0, abs=1e-4)  # 20 log10(1) - 10 log10(0.01)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_inputs_stay_on_cuda_and_match_the_cpu():
    from easynn.ops import image, linalg

    x = torch.randn(2, 6, 6, 3)
    k = torch.randn(3, 3, 3, 4)
    cases = [
        lambda a, b: ops.conv(a, b, strides=2, padding="same"),
        lambda a, b: ops.conv_transpose(ops.conv(a, b), b),
        lambda a, b: ops.average_pool(a, 2, padding="same"),
        lambda a, b: ops.one_hot(torch.tensor([0, 2], device=a.device), 3),
        lambda a, b: image.resize(a, (3, 4), antialias=True),
        lambda a, b: image.affine_transform(a, [1, 0, 1, 0, 1, 0, 0, 0]),
        lambda a, b: ops.segment_max(a.reshape(2, -1), torch.tensor([1, 0], device=a.device)),
        lambda a, b: ops.scatter(torch.tensor([[1]], device=a.device), a[:1], (2, 6, 6, 3)),
        lambda a, b: linalg.inv(a[0, :3, :3, 0] + 3 * torch.eye(3, device=a.device)),
        lambda a, b: ops.dot_product_attention(a, a, a, is_causal=True),
    ]
    for case in cases:
        on_gpu = case(x.cuda(), k.cuda())
        assert on_gpu.is_cuda
        torch.testing.assert_close(on_gpu.cpu(), case(x, k), atol=1e-4, rtol=1e-4)
