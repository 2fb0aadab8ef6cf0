"""Merge layers against torch's own ops, their shape errors, and their use on symbolic tensors."""

import pytest
import torch

import easynn
from easynn.layers import (
    Add,
    Average,
    Concatenate,
    Dense,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    concatenate,
    subtract,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _three(shape=(2, 3)):
    return [torch.randn(shape) for _ in range(3)]


@pytest.mark.parametrize(
    "layer_cls, reference",
    [
        (Add, lambda ts: ts[0] + ts[1] + ts[2]),
        (Multiply, lambda ts: ts[0] * ts[1] * ts[2]),
        (Average, lambda ts: torch.stack(ts).mean(0)),
        (Maximum, lambda ts: torch.stack(ts).amax(0)),
        (Minimum, lambda ts: torch.stack(ts).amin(0)),
    ],
)
def test_elementwise_matches_torch(layer_cls, reference):
    tensors = _three()
    torch.testing.assert_close(layer_cls()(tensors), reference(tensors))


def test_elementwise_gradient_flows_to_every_input():
    tensors = [t.requires_grad_() for t in _three()]
    Multiply()(tensors).sum().backward()
    torch.testing.assert_close(tensors[0].grad, (tensors[1] * tensors[2]).detach())


def test_subtract_and_concatenate_match_torch():
    a, b = torch.randn(2, 3), torch.randn(2, 3)
    torch.testing.assert_close(Subtract()([a, b]), a - b)
    c = torch.randn(2, 5)
    torch.testing.assert_close(Concatenate()([a, c]), torch.cat([a, c], dim=-1))
    x, y = torch.randn(2, 3, 4), torch.randn(2, 1, 4)
    torch.testing.assert_close(Concatenate(axis=1)([x, y]), torch.cat([x, y], dim=1))


def test_broadcasting_follows_torch():
    a, b = torch.randn(2, 3), torch.randn(2, 1)
    torch.testing.assert_close(Add()([a, b]), a + b)


def test_incompatible_shapes_are_named():
    with pytest.raises(ValueError, match=r"incompatible shapes.*\(2, 3\).*\(2, 4\)"):
        Add(name="joint")([torch.zeros(2, 3), torch.zeros(2, 4)])
    with pytest.raises(ValueError, match=r"except for the concatenation axis.*\(2, 3, 4\), \(2, 5, 6\)"):
        Concatenate(axis=1)([torch.zeros(2, 3, 4), torch.zeros(2, 5, 6)])
    with pytest.raises(ValueError, match="same rank"):
        Concatenate()([torch.zeros(2, 3), torch.zeros(2, 3, 1)])
    with pytest.raises(ValueError, match="axis=3 is out of range"):
        Concatenate(axis=3)([torch.zeros(2, 3), torch.zeros(2, 3)])


def test_input_count_and_type_errors():
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        Subtract()(_three())
    with pytest.raises(ValueError, match="list of tensors"):
        Add()(torch.zeros(2, 3))
    with pytest.raises(TypeError, match="`axis` must be an integer"):
        Concatenate(axis="1")


def test_symbolic_shapes_and_errors_use_none_batch():
    x = easynn.Input(shape=(4,))
    a, b = Dense(3)(x), Dense(5)(x)
    assert concatenate([a, b]).shape == (None, 8)
    assert add([a, Dense(3)(x)]).shape == (None, 3)
    with pytest.raises(ValueError, match=r"\(None, 3\).*\(None, 5\)"):
        subtract([a, b])


def test_concatenate_config_round_trip():
    layer = Concatenate(axis=1, name="cat")
    config = layer.get_config()
    assert config["axis"] == 1 and config["name"] == "cat"
    clone = Concatenate.from_config(config)
    x, y = torch.randn(2, 3, 4), torch.randn(2, 2, 4)
    torch.testing.assert_close(clone([x, y]), layer([x, y]))
