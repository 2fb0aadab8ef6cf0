"""easynn.saving.export_model: torch.export programs and ONNX files; easynn models as torch modules."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

import easynn
from easynn import saving
from easynn.layers import Dense


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _sequential():
    return easynn.Sequential([easynn.Input(shape=(4,)), Dense(3, activation="relu"), Dense(2, activation="softmax")])


def _functional():
    inputs = easynn.Input(shape=(4,))
    hidden = Dense(3, activation="tanh")(inputs)
    return easynn.Model(inputs, Dense(2)(hidden))


@pytest.mark.parametrize("builder", [_sequential, _functional], ids=["sequential", "functional"])
def test_torch_export_matches_predict_for_any_batch_size(builder):
    model = builder()
    program = saving.export_model(model)
    assert isinstance(program, torch.export.ExportedProgram)
    for batch in (1, 5):
        x = torch.randn(batch, 4, generator=torch.Generator().manual_seed(batch))
        expected = torch.as_tensor(model.predict(x.numpy(), verbose=0))
        torch.testing.assert_close(program.module()(x), expected, rtol=1e-5, atol=1e-6)


def test_torch_export_of_a_concatenate_model():
    left, right = easynn.Input(shape=(3,)), easynn.Input(shape=(2,))
    model = easynn.Model([left, right], Dense(1)(easynn.layers.Concatenate()([left, right])))
    program = saving.export_model(model)
    for batch in (1, 4):  # the batch axis stays dynamic through the concatenation
        x = [torch.randn(batch, 3), torch.randn(batch, 2)]
        torch.testing.assert_close(program.module()(*x), model(x))


def test_torch_export_file_round_trips_through_torch(tmp_path):
    model = _sequential()
    saving.export_model(model, tmp_path / "model.pt2")
    program = torch.export.load(tmp_path / "model.pt2")
    x = torch.randn(3, 4)
    torch.testing.assert_close(program.module()(x), model(x))


def test_export_refuses_bad_arguments():
    with pytest.raises(ValueError, match="format"):
        saving.export_model(_sequential(), format="tflite")
    with pytest.raises(ValueError, match="not built"):
        saving.export_model(easynn.Sequential([Dense(2)]))
    with pytest.raises(ValueError, match="filepath"):
        saving.export_model(_sequential(), format="onnx")


def test_onnx_without_the_optional_packages_says_what_to_install(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real(name, *a))
    with pytest.raises(ImportError, match=r"onnxscript.*pip install onnx onnxscript.*easynn\[onnx\]"):
        saving.export_model(_sequential(), tmp_path / "m.onnx", format="onnx")
    assert not (tmp_path / "m.onnx").exists()


# --------------------------------------------------------------------------- ONNX, run by onnxruntime
_ONNX_MISSING = [name for name in ("onnx", "onnxscript", "onnxruntime") if importlib.util.find_spec(name) is None]
needs_onnx = pytest.mark.skipif(
    bool(_ONNX_MISSING),
    reason=f'the optional package(s) {", ".join(_ONNX_MISSING)} are not installed (pip install "easynn[onnx]")',
)


def _onnx_mlp():
    left, right = easynn.Input(shape=(3,), name="left"), easynn.Input(shape=(2,), name="right")
    hidden = easynn.layers.Add()([Dense(8, activation="relu")(left), Dense(8, activation="tanh")(right)])
    return easynn.Model([left, right], Dense(3, activation="softmax", name="probabilities")(hidden))


def _onnx_concat():
    left, right = easynn.Input(shape=(3,), name="left"), easynn.Input(shape=(2,), name="right")
    return easynn.Model([left, right], Dense(2)(easynn.layers.Concatenate()([left, right])))


def _onnx_cnn():
    return easynn.Sequential(
        [
            easynn.Input(shape=(8, 8, 1)),
            easynn.layers.Conv2D(4, 3, activation="relu"),
            easynn.layers.MaxPooling2D(2),
            easynn.layers.Flatten(),
            Dense(2),
        ]
    )


def _onnx_lstm():
    return easynn.Sequential([easynn.Input(shape=(5, 3)), easynn.layers.LSTM(4), Dense(1)])


@needs_onnx
@pytest.mark.slow  # torch.onnx's exporter: ~10 s of CPU to load, then 2-4 s per model
@pytest.mark.parametrize(
    "builder", [_onnx_mlp, _onnx_concat, _onnx_cnn, _onnx_lstm], ids=["mlp", "concat", "cnn", "lstm"]
)
def test_onnx_file_run_by_onnxruntime_matches_predict(builder, tmp_path):
    import onnxruntime

    model = builder()
    model.train()  # export runs in inference mode whatever the module's mode, and restores it
    path = tmp_path / "model.onnx"
    assert model.export(path, format="onnx") == path and model.training
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # written atomically, nothing else
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    shapes = model.input_shape if isinstance(model.input_shape, list) else [model.input_shape]
    if builder is _onnx_mlp:
        assert names == ["left", "right"] and [o.name for o in session.get_outputs()] == ["probabilities"]
    for batch in (1, 5):  # the batch axis is dynamic
        rng = np.random.default_rng(batch)
        xs = [rng.normal(size=(batch,) + tuple(shape[1:])).astype("float32") for shape in shapes]
        (got,) = session.run(None, dict(zip(names, xs)))
        expected = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_easynn_model_is_a_plain_torch_module():
    model = _sequential()
    state = model.state_dict()
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    copy = _sequential()
    copy.load_state_dict(state)
    x = torch.randn(2, 4)
    torch.testing.assert_close(copy(x), model(x))
    # Drops into any nn.Module: its parameters train with the host's.
    host = torch.nn.Sequential(torch.nn.Linear(5, 4), model)
    assert sum(p.numel() for p in host.parameters()) == 5 * 4 + 4 + model.count_params()
    host(torch.randn(2, 5)).sum().backward()
    assert model.layers[0].kernel.grad is not None
