"""Rescaling and Normalization: formulas, adapt() against NumPy, weights layout, saving."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import Dense, Normalization, Rescaling
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_rescaling_formula_uint8_and_per_channel():
    out = check_layer(Rescaling(1 / 255.0), torch.tensor([[0, 51, 255]], dtype=torch.uint8), (1, 3), 0)
    torch.testing.assert_close(out, torch.tensor([[0.0, 0.2, 1.0]]))
    layer = Rescaling([1.0, 2.0, 3.0], offset=[0.0, 1.0, -1.0])
    x = torch.ones(2, 4, 4, 3)
    torch.testing.assert_close(layer(x)[0, 0, 0], torch.tensor([1.0, 3.0, 2.0]))
    assert Rescaling.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(TypeError, match="scale"):
        Rescaling("big")


@pytest.mark.parametrize("axis, keep", [(-1, (2,)), (None, ()), ((1, 2), (1, 2)), (1, (1,))])
def test_adapt_matches_numpy(axis, keep):
    data = np.random.default_rng(0).normal(3.0, 2.0, size=(50, 4, 3)).astype(np.float32)
    layer = Normalization(axis=axis)
    layer.adapt(data)
    reduce = tuple(a for a in range(3) if a not in keep)
    mean, var = data.mean(axis=reduce), data.var(axis=reduce)
    got_mean, got_var, count = layer.get_weights()
    assert count.shape == ()
    np.testing.assert_allclose(got_mean, mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_var, var, rtol=1e-5, atol=1e-5)
    assert layer.count_params() == 2 * int(np.prod(mean.shape)) + 1  # Keras 3: mean, variance, count
    out = layer(torch.as_tensor(data)).numpy()
    expected = (data - data.mean(axis=reduce, keepdims=True)) / np.sqrt(data.var(axis=reduce, keepdims=True))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_adapt_in_batches_dataset_dataloader_equal_whole_array():
    data = torch.randn(37, 5) * 4 + 1
    whole = Normalization()
    whole.adapt(data)
    for source in (
        torch.utils.data.TensorDataset(data, torch.zeros(37)),  # (x, y) pairs: x is used
        torch.utils.data.DataLoader(data, batch_size=8),
        [data[:10].numpy(), data[10:].numpy()],
    ):
        layer = Normalization()
        layer.adapt(source, batch_size=6)
        for a, b in zip(layer.get_weights(), whole.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(whole.get_weights()[1], data.var(0, unbiased=False).numpy(), rtol=1e-5)


def test_keras_documented_examples_and_invert():
    layer = Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype="float32"))
    torch.testing.assert_close(layer(np.array([1.0, 2.0, 3.0], dtype="float32")),
                               torch.tensor([-1.4142135, -0.70710677, 0.0]))
    layer = Normalization(axis=-1)
    layer.adapt(np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0], [0.0, 7.0, 4.0], [2.0, 9.0, 6.0]], dtype="float32"))
    torch.testing.assert_close(layer(torch.tensor([[0.0, 7.0, 4.0]])), torch.tensor([[-1.0, -1.0, -1.0]]))
    inverse = Normalization(axis=-1, invert=True)
    inverse.adapt(np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0]], dtype="float32"))
    torch.testing.assert_close(inverse(torch.tensor([[-1.0, -1.0, -1.0]])), torch.tensor([[0.0, 7.0, 4.0]]))
    fixed = Normalization(mean=3.0, variance=2.0)
    out = check_layer(fixed, torch.tensor([[1.0], [2.0], [3.0]]), (3, 1), 0)
    torch.testing.assert_close(out, torch.tensor([[-1.4142135], [-0.70710677], [0.0]]))
    constant = Normalization()
    constant.adapt(np.ones((4, 2), dtype="float32"))
    assert torch.isfinite(constant(torch.ones(1, 2))).all()  # std floored at epsilon


def test_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        Normalization(mean=1.0)
    layer = Normalization()
    with pytest.raises(ValueError, match="before adapt"):
        layer(torch.ones(2, 3))
    with pytest.raises(ValueError, match="cannot adapt"):
        Normalization(mean=0.0, variance=1.0).adapt(np.ones((2, 1)))
    with pytest.raises(ValueError, match="no data"):
        Normalization().adapt([])


def test_functional_model_before_adapt_then_save_load(tmp_path):
    norm = Normalization()
    inputs = easynn.Input(shape=(3,))
    outputs = Dense(1)(norm(inputs))  # building the graph before adapt() is allowed
    model = easynn.Model(inputs, outputs)
    data = np.random.default_rng(1).normal(5.0, 3.0, size=(64, 3)).astype("float32")
    norm.adapt(data)
    model.compile(optimizer="adam", loss="mse")
    model.fit(data, data.sum(axis=1, keepdims=True), epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "norm.keras"
    model.save(path)
    restored = easynn.models.load_model(path)
    np.testing.assert_allclose(restored.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-5, atol=1e-5)
    # the statistics were restored with the weights: the loaded layer is usable
    restored_norm = [layer for layer in restored.layers if isinstance(layer, Normalization)][0]
    np.testing.assert_allclose(restored_norm.get_weights()[0], data.mean(0), rtol=1e-4)
