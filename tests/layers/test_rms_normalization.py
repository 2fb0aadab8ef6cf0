"""RMSNormalization against a torch reference, Keras's weight layout, errors and save/load."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import Dense, Input, RMSNormalization
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _reference(x, scale, axes, eps):
    return x * torch.rsqrt(x.square().mean(dim=axes, keepdim=True) + eps) * scale


def test_hand_worked_value():
    out = RMSNormalization(epsilon=0.5)(torch.tensor([[3.0, 4.0]]))  # mean square 12.5, + 0.5 = 13
    torch.testing.assert_close(out, torch.tensor([[3.0, 4.0]]) / 13**0.5)


def test_shape_params_config_and_weights():
    layer = RMSNormalization()
    check_layer(layer, torch.randn(2, 3, 5), (2, 3, 5), 5)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["scale"]
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones(5, np.float32))
    assert layer.get_config()["axis"] == -1 and layer.get_config()["epsilon"] == 1e-6
    assert len(layer.trainable_weights) == 1


def test_matches_reference_with_learned_scale():
    x = torch.randn(4, 6, dtype=torch.float64)
    layer = RMSNormalization(epsilon=1e-3, dtype="float64")
    layer(x)
    layer.set_weights([np.linspace(0.5, 2.0, 6)])
    scale = torch.linspace(0.5, 2.0, 6, dtype=torch.float64)
    torch.testing.assert_close(layer(x), _reference(x, scale, (-1,), 1e-3))
    if hasattr(torch.nn.functional, "rms_norm"):
        torch.testing.assert_close(layer(x), torch.nn.functional.rms_norm(x, (6,), scale, eps=1e-3))


def test_several_axes_keep_keras_scale_layout():
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    layer = RMSNormalization(axis=[2, 1], dtype="float64")
    layer(x)
    assert layer.get_weights()[0].shape == (4, 3)  # the sizes along axis, in the order given
    scale = torch.rand(4, 3, dtype=torch.float64) + 0.5
    layer.set_weights([scale.numpy()])
    torch.testing.assert_close(layer(x), _reference(x, scale.T, (1, 2), 1e-6))


def test_gradients():
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    layer = RMSNormalization(dtype="float64")
    assert torch.autograd.gradcheck(layer, (x,))


def test_bad_arguments():
    with pytest.raises(TypeError, match="axis"):
        RMSNormalization(axis="last")
    with pytest.raises(ValueError, match="epsilon"):
        RMSNormalization(epsilon=0)
    with pytest.raises(ValueError, match="axis"):
        RMSNormalization(axis=3)(torch.ones(2, 3))
    with pytest.raises(ValueError, match="axis"):
        RMSNormalization(axis=[1, -1])(torch.ones(2, 3))


def test_sequential_fit_save_and_load(tmp_path):
    model = easynn.Sequential([Input(shape=(3, 4)), RMSNormalization(axis=[1, 2]), Dense(2)])
    x = torch.randn(8, 3, 4)
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.5), loss="mse")
    model.fit(x, torch.randn(8, 3, 2), epochs=2, verbose=0)
    scale = model.layers[0].get_weights()[0]
    assert scale.shape == (3, 4) and not np.allclose(scale, 1.0)  # trained
    model.save(tmp_path / "rms.keras")
    restored = easynn.models.load_model(tmp_path / "rms.keras")
    assert restored.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_array_equal(restored.layers[0].get_weights()[0], scale)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
