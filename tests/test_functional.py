"""The functional API: graph construction, running, training, summary and config round trip."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import Concatenate, Dense, Dropout, InputLayer, TorchModuleWrapper
from easynn.models.functional import Functional


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _dense(layer, x):
    """A Dense layer's function written out with its own weights."""
    kernel, bias = (torch.as_tensor(w) for w in layer.get_weights())
    return x @ kernel + bias


def _two_branch():
    inputs = easynn.Input(shape=(4,), name="features")
    a = Dense(3, activation="relu", name="branch_a")(inputs)
    b = Dense(2, activation="tanh", name="branch_b")(inputs)
    merged = Concatenate(name="merge")([a, b])
    outputs = Dense(2, name="head")(merged)
    return easynn.Model(inputs=inputs, outputs=outputs, name="two_branch")


def test_two_branch_model_equals_manual_composition():
    model = _two_branch()
    assert isinstance(model, Functional) and model.name == "two_branch"
    x = torch.randn(5, 4)
    a = torch.relu(_dense(model.get_layer("branch_a"), x))
    b = torch.tanh(_dense(model.get_layer("branch_b"), x))
    expected = _dense(model.get_layer("head"), torch.cat([a, b], dim=-1))
    torch.testing.assert_close(model(x), expected)
    assert [layer.name for layer in model.layers] == ["features", "branch_a", "branch_b", "merge", "head"]
    assert isinstance(model.layers[0], InputLayer)
    assert model.input_shape == (None, 4) and model.output_shape == (None, 2)
    assert model.count_params() == (4 * 3 + 3) + (4 * 2 + 2) + (5 * 2 + 2)


def test_positional_constructor_and_list_outputs():
    x = easynn.Input(shape=(3,))
    y = Dense(2)(x)
    model = easynn.Model(x, [y])
    out = model(torch.zeros(4, 3))
    assert isinstance(out, list) and out[0].shape == (4, 2)
    assert model.output_shape == [(None, 2)]


def test_shared_layer_has_one_set_of_weights():
    left, right = easynn.Input(shape=(4,), name="left"), easynn.Input(shape=(4,), name="right")
    shared = Dense(3, name="shared")
    merged = easynn.layers.Subtract()([shared(left), shared(right)])
    model = easynn.Model([left, right], merged)
    assert sum(layer is shared for layer in model.layers) == 1
    assert len(model.trainable_weights) == 2 and len(list(model.parameters())) == 2
    assert sorted(model.state_dict()) == sorted(f"_layers.2.{k}" for k in ("kernel", "bias"))
    xl, xr = torch.randn(2, 4), torch.randn(2, 4)
    torch.testing.assert_close(model([xl, xr]), _dense(shared, xl) - _dense(shared, xr))
    connected = model.layer_connections()[id(shared)]
    assert connected == ["left[0][0]", "right[0][0]"]
    assert model.layer_connections()[id(model.layers[-1])] == ["shared[0][0]", "shared[1][0]"]


def test_input_errors():
    model = _two_branch()
    with pytest.raises(ValueError, match=r"expected shape \(None, 4\), but received shape \(2, 5\)"):
        model(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="expects 1 input"):
        model([torch.zeros(2, 4), torch.zeros(2, 4)])
    with pytest.raises(TypeError, match="`outputs` must hold symbolic tensors"):
        easynn.Model(easynn.Input(shape=(2,)), [torch.zeros(1)])


def test_graph_disconnected_names_the_missing_input():
    a, b = easynn.Input(shape=(2,), name="in_a"), easynn.Input(shape=(2,), name="in_b")
    out = easynn.layers.Add()([Dense(1)(a), Dense(1)(b)])
    with pytest.raises(ValueError, match="Graph disconnected.*'in_b'"):
        easynn.Model(a, out)


def test_duplicate_layer_names_are_rejected():
    x = easynn.Input(shape=(2,))
    y = Dense(2, name="twin")(Dense(2, name="twin")(x))
    with pytest.raises(ValueError, match="'twin' is used by two different layers"):
        easynn.Model(x, y)


def test_training_flag_reaches_layers():
    x = easynn.Input(shape=(200,))
    model = easynn.Model(x, Dropout(0.5)(x))
    ones = torch.ones(3, 200)
    torch.testing.assert_close(model(ones, training=False), ones)
    dropped = model(ones, training=True)
    assert (dropped == 0).any() and set(dropped.unique().tolist()) <= {0.0, 2.0}


def _multi_io_model():
    a, b = easynn.Input(shape=(4,), name="a"), easynn.Input(shape=(3,), name="b")
    h = Concatenate()([Dense(16, activation="relu")(a), Dense(16, activation="relu")(b)])
    reg = Dense(1, name="reg")(h)
    cls = Dense(3, activation="softmax", name="cls")(h)
    return easynn.Model([a, b], [reg, cls])


def _multi_io_data(n=96):
    rng = np.random.default_rng(0)
    xa = rng.normal(size=(n, 4)).astype("float32")
    xb = rng.normal(size=(n, 3)).astype("float32")
    y_reg = (xa[:, :1] - xb[:, 1:2]).astype("float32")
    y_cls = (xb[:, 0] > 0).astype("int64") + (xa[:, 0] > 1).astype("int64")
    return [xa, xb], [y_reg, y_cls]


def test_multi_input_multi_output_fit_per_output_losses():
    model = _multi_io_model()
    assert model.output_names == ["reg", "cls"]
    model.compile(optimizer="adam", loss=["mse", "sparse_categorical_crossentropy"], metrics=["accuracy"])
    x, y = _multi_io_data()
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0).history
    assert set(history) == {"loss", "reg_loss", "cls_loss", "reg_accuracy", "cls_accuracy"}
    assert history["loss"][-1] < history["loss"][0]
    np.testing.assert_allclose(history["loss"], np.add(history["reg_loss"], history["cls_loss"]), rtol=1e-5)
    predictions = model.predict(x, verbose=0)
    assert isinstance(predictions, list) and [p.shape for p in predictions] == [(96, 1), (96, 3)]
    # evaluate's list follows Keras: total loss, per-output losses, then metrics.
    values = model.evaluate(x, y, verbose=0)
    expected_reg = float(np.mean((predictions[0] - y[0]) ** 2))
    assert model.metrics_names[:3] == ["loss", "reg_loss", "cls_loss"]
    assert values[1] == pytest.approx(expected_reg, rel=1e-4)


def test_multi_output_shared_and_dict_losses():
    x, y = _multi_io_data(32)
    y = [y[0], np.eye(3, dtype="float32")[y[1]]]
    model = _multi_io_model()
    model.compile(optimizer="sgd", loss="mse")  # one loss shared by both outputs
    history = model.fit(x, y, epochs=2, verbose=0).history
    assert set(history) == {"loss", "reg_loss", "cls_loss"}
    model = _multi_io_model()
    model.compile(optimizer="sgd", loss={"cls": "categorical_crossentropy", "reg": "mae"}, loss_weights={"reg": 0.5, "cls": 1.0})
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    pred_reg, pred_cls = model.predict(x, verbose=0)
    assert logs["reg_loss"] == pytest.approx(0.5 * float(np.mean(np.abs(pred_reg - y[0]))), rel=1e-4)
    ce = -np.mean(np.sum(y[1] * np.log(pred_cls), axis=-1))
    assert logs["cls_loss"] == pytest.approx(ce, rel=1e-4)


def test_summary_shows_connections():
    lines = []
    model = _two_branch()
    model.summary(print_fn=lines.append, line_length=140)  # wide enough for one line per row
    text = "\n".join(lines)
    assert "Connected to" in text
    row = next(line for line in lines if line.startswith("│ merge "))
    assert "branch_a[0][0], branch_b[0][0]" in row and "(None, 5)" in row
    assert "features[0][0]" in next(line for line in lines if line.startswith("│ branch_b "))
    assert "(None, 4)" in next(line for line in lines if line.startswith("│ features "))


def test_config_round_trip_rebuilds_the_same_function():
    left, right = easynn.Input(shape=(4,), name="left"), easynn.Input(shape=(4,), name="right")
    shared = Dense(3, activation="relu", name="shared")
    h = Concatenate(name="cat")([shared(left), shared(right)])
    out_a = Dense(2, activation="softmax", name="out_a")(h)
    out_b = Dense(1, name="out_b")(shared(Dense(4, name="proj")(h)))
    model = easynn.Model([left, right], [out_a, out_b], name="siamese")
    config = model.get_config()
    assert [spec["name"] for spec in config["layers"]][:2] == ["left", "right"]
    shared_spec = next(spec for spec in config["layers"] if spec["name"] == "shared")
    assert [node["inputs"] for node in shared_spec["inbound_nodes"]] == [["left", 0, 0], ["right", 0, 0], ["proj", 0, 0]]
    clone = Functional.from_config(config)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert clone.name == "siamese" and clone.output_names == ["out_a", "out_b"]
    clone.set_weights(model.get_weights())
    x = [torch.randn(5, 4), torch.randn(5, 4)]
    for got, want in zip(clone(x), model(x)):
        torch.testing.assert_close(got, want)
    assert clone.get_config() == config


def test_plain_torch_module_needs_wrapper():
    x = easynn.Input(shape=(4,))
    with pytest.raises(TypeError, match="TorchModuleWrapper"):
        torch.nn.Linear(4, 3)(x)


def test_wrapped_torch_module_trains_in_functional_model():
    x = easynn.Input(shape=(4,))
    linear = torch.nn.Linear(4, 3)
    model = easynn.Model(x, Dense(1)(TorchModuleWrapper(linear)(x)))
    assert any(p is linear.weight for p in model.parameters())
    before = linear.weight.detach().clone()
    data = np.random.default_rng(1).normal(size=(64, 4)).astype("float32")
    target = data @ np.array([[1.0], [-2.0], [0.5], [0.0]], dtype="float32")
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(data, target, epochs=10, batch_size=16, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    assert not torch.equal(before, linear.weight.detach().cpu())


def test_fused_softmax_crossentropy_uses_the_output_layers_logits():
    x = easynn.Input(shape=(2,))
    head = Dense(3, activation="softmax", name="head")
    hidden = Dense(4, name="hidden")
    model = easynn.Model(x, head(hidden(x)))
    assert model.final_activation() == "softmax"
    data = torch.randn(8, 2)
    output = model(data)
    # The output layer runs through its normal call; its output carries the logits it came from.
    torch.testing.assert_close(output._keras_logits, head.call_logits(hidden(data)))
    # Huge logits: softmax saturates to exact 0/1. The reported loss is Keras's clipped value ...
    with torch.no_grad():
        head.kernel.mul_(1e4)
    labels = np.eye(3, dtype="float32")[np.arange(8) % 3]
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    loss = model.evaluate(data.numpy(), labels, verbose=0)
    with torch.no_grad():
        probs = model(data.to(model.device)).cpu()
    clipped = -(torch.as_tensor(labels) * probs.clamp(1e-7, 1 - 1e-7).log()).sum(-1).mean()
    assert np.isfinite(loss) and loss == pytest.approx(float(clipped), rel=1e-4)
    # ... and the gradient is the fused one, softmax(z) − y, finite and non-zero.
    model.zero_grad()
    model.compute_loss(y=torch.as_tensor(labels), y_pred=model(data)).backward()
    assert torch.isfinite(head.bias.grad).all() and head.bias.grad.abs().sum() > 0.1


def test_multi_output_model_has_no_final_activation():
    model = _multi_io_model()
    assert model.final_activation() is None


def test_save_and_load_model_round_trip(tmp_path):
    model = _multi_io_model()
    model.compile(optimizer="adam", loss=["mse", "sparse_categorical_crossentropy"])
    x, y = _multi_io_data(32)
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "multi.keras"
    model.save(path)
    loaded = easynn.load_model(path)
    assert isinstance(loaded, Functional) and loaded.output_names == ["reg", "cls"]
    for got, want in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert easynn.Model.from_config(model.get_config()).output_names == ["reg", "cls"]


def test_example_learns_both_branches():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "functional.py"
    spec = importlib.util.spec_from_file_location("functional_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    # 4 classes; the label needs both inputs, so one branch alone cannot pass ~0.5.
    assert example.main(verbose=0, samples=1500, epochs=6) > 0.6


def test_deepcopy_gives_an_independent_model_with_the_same_graph():
    import copy

    model = _two_branch()
    clone = copy.deepcopy(model)
    x = torch.randn(3, 4)
    torch.testing.assert_close(clone(x), model(x))
    assert clone.get_config() == model.get_config()
    with torch.no_grad():
        clone.get_layer("head").bias.add_(1.0)
    torch.testing.assert_close(clone(x), model(x) + 1.0)


def test_symbolic_tensor_in_keyword_argument_is_a_clear_error():
    # A symbolic tensor in a keyword argument the graph does not record must say so instead of
    # failing on a (None, 2) vs (2, 2) shape mismatch. (The RNN layers record Keras's seq2seq
    # idiom LSTM(...)(x, initial_state=[h, c]) as inputs: tests/layers/test_rnn_wrappers.py.)
    class Shift(easynn.layers.Layer):
        def call(self, inputs, offset=None):
            return inputs + offset

    x = easynn.Input(shape=(3, 4))
    h = easynn.Input(shape=(4,))
    with pytest.raises(NotImplementedError, match=r"keyword argument\(s\) \['offset'\]"):
        Shift()(x, offset=h)


def test_unknown_spatial_axes_stay_unknown_and_any_image_size_runs():
    from easynn.layers import Conv2D, GlobalAveragePooling2D, MaxPooling2D

    inputs = easynn.Input(shape=(None, None, 3))
    x = Conv2D(4, 3, activation="relu")(inputs)
    assert x.shape == (None, None, None, 4)
    x = MaxPooling2D()(x)
    outputs = Dense(2, activation="softmax")(GlobalAveragePooling2D()(x))
    assert outputs.shape == (None, 2)
    model = easynn.Model(inputs, outputs)
    assert model(torch.zeros(1, 40, 50, 3)).shape == (1, 2)
    assert model(torch.zeros(3, 9, 12, 3)).shape == (3, 2)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, None, None, 4)" in text and "(None, 2)" in text
    sequence = easynn.Input(shape=(None, 6))
    assert easynn.layers.LSTM(5, return_sequences=True)(sequence).shape == (None, None, 5)


def test_a_dict_of_inputs_is_matched_by_key_in_call_fit_and_saving(tmp_path):
    a, b = easynn.Input((2,), name="age_in"), easynn.Input((3,), name="other_in")
    joined = easynn.layers.Concatenate()([a, b])
    model = easynn.Model(inputs={"age": a, "other": b}, outputs=easynn.layers.Dense(1)(joined))
    assert list(model.input) == ["age", "other"] and model.input["age"] is a
    x = {"other": np.linspace(0, 1, 12, dtype="float32").reshape(4, 3), "age": np.ones((4, 2), "float32")}
    kernel, bias = (w.detach().numpy() for w in model.layers[-1].weights)
    expected = np.concatenate([x["age"], x["other"]], axis=1) @ kernel + bias  # keys, not dict order
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5)
    by_layer_names = {"age_in": torch.from_numpy(x["age"]), "other_in": torch.from_numpy(x["other"])}
    np.testing.assert_allclose(model(by_layer_names).detach().numpy(), expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"missing \['other'\]"):
        model({"age": torch.ones(1, 2)})
    model.compile(optimizer="sgd", loss="mse")
    losses = model.fit(x, np.zeros((4, 1), "float32"), epochs=3, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    model.save(tmp_path / "dict_inputs.keras")
    loaded = easynn.models.load_model(tmp_path / "dict_inputs.keras")
    assert list(loaded.input) == ["age", "other"]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_an_intermediate_tensor_as_input_starts_the_model_there(tmp_path):
    raw = easynn.Input((4,), name="raw")
    hidden = Dense(8, activation="relu", name="pre")(raw)
    out = Dense(2, name="head")(Dense(3, name="mid")(hidden))
    full = easynn.Model(raw, out)
    tail = easynn.Model(hidden, out)  # Keras 3: the graph is cut at `hidden`
    assert [layer.name for layer in tail.layers][1:] == ["mid", "head"] and tail.input_shape == (None, 8)
    assert isinstance(tail.layers[0], InputLayer)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    features = full.get_layer("pre")(x)
    torch.testing.assert_close(tail(features), full(x))  # same layers, same weights
    with pytest.raises(ValueError, match="expected shape"):
        tail(x)  # it takes the 8 features, not the raw 4
    tail.save(tmp_path / "tail.keras")
    loaded = easynn.models.load_model(tmp_path / "tail.keras")
    torch.testing.assert_close(loaded(features), tail(features))
    both = easynn.Model([raw, hidden], [out, hidden])  # an input may also be an output
    torch.testing.assert_close(both([x, features])[1], features)
