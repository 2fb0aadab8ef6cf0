"""GradientMonitor and ActivationMonitor: logged numbers, warnings, and hooks only while attached."""

import math
import warnings

import numpy as np
import pytest
import torch

import easynn
from easynn.callbacks import (
    ActivationMonitor,
    BiasShiftWarning,
    DeadReLUWarning,
    DiagnosticWarning,
    GradientMonitor,
    SaturationWarning,
    VanishingGradientWarning,
)
from easynn.layers import Activation, Dense, ReLU


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _data(n=64, d=8):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d)).astype("float32")
    y = (x.sum(1, keepdims=True) > 0).astype("float32")
    return x, y


def _deep(activation, init, depth=10, units=16):
    layers = [easynn.Input(shape=(8,))]
    layers += [Dense(units, activation=activation, kernel_initializer=init, name=f"h{i}") for i in range(depth)]
    layers.append(Dense(1, activation="sigmoid", name="out"))
    model = easynn.Sequential(layers)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    return model


def _has_hooks(model):
    return any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


# ---------------------------------------------------------------------------------- gradients
def test_deep_sigmoid_network_warns_vanishing_gradient_naming_first_layer():
    model = _deep("sigmoid", "glorot_uniform")
    x, y = _data()
    with pytest.warns(VanishingGradientWarning, match="'h0'") as record:
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[GradientMonitor()])
    assert len([w for w in record if issubclass(w.category, VanishingGradientWarning)]) == 1  # once per fit
    logs = history.history
    first, last = logs["grad_norm/h0"][0], logs["grad_norm/out"][0]
    assert first / last < 1e-3
    # each sigmoid layer shrinks the gradient: norms increase with depth
    norms = [logs[f"grad_norm/h{i}"][0] for i in range(10)]
    assert all(a < b for a, b in zip(norms, norms[1:]))
    assert len(logs["grad_norm/h0"]) == 2 and len(logs["update_ratio/h0"]) == 2


def test_he_normal_relu_network_does_not_warn():
    model = _deep("relu", "he_normal")
    x, y = _data()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[GradientMonitor()])
    assert not [w for w in record if issubclass(w.category, VanishingGradientWarning)]
    assert history.history["grad_norm/h0"][0] / history.history["grad_norm/out"][0] > 1e-2


def test_gradient_norm_matches_manual_norm_of_one_step():
    # One batch, one epoch: the logged norm is the norm of that step's gradient.
    model = easynn.Sequential([easynn.Input(shape=(3,)), Dense(4, activation="tanh", name="a"), Dense(1, name="b")])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    y = np.ones((8, 1), "float32")
    kernel0 = [w.detach().clone() for w in model.get_layer("a").trainable_weights]
    # reference gradient by hand on a copy of the weights
    probe = easynn.Sequential([easynn.Input(shape=(3,)), Dense(4, activation="tanh"), Dense(1)])
    probe.set_weights(model.get_weights())
    loss = ((probe(torch.as_tensor(x)) - torch.as_tensor(y)) ** 2).mean()
    grads = torch.autograd.grad(loss, probe.layers[0].trainable_weights)
    expected = math.sqrt(sum(float(g.pow(2).sum()) for g in grads))
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[GradientMonitor(warn=False)])
    assert history.history["grad_norm/a"][0] == pytest.approx(expected, rel=1e-4)
    # update ratio: ||W_new - W_old|| / ||W_old|| over the layer's weights
    new = model.get_layer("a").trainable_weights
    num = math.sqrt(sum(float((n.detach() - o).pow(2).sum()) for n, o in zip(new, kernel0)))
    den = math.sqrt(sum(float(o.pow(2).sum()) for o in kernel0))
    assert history.history["update_ratio/a"][0] == pytest.approx(num / den, rel=1e-4)


def test_gradient_monitor_every_samples_fewer_steps():
    monitor = GradientMonitor(every=3, warn=False)
    calls = []
    original = monitor.on_train_batch_end

    def spy(batch, logs=None):
        calls.append(monitor._sampling)
        original(batch, logs)

    monitor.on_train_batch_end = spy
    model = _deep("relu", "he_normal", depth=2)
    x, y = _data(n=64)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[monitor])  # 8 steps: 0, 3, 6 sampled
    assert calls == [True, False, False, True, False, False, True, False]
    assert monitor._count == 3


def test_exploding_gradient_warns():
    from easynn.callbacks import ExplodingGradientWarning

    model = easynn.Sequential([easynn.Input(shape=(2,)), Dense(2, name="big"), Dense(1, name="out")])
    model.compile(optimizer="sgd", loss="mse")
    x = np.full((4, 2), 1e4, "float32")
    with pytest.warns(ExplodingGradientWarning, match="'big'"):
        model.fit(x, np.zeros((4, 1), "float32"), verbose=0, callbacks=[GradientMonitor(explode_norm=10.0)])


@pytest.mark.parametrize("kwargs", [{"every": 0}, {"vanish_ratio": -1.0}, {"explode_norm": 0}])
def test_gradient_monitor_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        GradientMonitor(**kwargs)


# ---------------------------------------------------------------------------------- activations
def test_relu_layer_with_very_negative_bias_is_fully_dead_and_warns():
    model = easynn.Sequential([easynn.Input(shape=(4,)), Dense(6, activation="relu", name="dead"),
                               Dense(1, name="out")])
    with torch.no_grad():
        model.get_layer("dead").bias.fill_(-1e3)
    model.compile(optimizer="sgd", loss="mse")
    x, _ = _data(d=4)
    with pytest.warns(DeadReLUWarning, match="'dead'") as record:
        history = model.fit(x, np.ones((64, 1), "float32"), epochs=2, verbose=0, callbacks=[ActivationMonitor()])
    assert history.history["dead_fraction/dead"] == [1.0, 1.0]
    assert history.history["mean_activation/dead"] == [0.0, 0.0]
    assert all("'out'" not in str(w.message) for w in record)
    assert "dead_fraction/out" not in history.history  # linear layers are not watched


def test_dead_fraction_counts_units_never_active():
    # Units 0 and 1 are always negative, units 2..3 active for some samples: half are dead.
    layer = ReLU(name="r")
    model = easynn.Sequential([easynn.Input(shape=(4,)), Dense(4, name="lin", use_bias=True), layer, Dense(1, name="o")])
    with torch.no_grad():
        lin = model.get_layer("lin")
        lin.kernel.copy_(torch.eye(4))
        lin.bias.copy_(torch.tensor([-100.0, -100.0, 0.0, 0.0]))
    model.compile(optimizer="sgd", loss="mse")
    x, _ = _data(d=4)
    monitor = ActivationMonitor(dead_threshold=0.75)
    history = model.fit(x, np.zeros((64, 1), "float32"), verbose=0, callbacks=[monitor])
    assert history.history["dead_fraction/r"] == [0.5]


def test_sigmoid_layer_with_huge_weights_is_saturated():
    model = easynn.Sequential([easynn.Input(shape=(8,)), Dense(16, activation="sigmoid", name="sat"),
                               Dense(16, activation="tanh", name="calm", kernel_initializer="zeros"),
                               Dense(1, name="out")])
    with torch.no_grad():
        model.get_layer("sat").kernel.mul_(1e3)
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    with pytest.warns(SaturationWarning, match="'sat'"):
        history = model.fit(x, y, verbose=0, callbacks=[ActivationMonitor()])
    assert history.history["saturated_fraction/sat"][0] == pytest.approx(1.0)
    assert history.history["saturated_fraction/calm"][0] == 0.0
    # sigmoid outputs are never centred on 0 (bias shift); here they are 0 or 1
    assert 0.0 < history.history["mean_activation/sat"][0] < 1.0


def test_saturation_threshold_matches_derivative_definition():
    # the output band used per step is the derivative threshold rewritten in terms of y
    monitor = ActivationMonitor(derivative_threshold=0.01)
    y = torch.linspace(0.0, 1.0, 10001)
    from easynn.callbacks.monitors import _ActivationStats

    stats = _ActivationStats("sigmoid", monitor._sigmoid_band, monitor._tanh_band)
    stats.update(y[:, None])
    assert int(stats.flags[0]) == int((y * (1 - y) < 0.01).sum())
    yt = torch.linspace(-1.0, 1.0, 10001)
    stats = _ActivationStats("tanh", monitor._sigmoid_band, monitor._tanh_band)
    stats.update(yt[:, None])
    assert int(stats.flags[0]) == int((1 - yt * yt < 0.01).sum())


def test_mean_activation_and_bias_shift_warning():
    model = easynn.Sequential([easynn.Input(shape=(3,)), Activation("sigmoid", name="act"), Dense(1, name="o")])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((8, 3), "float32")
    with pytest.warns(BiasShiftWarning, match="'act'"):
        history = model.fit(x, np.zeros((8, 1), "float32"), verbose=0,
                            callbacks=[ActivationMonitor(shift_threshold=0.4)])
    assert history.history["mean_activation/act"] == [pytest.approx(0.5)]


def test_validation_batches_are_not_counted():
    model = easynn.Sequential([easynn.Input(shape=(1,)), ReLU(name="r"), Dense(1, name="o")])
    model.compile(optimizer="sgd", loss="mse")
    x = -np.ones((4, 1), "float32")  # training data: all dead
    x_val = np.ones((4, 1), "float32")  # validation data would revive it
    history = model.fit(x, x, validation_data=(x_val, x_val), verbose=0, callbacks=[ActivationMonitor(warn=False)])
    assert history.history["dead_fraction/r"] == [1.0]


def test_hooks_exist_only_while_attached():
    model = _deep("relu", "he_normal", depth=2)
    assert not _has_hooks(model)
    seen = []

    class Probe(easynn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(_has_hooks(self.model))

    x, y = _data()
    model.fit(x, y, verbose=0, callbacks=[ActivationMonitor(warn=False), Probe()])
    assert seen == [True]
    assert not _has_hooks(model)
    model.fit(x, y, verbose=0, callbacks=[GradientMonitor(warn=False)])
    assert not _has_hooks(model)


def test_warnings_share_a_base_class():
    for cls in (VanishingGradientWarning, DeadReLUWarning, SaturationWarning, BiasShiftWarning):
        assert issubclass(cls, DiagnosticWarning) and issubclass(cls, UserWarning)


@pytest.mark.parametrize("kwargs", [{"every": -1}, {"dead_threshold": 0.0}, {"saturation_threshold": 1.5},
                                    {"derivative_threshold": 0}, {"shift_threshold": -0.1}])
def test_activation_monitor_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        ActivationMonitor(**kwargs)


def test_diagnose_example_runs_and_writes_figures(tmp_path, capsys):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "diagnose.py"
    spec = importlib.util.spec_from_file_location("easynn_example_diagnose", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    paths = module.main(str(tmp_path), epochs=1)
    assert all(pathlib.Path(p).stat().st_size > 1000 for p in paths.values())
    printed = capsys.readouterr().out
    assert "VanishingGradientWarning" in printed.split("deep_relu")[0]  # the sigmoid net warns
    assert "VanishingGradientWarning" not in printed.split("deep_relu")[1]
