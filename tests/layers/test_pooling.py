import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from easynn.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from tests.layers.layer_checks import check_layer

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _reference_pool2d(x, pool, strides, padding, mode):
    """Keras/TF pooling by explicit windows on a (N, H, W, C) array; padding never counts."""
    x = np.asarray(x, dtype=np.float64)
    n, h, w, c = x.shape
    outs, befores = [], []
    for size, k, s in ((h, pool[0], strides[0]), (w, pool[1], strides[1])):
        if padding == "same":
            out = math.ceil(size / s)
            total = max((out - 1) * s + k - size, 0)
            outs.append(out)
            befores.append(total // 2)
        else:
            outs.append((size - k) // s + 1)
            befores.append(0)
    y = np.zeros((n, outs[0], outs[1], c))
    for i in range(outs[0]):
        for j in range(outs[1]):
            r0, c0 = i * strides[0] - befores[0], j * strides[1] - befores[1]
            window = x[:, max(r0, 0):min(r0 + pool[0], h), max(c0, 0):min(c0 + pool[1], w)]
            y[:, i, j] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
    return torch.as_tensor(y, dtype=torch.float32)


@pytest.mark.parametrize(
    "make, in_shape, out_shape",
    [
        (lambda: MaxPooling2D(), (2, 6, 7, 3), (2, 3, 3, 3)),
        (lambda: MaxPooling2D((3, 2), strides=1), (2, 6, 7, 3), (2, 4, 6, 3)),
        (lambda: MaxPooling2D(2, padding="same"), (2, 5, 7, 3), (2, 3, 4, 3)),
        (lambda: AveragePooling2D(3, strides=2, padding="same"), (2, 6, 5, 3), (2, 3, 3, 3)),
        (lambda: AveragePooling2D(2, data_format="channels_first"), (2, 3, 6, 6), (2, 3, 3, 3)),
        (lambda: MaxPooling1D(), (2, 9, 4), (2, 4, 4)),
        (lambda: AveragePooling1D(3, strides=2, padding="same"), (2, 8, 4), (2, 4, 4)),
        (lambda: MaxPooling1D(2, data_format="channels_first"), (2, 4, 9), (2, 4, 4)),
        (lambda: GlobalAveragePooling2D(), (2, 5, 6, 3), (2, 3)),
        (lambda: GlobalMaxPooling2D(keepdims=True), (2, 5, 6, 3), (2, 1, 1, 3)),
        (lambda: GlobalAveragePooling2D(data_format="channels_first"), (2, 3, 5, 6), (2, 3)),
        (lambda: GlobalAveragePooling1D(keepdims=True), (2, 7, 4), (2, 1, 4)),
        (lambda: GlobalMaxPooling1D(), (2, 7, 4), (2, 4)),
    ],
)
def test_shapes_params_config(make, in_shape, out_shape):
    check_layer(make(), torch.randn(in_shape), out_shape, 0)


@pytest.mark.parametrize("cls, mode", [(MaxPooling2D, "max"), (AveragePooling2D, "avg")])
@pytest.mark.parametrize("pool, strides", [((2, 2), None), ((3, 3), (2, 2)), ((2, 3), (1, 2))])
def test_valid_matches_torch(cls, mode, pool, strides):
    x = torch.randn(2, 7, 8, 3)
    y = cls(pool, strides=strides)(x)
    fn = F.max_pool2d if mode == "max" else F.avg_pool2d
    expected = fn(x.permute(0, 3, 1, 2), pool, strides or pool).permute(0, 2, 3, 1)
    torch.testing.assert_close(y, expected)


@pytest.mark.parametrize("cls, mode", [(MaxPooling2D, "max"), (AveragePooling2D, "avg")])
@pytest.mark.parametrize("h, w", [(5, 6), (6, 7), (7, 7)])
@pytest.mark.parametrize("pool, strides", [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((3, 2), (1, 1))])
def test_same_matches_keras_windows(cls, mode, h, w, pool, strides):
    x = torch.randn(2, h, w, 3) - 5.0  # negative: zero padding would win a max, -inf padding cannot
    y = cls(pool, strides=strides, padding="same")(x)
    expected = _reference_pool2d(x, pool, strides, "same", mode)
    torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5)


def test_average_same_excludes_padding_by_hand():
    x = torch.arange(9.0).reshape(1, 3, 3, 1)
    y = AveragePooling2D(2, padding="same")(x)[0, :, :, 0]
    # windows: [[0,1],[3,4]] [[2],[5]] / [[6,7]] [[8]]
    torch.testing.assert_close(y, torch.tensor([[2.0, 3.5], [6.5, 8.0]]))


@pytest.mark.parametrize("cls", [MaxPooling1D, AveragePooling1D])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_1d_matches_2d_reference(cls, padding):
    x = torch.randn(2, 9, 3)
    y = cls(3, strides=2, padding=padding)(x)
    mode = "max" if cls is MaxPooling1D else "avg"
    expected = _reference_pool2d(x.unsqueeze(1), (1, 3), (1, 2), padding, mode)[:, 0]
    torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_channels_first_agrees(cls):
    x = torch.randn(2, 7, 6, 3)
    last = cls(3, strides=2, padding="same")(x)
    first = cls(3, strides=2, padding="same", data_format="channels_first")(x.permute(0, 3, 1, 2))
    torch.testing.assert_close(first.permute(0, 2, 3, 1), last)


def test_global_pooling_values():
    x = torch.randn(2, 4, 5, 3)
    torch.testing.assert_close(GlobalAveragePooling2D()(x), x.mean(dim=(1, 2)))
    torch.testing.assert_close(GlobalMaxPooling2D()(x), x.amax(dim=(1, 2)))
    xf = x.permute(0, 3, 1, 2)
    torch.testing.assert_close(GlobalAveragePooling2D(data_format="channels_first")(xf), x.mean(dim=(1, 2)))
    s = torch.randn(2, 6, 3)
    torch.testing.assert_close(GlobalAveragePooling1D()(s), s.mean(dim=1))
    torch.testing.assert_close(GlobalMaxPooling1D(keepdims=True)(s), s.amax(dim=1, keepdim=True))


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="padding"):
        MaxPooling2D(padding="full")
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling2D(pool_size=(2, 2, 2))
    with pytest.raises(ValueError, match="data_format"):
        GlobalAveragePooling2D(data_format="NHWC")
    with pytest.raises(ValueError, match="rank 4"):
        MaxPooling2D()(torch.zeros(2, 4, 4))


@pytest.mark.cuda
@requires_cuda
@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_cuda_matches_cpu(cls):
    x = torch.randn(2, 7, 6, 3)
    layer = cls(3, strides=2, padding="same")
    torch.testing.assert_close(layer(x.cuda()).cpu(), layer(x), rtol=1e-5, atol=1e-5)
