"""Keras's saving hooks in easynn model files: build config, own variables, assets, compile config."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest
import torch

import easynn
from easynn import saving
from easynn.layers import Dense, Layer
from easynn.saving import hooks

PACKAGE = "easynn_tests_hooks"
CALLS: list[str] = []  # the order in which load-time hooks ran


@pytest.fixture(autouse=True)
def _seed_and_log():
    easynn.utils.set_random_seed(0)
    CALLS.clear()


@saving.register_keras_serializable(package=PACKAGE)
class ExtraArgBuild(Layer):
    """build() takes an extra argument, so only build_from_config can rebuild it."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape, init="zeros"):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer=init)
        self.init = init
        self.seen_shape = tuple(input_shape)

    def call(self, inputs):
        return inputs @ self.kernel

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def get_build_config(self):
        return {"input_shape": self.seen_shape, "init": self.init}

    def build_from_config(self, config):
        CALLS.append("build_from_config")
        self.build(config["input_shape"], config["init"])


@saving.register_keras_serializable(package=PACKAGE)
class Counter(Layer):
    """State created in __init__ that is not a weight (a NumPy array), saved by the hooks only."""

    def __init__(self, size=3, **kwargs):
        super().__init__(**kwargs)
        self.counts = np.zeros(size, dtype=np.int64)

    def call(self, inputs):
        return inputs + torch.as_tensor(self.counts, dtype=inputs.dtype)

    def save_own_variables(self, store):
        store["counts"] = self.counts

    def load_own_variables(self, store):
        CALLS.append("load_own_variables")
        self.received = dict(store)
        self.counts = np.array(store["counts"])


@saving.register_keras_serializable(package=PACKAGE)
class ScaledDense(Dense):
    """A Dense with an extra weight made in __init__, saved under its own key."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = self.add_weight(shape=(units,), initializer="ones", name="scale")

    def call(self, inputs):
        return super().call(inputs) * self.scale

    def save_own_variables(self, store):
        hooks.default_save_own_variables(self, store)
        store["scale"] = self.scale.detach().numpy()

    def load_own_variables(self, store):
        CALLS.append("scaled_load")
        self.store_keys = sorted(store)
        with torch.no_grad():
            self.scale.copy_(torch.as_tensor(store["scale"]))


@saving.register_keras_serializable(package=PACKAGE)
class LoadOnly(Dense):
    """Only load_own_variables is custom: it receives Keras's default store ("0", "1", ...)."""

    def load_own_variables(self, store):
        self.default_store = {key: np.array(value) for key, value in store.items()}


@saving.register_keras_serializable(package=PACKAGE)
class Vocabulary(Layer):
    """Keeps a vocabulary in files (assets)."""

    def __init__(self, words=(), **kwargs):
        super().__init__(**kwargs)
        self.words = list(words)

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {**super().get_config()}  # the words live in the assets, not in the config

    def save_assets(self, folder):
        os.makedirs(os.path.join(folder, "lists"))
        with open(os.path.join(folder, "lists", "words.txt"), "w") as handle:
            handle.write("\n".join(self.words))
        with open(os.path.join(folder, "raw.bin"), "wb") as handle:
            handle.write(bytes(range(256)))

    def load_assets(self, folder):
        CALLS.append("load_assets")
        self.folder = folder
        with open(os.path.join(folder, "lists", "words.txt")) as handle:
            self.words = handle.read().split("\n")
        with open(os.path.join(folder, "raw.bin"), "rb") as handle:
            self.raw = handle.read()


@saving.register_keras_serializable(package=PACKAGE)
def scaled_mse(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean(dim=-1) / 10.0


@saving.register_keras_serializable(package=PACKAGE)
def mean_prediction(y_true, y_pred):
    return y_pred.mean()


@saving.register_keras_serializable(package=PACKAGE)
class CustomCompile(easynn.Model):
    """A model with its own compile signature, saved through get/compile_from_config."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = Dense(2)

    def call(self, inputs):
        return self.dense(inputs)

    def compile(self, optimizer, loss_fn, metrics):
        super().compile(optimizer=optimizer, loss=loss_fn, metrics=metrics)
        self.settings = (optimizer, loss_fn, metrics)

    def get_compile_config(self):
        optimizer, loss_fn, metrics = self.settings
        return {"optimizer": optimizer, "loss_fn": loss_fn, "metrics": metrics}

    def compile_from_config(self, config):
        CALLS.append("compile_from_config")
        self.received_compile_config = config
        self.compile(**{key: saving.deserialize_keras_object(value) for key, value in config.items()})


def _x(n=4, d=5):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(5))


# --------------------------------------------------------------------------- build config
def test_build_config_hooks_rebuild_a_layer_with_extra_build_arguments(tmp_path):
    layer = ExtraArgBuild(4)
    layer.build((5,), "random_normal")
    model = easynn.Sequential([layer, Dense(1)])
    x = _x()
    expected = model(x)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        entry = json.loads(archive.read("config.json"))["model"]["config"]["layers"][0]
    assert entry["build_config"] == {"input_shape": [5], "init": "random_normal"}
    restored = saving.load_model(tmp_path / "m.keras")
    assert CALLS == ["build_from_config"]
    assert restored.built and restored.layers[0].init == "random_normal"
    assert torch.allclose(restored(x), expected, atol=1e-6)


def test_default_build_config_rebuilds_a_subclassed_model(tmp_path):
    model = easynn.Sequential([Dense(3), Dense(1)])  # no Input: built by its first call
    model(torch.zeros(2, 5))
    assert hooks.default_get_build_config(model) == {"input_shape": [2, 5], "input_dtype": "float32"}
    assert hooks.default_get_build_config(Dense(2)) is None  # unbuilt
    model.save(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras")
    assert restored.built and restored.count_params() == model.count_params()


# --------------------------------------------------------------------------- own variables
def test_own_variables_state_made_in_init_and_not_a_weight(tmp_path):
    counter = Counter()
    counter.counts = np.array([1, 2, 3])
    model = easynn.Sequential([easynn.Input(shape=(3,)), Dense(3), counter])
    x = _x(2, 3)
    expected = model(x)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert "own_variables.safetensors" in archive.namelist()
    restored = saving.load_model(tmp_path / "m.keras")
    layer = restored.layers[1]
    assert CALLS == ["load_own_variables"]
    assert list(layer.received) == ["counts"] and isinstance(layer.received["counts"], np.ndarray)
    np.testing.assert_array_equal(layer.counts, [1, 2, 3])
    assert torch.allclose(restored(x), expected)


def test_own_variables_weight_made_in_init_with_custom_key(tmp_path):
    layer = ScaledDense(3)
    model = easynn.Sequential([easynn.Input(shape=(4,)), layer])
    with torch.no_grad():
        layer.scale.copy_(torch.tensor([2.0, -1.0, 0.5]))
    x = _x(2, 4)
    expected = model(x)
    model.save(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras")
    assert CALLS == ["scaled_load"]
    assert restored.layers[0].store_keys == ["0", "1", "2", "scale"]
    torch.testing.assert_close(restored.layers[0].scale.detach(), torch.tensor([2.0, -1.0, 0.5]))
    assert torch.allclose(restored(x), expected, atol=1e-6)


def test_only_load_own_variables_custom_gets_keras_default_store(tmp_path):
    model = easynn.Sequential([easynn.Input(shape=(4,)), LoadOnly(2)])
    model.save(tmp_path / "m.keras")
    store = saving.load_model(tmp_path / "m.keras").layers[0].default_store
    assert sorted(store) == ["0", "1"]
    np.testing.assert_array_equal(store["0"], model.layers[0].get_weights()[0])  # Keras layout (in, out)
    assert store["0"].shape == (4, 2)


def test_default_own_variables_functions_round_trip_and_check():
    source, target = Dense(2), Dense(2)
    source.build_from_shape((1, 3))
    target.build_from_shape((1, 3))
    store = {}
    hooks.default_save_own_variables(source, store)
    hooks.default_load_own_variables(target, store)
    assert all(np.array_equal(a, b) for a, b in zip(source.get_weights(), target.get_weights()))
    with pytest.raises(ValueError, match="expected 2 variables"):
        hooks.default_load_own_variables(target, {"0": store["0"]})
    with pytest.raises(ValueError, match="shape"):
        hooks.default_load_own_variables(target, {"0": np.zeros((2, 3)), "1": store["1"]})


def test_own_variables_store_values_must_be_numeric(tmp_path):
    class Bad(Layer):
        def call(self, inputs):
            return inputs

        def save_own_variables(self, store):
            store["text"] = np.array(["a", "b"])

    model = easynn.Sequential([easynn.Input(shape=(2,)), Bad()])
    with pytest.raises(TypeError, match="numeric arrays"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


# --------------------------------------------------------------------------- assets
def test_assets_round_trip_in_a_private_folder_that_is_removed(tmp_path):
    model = easynn.Sequential([easynn.Input(shape=(2,)), Vocabulary(["mary", "had", "a", "lamb"]), Dense(1)])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        names = archive.namelist()
        config = json.loads(archive.read("config.json"))
    assets = sorted(n for n in names if n.startswith("assets/"))
    prefix = next(iter(config["assets"].values()))
    assert assets == [prefix + "lists/words.txt", prefix + "raw.bin"]
    restored = saving.load_model(tmp_path / "m.keras")
    layer = restored.layers[0]
    assert CALLS == ["load_assets"]
    assert layer.words == ["mary", "had", "a", "lamb"] and layer.raw == bytes(range(256))
    assert not os.path.exists(layer.folder)  # extracted only for the call, then deleted


def test_assets_hook_may_not_save_links(tmp_path):
    class Linker(Layer):
        def call(self, inputs):
            return inputs

        def save_assets(self, folder):
            os.symlink("/etc/passwd", os.path.join(folder, "passwd"))

    model = easynn.Sequential([easynn.Input(shape=(2,)), Linker()])
    with pytest.raises(ValueError, match="not a plain file"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


@pytest.mark.parametrize("member", ["assets/1/../../../escaped.txt", "/tmp/escaped.txt", "assets/../escaped.txt"])
def test_asset_members_that_escape_are_refused_and_nothing_is_written(tmp_path, member):
    model = easynn.Sequential([easynn.Input(shape=(2,)), Vocabulary(["x"])])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = b"evil"
    with zipfile.ZipFile(tmp_path / "evil.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match="unsafe member path"):
        saving.load_model(tmp_path / "evil.keras")
    assert CALLS == [] and not os.path.exists("/tmp/escaped.txt") and not (tmp_path / "escaped.txt").exists()


def test_asset_extraction_checks_every_path(tmp_path):
    folder = tmp_path / "private"
    folder.mkdir()
    with pytest.raises(ValueError, match="outside its folder"):
        hooks._extract({"assets/0/../../x": b"1"}, "assets/0/", str(folder))
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="assets index is malformed"):
        hooks.restore_assets(easynn.Sequential([Vocabulary()]), {}, {"": "/etc/"}, "'f'")


# --------------------------------------------------------------------------- compile config
def test_compile_config_hooks_round_trip(tmp_path):
    model = CustomCompile()
    model.compile(optimizer="sgd", loss_fn=scaled_mse, metrics=["mae", mean_prediction])
    x, y = _x(8, 3).numpy(), np.zeros((8, 2), dtype=np.float32)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras")
    assert CALLS == ["compile_from_config"]
    assert restored.received_compile_config["loss_fn"]["registered_name"] == f"{PACKAGE}>scaled_mse"
    assert restored.settings == ("sgd", scaled_mse, ["mae", mean_prediction])
    assert restored.compiled and restored.loss is scaled_mse
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)
    assert not saving.load_model(tmp_path / "m.keras", compile=False).compiled


@saving.register_keras_serializable(package=PACKAGE)
class EveryHook(CustomCompile):
    """A model with a custom compile and build whose layers use the variable and asset hooks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.counter = Counter(size=2)
        self.vocabulary = Vocabulary(["w"])

    def call(self, inputs):
        return self.vocabulary(self.counter(self.dense(inputs)))

    def build_from_config(self, config):
        CALLS.append("build_from_config")
        self(torch.zeros(1, *config["input_shape"][1:]))


def test_hooks_run_in_keras_order(tmp_path):
    model = EveryHook()
    model(torch.zeros(1, 4))
    model.compile(optimizer="sgd", loss_fn=scaled_mse, metrics=[])
    model.save(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras")
    # Keras: build_from_config, compile_from_config, then the variables, then the assets.
    assert CALLS == ["build_from_config", "compile_from_config", "load_own_variables", "load_assets"]
    assert restored.built and restored.compiled


def test_overrides_ignores_easynn_base_classes():
    assert hooks.overrides(Counter(), "save_own_variables")
    assert not hooks.overrides(Dense(2), "save_own_variables")
    assert hooks.overrides(ScaledDense(2), "load_own_variables")
    assert not hooks.overrides(easynn.Sequential([Dense(1)]), "get_compile_config")


# --------------------------------------------------------------------------- malformed hook data in a file
def _rewrite(path, out, edit_config=None, drop=()):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist() if name not in drop}
    if edit_config is not None:
        config = json.loads(members["config.json"])
        edit_config(config)
        members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("case", ["index_not_a_list", "missing_member", "index_too_long", "assets_outside"])
def test_malformed_hook_data_gives_clear_errors_and_no_hook_runs(tmp_path, case):
    model = easynn.Sequential([easynn.Input(shape=(3,)), Counter(), Vocabulary(["x"])])
    model.save(tmp_path / "m.keras")
    edits = {
        "index_not_a_list": dict(edit_config=lambda c: c.update(own_variables="counts")),
        "missing_member": dict(drop=("own_variables.safetensors",)),
        "index_too_long": dict(edit_config=lambda c: c["own_variables"].append(["_stack.0", "extra"])),
        "assets_outside": dict(edit_config=lambda c: c.update(assets={"": "../"})),
    }
    _rewrite(tmp_path / "m.keras", tmp_path / "bad.keras", **edits[case])
    with pytest.raises(ValueError, match="corrupted|malformed"):
        saving.load_model(tmp_path / "bad.keras")
    assert CALLS == []  # everything is checked before any object is built or any hook runs


def test_a_keras_written_file_is_named_as_such(tmp_path):
    pytest.importorskip("h5py", reason="h5py is not installed; Keras files need it")  # keras_file reads them
    path = tmp_path / "from_keras.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.0"}))
        archive.writestr("config.json", json.dumps({"module": "keras", "class_name": "Sequential", "config": {}}))
        archive.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
    with pytest.raises(ValueError, match="written by Keras.*model.weights.h5"):
        saving.load_model(path)


@saving.register_keras_serializable(package="test_dense_store")
class _ShiftedDense(Dense):
    """A Dense subclass with one extra variable, stored by its own hooks (Dense stores kernel, bias)."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.shift = easynn.Variable(np.full((units,), 0.5, "float32"), name="shift")

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["shift"] = self.shift.numpy()

    def load_own_variables(self, store):
        self.shift.assign(store["shift"])
        for i, v in enumerate(w for w in self.weights if w is not self.shift):
            v.assign(store[f"{i}"])

    def call(self, inputs):
        return super().call(inputs) + self.shift


def test_dense_stores_only_its_kernel_and_bias_so_subclasses_add_their_own(tmp_path):
    layer = Dense(3)
    layer(torch.zeros(2, 4))
    store = {}
    layer.save_own_variables(store)
    assert sorted(store) == ["0", "1"]
    np.testing.assert_array_equal(store["0"], layer.kernel.detach().numpy())
    np.testing.assert_array_equal(store["1"], layer.bias.detach().numpy())

    model = easynn.Sequential([easynn.Input((4,)), _ShiftedDense(2)])
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.default_rng(0).normal(size=(8, 4)).astype("float32"), np.ones((8, 2), "float32")
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "shifted.keras"
    model.save(path)
    restored = saving.load_model(path)
    np.testing.assert_allclose(restored.layers[0].shift.numpy(), model.layers[0].shift.numpy())
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
