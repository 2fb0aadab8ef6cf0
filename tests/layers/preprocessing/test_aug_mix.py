"""AugMix: the mixing formula with fixed chains and weights, Keras's op list and strengths, the random draws'
distributions, identity at inference, seeds, layouts, config, errors."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import AugMix
from easynn.layers.preprocessing.augmentation import RandomRotation, RandomShear, RandomTranslation
from easynn.layers.preprocessing.color import AutoContrast, RandomBrightness, RandomContrast
from easynn.layers.preprocessing.enhance import (
    Equalization,
    RandomColorDegeneration,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_inference_is_identity_keras_test():
    layer = AugMix()
    inputs = torch.from_numpy(np.random.default_rng(3481).integers(0, 255, size=(224, 224, 3))).float()
    assert torch.equal(layer(inputs, training=False), inputs)
    assert torch.equal(layer(inputs), inputs)


def test_mixing_formula_with_fixed_chains_and_weights(monkeypatch):
    layer = AugMix(value_range=(0, 1), num_chains=3)
    auto, equalize = (next(op for op in layer.ops if isinstance(op, cls)) for cls in (AutoContrast, Equalization))
    weights, original = np.array([0.5, 0.3, 0.2]), 0.25
    monkeypatch.setattr(layer, "_mixing_weights", lambda: (weights, original))
    monkeypatch.setattr(layer, "_chains", lambda: [[auto], [], [auto, equalize]])
    x = torch.rand(2, 5, 6, 3) * 0.5 + 0.2  # channels_last
    nchw = x.permute(0, 3, 1, 2)
    chain_0 = auto(nchw)
    chain_2 = equalize(auto(nchw))
    expected = original * nchw + (1 - original) * (0.5 * chain_0 + 0.3 * nchw + 0.2 * chain_2)
    out = layer(x, training=True)
    torch.testing.assert_close(out, expected.clamp(0, 1).permute(0, 2, 3, 1))


def test_chain_depth_zero_returns_the_images():
    x = torch.rand(3, 6, 6, 3) * 255
    out = AugMix(chain_depth=0, seed=0)(x, training=True)
    torch.testing.assert_close(out, x, rtol=1e-5, atol=1e-4)  # sum of Dirichlet weights * x = x


def test_keras_op_list_and_strengths():
    layer = AugMix(factor=0.3, interpolation="nearest")
    kinds = [type(op) for op in layer.ops]
    assert kinds == [RandomShear, RandomTranslation, RandomRotation, RandomPosterization, Solarization, AutoContrast,
                     Equalization, RandomBrightness, RandomColorDegeneration, RandomContrast, RandomSharpness]
    assert len(AugMix(all_ops=False).ops) == 7
    rotation = layer.ops[2]
    assert rotation._range == (0.0, 0.3) and rotation.interpolation == "nearest"
    assert layer.ops[0]._x_range == layer.ops[0]._y_range == (0.0, 0.3)
    assert layer.ops[3]._bounds == (1, 2)  # RandomPosterization(max(1, int(8 * 0.3)))
    assert AugMix(factor=1.0).ops[3]._bounds == (1, 8)
    assert layer.ops[4].addition_factor == [0.0, 0.3]


def test_random_draws_follow_dirichlet_beta_and_uniform_picks():
    layer = AugMix(num_chains=4, alpha=1.0, seed=5)
    draws = [layer._mixing_weights() for _ in range(400)]
    chain_weights = np.stack([w for w, _ in draws])
    assert np.allclose(chain_weights.sum(axis=1), 1.0) and (chain_weights > 0).all()
    assert np.allclose(chain_weights.mean(axis=0), 0.25, atol=0.03)
    originals = np.array([m for _, m in draws])
    assert abs(originals.mean() - 0.5) < 0.04 and abs(originals.var() - 1 / 12) < 0.015  # Beta(1, 1) = U(0, 1)
    lengths = [len(chain) for _ in range(300) for chain in layer._chains()]
    # each of chain_depth=3 slots is an op with probability 11/12
    assert abs(np.mean(lengths) - 3 * 11 / 12) < 0.08


def test_training_changes_images_seeds_and_layouts():
    x = torch.rand(2, 8, 8, 3)
    out = AugMix(value_range=(0, 1), num_chains=11, seed=3)(x, training=True)
    assert not torch.allclose(out, x) and float(out.min()) >= 0 and float(out.max()) <= 1
    again = AugMix(value_range=(0, 1), num_chains=11, seed=3)(x, training=True)
    assert torch.equal(out, again)
    other = AugMix(value_range=(0, 1), num_chains=11, seed=4)(x, training=True)
    assert not torch.equal(out, other)
    first = AugMix(value_range=(0, 1), num_chains=11, seed=3, data_format="channels_first")
    torch.testing.assert_close(first(x.permute(0, 3, 1, 2), training=True).permute(0, 2, 3, 1), out)
    single = AugMix(value_range=(0, 1), seed=3)(x[0], training=True)
    assert single.shape == (8, 8, 3)
    ints = AugMix(seed=0)(torch.randint(0, 256, (2, 6, 6, 3), dtype=torch.uint8), training=True)
    assert ints.dtype == torch.float32 and float(ints.max()) <= 255


def test_config_round_trip_and_fit():
    layer = AugMix(value_range=(0, 1), num_chains=2, chain_depth=4, factor=[0.1, 0.5], alpha=0.5, all_ops=False,
                   interpolation="nearest", seed=7, name="augmix")
    config = layer.get_config()
    assert {k: config[k] for k in ("value_range", "num_chains", "chain_depth", "factor", "alpha", "all_ops",
                                   "interpolation", "seed")} == {
        "value_range": [0.0, 1.0], "num_chains": 2, "chain_depth": 4, "factor": [0.1, 0.5], "alpha": 0.5,
        "all_ops": False, "interpolation": "nearest", "seed": 7}
    clone = AugMix.from_config(config)
    assert clone.get_config() == config
    x = torch.rand(2, 6, 6, 3)
    torch.testing.assert_close(clone(x, training=True), layer(x, training=True))
    revived = easynn.layers.deserialize(easynn.layers.serialize(layer))
    assert isinstance(revived, AugMix) and revived.num_chains == 2
    model = easynn.Sequential([easynn.Input(shape=(6, 6, 3)), AugMix(value_range=(0, 1), seed=0),
                               easynn.layers.Flatten(), easynn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(torch.rand(8, 6, 6, 3), torch.rand(8, 1), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_chains"):
        AugMix(num_chains=0)
    with pytest.raises(ValueError, match="chain_depth"):
        AugMix(chain_depth=-1)
    with pytest.raises(ValueError, match="factor"):
        AugMix(factor=1.5)
    with pytest.raises(ValueError, match="factor"):
        AugMix(factor=(-0.2, 0.2))
    with pytest.raises(ValueError, match="alpha"):
        AugMix(alpha=0)
    with pytest.raises(ValueError, match="value_range"):
        AugMix(value_range=(1, 0))
    with pytest.raises(ValueError, match="interpolation"):
        AugMix(interpolation="bicubic")
    with pytest.raises(TypeError, match="all_ops"):
        AugMix(all_ops=1)
    with pytest.raises(ValueError, match="rank 4"):
        AugMix()(torch.rand(2, 2, 4, 4, 3), training=True)
