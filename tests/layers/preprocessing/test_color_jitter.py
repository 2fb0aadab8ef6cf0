"""RandomHue, RandomSaturation, RandomColorJitter: HSV formulas against colorsys, draws, seeds, saving."""

import colorsys

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import (
    Dense,
    Flatten,
    RandomBrightness,
    RandomColorJitter,
    RandomContrast,
    RandomHue,
    RandomSaturation,
)
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _images(n=3, size=4):
    return torch.rand(n, size, size, 3, dtype=torch.float64) * 255


def _colorsys_map(x, fn):
    """Apply ``fn(h, s, v) -> (h, s, v)`` to every pixel of channels-last images in [0, 255] via colorsys."""
    out = np.empty_like(x.numpy())
    for index in np.ndindex(*x.shape[:-1]):
        h, s, v = colorsys.rgb_to_hsv(*(x[index].numpy() / 255.0))
        out[index] = np.array(colorsys.hsv_to_rgb(*fn(h, s, v))) * 255.0
    return torch.as_tensor(out)


MAKERS = [
    lambda seed=None, **kw: RandomHue(0.6, seed=seed, **kw),
    lambda seed=None, **kw: RandomSaturation(0.9, seed=seed, **kw),
    lambda seed=None, **kw: RandomColorJitter(
        brightness_factor=0.2, contrast_factor=0.3, saturation_factor=(0.2, 0.8), hue_factor=0.4, seed=seed, **kw
    ),
]


@pytest.mark.parametrize("make", MAKERS)
def test_identity_at_inference_per_sample_draws_seeds_and_config(make):
    x = (torch.rand(1, 4, 4, 3) * 255).repeat(8, 1, 1, 1)
    layer = make(seed=3)
    assert torch.equal(layer(x), x) and torch.equal(layer(x, training=False), x)
    out = check_layer(layer, x, x.shape, 0, training=True)
    assert len({tuple(np.round(o.flatten().numpy(), 3)) for o in out}) > 1, "one transformation per sample"
    torch.testing.assert_close(make(seed=3)(x, training=True), out)
    assert not torch.allclose(make(seed=4)(x, training=True), out)
    assert layer.get_config()["seed"] == 3
    assert float(out.min()) >= 0.0 and float(out.max()) <= 255.0


def test_factor_zero_and_neutral_factors_are_the_identity():
    x = _images()
    torch.testing.assert_close(RandomHue(0.0)(x, training=True), x)
    torch.testing.assert_close(RandomSaturation((0.5, 0.5))(x, training=True), x)
    torch.testing.assert_close(RandomColorJitter()(x, training=True), x)
    neutral = RandomColorJitter(
        brightness_factor=0.0, contrast_factor=0.0, saturation_factor=(0.5, 0.5), hue_factor=0.0
    )
    torch.testing.assert_close(neutral(x, training=True), x)


def test_hue_half_turn_matches_colorsys():
    # factor (1, 1): a shift of +-1/2 turn, the same either way.
    x = _images()
    expected = _colorsys_map(x, lambda h, s, v: ((h + 0.5) % 1.0, s, v))
    torch.testing.assert_close(RandomHue((1.0, 1.0))(x, training=True), expected)
    scaled = RandomHue((1.0, 1.0), value_range=(-1, 1))(x / 127.5 - 1, training=True)
    torch.testing.assert_close(scaled, expected / 127.5 - 1)


def test_hue_shift_is_plus_or_minus_half_the_factor():
    x = _images(n=12, size=2)
    out = RandomHue((0.2, 0.2), seed=1)(x, training=True)
    up = _colorsys_map(x, lambda h, s, v: ((h + 0.1) % 1.0, s, v))
    down = _colorsys_map(x, lambda h, s, v: ((h - 0.1) % 1.0, s, v))
    signs = set()
    for n in range(len(x)):
        is_up, is_down = torch.allclose(out[n], up[n]), torch.allclose(out[n], down[n])
        assert is_up != is_down  # exactly one of the two shifts
        signs.add(is_up)
    assert signs == {True, False}


def test_saturation_zero_is_grayscale_and_scaling_matches_colorsys():
    x = _images()
    gray = RandomSaturation((0.0, 0.0))(x, training=True)
    torch.testing.assert_close(gray, x.amax(dim=-1, keepdim=True).expand_as(x))  # HSV: R = G = B = V
    # f = 0.75: s' = min(3 s, 1).
    expected = _colorsys_map(x, lambda h, s, v: (h, min(3 * s, 1.0), v))
    torch.testing.assert_close(RandomSaturation((0.75, 0.75))(x, training=True), expected)
    full = RandomSaturation((1.0, 1.0))(x, training=True)
    torch.testing.assert_close(full.amin(dim=-1), torch.zeros(x.shape[:-1], dtype=x.dtype), atol=1e-6, rtol=0)


def test_jitter_is_the_chain_of_its_steps_each_with_its_own_seed():
    x = torch.rand(4, 5, 5, 3) * 255
    jitter = RandomColorJitter(brightness_factor=0.3, contrast_factor=0.4, seed=5)
    expected = RandomContrast(0.4, seed=7)(RandomBrightness(0.3, seed=6)(x, training=True), training=True)
    torch.testing.assert_close(jitter(x, training=True), expected)
    config = RandomColorJitter(hue_factor=(0.1, 0.2), value_range=(0, 1)).get_config()
    assert config["hue_factor"] == [0.1, 0.2] and config["brightness_factor"] is None
    assert config["value_range"] == [0.0, 1.0]


def test_channels_first_unbatched_and_half_precision():
    x = torch.rand(2, 4, 4, 3) * 255
    for make in MAKERS:
        last = make(seed=2)(x, training=True)
        first = make(seed=2, data_format="channels_first")(x.permute(0, 3, 1, 2), training=True)
        torch.testing.assert_close(first.permute(0, 2, 3, 1), last)
        assert make(seed=2)(x[0], training=True).shape == (4, 4, 3)
        for dtype, tol in ((torch.float16, 0.5), (torch.bfloat16, 3.0)):
            low = make(seed=2)(x.to(dtype), training=True)
            assert low.dtype == dtype
            torch.testing.assert_close(
                low.float(), make(seed=2)(x.to(dtype).float(), training=True), atol=tol, rtol=0.02
            )
    first = RandomHue((1.0, 1.0), data_format="channels_first")(x.permute(0, 3, 1, 2), training=True)
    torch.testing.assert_close(first.permute(0, 2, 3, 1), RandomHue((1.0, 1.0))(x, training=True))


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="factor"):
        RandomHue(1.5)
    with pytest.raises(ValueError, match="factor"):
        RandomSaturation((-0.1, 0.5))
    with pytest.raises(ValueError, match="factor"):
        RandomHue("a")
    with pytest.raises(ValueError, match="value_range"):
        RandomSaturation(0.5, value_range=(1, 0))
    with pytest.raises(ValueError, match="hue_factor"):
        RandomColorJitter(hue_factor=2.0)
    with pytest.raises(ValueError, match="brightness_factor"):
        RandomColorJitter(brightness_factor=(0.0, 3.0))
    with pytest.raises(ValueError, match="3 channels"):
        RandomHue(0.5)(torch.zeros(1, 2, 2, 1), training=True)


def test_in_a_model_that_saves_and_loads(tmp_path):
    model = easynn.Sequential(
        [
            easynn.Input(shape=(4, 4, 3)),
            RandomColorJitter(brightness_factor=0.1, saturation_factor=0.6, hue_factor=0.1, seed=1),
            RandomHue(0.2, seed=2),
            RandomSaturation((0.3, 0.7), seed=3),
            Flatten(),
            Dense(2),
        ]
    )
    x = np.random.default_rng(0).random((6, 4, 4, 3)).astype("float32") * 255
    model.save(tmp_path / "hsv.keras")
    restored = easynn.models.load_model(tmp_path / "hsv.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    assert [type(layer).__name__ for layer in restored.layers][:3] == [
        "RandomColorJitter",
        "RandomHue",
        "RandomSaturation",
    ]
    assert restored.layers[0].get_config()["saturation_factor"] == 0.6


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("make", MAKERS)
def test_cuda_matches_cpu_for_the_same_seed(make):
    x = torch.rand(4, 5, 5, 3) * 255
    cpu = make(seed=5)(x, training=True)
    gpu = make(seed=5)(x.cuda(), training=True)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-4, atol=1e-3)
