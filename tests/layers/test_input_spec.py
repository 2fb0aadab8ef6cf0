"""InputSpec: Keras's input checks, before build and before every call, with Keras's messages."""

import re

import pytest
import torch

import easynn
from easynn.layers import InputSpec, Layer


class Checked(Layer):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = spec
        self.calls = 0

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        self.calls += 1
        return inputs * self.w


@pytest.mark.parametrize(
    "spec, shape, message",
    [
        (InputSpec(ndim=3), (2, 4), "expected ndim=3, found ndim=2. Full shape received: (2, 4)"),
        (InputSpec(min_ndim=3), (2, 4), "expected min_ndim=3, found ndim=2"),
        (InputSpec(max_ndim=2), (2, 4, 1), "expected max_ndim=2, found ndim=3"),
        (InputSpec(axes={-1: 5}), (2, 4), "expected axis -1 of input shape to have value 5, but received input "
                                          "with shape (2, 4)"),
        (InputSpec(shape=(None, 3)), (2, 4), "expected shape=(None, 3), found shape=(2, 4)"),
        (InputSpec(dtype="float64"), (2, 4), "expected dtype=float64, found dtype=float32"),
    ],
)
def test_each_rule_raises_keras_message_before_build(spec, shape, message):
    layer = Checked(spec, name="checked")
    with pytest.raises(ValueError, match=re.escape(f'Input 0 of layer "checked" is incompatible with the layer: {message}')):
        layer(torch.ones(shape))
    assert not layer.built and layer.calls == 0


def test_matching_inputs_pass_and_are_checked_on_every_call():
    layer = Checked(InputSpec(ndim=2, axes={-1: 4}, dtype=torch.float32))
    assert layer(torch.ones(3, 4)).shape == (3, 4)
    assert layer(torch.ones(7, 4)).shape == (7, 4)  # any batch size
    with pytest.raises(ValueError, match="expected axis -1"):
        layer(torch.ones(3, 5))  # after build too
    assert layer.calls == 2


def test_unknown_sizes_pass_and_the_functional_api_checks_symbolic_inputs():
    layer = Checked(InputSpec(shape=(None, None, 4)))
    outputs = layer(easynn.Input((None, 4)))
    assert tuple(outputs.shape) == (None, None, 4)
    with pytest.raises(ValueError, match=re.escape("expected shape=(None, None, 4), found shape=(None, 5, 6)")):
        Checked(InputSpec(shape=(None, None, 4)))(easynn.Input((5, 6)))
    with pytest.raises(ValueError, match=re.escape("expected ndim=3, found ndim=2. Full shape received: (None, 6)")):
        Checked(InputSpec(shape=(None, None, 4)))(easynn.Input((6,)))


def test_last_axis_squeeze_and_several_inputs():
    squeezable = Checked(InputSpec(shape=(None, 3), allow_last_axis_squeeze=True))
    squeezable(torch.ones(2, 3, 1))
    squeezable(torch.ones(2, 3))
    with pytest.raises(ValueError, match="expected shape"):
        squeezable(torch.ones(2, 4, 1))

    class Pair(Layer):
        def __init__(self):
            super().__init__(name="pair")
            self.input_spec = [InputSpec(ndim=2), InputSpec(ndim=3)]

        def call(self, inputs):
            a, b = inputs
            return a.sum() + b.sum()

    assert float(Pair()([torch.ones(2, 2), torch.ones(2, 2, 2)])) == 12.0
    with pytest.raises(ValueError, match=r'Input 1 of layer "pair".*expected ndim=3, found ndim=2'):
        Pair()([torch.ones(2, 2), torch.ones(2, 2)])
    with pytest.raises(ValueError, match=r'Layer "pair" expects 2 input\(s\), but it received 1 input tensors'):
        Pair()(torch.ones(2, 2))


def test_bad_specs_raise_naming_the_argument():
    with pytest.raises(ValueError, match=r"`ndim` must be a non-negative integer or None. Received: ndim=-1"):
        InputSpec(ndim=-1)
    with pytest.raises(ValueError, match=r"`axes` must be a dict"):
        InputSpec(axes=[1, 2])
    with pytest.raises(ValueError, match=r"Axis 3 of `axes` is out of range for ndim=2"):
        InputSpec(ndim=2, axes={3: 4})
    spec = InputSpec(ndim=2, axes={-1: 4}, dtype="float32")
    assert InputSpec.from_config(spec.get_config()).get_config() == spec.get_config()
