"""Keras's optimizer state in a ``.keras`` file: ``load_model`` then ``fit`` continues as Keras did.

The ``resume_*`` fixtures in tests/fixtures/keras3/ were written by Keras 3.15 (torch backend)
with ``scripts/make_keras_fixtures.py --training``: a small model trained by Keras for 8 steps and
saved, and in ``resume_*.npz`` the data and Keras's weights after 4 more steps (one epoch,
``shuffle=False``). Keras is not needed here, h5py is.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os
import zipfile

import numpy as np
import pytest
import torch

import easynn
from easynn import saving
from easynn.saving import keras_optimizer

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras3")
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("h5py") is None,
    reason='h5py is not installed; Keras files need it (pip install "easynn[keras-files]")',
)

RESTORED = ["resume_adam", "resume_adamw", "resume_sgd", "resume_rmsprop", "resume_schedule"]
ADAM_FAMILY = {"resume_adam", "resume_adamw", "resume_schedule"}


def _path(name: str, suffix: str) -> str:
    return os.path.join(FIXTURES, name + suffix)


def _data(name: str) -> dict:
    with np.load(_path(name, ".npz"), allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _continue_training(model, data: dict) -> None:
    model.fit(
        data["x"], data["y"], batch_size=int(data["batch_size"]), epochs=int(data["epochs"]), shuffle=False, verbose=0
    )


def _largest_difference(model, data: dict) -> float:
    """The largest |easynn - Keras| over every weight after training (Keras's layout)."""
    worst = 0.0
    for key, expected in data.items():
        if key.startswith("after/"):
            _, layer, index = key.split("/")
            got = model.get_layer(layer).get_weights()[int(index)]
            worst = max(worst, float(np.max(np.abs(got - expected))))
    return worst


def _assert_weights_like_keras(model, data: dict, atol: float) -> None:
    for key, expected in data.items():
        if key.startswith("after/"):
            _, layer, index = key.split("/")
            got = model.get_layer(layer).get_weights()[int(index)]
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=atol, err_msg=key)


def _use_keras_epsilon(optimizer) -> None:
    """Make torch's Adam step use Keras's epsilon, to compare the two to float32 precision.

    Keras adds epsilon to sqrt(v) and folds the bias correction into the step size; torch adds it
    to sqrt(v / (1 - beta_2^t)) (see easynn/optimizers/adam.py). Keras's update is torch's with
    epsilon / sqrt(1 - beta_2^t), set here before each step through torch's step pre-hook.
    """

    def hook(torch_optimizer, args, kwargs):
        t = optimizer.iterations + 1
        for group in torch_optimizer.param_groups:
            group["eps"] = optimizer.epsilon / math.sqrt(1.0 - optimizer.beta_2**t)

    optimizer.torch_optimizer.register_step_pre_hook(hook)


# --------------------------------------------------------------------------- continuing training
@pytest.mark.parametrize("name", RESTORED)
def test_training_continues_exactly_where_keras_stopped(name):
    data = _data(name)
    model = saving.load_model(_path(name, ".keras"))
    assert model.optimizer.iterations == int(data["iterations"]) == 8
    if name in ADAM_FAMILY:
        _use_keras_epsilon(model.optimizer)
    _continue_training(model, data)
    assert model.optimizer.iterations == int(data["iterations_after"]) == 12
    _assert_weights_like_keras(model, data, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ADAM_FAMILY))
def test_adam_with_easynn_epsilon_stays_close_to_keras(name):
    # What a user gets without the test's epsilon hook: the two libraries' epsilon conventions
    # differ by ~1e-5 of a step here, far below what a lost state costs (next test).
    data = _data(name)
    model = saving.load_model(_path(name, ".keras"))
    _continue_training(model, data)
    assert _largest_difference(model, data) < 5e-5


@pytest.mark.parametrize("name", RESTORED)
def test_a_fresh_optimizer_state_would_not_continue_like_keras(name):
    # The same model and weights with a fresh optimizer of the same configuration: the weights
    # after the same steps are far from Keras's, so the test above really checks the state.
    data = _data(name)
    model = saving.load_model(_path(name, ".keras"))
    fresh = type(model.optimizer).from_config(model.optimizer.get_config())
    model.compile(optimizer=fresh, loss=model.loss)
    _continue_training(model, data)
    assert _largest_difference(model, data) > 1e-2


# --------------------------------------------------------------------------- the mapping itself
def _file_variables(name: str) -> list[np.ndarray]:
    import h5py

    with zipfile.ZipFile(_path(name, ".keras")) as archive:
        weights = archive.read("model.weights.h5")
    with h5py.File(io.BytesIO(weights), "r") as root:
        group = root["optimizer/vars"]
        return [np.asarray(group[str(i)][()]) for i in range(len(group.keys()))]


def test_adam_slots_take_the_conv_kernel_layout_and_strides():
    model = saving.load_model(_path("resume_adam", ".keras"))
    conv = model.get_layer("conv2d")
    state = model.optimizer.torch_optimizer.state[conv.kernel]
    variables = _file_variables("resume_adam")  # iteration, learning_rate, then conv2d/kernel's m, v
    assert float(state["step"]) == 8.0
    for key, keras_value in (("exp_avg", variables[2]), ("exp_avg_sq", variables[3])):
        # Keras's (kh, kw, in, out) is easynn's (out, in, kh, kw)
        np.testing.assert_array_equal(state[key].permute(2, 3, 1, 0).numpy(), keras_value)
        # torch's fused Adam pairs a weight with its slots element by element in memory
        assert state[key].stride() == conv.kernel.stride()
    assert model.optimizer.learning_rate == pytest.approx(float(variables[1]))


def test_sgd_momentum_buffer_is_keras_momentum_over_minus_learning_rate():
    model = saving.load_model(_path("resume_sgd", ".keras"))
    variables = _file_variables("resume_sgd")
    lr = float(variables[1])
    first_dense = model.layers[1]  # after the input layer, in Keras's order: its kernel is variable 0
    buffer = model.optimizer.torch_optimizer.state[first_dense.kernel]["momentum_buffer"]
    keras_layout = first_dense.keras_layout(buffer)
    np.testing.assert_allclose(keras_layout.numpy(), variables[2] / -lr, rtol=1e-6)


def test_rmsprop_momentum_and_centered_slots_are_restored():
    model = saving.load_model(_path("resume_rmsprop", ".keras"))
    variables = _file_variables("resume_rmsprop")
    lr = float(variables[1])
    bias = model.layers[-1].bias  # the last of 4 trainable variables
    state = model.optimizer.torch_optimizer.state[bias]
    # blocks of 4: velocity (2..5), momentum (6..9), average_gradient (10..13)
    np.testing.assert_array_equal(state["square_avg"].numpy(), variables[5])
    np.testing.assert_allclose(state["momentum_buffer"].numpy(), variables[9] / lr, rtol=1e-6)
    np.testing.assert_array_equal(state["grad_avg"].numpy(), variables[13])


def test_slot_blocks_follow_keras_variable_order():
    assert keras_optimizer.slot_blocks("AdamW", {"amsgrad": True}) == [("momentum", "velocity"), ("velocity_hat",)]
    assert keras_optimizer.slot_blocks("SGD", {"momentum": 0.0}) == []
    assert keras_optimizer.slot_blocks("RMSprop", {"momentum": 0.0}) == [("velocity",)]
    assert keras_optimizer.slot_blocks("Nadam", {}) is None


# --------------------------------------------------------------------------- what is not restored
@pytest.mark.parametrize(("name", "named"), [("resume_nadam", "Nadam"), ("resume_ema", "use_ema")])
@pytest.mark.parametrize("load_model", [saving.load_model, easynn.models.load_model])
def test_unmapped_optimizer_state_warns_and_starts_fresh(name, named, load_model):
    with pytest.warns(UserWarning, match=f"optimizer state in .*{name}.keras.* was not restored.*{named}") as record:
        model = load_model(_path(name, ".keras"))
    assert record[0].filename == __file__  # the warning points at the caller's load_model
    assert model.compiled and model.optimizer.iterations == 0
    assert not model.optimizer.built


def test_variables_that_do_not_fit_the_model_warn_and_start_fresh(tmp_path):
    import h5py

    source = _path("resume_sgd", ".keras")
    target = str(tmp_path / "resume_sgd.keras")
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w") as out:
        for item in archive.namelist():
            data = archive.read(item)
            if item == "model.weights.h5":
                buffer = io.BytesIO(data)
                with h5py.File(buffer, "r+") as root:
                    del root["optimizer/vars/11"]  # the last slot
                data = buffer.getvalue()
            out.writestr(item, data)
    with pytest.warns(
        UserWarning, match="holds 11 optimizer variables, but SGD over the model's 10 trainable weights has 12"
    ):
        model = saving.load_model(target)
    assert model.optimizer.iterations == 0 and not model.optimizer.built


def test_compiled_but_untrained_keras_model_loads_silently_with_a_fresh_state():
    # mlp.keras: compiled with Adam, never trained (its optimizer file holds only its counters).
    model = saving.load_model(_path("mlp", ".keras"))
    assert model.compiled and model.optimizer.iterations == 0 and not model.optimizer.built


def test_without_compile_there_is_no_optimizer_to_restore():
    model = saving.load_model(_path("resume_adam", ".keras"), compile=False)
    assert not model.compiled
    assert getattr(model, "optimizer", None) is None


def test_restore_without_optimizer_is_a_no_op():
    assert keras_optimizer.restore(torch.nn.Linear(2, 2), [np.int64(3)], {"class_name": "Adam"}, [], "'m'") is False
