"""HashedCrossing: Keras's documented bins (docstring and hashed_crossing_test.py), a plain-int reference of
tf.sparse.cross_hashed, shapes, one-hot/sparse, config, errors, functional use."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import HashedCrossing
from easynn.layers.preprocessing.hashing import fingerprint64

FEAT1 = np.array(["A", "B", "A", "B", "A"])
FEAT2 = np.array([101, 101, 101, 102, 102])
ONE_HOT = [[0.0, 1.0, 0.0, 0.0, 0.0],
           [0.0, 0.0, 0.0, 0.0, 1.0],
           [0.0, 1.0, 0.0, 0.0, 0.0],
           [0.0, 1.0, 0.0, 0.0, 0.0],
           [0.0, 0.0, 0.0, 1.0, 0.0]]
MASK = (1 << 64) - 1


def _cat64(a: int, b: int) -> int:
    """TensorFlow's FingerprintCat64 written again with Python ints (independent of the layer's NumPy code)."""
    mul = 0xC6A4A7935BD1E995
    r = a ^ mul
    m = (b * mul) & MASK
    r ^= ((m ^ (m >> 47)) * mul) & MASK
    r = (r * mul) & MASK
    r = ((r ^ (r >> 47)) * mul) & MASK
    return r ^ (r >> 47)


def _reference(values, num_bins):
    h = 0xDECAFCAFFE
    for v in values:
        h = _cat64(h, fingerprint64(v) if isinstance(v, str) else v & MASK)
    return h % num_bins


def test_keras_documented_bins():
    assert HashedCrossing(num_bins=5)((FEAT1, FEAT2)).tolist() == [1, 4, 1, 1, 3]
    out = HashedCrossing(num_bins=5, output_mode="one_hot")((FEAT1, FEAT2))
    assert out.dtype == torch.float32 and out.tolist() == ONE_HOT
    # Keras's test_tf_string: one scalar pair, and the (batch, 1) layout.
    assert HashedCrossing(num_bins=10)(("A", 101)).tolist() == 1
    col = HashedCrossing(num_bins=5)((FEAT1.reshape(5, 1), FEAT2.reshape(5, 1)))
    assert col.shape == (5, 1) and col.flatten().tolist() == [1, 4, 1, 1, 3]


@pytest.mark.parametrize("num_bins", [1, 2, 7, 1000, 2**40])
def test_against_plain_int_reference(num_bins):
    rng = np.random.default_rng(0)
    words = np.array(["", "x", "héllo", "a longer string of more than sixteen bytes", "z" * 70])
    f1 = words[rng.integers(0, len(words), 12)]
    f2 = rng.integers(-(2**62), 2**62, 12)
    f3 = rng.integers(0, 50, 12).astype(np.int32)
    out = HashedCrossing(num_bins)((f1, f2, f3)).tolist()
    assert out == [_reference([a, int(b), int(c)], num_bins) for a, b, c in zip(f1, f2, f3)]
    # integers only (TensorFlow's int64 path: the values themselves, no fingerprint)
    ints = HashedCrossing(num_bins)((torch.tensor([1, 2, -3]), torch.tensor([4, 5, 6]))).tolist()
    assert ints == [_reference([a, b], num_bins) for a, b in [(1, 4), (2, 5), (-3, 6)]]


def test_order_matters_and_inputs_kinds_agree():
    ab = HashedCrossing(1000)((FEAT1, FEAT2)).tolist()
    ba = HashedCrossing(1000)((FEAT2, FEAT1)).tolist()
    assert ab != ba  # FingerprintCat64 is not commutative
    as_lists = HashedCrossing(1000)((list(FEAT1), FEAT2.tolist())).tolist()
    as_bytes = HashedCrossing(1000)((FEAT1.astype("S"), torch.from_numpy(FEAT2))).tolist()
    assert ab == as_lists == as_bytes


def test_dtypes_shapes_and_sparse():
    assert HashedCrossing(3)((FEAT1, FEAT2)).dtype == torch.int64
    assert HashedCrossing(3, dtype="int32")((FEAT1, FEAT2)).dtype == torch.int32
    assert HashedCrossing(5, output_mode="one_hot", dtype="float64")((FEAT1, FEAT2)).dtype == torch.float64
    assert HashedCrossing(4, output_mode="one_hot")((np.array([1, 2]), np.array([4, 5]))).shape == (2, 4)
    assert HashedCrossing(4, output_mode="one_hot")((FEAT1[:, None], FEAT2[:, None])).shape == (5, 4)
    scalar = HashedCrossing(10, output_mode="one_hot")(("A", 101))
    assert scalar.tolist() == [[0.0, 1.0] + [0.0] * 8]
    sparse = HashedCrossing(5, output_mode="one_hot", sparse=True)((FEAT1, FEAT2))
    assert sparse.is_sparse and sparse.to_dense().tolist() == ONE_HOT
    layer = HashedCrossing(5, output_mode="one_hot")
    assert layer.compute_output_shape([(None,), (None,)]) == (None, 5)
    assert layer.compute_output_shape([(None, 1), (None, 1)]) == (None, 5)
    assert HashedCrossing(5).compute_output_shape([(None, 1), (None, 1)]) == (None, 1)


def test_config_round_trip_and_registry():
    layer = HashedCrossing(num_bins=5, output_mode="one_hot", sparse=True, name="cross")
    config = layer.get_config()
    assert {k: config[k] for k in ("num_bins", "output_mode", "sparse", "name")} == {
        "num_bins": 5, "output_mode": "one_hot", "sparse": True, "name": "cross"}
    clone = HashedCrossing.from_config(config)
    assert clone.get_config() == config
    assert torch.equal(clone((FEAT1, FEAT2)).to_dense(), layer((FEAT1, FEAT2)).to_dense())
    revived = easynn.layers.deserialize(easynn.layers.serialize(HashedCrossing(7)))
    assert isinstance(revived, HashedCrossing) and revived.num_bins == 7


def test_functional_model_on_integer_inputs():
    a = easynn.Input(shape=(), dtype="int64")
    b = easynn.Input(shape=(), dtype="int64")
    out = HashedCrossing(7)((a, b))
    assert tuple(out.shape) == (None,)
    model = easynn.Model([a, b], out)
    got = model([torch.tensor([1, 2]), torch.tensor([4, 5])]).tolist()
    assert got == [_reference([1, 4], 7), _reference([2, 5], 7)]


def test_errors():
    with pytest.raises(ValueError, match="num_bins"):
        HashedCrossing(0)
    with pytest.raises(ValueError, match="num_bins"):
        HashedCrossing(None)
    with pytest.raises(ValueError, match="output_mode"):
        HashedCrossing(3, output_mode="multi_hot")
    with pytest.raises(TypeError, match="sparse"):
        HashedCrossing(3, sparse="yes")
    with pytest.raises(ValueError, match="should be called on a list"):
        HashedCrossing(10)(np.array(1))
    with pytest.raises(ValueError, match="at least two inputs"):
        HashedCrossing(10)([np.array(1)])
    with pytest.raises(ValueError, match="inputs should have shape"):
        HashedCrossing(10)((np.array([[[1]]]), np.array([[[1]]])))
    with pytest.raises(ValueError, match="inputs should have shape"):
        HashedCrossing(10)((np.ones((2, 2), dtype=int), np.ones((2, 2), dtype=int)))
    with pytest.raises(ValueError, match="equal shape"):
        HashedCrossing(10)((np.array([1, 2]), np.array([1, 2, 3])))
    with pytest.raises(ValueError, match="integer or string"):
        HashedCrossing(10)((np.array([1.0]), np.array([1.0])))
    with pytest.raises(ValueError, match="integer or string"):
        HashedCrossing(10)((torch.tensor([True]), torch.tensor([1])))
