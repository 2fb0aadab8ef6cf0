"""easynn.config and easynn.backend: Keras 3's global settings and backend utilities on torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import easynn
from easynn import backend, config


def test_defaults_are_keras_defaults():
    assert config.backend() == backend.backend() == "torch"
    assert config.floatx() == "float32" and config.epsilon() == 1e-7
    assert config.image_data_format() == "channels_last"
    assert not config.unsafe_deserialization_enabled()


def test_set_floatx_is_torchs_default_dtype():
    try:
        config.set_floatx("float64")
        assert torch.get_default_dtype() == torch.float64 and backend.floatx() == "float64"
        assert easynn.ops.ones((2,)).dtype == torch.float64
    finally:
        config.set_floatx("float32")
    assert torch.get_default_dtype() == torch.float32
    with pytest.raises(ValueError, match="floatx"):
        config.set_floatx("int32")


def test_epsilon_and_image_data_format_setters_are_used_by_ops():
    try:
        config.set_epsilon(0.1)
        # binary_crossentropy clips probabilities to [epsilon, 1 - epsilon]
        assert easynn.ops.binary_crossentropy(torch.tensor([1.0]), torch.tensor([0.0])).item() == pytest.approx(
            -np.log(0.1), rel=1e-6)
        config.set_image_data_format("channels_first")
        assert easynn.ops.image.resize(torch.ones(1, 3, 4, 4), (2, 2)).shape == (1, 3, 2, 2)
    finally:
        config.set_epsilon(1e-7)
        config.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="epsilon"):
        config.set_epsilon(-1)
    with pytest.raises(ValueError, match="data_format"):
        config.set_image_data_format("channels_middle")


def test_unsafe_deserialization_flag_and_other_switches():
    try:
        config.enable_unsafe_deserialization()
        assert config.unsafe_deserialization_enabled()
    finally:
        config.disable_unsafe_deserialization()
    assert not config.unsafe_deserialization_enabled()
    config.disable_interactive_logging()
    assert not config.is_interactive_logging_enabled()
    config.enable_interactive_logging()
    assert config.is_interactive_logging_enabled()


def test_backend_dtype_helpers():
    assert backend.standardize_dtype(torch.float16) == "float16"
    assert backend.standardize_dtype(np.int64) == "int64"
    assert backend.standardize_dtype("float") == "float32" and backend.standardize_dtype(int) == "int32"
    assert backend.standardize_dtype(torch.zeros(1, dtype=torch.bfloat16)) == "bfloat16"
    assert backend.result_type("int8", "uint8") == "int16" and backend.result_type("int32", float) == "float32"
    assert backend.is_float_dtype("bfloat16") and backend.is_int_dtype("uint8") and not backend.is_int_dtype("float16")
    with pytest.raises(ValueError, match="dtype"):
        backend.standardize_dtype("floaty")


def test_backend_tensors_shapes_and_clear_session():
    inputs = easynn.Input(shape=(None, 3))
    assert backend.is_keras_tensor(inputs) and not backend.is_keras_tensor(torch.zeros(1))
    assert backend.int_shape(inputs) == (None, None, 3) and backend.int_shape(np.zeros((2, 3))) == (2, 3)
    assert backend.is_tensor(torch.zeros(1))
    backend.clear_session()
    assert easynn.layers.Dense(2).name == "dense"
    assert easynn.layers.Dense(2).name == "dense_1"
    assert backend.get_uid("x") == 1 and backend.get_uid("x") == 2


def test_package_exposes_the_new_namespaces():
    import easynn as keras

    assert keras.ops.sum is easynn.ops.sum and keras.random.normal is easynn.random.normal
    assert keras.Variable is easynn.variables.Variable and keras.config.floatx() == "float32"
    assert keras.backend.epsilon() == 1e-7
