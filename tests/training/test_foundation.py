"""Issue 11: each piece of training state has one owner. Every test here failed on the old code."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import easynn
from easynn import layers
from easynn.callbacks import Callback


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _bn_dropout_model():
    model = easynn.Sequential([
        easynn.Input(shape=(6,)), layers.Dense(8), layers.BatchNormalization(), layers.Dropout(0.5), layers.Dense(3),
    ])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _data(n=32, d=6, k=3):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, d)).astype("float32"), rng.normal(size=(n, k)).astype("float32")


# ------------------------------------------------------------------ 1. modes are restored
@pytest.mark.parametrize("run", ["fit", "train_on_batch", "evaluate", "predict"])
def test_inference_mode_after_each_entry_point(run):
    model = _bn_dropout_model()
    x, y = _data()
    {"fit": lambda: model.fit(x, y, epochs=1, verbose=0), "train_on_batch": lambda: model.train_on_batch(x, y),
     "evaluate": lambda: model.evaluate(x, y, verbose=0), "predict": lambda: model.predict(x, verbose=0)}[run]()
    assert not any(m.training for m in model.modules())
    stats = model.layers[1].moving_mean.clone()
    first, second = model(torch.from_numpy(x)), model(torch.from_numpy(x))
    torch.testing.assert_close(first, second)  # Dropout off
    torch.testing.assert_close(model.layers[1].moving_mean, stats)  # BatchNormalization statistics untouched


def test_modes_and_grad_mode_restored_after_an_exception():
    model = _bn_dropout_model()
    model.layers[2].train()  # a user's own choice of mode for one layer is kept too
    x, y = _data()

    class Boom(Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    with torch.no_grad():
        with pytest.raises(RuntimeError, match="boom"):
            model.fit(x, y, epochs=1, verbose=0, callbacks=[Boom()])
        assert not torch.is_grad_enabled()
    assert model.layers[2].training and not model.layers[1].training and not model.training


# ------------------------------------------------------------------ 2. losses of the last call only
def test_layer_losses_do_not_pile_up_across_calls():
    model = easynn.Sequential([easynn.Input(shape=(4,)), layers.Dense(3, activity_regularizer="l2")])
    x = torch.ones(2, 4)
    counts = []
    for _ in range(3):
        model(x)
        counts.append(len(model.losses))
    assert counts == [1, 1, 1]


def test_custom_loop_idiom_with_model_losses_runs_several_steps():
    model = easynn.Sequential([easynn.Input(shape=(4,)), layers.Dense(3, activity_regularizer="l2")])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randn(8, 3)
    for _ in range(3):  # the second step failed with "backward through the graph a second time"
        optimizer.zero_grad()
        y_pred = model(x)
        loss = torch.nn.functional.mse_loss(y_pred, y) + sum(model.losses)
        loss.backward()
        optimizer.step()
    assert len(model.losses) == 1


# ------------------------------------------------------------------ 3-6. the fused path without a side door
def _softmax_model(**dense_kwargs):
    model = easynn.Sequential([easynn.Input(shape=(3,)), layers.Dense(4, activation="softmax", **dense_kwargs)])
    return model


def test_loss_weights_apply_on_the_fused_path():
    x = np.random.default_rng(1).normal(size=(6, 3)).astype("float32")
    y = np.array([0, 1, 2, 3, 0, 1])
    model = _softmax_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    base = model.evaluate(x, y, verbose=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", loss_weights=[10.0])
    assert model.evaluate(x, y, verbose=0) == pytest.approx(10 * base, rel=1e-5)


def test_loss_weights_type_errors_name_the_argument():
    model = _softmax_model()
    model.compile(optimizer="sgd", loss="mse", loss_weights=["heavy"])
    with pytest.raises(TypeError, match="loss_weights"):
        model.evaluate(np.ones((2, 3), "float32"), np.ones((2, 4), "float32"), verbose=0)


def test_output_activity_regularizer_joins_the_fused_loss():
    x = np.random.default_rng(2).normal(size=(5, 3)).astype("float32")
    y = np.array([0, 1, 2, 3, 0])
    model = _softmax_model(activity_regularizer=easynn.regularizers.l2(0.01))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss = model.evaluate(x, y, verbose=0)
    with torch.no_grad():
        probs = model(torch.from_numpy(x))
    ce = easynn.losses.sparse_categorical_crossentropy(torch.from_numpy(y), probs).mean()
    penalty = 0.01 * probs.square().sum() / 5  # Keras: l2 of the output, divided by the batch size
    assert loss == pytest.approx(float(ce + penalty), rel=1e-5)
    assert float(penalty) > 1e-3


def test_forward_hooks_on_the_output_layer_fire_during_fit():
    model = _softmax_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    calls = []
    model.build((None, 3))
    model.layers[-1].register_forward_hook(lambda module, inputs, output: calls.append(output.shape))
    model.fit(np.ones((8, 3), "float32"), np.zeros(8), batch_size=4, epochs=1, verbose=0)
    assert len(calls) >= 2  # one per training step (the old fused path bypassed the layer call)


def test_float64_output_layer_after_float32_layers_trains():
    model = easynn.Sequential([easynn.Input(shape=(3,)), layers.Dense(4), layers.Dense(2, activation="softmax")])
    model.build((None, 3))
    model.layers[-1].double()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(np.ones((8, 3), "float32"), np.zeros(8), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_reported_loss_is_keras_clipped_value_everywhere():
    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.set_weights([np.array([[100.0, -100.0], [0.0, 0.0]], "float32"), np.zeros(2, "float32")])
    x, y = np.array([[1.0, 0.0]], "float32"), np.array([[0.0, 1.0]], "float32")
    with torch.no_grad():
        by_hand = easynn.losses.CategoricalCrossentropy()(torch.from_numpy(y), model(torch.from_numpy(x)))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(16.118, abs=1e-3)
    assert float(by_hand) == pytest.approx(16.118, abs=1e-3)


def test_sigmoid_binary_crossentropy_gradient_is_prediction_minus_target():
    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=1.0), loss="binary_crossentropy")
    model.set_weights([np.array([[50.0], [0.0]], "float32"), np.zeros(1, "float32")])  # p ≈ 1, label 0
    model.train_on_batch(np.array([[1.0, 0.0]], "float32"), np.array([[0.0]], "float32"))
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(bias, [-1.0], atol=1e-5)  # dL/db = ŷ − y = 1 (the clipped form gives 0)
    np.testing.assert_allclose(kernel[:, 0], [49.0, 0.0], atol=1e-5)


# ------------------------------------------------------------------ 7. batch logs are snapshots
def test_kept_batch_logs_keep_each_batch_values():
    kept = []

    class Keep(Callback):
        def on_train_batch_end(self, batch, logs=None):
            kept.append(logs)

    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.1), loss="mse")
    x = np.arange(16, dtype="float32").reshape(8, 2) / 8
    model.fit(x, np.ones((8, 1), "float32"), batch_size=2, epochs=1, shuffle=False, verbose=0, callbacks=[Keep()])
    values = [logs["loss"] for logs in kept]
    assert len(values) == 4 and len(set(values)) == 4  # not four copies of the last value


# ------------------------------------------------------------------ 9. no extra forward passes
def _count_forwards(model):
    counter = {"n": 0}
    model.layers[0].register_forward_hook(lambda *args: counter.__setitem__("n", counter["n"] + 1))
    return counter


def test_train_on_batch_runs_one_forward_per_call_after_the_first():
    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    model.train_on_batch(x, y)  # builds the trainer (one probe forward)
    counter = _count_forwards(model)
    for _ in range(10):
        model.train_on_batch(x, y)
    assert counter["n"] == 10


def test_fit_with_validation_runs_no_probe_forward_once_trained():
    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    model.fit(x, y, epochs=1, verbose=0)
    counter = _count_forwards(model)
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), verbose=0)
    assert counter["n"] == 2 + 2  # two training steps, two validation steps


# ------------------------------------------------------------------ 10. arguments work or raise
def test_predict_and_evaluate_steps_limit_the_batches():
    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((20, 2), "float32"), np.ones((20, 1), "float32")
    assert model.predict(x, batch_size=4, steps=1, verbose=0).shape == (4, 1)
    model.evaluate(x, y, verbose=0)  # builds the trainer
    counter = _count_forwards(model)
    model.evaluate(x, y, batch_size=4, steps=2, verbose=0)
    assert counter["n"] == 2


def test_steps_per_execution_calls_batch_hooks_every_n_steps():
    seen = []

    class Seen(Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=2)
    model.fit(np.ones((8, 2), "float32"), np.ones((8, 1), "float32"), batch_size=2, epochs=1, verbose=0,
              callbacks=[Seen()])
    assert seen == [1, 3]


@pytest.mark.parametrize("kwargs, match", [({"steps_per_execution": 0}, "steps_per_execution"),
                                           ({"run_eagerly": "yes"}, "run_eagerly"),
                                           ({"auto_scale_loss": None}, "auto_scale_loss")])
def test_compile_rejects_bad_values(kwargs, match):
    model = easynn.Sequential([layers.Dense(1)])
    with pytest.raises((ValueError, TypeError), match=match):
        model.compile(optimizer="sgd", loss="mse", **kwargs)


def test_auto_scale_loss_false_uses_no_grad_scaler():
    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", mixed_precision="mixed_float16", auto_scale_loss=False, device="cpu")
    model.train_on_batch(np.ones((2, 2), "float32"), np.ones((2, 1), "float32"))
    assert model._trainer.scaler is None


# ------------------------------------------------------------------ 11. one trainer per compile
def test_trainer_and_metric_state_survive_fit_calls_until_recompile():
    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    model.fit(x, y, epochs=1, verbose=0)
    trainer, metric = model._trainer, model._trainer.metrics[0][0]
    model.fit(x, y, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert model._trainer is trainer and model._trainer.metrics[0][0] is metric
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    assert model._trainer is not trainer


def test_current_strategy_is_one_shared_instance():
    from easynn import distribute

    assert distribute.current_strategy() is distribute.current_strategy()


# ------------------------------------------------------------------ 12. layer contract checks
def test_forgotten_super_init_is_named():
    class Forgetful(layers.Layer):
        def __init__(self):
            self.units = 3

    with pytest.raises(RuntimeError, match=r"super\(\).__init__"):
        Forgetful()


def test_begin_hooks_receive_a_dict():
    received = {}

    class Record(Callback):
        def on_train_begin(self, logs=None):
            received["train"] = logs

        def on_epoch_begin(self, epoch, logs=None):
            received["epoch"] = logs

        def on_train_batch_begin(self, batch, logs=None):
            received["batch"] = logs

        def on_test_begin(self, logs=None):
            received["test"] = logs

    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[Record()])
    assert all(isinstance(value, dict) for value in received.values()) and len(received) == 4


# ------------------------------------------------------------------ errors name the user's data
def test_target_shape_errors_show_the_batch_axis_as_none():
    model = easynn.Sequential([easynn.Input(shape=(28, 28)), layers.Dense(32), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError) as error:
        model.fit(np.zeros((1000, 28, 28), "float32"), np.zeros(1000), epochs=1, verbose=0)
    assert "(None, 28, 10)" in str(error.value) and "(2, " not in str(error.value)


def test_input_shape_must_be_a_tuple():
    with pytest.raises(ValueError, match=r"input_shape=\(784,\)"):
        layers.Dense(32, input_shape=784)


def test_linear_output_with_probability_crossentropy_warns_once():
    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(3, name="scores")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.set_weights([np.array([[5.0, -5.0, 0.0], [0.0, 0.0, 0.0]], "float32"), np.zeros(3, "float32")])
    x, y = np.ones((4, 2), "float32"), np.zeros(4)
    with pytest.warns(UserWarning, match="scores.*from_logits=True"):
        model.fit(x, y, epochs=1, verbose=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, epochs=1, verbose=0)  # once per compile, not per fit


def test_adding_a_weight_after_build_raises_but_subclass_builds_may_chain():
    class Late(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1],))

        def call(self, inputs):
            self.extra = self.add_weight((1,))  # state created in call: Keras refuses it too
            return inputs * self.w

    with pytest.raises(RuntimeError, match="already built"):
        Late()(torch.ones(2, 3))

    class Base(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.w

    class Shifted(Base):
        def build(self, input_shape):
            super().build(input_shape)  # the inner build does not lock the layer yet
            self.b = self.add_weight((input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.w + self.b

    torch.testing.assert_close(Shifted()(torch.ones(2, 3)), torch.full((2, 3), 2.0))


def test_predict_on_one_sample_without_batch_axis_says_how_to_add_it():
    model = easynn.Sequential([easynn.Input(shape=(28, 28)), layers.Flatten(), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"without a batch axis.*\(None, 28, 28\).*x\[None\]"):
        model.predict(np.ones((28, 28), "float32"), verbose=0)
    assert model.predict(np.ones((28, 28), "float32")[None], verbose=0).shape == (1, 2)
