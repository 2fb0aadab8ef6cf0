"""Conv1D/2D/3DTranspose: Keras shapes and parameter counts, the gradient of the forward conv, layouts."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import easynn
from easynn.layers import Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3DTranspose, Dense, Flatten, Reshape
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "make, in_shape, out_shape, params",
    [
        (lambda: Conv2DTranspose(8, 3), (2, 5, 5, 4), (2, 7, 7, 8), 296),  # 3*3*4*8 + 8
        (lambda: Conv2DTranspose(8, 3, strides=2, padding="same"), (2, 5, 6, 4), (2, 10, 12, 8), 296),
        (lambda: Conv2DTranspose(2, 3, strides=2), (1, 4, 4, 3), (1, 9, 9, 2), 3 * 3 * 3 * 2 + 2),
        (lambda: Conv2DTranspose(2, 1, strides=3), (1, 4, 4, 3), (1, 12, 12, 2), 3 * 2 + 2),  # k < s
        (lambda: Conv2DTranspose(2, 3, strides=2, output_padding=1), (1, 4, 4, 3), (1, 10, 10, 2), 56),
        (lambda: Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1), (1, 4, 4, 3), (1, 8, 8, 2), 56),
        (lambda: Conv2DTranspose(2, 3, dilation_rate=2, use_bias=False), (1, 4, 4, 3), (1, 8, 8, 2), 54),
        (lambda: Conv2DTranspose(4, (2, 3), strides=(2, 1), data_format="channels_first"), (2, 3, 4, 5),
         (2, 4, 8, 7), 2 * 3 * 3 * 4 + 4),
        (lambda: Conv1DTranspose(5, 3, strides=2), (2, 6, 4), (2, 13, 5), 3 * 4 * 5 + 5),
        (lambda: Conv1DTranspose(5, 4, strides=2, padding="same"), (2, 6, 4), (2, 12, 5), 4 * 4 * 5 + 5),
        (lambda: Conv3DTranspose(2, 2, strides=2), (1, 2, 3, 4, 3), (1, 4, 6, 8, 2), 8 * 3 * 2 + 2),
        (lambda: Conv3DTranspose(2, 3, strides=2, padding="same"), (1, 2, 3, 3, 1), (1, 4, 6, 6, 2), 27 * 2 + 2),
    ],
)
def test_shapes_params_config(make, in_shape, out_shape, params):
    check_layer(make(), torch.randn(in_shape), out_shape, params)


@pytest.mark.parametrize("kernel, stride, padding", [
    (3, 2, "same"), (4, 2, "same"), (3, 1, "same"), (5, 3, "same"), (2, 3, "same"), (3, 2, "valid"), (1, 2, "valid"),
])
def test_is_the_gradient_of_the_forward_conv(kernel, stride, padding):
    # <conv(x), g> = <x, conv_transpose(g)> with the same Keras kernel (kh, kw, F, C) in both layers.
    transpose = Conv2DTranspose(3, kernel, strides=stride, padding=padding, use_bias=False)
    g = torch.randn(2, 5, 4, 4)
    y = transpose(g)
    conv = Conv2D(4, kernel, strides=stride, padding=padding, use_bias=False)
    x = torch.randn(2, y.shape[1], y.shape[2], 3, requires_grad=True)
    conv(x)
    conv.set_weights(transpose.get_weights())
    out = conv(x)
    assert out.shape[1:3] == g.shape[1:3]
    (grad,) = torch.autograd.grad((out * g).sum(), x)
    torch.testing.assert_close(y, grad, rtol=1e-5, atol=1e-5)


def test_keras_layout_and_values_match_torch():
    layer = Conv2DTranspose(5, (3, 2), strides=2, output_padding=(1, 0), padding="valid")
    x = torch.randn(2, 4, 3, 6)
    layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 5, 6) and bias.shape == (5,)
    bias = np.random.randn(5).astype("float32")
    layer.set_weights([kernel, bias])
    expected = F.conv_transpose2d(x.permute(0, 3, 1, 2), torch.as_tensor(kernel).permute(3, 2, 0, 1),
                                  torch.as_tensor(bias), stride=2, output_padding=(1, 0)).permute(0, 2, 3, 1)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)
    conv1 = Conv1DTranspose(2, 3, strides=2, activation="relu")
    x1 = torch.randn(2, 5, 3)
    k1, b1 = (torch.as_tensor(w) for w in (conv1(x1), *conv1.get_weights())[1:])
    expected1 = F.relu(F.conv_transpose1d(x1.transpose(1, 2), k1.permute(2, 1, 0), b1, stride=2)).transpose(1, 2)
    torch.testing.assert_close(conv1(x1), expected1, rtol=1e-5, atol=1e-5)


def test_channels_first_equals_channels_last():
    last = Conv3DTranspose(2, 3, strides=2, padding="same")
    first = Conv3DTranspose(2, 3, strides=2, padding="same", data_format="channels_first")
    x = torch.randn(1, 3, 2, 4, 2)
    last(x)
    first(x.movedim(-1, 1))
    first.set_weights(last.get_weights())
    torch.testing.assert_close(first(x.movedim(-1, 1)), last(x).movedim(-1, 1), rtol=1e-5, atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="output_padding"):
        Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="rank 4"):
        Conv2DTranspose(2, 3)(torch.zeros(2, 5, 3))
    with pytest.raises(ValueError, match="filters"):
        Conv1DTranspose(0, 3)
    layer = Conv2DTranspose(2, 3)
    layer(torch.zeros(1, 4, 4, 3))
    with pytest.raises(ValueError, match="3 channels"):
        layer(torch.zeros(1, 4, 4, 2))


def test_autoencoder_fits_and_saves(tmp_path):
    model = easynn.Sequential([
        easynn.Input(shape=(8, 8, 1)),
        Conv2D(4, 3, strides=2, padding="same", activation="relu"),
        Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
        Conv2D(1, 3, padding="same"),
    ])
    x = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, x, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "ae.keras")
    restored = easynn.models.load_model(tmp_path / "ae.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    generator = easynn.Sequential([easynn.Input(shape=(4,)), Dense(2 * 2 * 3), Reshape((2, 2, 3)),
                                   Conv2DTranspose(2, 4, strides=2, padding="same"), Flatten()])
    assert generator(torch.zeros(3, 4)).shape == (3, 4 * 4 * 2)
    assert Conv1D  # imported for symmetry with the 2-D case


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_cuda_matches_cpu(dtype):
    layer = Conv2DTranspose(4, 3, strides=2, padding="same")
    x = torch.randn(2, 5, 5, 3)
    expected = layer(x)
    gpu = layer.cuda().to(dtype)(x.cuda().to(dtype))
    assert gpu.dtype == dtype and gpu.device.type == "cuda"
    tolerance = 1e-4 if dtype == torch.float32 else 5e-2
    torch.testing.assert_close(gpu.float().cpu(), expected, rtol=tolerance, atol=tolerance)
