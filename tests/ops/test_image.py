"""easynn.ops.image against torch's interpolate (Keras-on-torch semantics), SciPy, colorsys and hand values."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from easynn.ops import image

RNG = np.random.default_rng(0)


def _interp(x_last, size, mode, **kwargs):
    return F.interpolate(x_last.permute(0, 3, 1, 2), size=size, mode=mode, **kwargs).permute(0, 2, 3, 1)


def test_resize_bilinear_is_half_pixel_centred():
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 2, 2, 1)
    out = image.resize(x, (4, 4))[0, :, :, 0]
    assert out[0].tolist() == [0.0, 0.25, 0.75, 1.0]
    assert out[:, 0].tolist() == [0.0, 0.5, 1.5, 2.0]
    batch = torch.randn(2, 5, 7, 3)
    torch.testing.assert_close(image.resize(batch, (3, 4)), _interp(batch, (3, 4), "bilinear", align_corners=False))


def test_resize_nearest_area_bicubic_antialias():
    x = torch.arange(16.0).reshape(1, 4, 4, 1)
    assert image.resize(x, (2, 2), interpolation="nearest")[0, :, :, 0].tolist() == [[5.0, 7.0], [13.0, 15.0]]
    assert image.resize(x, (2, 2), interpolation="area")[0, :, :, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    up = image.resize(torch.tensor([[1.0, 2.0]]).reshape(1, 1, 2, 1), (1, 4), interpolation="nearest")
    assert up.flatten().tolist() == [1.0, 1.0, 2.0, 2.0]
    batch = torch.randn(2, 9, 9, 2)
    torch.testing.assert_close(image.resize(batch, (4, 5), interpolation="bicubic"),
                               _interp(batch, (4, 5), "bicubic", align_corners=False))
    torch.testing.assert_close(image.resize(batch, (4, 4), antialias=True),
                               _interp(batch, (4, 4), "bilinear", align_corners=False, antialias=True))


def test_resize_crop_and_pad_to_aspect_ratio():
    x = torch.arange(24.0).reshape(1, 4, 6, 1)
    cropped = image.resize(x, (2, 2), crop_to_aspect_ratio=True)
    torch.testing.assert_close(cropped, image.resize(x[:, :, 1:5], (2, 2)))
    wide = torch.ones(1, 2, 4, 1)
    padded = image.resize(wide, (4, 4), pad_to_aspect_ratio=True, fill_value=-1.0)
    assert padded[0, :, 0, 0].tolist() == [-1.0, 1.0, 1.0, -1.0]
    with pytest.raises(ValueError, match="only one"):
        image.resize(x, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


def test_resize_single_image_channels_first_integers_and_errors():
    single = torch.randn(6, 6, 3)
    assert image.resize(single, (3, 3)).shape == (3, 3, 3)
    first = torch.randn(2, 3, 6, 6)
    torch.testing.assert_close(image.resize(first, (3, 3), data_format="channels_first"),
                               F.interpolate(first, size=(3, 3), mode="bilinear", align_corners=False))
    assert image.resize(np.full((4, 4, 1), 10, dtype="uint8"), (2, 2)).dtype == torch.float32
    with pytest.raises(NotImplementedError, match="lanczos3"):
        image.resize(single, (3, 3), interpolation="lanczos3")
    with pytest.raises(ValueError, match="interpolation"):
        image.resize(single, (3, 3), interpolation="cubic")
    with pytest.raises(ValueError, match="images"):
        image.resize(torch.zeros(4, 4), (2, 2))


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", ["nearest", "mirror", "reflect"])
def test_map_coordinates_matches_scipy(order, mode):
    ndimage = pytest.importorskip("scipy.ndimage")
    data = RNG.normal(size=(5, 6))
    coords = RNG.uniform(-3, 8, size=(2, 4, 7))
    coords[:, 0, 0] = [2.0, 3.0]  # an exact grid point
    expected = ndimage.map_coordinates(data, coords, order=order, mode=mode)
    got = image.map_coordinates(data, coords, order, fill_mode=mode).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_map_coordinates_constant_and_wrap_by_hand():
    data = torch.tensor([0.0, 10.0, 20.0])
    out = image.map_coordinates(data, torch.tensor([[-0.5, 0.25, 2.5, 5.0]]), 1, fill_value=-1.0)
    # each corner outside the input reads fill_value: -0.5 -> 0.5 * -1 + 0.5 * 0
    torch.testing.assert_close(out, torch.tensor([-0.5, 2.5, 9.5, -1.0]))
    wrapped = image.map_coordinates(data, torch.tensor([[3.0, -1.0, 3.5]]), 1, fill_mode="wrap")
    torch.testing.assert_close(wrapped, torch.tensor([0.0, 20.0, 5.0]))


def test_affine_transform_identity_translation_and_batch():
    images = torch.randn(2, 4, 5, 3)
    identity = [1, 0, 0, 0, 1, 0, 0, 0]
    torch.testing.assert_close(image.affine_transform(images, identity), images)
    down = image.affine_transform(images, [1, 0, 0, 0, 1, -1, 0, 0], interpolation="nearest")  # read row y - 1
    torch.testing.assert_close(down[:, 1:], images[:, :-1])
    assert torch.all(down[:, 0] == 0)
    per_image = torch.tensor([identity, [1, 0, 1, 0, 1, 0, 0, 0]], dtype=torch.float32)
    out = image.affine_transform(images, per_image, fill_mode="nearest")
    torch.testing.assert_close(out[0], images[0])
    torch.testing.assert_close(out[1, :, :-1], images[1, :, 1:])
    torch.testing.assert_close(out[1, :, -1], images[1, :, -1])


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_extract_patches_matches_a_numpy_loop(padding):
    x = RNG.normal(size=(2, 5, 6, 3)).astype("float32")
    out = image.extract_patches(x, (2, 3), strides=(2, 2), padding=padding).numpy()
    padded = x
    if padding == "same":  # out 3x3; total pads: rows (3-1)*2+2-5 = 1 (bottom), cols (3-1)*2+3-6 = 1 (right)
        padded = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    rows = (padded.shape[1] - 2) // 2 + 1
    cols = (padded.shape[2] - 3) // 2 + 1
    assert out.shape == (2, rows, cols, 18)
    for i in range(rows):
        for j in range(cols):
            patch = padded[:, 2 * i:2 * i + 2, 2 * j:2 * j + 3, :].reshape(2, -1)
            np.testing.assert_allclose(out[:, i, j], patch)


def test_color_conversions():
    rgb = RNG.uniform(size=(4, 5, 3)).astype("float32")
    gray = image.rgb_to_grayscale(rgb).numpy()
    np.testing.assert_allclose(gray[..., 0], rgb @ np.array([0.2989, 0.5870, 0.1140], dtype="float32"), rtol=1e-5)
    hsv = image.rgb_to_hsv(rgb).numpy()
    expected = np.array([colorsys.rgb_to_hsv(*pixel) for pixel in rgb.reshape(-1, 3)]).reshape(hsv.shape)
    np.testing.assert_allclose(hsv, expected, atol=1e-5)
    np.testing.assert_allclose(image.hsv_to_rgb(hsv).numpy(), rgb, atol=1e-5)
    first = image.rgb_to_hsv(np.moveaxis(rgb, -1, 0), data_format="channels_first").numpy()
    np.testing.assert_allclose(np.moveaxis(first, 0, -1), hsv, atol=1e-6)
    with pytest.raises(ValueError, match="3 channels"):
        image.rgb_to_hsv(np.zeros((2, 2, 4)))


def test_pad_and_crop_images():
    x = torch.ones(1, 3, 4, 2)
    padded = image.pad_images(x, top_padding=1, left_padding=2, target_height=6, target_width=7)
    assert padded.shape == (1, 6, 7, 2) and padded[0, :, :, 0].sum() == 12 and padded[0, 1, 2, 0] == 1
    cropped = image.crop_images(torch.arange(20.0).reshape(4, 5, 1), top_cropping=1, left_cropping=1,
                                target_height=2, target_width=3)
    assert cropped[..., 0].tolist() == [[6.0, 7.0, 8.0], [11.0, 12.0, 13.0]]
