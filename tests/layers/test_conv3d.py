"""Conv3D and 3-D pooling: Keras shapes and counts, values against F.conv3d / F.max_pool3d, keepdims."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from easynn.layers import (
    AveragePooling3D,
    Conv3D,
    GlobalAveragePooling3D,
    GlobalMaxPooling3D,
    MaxPooling3D,
)
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "make, in_shape, out_shape, params",
    [
        (lambda: Conv3D(4, 3), (2, 5, 5, 5, 2), (2, 3, 3, 3, 4), 27 * 2 * 4 + 4),
        (lambda: Conv3D(2, (2, 3, 3), strides=2, padding="same"), (1, 4, 5, 6, 3), (1, 2, 3, 3, 2), 18 * 3 * 2 + 2),
        (lambda: Conv3D(4, 2, groups=2, data_format="channels_first"), (1, 2, 3, 3, 3), (1, 4, 2, 2, 2), 8 * 4 + 4),
        (lambda: MaxPooling3D(), (2, 4, 4, 4, 3), (2, 2, 2, 2, 3), 0),
        (lambda: AveragePooling3D(2, strides=1, padding="same"), (1, 3, 3, 3, 2), (1, 3, 3, 3, 2), 0),
        (lambda: MaxPooling3D(2, padding="same", data_format="channels_first"), (1, 2, 3, 3, 3), (1, 2, 2, 2, 2), 0),
        (lambda: GlobalAveragePooling3D(), (2, 2, 3, 4, 5), (2, 5), 0),
        (lambda: GlobalMaxPooling3D(keepdims=True), (2, 2, 3, 4, 5), (2, 1, 1, 1, 5), 0),
    ],
)
def test_shapes_params_config(make, in_shape, out_shape, params):
    check_layer(make(), torch.randn(in_shape), out_shape, params)


def test_conv3d_matches_f_conv3d_with_keras_layout():
    layer = Conv3D(3, (2, 3, 2), dilation_rate=(1, 1, 2))
    x = torch.randn(2, 4, 5, 6, 2)
    layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (2, 3, 2, 2, 3)
    bias = np.random.randn(3).astype("float32")
    layer.set_weights([kernel, bias])
    expected = F.conv3d(x.movedim(-1, 1), torch.as_tensor(kernel).permute(4, 3, 0, 1, 2), torch.as_tensor(bias),
                        dilation=(1, 1, 2)).movedim(1, -1)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)
    same = Conv3D(2, 3, strides=2, padding="same")(torch.randn(1, 4, 4, 4, 1))
    assert same.shape == (1, 2, 2, 2, 2)


def test_pooling3d_values():
    x = torch.randn(2, 4, 4, 6, 3)
    torch.testing.assert_close(MaxPooling3D()(x), F.max_pool3d(x.movedim(-1, 1), 2).movedim(1, -1))
    torch.testing.assert_close(AveragePooling3D((1, 2, 3))(x), F.avg_pool3d(x.movedim(-1, 1), (1, 2, 3)).movedim(1, -1))
    # asymmetric "same": mean over real inputs only; the last window holds just the last input
    y = AveragePooling3D(2, padding="same")(torch.arange(3.0).reshape(1, 1, 1, 3, 1))
    torch.testing.assert_close(y.flatten(), torch.tensor([0.5, 2.0]))
    y = MaxPooling3D(2, padding="same")(-torch.arange(3.0).reshape(1, 1, 1, 3, 1))
    torch.testing.assert_close(y.flatten(), torch.tensor([0.0, -2.0]))  # padding never wins the max
    torch.testing.assert_close(GlobalMaxPooling3D()(x), x.amax(dim=(1, 2, 3)))


def test_errors_name_the_layer_and_argument():
    with pytest.raises(ValueError, match="larger than the input"):
        Conv3D(2, 4)(torch.zeros(1, 3, 5, 5, 1))
    with pytest.raises(ValueError, match="rank 5"):
        Conv3D(2, 2)(torch.zeros(1, 4, 4, 1))
    with pytest.raises(ValueError, match="kernel_size"):
        Conv3D(2, (2, 2))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision(dtype):
    x = torch.randn(1, 4, 4, 4, 2)
    conv = Conv3D(2, 3, padding="same")
    reference = conv(x)
    low = conv.to(dtype)(x.to(dtype))
    assert low.dtype == dtype
    torch.testing.assert_close(low.float(), reference, rtol=0.05, atol=0.05)
    pooled = AveragePooling3D(padding="same")(x.to(dtype))  # no CPU half kernel in torch: computed in float32
    assert pooled.dtype == dtype
    torch.testing.assert_close(pooled.float(), AveragePooling3D(padding="same")(x), rtol=0.02, atol=0.02)
