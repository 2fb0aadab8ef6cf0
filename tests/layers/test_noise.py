"""Spatial/Gaussian/alpha dropout, GaussianNoise and ActivityRegularization against hand-computed values."""

import math

import numpy as np
import pytest
import torch

import easynn
from easynn import random as easynn_random
from easynn.layers import Dense, Input
from easynn.layers.activity_regularization import ActivityRegularization
from easynn.layers.noise import (
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from tests.layers.layer_checks import check_layer

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: SpatialDropout1D(0.3, seed=1), (2, 5, 4)),
        (lambda: SpatialDropout2D(0.3, data_format="channels_first"), (2, 3, 4, 4)),
        (lambda: SpatialDropout3D(0.3, seed=2), (2, 2, 3, 2, 4)),
        (lambda: GaussianNoise(0.5, seed=3), (2, 6)),
        (lambda: GaussianDropout(0.4), (2, 6)),
        (lambda: AlphaDropout(0.1, noise_shape=(None, 1), seed=4), (2, 6)),
        (lambda: ActivityRegularization(l1=0.1, l2=0.2), (2, 6)),
    ],
)
def test_shape_no_params_config(make, shape):
    layer = make()
    x = torch.randn(shape)
    out = check_layer(layer, x, shape, 0, training=False)
    assert out is x  # the identity outside training, not even a copy


@pytest.mark.parametrize(
    "layer",
    [SpatialDropout2D(0.5), GaussianNoise(1.0), GaussianDropout(0.5), AlphaDropout(0.5)],
    ids=lambda layer: type(layer).__name__,
)
def test_identity_unless_training(layer):
    x = torch.randn(3, 4, 4, 2)
    assert torch.equal(layer(x), x)  # called outside fit: inference mode, as in Keras
    assert torch.equal(layer(x, training=False), x)
    assert not torch.equal(layer(x, training=True), x)
    layer.train()  # torch's mode switch (what fit does) makes training=None mean True
    assert not torch.equal(layer(x), x)


@pytest.mark.parametrize(
    "cls, shape, data_format, map_axes",
    [
        (SpatialDropout1D, (64, 5, 16), None, (1,)),
        (SpatialDropout2D, (32, 3, 4, 16), "channels_last", (1, 2)),
        (SpatialDropout2D, (32, 16, 3, 4), "channels_first", (2, 3)),
        (SpatialDropout3D, (16, 2, 3, 2, 16), None, (1, 2, 3)),
        (SpatialDropout3D, (16, 16, 2, 3, 2), "channels_first", (2, 3, 4)),
    ],
)
def test_spatial_dropout_zeroes_whole_feature_maps(cls, shape, data_format, map_axes):
    rate = 0.25
    layer = cls(rate, seed=7) if data_format is None else cls(rate, data_format=data_format, seed=7)
    x = torch.rand(shape) + 0.5  # no zeros in the input
    y = layer(x, training=True)
    ratio = y / x
    # One factor per (sample, channel): constant over the map's axes, and either 0 or 1 / (1 - rate).
    factor = ratio.amax(dim=map_axes, keepdim=True)
    torch.testing.assert_close(ratio, factor.expand_as(ratio))
    values = set(np.round(factor.flatten().double().numpy(), 5).tolist())
    assert values <= {0.0, round(1 / (1 - rate), 5)} and len(values) == 2
    dropped = float((factor == 0).float().mean())
    assert abs(dropped - rate) < 0.08, dropped  # 1024 channel draws: 4 sigma is 0.054


def test_seed_gives_a_reproducible_stream_and_none_follows_torch_seed():
    x = torch.ones(8, 3, 32)
    a, b = SpatialDropout1D(0.5, seed=11), SpatialDropout1D(0.5, seed=11)
    first = a(x, training=True)
    assert torch.equal(first, b(x, training=True))
    second = a(x, training=True)
    assert torch.equal(second, b(x, training=True))
    assert not torch.equal(first, second)  # the stream advances call after call
    assert not torch.equal(first, SpatialDropout1D(0.5, seed=12)(x, training=True))
    # Rebuilt from its config, a layer replays the same stream.
    assert torch.equal(SpatialDropout1D.from_config(a.get_config())(x, training=True), first)
    # seed=None draws from torch's global generator (Dropout's behaviour): torch.manual_seed rules.
    unseeded = GaussianNoise(1.0)
    torch.manual_seed(5)
    n1 = unseeded(x, training=True)
    torch.manual_seed(5)
    assert torch.equal(unseeded(x, training=True), n1)


def test_gaussian_noise_is_the_seed_streams_normal_draw():
    layer = GaussianNoise(0.3, seed=21)
    x = torch.randn(4, 5)
    y = layer(x, training=True)
    # By hand: the layer's seed stream gives the generator seed of each call (easynn.random).
    stream = easynn_random.SeedGenerator(21)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(stream.next()))
    torch.testing.assert_close(y, x + 0.3 * noise)


def test_gaussian_noise_statistics():
    x = torch.full((200_000,), 2.0)
    y = GaussianNoise(0.7, seed=0)(x, training=True)
    noise = (y - x).double()
    assert abs(float(noise.mean())) < 0.01  # standard error 0.7 / sqrt(2e5) = 0.0016
    assert abs(float(noise.std()) - 0.7) < 0.01


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_gaussian_dropout_preserves_the_mean_with_dropouts_variance(rate):
    x = torch.full((200_000,), 3.0)
    y = GaussianDropout(rate, seed=1)(x, training=True).double()
    stddev = 3.0 * math.sqrt(rate / (1 - rate))  # inverted dropout's multiplier has this std
    assert abs(float(y.mean()) - 3.0) < 5 * stddev / math.sqrt(x.numel())
    assert abs(float(y.std()) - stddev) < 0.01 * stddev * 5


def test_gaussian_dropout_matches_formula():
    layer = GaussianDropout(0.3, seed=2)
    x = torch.randn(3, 4)
    stream = easynn_random.SeedGenerator(2)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(stream.next()))
    torch.testing.assert_close(layer(x, training=True), x * (1 + math.sqrt(0.3 / 0.7) * noise))


def test_alpha_dropout_values_and_self_normalization():
    rate = 0.2
    x = torch.randn(200_000, generator=torch.Generator().manual_seed(3))
    y = AlphaDropout(rate, seed=0)(x, training=True)
    sat = -SELU_ALPHA * SELU_SCALE
    a = ((1 - rate) * (1 + rate * sat**2)) ** -0.5
    b = -a * sat * rate
    dropped = torch.isclose(y, torch.tensor(a * sat + b))
    # Every entry is either the affine image of the input or the image of the saturation value.
    torch.testing.assert_close(y[~dropped], a * x[~dropped] + b)
    assert abs(float(dropped.float().mean()) - rate) < 0.01
    assert abs(float(y.mean())) < 0.02 and abs(float(y.var()) - 1) < 0.02  # the inputs' 0 and 1


def test_alpha_dropout_noise_shape_shares_the_mask():
    layer = AlphaDropout(0.5, noise_shape=(None, 1, None), seed=1)
    x = torch.zeros(16, 6, 8)  # zero inputs: the output depends on the mask only
    y = layer(x, training=True)
    assert torch.equal(y, y[:, :1, :].expand_as(y))
    assert len(set(y.flatten().tolist())) == 2
    with pytest.raises(ValueError, match="noise_shape"):
        AlphaDropout(0.5, noise_shape=(None, 3, None))(x, training=True)
    with pytest.raises(ValueError, match="noise_shape"):
        AlphaDropout(0.5, noise_shape=(None, 0))


def test_activity_regularization_penalty_per_batch():
    layer = ActivityRegularization(l1=0.01, l2=0.1)
    x = torch.randn(4, 3, requires_grad=True)
    out = layer(x)
    assert out is x
    expected = (0.01 * x.abs().sum() + 0.1 * x.square().sum()) / 4  # Keras 3 divides by the batch
    assert len(layer.losses) == 1
    torch.testing.assert_close(layer.losses[0], expected)
    layer.losses[0].backward()
    torch.testing.assert_close(x.grad, (0.01 * x.sign() + 0.2 * x).detach() / 4)
    layer(torch.zeros(2, 3))  # the next call replaces the term
    assert float(sum(layer.losses)) == 0.0
    config = layer.get_config()
    assert config["l1"] == 0.01 and config["l2"] == 0.1 and "activity_regularizer" not in config
    assert ActivityRegularization.from_config(config).activity_regularizer.get_config() == {"l1": 0.01, "l2": 0.1}


def test_activity_regularization_joins_the_training_loss():
    model = easynn.Sequential([Input(shape=(3,)), Dense(2, kernel_initializer="ones"), ActivityRegularization(l2=1.0)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = torch.ones(4, 3), torch.zeros(4, 2)
    # mse = mean(3^2) = 9; the penalty is 1.0 * sum(out^2) / batch = 4 * 2 * 9 / 4 = 18.
    assert model.evaluate(x, y, verbose=0) == pytest.approx(27.0)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: SpatialDropout1D(1.0), "rate"),
        (lambda: SpatialDropout2D(-0.1), "rate"),
        (lambda: SpatialDropout3D("0.5"), "rate"),
        (lambda: GaussianDropout(1), "rate"),
        (lambda: AlphaDropout(1.5), "rate"),
        (lambda: GaussianNoise(-1.0), "stddev"),
        (lambda: GaussianNoise(0.1, seed=-3), "seed"),
        (lambda: SpatialDropout2D(0.1, data_format="nhwc"), "data_format"),
        (lambda: ActivityRegularization(l1=-1.0), "l1"),
    ],
)
def test_bad_arguments_name_the_argument(make, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        make()


def test_wrong_rank_and_activity_regularizer_argument():
    with pytest.raises(ValueError, match="rank 4"):
        SpatialDropout2D(0.5)(torch.ones(2, 3, 4))
    layer = SpatialDropout1D(0.5)
    layer(torch.ones(2, 3, 4))
    with pytest.raises(ValueError, match="rank 3"):
        layer(torch.ones(2, 3, 4, 5), training=True)
    with pytest.raises(TypeError, match="activity_regularizer"):
        ActivityRegularization(l1=0.1, activity_regularizer="l2")


def test_seed_generator_is_not_a_weight_and_stays_on_cpu():
    layer = GaussianNoise(0.1, seed=0)
    layer(torch.ones(2, 2), training=True)
    assert layer.weights == [] and dict(layer.state_dict()) == {} and list(layer.children()) == []
    assert layer.seed_generator.state.device.type == "cpu"


def test_save_and_load_in_a_sequential(tmp_path):
    model = easynn.Sequential(
        [
            Input(shape=(4, 6)),
            SpatialDropout1D(0.2, seed=1),
            GaussianNoise(0.1, seed=2),
            GaussianDropout(0.1),
            AlphaDropout(0.1, noise_shape=(None, 1, None), seed=3),
            ActivityRegularization(l1=0.01),
            Dense(2),
        ]
    )
    x = torch.randn(5, 4, 6)
    model.save(tmp_path / "noise.keras")
    restored = easynn.models.load_model(tmp_path / "noise.keras")
    assert [type(layer).__name__ for layer in restored.layers] == [type(layer).__name__ for layer in model.layers]
    for old, new in zip(model.layers, restored.layers):
        assert new.get_config() == old.get_config()
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    assert easynn.layers.deserialize(easynn.layers.serialize(model.layers[3])).noise_shape == [None, 1, None]


def test_gradients_flow_through_the_kept_units():
    x = torch.randn(4, 3, 8, requires_grad=True)
    y = SpatialDropout1D(0.5, seed=0)(x, training=True)
    y.sum().backward()
    torch.testing.assert_close(x.grad, (y / x).detach())  # d(x * m / (1 - rate)) / dx


@requires_cuda
@pytest.mark.cuda
def test_cuda_draws_on_the_device():
    x = torch.ones(4, 3, 8, device="cuda")
    for layer in (SpatialDropout1D(0.5, seed=0), GaussianNoise(0.5, seed=0), GaussianDropout(0.5), AlphaDropout(0.5)):
        y = layer(x, training=True)
        assert y.device.type == "cuda" and not torch.equal(y, x)
    assert torch.equal(SpatialDropout1D(0.5, seed=4)(x, training=True), SpatialDropout1D(0.5, seed=4)(x, training=True))
