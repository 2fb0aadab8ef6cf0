"""DepthwiseConv1D/2D and SeparableConv1D/2D against grouped F.conv2d, with Keras layouts and counts."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import easynn
from easynn.layers import DepthwiseConv1D, DepthwiseConv2D, GlobalAveragePooling2D, SeparableConv1D, SeparableConv2D
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "make, in_shape, out_shape, params",
    [
        (lambda: DepthwiseConv2D(3), (2, 5, 5, 4), (2, 3, 3, 4), 3 * 3 * 4 + 4),
        (lambda: DepthwiseConv2D(3, depth_multiplier=2, padding="same", strides=2), (2, 5, 5, 3), (2, 3, 3, 6), 60),
        (lambda: DepthwiseConv2D(2, dilation_rate=2, use_bias=False, data_format="channels_first"), (1, 3, 6, 6),
         (1, 3, 4, 4), 2 * 2 * 3),
        (lambda: DepthwiseConv1D(3, depth_multiplier=3), (2, 8, 2), (2, 6, 6), 3 * 2 * 3 + 6),
        (lambda: SeparableConv2D(8, 3, padding="same"), (2, 6, 6, 4), (2, 6, 6, 8), 3 * 3 * 4 + 4 * 8 + 8),
        (lambda: SeparableConv2D(4, 3, depth_multiplier=2, strides=2), (1, 7, 7, 3), (1, 3, 3, 4), 54 + 24 + 4),
        (lambda: SeparableConv1D(4, 3, padding="same"), (2, 7, 3), (2, 7, 4), 9 + 12 + 4),
    ],
)
def test_shapes_params_config(make, in_shape, out_shape, params):
    check_layer(make(), torch.randn(in_shape), out_shape, params)


def test_depthwise_layout_and_channel_order():
    layer = DepthwiseConv2D(3, depth_multiplier=2)
    x = torch.randn(2, 5, 5, 3)
    layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 3, 2)  # Keras: (kh, kw, in, multiplier)
    kernel = np.random.randn(*kernel.shape).astype("float32")
    bias = np.random.randn(6).astype("float32")
    layer.set_weights([kernel, bias])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    out = layer(x)
    # output channel c*M + m = input channel c filtered by kernel[:, :, c, m]
    for c in range(3):
        for m in range(2):
            ref = F.conv2d(x[..., c][:, None], torch.as_tensor(kernel[:, :, c, m])[None, None]) + bias[c * 2 + m]
            torch.testing.assert_close(out[..., c * 2 + m], ref[:, 0], rtol=1e-5, atol=1e-5)


def test_separable_equals_depthwise_then_pointwise():
    layer = SeparableConv2D(5, 3, depth_multiplier=2, padding="same", activation="relu")
    x = torch.randn(2, 6, 6, 3)
    layer(x)
    depthwise, pointwise, bias = layer.get_weights()
    assert depthwise.shape == (3, 3, 3, 2) and pointwise.shape == (1, 1, 6, 5) and bias.shape == (5,)
    dw = DepthwiseConv2D(3, depth_multiplier=2, padding="same", use_bias=False)
    dw(x)
    dw.set_weights([depthwise])
    mid = dw(x)
    expected = F.relu(torch.einsum("nhwc,cf->nhwf", mid, torch.as_tensor(pointwise[0, 0])) + torch.as_tensor(bias))
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)
    one_d = SeparableConv1D(2, 3)
    x1 = torch.randn(2, 6, 3)
    one_d(x1)
    d1, p1, b1 = (torch.as_tensor(w) for w in one_d.get_weights())
    assert d1.shape == (3, 3, 1) and p1.shape == (1, 3, 2)
    ref = F.conv1d(x1.transpose(1, 2), d1.permute(1, 2, 0).reshape(3, 1, 3), groups=3)
    ref = F.conv1d(ref, p1.permute(2, 1, 0), b1).transpose(1, 2)
    torch.testing.assert_close(one_d(x1), ref, rtol=1e-5, atol=1e-5)


def test_errors_and_model_save(tmp_path):
    with pytest.raises(ValueError, match="depth_multiplier"):
        DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match="rank 4"):
        SeparableConv2D(2, 3)(torch.zeros(2, 5, 3))
    model = easynn.Sequential([easynn.Input(shape=(6, 6, 3)), DepthwiseConv2D(3, padding="same"),
                               SeparableConv2D(4, 3), GlobalAveragePooling2D()])
    x = torch.randn(4, 6, 6, 3)
    model.save(tmp_path / "sep.keras")
    restored = easynn.models.load_model(tmp_path / "sep.keras")
    torch.testing.assert_close(torch.as_tensor(restored.predict(x, verbose=0)),
                               torch.as_tensor(model.predict(x, verbose=0)), rtol=1e-5, atol=1e-5)
