"""easynn.utils: pack/unpack of (x, y, sample_weight), symbolic-tensor helpers, standardize_dtype."""

import numpy as np
import pytest
import torch

import easynn
from easynn import utils


def test_pack_and_unpack_follow_keras_rules():
    x, y, w = np.zeros(3), np.ones(3), np.full(3, 2.0)
    assert utils.pack_x_y_sample_weight(x) is x
    assert utils.pack_x_y_sample_weight((x, x)) == ((x, x),)  # a tuple x is wrapped, not read as (x, y)
    packed = utils.pack_x_y_sample_weight(x, y, w)
    assert packed[0] is x and packed[1] is y and packed[2] is w
    got = utils.unpack_x_y_sample_weight(utils.pack_x_y_sample_weight(x, y))
    assert got[0] is x and got[1] is y and got[2] is None
    assert utils.unpack_x_y_sample_weight(x)[0] is x
    assert utils.unpack_x_y_sample_weight([x, y])[1] is y  # lists are read as tuples
    with pytest.raises(ValueError, match="length 4"):
        utils.unpack_x_y_sample_weight((x, y, w, w))


def test_is_keras_tensor_and_get_source_inputs():
    a = easynn.Input((2,), name="first")
    b = easynn.Input((2,), name="second")
    c = easynn.Input((2,), name="unused")
    hidden = easynn.layers.Dense(2)(a)
    out = easynn.layers.Dense(1)(easynn.layers.Concatenate()([hidden, b, hidden]))
    assert utils.is_keras_tensor(out) and not utils.is_keras_tensor(torch.zeros(2))
    sources = utils.get_source_inputs(out)
    assert [t is a for t in sources] == [True, False] and sources[1] is b  # each input once, in order
    assert utils.get_source_inputs(c) == [c]
    with pytest.raises(TypeError, match="symbolic tensor"):
        utils.get_source_inputs(torch.zeros(2))


@pytest.mark.parametrize("given, expected", [
    (torch.float16, "float16"), (torch.bfloat16, "bfloat16"), (np.int32, "int32"), (np.dtype("uint8"), "uint8"),
    ("float", "float32"), ("double", "float64"), ("float32", "float32"), (int, "int64"), (bool, "bool"),
    (None, "float32"),
])
def test_standardize_dtype(given, expected):
    assert utils.standardize_dtype(given) == expected


def test_standardize_dtype_rejects_non_dtypes():
    with pytest.raises(ValueError, match="Invalid dtype"):
        utils.standardize_dtype(object())


def test_clear_session_resets_layer_names_and_logging_aliases():
    utils.clear_session()
    assert easynn.layers.Dense(1).name == "dense"
    assert easynn.layers.Dense(1).name == "dense_1"
    utils.clear_session()
    assert easynn.layers.Dense(1).name == "dense"
    utils.disable_interactive_logging()
    try:
        assert utils.is_interactive_logging_enabled() is False
    finally:
        utils.enable_interactive_logging()
    assert easynn.config.is_interactive_logging_enabled() is True
