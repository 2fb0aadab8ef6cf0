"""RandomGaussianBlur, RandomPerspective, RandomElasticTransform: oracles, draws, seeds, layouts, saving."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import easynn
from easynn.layers import Dense, Flatten, RandomElasticTransform, RandomGaussianBlur, RandomPerspective
from easynn.layers.preprocessing.geometric import homographies
from easynn.ops import image as image_ops
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


MAKERS = [
    lambda seed=None, **kw: RandomGaussianBlur(factor=(0.6, 1.0), kernel_size=5, sigma=(0.5, 2.0), seed=seed, **kw),
    lambda seed=None, **kw: RandomPerspective(scale=0.6, seed=seed, **kw),
    lambda seed=None, **kw: RandomElasticTransform(scale=(0.5, 1.0), seed=seed, **kw),
]


@pytest.mark.parametrize("make", MAKERS)
def test_identity_at_inference_per_sample_draws_seeds_and_config(make):
    x = (torch.rand(1, 12, 12, 2) * 255).repeat(8, 1, 1, 1)
    layer = make(seed=3)
    assert torch.equal(layer(x), x)
    out = check_layer(layer, x, x.shape, 0, training=True)
    assert len({tuple(np.round(o.flatten().numpy(), 3)) for o in out}) > 1, "one transformation per sample"
    torch.testing.assert_close(make(seed=3)(x, training=True), out)
    assert not torch.allclose(make(seed=4)(x, training=True), out)
    assert layer.get_config()["seed"] == 3
    assert float(out.min()) >= 0.0 and float(out.max()) <= 255.0


@pytest.mark.parametrize("make", MAKERS)
def test_channels_first_unbatched_and_half_precision(make):
    x = torch.rand(3, 10, 10, 3) * 255
    last = make(seed=2)(x, training=True)
    first = make(seed=2, data_format="channels_first")(x.permute(0, 3, 1, 2), training=True)
    torch.testing.assert_close(first.permute(0, 2, 3, 1), last)
    assert make(seed=2)(x[0], training=True).shape == (10, 10, 3)
    for dtype in (torch.float16, torch.bfloat16):
        low = make(seed=2)(x.to(dtype), training=True)
        assert low.dtype == dtype and low.shape == x.shape
        reference = make(seed=2)(x.to(dtype).float(), training=True)
        # Bilinear weights in float32 against the half-precision result: a few units of the 8-bit range.
        assert float((low.float() - reference).abs().mean()) < 1.0


def test_zero_factor_and_zero_scale_are_the_identity():
    x = torch.rand(2, 6, 7, 3) * 255
    for layer in (
        RandomGaussianBlur(0.0),
        RandomPerspective(0.0),
        RandomElasticTransform(0.0),
        RandomElasticTransform(scale=0.0),
    ):
        assert torch.equal(layer(x, training=True), x)
    torch.testing.assert_close(RandomPerspective((1.0, 1.0), scale=0.0)(x, training=True), x, rtol=0, atol=1e-3)


def _gaussian_2d(kh, kw, sigma_y, sigma_x):
    def one(size, sigma):
        t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
        k = torch.exp(-(t**2) / (2 * sigma**2))
        return k / k.sum()

    return torch.outer(one(kh, sigma_y), one(kw, sigma_x))


@pytest.mark.parametrize("kernel_size", [3, (3, 5)])
def test_blur_equals_conv_with_a_hand_built_gaussian(kernel_size):
    x = torch.rand(2, 7, 9, 3, dtype=torch.float64) * 255
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    kernel = _gaussian_2d(kh, kw, 1.5, 1.5).expand(3, 1, kh, kw)
    expected = F.conv2d(x.permute(0, 3, 1, 2), kernel, padding=(kh // 2, kw // 2), groups=3).permute(0, 2, 3, 1)
    out = RandomGaussianBlur((1.0, 1.0), kernel_size=kernel_size, sigma=(1.5, 1.5))(x, training=True)
    torch.testing.assert_close(out, expected.clamp(0, 255), rtol=1e-5, atol=1e-4)
    # Each image its own sigmas: the blur of image i equals the hand-built one for some sigma in range.
    varied = RandomGaussianBlur((1.0, 1.0), sigma=(0.3, 3.0), seed=0)(x[:1].repeat(6, 1, 1, 1), training=True)
    assert len({round(float(v.sum()), 3) for v in varied}) > 1


def test_blur_factor_is_a_probability():
    x = torch.rand(400, 3, 3, 1) * 255
    out = RandomGaussianBlur((0.25, 0.25), seed=1)(x, training=True)
    blurred = (out != x).flatten(1).any(dim=1).float().mean()
    assert 0.15 < float(blurred) < 0.35


def test_homographies_map_the_moved_corners_back():
    start = torch.tensor([[[0.0, 0.0], [9.0, 0.0], [0.0, 7.0], [9.0, 7.0]]])
    end = torch.tensor([[[0.5, -1.0], [8.0, 1.0], [1.0, 8.0], [10.0, 6.5]]])
    h = homographies(start, end)[0]
    ends = torch.cat([end[0].double(), torch.ones(4, 1, dtype=torch.float64)], dim=1)
    mapped = ends @ h.T
    torch.testing.assert_close(mapped[:, :2] / mapped[:, 2:], start[0].double())


def test_perspective_matches_ops_affine_transform_with_the_same_corners():
    # Replay the layer's draws (probability, threshold, corner offsets) from its seed, build the
    # projective transform, and compare with easynn.ops.image.affine_transform (a separate code path).
    n, height, width, seed, scale = 3, 9, 11, 7, 0.4
    x = torch.rand(n, height, width, 2) * 255
    out = RandomPerspective((1.0, 1.0), scale=scale, fill_value=17.0, seed=seed)(x, training=True)
    generator = torch.Generator().manual_seed(seed)
    torch.rand((n,), generator=generator), torch.rand((n,), generator=generator)
    offsets = -0.5 * scale + scale * torch.rand((n, 4, 2), generator=generator)
    start = torch.tensor([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]]).expand(n, 4, 2)
    h = homographies(start, start * (1 + offsets)).reshape(n, 9)[:, :8]
    expected = image_ops.affine_transform(x, h.float(), fill_mode="constant", fill_value=17.0)
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-3)
    assert not torch.allclose(out, x)


def test_elastic_keeps_constant_images_and_nearest_reads_input_pixels():
    flat = torch.full((2, 16, 16, 3), 80.0)
    torch.testing.assert_close(RandomElasticTransform(seed=0)(flat, training=True), flat)
    x = torch.randint(0, 255, (2, 16, 16, 1)).float()
    out = RandomElasticTransform((1.0, 1.0), interpolation="nearest", seed=0)(x, training=True)
    assert set(out.unique().tolist()) <= set(x.unique().tolist()) and not torch.equal(out, x)
    # The displacement is smooth: neighbouring output pixels mostly read neighbouring input pixels.
    ramp = torch.arange(32.0).repeat(32, 1)[None, :, :, None].expand(2, 32, 32, 1).contiguous()
    warped = RandomElasticTransform((1.0, 1.0), fill_mode="nearest", value_range=(0, 31), seed=0)(ramp, training=True)
    steps = (warped[:, :, 1:] - warped[:, :, :-1]).abs()
    assert float(steps.mean()) < 2.0 and float((warped - ramp).abs().max()) > 0.1


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="factor"):
        RandomGaussianBlur(factor=1.5)
    with pytest.raises(ValueError, match="kernel_size"):
        RandomGaussianBlur(kernel_size=4)
    with pytest.raises(ValueError, match="kernel_size"):
        RandomGaussianBlur(kernel_size=(3, 0))
    with pytest.raises(ValueError, match="sigma"):
        RandomGaussianBlur(sigma=-1.0)
    with pytest.raises(ValueError, match="value_range"):
        RandomGaussianBlur(value_range=(5, 5))
    with pytest.raises(ValueError, match="factor"):
        RandomPerspective(factor=(0.2, 1.2))
    with pytest.raises(ValueError, match="scale"):
        RandomPerspective(scale=1.5)
    with pytest.raises(ValueError, match="interpolation"):
        RandomPerspective(interpolation="bicubic")
    with pytest.raises(ValueError, match="scale"):
        RandomElasticTransform(scale=2.0)
    with pytest.raises(ValueError, match="fill_mode"):
        RandomElasticTransform(fill_mode="mirror!")
    with pytest.raises(ValueError, match="rank 4"):
        RandomPerspective()(torch.zeros(2, 3), training=True)


def test_in_a_model_that_saves_and_loads(tmp_path):
    model = easynn.Sequential(
        [
            easynn.Input(shape=(8, 8, 1)),
            RandomGaussianBlur(kernel_size=(3, 5), sigma=(0.5, 1.5), seed=1),
            RandomPerspective(scale=0.3, interpolation="nearest", seed=2),
            RandomElasticTransform(factor=0.5, scale=(0.2, 0.6), fill_mode="constant", fill_value=3.0, seed=3),
            Flatten(),
            Dense(1),
        ]
    )
    x = np.random.default_rng(0).random((5, 8, 8, 1)).astype("float32") * 255
    model.save(tmp_path / "geo.keras")
    restored = easynn.models.load_model(tmp_path / "geo.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-4)
    configs = [layer.get_config() for layer in restored.layers[:3]]
    assert configs[0]["kernel_size"] == [3, 5] and configs[0]["sigma"] == [0.5, 1.5]
    assert configs[1]["interpolation"] == "nearest" and math.isclose(configs[1]["scale"], 0.3)
    assert configs[2]["fill_mode"] == "constant" and configs[2]["scale"] == [0.2, 0.6]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("make", MAKERS)
def test_cuda_matches_cpu_for_the_same_seed(make):
    # Draws (and the perspective solve) happen on the CPU from the layer's generator.
    x = torch.rand(4, 10, 10, 3) * 255
    cpu = make(seed=5)(x, training=True)
    gpu = make(seed=5)(x.cuda(), training=True)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-3, atol=1e-2)
