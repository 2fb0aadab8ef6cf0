"""RandomSharpness, Solarization, RandomPosterization, RandomColorDegeneration: formulas and draws."""

import pytest
import torch
import torch.nn.functional as F

from easynn.layers import (
    Equalization,
    RandomColorDegeneration,
    RandomErasing,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_sharpness_blend_with_the_smoothing_kernel():
    x = torch.rand(3, 5, 5, 2) * 255
    kernel = torch.tensor([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]]) / 13
    blurred = F.conv2d(x.permute(0, 3, 1, 2), kernel.expand(2, 1, 3, 3), padding=1, groups=2).permute(0, 2, 3, 1)
    torch.testing.assert_close(RandomSharpness((0.0, 0.0))(x, training=True), blurred.clamp(0, 255))
    torch.testing.assert_close(RandomSharpness((0.5, 0.5))(x, training=True), x)
    sharp = RandomSharpness((1.0, 1.0))(x, training=True)
    torch.testing.assert_close(sharp, (2 * x - blurred).clamp(0, 255))
    varied = RandomSharpness(1.0, seed=3)(x[:1].repeat(8, 1, 1, 1), training=True)
    assert len({round(float(v.sum()), 2) for v in varied}) > 1
    assert torch.equal(RandomSharpness(1.0)(x), x)
    with pytest.raises(ValueError, match="factor"):
        RandomSharpness(1.5)


def test_solarization_keras_example_and_threshold():
    x = torch.tensor([[[[59.0, 62.0, 63.0]]]])
    torch.testing.assert_close(Solarization()(x, training=True), torch.tensor([[[[196.0, 193.0, 192.0]]]]))
    y = Solarization(threshold_factor=(0.5, 0.5))(torch.tensor([[[[100.0, 200.0]]]]), training=True)
    torch.testing.assert_close(y, torch.tensor([[[[100.0, 55.0]]]]))
    added = Solarization(addition_factor=(0.1, 0.1), threshold_factor=(1.0, 1.0))(torch.tensor([[[[100.0]]]]),
                                                                                    training=True)
    torch.testing.assert_close(added, torch.tensor([[[[125.5]]]]))
    config = Solarization(addition_factor=0.2, seed=1).get_config()
    assert config["addition_factor"] == [0.0, 0.2] and Solarization.from_config(config).get_config() == config


def test_posterization_bits():
    x = torch.tensor([[[[200.0, 100.0, 3.0]]]])
    torch.testing.assert_close(RandomPosterization((2, 2))(x, training=True), torch.tensor([[[[192.0, 64.0, 0.0]]]]))
    torch.testing.assert_close(RandomPosterization((8, 8))(x, training=True), x)
    scaled = RandomPosterization((1, 1), value_range=(0, 1))(torch.tensor([[[[0.9, 0.3]]]]), training=True)
    torch.testing.assert_close(scaled, torch.tensor([[[[128 / 255, 0.0]]]]))
    many = RandomPosterization(8, seed=0)(torch.full((32, 1, 1, 1), 255.0), training=True).flatten()
    assert set(many.tolist()) <= {256 - 2 ** (8 - b) for b in range(1, 8)} and len(set(many.tolist())) > 1
    with pytest.raises(ValueError, match="factor"):
        RandomPosterization(9)


def test_color_degeneration():
    x = torch.rand(2, 3, 3, 3) * 255
    gray = (x * torch.tensor([0.2989, 0.5870, 0.1140])).sum(-1, keepdim=True)
    torch.testing.assert_close(RandomColorDegeneration((1.0, 1.0))(x, training=True), gray.expand_as(x))
    torch.testing.assert_close(RandomColorDegeneration((0.0, 0.0))(x, training=True), x)
    half = RandomColorDegeneration((0.5, 0.5), data_format="channels_first")(x.permute(0, 3, 1, 2), training=True)
    torch.testing.assert_close(half, (0.5 * x + 0.5 * gray).permute(0, 3, 1, 2))


def test_equalization_matches_pil():
    image_ops = pytest.importorskip("PIL.ImageOps")
    import numpy as np
    from PIL import Image

    pixels = (np.random.default_rng(0).random((2, 6, 7, 3)) * 200).astype("uint8")
    out = Equalization()(torch.as_tensor(pixels))
    for n in range(2):
        for c in range(3):
            expected = np.asarray(image_ops.equalize(Image.fromarray(pixels[n, :, :, c])))
            np.testing.assert_array_equal(out[n, :, :, c].numpy(), expected.astype("float32"))
    scaled = Equalization(value_range=(0, 1))(torch.as_tensor(pixels) / 255.0)
    torch.testing.assert_close(scaled * 255, out, rtol=1e-4, atol=1e-3)
    flat = torch.full((1, 4, 4, 1), 7.0)
    torch.testing.assert_close(Equalization()(flat), flat)  # one value: nothing to spread


def test_random_erasing_patches():
    x = torch.full((16, 8, 8, 3), 100.0)
    out = RandomErasing((1.0, 1.0), scale=(0.25, 0.25), fill_value=(1.0, 2.0, 3.0), seed=0)(x, training=True)
    for image in out:
        erased = (image != 100.0).all(dim=-1)  # every channel of an erased pixel changes
        assert int(erased.sum()) == 16  # sqrt(0.25) * 8 = 4 rows and 4 columns
        torch.testing.assert_close(image[erased], torch.tensor([1.0, 2.0, 3.0]).expand(int(erased.sum()), 3))
    never = RandomErasing(factor=0.0, seed=0)(x, training=True)
    torch.testing.assert_close(never, x)
    sometimes = RandomErasing(seed=2)(x, training=True)  # p ~ uniform(0, 1): about half the images
    assert 0 < int((sometimes != 100.0).flatten(1).any(dim=1).sum()) < 16
    noisy = RandomErasing((1.0, 1.0), scale=(0.5, 0.5), value_range=(0, 1), seed=1)(torch.full((4, 8, 8, 1), 0.5), training=True)
    assert noisy.min() >= 0 and noisy.max() <= 1 and (noisy != 0.5).any()
    assert torch.equal(RandomErasing()(x), x)
    with pytest.raises(ValueError, match="fill_value"):
        RandomErasing(fill_value="gray")
