"""Resizing and CenterCrop against F.interpolate and hand-computed crops."""

import pytest
import torch
import torch.nn.functional as F

from easynn.layers import CenterCrop, Resizing
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("interpolation, mode", [("bilinear", "bilinear"), ("nearest", "nearest-exact"), ("area", "area")])
def test_resizing_matches_interpolate(interpolation, mode):
    x = torch.randn(2, 6, 8, 3)
    out = check_layer(Resizing(3, 5, interpolation=interpolation), x, (2, 3, 5, 3), 0)
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    expected = F.interpolate(x.permute(0, 3, 1, 2), size=(3, 5), mode=mode, **kwargs).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, expected)


def test_resizing_bilinear_half_pixel_value():
    # Upsampling [0, 1] to 4 pixels with half-pixel centres: 0, 0.25, 0.75, 1 (TF/Keras's numbers).
    out = Resizing(1, 4)(torch.tensor([[[[0.0], [1.0]]]]))
    torch.testing.assert_close(out.flatten(), torch.tensor([0.0, 0.25, 0.75, 1.0]))


def test_resizing_channels_first_unbatched_uint8_and_aspect_ratio():
    x = torch.randint(0, 255, (3, 4, 8), dtype=torch.uint8)
    out = Resizing(2, 2, data_format="channels_first")(x)
    assert out.shape == (3, 2, 2) and out.dtype == torch.float32
    wide = torch.arange(8.0).reshape(1, 2, 4, 1)  # 2x4 image -> 2x2 target: crop the middle 2x2
    cropped = Resizing(2, 2, crop_to_aspect_ratio=True)(wide)
    torch.testing.assert_close(cropped[0, :, :, 0], torch.tensor([[1.0, 2.0], [5.0, 6.0]]))
    padded = Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=-1.0, interpolation="nearest")(wide)
    torch.testing.assert_close(padded[0, :, :, 0], torch.tensor(
        [[-1.0, -1.0, -1.0, -1.0], [0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [-1.0, -1.0, -1.0, -1.0]]))


@pytest.mark.parametrize("size", [(3, 4), (14, 20), (5, 13)])
def test_resizing_lanczos3_matches_pil(size):
    # PIL's LANCZOS is the radius-3 kernel, widened when downsampling (antialias=True), half-pixel centres.
    np = pytest.importorskip("numpy")
    image = pytest.importorskip("PIL.Image")
    pixels = (np.random.default_rng(0).random((7, 9)) * 255).astype("float32")
    expected = np.asarray(image.fromarray(pixels, mode="F").resize(size[::-1], image.LANCZOS))
    out = Resizing(*size, interpolation="lanczos3", antialias=True)(torch.as_tensor(pixels)[None, :, :, None])
    np.testing.assert_allclose(out[0, :, :, 0].numpy(), expected, rtol=1e-5, atol=1e-3)
    if size[0] > 7 and size[1] > 9:  # upsampling: the kernel is never widened, antialias changes nothing
        plain = Resizing(*size, interpolation="lanczos3")(torch.as_tensor(pixels)[None, :, :, None])
        torch.testing.assert_close(plain, out)


def test_resizing_lanczos5_weights_and_dtypes():
    # One output pixel by hand: upsample 6 -> 12 along the width, output column 5 sits at input 2.25.
    x = torch.rand(1, 1, 6, 1, dtype=torch.float64)
    out = Resizing(1, 12, interpolation="lanczos5")(x)
    t = torch.arange(6, dtype=torch.float64) - 2.25
    weights = torch.where(t.abs() < 5, torch.sinc(t) * torch.sinc(t / 5), torch.zeros_like(t))
    torch.testing.assert_close(out[0, 0, 5, 0], (weights * x.flatten()).sum() / weights.sum())
    flat = Resizing(5, 3, interpolation="lanczos5", data_format="channels_first")(torch.full((2, 3, 9, 4), 7.0))
    torch.testing.assert_close(flat, torch.full((2, 3, 5, 3), 7.0))  # rows sum to 1
    half = Resizing(4, 4, interpolation="lanczos3")(torch.rand(1, 8, 8, 3).to(torch.bfloat16))
    assert half.dtype == torch.bfloat16 and half.shape == (1, 4, 4, 3)
    assert Resizing.from_config(Resizing(2, 2, interpolation="lanczos5").get_config()).interpolation == "lanczos5"


def test_resizing_errors():
    with pytest.raises(ValueError, match="interpolation.*mitchellcubic"):
        Resizing(2, 2, interpolation="mitchellcubic")
    with pytest.raises(ValueError, match="height"):
        Resizing(0, 2)
    with pytest.raises(ValueError, match="Only one of"):
        Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="rank 4"):
        Resizing(2, 2)(torch.zeros(2, 3))


def test_center_crop_offsets_and_small_inputs():
    x = torch.arange(30.0).reshape(1, 5, 6, 1)
    out = check_layer(CenterCrop(3, 2), x, (1, 3, 2, 1), 0)
    torch.testing.assert_close(out[0, :, :, 0], x[0, 1:4, 2:4, 0])
    x_cf = torch.randn(2, 3, 6, 6)
    torch.testing.assert_close(CenterCrop(4, 4, data_format="channels_first")(x_cf), x_cf[:, :, 1:5, 1:5])
    small = torch.randn(1, 2, 4, 1)  # smaller than the target: crop to aspect ratio, then resize
    grown = CenterCrop(4, 4)(small)
    expected = F.interpolate(small[:, :, 1:3].permute(0, 3, 1, 2), size=(4, 4), mode="bilinear",
                             align_corners=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(grown, expected)
