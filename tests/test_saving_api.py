"""easynn.saving's Keras serialization API: registration, custom objects, serialize/deserialize,
to_json/model_from_json, clone_model and safe mode for Lambda layers."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

import easynn
from easynn import saving
from easynn.layers import Dense, Layer

PACKAGE = "easynn_tests_api"


@saving.register_keras_serializable(package=PACKAGE)
class Offset(Layer):
    """Adds a constant: a custom layer with one config argument."""

    def __init__(self, offset=1.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def call(self, inputs):
        return inputs + self.offset

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


@saving.register_keras_serializable(package=PACKAGE, name="Wrapper")
class Wrapper(Layer):
    """Holds a nested layer in its config (Keras's pattern: get_config returns the layer object)."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, inputs):
        return self.inner(inputs)

    def get_config(self):
        return {**super().get_config(), "inner": self.inner}

    @classmethod
    def from_config(cls, config):
        config["inner"] = saving.deserialize_keras_object(config["inner"])
        return cls(**config)


@saving.register_keras_serializable(package=PACKAGE)
class Gain(easynn.regularizers.Regularizer):
    """A custom regularizer class."""

    def __init__(self, factor=0.1):
        self.factor = factor

    def __call__(self, weight):
        return self.factor * weight.abs().sum()

    def get_config(self):
        return {"factor": self.factor}


@saving.register_keras_serializable(package=PACKAGE)
class Doubled(easynn.Model):
    """A subclassed model (constructor arguments captured automatically)."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.dense = Dense(units)

    def call(self, inputs):
        return self.dense(inputs) * 2


@saving.register_keras_serializable(package=PACKAGE)
def cube(x):
    return x * x * x


@saving.register_keras_serializable(package=PACKAGE)
def half_mse(y_true, y_pred):
    return 0.5 * ((y_true - y_pred) ** 2).mean(dim=-1)


def triple(x):  # deliberately NOT registered: a Lambda calling it needs unsafe mode or custom_objects
    return x * 3


class Unregistered(Layer):
    def call(self, inputs):
        return inputs - 1


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


@pytest.fixture
def unsafe():
    """Unsafe deserialization enabled for one test, and always switched off again."""
    easynn.config.enable_unsafe_deserialization()
    try:
        yield
    finally:
        easynn.config.disable_unsafe_deserialization()


def _x(n=4, d=3):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(3))


def _same_outputs(a, b, x):
    return torch.allclose(a(x), b(x), atol=1e-6)


# --------------------------------------------------------------------------- registration
def test_register_keras_serializable_names_and_lookups():
    assert saving.get_registered_name(Offset) == f"{PACKAGE}>Offset"
    assert saving.get_registered_name(Wrapper) == f"{PACKAGE}>Wrapper"
    assert saving.get_registered_name(cube) == f"{PACKAGE}>cube"
    assert saving.get_registered_object(f"{PACKAGE}>Offset") is Offset
    assert saving.get_custom_objects()[f"{PACKAGE}>cube"] is cube
    assert saving.get_registered_name(Unregistered) == "Unregistered"
    assert saving.get_registered_object("Unregistered") is None
    # The Keras spellings are the same objects.
    assert easynn.utils.register_keras_serializable is saving.register_keras_serializable
    assert easynn.utils.get_custom_objects is saving.get_custom_objects
    assert easynn.utils.deserialize_keras_object is saving.deserialize_keras_object
    assert saving.register_serializable is saving.register_keras_serializable


def test_register_refuses_bad_input_and_clashes():
    with pytest.raises(ValueError, match="already registered"):
        saving.register_keras_serializable(package=PACKAGE, name="Offset")(Unregistered)
    with pytest.raises(ValueError, match="package"):
        saving.register_keras_serializable(package="")
    with pytest.raises(ValueError, match="name"):
        saving.register_keras_serializable(package="x", name="a>b")

    class NoConfig:
        pass

    with pytest.raises(TypeError, match="get_config"):
        saving.register_keras_serializable(package="x")(NoConfig)
    # Re-running the same definition (a notebook cell) is not a clash.
    assert saving.register_keras_serializable(package=PACKAGE)(Offset) is Offset


def test_get_custom_objects_is_the_live_registry(monkeypatch):
    registry = saving.get_custom_objects()
    monkeypatch.setattr(saving.registry, "_REGISTERED", dict(registry))  # restored after the test
    saving.get_custom_objects().clear()
    assert saving.get_registered_object(f"{PACKAGE}>Offset") is None
    assert saving.get_registered_name(Offset) == "Offset"  # no stale name after clear()
    saving.get_custom_objects()["Manual>Offset"] = Offset
    assert saving.get_registered_object("Manual>Offset") is Offset
    # easynn's own classes survive clear(): a Sequential still round-trips.
    model = easynn.Sequential([easynn.Input(shape=(3,)), Dense(2)])
    assert isinstance(saving.model_from_json(saving.to_json(model)), easynn.Sequential)


def test_custom_object_scope_is_scoped_and_nests():
    assert saving.get_registered_object("Unregistered") is None
    with saving.custom_object_scope({"Unregistered": Unregistered}):
        assert saving.get_registered_object("Unregistered") is Unregistered
        with saving.CustomObjectScope({"triple": triple}):
            assert saving.get_registered_object("Unregistered") is Unregistered
            assert saving.get_registered_object("triple") is triple
        assert saving.get_registered_object("triple") is None
    assert saving.get_registered_object("Unregistered") is None
    with pytest.raises(TypeError, match="custom_objects"):
        saving.custom_object_scope(["not", "a", "dict"])


# --------------------------------------------------------------------------- serialize / deserialize
def test_serialize_keras_object_format_for_builtins_and_registered():
    config = saving.serialize_keras_object(easynn.regularizers.L1(0.005))
    assert config == {"module": "easynn.regularizers", "class_name": "L1", "config": {"l1": 0.005},
                      "registered_name": None}
    restored = saving.deserialize_keras_object(config)
    assert isinstance(restored, easynn.regularizers.L1) and restored.l1 == pytest.approx(0.005)
    entry = saving.serialize_keras_object(Offset(2.5, name="off"))
    assert entry["class_name"] == "Offset" and entry["registered_name"] == f"{PACKAGE}>Offset"
    assert entry["config"]["offset"] == 2.5 and entry["config"]["name"] == "off"
    assert saving.serialize_keras_object(cube) == {"module": __name__, "class_name": "function",
                                                   "config": f"{PACKAGE}>cube", "registered_name": f"{PACKAGE}>cube"}
    assert saving.deserialize_keras_object(saving.serialize_keras_object(cube)) is cube
    # Plain data, containers, arrays and tensors.
    data = {"a": [1, 2.5, None, "s"], "t": (1, 2), "arr": np.arange(3, dtype=np.int32),
            "ten": torch.tensor([[1.0, 2.0]]), "np_scalar": np.float32(1.5)}
    serialized = saving.serialize_keras_object(data)
    json.dumps(serialized)  # plain JSON
    back = saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert back["a"] == [1, 2.5, None, "s"] and back["t"] == [1, 2] and back["np_scalar"] == 1.5
    assert back["arr"].dtype == np.int32 and back["arr"].tolist() == [0, 1, 2]
    assert torch.equal(back["ten"], torch.tensor([[1.0, 2.0]]))


def test_serialize_deserialize_layer_round_trip_equality():
    layer = Dense(3, activation=cube, kernel_regularizer=Gain(0.25), name="d")
    config = saving.serialize_keras_object(layer)
    assert config["config"]["activation"]["registered_name"] == f"{PACKAGE}>cube"
    assert config["config"]["kernel_regularizer"]["class_name"] == "Gain"
    restored = saving.deserialize_keras_object(json.loads(json.dumps(config)))
    assert isinstance(restored, Dense) and restored.activation is cube
    regularizer = restored.get_config()["kernel_regularizer"]
    assert regularizer == {"class_name": "Gain", "config": {"factor": 0.25}}
    assert saving.serialize_keras_object(restored)["config"] == config["config"]


def test_nested_layer_in_config_round_trips_through_keras_layers_aliases():
    outer = Wrapper(Offset(3.0, name="inner_off"), name="wrap")
    config = easynn.layers.serialize(outer)
    assert config["config"]["inner"]["class_name"] == "Offset"  # the nested layer became a dict
    restored = easynn.layers.deserialize(json.loads(json.dumps(config)))
    assert isinstance(restored.inner, Offset) and restored.inner.offset == 3.0
    assert torch.equal(restored(torch.zeros(1, 2)), torch.full((1, 2), 3.0))


def test_deserialize_by_custom_objects_and_scope():
    config = saving.serialize_keras_object(Unregistered(name="u"))
    assert config["registered_name"] == "Unregistered"
    with pytest.raises(ValueError, match="Unknown class 'Unregistered'.*register_keras_serializable"):
        saving.deserialize_keras_object(config)
    assert isinstance(saving.deserialize_keras_object(config, custom_objects={"Unregistered": Unregistered}), Unregistered)
    with saving.custom_object_scope({"Unregistered": Unregistered}):
        assert isinstance(saving.deserialize_keras_object(config), Unregistered)


def test_anonymous_lambdas_and_unknown_objects_cannot_be_serialized():
    with pytest.raises(TypeError, match="anonymous function"):
        saving.serialize_keras_object(lambda x: x)
    with pytest.raises(TypeError, match="Cannot serialize"):
        saving.serialize_keras_object(object())


def test_a_config_cannot_name_arbitrary_functions_or_classes():
    for entry in ({"module": "os", "class_name": "function", "config": "system", "registered_name": "system"},
                  {"module": "builtins", "class_name": "function", "config": "eval", "registered_name": None}):
        with pytest.raises(ValueError, match="Unknown function"):
            saving.deserialize_keras_object(entry)
    with pytest.raises(ValueError, match="Unknown class 'Popen'"):
        saving.deserialize_keras_object({"module": "subprocess", "class_name": "Popen", "config": {"args": "true"},
                                         "registered_name": None})
    with pytest.raises(ValueError, match="never runs code"):
        saving.deserialize_keras_object({"class_name": "__lambda__", "config": {"code": "AAAA"}})


# --------------------------------------------------------------------------- model files with custom objects
@pytest.mark.parametrize("how", ["registered", "custom_objects"])
def test_model_file_with_custom_layer_activation_and_loss(how, tmp_path):
    inputs = easynn.Input(shape=(3,))
    hidden = Offset(0.5)(Dense(4, activation=cube)(inputs))
    model = easynn.Model(inputs, Dense(1)(hidden))
    model.compile(optimizer="sgd", loss=half_mse)
    x, y = _x(8, 3).numpy(), np.ones((8, 1), dtype=np.float32)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    custom = {"Offset": Offset, "cube": cube, "half_mse": half_mse} if how == "custom_objects" else None
    restored = saving.load_model(tmp_path / "m.keras", custom_objects=custom)
    assert restored.loss is half_mse and restored.layers[1].activation is cube
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


# --------------------------------------------------------------------------- to_json / model_from_json
def _functional():
    inputs = easynn.Input(shape=(3,))
    return easynn.Model(inputs, Dense(2)(Offset(1.0)(Dense(4, activation="relu")(inputs))))


@pytest.mark.parametrize("builder", [
    lambda: easynn.Sequential([easynn.Input(shape=(3,)), Dense(4, activation="relu"), Offset(2.0), Dense(2)]),
    _functional,
], ids=["sequential", "functional"])
def test_to_json_model_from_json_same_architecture_new_weights(builder):
    model = builder()
    text = saving.to_json(model, indent=1)
    config = json.loads(text)
    assert config["class_name"] in ("Sequential", "Functional") and config["registered_name"] is None
    rebuilt = saving.model_from_json(text)
    assert type(rebuilt) is type(model)
    assert [type(layer).__name__ for layer in rebuilt.layers] == [type(layer).__name__ for layer in model.layers]
    assert rebuilt.count_params() == model.count_params()
    assert not all(np.array_equal(a, b) for a, b in zip(rebuilt.get_weights(), model.get_weights()))
    rebuilt.set_weights(model.get_weights())
    assert _same_outputs(rebuilt, model, _x())
    assert json.loads(saving.to_json(rebuilt)) == config  # same architecture, same JSON


def test_to_json_of_unbuilt_input_free_sequential_and_subclassed_model():
    model = easynn.Sequential([Dense(4), Dense(1)])
    model(torch.zeros(2, 5))
    rebuilt = saving.model_from_json(saving.to_json(model))
    assert rebuilt.built and rebuilt.count_params() == model.count_params()  # built from build_config
    sub = Doubled(units=2)
    sub(torch.zeros(1, 3))
    rebuilt = saving.model_from_json(saving.to_json(sub))
    assert isinstance(rebuilt, Doubled) and rebuilt.built and rebuilt.count_params() == 8


def test_to_json_of_a_compiled_model_restores_compile_arguments():
    model = easynn.Sequential([easynn.Input(shape=(3,)), Dense(1)])
    model.compile(optimizer=easynn.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    config = json.loads(saving.to_json(model))
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    rebuilt = saving.model_from_json(saving.to_json(model))
    assert rebuilt.compiled and type(rebuilt.optimizer).__name__ == "Adam"
    assert rebuilt.optimizer.learning_rate == pytest.approx(0.01)


def test_model_from_json_rejects_bad_text():
    with pytest.raises(ValueError, match="not valid JSON"):
        saving.model_from_json("{not json")
    with pytest.raises(ValueError, match="class_name"):
        saving.model_from_json("[1, 2]")
    with pytest.raises(TypeError, match="JSON string"):
        saving.model_from_json({"class_name": "Sequential"})


# --------------------------------------------------------------------------- clone_model
@pytest.mark.parametrize("kind", ["sequential", "functional", "subclassed"])
def test_clone_model_same_architecture_new_weights(kind):
    if kind == "sequential":
        model = easynn.Sequential([easynn.Input(shape=(3,)), Dense(4, activation="relu"), Unregistered(), Dense(2)])
    elif kind == "functional":
        model = _functional()
    else:
        model = Doubled(units=2)
        model(torch.zeros(1, 3))
    clone = saving.clone_model(model)
    assert type(clone) is type(model) and clone is not model and clone.built
    assert clone.count_params() == model.count_params()
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert not any(np.array_equal(a, b) for a, b in zip(clone.get_weights(), model.get_weights()) if a.ndim == 2)
    clone.set_weights(model.get_weights())
    assert _same_outputs(clone, model, _x())
    assert not getattr(clone, "compiled", False)


def test_clone_model_clone_function_and_shared_layers():
    inputs = easynn.Input(shape=(3,))
    shared = Dense(3, name="shared")
    model = easynn.Model(inputs, shared(shared(inputs)))
    seen = []

    def clone_function(layer):
        seen.append(layer.name)
        config = layer.get_config()
        config["name"] = layer.name + "_copy"
        return type(layer).from_config(config)

    clone = saving.clone_model(model, clone_function=clone_function)
    assert seen == ["shared"]  # one clone for a layer called twice
    assert [layer.name for layer in clone.layers if isinstance(layer, Dense)] == ["shared_copy"]
    clone.set_weights(model.get_weights())
    assert _same_outputs(clone, model, _x())
    with pytest.raises(TypeError, match="clone_function"):
        saving.clone_model(model, clone_function=lambda layer: "not a layer")
    with pytest.raises(ValueError, match="input_tensors.*easynn.Input"):
        saving.clone_model(model, input_tensors=[shared.output])


def test_clone_model_keeps_a_lambda_function():
    model = easynn.Sequential([easynn.Input(shape=(3,)), easynn.layers.Lambda(lambda t: t * 5), Dense(1)])
    clone = saving.clone_model(model)
    x = torch.ones(1, 3)
    assert torch.equal(clone.layers[0](x), x * 5)


# --------------------------------------------------------------------------- Lambda layers and safe mode
def _lambda_model(function):
    return easynn.Sequential([easynn.Input(shape=(3,)), Dense(2), easynn.layers.Lambda(function)])


def test_lambda_with_registered_function_loads_in_safe_mode(tmp_path):
    model = _lambda_model(cube)
    model.save(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras")
    assert restored.layers[1].function is cube and _same_outputs(restored, model, _x())


def test_lambda_with_unregistered_function_is_refused_in_safe_mode(tmp_path):
    model = _lambda_model(triple)
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Refusing to rebuild Lambda layer.*'triple'.*enable_unsafe_deserialization"):
        saving.load_model(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Refusing"):
        saving.model_from_json(saving.to_json(model))
    # custom_objects are given by the loading code: accepted in safe mode.
    restored = saving.load_model(tmp_path / "m.keras", custom_objects={"triple": triple})
    assert restored.layers[1].function is triple


def test_lambda_with_unregistered_function_loads_when_unsafe(tmp_path, unsafe):
    model = _lambda_model(triple)
    model.save(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras")
    assert restored.layers[1].function is triple and _same_outputs(restored, model, _x())
    assert saving.model_from_json(saving.to_json(model)).layers[1].function is triple


def test_safe_mode_false_argument_and_scope_precedence(tmp_path):
    model = _lambda_model(triple)
    model.save(tmp_path / "m.keras")
    assert saving.load_model(tmp_path / "m.keras", safe_mode=False).layers[1].function is triple
    config = json.loads(saving.to_json(model))
    assert saving.deserialize_keras_object(config, safe_mode=False).layers[1].function is triple
    assert not easynn.config.unsafe_deserialization_enabled()  # the argument did not leak
    with pytest.raises(ValueError, match="Refusing"):
        saving.deserialize_keras_object(config)


def test_unsafe_mode_never_imports_a_module(tmp_path, unsafe):
    model = _lambda_model(triple)
    config = json.loads(saving.to_json(model))
    config["config"]["layers"][2]["config"]["function"]["module"] = "easynn_no_such_module_xyz"
    with pytest.raises(ValueError, match="never imports"):
        saving.deserialize_keras_object(config)
    assert "easynn_no_such_module_xyz" not in sys.modules


def test_anonymous_lambda_layer_cannot_be_saved(tmp_path):
    model = _lambda_model(lambda t: t * 2)
    with pytest.raises(TypeError, match="Lambda layer .* anonymous lambda"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
