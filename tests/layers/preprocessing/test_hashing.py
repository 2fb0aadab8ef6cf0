"""Hashing: Keras's own bucket numbers (its docstring and hashing_test.py), FarmHash/SipHash reference values."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import Dense, Hashing
from easynn.layers.preprocessing.hashing import fingerprint64, siphash64

NAMES = np.asarray([["omar"], ["stringer"], ["marlo"], ["wire"], ["skywalker"]])
LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


@pytest.mark.parametrize("data,expected", [
    # Fingerprint64 of these bytes, from FarmHash's reference C++ (through the pyfarmhash binding): one per
    # length class of farmhashna::Hash64 (0-16, 17-32, 33-64, > 64 bytes) and a UTF-8 string.
    ("", 11160318154034397263),
    ("héllo wörld", 9001971122424596627),
    ("0123456789abcdefXYZ", 13547999598160782074),
    ("The quick brown fox jumps over the lazy dog", 12375473906752639284),
    ("x" * 64, 6916188127298655160),
    ("easynn " * 15, 9430899423085255464),
    (bytes(range(256)) * 2, 15400139997170154466),
])
def test_fingerprint64_reference_values(data, expected):
    assert fingerprint64(data) == expected


def test_siphash_paper_vectors():
    key = (0x0706050403020100, 0x0F0E0D0C0B0A0908)  # bytes 00..0f, little-endian
    assert siphash64(key, b"") == 0x726FDB47DD0E0E31
    assert siphash64(key, bytes(range(15))) == 0xA129CA6149BE45E5
    assert siphash64(key, bytes(range(64))) == 0xACD2C40B8502CAD8


def test_keras_docstring_and_test_bins_farmhash():
    assert Hashing(num_bins=3)(LETTERS).tolist() == [[1], [0], [1], [1], [2]]
    assert Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]]).tolist() == [[1], [1], [0], [2], [2]]
    assert Hashing(num_bins=2)(NAMES).tolist() == [[0], [0], [1], [0], [0]]
    assert Hashing(num_bins=2)(["omar", "stringer", "marlo", "wire", "skywalker"]).tolist() == [0, 0, 1, 0, 0]
    assert Hashing(num_bins=3, mask_value="")(NAMES).tolist() == [[1], [1], [2], [1], [1]]
    assert Hashing(num_bins=3, mask_value="omar")(NAMES).tolist() == [[0], [1], [2], [1], [1]]
    assert Hashing(num_bins=1)(NAMES).tolist() == [[0]] * 5
    ints = np.asarray([[0], [1], [2], [3], [4]])
    assert Hashing(num_bins=3)(ints).tolist() == [[1], [0], [1], [0], [2]]  # ints hash as their digits
    assert Hashing(num_bins=3)(torch.tensor([0, 1, 2, 3, 4])).tolist() == [1, 0, 1, 0, 2]
    assert Hashing(num_bins=3)((0, 1, 2, 3, 4)).tolist() == [1, 0, 1, 0, 2]
    assert Hashing(num_bins=3)(np.array([0.2, 1.9, 2.0, 3.5, 4.0])).tolist() == [1, 0, 1, 0, 2]  # floats -> int64
    assert Hashing(num_bins=2)([[[1], [2]], [[2], [3]], [[3], [4]]]).tolist() == [[[1], [1]], [[1], [1]], [[1], [1]]]


def test_keras_bins_siphash():
    assert Hashing(num_bins=3, salt=[133, 137])(LETTERS).tolist() == [[1], [2], [1], [0], [2]]
    assert Hashing(num_bins=3, salt=133)(LETTERS).tolist() == [[0], [0], [2], [1], [0]]
    assert Hashing(num_bins=2, salt=[133, 137])(NAMES).tolist() == [[0], [1], [0], [1], [0]]
    assert Hashing(num_bins=2, salt=(211, 137))(NAMES).tolist() == [[1], [0], [1], [0], [1]]
    assert Hashing(num_bins=3, salt=[133, 137])(np.asarray([[0], [1], [2], [3], [4]])).tolist() == [
        [1], [1], [2], [0], [1]]


def test_bins_are_the_hash_modulo_num_bins():
    words = ["alpha", "beta", "gamma", "a much longer categorical value than sixty-four bytes, to loop" * 2]
    got = Hashing(num_bins=1000)(words).tolist()
    assert got == [fingerprint64(w) % 1000 for w in words]
    salted = Hashing(num_bins=97, salt=[5, 7], mask_value="beta")(words).tolist()
    assert salted == [1 + siphash64((5, 7), "alpha") % 96, 0, 1 + siphash64((5, 7), "gamma") % 96,
                      1 + siphash64((5, 7), words[3]) % 96]


def test_output_modes_and_dtypes():
    ids = np.array([0, 1, 2, 3, 4])  # bins 1, 0, 1, 0, 2
    out = Hashing(num_bins=3)(ids)
    assert out.dtype == torch.int64
    assert Hashing(num_bins=3, dtype="int32")(ids).dtype == torch.int32
    one_hot = Hashing(num_bins=3, output_mode="one_hot")(ids[:, None])
    assert one_hot.dtype == torch.float32
    assert one_hot.tolist() == [[0, 1, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]]
    assert Hashing(num_bins=3, output_mode="multi_hot")(ids[None]).tolist() == [[1.0, 1.0, 1.0]]
    assert Hashing(num_bins=3, output_mode="count")(ids).tolist() == [2.0, 2.0, 1.0]
    assert Hashing(num_bins=3, output_mode="count")(ids[None]).tolist() == [[2.0, 2.0, 1.0]]
    sparse = Hashing(num_bins=3, output_mode="count", sparse=True)(ids[None])
    assert sparse.is_sparse and sparse.to_dense().tolist() == [[2.0, 2.0, 1.0]]
    layer = Hashing(num_bins=4, output_mode="one_hot")
    assert layer.compute_output_shape((None, 1)) == (None, 4)
    assert layer.compute_output_shape((None, 3)) == (None, 3, 4)
    assert Hashing(num_bins=4, output_mode="multi_hot").compute_output_shape((None, 3)) == (None, 4)
    assert Hashing(num_bins=4).compute_output_shape((None, 3)) == (None, 3)


def test_bad_arguments():
    for bad in (None, 0, -1, 2.5):
        with pytest.raises(ValueError, match="`num_bins` for `Hashing` cannot be `None` or non-positive"):
            Hashing(num_bins=bad)
    for bad in ("string", [1], [133, 137, 177]):
        with pytest.raises(ValueError, match="`salt`.*tuple of size 2"):
            Hashing(num_bins=2, salt=bad)
    with pytest.raises(ValueError, match="output_mode"):
        Hashing(num_bins=3, output_mode="unsupported_mode")
    with pytest.raises(ValueError, match="sparse"):
        Hashing(num_bins=3, sparse=True)
    with pytest.raises(ValueError, match="dtype"):
        Hashing(num_bins=3, dtype="float32")
    with pytest.raises(TypeError, match="strings or numbers"):
        Hashing(num_bins=3)(np.asarray([{"a": 1}], dtype=object))


def test_config_round_trip():
    layer = Hashing(num_bins=5, mask_value="", salt=133, output_mode="multi_hot", name="hash_cfg")
    config = layer.get_config()
    assert {k: config[k] for k in ("num_bins", "mask_value", "salt", "output_mode", "sparse")} == {
        "num_bins": 5, "mask_value": "", "salt": [133, 133], "output_mode": "multi_hot", "sparse": False}
    assert config["dtype"] == "float32" and Hashing(num_bins=2).get_config()["dtype"] == "int64"
    clone = Hashing.from_config(config)
    assert clone.get_config() == config and clone.name == "hash_cfg"
    data = [["a", "b"], ["", "c"]]
    assert torch.equal(clone(data), layer(data))


def test_functional_models_on_strings_and_integers(tmp_path):
    text = easynn.Input(shape=(1,), dtype="string")
    bins = Hashing(num_bins=3, name="hash_text")(text)
    assert Hashing(num_bins=3)(["A"]).dtype == torch.int64
    model = easynn.Model(text, bins)
    assert model.predict(np.asarray(LETTERS), verbose=0).reshape(-1).tolist() == [1, 0, 1, 1, 2]
    codes = easynn.Input(shape=(4,), dtype="int64")
    encoded = Hashing(num_bins=8, output_mode="count", name="hash_int")(codes)
    assert tuple(encoded.shape) == (None, 8)
    scorer = easynn.Model(codes, Dense(1)(encoded))
    x = torch.randint(0, 1000, (6, 4))
    want = scorer.predict(x, verbose=0)
    scorer.save(tmp_path / "hashing.keras")
    restored = easynn.models.load_model(tmp_path / "hashing.keras")
    assert restored.get_layer("hash_int").get_config()["num_bins"] == 8
    np.testing.assert_allclose(np.asarray(restored.predict(x, verbose=0)), np.asarray(want), rtol=1e-6)
