"""load_img / img_to_array / array_to_img / save_img / smart_resize against Pillow and torch as oracles."""

import io
import os
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from easynn import config
from easynn.preprocessing import image as preprocessing_image
from easynn.utils import array_to_img, img_to_array, load_img, save_img
from easynn.utils.image_utils import smart_resize


def _columns(height=4, width=8, channels=3):
    """uint8 image whose pixel (r, c, k) is 10 * c + k (each column distinct)."""
    values = 10 * np.arange(width)[None, :, None] + np.arange(channels)[None, None, :]
    return np.broadcast_to(values, (height, width, channels)).astype(np.uint8)


def test_save_then_load_round_trips_exact_pixels(tmp_path):
    pixels = _columns()
    path = tmp_path / "cols.png"
    save_img(path, pixels.astype("float32"), scale=False)
    img = load_img(path)
    assert img.mode == "RGB" and img.size == (8, 4)  # Pillow: (width, height)
    array = img_to_array(img)
    assert array.dtype == np.float32 and array.shape == (4, 8, 3)
    np.testing.assert_array_equal(array, pixels.astype(np.float32))
    assert os.listdir(tmp_path) == ["cols.png"]  # the temporary file was renamed, none left


def test_color_modes_give_1_3_4_channels(tmp_path):
    path = tmp_path / "red.png"
    save_img(path, np.tile([255.0, 0.0, 0.0], (2, 3, 1)), scale=False)
    gray = img_to_array(load_img(path, color_mode="grayscale"))
    rgba = img_to_array(load_img(path, color_mode="rgba"))
    assert gray.shape == (2, 3, 1) and rgba.shape == (2, 3, 4)
    # Pillow's ITU-R 601-2 luma: 255 * 299 / 1000 = 76.2 -> 76
    assert gray[0, 0, 0] == 76.0
    assert rgba[0, 0].tolist() == [255.0, 0.0, 0.0, 255.0]


def test_load_img_resizes_with_pillow_filters_and_keeps_aspect_ratio(tmp_path):
    pixels = _columns(height=4, width=8)
    path = tmp_path / "cols.png"
    Image.fromarray(pixels).save(path)
    plain = img_to_array(load_img(path, target_size=(4, 4)))
    # nearest on a 2x horizontal shrink takes every other column
    np.testing.assert_array_equal(plain, pixels[:, 1::2].astype(np.float32))
    kept = img_to_array(load_img(path, target_size=(4, 4), keep_aspect_ratio=True))
    np.testing.assert_array_equal(kept, pixels[:, 2:6].astype(np.float32))  # the centred 4x4 box
    bilinear = img_to_array(load_img(path, target_size=(2, 4), interpolation="bilinear"))
    oracle = np.asarray(Image.fromarray(pixels).resize((4, 2), Image.Resampling.BILINEAR), dtype=np.float32)
    np.testing.assert_array_equal(bilinear, oracle)
    with open(path, "rb") as handle:  # a file object works as well as a path
        assert load_img(io.BytesIO(handle.read())).size == (8, 4)


def test_img_to_array_layouts_and_dtype():
    gray = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert img_to_array(gray).shape == (2, 3, 1)
    first = img_to_array(Image.fromarray(_columns()), data_format="channels_first", dtype="uint8")
    assert first.shape == (3, 4, 8) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, _columns().transpose(2, 0, 1))
    config.set_image_data_format("channels_first")
    try:
        assert img_to_array(gray).shape == (1, 2, 3)
    finally:
        config.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="2-D or 3-D"):
        img_to_array(np.zeros((1, 2, 3, 4)))


def test_array_to_img_scales_min_max_to_0_255():
    x = np.array([[[-1.0], [0.0], [1.0]]])
    assert np.asarray(array_to_img(x)).tolist() == [[0, 127, 255]]  # 255 * (x + 1) / 2, truncated
    assert x.tolist() == [[[-1.0], [0.0], [1.0]]]  # the caller's array is not changed
    assert np.asarray(array_to_img(np.full((1, 2, 1), 7.0))).tolist() == [[0, 0]]  # constant: shift only
    unscaled = array_to_img(np.full((1, 2, 1), 7.0), scale=False)
    assert unscaled.mode == "L" and np.asarray(unscaled).tolist() == [[7, 7]]
    assert array_to_img(torch.zeros(2, 2, 4)).mode == "RGBA"  # tensors too
    big = array_to_img(np.full((1, 1, 1), 1000.0), scale=False)
    assert big.mode == "I" and np.asarray(big).tolist() == [[1000]]
    first = array_to_img(np.zeros((3, 2, 5)), data_format="channels_first")
    assert first.size == (5, 2) and first.mode == "RGB"
    with pytest.raises(ValueError, match="3-D"):
        array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        array_to_img(np.zeros((2, 2, 2)))


def test_save_img_formats(tmp_path):
    rgba = np.zeros((2, 2, 4))
    rgba[..., 0], rgba[..., 3] = 200.0, 255.0
    with pytest.warns(UserWarning, match="JPEG"):
        save_img(tmp_path / "x.jpg", rgba, scale=False)
    with Image.open(tmp_path / "x.jpg") as img:
        assert img.format == "JPEG" and img.mode == "RGB"
    save_img(tmp_path / "x.data", rgba, file_format="png", scale=False)
    with Image.open(tmp_path / "x.data") as img:
        assert img.format == "PNG" and img.mode == "RGBA"
    buffer = io.BytesIO()
    save_img(buffer, rgba, file_format="bmp", scale=False)
    with Image.open(io.BytesIO(buffer.getvalue())) as img:
        assert img.format == "BMP"
    with pytest.raises(ValueError, match="file_format"):
        save_img(tmp_path / "x.unknown", rgba)
    with pytest.raises(ValueError, match="file_format"):
        save_img(tmp_path / "y.png", rgba, file_format="nope")
    with pytest.raises(FileNotFoundError):
        save_img(tmp_path / "missing" / "z.png", rgba)


def test_save_img_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "keep.png"
    save_img(path, np.full((2, 2, 3), 50.0), scale=False)
    before = path.read_bytes()

    def broken_save(self, fp, format=None, **params):
        fp.write(b"half an image")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_img(path, np.full((2, 2, 3), 99.0), scale=False)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["keep.png"]


def test_bad_arguments_raise_naming_them(tmp_path):
    path = tmp_path / "a.png"
    save_img(path, np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="color_mode"):
        load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation"):
        load_img(path, target_size=(1, 1), interpolation="cubic")
    with pytest.raises(ValueError, match="target_size"):
        load_img(path, target_size=(0, 2))
    with pytest.raises(TypeError, match="path"):
        load_img(123)


def test_missing_pillow_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install easynn\[image\]"):
        array_to_img(np.zeros((2, 2, 3)))
    with pytest.raises(ImportError, match=r"pip install easynn\[image\]"):
        load_img(tmp_path / "x.png")


def test_smart_resize_crops_the_centre_then_resizes_like_torch():
    x = torch.arange(6 * 8 * 2, dtype=torch.float32).reshape(6, 8, 2)
    out = smart_resize(x, (3, 3))
    centre = x[:, 1:7].permute(2, 0, 1)[None]  # 6x6 box, columns 1..6
    want = F.interpolate(centre, size=(3, 3), mode="bilinear", align_corners=False)[0].permute(1, 2, 0)
    assert torch.allclose(out, want)
    as_numpy = preprocessing_image.smart_resize(x.numpy(), (3, 3))
    assert isinstance(as_numpy, np.ndarray) and np.allclose(as_numpy, want.numpy())
    assert preprocessing_image.load_img is load_img
