import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from easynn.layers.conv import Conv1D, Conv2D, same_padding
from tests.layers.layer_checks import check_layer

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _reference_conv2d(x_nhwc, kernel_keras, bias, stride=1, padding=0, dilation=1, groups=1):
    """Plain F.conv2d on NCHW copies, with the kernel converted from Keras's (kh, kw, in, out)."""
    x = torch.as_tensor(x_nhwc).permute(0, 3, 1, 2).contiguous()
    w = torch.as_tensor(kernel_keras).permute(3, 2, 0, 1).contiguous()
    b = None if bias is None else torch.as_tensor(bias)
    return F.conv2d(x, w, b, stride, padding, dilation, groups).permute(0, 2, 3, 1)


@pytest.mark.parametrize(
    "make, in_shape, out_shape, params",
    [
        (lambda: Conv2D(8, 3), (2, 10, 10, 3), (2, 8, 8, 8), 3 * 3 * 3 * 8 + 8),
        (lambda: Conv2D(4, (3, 5), strides=2, padding="same"), (2, 9, 10, 3), (2, 5, 5, 4), 3 * 5 * 3 * 4 + 4),
        (lambda: Conv2D(4, 3, strides=2, padding="SAME"), (2, 8, 7, 3), (2, 4, 4, 4), 3 * 3 * 3 * 4 + 4),
        (lambda: Conv2D(6, 3, groups=3, use_bias=False), (2, 7, 7, 3), (2, 5, 5, 6), 3 * 3 * 1 * 6),
        (lambda: Conv2D(4, 3, dilation_rate=2), (2, 9, 9, 2), (2, 5, 5, 4), 3 * 3 * 2 * 4 + 4),
        (lambda: Conv2D(5, 2, strides=(2, 1)), (2, 6, 6, 3), (2, 3, 5, 5), 2 * 2 * 3 * 5 + 5),
        (lambda: Conv2D(4, 3, data_format="channels_first"), (2, 3, 6, 6), (2, 4, 4, 4), 3 * 3 * 3 * 4 + 4),
        (lambda: Conv1D(5, 3), (2, 10, 4), (2, 8, 5), 3 * 4 * 5 + 5),
        (lambda: Conv1D(2, 3, padding="causal"), (2, 10, 4), (2, 10, 2), 3 * 4 * 2 + 2),
        (lambda: Conv1D(3, 4, strides=2, padding="same"), (2, 9, 4), (2, 5, 3), 4 * 4 * 3 + 3),
        (lambda: Conv1D(3, 3, data_format="channels_first"), (2, 4, 9), (2, 3, 7), 3 * 4 * 3 + 3),
    ],
)
def test_shapes_params_config(make, in_shape, out_shape, params):
    check_layer(make(), torch.randn(in_shape), out_shape, params)


def test_keras_kernel_layout_and_output_matches_f_conv2d():
    layer = Conv2D(5, (3, 2), strides=(2, 1), dilation_rate=1)
    x = torch.randn(3, 7, 6, 4)
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 4, 5) and bias.shape == (5,)
    layer.set_weights([kernel, np.random.randn(5).astype(np.float32)])
    kernel, bias = layer.get_weights()
    expected = _reference_conv2d(x, kernel, bias, stride=(2, 1))
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)
    assert y.shape == expected.shape


def test_output_is_a_free_channels_last_view():
    layer = Conv2D(8, 3, padding="same")
    y = layer(torch.randn(2, 6, 6, 3))
    assert layer.kernel.is_contiguous(memory_format=torch.channels_last)
    assert y.is_contiguous()  # (N, H, W, C) contiguous: no copy back from NCHW


def test_grouped_and_dilated_match_reference():
    layer = Conv2D(6, 3, groups=2, dilation_rate=2)
    x = torch.randn(2, 9, 9, 4)
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 2, 6)
    assert y.shape == (2, 5, 5, 6)
    torch.testing.assert_close(layer(x), _reference_conv2d(x, kernel, bias, dilation=2, groups=2), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "size, kernel, stride, pads",
    [(6, 3, 2, (0, 1)), (7, 3, 2, (1, 1)), (5, 4, 1, (1, 2)), (5, 3, 1, (1, 1)), (8, 2, 2, (0, 0)), (4, 1, 3, (0, 0))],
)
def test_same_padding_rule(size, kernel, stride, pads):
    assert same_padding(size, kernel, stride) == pads


@pytest.mark.parametrize("h, w", [(6, 7), (7, 6), (8, 8), (5, 5)])
@pytest.mark.parametrize("stride", [1, 2])
def test_same_padding_matches_tf_semantics(h, w, stride):
    k = (3, 4)
    layer = Conv2D(3, k, strides=stride, padding="same")
    x = torch.randn(2, h, w, 2)
    y = layer(x)
    assert tuple(y.shape) == (2, math.ceil(h / stride), math.ceil(w / stride), 3)
    # TF: total = max((ceil(n/s)-1)*s + k - n, 0), the odd one at the bottom/right.
    pads = []
    for n, kk in ((h, k[0]), (w, k[1])):
        total = max((math.ceil(n / stride) - 1) * stride + kk - n, 0)
        pads.append((total // 2, total - total // 2))
    padded = F.pad(x.permute(0, 3, 1, 2), (pads[1][0], pads[1][1], pads[0][0], pads[0][1])).permute(0, 2, 3, 1)
    kernel, bias = layer.get_weights()
    torch.testing.assert_close(y, _reference_conv2d(padded, kernel, bias, stride=stride), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_channels_first_agrees_with_channels_last(padding):
    last = Conv2D(4, 3, strides=2, padding=padding)
    first = Conv2D(4, 3, strides=2, padding=padding, data_format="channels_first")
    x = torch.randn(2, 7, 8, 3)
    y_last = last(x)
    first(x.permute(0, 3, 1, 2))
    first.set_weights(last.get_weights())
    torch.testing.assert_close(first(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1), y_last, rtol=1e-5, atol=1e-5)


def test_conv1d_matches_f_conv1d_and_layout():
    layer = Conv1D(4, 3, strides=2, dilation_rate=1)
    x = torch.randn(2, 11, 5)
    layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 5, 4)
    expected = F.conv1d(x.transpose(1, 2), torch.as_tensor(kernel).permute(2, 1, 0), torch.as_tensor(bias), 2)
    torch.testing.assert_close(layer(x), expected.transpose(1, 2), rtol=1e-5, atol=1e-5)


def test_conv1d_causal_sees_only_the_past():
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = torch.randn(1, 10, 3)
    changed = x.clone()
    changed[:, 6:] += 1.0
    y, y_changed = layer(x), layer(changed)
    torch.testing.assert_close(y[:, :6], y_changed[:, :6])
    assert not torch.allclose(y[:, 6:], y_changed[:, 6:])


def test_set_get_weights_round_trip_and_shape_error():
    layer = Conv2D(3, (2, 3))
    layer(torch.randn(1, 5, 5, 2))
    arrays = [np.random.randn(2, 3, 2, 3).astype(np.float32), np.random.randn(3).astype(np.float32)]
    layer.set_weights(arrays)
    for got, want in zip(layer.get_weights(), arrays):
        np.testing.assert_array_equal(got, want)
    # the stored kernel is torch's (out, in, kh, kw)
    np.testing.assert_array_equal(layer.kernel.detach().numpy(), arrays[0].transpose(3, 2, 0, 1))
    with pytest.raises(ValueError, match="shape"):
        layer.set_weights([arrays[0].transpose(3, 2, 0, 1), arrays[1]])


def test_glorot_uses_keras_fans():
    layer = Conv2D(64, 3)
    layer(torch.zeros(1, 3, 3, 16))
    limit = math.sqrt(6 / (3 * 3 * 16 + 3 * 3 * 64))
    kernel = layer.get_weights()[0]
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.95 * limit
    assert np.all(layer.get_weights()[1] == 0)


def test_activation_is_applied():
    layer = Conv2D(4, 3, activation="relu")
    x = torch.randn(2, 6, 6, 3)
    layer(x)
    kernel, bias = layer.get_weights()
    torch.testing.assert_close(layer(x), torch.relu(_reference_conv2d(x, kernel, bias)), rtol=1e-5, atol=1e-5)
    assert layer.get_config()["activation"] == "relu"


def test_gradients_flow_to_kernel_and_input():
    layer = Conv2D(2, 3, padding="same", strides=2)
    x = torch.randn(2, 5, 5, 3, requires_grad=True)
    layer(x).square().sum().backward()
    assert layer.kernel.grad is not None and layer.kernel.grad.abs().sum() > 0
    assert x.grad.shape == x.shape


def test_kernel_regularizer_penalty():
    from easynn import regularizers

    layer = Conv2D(2, 3, kernel_regularizer=regularizers.l2(0.1))
    layer(torch.randn(1, 4, 4, 1))
    expected = 0.1 * float((layer.get_weights()[0] ** 2).sum())
    assert math.isclose(float(sum(layer.losses).detach()), expected, rel_tol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"filters": 0, "kernel_size": 3}, "filters"),
        ({"filters": 2, "kernel_size": 0}, "kernel_size"),
        ({"filters": 2, "kernel_size": 3, "padding": "full"}, "padding"),
        ({"filters": 2, "kernel_size": 3, "padding": "causal"}, "padding"),
        ({"filters": 2, "kernel_size": 3, "data_format": "NHWC"}, "data_format"),
        ({"filters": 3, "kernel_size": 3, "groups": 2}, "groups"),
        ({"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, "dilation_rate"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2D(**kwargs)


def test_bad_inputs():
    layer = Conv2D(2, 3)
    with pytest.raises(ValueError, match="rank 4"):
        layer(torch.zeros(2, 5, 5))
    layer(torch.zeros(1, 5, 5, 3))
    with pytest.raises(ValueError, match="3 channels"):
        layer(torch.zeros(1, 5, 5, 4))


@pytest.mark.cuda
@requires_cuda
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_cuda_channels_last_matches_cpu(padding):
    layer = Conv2D(8, 3, strides=2, padding=padding)
    x = torch.randn(4, 9, 10, 5)
    y_cpu = layer(x)
    layer.to("cuda")
    assert layer.kernel.is_contiguous(memory_format=torch.channels_last)
    y_gpu = layer(x.cuda())
    torch.testing.assert_close(y_gpu.cpu(), y_cpu, rtol=1e-3, atol=1e-3)


def test_kernel_larger_than_valid_input_is_a_clear_error():
    from easynn.layers import Conv1D, Conv2D

    with pytest.raises(ValueError, match=r"kernel of size \(5, 5\) is larger than the input's spatial size \(3, 3\)"):
        Conv2D(1, 5)(torch.ones(1, 3, 3, 1))
    with pytest.raises(ValueError, match=r"kernel of size \(5,\)"):  # dilation 2 stretches 3 taps to 5
        Conv1D(1, 3, dilation_rate=2)(torch.ones(1, 4, 1))
    assert Conv1D(1, 3, dilation_rate=2)(torch.ones(1, 5, 1)).shape == (1, 1, 1)
    assert Conv2D(1, 5, padding="same")(torch.ones(1, 3, 3, 1)).shape == (1, 3, 3, 1)
