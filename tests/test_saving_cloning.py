"""easynn.models.clone_model with Keras 3's arguments: input_tensors, clone_function, call_function
and recursive, for Sequential and functional models (the basic cases are in test_saving_api.py)."""

from __future__ import annotations

import pytest
import torch

import easynn
from easynn.layers import Concatenate, Dense, Dropout, Layer
from easynn.models import clone_model


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _x(n=5, d=3, seed=1):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def _dense(layer, x):
    return x @ layer.kernel + layer.bias


class Pair(Layer):
    """Called with two positional tensors, ``Pair()(a, b)`` (keras-io's LogisticEndpoint pattern)."""

    def call(self, a, b):
        return a - b


def _two_inputs():
    left, right = easynn.Input(shape=(3,), name="left"), easynn.Input(shape=(2,), name="right")
    merged = Concatenate(name="merge")([Dense(4, name="a")(left), Dense(4, name="b")(right)])
    return easynn.Model([left, right], Dense(1, name="head")(merged), name="two_inputs")


# --------------------------------------------------------------------------- input_tensors
def test_functional_clone_is_built_on_the_given_inputs():
    model = _two_inputs()
    new_left, new_right = easynn.Input(shape=(3,), name="new_left"), easynn.Input(shape=(2,), name="new_right")
    clone = clone_model(model, input_tensors=[new_left, new_right])
    assert clone.inputs[0] is new_left and clone.inputs[1] is new_right
    assert clone.input_names == ["new_left", "new_right"] and clone.name == "two_inputs"
    assert [type(layer).__name__ for layer in clone.layers] == [type(layer).__name__ for layer in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    clone.set_weights(model.get_weights())
    xl, xr = _x(4, 3), _x(4, 2, seed=2)
    torch.testing.assert_close(clone([xl, xr]), model([xl, xr]))
    # A dict keyed by input name is the same structure.
    again = clone_model(model, input_tensors={"right": easynn.Input(shape=(2,)), "left": easynn.Input(shape=(3,))})
    assert [t.shape for t in again.inputs] == [(None, 3), (None, 2)]


def test_sequential_clone_is_built_on_the_given_input():
    model = easynn.Sequential([easynn.Input(shape=(3,), name="features"), Dense(4, activation="relu"), Dense(2)])
    new_input = easynn.Input(shape=(3,), name="other")
    clone = clone_model(model, input_tensors=[new_input])
    assert isinstance(clone, easynn.Sequential) and clone.inputs[0] is new_input
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    clone.set_weights(model.get_weights())
    torch.testing.assert_close(clone(_x()), model(_x()))
    # Without input_tensors the new Input copies the original's name, shape and dtype.
    default = clone_model(model)
    assert default.inputs[0] is not model.inputs[0]
    assert default.inputs[0].input_layer.name == "features" and default.input_shape == (None, 3)


def test_bad_input_tensors_are_refused_with_the_expected_structure():
    model = _two_inputs()
    with pytest.raises(ValueError, match="same structure as model.input: 2 tensor"):
        clone_model(model, input_tensors=easynn.Input(shape=(3,)))
    with pytest.raises(ValueError, match=r"Missing: \['right'\]"):
        clone_model(model, input_tensors={"left": easynn.Input(shape=(3,))})
    with pytest.raises(ValueError, match=r"easynn.Input.*input_tensors\[1\]=tensor"):
        clone_model(model, input_tensors=[easynn.Input(shape=(3,)), torch.zeros(1, 2)])
    hidden = Dense(3, name="hidden")(easynn.Input(shape=(3,)))
    with pytest.raises(ValueError, match="output of layer 'hidden'"):
        clone_model(easynn.Sequential([easynn.Input(shape=(3,)), Dense(1)]), input_tensors=hidden)
    with pytest.raises(ValueError, match="one tensor"):
        clone_model(
            easynn.Sequential([easynn.Input(shape=(3,)), Dense(1)]),
            input_tensors=[easynn.Input(shape=(3,)), easynn.Input(shape=(3,))],
        )


# --------------------------------------------------------------------------- clone_function
def test_clone_function_changes_each_layer_and_is_never_given_an_input_layer():
    inputs = easynn.Input(shape=(3,))
    model = easynn.Model(
        inputs, Dense(2, activation="relu", name="out")(Dense(4, activation="relu", name="hidden")(inputs))
    )
    seen = []

    def to_tanh(layer):
        seen.append(type(layer).__name__)
        config = layer.get_config()
        config["activation"] = "tanh"
        return type(layer).from_config(config)

    clone = clone_model(model, clone_function=to_tanh)
    assert seen == ["Dense", "Dense"]
    clone.set_weights(model.get_weights())
    hidden, out = model.layers[1], model.layers[2]
    expected = torch.tanh(_dense(out, torch.tanh(_dense(hidden, _x()))))
    torch.testing.assert_close(clone(_x()), expected)


def test_clone_function_returning_the_layer_shares_it():
    model = easynn.Sequential([easynn.Input(shape=(3,)), Dense(4), Dense(1)])
    clone = clone_model(model, clone_function=lambda layer: layer)
    assert all(a is b for a, b in zip(clone.layers, model.layers)) and clone is not model
    torch.testing.assert_close(clone(_x()), model(_x()))


def test_shared_layer_is_cloned_once_and_stays_shared():
    left, right = easynn.Input(shape=(3,), name="l"), easynn.Input(shape=(3,), name="r")
    shared = Dense(2, name="shared")
    model = easynn.Model([left, right], easynn.layers.Subtract()([shared(left), shared(right)]))
    clone = clone_model(model)
    copies = [layer for layer in clone.layers if isinstance(layer, Dense)]
    assert len(copies) == 1 and copies[0] is not shared and clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    xl, xr = _x(), _x(seed=4)
    torch.testing.assert_close(clone([xl, xr]), _dense(shared, xl) - _dense(shared, xr))


# --------------------------------------------------------------------------- call_function
def test_call_function_inserts_dropout_after_every_dense():
    inputs = easynn.Input(shape=(3,))
    model = easynn.Model(inputs, Dense(1)(Dense(8, activation="relu")(inputs)))

    def add_dropout(layer, *args, **kwargs):
        outputs = layer(*args, **kwargs)
        return Dropout(0.5)(outputs) if isinstance(layer, Dense) else outputs

    clone = clone_model(model, clone_function=lambda layer: layer, call_function=add_dropout)
    assert [type(layer).__name__ for layer in clone.layers] == ["InputLayer", "Dense", "Dropout", "Dense", "Dropout"]
    assert clone.layers[1] is model.layers[1]  # clone_function kept the layers
    x = _x(64)
    torch.testing.assert_close(clone(x, training=False), model(x))  # Dropout is the identity at inference
    hidden = clone.layers[2](torch.relu(_dense(model.layers[1], x)), training=True)
    assert (hidden == 0).any()  # and drops units in training


def test_call_function_receives_the_call_arguments():
    a, b = easynn.Input(shape=(2,), name="a"), easynn.Input(shape=(2,), name="b")
    joined = Concatenate(name="cat")([a, b])
    model = easynn.Model([a, b], [joined, Pair(name="pair")(a, b)])
    calls = {}

    def record(layer, *args, **kwargs):
        calls[layer.name] = (len(args), [type(arg).__name__ for arg in args], kwargs)
        return layer(*args, **kwargs)

    clone = clone_model(model, call_function=record)
    assert calls["cat"] == (1, ["list"], {})  # one list argument
    assert calls["pair"] == (2, ["SymbolicTensor", "SymbolicTensor"], {})  # two positional tensors
    xa, xb = _x(3, 2), _x(3, 2, seed=5)
    got = clone([xa, xb])
    torch.testing.assert_close(got[0], torch.cat([xa, xb], dim=-1))
    torch.testing.assert_close(got[1], xa - xb)


def test_call_function_errors():
    sequential = easynn.Sequential([easynn.Input(shape=(3,)), Dense(1)])
    with pytest.raises(ValueError, match="not supported with Sequential"):
        clone_model(sequential, call_function=lambda layer, *a, **k: layer(*a, **k))
    with pytest.raises(TypeError, match="`call_function` must be callable"):
        clone_model(sequential, call_function="relu")
    inputs = easynn.Input(shape=(3,))
    model = easynn.Model(inputs, Dense(2, name="d")(inputs))
    with pytest.raises(ValueError, match="call_function returned 2 output.*'d'.*1 symbolic"):
        clone_model(model, call_function=lambda layer, *a, **k: [layer(*a, **k), layer(*a, **k)])
    with pytest.raises(ValueError, match="call_function returned 1 output"):
        clone_model(model, call_function=lambda layer, *a, **k: torch.zeros(1))


# --------------------------------------------------------------------------- recursive
def _nested():
    inner = easynn.Sequential([easynn.Input(shape=(3,)), Dense(4, name="inner_dense")], name="inner")
    inputs = easynn.Input(shape=(3,))
    return easynn.Model(inputs, Dense(1, name="outer_dense")(inner(inputs)), name="outer")


def _renaming(seen):
    def clone_function(layer):
        seen.append(layer.name)
        config = layer.get_config()
        config["name"] = layer.name + "_copy"
        return type(layer).from_config(config)

    return clone_function


def test_recursive_clones_nested_models_layer_by_layer():
    model = _nested()
    seen = []
    flat = clone_model(model, clone_function=_renaming(seen))
    assert seen == ["inner", "outer_dense"]  # the nested model is one layer for clone_function
    seen.clear()
    deep = clone_model(model, clone_function=_renaming(seen), recursive=True)
    assert seen == ["inner_dense", "outer_dense"]
    nested = deep.layers[1]
    assert isinstance(nested, easynn.Sequential) and nested is not model.layers[1]
    assert nested.name == "inner" and [layer.name for layer in nested.layers] == ["inner_dense_copy"]
    for clone in (flat, deep):
        clone.set_weights(model.get_weights())
        torch.testing.assert_close(clone(_x()), model(_x()))


def test_recursive_passes_call_function_to_nested_functional_models():
    inner_in = easynn.Input(shape=(3,))
    inner = easynn.Model(inner_in, Dense(3, name="inner_dense")(inner_in), name="inner")
    inputs = easynn.Input(shape=(3,))
    model = easynn.Model(inputs, inner(inputs))
    called = []

    def record(layer, *args, **kwargs):
        called.append(layer.name)
        return layer(*args, **kwargs)

    clone_model(model, call_function=record, recursive=True)
    assert called == ["inner_dense", "inner"]  # inside the nested model, then the nested call
    called.clear()
    clone_model(model, call_function=record)
    assert called == ["inner"]


# --------------------------------------------------------------------------- other models
def test_sequential_built_without_input_gives_a_built_clone():
    model = easynn.Sequential([Dense(4), Dense(2)])
    model.build((None, 3))
    clone = clone_model(model)
    assert clone.built and clone.count_params() == model.count_params() == 3 * 4 + 4 + 4 * 2 + 2


def test_dict_outputs_and_trainable_are_kept():
    inputs = easynn.Input(shape=(3,))
    model = easynn.Model(inputs, {"score": Dense(1)(inputs), "label": Dense(2)(inputs)})
    model.trainable = False
    clone = clone_model(model)
    out = clone(_x())
    assert sorted(out) == ["label", "score"] and out["label"].shape == (5, 2)
    assert clone.trainable is False and clone.trainable_weights == []


class Twice(easynn.Model):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.dense = Dense(units)

    def call(self, inputs):
        return self.dense(inputs) * 2


def test_subclassed_models_refuse_input_tensors_and_call_function():
    model = Twice()
    model(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="`input_tensors` is only supported"):
        clone_model(model, input_tensors=easynn.Input(shape=(3,)))
    with pytest.raises(ValueError, match="`call_function` is only supported for functional"):
        clone_model(model, call_function=lambda layer, *a, **k: layer(*a, **k))
    with pytest.raises(TypeError, match="unexpected keyword"):
        clone_model(model, compile=True)
    clone = clone_model(model)
    assert type(clone) is Twice and clone.built and clone.count_params() == model.count_params()
