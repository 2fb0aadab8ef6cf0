import numpy as np
import pytest
import torch

from easynn.layers.embedding import Embedding
from tests.layers.layer_checks import check_layer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "in_shape, out_shape", [((2, 5), (2, 5, 4)), ((3,), (3, 4)), ((2, 3, 2), (2, 3, 2, 4))]
)
def test_shapes_params_config(in_shape, out_shape):
    ids = torch.randint(0, 10, in_shape)
    check_layer(Embedding(10, 4), ids, out_shape, 10 * 4)


def test_lookup_returns_table_rows():
    layer = Embedding(6, 3)
    ids = torch.tensor([[5, 0, 2], [2, 2, 1]])
    out = layer(ids)
    (table,) = layer.get_weights()
    assert table.shape == (6, 3)
    np.testing.assert_array_equal(out.detach().numpy(), table[ids.numpy()])


def test_keras_uniform_initializer():
    layer = Embedding(200, 50)
    layer(torch.zeros(1, dtype=torch.long))
    table = layer.get_weights()[0]
    assert np.abs(table).max() <= 0.05
    assert np.abs(table).max() > 0.049  # U(-0.05, 0.05), not torch's N(0, 1)


def test_float_ids_are_cast():
    layer = Embedding(4, 2)
    torch.testing.assert_close(layer(torch.tensor([1.0, 3.0])), layer(torch.tensor([1, 3])))


def test_gradient_reaches_used_rows_only():
    layer = Embedding(5, 2)
    layer(torch.tensor([1, 1, 3])).sum().backward()
    grad = layer.embeddings.grad
    np.testing.assert_array_equal(grad[:, 0].numpy(), [0, 2, 0, 1, 0])


def test_arguments():
    with pytest.raises(ValueError, match="input_dim"):
        Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim"):
        Embedding(3, -1)
    masked = Embedding(3, 2, mask_zero=True)
    assert masked.get_config()["mask_zero"] is True
    assert masked.compute_mask(torch.tensor([[2, 0, 1]])).tolist() == [[True, False, True]]
    assert Embedding(3, 2).compute_mask(torch.tensor([[2, 0]])) is None
    with pytest.warns(DeprecationWarning, match="input_length"):
        Embedding(3, 2, input_length=7)


def test_out_of_range_ids_raise():
    layer = Embedding(3, 2)
    with pytest.raises(IndexError):
        layer(torch.tensor([3]))


def test_pretrained_weights_and_constraint_argument():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    layer = Embedding(4, 3, weights=[table])
    np.testing.assert_array_equal(layer(torch.tensor([[2]])).detach().numpy()[0, 0], table[2])
    np.testing.assert_array_equal(Embedding(4, 3, weights=table)(torch.tensor([3])).detach().numpy()[0], table[3])
    assert Embedding(4, 3, embeddings_constraint=None).output_dim == 3
    constrained = Embedding(4, 3, embeddings_constraint="non_neg")
    constrained(torch.tensor([0]))
    assert type(constrained.embeddings.constraint).__name__ == "NonNeg"
    assert constrained.get_config()["embeddings_constraint"] == {"class_name": "NonNeg", "config": {}}
    with pytest.raises(ValueError, match="embeddings_constraint"):
        Embedding(4, 3, embeddings_constraint="nonneg")
