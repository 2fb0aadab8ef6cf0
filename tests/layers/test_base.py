"""The Layer contract (easynn.layers.Layer), checked on a layer written the way a user writes one.

``Affine`` below is the reference custom layer: ``__init__`` stores arguments, ``build`` makes
weights with ``add_weight`` from the real input shape, ``call`` computes, ``get_config`` returns
the arguments. Each test checks one clause of the contract and fails if that clause breaks.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import easynn
from easynn.layers import Dense, Dropout, Layer


class Affine(Layer):
    """y = x @ w + b, with a build counter and the last training flag it saw."""

    def __init__(self, units: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.build_calls: list = []
        self.seen_training: list = []

    def build(self, input_shape):
        self.build_calls.append(input_shape)
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform", name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, inputs, training=None):
        self.seen_training.append(training)
        return inputs @ self.w + self.b

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _data(n=32, d=4):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, d, generator=g)
    y = x @ torch.randn(d, 1, generator=g) + 0.5
    return x.numpy(), y.numpy()


# --------------------------------------------------------------------------- __init__
def test_init_kwargs_name_trainable_dtype():
    layer = Affine(2, name="aff", trainable=False, dtype="float64")
    assert layer.name == "aff" and layer.trainable is False and layer.dtype is torch.float64
    layer(torch.zeros(1, 3, dtype=torch.float64))
    assert all(w.dtype == torch.float64 for w in layer.weights)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2


def test_init_rejects_unknown_kwargs_naming_the_class():
    with pytest.raises(TypeError, match="Affine"):
        Affine(2, colour="red")


def test_default_names_are_unique_snake_case():
    a, b = Affine(), Affine()
    assert a.name.startswith("affine") and b.name.startswith("affine") and a.name != b.name


# --------------------------------------------------------------------------- build / call
def test_build_called_once_with_the_real_input_shape():
    layer = Affine(2)
    assert not layer.built and layer.weights == []
    layer(torch.zeros(5, 7))
    layer(torch.zeros(9, 7))
    assert layer.build_calls == [(5, 7)]
    assert layer.built and tuple(layer.w.shape) == (7, 2)


def test_training_flag_follows_module_mode_and_explicit_value():
    layer = Affine(2)
    layer.train()
    layer(torch.zeros(1, 3))
    layer.eval()
    layer(torch.zeros(1, 3))
    layer(torch.zeros(1, 3), training=True)
    assert layer.seen_training == [True, False, True]


def test_training_not_passed_to_call_without_the_argument():
    class NoTraining(Layer):
        def call(self, inputs):
            return inputs + 1

    assert torch.equal(NoTraining()(torch.zeros(2), training=True), torch.ones(2))


def test_training_flag_in_fit_and_predict():
    layer = Affine(1)
    model = easynn.Sequential([easynn.Input(shape=(4,)), layer])
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    layer.seen_training.clear()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    fit_flags = set(layer.seen_training)
    layer.seen_training.clear()
    model.predict(x, verbose=0)
    assert True in fit_flags and set(layer.seen_training) == {False}


def test_dropout_per_mode_training_and_inference():
    layer = Dropout(0.5)
    x = torch.ones(1000)
    dropped = layer(x, training=True)
    assert ((dropped == 0) | (dropped == 2)).all() and 300 < int((dropped == 0).sum()) < 700
    assert torch.equal(layer(x, training=False), x)
    layer.eval()
    assert torch.equal(layer(x), x)
    layer.train()
    assert (layer(x) == 0).any()


def test_dropout_inactive_in_predict_active_in_fit():
    model = easynn.Sequential([easynn.Input(shape=(4,)), Dropout(0.9), Dense(4, kernel_initializer="identity")])
    x = np.ones((64, 4), dtype="float32")
    assert np.array_equal(model.predict(x, verbose=0), x)
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.0), loss="mse")
    # Identity targets: without dropout the loss is 0; with 90% dropout it cannot be.
    logs = model.fit(x, x, epochs=1, verbose=0).history
    assert logs["loss"][0] > 0.5


# --------------------------------------------------------------------------- weights
def test_add_weight_defaults_and_kinds():
    class Mixed(Layer):
        def build(self, input_shape):
            self.k = self.add_weight(shape=(input_shape[-1], 2))  # glorot_uniform, trainable
            self.stat = self.add_weight(shape=(2,), initializer="ones", trainable=False, name="stat")

        def call(self, inputs):
            return inputs @ self.k * self.stat

    layer = Mixed()
    layer(torch.zeros(1, 50))
    assert isinstance(layer.k, nn.Parameter) and not isinstance(layer.stat, nn.Parameter)
    limit = (6 / (50 + 2)) ** 0.5
    k = layer.k.detach()
    assert float(k.abs().max()) <= limit and float(k.std()) > limit / 4
    assert [w is layer.k for w in layer.trainable_weights] == [True]
    assert [w is layer.stat for w in layer.non_trainable_weights] == [True]
    assert len(layer.weights) == 2 and torch.equal(layer.stat, torch.ones(2))
    assert layer.count_params() == 102


def test_unnamed_weights_are_registered_once_under_the_attribute_name():
    class Unnamed(Layer):  # Keras's docs style: no name= in add_weight
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), regularizer="l2")
            self.moving = self.add_weight(shape=(2,), initializer="zeros", trainable=False)

        def call(self, inputs):
            return inputs @ self.w + self.moving

    layer = Unnamed()
    layer(torch.zeros(1, 3))
    assert list(layer.state_dict()) == ["w", "moving"]
    assert len(layer.weights) == 2 and len(list(layer.parameters())) == 1
    assert len(layer.losses) == 1
    layer.to(torch.float64)  # a buffer (not a stale plain attribute) follows .to()
    assert layer.moving.dtype == torch.float64 and layer.w.dtype == torch.float64


def test_add_weight_regularizer_joins_losses():
    class Reg(Layer):
        def build(self, input_shape):
            self.k = self.add_weight(shape=(2, 2), initializer="ones", regularizer=easynn.regularizers.l2(0.1))

        def call(self, inputs):
            return inputs @ self.k

    layer = Reg()
    layer(torch.zeros(1, 2))
    assert [float(t.detach()) for t in layer.losses] == pytest.approx([0.1 * 4])


def test_nested_sublayer_weights_in_keras_order():
    class Block(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = Dense(2)

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(2,), initializer="ones", name="scale")

        def call(self, inputs):
            return self.inner(inputs) * self.scale

    block = Block()
    block(torch.zeros(1, 3))
    assert [tuple(w.shape) for w in block.weights] == [(2,), (3, 2), (2,)]
    assert block.weights[0] is block.scale and block.weights[1] is block.inner.kernel


def test_get_set_weights_keras_layout():
    dense = Dense(5)
    dense(torch.zeros(1, 3))
    kernel, bias = dense.get_weights()
    assert kernel.shape == (3, 5) and bias.shape == (5,)
    new = [np.arange(15, dtype="float32").reshape(3, 5), np.ones(5, dtype="float32")]
    dense.set_weights(new)
    out = dense(torch.ones(1, 3)).detach().numpy()
    np.testing.assert_allclose(out, np.ones((1, 3)) @ new[0] + 1)
    with pytest.raises(ValueError, match="shape"):
        dense.set_weights([np.zeros((5, 3)), np.zeros(5)])
    with pytest.raises(ValueError, match="expects 2"):
        dense.set_weights([np.zeros((3, 5))])


# --------------------------------------------------------------------------- trainable / freezing
def test_freezing_a_layer_in_fit():
    frozen, free = Dense(4, activation="relu"), Dense(1)
    model = easynn.Sequential([easynn.Input(shape=(4,)), frozen, free])
    frozen.trainable = False
    model.compile(optimizer="adam", loss="mse")
    before_frozen = [w.copy() for w in frozen.get_weights()]
    before_free = [w.copy() for w in free.get_weights()]
    x, y = _data()
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    for old, new in zip(before_frozen, frozen.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert any(not np.array_equal(o, n) for o, n in zip(before_free, free.get_weights()))
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_unfreezing_trains_again():
    layer = Dense(1)
    model = easynn.Sequential([easynn.Input(shape=(4,)), layer])
    layer.trainable = False
    layer.trainable = True
    model.compile(optimizer="sgd", loss="mse")
    before = layer.get_weights()[0].copy()
    model.fit(*_data(), epochs=1, verbose=0)
    assert not np.array_equal(before, layer.get_weights()[0])


# --------------------------------------------------------------------------- config
def test_get_config_from_config_round_trip():
    layer = Affine(6, name="a6", trainable=False)
    config = layer.get_config()
    assert config == {"name": "a6", "trainable": False, "units": 6}
    clone = Affine.from_config(config)
    assert isinstance(clone, Affine) and clone.units == 6 and clone.name == "a6" and not clone.trainable
    assert not clone.built


def test_auto_config_for_plain_constructor_args():
    class Scaled(Layer):  # no get_config: arguments are captured automatically (Keras 3)
        def __init__(self, factor=2.0, mode="mul", **kwargs):
            super().__init__(**kwargs)
            self.factor, self.mode = factor, mode

        def call(self, inputs):
            return inputs * self.factor

    config = Scaled(3.0, mode="x", name="s").get_config()
    assert config["factor"] == 3.0 and config["mode"] == "x" and config["name"] == "s"
    clone = Scaled.from_config(config)
    assert clone.factor == 3.0 and clone.mode == "x"


def test_auto_config_drops_base_keys_the_constructor_does_not_take():
    class Fixed(Layer):
        def __init__(self, k=1):
            super().__init__()
            self.k = k

        def call(self, inputs):
            return inputs * self.k

    assert Fixed.from_config(Fixed(k=4).get_config()).k == 4


def test_non_json_args_without_get_config_name_the_class():
    class Holder(Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, inputs):
            return self.inner(inputs)

    with pytest.raises(NotImplementedError, match="Holder.*inner=Dense.*get_config"):
        Holder(Dense(2)).get_config()


# --------------------------------------------------------------------------- compute_output_shape
def test_compute_output_shape_default_and_override():
    assert Affine(4).compute_output_shape((None, 3)) == (None, 4)

    class Doubler(Layer):
        def call(self, inputs):
            return torch.cat([inputs, inputs], dim=-1)

        def compute_output_shape(self, input_shape):
            return input_shape[:-1] + (2 * input_shape[-1],)

    assert Doubler().compute_output_shape((None, 5)) == (None, 10)
    assert easynn.Input(shape=(5,)).shape == (None, 5)
    assert Doubler()(easynn.Input(shape=(5,))).shape == (None, 10)


# --------------------------------------------------------------------------- add_loss
class Penalized(Layer):
    """Identity that adds ``rate * sum(x**2) / batch`` as an activity loss from call()."""

    def __init__(self, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * inputs.pow(2).sum() / inputs.shape[0])
        return inputs


def test_add_loss_collected_in_losses():
    layer = Penalized(0.5)
    layer(torch.full((2, 3), 2.0))
    assert [float(t.detach()) for t in layer.losses] == pytest.approx([0.5 * 24 / 2])


def test_add_loss_joins_the_fit_loss():
    x, y = _data()
    dense = Dense(1, kernel_initializer="ones")
    model = easynn.Sequential([easynn.Input(shape=(4,)), dense, Penalized(0.5)])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.0), loss="mse")
    loss = model.fit(x, y, epochs=1, batch_size=32, verbose=0).history["loss"][0]
    pred = model.predict(x, verbose=0)
    expected = float(np.mean((pred - y) ** 2) + 0.5 * np.sum(pred**2) / len(x))
    assert loss == pytest.approx(expected, rel=1e-5)
    assert Penalized(0.5).losses == []


def test_add_loss_gradient_changes_training():
    x, y = _data()

    def final_kernel(rate):
        easynn.utils.set_random_seed(0)
        dense = Dense(1)
        model = easynn.Sequential([easynn.Input(shape=(4,)), dense, Penalized(rate)])
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        return dense.get_weights()[0]

    assert not np.allclose(final_kernel(0.0), final_kernel(1.0))


def test_activity_regularizer_joins_fit_loss_and_predict_does_not_accumulate():
    x, y = _data()
    layer = Dense(1, kernel_initializer="ones", activity_regularizer=easynn.regularizers.l2(0.1))
    model = easynn.Sequential([easynn.Input(shape=(4,)), layer])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.0), loss="mse")
    loss = model.fit(x, y, epochs=1, batch_size=32, verbose=0).history["loss"][0]
    pred = model.predict(x, verbose=0)
    expected = float(np.mean((pred - y) ** 2) + 0.1 * np.sum(pred**2) / len(x))
    assert loss == pytest.approx(expected, rel=1e-5)
    assert len(layer._losses) == 1  # the last forward pass's term only, as Keras keeps it


# --------------------------------------------------------------------------- a custom layer everywhere
def _train_and_check(model, x, y):
    model.compile(optimizer="adam", loss="mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.5 * before


def test_custom_layer_standalone_on_tensors():
    layer = Affine(2)
    x = torch.randn(4, 3, requires_grad=True)
    out = layer(x)
    torch.testing.assert_close(out, x @ layer.w + layer.b)
    out.sum().backward()
    assert layer.w.grad is not None and x.grad is not None


def test_custom_layer_in_sequential_trains():
    x, y = _data()
    _train_and_check(easynn.Sequential([easynn.Input(shape=(4,)), Affine(8), Dense(1)]), x, y)


def test_custom_layer_in_plain_torch_module_trains():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.affine = Affine(1)

        def forward(self, x):
            return self.affine(x)

    x, y = (torch.as_tensor(a) for a in _data())
    net = Net()
    net(x)  # build
    assert [p.shape for p in net.parameters()] == [torch.Size([4, 1]), torch.Size([1])]
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    first = None
    for _ in range(50):
        opt.zero_grad()
        loss = nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        first = float(loss.detach()) if first is None else first
    assert float(loss.detach()) < 0.1 * first
    assert list(net.state_dict()) == ["affine.w", "affine.b"]


def test_custom_layer_in_functional_model_trains():
    x, y = _data()
    inputs = easynn.Input(shape=(4,))
    hidden = Affine(8)(inputs)
    outputs = Dense(1)(hidden)
    model = easynn.Model(inputs, outputs)
    assert any(isinstance(layer, Affine) for layer in model.layers)
    _train_and_check(model, x, y)


def test_floating_inputs_are_cast_to_the_weights_dtype_and_numpy_is_accepted():
    # Keras autocasts a layer's floating inputs: a float64 batch into a float32 Dense gives the
    # float32 result instead of torch's "mat1 and mat2 must have the same dtype" error.
    from easynn.layers import LSTM, BatchNormalization, Conv2D

    torch.manual_seed(0)
    x = torch.randn(2, 3)
    dense = Dense(4)
    expected = dense(x)
    out = dense(x.double())
    assert out.dtype == torch.float32 and torch.equal(out, expected)
    assert torch.equal(dense(x.numpy().astype("float64")), expected)  # NumPy, as Keras takes
    assert Conv2D(2, 3)(torch.randn(1, 5, 5, 2, dtype=torch.float64)).dtype == torch.float32
    assert LSTM(2)(torch.randn(1, 4, 2, dtype=torch.float64)).dtype == torch.float32
    assert BatchNormalization()(torch.randn(2, 3, dtype=torch.float64)).dtype == torch.float32
    dense.double()  # and the other way: float32 data into a float64 layer
    assert dense(x).dtype == torch.float64


def test_calling_build_directly_marks_the_layer_built_and_keeps_set_weights():
    layer = Dense(3)
    layer.build((None, 2))
    assert layer.built
    layer.set_weights([np.ones((2, 3), "float32"), np.zeros(3, "float32")])
    # the first call must not build again (which would replace the weights just set)
    np.testing.assert_array_equal(layer(torch.ones(1, 2)).detach().numpy(), [[2.0, 2.0, 2.0]])


def test_layers_kept_in_a_list_or_dict_attribute_are_tracked():
    class Stack(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.blocks = [Dense(3), Dense(2)]
            self.heads = {"a": Dense(1)}

        def call(self, inputs):
            for block in self.blocks:
                inputs = block(inputs)
            return self.heads["a"](inputs)

    stack = Stack()
    stack(torch.ones(1, 4))
    assert [tuple(w.shape) for w in stack.weights] == [(4, 3), (3,), (3, 2), (2,), (2, 1), (1,)]
    assert len(list(stack.parameters())) == 6  # so an optimizer over parameters() trains them
    assert stack.count_params() == 15 + 8 + 3


def test_a_layer_reachable_twice_counts_its_weights_once():
    class Tied(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.enc = Dense(2)
            self.refs = [self.enc]  # a second path to the same layer (as nn.ModuleList would be)

        def call(self, inputs):
            return self.refs[0](self.enc(inputs))

    tied = Tied()
    tied(torch.ones(1, 2))
    assert len(tied.weights) == 2 and tied.count_params() == 6
    assert len(tied.trainable_weights) == 2 and len(tied.get_weights()) == 2


# ------------------------------------------------------------------ nested calls and module hooks
def _three_layer_model():
    return easynn.Sequential([easynn.Input((4,)), easynn.layers.Dense(3, activation="relu"),
                              easynn.layers.Dense(2)])


def test_nested_layer_calls_fire_every_kind_of_module_hook():
    """A layer called inside a model skips nn.Module.__call__ only while no hook can see it."""
    model = _three_layer_model()
    inner = model.layers[0]
    seen = []
    handles = [
        inner.register_forward_pre_hook(lambda m, args: seen.append("pre")),
        inner.register_forward_hook(lambda m, args, out: seen.append("forward")),
        inner.register_full_backward_hook(lambda m, gin, gout: seen.append("backward")),
    ]
    model(torch.ones(2, 4, requires_grad=True)).sum().backward()
    assert seen == ["pre", "forward", "backward"]
    for handle in handles:
        handle.remove()
    seen.clear()
    model(torch.ones(2, 4))
    assert seen == []


def test_nested_layer_calls_fire_global_module_hooks():
    model = _three_layer_model()
    seen = []
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, args, out: seen.append(m))
    try:
        model(torch.ones(2, 4))
    finally:
        handle.remove()
    assert model.layers[0] in seen and model.layers[1] in seen


def test_nested_layer_calls_of_a_compiled_module_use_its_compiled_call():
    model = _three_layer_model()
    inner = model.layers[1]
    calls = []
    inner._compiled_call_impl = lambda *args, **kwargs: calls.append(1) or inner.forward(*args, **kwargs)
    model(torch.ones(2, 4))
    assert calls == [1]
