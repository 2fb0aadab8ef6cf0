"""CategoryEncoding and Discretization against Keras's documented numbers, NumPy references
(np.digitize, np.quantile, np.bincount), argument errors and model save/load."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import CategoryEncoding, Dense, Discretization, Input

KERAS_INPUT = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]], dtype="float32")


# ---------------------------------------------------------------- CategoryEncoding
def test_category_encoding_keras_documented_examples():
    one_hot = CategoryEncoding(num_tokens=4, output_mode="one_hot")(torch.tensor([3, 2, 0, 1]))
    torch.testing.assert_close(one_hot, torch.eye(4)[[3, 2, 0, 1]])
    ids = torch.tensor([[0, 1], [0, 0], [1, 2], [3, 1]])
    multi = CategoryEncoding(num_tokens=4)(ids)  # multi_hot is the default
    torch.testing.assert_close(
        multi, torch.tensor([[1.0, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    )
    weights = torch.tensor([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    count = CategoryEncoding(num_tokens=4, output_mode="count")(ids, count_weights=weights)
    torch.testing.assert_close(
        count, torch.tensor([[0.1, 0.2, 0, 0], [0.2, 0, 0, 0], [0, 0.2, 0.3, 0], [0, 0.2, 0, 0.4]])
    )


def test_category_encoding_count_matches_bincount_and_shapes():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 6, size=(5, 7))
    out = CategoryEncoding(num_tokens=6, output_mode="count")(torch.as_tensor(ids))
    np.testing.assert_array_equal(out.numpy(), np.stack([np.bincount(r, minlength=6) for r in ids]))
    multi = CategoryEncoding(num_tokens=6)(torch.as_tensor(ids))
    np.testing.assert_array_equal(multi.numpy(), (out.numpy() > 0).astype("float32"))
    one_hot = CategoryEncoding(num_tokens=6, output_mode="one_hot")
    assert one_hot(torch.as_tensor(ids)).shape == (5, 7, 6)
    assert one_hot(torch.as_tensor(ids[:, :1])).shape == (5, 6)  # a trailing 1 is replaced
    assert one_hot.compute_output_shape((None, 7)) == (None, 7, 6)
    assert one_hot.compute_output_shape((None, 1)) == (None, 6)
    assert CategoryEncoding(num_tokens=6).compute_output_shape((None, 7)) == (None, 6)
    sparse = CategoryEncoding(num_tokens=6, sparse=True)(torch.as_tensor(ids))
    assert sparse.is_sparse
    torch.testing.assert_close(sparse.to_dense(), multi)


def test_category_encoding_errors():
    with pytest.raises(ValueError, match="num_tokens"):
        CategoryEncoding()
    with pytest.raises(ValueError, match="num_tokens"):
        CategoryEncoding(num_tokens=0)
    with pytest.raises(ValueError, match="output_mode"):
        CategoryEncoding(num_tokens=3, output_mode="tf_idf")
    with pytest.raises(TypeError, match="sparse"):
        CategoryEncoding(num_tokens=3, sparse="no")
    with pytest.raises(ValueError, match=r"num_tokens.*max=3"):
        CategoryEncoding(num_tokens=3)(torch.tensor([[0, 3]]))
    with pytest.raises(ValueError, match="min=-1"):
        CategoryEncoding(num_tokens=3)(torch.tensor([[0, -1]]))
    with pytest.raises(ValueError, match="count_weights"):
        CategoryEncoding(num_tokens=3)(torch.tensor([[0, 1]]), count_weights=torch.ones(1, 2))
    with pytest.raises(ValueError, match="count_weights"):
        CategoryEncoding(num_tokens=3, output_mode="count")(torch.tensor([[0, 1]]), count_weights=torch.ones(1, 3))


def test_category_encoding_config_round_trip():
    layer = CategoryEncoding(num_tokens=5, output_mode="count", name="enc")
    config = layer.get_config()
    assert {k: config[k] for k in ("num_tokens", "output_mode", "sparse")} == {
        "num_tokens": 5, "output_mode": "count", "sparse": False,
    }
    assert CategoryEncoding.from_config(config).get_config() == config


# ---------------------------------------------------------------- Discretization
def test_discretization_keras_documented_examples():
    given = Discretization(bin_boundaries=[0.0, 1.0, 2.0])(torch.as_tensor(KERAS_INPUT))
    np.testing.assert_array_equal(given.numpy(), [[0, 2, 3, 1], [1, 3, 2, 1]])
    assert given.dtype == torch.int64
    layer = Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(KERAS_INPUT)
    # hand-worked: 8 sorted values, quartiles at the 2nd, 4th and 6th: 0.0, 0.5, 1.3
    np.testing.assert_allclose(layer.bin_boundaries, [0.0, 0.5, 1.3], rtol=1e-6)
    np.testing.assert_array_equal(layer(torch.as_tensor(KERAS_INPUT)).numpy(), [[0, 2, 3, 2], [1, 3, 3, 1]])


def test_discretization_matches_digitize_and_quantiles():
    rng = np.random.default_rng(0)
    boundaries = [-1.0, -0.25, 0.0, 0.5, 2.0]
    x = rng.normal(size=(6, 9)).astype("float32")
    x[0, :3] = [-1.0, 0.0, 2.0]  # on a boundary: the upper bucket, as np.digitize
    out = Discretization(bin_boundaries=boundaries)(torch.as_tensor(x))
    np.testing.assert_array_equal(out.numpy(), np.digitize(x, boundaries))
    data = rng.normal(size=20000).astype("float32")
    layer = Discretization(num_bins=5, epsilon=0.001)
    layer.adapt(data)
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(data, [0.2, 0.4, 0.6, 0.8]), atol=0.02)
    # several batches give about the same boundaries as one
    batched = Discretization(num_bins=5, epsilon=0.001)
    batched.adapt([torch.as_tensor(b) for b in np.split(data, 4)])
    np.testing.assert_allclose(batched.bin_boundaries, layer.bin_boundaries, atol=0.03)


def test_discretization_encoded_modes():
    x = torch.tensor([[-1.0, 0.5, 0.6], [3.0, 3.0, -2.0]])
    ids = torch.tensor([[0, 1, 1], [2, 2, 0]])
    count = Discretization(bin_boundaries=[0.0, 1.0], output_mode="count")(x)
    torch.testing.assert_close(count, torch.tensor([[1.0, 2, 0], [1, 0, 2]]))
    multi = Discretization(bin_boundaries=[0.0, 1.0], output_mode="multi_hot")(x)
    torch.testing.assert_close(multi, (count > 0).float())
    one_hot = Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot")
    torch.testing.assert_close(one_hot(x), torch.nn.functional.one_hot(ids, 3).float())
    assert one_hot.compute_output_shape((None, 3)) == (None, 3, 3)
    assert Discretization(bin_boundaries=[0.0, 1.0]).compute_output_shape((None, 3)) == (None, 3)


def test_discretization_errors():
    with pytest.raises(ValueError, match="num_bins"):
        Discretization(num_bins=-1)
    with pytest.raises(ValueError, match="num_bins"):
        Discretization(bin_boundaries=[0.0, 1.0], num_bins=4)
    with pytest.raises(ValueError, match="sorted"):
        Discretization(bin_boundaries=[1.0, 0.0])
    with pytest.raises(TypeError, match="bin_boundaries"):
        Discretization(bin_boundaries=["a", "b"])
    with pytest.raises(ValueError, match="epsilon"):
        Discretization(num_bins=3, epsilon=1.5)
    with pytest.raises(ValueError, match="output_mode"):
        Discretization(num_bins=3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="adapt"):
        Discretization(bin_boundaries=[0.0]).adapt(KERAS_INPUT)
    with pytest.raises(ValueError, match="adapt"):
        Discretization(num_bins=3)(torch.as_tensor(KERAS_INPUT))


def test_discretization_config_holds_the_adapted_boundaries():
    layer = Discretization(num_bins=4)
    layer.adapt(KERAS_INPUT)
    config = layer.get_config()
    assert config["bin_boundaries"] == layer.bin_boundaries and config["num_bins"] == 4
    clone = Discretization.from_config(config)
    assert clone.get_config() == config
    torch.testing.assert_close(clone(torch.as_tensor(KERAS_INPUT)), layer(torch.as_tensor(KERAS_INPUT)))


def test_functional_model_written_before_adapt_then_saved_and_loaded(tmp_path):
    disc = Discretization(num_bins=4, output_mode="one_hot")
    inputs = Input(shape=(1,))
    encoded = disc(inputs)  # symbolic call before adapt is fine
    assert tuple(encoded.shape) == (None, 4)
    tokens = Input(shape=(3,), dtype="int64")
    model = easynn.Model(
        [inputs, tokens],
        Dense(2)(easynn.layers.concatenate([encoded, CategoryEncoding(num_tokens=5, output_mode="count")(tokens)])),
    )
    disc.adapt(KERAS_INPUT)
    x = torch.as_tensor(KERAS_INPUT.reshape(-1, 1))
    t = torch.randint(0, 5, (8, 3))
    path = tmp_path / "enc.keras"
    model.save(path)
    restored = easynn.models.load_model(path)
    restored_disc = next(layer for layer in restored.layers if isinstance(layer, Discretization))
    assert restored_disc.bin_boundaries == disc.bin_boundaries
    np.testing.assert_allclose(restored.predict([x, t], verbose=0), model.predict([x, t], verbose=0), rtol=1e-6)


def test_sequential_model_with_category_encoding_fits():
    model = easynn.Sequential([Input(shape=(4,), dtype="int64"), CategoryEncoding(num_tokens=6), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    ids = torch.randint(0, 6, (8, 4))
    history = model.fit(ids, torch.randn(8, 1), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.count_params() == 7
