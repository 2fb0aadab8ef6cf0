"""save_weights/load_weights keep layers' save_own_variables stores, as Keras's .weights.h5 does."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

import easynn
from easynn import saving
from easynn.layers import Dense, Layer
from easynn.saving import hooks, weights

CALLS: list[tuple[str, np.ndarray]] = []  # (layer name, first Dense kernel row seen) per load_own_variables


@pytest.fixture(autouse=True)
def _seed_and_log():
    easynn.utils.set_random_seed(0)
    CALLS.clear()


class BatchCounter(Layer):
    """Counts the training batches it saw; the count is a NumPy array, not a weight."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = np.zeros((), dtype=np.int64)
        # A Dense whose weights must already be loaded when the store arrives; set with
        # object.__setattr__ so that torch does not register it as a sublayer of the counter.
        object.__setattr__(self, "kernel_source", None)

    def call(self, inputs, training=None):
        if training:
            self.seen = self.seen + 1
        return inputs * (1.0 + float(self.seen))

    def save_own_variables(self, store):
        store["seen"] = self.seen

    def load_own_variables(self, store):
        row = None if self.kernel_source is None else self.kernel_source.get_weights()[0][0].copy()
        CALLS.append((self.name, row))
        self.seen = np.array(store["seen"])


class NoHooks(Layer):
    """The same place in a model as a BatchCounter, without saving hooks (an older version)."""

    def call(self, inputs, training=None):
        return inputs


def _model(counter=BatchCounter):
    inputs = easynn.Input(shape=(3,))
    dense = Dense(2, name="dense")
    left = counter(name="left")
    right = counter(name="right")
    object.__setattr__(left, "kernel_source", dense)
    hidden = dense(inputs)
    model = easynn.Model(inputs, easynn.layers.Add()([left(hidden), right(hidden)]))
    return model, left, right


def _header(data: bytes) -> dict:
    return json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])


def _x(n=4):
    return torch.randn(n, 3, generator=torch.Generator().manual_seed(n))


def test_save_weights_round_trips_own_variables_after_the_weights(tmp_path):
    source, left, right = _model()
    left.seen, right.seen = np.array(3), np.array(7)
    x = _x()
    expected = source(x)
    source.save_weights(tmp_path / "w.weights.h5")

    target, t_left, t_right = _model()
    assert not torch.allclose(target(x), expected)
    target.load_weights(tmp_path / "w.weights.h5")
    assert (int(t_left.seen), int(t_right.seen)) == (3, 7)  # matched by layer path
    assert isinstance(t_left.seen, np.ndarray) and t_left.seen.dtype == np.int64
    assert [name for name, _ in CALLS] == ["left", "right"]
    # Keras's order: the weights first, then load_own_variables (the kernel was already loaded).
    np.testing.assert_array_equal(CALLS[0][1], source.get_layer("dense").get_weights()[0][0])
    torch.testing.assert_close(target(x), expected)


def test_the_file_is_safetensors_with_an_own_variables_section(tmp_path):
    model, left, _ = _model()
    left.seen = np.array(5)
    model.save_weights(tmp_path / "w.safetensors")
    data = (tmp_path / "w.safetensors").read_bytes()
    tensors = st_load(data)
    assert sorted(tensors) == ["0", "1", "own.0", "own.1"]
    assert int(tensors["own.0"]) == 5 and tensors["own.0"].dtype == torch.int64
    metadata = _header(data)["__metadata__"]
    assert metadata["format_version"] == "2"
    paths = [path for path, layer in hooks.layer_paths(model) if isinstance(layer, BatchCounter)]
    assert len(paths) == 2 and json.loads(metadata["own_variables"]) == [[p, "seen"] for p in paths]
    assert list(tmp_path.iterdir()) == [tmp_path / "w.safetensors"]  # atomic write: no temporary left


def test_model_checkpoint_weights_only_keeps_own_variables(tmp_path):
    model, left, right = _model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.random.default_rng(0).normal(size=(6, 3)), np.zeros((6, 2))
    path = tmp_path / "ckpt-{epoch}.weights.h5"
    checkpoint = easynn.callbacks.ModelCheckpoint(path, save_weights_only=True)
    model.fit(x, y, batch_size=2, epochs=2, verbose=0, shuffle=False, callbacks=[checkpoint])
    assert int(left.seen) == 6  # 3 batches per epoch, 2 epochs

    restored, r_left, r_right = _model()
    restored.load_weights(tmp_path / "ckpt-1.weights.h5")
    assert (int(r_left.seen), int(r_right.seen)) == (3, 3)
    restored.load_weights(tmp_path / "ckpt-2.weights.h5")
    assert (int(r_left.seen), int(r_right.seen)) == (6, 6)
    probe = torch.as_tensor(x[:2], dtype=torch.float32)
    torch.testing.assert_close(restored(probe), model(probe))


def test_models_without_hooks_write_version_1_files(tmp_path):
    model = easynn.Sequential([easynn.Input(shape=(3,)), Dense(2)])
    model.save_weights(tmp_path / "w.weights.h5")
    data = (tmp_path / "w.weights.h5").read_bytes()
    # The same header and tensors as before own variables existed.
    assert _header(data) == _header(weights.weights_to_bytes(model))
    assert _header(data)["__metadata__"]["format_version"] == "1"
    assert sorted(st_load(data)) == ["0", "1"]


def test_version_1_files_still_load_and_call_no_hook(tmp_path):
    source, _, _ = _model()
    (tmp_path / "old.weights.h5").write_bytes(weights.weights_to_bytes(source))  # no own-variables section
    target, t_left, _ = _model()
    t_left.seen = np.array(9)
    target.load_weights(tmp_path / "old.weights.h5")
    assert CALLS == [] and int(t_left.seen) == 9
    np.testing.assert_array_equal(target.get_weights()[0], source.get_weights()[0])


def test_load_weights_of_a_model_file_restores_its_own_variables_too(tmp_path):
    source, left, right = _model()
    left.seen, right.seen = np.array(4), np.array(2)
    source.save(tmp_path / "m.keras")  # own variables in the member own_variables.safetensors
    target, t_left, t_right = _model()
    target.load_weights(tmp_path / "m.keras")  # Keras: load_weights on a .keras file loads them as well
    np.testing.assert_array_equal(target.get_weights()[0], source.get_weights()[0])
    assert (int(t_left.seen), int(t_right.seen)) == (4, 2)
    np.testing.assert_array_equal(CALLS[0][1], source.get_layer("dense").get_weights()[0][0])


def test_load_weights_of_a_model_file_without_own_variables_calls_no_hook(tmp_path):
    source, _, _ = _model(NoHooks)
    source.save(tmp_path / "old.keras")
    target, t_left, _ = _model()
    t_left.seen = np.array(9)
    target.load_weights(tmp_path / "old.keras")
    assert CALLS == [] and int(t_left.seen) == 9
    np.testing.assert_array_equal(target.get_weights()[0], source.get_weights()[0])


def _rewrite(path, change):
    tensors = st_load(path.read_bytes())
    metadata = _header(path.read_bytes())["__metadata__"]
    change(tensors, metadata)
    path.write_bytes(st_save(tensors, metadata=metadata))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t, m: t.pop("own.1"), "index lists 2 arrays"),
        (lambda t, m: m.update(own_variables='{"not": "a list"}'), "index is malformed"),
        (lambda t, m: m.update(own_variables="[[not json"), "metadata cannot be read"),
        (lambda t, m: m.pop("own_variables"), "no own-variables index"),
    ],
    ids=["missing-tensor", "malformed-index", "bad-json", "no-index"],
)
def test_a_corrupted_section_is_refused_before_anything_changes(tmp_path, change, message):
    source, _, _ = _model()
    path = tmp_path / "w.weights.h5"
    source.save_weights(path)
    _rewrite(path, change)
    target, t_left, _ = _model()
    before = [w.copy() for w in target.get_weights()]
    with pytest.raises(ValueError, match=message):
        target.load_weights(path)
    assert CALLS == [] and int(t_left.seen) == 0
    for old, now in zip(before, target.get_weights()):
        np.testing.assert_array_equal(old, now)


def test_a_bad_store_value_fails_before_the_file_is_written(tmp_path):
    model, left, _ = _model()
    left.seen = "three"
    with pytest.raises(TypeError, match="numeric arrays only"):
        saving.save_weights(model, tmp_path / "w.weights.h5")
    assert list(tmp_path.iterdir()) == []
