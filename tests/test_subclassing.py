"""Subclassing easynn.Model, and plain torch modules inside easynn models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import easynn
from easynn import saving
from easynn.layers import Dense, Dropout


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _data(n=64, d=4):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(n, d, generator=g)
    labels = (x[:, 0] + x[:, 1] > 0).long()
    return x.numpy(), labels.numpy()


class MLP(easynn.Model):
    """Layers in __init__, forward in call; constructor args are plain JSON (auto-captured)."""

    def __init__(self, hidden=16, classes=2, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.hidden = Dense(hidden, activation="relu")
        self.drop = Dropout(rate)
        self.head = Dense(classes, activation="softmax")
        self.seen_training = []

    def call(self, inputs, training=None):
        self.seen_training.append(training)
        return self.head(self.drop(self.hidden(inputs), training=training))


class WithBlock(easynn.Model):
    """Takes a layer object: needs (and has) get_config/from_config."""

    def __init__(self, block, **kwargs):
        super().__init__(**kwargs)
        self.block = block
        self.head = Dense(1)

    def call(self, inputs):
        return self.head(self.block(inputs))

    def get_config(self):
        return {**super().get_config(), "block": saving.serialize_layer(self.block)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["block"] = saving.deserialize_layer(config["block"])
        return cls(**config)


class NoConfig(easynn.Model):
    def __init__(self, block, **kwargs):
        super().__init__(**kwargs)
        self.block = block

    def call(self, inputs):
        return self.block(inputs)


def test_compile_fit_evaluate_predict():
    x, y = _data()
    model = MLP()
    model.compile(optimizer=easynn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.evaluate(x, y, verbose=0)[0]
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert loss < before and acc > 0.85
    assert len(history.history["loss"]) == 15
    probs = model.predict(x, verbose=0)
    assert probs.shape == (64, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert True in model.seen_training and model.seen_training[-1] is False


def test_subclassed_weights_and_layers_are_tracked():
    model = MLP(hidden=5)
    model(torch.zeros(2, 4))
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dropout", "Dense"]
    assert [w.shape for w in model.get_weights()] == [(4, 5), (5,), (5, 2), (2,)]
    assert model.count_params() == 4 * 5 + 5 + 5 * 2 + 2


def test_summary_of_a_called_subclassed_model():
    model = MLP(hidden=5)
    with pytest.raises(ValueError, match="not yet been built"):
        model.summary()
    model(torch.zeros(3, 4))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f'Model: "{model.name}"' in text
    assert "(None, 5)" in text and "(None, 2)" in text
    assert "25" in text and "12" in text and "Total params: 37" in text


def test_auto_captured_config_and_save_load(tmp_path):
    x, y = _data()
    model = MLP(hidden=7, rate=0.2, name="mlp_a")
    assert model.get_config() == {"name": "mlp_a", "trainable": True, "hidden": 7, "classes": 2, "rate": 0.2}
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "mlp.keras")
    restored = saving.load_model(tmp_path / "mlp.keras", custom_objects={"MLP": MLP})
    assert isinstance(restored, MLP) and restored.hidden.units == 7 and restored.drop.rate == 0.2
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)


def test_explicit_get_config_with_nested_layer(tmp_path):
    model = WithBlock(Dense(3, activation="tanh"))
    model(torch.zeros(2, 4))
    model.save(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras", custom_objects={"WithBlock": WithBlock})
    assert restored.block.units == 3
    x = torch.randn(5, 4)
    torch.testing.assert_close(restored(x), model(x))


def test_save_without_config_names_the_class(tmp_path):
    model = NoConfig(Dense(2))
    model(torch.zeros(1, 3))
    with pytest.raises(NotImplementedError, match="NoConfig.*block=Dense.*get_config"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    model.save_weights(tmp_path / "w.bin")  # weights alone need no config
    other = NoConfig(Dense(2))
    other(torch.zeros(1, 3))
    other.load_weights(tmp_path / "w.bin")
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), other.get_weights()))


def test_torch_modules_in_sequential_are_wrapped_and_train():
    x, y = _data()
    model = easynn.Sequential([easynn.Input(shape=(4,)), nn.Linear(4, 16), nn.ReLU(), Dense(2, activation="softmax")])
    assert type(model.layers[0]).__name__ == "TorchModuleWrapper"
    linear = model.layers[0].module
    before = linear.weight.detach().clone()
    model.compile(optimizer=easynn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert not torch.equal(before, linear.weight.detach())
    assert model.evaluate(x, y, verbose=0)[1] > 0.85
    assert len(model.trainable_weights) == 4


def test_torch_conv_in_sequential_trains():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 1, 6, 6, generator=g)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    model = easynn.Sequential([easynn.Input(shape=(1, 6, 6)), nn.Conv2d(1, 4, 3), nn.Flatten(), Dense(2)])
    model.compile(optimizer="adam", loss=easynn.losses.SparseCategoricalCrossentropy(from_logits=True))
    first = model.evaluate(x.numpy(), y.numpy(), verbose=0)
    model.fit(x.numpy(), y.numpy(), epochs=20, batch_size=8, verbose=0)
    assert model.evaluate(x.numpy(), y.numpy(), verbose=0) < 0.7 * first


def test_model_with_torch_module_saves_weights_but_not_architecture(tmp_path):
    model = easynn.Sequential([easynn.Input(shape=(4,)), nn.Linear(4, 3)])
    with pytest.raises(TypeError, match="Linear.*save_weights"):
        model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "w.bin")
    other = easynn.Sequential([easynn.Input(shape=(4,)), nn.Linear(4, 3)])
    other.load_weights(tmp_path / "w.bin")
    torch.testing.assert_close(other(torch.ones(1, 4)), model(torch.ones(1, 4)))
