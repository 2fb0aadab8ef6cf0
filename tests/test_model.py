"""The core training API: compile / fit / evaluate / predict, Keras's semantics and errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import easynn
from easynn.layers import Dense, Dropout, Flatten, Input, Reshape


@pytest.fixture(autouse=True)
def seed():
    easynn.utils.set_random_seed(0)


def blobs(n=400, features=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(123).normal(scale=3.0, size=(classes, features))
    labels = rng.integers(0, classes, size=n)
    x = (centers[labels] + rng.normal(size=(n, features))).astype("float32")
    return x, labels


def classifier(classes=3, features=8):
    return easynn.Sequential([Input(shape=(features,)), Dense(16, activation="relu"), Dense(classes, activation="softmax")])


def test_learning_happens_loss_falls_and_accuracy_passes_threshold():
    x, y = blobs()
    model = classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.history["accuracy"][-1] > 0.9
    assert history.epoch == list(range(8))


def test_history_has_val_keys_and_evaluate_matches_val_loss():
    x, y = blobs()
    xv, yv = blobs(100, seed=1)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, validation_data=(xv, yv), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    loss, acc = model.evaluate(xv, yv, verbose=0)
    assert loss == pytest.approx(history.history["val_loss"][-1], rel=1e-5)
    assert acc == pytest.approx(history.history["val_accuracy"][-1], rel=1e-6)
    assert model.history is history


def test_evaluate_return_forms():
    x, y = blobs(64)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
    values = model.evaluate(x, y, verbose=0)
    assert isinstance(values, list) and len(values) == 2
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "acc"}
    assert model.metrics_names == ["loss", "acc"]


def test_evaluate_loss_equals_torch_cross_entropy_on_same_weights():
    x, y = blobs(50)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    probs = model.predict(x, verbose=0)
    expected = F.nll_loss(torch.log(torch.from_numpy(probs)), torch.from_numpy(y)).item()
    assert model.evaluate(x, y, batch_size=7, verbose=0) == pytest.approx(expected, rel=1e-4)


def test_predict_returns_numpy_float32_and_shape():
    x, _ = blobs(70)
    model = classifier()
    out = model.predict(x, batch_size=16, verbose=0)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (70, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_fit_accepts_tensors_lists_and_float64():
    x, y = blobs(64)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(torch.from_numpy(x), torch.from_numpy(y), epochs=1, verbose=0)
    model.fit(x.astype("float64").tolist(), y.tolist(), epochs=1, verbose=0)
    assert next(model.parameters()).dtype == torch.float32


def test_fit_accepts_dataset_and_dataloader():
    x, y = blobs(64)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h1 = model.fit(dataset, epochs=1, batch_size=16, verbose=0)
    h2 = model.fit(torch.utils.data.DataLoader(dataset, batch_size=10), epochs=1, verbose=0)
    assert np.isfinite(h1.history["loss"][0]) and np.isfinite(h2.history["loss"][0])
    # evaluate on the Dataset equals evaluate on the arrays it wraps
    np.testing.assert_allclose(model.evaluate(dataset, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-5)


def test_validation_split_takes_last_fraction_before_shuffling():
    x, y = blobs(100)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    seen = {}

    class Capture(easynn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen["val_loss"] = logs["val_loss"]

    # Snapshot the weights the validation will see: run with lr 0 so fit changes nothing.
    model.optimizer.learning_rate = 0.0
    model.fit(x, y, epochs=1, validation_split=0.2, verbose=0, callbacks=[Capture()])
    assert seen["val_loss"] == pytest.approx(model.evaluate(x[80:], y[80:], verbose=0), rel=1e-5)


def test_short_last_batch_does_not_skew_epoch_loss():
    x, y = blobs(33)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    whole = model.evaluate(x, y, batch_size=33, verbose=0)
    assert model.evaluate(x, y, batch_size=32, verbose=0) == pytest.approx(whole, rel=1e-5)


def test_train_on_batch_test_on_batch_predict_on_batch():
    x, y = blobs(32)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.test_on_batch(x, y)
    for _ in range(20):
        model.train_on_batch(x, y)
    after = model.test_on_batch(x, y)
    assert after[0] < before[0]
    assert model.predict_on_batch(x).shape == (32, 3)
    assert set(model.train_on_batch(x, y, return_dict=True)) == {"loss", "accuracy"}


def test_classic_keras2_script_runs_with_deprecation_warnings():
    x, y = blobs(64, features=100)
    y = easynn.utils.to_categorical(y, 3)
    model = easynn.Sequential()
    with pytest.warns(DeprecationWarning, match="input_dim"):
        model.add(Dense(units=16, activation="relu", input_dim=100))
    model.add(Dense(units=3, activation="softmax"))
    with pytest.warns(DeprecationWarning, match="lr"):
        optimizer = easynn.optimizers.SGD(lr=0.01, momentum=0.9, nesterov=True)
    model.compile(loss=easynn.losses.categorical_crossentropy, optimizer=optimizer, metrics=["accuracy"])
    with pytest.warns(DeprecationWarning, match="nb_epoch"):
        history = model.fit(x, y, nb_epoch=2, batch_size=32, verbose=0)
    assert len(history.history["loss"]) == 2
    loss_and_metrics = model.evaluate(x, y, batch_size=128, verbose=0)
    assert len(loss_and_metrics) == 2


def test_fused_softmax_crossentropy_is_finite_for_confident_wrong_prediction():
    model = easynn.Sequential([Input(shape=(2,)), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.set_weights([np.array([[1000.0, -1000.0], [0.0, 0.0]], "float32"), np.zeros(2, "float32")])
    x = np.array([[1.0, 0.0]], "float32")
    y = np.array([[0.0, 1.0]], "float32")
    loss = model.train_on_batch(x, y)
    # The value is Keras's clipped one, -log(1e-7) (evaluate and the loss function agree) ...
    assert loss == pytest.approx(-np.log(1e-7), rel=1e-4)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(loss, rel=1e-6)
    # ... while the gradient is the fused ŷ − y = (1, -1) for x = (1, 0), not the clipped form's 0:
    # SGD's default learning rate 0.01 moves the first kernel row by -0.01 · (1, -1).
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel[0], [1000.0 - 0.01, -1000.0 + 0.01], rtol=0, atol=1e-4)
    np.testing.assert_allclose(bias, [-0.01, 0.01], rtol=0, atol=1e-6)


def test_fused_gradient_is_prediction_minus_target():
    model = easynn.Sequential([Input(shape=(3,)), Dense(4, activation="softmax")])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=1.0), loss="categorical_crossentropy")
    kernel, bias = model.get_weights()
    x = np.array([[0.5, -1.0, 2.0]], "float32")
    y = np.array([[0, 0, 1, 0]], "float32")
    p = torch.softmax(torch.from_numpy(x @ kernel + bias), -1).numpy()
    model.train_on_batch(x, y)
    new_kernel, new_bias = model.get_weights()
    np.testing.assert_allclose(bias - new_bias, (p - y)[0], rtol=1e-4, atol=1e-6)  # dL/db = ŷ − y
    np.testing.assert_allclose(kernel - new_kernel, x.T @ (p - y), rtol=1e-4, atol=1e-6)


def test_probability_space_crossentropy_clips_like_keras():
    # A function loss is applied to probabilities: Keras clips them to [1e-7, 1 - 1e-7].
    model = easynn.Sequential([Input(shape=(2,)), Dense(2), easynn.layers.Activation(lambda t: torch.softmax(t, -1))])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.set_weights([np.array([[100.0, -100.0], [0.0, 0.0]], "float32"), np.zeros(2, "float32")])
    loss = model.evaluate(np.array([[1.0, 0.0]], "float32"), np.array([[0.0, 1.0]], "float32"), verbose=0)
    assert loss == pytest.approx(-np.log(1e-7), rel=1e-3)


def test_seeding_makes_runs_identical():
    x, y = blobs(64)

    def run():
        easynn.utils.set_random_seed(7)
        model = easynn.Sequential([Input(shape=(8,)), Dense(8, activation="relu"), Dropout(0.3), Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_device_selection_and_override():
    model = classifier()
    model.compile(optimizer="sgd", loss="mse")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert model.device.type == expected
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    assert model.device.type == "cpu" and next(model.parameters()).device.type == "cpu"


def test_lazy_build_infers_input_size():
    model = easynn.Sequential([Dense(5), Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((10, 7), "float32"), np.zeros((10, 2), "float32"), verbose=0)
    assert model.layers[0].get_weights()[0].shape == (7, 5)
    assert model.count_params() == 7 * 5 + 5 + 5 * 2 + 2


def test_sequential_add_pop_layers_and_summary(capsys):
    model = easynn.Sequential(name="net")
    model.add(Input(shape=(4, 3)))
    model.add(Flatten())
    model.add(Dense(6))
    model.add(Reshape((2, 3)))
    assert [type(layer).__name__ for layer in model.layers] == ["Flatten", "Dense", "Reshape"]
    popped = model.pop()
    assert isinstance(popped, Reshape) and len(model.layers) == 2
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "net"' in text and "(None, 6)" in text and "Total params: 78" in text
    assert "Trainable params: 78" in text and "Non-trainable params: 0" in text


def test_get_set_weights_keras_layout_and_order():
    model = classifier()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(8, 16), (16,), (16, 3), (3,)]
    new = [np.full_like(w, i) for i, w in enumerate(weights)]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="expects 4 weight arrays"):
        model.set_weights(new[:3])
    with pytest.raises(ValueError, match="shape"):
        model.set_weights([np.zeros((9, 16))] + new[1:])


def test_optimizer_learning_rate_settable_between_epochs():
    x, y = blobs(32)
    model = classifier()
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.optimizer.learning_rate = 0.0
    before = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.learning_rate == pytest.approx(0.0)


def test_torch_optimizer_class_and_loss_module_and_callable_metric():
    x, y = blobs(64)
    model = classifier()

    def mean_max_prob(y_true, y_pred):
        return y_pred.max(dim=-1).values

    model.compile(optimizer=torch.optim.Adam, loss="sparse_categorical_crossentropy", metrics=[mean_max_prob])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert "mean_max_prob" in history.history
    model2 = easynn.Sequential([Input(shape=(8,)), Dense(3)])
    model2.compile(optimizer="sgd", loss=torch.nn.CrossEntropyLoss())
    h = model2.fit(x, y, epochs=3, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_verbose_modes_print_as_expected(capsys):
    x, y = blobs(32)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert out.count("Epoch") == 2 and "accuracy:" in out and "loss:" in out
    model.fit(x, y, epochs=1, verbose=1)
    out = capsys.readouterr().out  # Keras prints progress to stdout
    assert "Epoch 1/1" in out and "loss" in out


# ---------------------------------------------------------------------- bad input
def compiled():
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def weights_unchanged(model, before):
    return all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_fit_before_compile_raises():
    with pytest.raises(RuntimeError, match="before compile"):
        classifier().fit(np.zeros((4, 8)), np.zeros(4))
    with pytest.raises(RuntimeError, match="before compile"):
        classifier().evaluate(np.zeros((4, 8)), np.zeros(4))


@pytest.mark.parametrize(
    "x, y, kwargs, error, match",
    [
        (np.zeros((10, 8)), np.zeros(9), {}, ValueError, "x has 10 samples but y has 9"),
        (np.zeros((0, 8)), np.zeros(0), {}, ValueError, "empty"),
        (np.full((4, 8), np.nan), np.zeros(4), {}, ValueError, "NaN or infinite"),
        (np.zeros((4, 8)), np.array([0, 1, np.inf, 0]), {}, ValueError, "NaN or infinite"),
        (np.zeros((4, 8)), np.zeros(4), {"batch_size": 0}, ValueError, "batch_size"),
        (np.zeros((4, 8)), np.zeros(4), {"batch_size": 2.5}, ValueError, "batch_size"),
        (np.zeros((4, 8)), np.zeros(4), {"epochs": 0}, ValueError, "epochs"),
        (np.zeros((4, 8)), np.zeros(4), {"epochs": "3"}, ValueError, "epochs"),
        (np.zeros((4, 9)), np.zeros(4), {}, ValueError, r"expects inputs of shape \(batch, ..., 8\).*\(2, 9\)"),
        ([["a"] * 8] * 4, np.zeros(4), {}, TypeError, "numbers"),
    ],
)
def test_bad_fit_input_raises_before_weights_change(x, y, kwargs, error, match):
    model = compiled()
    before = model.get_weights()
    with pytest.raises(error, match=match):
        model.fit(x, y, verbose=0, **kwargs)
    assert weights_unchanged(model, before)


def test_label_format_errors_name_the_loss():
    x, labels = blobs(8)
    model = classifier()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy|to_categorical"):
        model.fit(x, labels, verbose=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        model.fit(x, easynn.utils.to_categorical(labels, 3), verbose=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"optimizer": "sgdd", "loss": "mse"}, "sgd"),
        ({"optimizer": "sgd", "loss": "mse_typo"}, "mean_squared_error"),
        ({"optimizer": "sgd", "loss": "mse", "metrics": ["acuracy"]}, "accuracy"),
    ],
)
def test_unknown_names_list_valid_ones(kwargs, match):
    with pytest.raises(ValueError, match=match):
        classifier().compile(**kwargs)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="relu"):
        Dense(3, activation="rleu")


def test_bad_layer_arguments():
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.5)
    with pytest.raises(TypeError, match="Sequential"):
        easynn.Sequential(["not a layer"])
    with pytest.raises(ValueError, match="unique"):
        easynn.Sequential([Dense(2, name="a"), Dense(2, name="a")])


def test_sequential_build_creates_weights_like_keras():
    model = easynn.Sequential([Dense(4), Dense(2)])
    model.build((None, 8))
    assert model.built and model.count_params() == 8 * 4 + 4 + 4 * 2 + 2
    with pytest.raises(ValueError, match="input_shape"):
        easynn.Sequential([Dense(2)]).build()


def test_first_call_builds_on_the_real_inputs_dtype():
    model = easynn.Sequential([easynn.layers.Embedding(10, 3), Flatten(), Dense(2)])
    out = model(torch.tensor([[1, 2, 3]]))
    assert out.shape == (1, 2) and model.count_params() == 10 * 3 + 9 * 2 + 2


def test_compile_accepts_a_policy_object():
    model = classifier()
    model.compile(optimizer="sgd", loss="mse", mixed_precision=easynn.mixed_precision.Policy("mixed_bfloat16"))
    assert model._precision == torch.bfloat16


def test_uint8_images_are_cast_to_the_float_input_dtype():
    # Keras's MNIST scripts sometimes feed the raw uint8 arrays; a float Input casts them.
    rng = np.random.default_rng(0)
    images = rng.integers(0, 4, size=(12, 4, 4), dtype=np.uint8)
    labels = rng.integers(0, 3, size=12)
    model = easynn.Sequential([Input(shape=(4, 4)), Flatten(), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(images, labels, epochs=1, verbose=0)
    expected = model.predict(images.astype("float32"), verbose=0)
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, rtol=1e-6)
    loss, _ = model.evaluate(images, labels, verbose=0)
    ref = F.nll_loss(torch.log(torch.tensor(expected)), torch.tensor(labels))
    assert loss == pytest.approx(float(ref), rel=1e-5)


def test_class_weight_does_not_weigh_the_validation_split():
    # Keras applies class_weight to the training data only: val_loss is the plain mean loss.
    x, y = blobs(n=40)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=1, verbose=0, shuffle=False, validation_split=0.25,
                        class_weight={0: 10.0, 1: 1.0, 2: 1.0})
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[30:], y[30:], verbose=0), rel=1e-5)


def test_fit_and_evaluate_without_y_say_that_targets_are_missing():
    x, _ = blobs(n=8)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"fit\(\) needs targets: pass y="):
        model.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate\(\) needs targets"):
        model.evaluate(x, verbose=0)


def test_a_single_callback_is_accepted_like_keras_3():
    x, y = blobs(n=16)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    stopper = easynn.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=100.0)
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=stopper)
    assert len(history.history["loss"]) == 2 and stopper.stopped_epoch == 1


def test_metrics_ignore_sample_weights_and_weighted_metrics_use_them_as_in_keras():
    x, y = blobs(n=20)
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    weights = np.zeros(20, dtype="float32")
    weights[:10] = 1.0
    logs = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    correct = model.predict(x, verbose=0).argmax(axis=1) == y
    assert sorted(logs) == ["accuracy", "loss", "weighted_accuracy"]
    assert logs["accuracy"] == pytest.approx(correct.mean())
    assert logs["weighted_accuracy"] == pytest.approx(correct[:10].mean())


def test_out_of_range_sparse_labels_raise_before_training():
    x, y = blobs(16)
    model = compiled()
    before = model.get_weights()
    y = y.copy()
    y[3] = 7
    with pytest.raises(ValueError, match=r"labels from 0 to 7.*3 classes"):
        model.fit(x, y, verbose=0)
    y[3] = -1
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        model.evaluate(x, y, verbose=0)
    assert weights_unchanged(model, before)


def test_subclassed_model_lists_layers_kept_in_a_list():
    class Tower(easynn.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [Dense(4, activation="relu"), Dense(4, activation="relu")]
            self.head = Dense(1)

        def call(self, inputs):
            for block in self.blocks:
                inputs = block(inputs)
            return self.head(inputs)

    model = Tower()
    model(torch.zeros(2, 3))
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense", "Dense"]
    lines = []
    model.summary(print_fn=lines.append)
    assert "ModuleList" not in "\n".join(lines)


def test_uint8_images_train_without_an_input_layer():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(16, 6, 6, 1)).astype("uint8")
    y = rng.integers(0, 2, size=16)
    model = easynn.Sequential([easynn.layers.Conv2D(2, 3), Flatten(), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    flat = easynn.Sequential([Flatten(), Dense(2)])
    out = flat.predict(x, verbose=0)
    np.testing.assert_allclose(out, flat.predict(x.astype("float32"), verbose=0), rtol=1e-6)


def test_a_1d_array_is_not_mistaken_for_one_sample():
    model = easynn.Sequential([Input(shape=(4,)), Dense(3)])
    with pytest.raises(ValueError, match=r"one sample of shape \(4,\) without a batch axis.*x\[None\]"):
        model.predict(np.zeros(4, "float32"), verbose=0)
