"""A layer's own dtype policy (easynn/layers/_precision.py), against torch.autocast and float32."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import easynn
from easynn import layers


def _x(*shape, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0)).to(dtype)


@pytest.mark.parametrize("policy, half", [("mixed_float16", torch.float16), ("mixed_bfloat16", torch.bfloat16)])
def test_a_mixed_dense_keeps_float32_weights_and_computes_in_half(policy, half):
    layer = layers.Dense(5, dtype=policy)
    x = _x(3, 4)
    y = layer(x)
    assert layer.kernel.dtype == torch.float32 and layer.bias.dtype == torch.float32
    assert y.dtype == half
    assert (layer.dtype_policy.name, layer.compute_dtype, layer.variable_dtype) == (policy, str(half)[6:], "float32")
    with torch.autocast("cpu", dtype=half):  # what Keras's mixed Dense computes: x·W + b in half
        expected = F.linear(x.to(half), layer.kernel.t(), layer.bias)
    torch.testing.assert_close(y, expected, rtol=0, atol=0)
    y.float().sum().backward()  # gradients reach the float32 weights, close to the float32 ones
    assert layer.kernel.grad.dtype == torch.float32
    torch.testing.assert_close(layer.kernel.grad, x.t() @ torch.ones(3, 5), rtol=2e-2, atol=2e-2)


def test_a_layer_without_a_policy_follows_autocast_and_an_explicit_float32_one_does_not():
    x = _x(3, 4)
    plain, pinned = layers.Dense(5), layers.Dense(5, dtype="float32")
    plain(x), pinned(x)
    pinned.set_weights(plain.get_weights())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert plain(x).dtype == torch.bfloat16
        out = pinned(x)
        assert layers.Activation("softmax", dtype="float32")(plain(x)).dtype == torch.float32
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, plain(x), rtol=0, atol=0)  # computed exactly as in float32


def test_an_explicit_float_policy_casts_the_inputs_of_a_weightless_layer():
    assert layers.Activation("relu", dtype="float32")(_x(2, 3, dtype=torch.float64)).dtype == torch.float32
    assert layers.Activation("relu")(_x(2, 3, dtype=torch.float64)).dtype == torch.float64  # no policy: as given
    assert layers.Embedding(10, 4, dtype="float32")(torch.tensor([[1, 2]])).dtype == torch.float32  # ints untouched


def test_converting_a_pinned_layer_with_double_still_works():
    layer = layers.Dense(3, dtype="float32")
    layer(_x(2, 4))
    layer.double()
    assert layer(_x(2, 4, dtype=torch.float64)).dtype == torch.float64


def test_the_policy_survives_get_config_and_saving(tmp_path):
    layer = layers.Dense(2, dtype="mixed_bfloat16")
    assert layer.get_config()["dtype"] == "mixed_bfloat16"
    clone = layers.Dense.from_config(layer.get_config())
    assert clone.dtype_policy == "mixed_bfloat16"
    model = easynn.Sequential([easynn.Input((4,)), layers.Dense(8, activation="relu", dtype="mixed_bfloat16"),
                               layers.Dense(2, dtype="float32")])
    model.save(tmp_path / "m.keras")
    loaded = easynn.models.load_model(tmp_path / "m.keras")
    assert [layer.dtype_policy.name for layer in loaded.layers] == ["mixed_bfloat16", "float32"]
    x = _x(3, 4)
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)


def test_a_model_with_mixed_layers_trains_and_keeps_float32_weights():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype("float32")
    y = (x[:, :1] - x[:, 1:2] > 0).astype("float32")
    model = easynn.Sequential([easynn.Input((4,)), layers.Dense(16, activation="relu", dtype="mixed_bfloat16"),
                               layers.Dense(1, activation="sigmoid", dtype="float32")])
    model.compile(optimizer=easynn.optimizers.Adam(0.05), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]
    assert all(w.dtype == torch.float32 for w in model.weights)
    assert model.predict(x[:2], verbose=0).dtype == np.float32


def test_bad_layer_policies_raise_before_building():
    with pytest.raises(ValueError, match=r"`name` must be one of.*mixed_float32"):
        layers.Dense(2, dtype="mixed_float32")
