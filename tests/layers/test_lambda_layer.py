"""Lambda: Keras's output_shape / mask / arguments, with the declared shape checked."""

import pytest
import torch

import easynn
from easynn import layers


def test_arguments_are_passed_as_keywords():
    layer = layers.Lambda(lambda x, scale, shift: x * scale + shift, arguments={"scale": 2.0, "shift": 1.0})
    out = layer(torch.tensor([[1.0, 2.0]]))
    torch.testing.assert_close(out, torch.tensor([[3.0, 5.0]]))


def test_function_receives_training_and_mask_when_it_names_them():
    seen = {}

    def fn(x, mask=None, training=None):
        seen["mask"], seen["training"] = mask, training
        return x

    layer = layers.Lambda(fn)
    x = torch.ones(2, 3, 4)
    x._keras_mask = torch.tensor([[True, True, False], [True, False, False]])
    with pytest.warns(UserWarning, match="does not support masking"):  # mask=None: the mask stops here (Keras warns)
        layer(x, training=True)
    assert seen["training"] is True
    torch.testing.assert_close(seen["mask"], x._keras_mask)


def test_declared_output_shape_is_used_and_checked():
    model = easynn.Sequential([easynn.Input((6,)), layers.Lambda(lambda t: t[:, :2], output_shape=(2,)), layers.Dense(1)])
    assert model.layers[0].compute_output_shape((None, 6)) == (None, 2)
    assert model(torch.zeros(3, 6)).shape == (3, 1)
    wrong = layers.Lambda(lambda t: t * 2, output_shape=(5,))
    with pytest.raises(ValueError, match=r"output_shape=\(5,\).*returned shape \(2, 4\)"):
        wrong(torch.ones(2, 4))


def test_none_axes_and_callable_output_shape():
    free = layers.Lambda(lambda t: t.reshape(t.shape[0], -1, 2), output_shape=(None, 2))
    assert free(torch.ones(3, 8)).shape == (3, 4, 2)
    halve = layers.Lambda(lambda t: t[:, ::2], output_shape=lambda s: (s[0], s[1] // 2))
    assert halve.compute_output_shape((None, 8)) == (None, 4)
    assert halve(torch.ones(2, 8)).shape == (2, 4)
    lying = layers.Lambda(lambda t: t, output_shape=lambda s: (s[0], 1))
    with pytest.raises(ValueError, match="output_shape"):
        lying(torch.ones(2, 8))


def test_mask_argument_keras_semantics():
    x = torch.ones(2, 3, 4)
    x._keras_mask = torch.tensor([[True, True, False], [True, False, False]])
    with pytest.warns(UserWarning, match="does not support masking"):
        assert getattr(layers.Lambda(lambda t: t * 1)(x), "_keras_mask", None) is None  # mask=None drops masks
    keep_first = layers.Lambda(lambda t: t * 1, mask=lambda inputs, mask: mask[:, :1].expand_as(mask))
    out = keep_first(x)
    torch.testing.assert_close(out._keras_mask, torch.tensor([[True, True, True], [True, True, True]]))


@pytest.mark.parametrize("bad, match", [
    (dict(function=3), "`function` must be callable"),
    (dict(function=abs, arguments=[1]), "`arguments` must be a dict"),
    (dict(function=abs, output_shape="2"), "`output_shape` must be"),
    (dict(function=abs, output_shape=(-1, 2)), "`output_shape` must be"),
])
def test_bad_arguments_name_the_argument(bad, match):
    with pytest.raises(TypeError, match=match):
        layers.Lambda(**bad)
