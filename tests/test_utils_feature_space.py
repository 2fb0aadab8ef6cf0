"""FeatureSpace: each feature type against hand-worked values or easynn's own preprocessing layers,
Keras's concatenation order, adapt on batches, the keras-io functional pattern, config/save."""

import json
import math

import numpy as np
import pytest
import torch

import easynn
from easynn import layers
from easynn.utils import FeatureSpace

TABLE = {
    "f": [1.0, 2.0, 3.0, 6.0],
    "s": ["a", "b", "a", "c"],
    "i": [1, 2, 2, 3],
    "d": [0.1, 0.9, 0.4, 0.6],
}


def test_float_normalized_uses_the_adapted_mean_and_variance():
    fs = FeatureSpace({"f": "float_normalized"})
    fs.adapt(TABLE)
    out = fs({"f": [3.0, 6.0, 1.0]})
    # mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5
    expected = torch.tensor([[0.0], [3.0 / math.sqrt(3.5)], [-2.0 / math.sqrt(3.5)]])
    torch.testing.assert_close(out, expected)


def test_float_and_float_rescaled_by_hand():
    fs = FeatureSpace({"a": FeatureSpace.float_rescaled(scale=2.0, offset=1.0), "b": "float"})
    out = fs({"a": [0.0, 1.5], "b": [7.0, -1.0]})  # nothing to adapt
    torch.testing.assert_close(out, torch.tensor([[1.0, 7.0], [4.0, -1.0]]))


def test_categorical_features_one_hot_with_oov():
    fs = FeatureSpace({"s": "string_categorical", "i": "integer_categorical"}, output_mode="dict")
    fs.adapt(TABLE)
    # Keras's vocabulary order: by count, ties by descending token; OOV first.
    assert fs.preprocessors["s"].get_vocabulary() == ["[UNK]", "a", "c", "b"]
    assert fs.preprocessors["i"].get_vocabulary() == [-1, 2, 3, 1]
    out = fs({"s": ["b", "zzz", "a"], "i": [1, 9, 2]})
    torch.testing.assert_close(out["s"], torch.tensor([[0.0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]]))
    torch.testing.assert_close(out["i"], torch.tensor([[0.0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]]))


def test_max_tokens_and_two_oov_indices():
    fs = FeatureSpace({"s": FeatureSpace.string_categorical(max_tokens=3, num_oov_indices=2)}, output_mode="dict")
    fs.adapt(TABLE)
    assert fs.preprocessors["s"].get_vocabulary() == ["[UNK]", "[UNK]", "a"]
    assert fs({"s": ["a"]})["s"].shape == (1, 3)


def test_float_discretized_given_boundaries_and_adapted():
    fs = FeatureSpace({"d": FeatureSpace.float_discretized(num_bins=3, bin_boundaries=[0.3, 0.7])})
    out = fs({"d": [0.1, 0.3, 0.9]})  # buckets [-inf, .3), [.3, .7), [.7, inf)
    torch.testing.assert_close(out, torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]]))

    learned = FeatureSpace({"d": "float_discretized"}, num_discretization_bins=2, output_mode="dict")
    learned.adapt(TABLE)
    reference = layers.Discretization(num_bins=2)
    reference.adapt(np.asarray(TABLE["d"], dtype="float32").reshape(-1, 1))
    assert learned.preprocessors["d"].bin_boundaries == reference.bin_boundaries
    ids = reference(torch.tensor(TABLE["d"]).reshape(-1, 1)).reshape(-1)
    torch.testing.assert_close(learned(TABLE)["d"], torch.nn.functional.one_hot(ids, 2).float())


def test_hashed_features_equal_the_hashing_layer():
    fs = FeatureSpace({"s": "string_hashed", "i": FeatureSpace.integer_hashed(num_bins=5, output_mode="int")},
                      hashing_dim=4, output_mode="dict")
    out = fs(TABLE)
    s_bins = layers.Hashing(num_bins=4)(np.array(TABLE["s"]).reshape(-1, 1))
    i_bins = layers.Hashing(num_bins=5)(torch.tensor(TABLE["i"]).reshape(-1, 1))
    torch.testing.assert_close(out["s"], torch.nn.functional.one_hot(s_bins.reshape(-1), 4).float())
    assert torch.equal(out["i"], i_bins.reshape(-1, 1))


def test_cross_hashes_the_preprocessed_ids_like_hashed_crossing():
    fs = FeatureSpace({"s": "string_categorical", "i": "integer_categorical"},
                      crosses=[FeatureSpace.cross(("s", "i"), crossing_dim=7, output_mode="int")], output_mode="dict")
    fs.adapt(TABLE)
    out = fs(TABLE)
    s_ids = fs.preprocessors["s"](np.array(TABLE["s"]).reshape(-1, 1))
    i_ids = fs.preprocessors["i"](torch.tensor(TABLE["i"]).reshape(-1, 1))
    expected = layers.HashedCrossing(num_bins=7)((s_ids, i_ids))
    assert torch.equal(out["s_X_i"], expected.reshape(-1, 1))
    one_hot = FeatureSpace({"s": "string_categorical", "i": "integer_categorical"}, crosses=[("s", "i")],
                           crossing_dim=7, output_mode="dict")
    one_hot.adapt(TABLE)
    torch.testing.assert_close(one_hot(TABLE)["s_X_i"], torch.nn.functional.one_hot(expected.reshape(-1), 7).float())


def test_concat_order_is_sorted_features_then_sorted_crosses():
    features = {"z": "float", "s": "string_categorical", "a": FeatureSpace.float_rescaled(scale=10.0),
                "i": "integer_categorical"}
    data = {"z": [5.0], "s": ["c"], "a": [1.0], "i": [3]}
    fs = FeatureSpace(features, crosses=[("s", "i"), ("i", "s")], crossing_dim=3)
    fs.adapt(TABLE | {"z": [0.0] * 4, "a": [0.0] * 4})
    out = fs(data)
    assert out.shape == (1, 1 + 4 + 4 + 1 + 3 + 3)  # a, i, s, z, i_X_s, s_X_i
    parts = FeatureSpace(features, output_mode="dict")  # the same encodings, one per key
    parts.adapt(TABLE | {"z": [0.0] * 4, "a": [0.0] * 4})
    pieces = parts(data)
    head = torch.cat([pieces["a"], pieces["i"], pieces["s"], pieces["z"]], dim=-1)
    torch.testing.assert_close(out[:, :10], head)
    assert out[0, 0] == 10.0 and out[0, 9] == 5.0
    assert out[:, 10:13].sum() == 1 and out[:, 13:].sum() == 1


def test_adapt_on_batches_equals_adapt_on_the_whole_dict():
    features = {"f": "float_normalized", "s": "string_categorical", "i": "integer_categorical", "d": "float_discretized"}
    whole = FeatureSpace(features, num_discretization_bins=3)
    whole.adapt(TABLE)
    batched = FeatureSpace(features, num_discretization_bins=3)
    batches = [{k: np.asarray(v)[:3] for k, v in TABLE.items()}, {k: np.asarray(v)[3:] for k, v in TABLE.items()}]
    batched.adapt(iter([(b, np.zeros(len(b["f"]))) for b in batches]))  # (x, y) pairs: x is used
    torch.testing.assert_close(batched(TABLE), whole(TABLE))


def test_single_sample_of_scalars_has_no_batch_axis():
    fs = FeatureSpace({"f": "float_normalized", "s": "string_categorical"})
    fs.adapt(TABLE)
    one = fs({"f": np.float32(6.0), "s": "a"})
    assert one.shape == (5,)
    torch.testing.assert_close(one, fs({"f": [6.0], "s": ["a"]})[0])


def test_custom_feature_with_own_preprocessor():
    fs = FeatureSpace({"x": FeatureSpace.feature("int64", layers.CategoryEncoding(4, output_mode="one_hot"),
                                                 output_mode="float")})
    torch.testing.assert_close(fs({"x": [2, 0]}), torch.tensor([[0.0, 0, 1, 0], [1, 0, 0, 0]]))


def _synthetic_table(n=256, seed=0):
    rng = np.random.default_rng(seed)
    data = {"age": rng.normal(50, 10, n).astype("float32"), "thal": rng.choice(["normal", "fixed", "rev"], n),
            "sex": rng.integers(0, 2, n), "cp": rng.integers(0, 4, n)}
    y = ((data["age"] > 50) | (data["thal"] == "fixed")).astype("float32").reshape(-1, 1)
    return data, y


def test_keras_io_pattern_end_to_end():
    torch.manual_seed(0)
    data, y = _synthetic_table()
    fs = FeatureSpace({"age": "float_normalized", "thal": "string_categorical", "sex": "integer_categorical",
                       "cp": "integer_categorical"}, crosses=[("sex", "cp"), ("thal", "sex")], crossing_dim=8)
    fs.adapt(data)
    inputs, encoded = fs.get_inputs(), fs.get_encoded_features()
    assert encoded.shape == (None, 1 + 5 + 3 + 4 + 8 + 8)  # age, cp, sex, thal (+1 OOV each), 2 crosses
    # easynn's Model takes Input tensors (not encoded_features) as inputs: train on the encoded width.
    x_in = easynn.Input(shape=(encoded.shape[-1],))
    hidden = layers.Dense(16, activation="relu")(x_in)
    training_model = easynn.Model(x_in, layers.Dense(1, activation="sigmoid")(hidden))
    training_model.compile(optimizer=easynn.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy")
    history = training_model.fit(fs(data), y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    inference_model = easynn.Model(list(inputs.values()), training_model(encoded))
    raw = {k: np.asarray(v).reshape(-1, 1)[:5] for k, v in data.items()}
    predicted = inference_model.predict(raw, verbose=0)
    expected = training_model.predict(fs({k: v[:5] for k, v in data.items()}), verbose=0)
    np.testing.assert_allclose(np.asarray(predicted), np.asarray(expected), atol=1e-6)


def test_config_round_trip_and_save_keep_the_learned_state(tmp_path):
    fs = FeatureSpace({"f": "float_normalized", "s": "string_categorical",
                       "i": FeatureSpace.integer_categorical(output_mode="int"), "d": "float_discretized"},
                      crosses=[("s", "i")], num_discretization_bins=3, output_mode="dict")
    fs.adapt(TABLE)
    config = json.loads(json.dumps(fs.get_config()))
    restored = FeatureSpace.from_config(config)
    query = {"f": [0.0, 6.0], "s": ["c", "q"], "i": [3, 8], "d": [0.2, 0.8]}
    expected = fs(query)
    for other in (restored, _save_and_load(fs, tmp_path)):
        assert isinstance(other, FeatureSpace)
        got = other(query)
        assert list(got) == ["d", "f", "i", "s", "s_X_i"]
        for key in expected:
            torch.testing.assert_close(got[key], expected[key])


def _save_and_load(fs, tmp_path):
    path = str(tmp_path / "fs.keras")
    fs.save(path)
    return easynn.saving.load_model(path)


@pytest.mark.parametrize("make, message", [
    (lambda: FeatureSpace({"x": "floaty"}), "floaty"),
    (lambda: FeatureSpace({"x": "float"}, crosses=[("x", "nope")]), "nope"),
    (lambda: FeatureSpace({"x": "float"}, output_mode="list"), "output_mode"),
    (lambda: FeatureSpace({}), "features"),
    (lambda: FeatureSpace.string_categorical(output_mode="multi"), "output_mode"),
])
def test_bad_arguments_raise_value_error_naming_them(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_call_before_adapt_and_missing_column_raise():
    fs = FeatureSpace({"f": "float_normalized", "s": "string_categorical"})
    with pytest.raises(ValueError, match=r"adapt\(dataset\).*'f'"):
        fs({"f": [1.0], "s": ["a"]})
    with pytest.raises(ValueError, match="adapt"):
        fs.get_encoded_features()
    with pytest.raises(ValueError, match="feature 's'"):
        fs.adapt({"f": [1.0]})
    fs.adapt(TABLE)
    with pytest.raises(ValueError, match="feature 'f'"):
        fs({"s": ["a"]})
    with pytest.raises(ValueError, match="dict"):
        fs([1.0])


def test_concat_of_an_int_feature_raises():
    fs = FeatureSpace({"i": FeatureSpace.integer_categorical(output_mode="int"), "f": "float"})
    fs.adapt(TABLE)
    with pytest.raises(ValueError, match="feature 'i'"):
        fs(TABLE)
