"""UpSampling, ZeroPadding, Cropping (1/2/3-D), Permute, RepeatVector, Identity, Reshape(-1), Flatten."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import easynn
from easynn.layers import (
    Conv2D,
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Dense,
    Flatten,
    Identity,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "make, in_shape, out_shape",
    [
        (lambda: UpSampling1D(3), (2, 4, 5), (2, 12, 5)),
        (lambda: UpSampling2D(), (2, 3, 4, 5), (2, 6, 8, 5)),
        (lambda: UpSampling2D((2, 3), interpolation="bilinear"), (2, 3, 4, 5), (2, 6, 12, 5)),
        (lambda: UpSampling2D(2, data_format="channels_first"), (2, 5, 3, 4), (2, 5, 6, 8)),
        (lambda: UpSampling3D((1, 2, 2)), (1, 2, 3, 4, 2), (1, 2, 6, 8, 2)),
        (lambda: ZeroPadding1D((1, 2)), (2, 4, 3), (2, 7, 3)),
        (lambda: ZeroPadding2D(), (2, 4, 4, 3), (2, 6, 6, 3)),
        (lambda: ZeroPadding2D(((1, 0), (2, 3)), data_format="channels_first"), (2, 3, 4, 4), (2, 3, 5, 9)),
        (lambda: ZeroPadding3D((1, 0, 2)), (1, 2, 2, 2, 3), (1, 4, 2, 6, 3)),
        (lambda: Cropping1D((1, 2)), (2, 6, 3), (2, 3, 3)),
        (lambda: Cropping2D(((1, 0), (1, 2))), (2, 5, 6, 3), (2, 4, 3, 3)),
        (lambda: Cropping2D(1, data_format="channels_first"), (2, 3, 5, 6), (2, 3, 3, 4)),
        (lambda: Cropping3D(), (1, 3, 4, 5, 2), (1, 1, 2, 3, 2)),
        (lambda: Permute((2, 1)), (2, 3, 4), (2, 4, 3)),
        (lambda: Permute((3, 1, 2)), (2, 3, 4, 5), (2, 5, 3, 4)),
        (lambda: RepeatVector(3), (2, 4), (2, 3, 4)),
        (lambda: Identity(), (2, 3), (2, 3)),
        (lambda: Reshape((-1, 2)), (2, 3, 4), (2, 6, 2)),
    ],
)
def test_shapes_and_config(make, in_shape, out_shape):
    check_layer(make(), torch.randn(in_shape), out_shape, 0)


def test_values_against_torch():
    x = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(UpSampling2D((2, 3))(x), x.repeat_interleave(2, 1).repeat_interleave(3, 2))
    bilinear = UpSampling2D(2, interpolation="bilinear")(x)
    torch.testing.assert_close(bilinear, F.interpolate(x.permute(0, 3, 1, 2), scale_factor=2, mode="bilinear",
                                                       align_corners=False).permute(0, 2, 3, 1))
    seq = torch.randn(2, 4, 3)
    torch.testing.assert_close(UpSampling1D(2)(seq), seq.repeat_interleave(2, 1))
    vol = torch.randn(1, 2, 2, 2, 3)
    torch.testing.assert_close(UpSampling3D(2)(vol), vol.repeat_interleave(2, 1).repeat_interleave(2, 2)
                               .repeat_interleave(2, 3))
    padded = ZeroPadding2D(((1, 0), (2, 3)))(x)
    assert padded.shape == (2, 4, 9, 5)
    torch.testing.assert_close(padded[:, 1:, 2:6], x)
    torch.testing.assert_close(padded.abs().sum(), x.abs().sum())  # the rest is zeros
    torch.testing.assert_close(ZeroPadding1D(2)(seq)[:, 2:6], seq)
    torch.testing.assert_close(Cropping2D(((1, 0), (1, 2)))(x), x[:, 1:, 1:2])
    torch.testing.assert_close(Cropping1D((1, 2))(torch.arange(5.0).reshape(1, 5, 1)).flatten(), torch.tensor([1.0, 2.0]))
    torch.testing.assert_close(Permute((3, 1, 2))(x), x.permute(0, 3, 1, 2))
    torch.testing.assert_close(RepeatVector(2)(torch.tensor([[1.0, 2.0]])), torch.tensor([[[1.0, 2.0], [1.0, 2.0]]]))
    cf = torch.arange(24.0).reshape(1, 2, 3, 4)  # channels_first: flattened in channels_last order
    torch.testing.assert_close(Flatten(data_format="channels_first")(cf), cf.permute(0, 2, 3, 1).reshape(1, -1))
    u8 = torch.arange(4, dtype=torch.uint8).reshape(1, 2, 2, 1)
    assert UpSampling2D()(u8).dtype == torch.uint8


def test_errors():
    with pytest.raises(ValueError, match="cropping.*negative"):
        Cropping2D(-1)
    with pytest.raises(ValueError, match="removes all"):
        Cropping1D((2, 2))(torch.zeros(1, 4, 1))
    with pytest.raises(ValueError, match="padding"):
        ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match="dims"):
        Permute((0, 1))
    with pytest.raises(ValueError, match="rank 3"):
        Permute((2, 1))(torch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="rank 4"):
        UpSampling2D()(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="interpolation"):
        UpSampling2D(interpolation="cubic")
    with pytest.raises(ValueError, match="`n`"):
        RepeatVector(0)


def test_unet_style_model_fits_and_saves(tmp_path):
    inputs = easynn.Input(shape=(8, 8, 1))
    x = ZeroPadding2D(1)(inputs)
    x = Conv2D(4, 3, strides=2, activation="relu")(x)
    x = UpSampling2D(2)(x)
    x = Cropping2D(((0, 0), (0, 0)))(x)
    outputs = Conv2D(1, 3, padding="same")(x)
    model = easynn.Model(inputs, outputs)
    assert model.output_shape == (None, 8, 8, 1)
    data = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(data, data, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "unet.keras")
    restored = easynn.models.load_model(tmp_path / "unet.keras")
    np.testing.assert_allclose(restored.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-5, atol=1e-5)
    seq = easynn.Sequential([easynn.Input(shape=(3,)), RepeatVector(4), Permute((2, 1)), Flatten(), Dense(2)])
    assert seq(torch.zeros(5, 3)).shape == (5, 2)
