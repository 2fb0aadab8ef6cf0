"""utils.convert_data_format / convert_to_channels_first / _last: the converted model computes the same function
on transposed inputs; Keras's shape/axis rules by hand; errors."""

import pytest
import torch

import easynn
from easynn import layers
from easynn.utils import convert_data_format, convert_to_channels_first, convert_to_channels_last
from easynn.utils.data_format import _convert_axis, _permute_shape


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomize(model):
    """Random weights everywhere (BatchNormalization's moving statistics too), so equality means something."""
    model.set_weights([torch.rand(w.shape).numpy() + 0.5 for w in model.get_weights()])


def _cnn():
    model = easynn.Sequential([
        easynn.Input(shape=(8, 7, 3)),
        layers.Conv2D(4, 3, padding="same"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(),
        layers.Conv2D(5, 2),
        layers.Flatten(),
        layers.Dense(3),
    ])
    _randomize(model)
    return model


def test_permute_shape_and_convert_axis_by_hand():
    assert _permute_shape((224, 224, 3), "channels_last", "channels_first") == (3, 224, 224)
    assert _permute_shape((3, 224, 224), "channels_first", "channels_last") == (224, 224, 3)
    assert _permute_shape((16, 32, 32, 3), "channels_last", "channels_first") == (3, 16, 32, 32)
    assert _permute_shape((10,), "channels_last", "channels_first") == (10,)
    assert _permute_shape((4, 5), "channels_last", "channels_last") == (4, 5)
    assert _convert_axis(-1, 4, "channels_last", "channels_first") == 1
    assert _convert_axis(3, 4, "channels_last", "channels_first") == 1
    assert _convert_axis(1, 4, "channels_last", "channels_first") == 2
    assert _convert_axis(0, 4, "channels_last", "channels_first") == 0
    assert _convert_axis(1, 4, "channels_first", "channels_last") == -1
    assert _convert_axis(2, 4, "channels_first", "channels_last") == 1
    assert _convert_axis(-1, 4, "channels_first", "channels_last") == 2
    assert _convert_axis([1, 2, 3], 4, "channels_last", "channels_first") == [2, 3, 1]


def test_sequential_cnn_to_channels_first_computes_the_same_function():
    model = _cnn()
    first = convert_to_channels_first(model)
    assert first is not model and first.input_shape == (None, 3, 8, 7)
    conv, norm, pool, _, flatten, _ = first.layers
    assert conv.data_format == pool.data_format == flatten.data_format == "channels_first"
    assert norm.axis == 1
    x = torch.rand(2, 8, 7, 3)
    expected = model(x, training=False)
    got = first(x.permute(0, 3, 1, 2), training=False)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    for a, b in zip(model.get_weights(), first.get_weights()):  # copies, in the same (Keras) layout
        assert a.shape == b.shape and (a == b).all()
    back = convert_to_channels_last(first)  # source inferred from the layers
    assert back.input_shape == (None, 8, 7, 3) and back.layers[1].axis == -1
    torch.testing.assert_close(back(x, training=False), expected, rtol=1e-5, atol=1e-5)
    first.layers[0].kernel.data.zero_()  # the copy is independent of the original
    assert float(model.layers[0].kernel.detach().abs().sum()) > 0


def test_functional_two_inputs_concatenate_axis_and_explicit_source():
    a = easynn.Input(shape=(3, 6, 6))
    b = easynn.Input(shape=(2, 6, 6))
    x = layers.Concatenate(axis=1)([a, b])
    x = layers.Conv2D(4, 3, data_format="channels_first")(x)
    x = layers.GlobalAveragePooling2D(data_format="channels_first")(x)
    model = easynn.Model([a, b], layers.Dense(2)(x))
    _randomize(model)
    last = convert_data_format(model, "channels_last", source_data_format="channels_first")
    assert last.input_shape == [(None, 6, 6, 3), (None, 6, 6, 2)]
    assert next(layer for layer in last.layers if isinstance(layer, layers.Concatenate)).axis == -1
    xa, xb = torch.rand(2, 3, 6, 6), torch.rand(2, 2, 6, 6)
    torch.testing.assert_close(last([xa.permute(0, 2, 3, 1), xb.permute(0, 2, 3, 1)]), model([xa, xb]),
                               rtol=1e-5, atol=1e-5)


def test_same_format_is_a_copy_with_the_weights():
    model = _cnn()
    same = convert_data_format(model, "channels_last")
    assert same is not model and same.input_shape == model.input_shape
    x = torch.rand(2, 8, 7, 3)
    torch.testing.assert_close(same(x, training=False), model(x, training=False))


def test_errors():
    model = _cnn()
    with pytest.raises(ValueError, match="target_data_format"):
        convert_data_format(model, "NHWC")
    with pytest.raises(ValueError, match="source_data_format"):
        convert_data_format(model, "channels_first", source_data_format="nchw")
    dense = easynn.Sequential([easynn.Input(shape=(4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="source_data_format"):
        convert_to_channels_first(dense)
    converted = convert_to_channels_first(dense, source_data_format="channels_last")  # rank-1 inputs stay
    assert converted.input_shape == (None, 4)
    with pytest.raises(ValueError, match="known input shape"):
        convert_to_channels_first(easynn.Sequential([layers.Conv2D(2, 3)]))
    with pytest.raises(ValueError, match="Sequential or functional"):
        convert_to_channels_first(torch.nn.Linear(2, 2))
