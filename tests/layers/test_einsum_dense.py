"""EinsumDense against torch.einsum and Dense, with Keras's kernel and bias shapes."""

import pytest
import torch

from easynn.layers import Dense, EinsumDense
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "equation, output_shape, bias_axes, x_shape, out_shape, kernel, bias",
    [
        ("ab,bc->ac", 4, "c", (2, 3), (2, 4), (3, 4), (4,)),
        ("abc,cd->abd", (None, 6), "d", (2, 5, 3), (2, 5, 6), (3, 6), (6,)),
        ("...b,bc->...c", 6, "c", (2, 5, 3), (2, 5, 6), (3, 6), (6,)),
        ("abc,cde->abde", (None, 2, 4), "de", (2, 5, 8), (2, 5, 2, 4), (8, 2, 4), (2, 4)),
        ("abcd,cde->abe", (None, 7), "e", (2, 5, 2, 4), (2, 5, 7), (2, 4, 7), (7,)),
        ("ab...,bc->ac...", 4, "c", (2, 3, 5), (2, 4, 5), (3, 4), (4, 1)),
        ("abc,cd->abd", (5, 6), None, (2, 5, 3), (2, 5, 6), (3, 6), None),
    ],
)
def test_shapes_weights_and_values(equation, output_shape, bias_axes, x_shape, out_shape, kernel, bias):
    layer = EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes, bias_initializer="ones")
    x = torch.randn(*x_shape)
    n_params = torch.Size(kernel).numel() + (torch.Size(bias).numel() if bias else 0)
    out = check_layer(layer, x, out_shape, n_params)
    assert tuple(layer.kernel.shape) == kernel
    want = torch.einsum(equation, x, layer.kernel)
    if bias:
        assert tuple(layer.bias.shape) == bias
        want = want + layer.bias
    torch.testing.assert_close(out, want)


def test_equals_dense():
    dense, einsum = Dense(4, activation="relu"), EinsumDense("ab,bc->ac", 4, activation="relu", bias_axes="c")
    x = torch.randn(3, 5)
    dense(x), einsum(x)
    einsum.set_weights(dense.get_weights())
    torch.testing.assert_close(einsum(x), dense(x))


def test_bad_arguments():
    with pytest.raises(ValueError, match="equation"):
        EinsumDense("ab,bc,cd->ad", 3)
    with pytest.raises(ValueError, match="bias_axes"):
        EinsumDense("ab,bc->ac", 3, bias_axes="z")
    with pytest.raises(ValueError, match="output_shape"):
        EinsumDense("abc,cd->abd", 3)(torch.zeros(2, 3, 4))
