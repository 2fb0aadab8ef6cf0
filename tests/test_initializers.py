"""easynn.initializers: Keras 3's names (classes, snake_case aliases, IdentityInitializer /
OrthogonalInitializer), get/serialize/deserialize, and the distributions they draw from."""

from __future__ import annotations

import math

import pytest
import torch

from easynn import initializers as I

ALIASES = {
    "constant": I.Constant,
    "zeros": I.Zeros,
    "ones": I.Ones,
    "random_normal": I.RandomNormal,
    "random_uniform": I.RandomUniform,
    "truncated_normal": I.TruncatedNormal,
    "variance_scaling": I.VarianceScaling,
    "glorot_normal": I.GlorotNormal,
    "glorot_uniform": I.GlorotUniform,
    "he_normal": I.HeNormal,
    "he_uniform": I.HeUniform,
    "lecun_normal": I.LecunNormal,
    "lecun_uniform": I.LecunUniform,
    "orthogonal": I.Orthogonal,
    "identity": I.Identity,
}


@pytest.mark.parametrize("name", list(ALIASES))
def test_snake_case_aliases_are_the_classes_and_names_resolve(name):
    cls = ALIASES[name]
    assert getattr(I, name) is cls  # keras.initializers.glorot_uniform is the class GlorotUniform
    assert type(I.get(name)) is cls and type(I.get(name.upper())) is cls
    assert type(I.get(cls.__name__)) is cls
    assert type(I.get(cls)) is cls  # a class is instantiated with its defaults, as in Keras


def test_keras_class_names_of_identity_and_orthogonal():
    assert I.IdentityInitializer is I.Identity and I.OrthogonalInitializer is I.Orthogonal
    # Keras 3 saves these under their class names IdentityInitializer / OrthogonalInitializer.
    ortho = I.get({"class_name": "OrthogonalInitializer", "config": {"gain": 2.0, "seed": 3}})
    assert isinstance(ortho, I.Orthogonal) and ortho.gain == 2.0 and ortho.seed == 3
    assert I.get({"class_name": "IdentityInitializer", "config": {"gain": 0.5}})((2, 2)).tolist() == [
        [0.5, 0.0],
        [0.0, 0.5],
    ]
    assert type(I.get("IdentityInitializer")) is I.Identity


@pytest.mark.parametrize(
    "init",
    [
        I.Constant(0.3),
        I.RandomNormal(0.1, 0.2, seed=1),
        I.RandomUniform(-1.0, 2.0, seed=2),
        I.TruncatedNormal(seed=3),
        I.VarianceScaling(2.0, "fan_out", "uniform", seed=4),
        I.GlorotNormal(seed=5),
        I.HeUniform(),
        I.Orthogonal(1.5, 6),
        I.Identity(2.0),
        I.Zeros(),
    ],
    ids=lambda init: type(init).__name__,
)
def test_serialize_deserialize_round_trip(init):
    restored = I.deserialize(I.serialize(init))
    assert type(restored) is type(init) and restored.get_config() == init.get_config()
    if getattr(init, "seed", None) is not None:  # same seed, same draw
        assert torch.equal(restored((4, 3)), init((4, 3)))


def test_deserialize_custom_objects_and_unknown_names():
    class Halves(I.Initializer):
        def __call__(self, shape, dtype=None, device=None):
            return torch.full(tuple(shape), 0.5)

    made = I.deserialize({"class_name": "Halves", "config": {}}, custom_objects={"Halves": Halves})
    assert isinstance(made, Halves) and made((2,)).tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="Unknown initializer 'glorot'.*glorot_uniform"):
        I.get("glorot")
    with pytest.raises(ValueError, match="Unknown initializer class 'Nope'"):
        I.deserialize({"class_name": "Nope", "config": {}})


def test_distributions_follow_keras_fans():
    fan_in, fan_out = 300, 200
    w = I.glorot_uniform(seed=0)((fan_in, fan_out))
    limit = math.sqrt(6 / (fan_in + fan_out))
    assert w.abs().max() <= limit and w.abs().max() > 0.95 * limit
    h = I.he_normal(seed=0)((fan_in, fan_out))  # truncated normal with stddev sqrt(2 / fan_in)
    assert h.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)
    assert h.abs().max() <= 2 * math.sqrt(2 / fan_in) / 0.87962566103423978
    u = I.lecun_uniform(seed=0)((fan_in, fan_out))
    assert u.abs().max() <= math.sqrt(3 / fan_in)
    conv = I.he_uniform(seed=0)((3, 3, 16, 32))  # fan_in = 3 * 3 * 16
    assert conv.abs().max() <= math.sqrt(6 / 144)
    q = I.orthogonal(seed=0)((6, 4))
    torch.testing.assert_close(q.T @ q, torch.eye(4), atol=1e-5, rtol=0)
    assert I.identity(gain=3.0)((2, 3)).tolist() == [[3.0, 0.0, 0.0], [0.0, 3.0, 0.0]]
    assert I.constant(7)((2,)).tolist() == [7.0, 7.0] and I.ones()((1,)).tolist() == [1.0]


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(ValueError, match="`mode`"):
        I.variance_scaling(mode="fan_max")
    with pytest.raises(ValueError, match="`scale`"):
        I.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="`distribution`"):
        I.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="2-D"):
        I.identity()((2, 2, 2))
    with pytest.raises(TypeError, match="initializer"):
        I.get(3)
