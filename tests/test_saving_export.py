"""easynn.saving.export_model: torch.export programs and ONNX files; easynn models as torch modules."""

from __future__ import annotations

import importlib.util

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


@pytest.mark.skipif(importlib.util.find_spec("onnx") is not None, reason="onnx is installed")
def test_onnx_without_the_optional_package_says_what_to_install(tmp_path):
    with pytest.raises(ImportError, match="pip install onnx"):
        saving.export_model(_sequential(), tmp_path / "m.onnx", format="onnx")
    assert not (tmp_path / "m.onnx").exists()


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
