"""SpectralNormalization against a NumPy power iteration and torch's matrix 2-norm; Wrapper's
config; errors; fit and save/load."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import Conv2D, Dense, Dropout, Embedding, Input, SpectralNormalization, Wrapper


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _numpy_step(kernel: np.ndarray, u: np.ndarray, iterations: int):
    """Keras's update on a Keras-layout kernel: (new u, kernel / sigma)."""
    w = kernel.reshape(-1, kernel.shape[-1]).astype(np.float64)
    u = u.astype(np.float64)
    for _ in range(iterations):
        v = u @ w.T
        v = v / max(np.linalg.norm(v), 1e-7)
        u = v @ w
        u = u / max(np.linalg.norm(u), 1e-7)
    sigma = (v @ w @ u.T).item()
    return u, kernel / sigma


def test_weights_and_parameter_count_match_keras():
    layer = SpectralNormalization(Dense(10))
    layer(torch.zeros(2, 4))
    assert [w.shape for w in layer.get_weights()] == [(1, 10), (4, 10), (10,)]
    assert layer.count_params() == 60  # Keras: 40 + 10 + vector_u's 10
    assert [w.name.split("/")[-1] for w in layer.non_trainable_weights] == ["vector_u"]
    assert len(layer.trainable_weights) == 2
    assert float(layer.vector_u.abs().max()) <= 0.04 + 1e-6  # truncated normal, stddev 0.02


@pytest.mark.parametrize("iterations", [1, 3])
def test_dense_update_matches_numpy_reference(iterations):
    layer = SpectralNormalization(Dense(5), power_iterations=iterations)
    x = torch.randn(3, 4)
    layer(x)
    u0, kernel0, bias0 = layer.get_weights()
    out = layer(x, training=True)
    u_ref, kernel_ref = _numpy_step(kernel0, u0, iterations)
    u1, kernel1, bias1 = layer.get_weights()
    np.testing.assert_allclose(u1, u_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kernel1, kernel_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(bias1, bias0)
    np.testing.assert_allclose(out.detach().numpy(), x.numpy() @ kernel_ref + bias0, rtol=1e-5, atol=1e-6)


def test_conv_kernel_uses_keras_layout_and_converges_to_unit_norm():
    layer = SpectralNormalization(Conv2D(3, 2), power_iterations=2)
    x = torch.randn(2, 5, 5, 4)
    layer(x)
    u0, kernel0, _ = layer.get_weights()
    assert kernel0.shape == (2, 2, 4, 3) and u0.shape == (1, 3)
    layer(x, training=True)
    u_ref, kernel_ref = _numpy_step(kernel0, u0, 2)
    np.testing.assert_allclose(layer.get_weights()[1], kernel_ref, rtol=1e-5, atol=1e-6)
    for _ in range(30):
        layer(x, training=True)
    kernel = layer.get_weights()[1]
    assert np.linalg.norm(kernel.reshape(-1, 3), ord=2) == pytest.approx(1.0, abs=1e-4)


def test_inference_leaves_the_kernel_alone_and_equals_the_wrapped_layer():
    dense = Dense(3)
    layer = SpectralNormalization(dense)
    x = torch.randn(2, 4)
    out = layer(x)
    before = [w.copy() for w in layer.get_weights()]
    torch.testing.assert_close(layer(x), dense(x))
    torch.testing.assert_close(out, dense(x))
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_embedding_and_zero_kernel():
    layer = SpectralNormalization(Embedding(6, 4), power_iterations=25)
    ids = torch.tensor([[0, 5, 2]])
    layer(ids, training=True)
    table = layer.get_weights()[1]
    assert table.shape == (6, 4)
    assert np.linalg.norm(table, ord=2) == pytest.approx(1.0, abs=1e-3)
    zero = SpectralNormalization(Dense(2, kernel_initializer="zeros"))
    zero(torch.ones(1, 3), training=True)
    np.testing.assert_array_equal(zero.get_weights()[1], np.zeros((3, 2), np.float32))


def test_bad_arguments():
    with pytest.raises(ValueError, match="power_iterations"):
        SpectralNormalization(Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="power_iterations"):
        SpectralNormalization(Dense(2), power_iterations=1.5)
    with pytest.raises(ValueError, match="layer"):
        SpectralNormalization(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="kernel"):
        SpectralNormalization(Dropout(0.5))(torch.ones(2, 3))


def test_config_round_trip():
    layer = SpectralNormalization(Dense(4, activation="relu"), power_iterations=2, name="sn")
    config = layer.get_config()
    assert config["power_iterations"] == 2 and config["layer"]["class_name"] == "Dense"
    clone = SpectralNormalization.from_config(config)
    assert isinstance(clone, Wrapper) and clone.layer.units == 4
    assert clone.get_config() == config


def test_fit_keeps_normalizing_and_save_load(tmp_path):
    model = easynn.Sequential([Input(shape=(4,)), SpectralNormalization(Dense(8), power_iterations=5), Dense(1)])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.01), loss="mse")
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    kernel_before = model.layers[0].get_weights()[1]
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    kernel_after = model.layers[0].get_weights()[1]
    assert not np.allclose(kernel_before, kernel_after)
    # each step divides by sigma, then SGD moves a little: the norm stays near 1
    assert np.linalg.norm(kernel_after, ord=2) == pytest.approx(1.0, abs=0.1)
    path = tmp_path / "sn.keras"
    model.save(path)
    restored = easynn.models.load_model(path)
    assert type(restored.layers[0]).__name__ == "SpectralNormalization"
    for old, new in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(new, old)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
