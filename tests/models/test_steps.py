"""Issue 18: Keras 3's custom-training contract (train_step / test_step / predict_step,
compute_loss, metrics) and functional construction of Model subclasses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import easynn
from easynn import layers


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ rng.normal(size=(4, 1))).astype("float32")


class GuideStep(easynn.Sequential):
    """keras-io's custom_train_step_in_torch pattern, with the easynn optimizer's torch-style step."""

    calls = 0

    def train_step(self, data):
        GuideStep.calls += 1
        x, y = data
        self.optimizer.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        self.optimizer.step()
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=len(x))
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _model(cls):
    easynn.utils.set_random_seed(1)
    model = cls([easynn.Input(shape=(4,)), layers.Dense(8, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    return model


def test_overridden_train_step_is_called_and_equals_the_default_step():
    x, y = _data()
    default, custom = _model(easynn.Sequential), _model(GuideStep)
    GuideStep.calls = 0
    h_default = default.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h_custom = custom.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert GuideStep.calls == 8
    for a, b in zip(default.get_weights(), custom.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert sorted(h_custom.history) == ["loss", "mae"]
    np.testing.assert_allclose(h_custom.history["loss"], h_default.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(h_custom.history["mae"], h_default.history["mae"], rtol=1e-5)


def test_metrics_are_reset_at_each_epoch_and_listed_as_keras():
    x, y = _data()
    model = _model(GuideStep)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    names = [m.name for m in model.metrics]
    assert names == ["loss", "compile_metrics"]
    assert int(model.metrics[0].count) == 32  # one epoch of 32 samples, not accumulated across epochs
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert int(model.metrics[0].count) == 32
    model.reset_metrics()
    assert int(model.metrics[0].count) == 0


def test_attribute_metrics_join_model_metrics_and_reset():
    class WithTracker(easynn.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)
            self.tracker = easynn.training.trackers.LossTracker(name="custom")

        def call(self, inputs):
            return self.dense(inputs)

    model = WithTracker()
    model.tracker.update_state(torch.tensor(2.0))
    assert model.metrics[-1] is model.tracker
    model.reset_metrics()
    assert float(model.tracker.count) == 0


def test_test_step_and_predict_step_overrides_are_used():
    class Custom(easynn.Sequential):
        def test_step(self, data):
            x, y = data
            return {"double_mse": 2 * torch.mean((self(x) - y) ** 2)}

        def predict_step(self, data):
            return self(data) + 100.0

    x, y = _data(8)
    model = Custom([easynn.Input(shape=(4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    with torch.no_grad():
        expected = 2 * torch.mean((model(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2)
    assert logs == {"double_mse": pytest.approx(float(expected), rel=1e-6)}
    np.testing.assert_allclose(model.predict(x, verbose=0), model(torch.from_numpy(x)).detach().numpy() + 100.0,
                               rtol=1e-6)


def test_train_step_must_return_a_dict():
    class Bad(easynn.Sequential):
        def train_step(self, data):
            return 1.0

    model = Bad([easynn.Input(shape=(4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(8)
    with pytest.raises(TypeError, match="train_step.*dict.*batch 0"):
        model.fit(x, y, verbose=0)


def test_stop_training_inside_train_step_stops_fit():
    class Stopper(GuideStep):
        def train_step(self, data):
            logs = super().train_step(data)
            self.stop_training = True
            return logs

    model = _model(Stopper)
    x, y = _data()
    GuideStep.calls = 0
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert GuideStep.calls == 1 and len(history.history["loss"]) == 1


def test_gan_style_model_with_its_own_compile_and_no_call():
    class TwoOptimizers(easynn.Model):
        def __init__(self):
            super().__init__()
            self.a = layers.Dense(1)
            self.b = layers.Dense(1)

        def compile(self, a_optimizer, b_optimizer, loss_fn):
            super().compile()
            self.a_optimizer, self.b_optimizer, self.loss_fn = a_optimizer, b_optimizer, loss_fn

        def train_step(self, data):
            x, y = data
            losses = {}
            for name, layer, optimizer in (("a_loss", self.a, self.a_optimizer), ("b_loss", self.b, self.b_optimizer)):
                optimizer.zero_grad()
                loss = self.loss_fn(layer(x), y)
                loss.backward()
                optimizer.step()
                losses[name] = loss.detach()
            return losses

    model = TwoOptimizers()
    model.a(torch.zeros(1, 4)), model.b(torch.zeros(1, 4))
    model.compile(torch.optim.SGD(model.a.parameters(), lr=0.05), torch.optim.SGD(model.b.parameters(), lr=0.05),
                  torch.nn.functional.mse_loss)
    x, y = _data()
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert history.history["a_loss"][-1] < history.history["a_loss"][0]
    assert history.history["b_loss"][-1] < history.history["b_loss"][0]


def test_compute_loss_adds_the_model_losses():
    model = easynn.Sequential([easynn.Input(shape=(4,)), layers.Dense(1, kernel_regularizer=easynn.regularizers.l2(0.1))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = (torch.from_numpy(a) for a in _data(8))
    y_pred = model(x)
    expected = torch.mean((y_pred - y) ** 2) + 0.1 * model.layers[0].kernel.square().sum()
    torch.testing.assert_close(model.compute_loss(x, y, y_pred), expected)


def test_subclass_built_with_the_functional_constructor():
    class Custom(easynn.Model):
        def train_step(self, data):
            return super().train_step(data)

    inputs = easynn.Input(shape=(4,))
    outputs = layers.Dense(1)(inputs)
    model = Custom(inputs, outputs)
    assert isinstance(model, Custom) and len(model.layers) == 2
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(8)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_functional_subclassing_through_super_init():
    class Wrapped(easynn.Model):
        def __init__(self, units):
            inputs = easynn.Input(shape=(4,))
            outputs = layers.Dense(units)(inputs)
            super().__init__(inputs=inputs, outputs=outputs)
            self.units = units

    model = Wrapped(3)
    assert isinstance(model, Wrapped)
    assert model(torch.ones(2, 4)).shape == (2, 3)


def test_layer_input_and_output_for_feature_extraction():
    inputs = easynn.Input(shape=(4,))
    hidden, head = layers.Dense(3, name="hidden"), layers.Dense(2, name="head")
    model = easynn.Model(inputs, head(hidden(inputs)))
    assert hidden.input is inputs and model.get_layer("hidden").output.shape == (None, 3)
    extractor = easynn.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers[1:]])
    x = torch.randn(5, 4)
    features, scores = extractor(x)
    torch.testing.assert_close(features, hidden(x))
    torch.testing.assert_close(scores, model(x))
    assert not hasattr(layers.Dense(3), "output")  # never called: no output (hasattr stays usable)


def test_sequential_inputs_and_outputs_build_a_feature_extractor():
    model = easynn.Sequential([easynn.Input(shape=(8,)), layers.Dense(4, name="a"), layers.Dense(2, name="b")])
    extractor = easynn.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    x = torch.randn(3, 8)
    hidden, out = extractor(x)
    torch.testing.assert_close(hidden, model.get_layer("a")(x))
    torch.testing.assert_close(out, model(x))
    assert not hasattr(easynn.Sequential([layers.Dense(2)]), "inputs")  # no Input: no symbolic inputs


def test_subclass_taking_layers_as_arguments_is_not_functional():
    class TwoPart(easynn.Model):  # keras-io's VAE pattern: VAE(encoder, decoder)
        def __init__(self, first, second, **kwargs):
            super().__init__(**kwargs)
            self.first, self.second = first, second

        def call(self, inputs):
            return self.second(self.first(inputs))

    model = TwoPart(layers.Dense(3), layers.Dense(2))
    assert type(model) is TwoPart and model(torch.ones(4, 5)).shape == (4, 2)


def test_fit_with_only_added_losses_and_no_trainable_weight_runs():
    class Penalty(layers.Layer):
        def call(self, inputs):
            self.add_loss(0.5 * inputs.mean())
            return inputs

    inputs = easynn.Input(shape=(3,))
    model = easynn.Model(inputs, Penalty()(inputs))
    model.compile(optimizer="adam")
    x = np.full((4, 3), 2.0, "float32")
    history = model.fit(x, x, epochs=1, verbose=0)
    assert history.history["loss"] == [pytest.approx(1.0)]  # 0.5 * mean(2.0): nothing to update, as Keras


class _Endpoint(layers.Layer):
    """keras-io's LogisticEndpoint: called on (targets, logits), adds its own loss."""

    def call(self, targets, logits):
        self.add_loss(torch.nn.functional.binary_cross_entropy_with_logits(logits, targets))
        return torch.sigmoid(logits)


def test_layer_called_on_two_positional_symbolic_tensors_trains_without_a_compiled_loss(tmp_path):
    easynn.utils.set_random_seed(0)
    inputs, targets = easynn.Input(shape=(3,), name="inputs"), easynn.Input(shape=(2,), name="targets")
    predictions = _Endpoint(name="endpoint")(targets, layers.Dense(2)(inputs))
    model = easynn.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer=easynn.optimizers.Adam(0.05))  # no loss: the endpoint adds it
    rng = np.random.default_rng(0)
    data = {"inputs": rng.normal(size=(16, 3)).astype("float32"),
            "targets": (rng.random((16, 2)) > 0.5).astype("float32")}
    history = model.fit(data, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "endpoint.keras"
    model.save(path)
    loaded = easynn.saving.load_model(path, custom_objects={"_Endpoint": _Endpoint})
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-5)
