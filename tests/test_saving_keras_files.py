"""Loading files written by Keras 3: ``load_model("m.keras")`` and ``model.load_weights("w.weights.h5")``.

The fixtures in tests/fixtures/keras3/ were written by Keras 3.15.1 (torch backend) with
scripts/make_keras_fixtures.py, together with the inputs and Keras's own predictions; Keras is
not needed to run these tests, h5py is (the tests that read HDF5 are skipped without it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import sys
import zipfile

import numpy as np
import pytest
import torch

import easynn
from easynn import saving
from easynn.layers import BatchNormalization, Dense, Dropout
from easynn.saving import keras_format, keras_h5

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras3")
needs_h5py = pytest.mark.skipif(
    importlib.util.find_spec("h5py") is None,
    reason='h5py is not installed; Keras files need it (pip install "easynn[keras-files]")',
)
# sequence_zoo feeds a masked sequence to EinsumDense, which (in Keras too) drops the mask with a warning.
pytestmark = pytest.mark.filterwarnings("ignore:Layer 'einsum_dense.*does not support masking:UserWarning")

PREDICTING = ["mlp", "cnn", "rnn", "attention", "two_branches", "sequence_zoo", "image_zoo", "branches"]
WITH_WEIGHTS_FILE = ["mlp", "cnn", "rnn", "attention", "two_branches", "branches"]
FUNCTIONAL = ["cnn", "rnn", "attention", "two_branches", "sequence_zoo", "image_zoo", "branches"]


def _path(name: str, suffix: str) -> str:
    return os.path.join(FIXTURES, name + suffix)


def _inputs(name: str):
    with np.load(_path(name, ".inputs.npz"), allow_pickle=False) as data:
        xs = [data[f"x{i}"] for i in range(len(data.files))]
    return xs if len(xs) > 1 else xs[0]


def _expected(name: str) -> np.ndarray:
    return np.load(_path(name, ".predictions.npy"), allow_pickle=False)


def _assert_predicts_like_keras(model, name: str) -> None:
    got = model.predict(_inputs(name), verbose=0)
    got = np.asarray(got[0] if isinstance(got, list) else got)  # the fixtures hold the first output
    np.testing.assert_allclose(got, _expected(name), atol=1e-5, rtol=1e-5)


def _keras_config(name: str) -> dict:
    with zipfile.ZipFile(_path(name, ".keras")) as archive:
        return json.loads(archive.read("config.json"))


def _rewrite_keras_file(tmp_path, name: str, config: dict | None = None, weights: bytes | None = None) -> str:
    """A copy of a fixture with its config.json and/or model.weights.h5 replaced."""
    target = str(tmp_path / f"{name}.keras")
    with zipfile.ZipFile(_path(name, ".keras")) as source, zipfile.ZipFile(target, "w") as out:
        for item in source.namelist():
            data = source.read(item)
            if item == "config.json" and config is not None:
                data = json.dumps(config).encode()
            if item == "model.weights.h5" and weights is not None:
                data = weights
            out.writestr(item, data)
    return target


class Scale(easynn.layers.Layer):
    """easynn's version of the fixtures' custom Keras layer ``Fixtures>Scale``."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        return inputs * self.scale


def double(x):
    return x * 2.0


# --------------------------------------------------------------------------- load_model
@needs_h5py
@pytest.mark.parametrize("name", PREDICTING)
def test_load_model_predicts_like_keras(name):
    model = saving.load_model(_path(name, ".keras"))
    assert isinstance(model, easynn.Model)
    _assert_predicts_like_keras(model, name)


@needs_h5py
def test_keras_model_keeps_structure_and_compile_state():
    model = saving.load_model(_path("mlp", ".keras"))
    assert type(model).__name__ == "Sequential" and model.name == "mlp"
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dropout", "BatchNormalization", "Dense"]
    assert model.count_params() == 115  # Keras's own count for this model
    assert model.compiled and type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    x = _inputs("mlp")
    labels = np.array([0, 2, 1])
    y = np.eye(3, dtype="float32")[labels]
    probabilities = _expected("mlp")
    crossentropy = float(np.mean(-np.log(probabilities[np.arange(3), labels])))
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(crossentropy, rel=1e-5)
    assert accuracy == pytest.approx(float(np.mean(probabilities.argmax(1) == labels)))
    assert not saving.load_model(_path("mlp", ".keras"), compile=False).compiled


@needs_h5py
def test_functional_layers_keep_keras_names_and_the_mask_only_node_is_dropped():
    model = saving.load_model(_path("rnn", ".keras"))
    names = [layer.name for layer in model.layers]
    assert names == ["tokens", "embedding", "lstm", "gru", "dense_3"]  # Keras's NotEqual mask op is gone
    two = saving.load_model(_path("two_branches", ".keras"))
    assert [tuple(t.shape) for t in two.inputs] == [(None, 10, 3), (None, 6, 6, 2)]
    assert type(two.get_layer("head")).__name__ == "Sequential"


@needs_h5py
def test_keras_initializers_and_regularizers_become_easynn_ones():
    model = saving.load_model(_path("image_zoo", ".keras"))
    by_type = {type(layer).__name__: layer for layer in model.layers}
    dense = by_type["Dense"]
    assert type(dense.kernel_regularizer).__name__ == "L2" and dense.kernel_regularizer.get_config() == {"l2": 0.01}
    assert type(by_type["Conv2D"].kernel_initializer).__name__ == "GlorotUniform"
    assert by_type["GroupNormalization"].groups == 2 and by_type["ReLU"].max_value == 6.0


# --------------------------------------------------------------------------- load_weights
@needs_h5py
@pytest.mark.parametrize("name", WITH_WEIGHTS_FILE)
def test_load_weights_h5_restores_keras_weights(name):
    model = saving.load_model(_path(name, ".keras"), compile=False)
    with torch.no_grad():
        for weight in model.weights:
            weight.add_(1.0)
    model.load_weights(_path(name, ".weights.h5"))
    _assert_predicts_like_keras(model, name)


def _easynn_mlp(out_units: int = 3, batch_norm: bool = True) -> easynn.Sequential:
    layers = [easynn.Input(shape=(6,)), Dense(8, activation="relu", name="hidden"), Dropout(0.3)]
    if batch_norm:
        layers.append(BatchNormalization(name="norm"))
    return easynn.Sequential([*layers, Dense(out_units, activation="softmax", name="out")])


@needs_h5py
def test_load_weights_into_a_model_built_in_code_matches_by_position():
    model = _easynn_mlp()  # other layer names than Keras's: weights go by position, as in Keras
    model.load_weights(_path("mlp", ".weights.h5"))
    _assert_predicts_like_keras(model, "mlp")
    other = _easynn_mlp()
    other.load_weights(_path("mlp", ".keras"))  # the weights inside a Keras .keras file
    _assert_predicts_like_keras(other, "mlp")


@needs_h5py
def test_load_weights_from_another_architecture_is_refused():
    model = _easynn_mlp(batch_norm=False)
    before = [w.clone() for w in model.weights]
    with pytest.raises(ValueError, match=r"does not have: \['layers/batch_normalization'\]"):
        model.load_weights(_path("mlp", ".weights.h5"))
    assert all(torch.equal(a, b) for a, b in zip(before, model.weights))  # nothing changed
    wider = _easynn_mlp(out_units=4)
    with pytest.raises(ValueError, match=r"Layer 'out' \(Dense\) weight 0 has shape \(8, 4\).*\(8, 3\)"):
        wider.load_weights(_path("mlp", ".weights.h5"))
    with pytest.warns(UserWarning, match="Skipping mismatched weights: Layer 'out'"):
        wider.load_weights(_path("mlp", ".weights.h5"), skip_mismatch=True)
    keras_model = saving.load_model(_path("mlp", ".keras"), compile=False)
    for name, keras_name in (("hidden", "dense"), ("norm", "batch_normalization")):  # the others were loaded
        for mine, theirs in zip(wider.get_layer(name).get_weights(), keras_model.get_layer(keras_name).get_weights()):
            np.testing.assert_array_equal(mine, theirs)


def _easynn_branches() -> easynn.Model:
    """The fixture ``branches`` written with easynn: parallel Dense layers of equal shapes."""
    inputs = easynn.Input(shape=(4,))
    a = Dense(4)(inputs)
    b = Dense(4)(inputs)
    c = Dense(4)(b)
    d = Dense(4)(a)
    e = Dense(4)(easynn.layers.Add()([d, c]))
    f = Dense(4)(inputs)
    return easynn.Model(inputs, [easynn.layers.Add()([e, f]), c])


@needs_h5py
def test_load_weights_follows_keras_layer_order_across_parallel_branches():
    model = _easynn_branches()
    model.load_weights(_path("branches", ".weights.h5"))
    _assert_predicts_like_keras(model, "branches")


@needs_h5py
@pytest.mark.parametrize("name", FUNCTIONAL)
def test_keras_layer_order_of_a_functional_model_is_keras_own(name):
    model = saving.load_model(_path(name, ".keras"), compile=False)
    ours = [layer.name for layer in keras_h5._keras_layer_order(model)]
    theirs = [spec["name"] for spec in _keras_config(name)["config"]["layers"]]
    assert ours == [name for name in theirs if name in ours] and len(ours) == len(model.layers)


@needs_h5py
def test_load_weights_into_an_unbuilt_model_says_build_first():
    model = easynn.Sequential([Dense(8), Dense(3)])
    with pytest.raises(ValueError, match="Build the model first"):
        model.load_weights(_path("mlp", ".weights.h5"))


# --------------------------------------------------------------------------- refusals
@needs_h5py
def test_unknown_keras_layer_names_it_and_the_supported_layers():
    with pytest.raises(ValueError, match="Unknown layer class 'SpectralNormalization'") as info:
        saving.load_model(_path("unsupported", ".keras"))
    message = str(info.value)
    assert "The Keras layers easynn loads:" in message
    assert all(name in message for name in ("Dense", "Conv2D", "LSTM", "MultiHeadAttention"))


@needs_h5py
def test_custom_keras_layer_loads_only_with_an_easynn_class():
    with pytest.raises(ValueError, match=r"Unknown layer class 'Scale' \(registered as 'Fixtures>Scale'\)"):
        saving.load_model(_path("custom", ".keras"))
    model = saving.load_model(_path("custom", ".keras"), custom_objects={"Scale": Scale})
    assert isinstance(model.layers[0], Scale)
    _assert_predicts_like_keras(model, "custom")


@needs_h5py
@pytest.mark.parametrize("safe_mode", [True, False])
def test_keras_lambda_bytecode_is_never_run(safe_mode):
    with pytest.raises(ValueError, match="Python lambda stored as bytecode"):
        saving.load_model(_path("lambda_layer", ".keras"), safe_mode=safe_mode)


@needs_h5py
def test_keras_lambda_with_named_function_needs_it_registered(tmp_path):
    config = _keras_config("lambda_layer")
    # How Keras 3 writes Lambda(double) for a function defined with `def`.
    config["config"]["layers"][1]["config"]["function"] = {
        "module": "builtins",
        "class_name": "function",
        "config": "double",
        "registered_name": "function",
    }
    path = _rewrite_keras_file(tmp_path, "lambda_layer", config=config)
    with pytest.raises(ValueError, match="Refusing to rebuild Lambda layer 'lambda'.*'double'"):
        saving.load_model(path)
    model = saving.load_model(path, custom_objects={"double": double})
    _assert_predicts_like_keras(model, "lambda_layer")  # Keras's model computed lambda x: x * 2.0


@needs_h5py
def test_nothing_is_unpickled_or_unmarshalled(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a Keras file made easynn unpickle something")

    import marshal

    for module, name in ((pickle, "loads"), (pickle, "load"), (pickle, "Unpickler"), (marshal, "loads")):
        monkeypatch.setattr(module, name, refuse)
    model = saving.load_model(_path("mlp", ".keras"))
    _assert_predicts_like_keras(model, "mlp")
    with pytest.raises(ValueError, match="bytecode"):
        saving.load_model(_path("lambda_layer", ".keras"), safe_mode=False)


def test_unsupported_option_that_is_on_is_refused_and_off_options_are_dropped():
    config = _keras_config("mlp")
    dense = config["config"]["layers"][1]
    translated = keras_format.layer_entry(dense)["config"]
    assert "quantization_config" not in translated and translated["units"] == 8
    assert translated["kernel_initializer"] == {"class_name": "GlorotUniform", "config": {"seed": None}}
    dense["config"]["quantization_config"] = {"mode": "int8"}
    with pytest.raises(ValueError, match=r"Layer 'dense' \(Dense\) was saved by Keras with quantization_config="):
        keras_format.layer_entry(dense)


def test_keras_call_with_tensor_keyword_arguments_is_refused():
    config = _keras_config("attention")
    layers = config["config"]["layers"]
    node = layers[1]["inbound_nodes"][0]  # MultiHeadAttention(x, x)
    node["kwargs"]["attention_mask"] = node["args"].pop()
    with pytest.raises(ValueError, match=r"keyword argument\(s\) \['attention_mask'\]"):
        keras_format.translate_model(config)


def test_keras_group_names_follow_keras():
    assert [keras_h5.snake_case(n) for n in ("Conv2DTranspose", "BatchNormalization", "LSTM", "DepthwiseConv2D")] == [
        "conv2d_transpose",
        "batch_normalization",
        "lstm",
        "depthwise_conv2d",
    ]
    assert keras_h5.container_paths(["Dense", "Conv2D", "Dense", "Dense"], "layers") == [
        "layers/dense",
        "layers/conv2d",
        "layers/dense_1",
        "layers/dense_2",
    ]


# --------------------------------------------------------------------------- damaged files
@needs_h5py
def test_truncated_keras_file_is_a_value_error(tmp_path):
    with open(_path("mlp", ".keras"), "rb") as handle:
        data = handle.read()
    path = tmp_path / "cut.keras"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupted or truncated"):
        saving.load_model(str(path))


@needs_h5py
def test_truncated_weights_file_is_a_value_error(tmp_path):
    with open(_path("mlp", ".weights.h5"), "rb") as handle:
        data = handle.read()
    path = tmp_path / "cut.weights.h5"
    path.write_bytes(data[: len(data) - 100])
    model = _easynn_mlp()
    with pytest.raises(ValueError, match="truncated or corrupted: it is not a readable HDF5 file"):
        model.load_weights(str(path))


@needs_h5py
def test_corrupted_or_missing_weights_member_is_a_value_error(tmp_path):
    path = _rewrite_keras_file(tmp_path, "mlp", weights=b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(
        ValueError, match=r"written by Keras 3.15.1; member model.weights.h5\) is truncated or corrupted"
    ):
        saving.load_model(path)
    missing = str(tmp_path / "missing.keras")
    with zipfile.ZipFile(_path("mlp", ".keras")) as source, zipfile.ZipFile(missing, "w") as out:
        for item in ("metadata.json", "config.json"):
            out.writestr(item, source.read(item))
    with pytest.raises(ValueError, match="incomplete or corrupted: the member model.weights.h5 is missing"):
        saving.load_model(missing)


@needs_h5py
def test_keras2_legacy_hdf5_is_refused_with_a_hint(tmp_path):
    import h5py

    path = str(tmp_path / "legacy.weights.h5")
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = [b"dense"]
        handle.create_dataset("dense/dense/kernel:0", data=np.zeros((6, 8), "float32"))
    with pytest.raises(ValueError, match="Keras 2 \\(legacy HDF5\\)"):
        _easynn_mlp().load_weights(path)


def test_without_h5py_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"needs h5py.*easynn\[keras-files\]"):
        saving.load_model(_path("mlp", ".keras"))
