"""easynn.random: Keras's seed semantics, distributions' moments, SeedGenerator state in state_dict."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import easynn
from easynn import random
from easynn.utils import set_random_seed


def test_int_seed_is_a_fixed_draw_and_none_follows_set_random_seed():
    for fn in (lambda s: random.normal((4,), seed=s), lambda s: random.uniform((4,), seed=s),
               lambda s: random.truncated_normal((4,), seed=s), lambda s: random.randint((4,), 0, 100, seed=s)):
        torch.testing.assert_close(fn(3), fn(3))
        assert not torch.equal(fn(3), fn(4))
    set_random_seed(11)
    first = [random.normal((3,)), random.uniform((3,))]
    set_random_seed(11)
    second = [random.normal((3,)), random.uniform((3,))]
    for a, b in zip(first, second):
        torch.testing.assert_close(a, b)
    assert not torch.equal(first[0], random.normal((3,)))


def test_seed_generator_gives_a_reproducible_sequence():
    g1, g2 = random.SeedGenerator(5), random.SeedGenerator(5)
    a = [random.normal((3,), seed=g1) for _ in range(3)]
    b = [random.normal((3,), seed=g2) for _ in range(3)]
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y)
    assert not torch.equal(a[0], a[1])
    assert g1.state.tolist() == [5, 3]
    set_random_seed(2)
    unseeded = random.SeedGenerator()
    set_random_seed(2)
    assert random.SeedGenerator().initial_seed == unseeded.initial_seed


def test_seed_generator_state_is_saved_with_its_layer():
    class NoisyLayer(easynn.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = random.SeedGenerator(1)

        def call(self, inputs):
            return random.dropout(inputs, 0.5, seed=self.seed_generator)

    layer = NoisyLayer()
    layer(torch.ones(8))
    state = layer.state_dict()
    assert state["seed_generator.state"].tolist() == [1, 1]
    twin = NoisyLayer()
    twin.load_state_dict(state)
    torch.testing.assert_close(layer(torch.ones(8)), twin(torch.ones(8)))


def test_distribution_moments_and_ranges():
    n = 20000
    normal = random.normal((n,), mean=2.0, stddev=3.0, seed=0)
    assert abs(float(normal.mean()) - 2.0) < 0.1 and abs(float(normal.std()) - 3.0) < 0.1
    uniform = random.uniform((n,), minval=-1.0, maxval=3.0, seed=0)
    assert uniform.min() >= -1 and uniform.max() < 3 and abs(float(uniform.mean()) - 1.0) < 0.05
    truncated = random.truncated_normal((n,), mean=1.0, stddev=0.5, seed=0)
    assert truncated.min() >= 0.0 and truncated.max() <= 2.0
    # the normal truncated at +-2 sigma has std 0.8796 sigma
    assert abs(float(truncated.std()) - 0.8796 * 0.5) < 0.01
    ints = random.randint((n,), 3, 7, seed=0)
    assert ints.dtype == torch.int32 and set(ints.unique().tolist()) == {3, 4, 5, 6}
    gamma = random.gamma((n,), alpha=3.0, seed=0)
    assert abs(float(gamma.mean()) - 3.0) < 0.1 and abs(float(gamma.var()) - 3.0) < 0.2
    binomial = random.binomial((n,), counts=10, probabilities=0.3, seed=0)
    assert abs(float(binomial.mean()) - 3.0) < 0.05
    beta = random.beta((n,), alpha=2.0, beta=6.0, seed=0)
    assert abs(float(beta.mean()) - 0.25) < 0.01
    assert random.normal((2,), dtype="float64").dtype == torch.float64


def test_categorical_follows_the_logits():
    logits = torch.log(torch.tensor([[0.2, 0.8], [1.0, 1e-9]]))
    draws = random.categorical(logits, 4000, seed=0)
    assert draws.shape == (2, 4000) and draws.dtype == torch.int32
    assert abs(float(draws[0].float().mean()) - 0.8) < 0.03 and draws[1].sum() == 0
    with pytest.raises(ValueError, match="2-D"):
        random.categorical(torch.zeros(3), 1)


def test_dropout_rate_scale_and_noise_shape():
    x = torch.ones(400, 50)
    out = random.dropout(x, 0.25, seed=1)
    kept = out != 0
    assert abs(float(kept.float().mean()) - 0.75) < 0.02
    torch.testing.assert_close(out[kept], torch.full_like(out[kept], 1 / 0.75))
    shared = random.dropout(torch.ones(4, 10), 0.5, noise_shape=(None, 1), seed=2)
    assert all(len(set(row.tolist())) == 1 for row in shared)  # one decision per row
    assert random.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match="rate"):
        random.dropout(x, 1.5)


def test_shuffle_is_a_permutation_along_the_axis():
    x = torch.arange(12).reshape(3, 4)
    out = random.shuffle(x, axis=1, seed=3)
    assert sorted(out[0].tolist()) == [0, 1, 2, 3]
    np.testing.assert_array_equal(out.numpy() // 4, np.arange(3)[:, None].repeat(4, 1))  # rows stay rows
    np.testing.assert_array_equal(out.numpy() % 4, np.tile(out[0].numpy(), (3, 1)))  # one permutation for all


def test_bad_arguments():
    with pytest.raises(ValueError, match="seed"):
        random.normal((2,), seed="abc")
    with pytest.raises(ValueError, match="shape"):
        random.uniform((-1, 2))
    with pytest.raises(ValueError, match="minval"):
        random.randint((2,), 5, 5)
    with pytest.raises(ValueError, match="seed"):
        random.SeedGenerator(-1)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_inputs_get_cuda_samples_reproducibly():
    x = torch.ones(1000, device="cuda")
    first = random.dropout(x, 0.5, seed=3)
    assert first.is_cuda and torch.equal(first, random.dropout(x, 0.5, seed=3))
    assert random.shuffle(torch.arange(10, device="cuda"), seed=1).is_cuda
    assert random.categorical(torch.zeros(2, 3, device="cuda"), 4, seed=0).is_cuda
    layer_state = random.SeedGenerator(1).cuda()
    assert random.dropout(x, 0.5, seed=layer_state).is_cuda and layer_state.state.tolist() == [1, 1]
