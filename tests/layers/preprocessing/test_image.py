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


def test_resizing_errors():
    with pytest.raises(ValueError, match="interpolation.*lanczos3"):
        Resizing(2, 2, interpolation="lanczos3")
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
