"""easynn.saving: model files, weights files, the class registry, and the safety guarantees."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
import torch
from safetensors.torch import load as st_load

import easynn
from easynn import saving
from easynn.layers import Dense, Layer
from easynn.saving import files


# --------------------------------------------------------------------------- fixtures and helpers
@saving.register_serializable(package="easynn_tests")
class Scale(Layer):
    """Multiplies by a learned per-feature gain."""

    def __init__(self, init_value=1.0, **kwargs):
        super().__init__(**kwargs)
        self.init_value = init_value

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gain")
        with torch.no_grad():
            self.gain.mul_(self.init_value)

    def call(self, inputs):
        return inputs * self.gain

    def get_config(self):
        return {**super().get_config(), "init_value": self.init_value}


class Unregistered(Layer):
    def call(self, inputs):
        return inputs + 1


@saving.register_serializable(package="easynn_tests")
class TwoLayerNet(easynn.Model):
    """A subclassed model whose constructor args are captured automatically (no get_config)."""

    def __init__(self, hidden=8, **kwargs):
        super().__init__(**kwargs)
        self.hidden = Dense(hidden, activation="tanh")
        self.out = Dense(1)

    def call(self, inputs, training=None):
        return self.out(self.hidden(inputs))


def my_loss(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean(dim=-1)


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _data(n=32, d=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = torch.tanh(x @ torch.randn(d, 1, generator=g))
    return x.numpy(), y.numpy()


def _sequential():
    return easynn.Sequential([easynn.Input(shape=(4,)), Dense(8, activation="relu"), Scale(0.5), Dense(1)])


def _functional():
    inputs = easynn.Input(shape=(4,))
    hidden = Dense(8, activation="relu")(inputs)
    return easynn.Model(inputs, Dense(1)(Scale(0.5)(hidden)))


def _subclassed():
    return TwoLayerNet(hidden=6)


BUILDERS = {"sequential": _sequential, "functional": _functional, "subclassed": _subclassed}


def _weights_equal(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb))


@pytest.fixture
def saved(tmp_path):
    """A compiled, trained Sequential saved to model.keras; returns (model, path, x, y)."""
    model = _sequential()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = _data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    return model, path, x, y


# --------------------------------------------------------------------------- model files
@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_round_trip_restores_architecture_weights_and_compile(kind, tmp_path):
    model = BUILDERS[kind]()
    model.compile(optimizer=easynn.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = easynn.models.load_model(path)
    assert type(restored) is type(model)
    assert _weights_equal(model, restored)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.compiled and type(restored.optimizer).__name__ == "Adam"
    assert restored.optimizer.learning_rate == pytest.approx(0.01)
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_fit_resumes_exactly_after_save_and_load(kind, tmp_path):
    x, y = _data()

    def fresh():
        easynn.utils.set_random_seed(0)
        model = BUILDERS[kind]()
        model.compile(optimizer="adam", loss="mse")
        return model

    straight = fresh()
    straight.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    first = fresh()
    first.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    first.save(tmp_path / "ckpt.keras")
    resumed = saving.load_model(tmp_path / "ckpt.keras")
    assert resumed.optimizer.iterations == first.optimizer.iterations == 8
    resumed.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # Without the optimizer state (fresh Adam moments) the third epoch differs.
    fresh_opt = saving.load_model(tmp_path / "ckpt.keras", compile=False)
    fresh_opt.compile(optimizer="adam", loss="mse")
    fresh_opt.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert not all(np.allclose(a, b, atol=1e-6) for a, b in zip(straight.get_weights(), fresh_opt.get_weights()))


def test_file_contents_and_format(saved):
    model, path, _, _ = saved
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
        tensors = st_load(archive.read("model.safetensors"))
        opt_tensors = st_load(archive.read("optimizer.safetensors"))
    assert names == {"config.json", "metadata.json", "model.safetensors", "optimizer.safetensors"}
    assert metadata["format"] == "easynn.model" and metadata["format_version"] == "1.0"
    assert metadata["torch_version"] == torch.__version__ and metadata["easynn_version"] == easynn.__version__
    assert config["model"]["class_name"] == "Sequential"
    classes = [entry["class_name"] for entry in config["model"]["config"]["layers"]]
    assert classes == ["InputLayer", "Dense", "Scale", "Dense"]
    assert config["model"]["config"]["layers"][2]["registered_name"] == "easynn_tests>Scale"
    assert config["compile_config"]["loss"] == {"kind": "name", "value": "mse"}
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    # Weights keyed by position in Keras layout: first Dense kernel is (in, out) = (4, 8).
    assert sorted(tensors, key=int) == [str(i) for i in range(len(model.weights))]
    assert tuple(tensors["0"].shape) == (4, 8)
    np.testing.assert_array_equal(tensors["0"].numpy(), model.get_weights()[0])
    # Adam moments: two per trainable weight plus step counters.
    assert len(opt_tensors) >= 2 * len(model.trainable_weights)


@pytest.mark.parametrize("name", ["model.keras", "model.h5", "checkpoint", "m.easynn"])
def test_any_file_name_works(name, tmp_path):
    model = _sequential()
    model.save(tmp_path / name)
    restored = saving.load_model(str(tmp_path / name))
    assert _weights_equal(model, restored)


def test_sequential_without_input_is_rebuilt_from_its_build_shape(tmp_path):
    model = easynn.Sequential([Dense(3), Dense(2)])
    model(torch.zeros(5, 7))
    model.save(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras")
    assert _weights_equal(model, restored)


def test_uncompiled_model_loads_uncompiled(tmp_path):
    model = _sequential()
    model.save(tmp_path / "m.keras")
    assert not saving.load_model(tmp_path / "m.keras").compiled


def test_compile_false_skips_compile_state(saved):
    _, path, _, _ = saved
    assert not saving.load_model(path, compile=False).compiled


def test_overwrite_false_refuses_existing_file(saved):
    model, path, _, _ = saved
    with pytest.raises(FileExistsError, match="model.keras"):
        model.save(path, overwrite=False)


def test_save_into_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        _sequential().save(tmp_path / "no_such_folder" / "m.keras")


# --------------------------------------------------------------------------- custom objects
def test_unregistered_custom_layer_needs_custom_objects(tmp_path):
    model = easynn.Sequential([easynn.Input(shape=(2,)), Unregistered(), Dense(1)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Unknown layer class 'Unregistered'.*register_serializable.*custom_objects"):
        saving.load_model(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras", custom_objects={"Unregistered": Unregistered})
    assert isinstance(restored.layers[0], Unregistered) and _weights_equal(model, restored)


def test_registered_layer_is_found_by_registered_name(tmp_path):
    assert saving.get_registered_name(Scale) == "easynn_tests>Scale"
    assert saving.get_registered_object("easynn_tests>Scale") is Scale
    model = easynn.Sequential([easynn.Input(shape=(3,)), Scale(2.0)])
    model.save(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras")
    assert isinstance(restored.layers[0], Scale) and restored.layers[0].init_value == 2.0


def test_register_rejects_name_clash():
    with pytest.raises(ValueError, match="already registered"):
        saving.register_serializable(package="easynn_tests", name="Scale")(Unregistered)
    with pytest.raises(ValueError, match="package"):
        saving.register_serializable(package="a>b")


def test_custom_loss_function_needs_custom_objects(tmp_path):
    model = _sequential()
    model.compile(optimizer="sgd", loss=my_loss)
    x, y = _data()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="custom loss function 'my_loss'.*custom_objects"):
        saving.load_model(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras", custom_objects={"my_loss": my_loss})
    assert restored.compiled and restored.loss is my_loss
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)
    assert not saving.load_model(tmp_path / "m.keras", compile=False).compiled


def test_easynn_loss_objects_and_functions_serialize(tmp_path):
    model = _sequential()
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                  loss=easynn.losses.Huber(delta=2.0), metrics=["mae", easynn.metrics.MeanSquaredError()])
    model.save(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras")
    assert isinstance(restored.loss, easynn.losses.Huber) and restored.loss.delta == 2.0
    assert restored.optimizer.momentum == pytest.approx(0.9) and restored.optimizer.learning_rate == pytest.approx(0.05)
    x, y = _data()
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)


def test_unsaveable_compile_state_loads_uncompiled_with_warning(tmp_path):
    model = _sequential()
    model.compile(optimizer="sgd", loss=torch.nn.MSELoss())
    model.save(tmp_path / "m.keras")
    with pytest.warns(UserWarning, match="without its compile state"):
        restored = saving.load_model(tmp_path / "m.keras")
    assert not restored.compiled and _weights_equal(model, restored)


def test_lambda_layer_cannot_be_saved(tmp_path):
    model = easynn.Sequential([easynn.Input(shape=(2,)), easynn.layers.Lambda(lambda t: t * 2)])
    with pytest.raises(TypeError, match="Lambda"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


# --------------------------------------------------------------------------- weights files
def test_save_and_load_weights_round_trip(tmp_path):
    model = _sequential()
    model.save_weights(tmp_path / "w.weights.h5")
    other = _sequential()
    assert not _weights_equal(model, other)
    other.load_weights(tmp_path / "w.weights.h5")
    assert _weights_equal(model, other)
    with open(tmp_path / "w.weights.h5", "rb") as handle:
        tensors = st_load(handle.read())
    assert tuple(tensors["0"].shape) == (4, 8)


def test_load_weights_from_a_model_file(saved):
    model, path, _, _ = saved
    other = _sequential()
    other.load_weights(path)
    assert _weights_equal(model, other)


def test_load_weights_into_another_architecture_names_the_layer(tmp_path):
    model = _sequential()
    model.save_weights(tmp_path / "w.bin")
    wider = easynn.Sequential([easynn.Input(shape=(4,)), Dense(9, activation="relu", name="wide"), Scale(), Dense(1)])
    before = wider.get_weights()
    with pytest.raises(ValueError, match="Layer 'wide'.*shape \\(4, 9\\).*\\(4, 8\\)"):
        wider.load_weights(tmp_path / "w.bin")
    assert all(np.array_equal(a, b) for a, b in zip(before, wider.get_weights()))  # nothing changed
    shorter = easynn.Sequential([easynn.Input(shape=(4,)), Dense(8)])
    with pytest.raises(ValueError, match="3 layers.*1 layers with weights"):
        shorter.load_weights(tmp_path / "w.bin")


def test_skip_mismatch_loads_the_rest(tmp_path):
    model = _sequential()
    model.save_weights(tmp_path / "w.bin")
    other = easynn.Sequential([easynn.Input(shape=(4,)), Dense(8, activation="relu"), Scale(), Dense(2)])
    last_before = other.layers[-1].get_weights()
    with pytest.warns(UserWarning, match="Skipping mismatched"):
        other.load_weights(tmp_path / "w.bin", skip_mismatch=True)
    for a, b in zip(model.layers[0].get_weights() + model.layers[1].get_weights(),
                    other.layers[0].get_weights() + other.layers[1].get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(last_before, other.layers[-1].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_load_weights_into_unbuilt_model_explains(tmp_path):
    _sequential().save_weights(tmp_path / "w.bin")
    with pytest.raises(ValueError, match="no weights yet.*Build the model"):
        easynn.Sequential([Dense(8), Scale(), Dense(1)]).load_weights(tmp_path / "w.bin")


# --------------------------------------------------------------------------- errors on bad files
def test_missing_path_is_file_not_found_with_the_path(tmp_path):
    missing = tmp_path / "nope" / "model.keras"
    with pytest.raises(FileNotFoundError, match="nope"):
        saving.load_model(missing)
    with pytest.raises(FileNotFoundError, match="nope"):
        _sequential().load_weights(missing)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ValueError, match="folder"):
        saving.load_model(tmp_path)


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1])
def test_truncated_model_file(saved, keep):
    _, path, _, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="corrupted|truncated"):
        saving.load_model(path)


def test_corrupted_model_file(saved):
    model, path, _, _ = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("model.safetensors")
    start = info.header_offset + 30 + len(info.filename) + 200
    data[start : start + 16] = bytes(16)  # flip bytes inside the stored weights
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted"):
        saving.load_model(path)
    with pytest.raises(ValueError, match="corrupted"):
        model.load_weights(path)


def test_truncated_and_garbage_weights_files(tmp_path):
    model = _sequential()
    model.save_weights(tmp_path / "w.bin")
    data = (tmp_path / "w.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated|corrupted"):
        model.load_weights(tmp_path / "cut.bin")
    (tmp_path / "junk.bin").write_bytes(b"hello, not weights at all")
    with pytest.raises(ValueError, match="truncated|corrupted"):
        model.load_weights(tmp_path / "junk.bin")
    with pytest.raises(ValueError, match="not an easynn model file"):
        saving.load_model(tmp_path / "junk.bin")
    with pytest.raises(ValueError, match="load_weights"):
        saving.load_model(tmp_path / "w.bin")


def _write_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("member", ["../evil.json", "/etc/evil.json", "a/../../evil.json"])
def test_unsafe_member_paths_rejected(saved, member, tmp_path):
    _, path, _, _ = saved
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = b"{}"
    bad = tmp_path / "bad.keras"
    _write_zip(bad, members)
    with pytest.raises(ValueError, match="unsafe member path"):
        saving.load_model(bad)


def test_size_caps(saved, monkeypatch):
    _, path, _, _ = saved
    monkeypatch.setattr(files, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(ValueError, match="model.safetensors.*cap"):
        saving.load_model(path)
    monkeypatch.setattr(files, "MAX_MEMBER_BYTES", 2**40)
    monkeypatch.setattr(files, "MAX_TOTAL_BYTES", 500)
    with pytest.raises(ValueError, match="cap"):
        saving.load_model(path)


def test_zip_bomb_config_is_capped(saved, monkeypatch, tmp_path):
    _, path, _, _ = saved
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["config.json"] = b" " * (2 * 2**20)  # compresses to a few KB
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    monkeypatch.setattr(files, "MAX_JSON_BYTES", 2**20)
    with pytest.raises(ValueError, match="config.json.*cap"):
        saving.load_model(bomb)


def test_file_of_unknown_future_format_version(saved, tmp_path):
    _, path, _, _ = saved
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    meta = json.loads(members["metadata.json"])
    meta["format_version"] = "9.0"
    members["metadata.json"] = json.dumps(meta).encode()
    _write_zip(tmp_path / "future.keras", members)
    with pytest.raises(ValueError, match="format '9.0'.*Upgrade"):
        saving.load_model(tmp_path / "future.keras")


# --------------------------------------------------------------------------- no code execution
class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_files_are_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    raw = tmp_path / "model.keras"
    raw.write_bytes(pickle.dumps(_Exploit(marker)))
    torch_file = tmp_path / "torch_model.keras"
    torch.save({"state": _Exploit(marker), "w": torch.zeros(2)}, torch_file)
    assert zipfile.is_zipfile(torch_file)  # torch.save writes a zip with data.pkl inside
    for path in (raw, torch_file):
        with pytest.raises(ValueError, match="never unpickles"):
            saving.load_model(path)
        with pytest.raises(ValueError, match="never unpickles"):
            _sequential().load_weights(path)
    assert not marker.exists()
    pickle.loads(raw.read_bytes())  # the exploit is real: unpickling it does run the command
    assert marker.exists()


def test_config_cannot_name_arbitrary_python_objects(saved, tmp_path):
    _, path, _, _ = saved
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["model"]["config"]["layers"][1] = {"class_name": "os.system", "registered_name": "posix>system",
                                              "module": "os", "config": {"command": "touch x"}}
    members["config.json"] = json.dumps(config).encode()
    _write_zip(tmp_path / "evil.keras", members)
    with pytest.raises(ValueError, match="Unknown layer class 'os.system'"):
        saving.load_model(tmp_path / "evil.keras")


# --------------------------------------------------------------------------- atomic saves
def test_failed_save_leaves_previous_file_intact(saved, monkeypatch):
    model, path, x, _ = saved
    before = path.read_bytes()
    original = files._write_member

    def failing(archive, name, data, compress):
        original(archive, name, data, compress)
        if name == "config.json":
            raise OSError("disk full (simulated)")

    monkeypatch.setattr(files, "_write_member", failing)
    model.layers[0].kernel.data.add_(1.0)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == ["model.keras"]  # the temporary file was removed
    monkeypatch.setattr(files, "_write_member", original)
    restored = saving.load_model(path)
    assert not np.array_equal(restored.layers[0].get_weights()[0], model.layers[0].get_weights()[0])


def test_failed_weights_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    model = _sequential()
    model.save_weights(tmp_path / "w.bin")
    before = (tmp_path / "w.bin").read_bytes()
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("interrupted")))
    with pytest.raises(OSError, match="interrupted"):
        _sequential().save_weights(tmp_path / "w.bin")
    assert (tmp_path / "w.bin").read_bytes() == before and os.listdir(tmp_path) == ["w.bin"]


_KILLED_SAVER = textwrap.dedent("""
    import sys, time
    import easynn
    from easynn.saving import files
    original = files._write_member
    def slow(archive, name, data, compress):
        original(archive, name, data, compress)
        if name == "config.json":
            archive.fp.flush()
            print("MIDWAY", flush=True)
            time.sleep(60)
    files._write_member = slow
    easynn.utils.set_random_seed(123)
    model = easynn.Sequential([easynn.Input(shape=(4,)), easynn.layers.Dense(8), easynn.layers.Dense(1)])
    model.save(sys.argv[1])
""")


@pytest.mark.slow
def test_save_killed_mid_write_leaves_previous_file_intact(tmp_path):
    model = easynn.Sequential([easynn.Input(shape=(4,)), Dense(8), Dense(1)])
    path = tmp_path / "model.keras"
    model.save(path)
    before = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_SAVER, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "MIDWAY", proc.stderr.read()
        temporaries = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
        assert len(temporaries) == 1 and os.path.getsize(tmp_path / temporaries[0]) > 0  # mid-save
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    assert _weights_equal(saving.load_model(path), model)


# --------------------------------------------------------------------------- devices
def test_saved_tensors_are_cpu_copies(saved):
    model, path, _, _ = saved
    saved_kernel = st_load(zipfile.ZipFile(path).read("model.safetensors"))["0"]
    assert saved_kernel.device.type == "cpu"
    model.layers[0].kernel.data.zero_()  # the file does not share memory with the model
    assert saved_kernel.abs().sum() > 0


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_saved_model_loads_without_cuda(tmp_path):
    model = _sequential()
    model.compile(optimizer="adam", loss="mse", device="cuda")
    x, y = _data()
    model.fit(x, y, epochs=1, verbose=0)
    assert next(model.parameters()).is_cuda
    model.save(tmp_path / "gpu.keras")
    expected = model.predict(x, verbose=0)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", expected)
    script = textwrap.dedent(f"""
        import numpy as np, torch, easynn
        from tests.test_saving import Scale
        assert not torch.cuda.is_available()
        model = easynn.models.load_model({str(tmp_path / 'gpu.keras')!r})
        assert next(model.parameters()).device.type == "cpu"
        x = np.load({str(tmp_path / 'x.npy')!r})
        np.testing.assert_allclose(model.predict(x, verbose=0), np.load({str(tmp_path / 'expected.npy')!r}), rtol=1e-4, atol=1e-5)
        model.fit(x, x[:, :1], epochs=1, verbose=0)
        print("OK")
    """)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": os.getcwd()}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip().endswith("OK"), result.stderr


# --------------------------------------------------------------------------- the example
def test_custom_layer_example_reloads_identically(capsys):
    import runpy

    path = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "custom_layer.py")
    assert runpy.run_path(path)["main"]() == 0.0
    assert "max |prediction difference| after reload: 0.0" in capsys.readouterr().out


def test_nested_layers_with_the_same_name_round_trip(tmp_path):
    # Two sub-models may each hold a layer called "d"; the file must still tell the two apart.
    def make():
        return easynn.Sequential([
            easynn.Input(shape=(3,)),
            easynn.Sequential([Dense(2, name="d")], name="a"),
            easynn.Sequential([Dense(2, name="d")], name="b"),
        ])

    model = make()
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    model.save_weights(tmp_path / "w.weights.h5")
    model.save(tmp_path / "m.keras")
    fresh = make()
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    loaded = easynn.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_weighted_metrics_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    w = rng.uniform(0.1, 2.0, size=32).astype("float32")
    model = easynn.Sequential([easynn.Input(shape=(4,)), easynn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    before = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    model.save(tmp_path / "model.keras")
    loaded = easynn.models.load_model(tmp_path / "model.keras")
    after = loaded.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert set(after) == set(before) and len(before) == 3
    for key in before:
        assert after[key] == pytest.approx(before[key], rel=1e-6)
