"""Colour augmentation: formulas, clipping to value_range, per-sample draws, inference identity."""

import pytest
import torch

from easynn.layers import AutoContrast, RandomBrightness, RandomContrast, RandomGrayscale, RandomInvert
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_contrast_formula_and_clip():
    x = torch.rand(1, 4, 4, 3) * 100 + 50
    out = RandomContrast((0.5, 0.2), seed=0)(x, training=True)
    mean = x.mean(dim=(1, 2), keepdim=True)
    c = ((out - mean) / (x - mean)).flatten()
    assert 0.5 <= float(c[0]) <= 1.2
    torch.testing.assert_close(out, (x - mean) * c[0] + mean)  # one factor for the whole image
    strong = RandomContrast((0.0, 1.0), value_range=(0, 1))(torch.rand(8, 4, 4, 3), training=True)
    assert strong.min() >= 0 and strong.max() <= 1
    x = torch.rand(1, 4, 4, 3).repeat(16, 1, 1, 1)
    out = RandomContrast(0.5, seed=1)(x, training=True)
    assert len({round(float(o.std()), 5) for o in out}) > 1
    torch.testing.assert_close(RandomContrast(0.5, seed=1)(x, training=True), out)
    assert torch.equal(RandomContrast(0.5)(x), x)
    with pytest.raises(ValueError, match="factor"):
        RandomContrast(1.5)


def test_brightness_offsets_per_image_and_clip():
    x = torch.full((16, 2, 2, 3), 0.5)
    layer = RandomBrightness(0.2, value_range=(0, 1), seed=0)
    out = layer(x, training=True)
    deltas = (out - x)[:, 0, 0, 0]
    assert ((deltas.abs() <= 0.2 + 1e-6)).all() and len(set(deltas.tolist())) > 1
    torch.testing.assert_close(out - x, deltas[:, None, None, None].expand_as(x))  # one offset per image
    assert torch.equal(layer(x), x)
    out = RandomBrightness((1.0, 1.0))(torch.full((1, 1, 1, 1), 200.0), training=True)
    assert float(out) == 255.0
    check_layer(RandomBrightness(0.1, seed=2), x, x.shape, 0)
    with pytest.raises(ValueError, match="value_range"):
        RandomBrightness(0.1, value_range=(1, 0))


def test_grayscale_and_invert_and_autocontrast():
    x = torch.rand(2, 3, 3, 3)
    gray = RandomGrayscale(factor=1.0)(x, training=True)
    expected = (x * torch.tensor([0.2989, 0.5870, 0.1140])).sum(-1, keepdim=True).expand_as(x)
    torch.testing.assert_close(gray, expected)
    torch.testing.assert_close(RandomGrayscale(factor=0.0)(x, training=True), x)
    cf = RandomGrayscale(factor=1.0, data_format="channels_first")(x.permute(0, 3, 1, 2), training=True)
    torch.testing.assert_close(cf, expected.permute(0, 3, 1, 2))
    with pytest.raises(ValueError, match="3 channels"):
        RandomGrayscale(factor=1.0)(torch.rand(1, 2, 2, 4), training=True)
    torch.testing.assert_close(RandomInvert()(x * 255, training=True), 255 - x * 255)
    stretched = AutoContrast(value_range=(0, 1))(x * 0.5 + 0.2)
    torch.testing.assert_close(stretched.amin(dim=(1, 2)), torch.zeros(2, 3))
    torch.testing.assert_close(stretched.amax(dim=(1, 2)), torch.ones(2, 3))
    assert AutoContrast.from_config(AutoContrast().get_config()).value_range == [0.0, 255.0]
