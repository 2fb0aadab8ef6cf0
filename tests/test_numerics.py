"""to_categorical (Keras 3's argument name x) and normalize."""

import numpy as np
import pytest
import torch

from easynn.utils import normalize, to_categorical


def test_to_categorical_takes_x_and_the_keras2_name_y():
    expected = np.eye(3, dtype="float32")[[0, 2, 1]]
    np.testing.assert_array_equal(to_categorical(x=[0, 2, 1]), expected)
    np.testing.assert_array_equal(to_categorical(y=[[0], [2], [1]], num_classes=3), expected)
    out = to_categorical(torch.tensor([1, 0]), num_classes=2)
    assert isinstance(out, torch.Tensor) and out.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    with pytest.raises(TypeError, match="once"):
        to_categorical([0], y=[0])
    with pytest.raises(ValueError, match="out of range"):
        to_categorical([3], num_classes=3)


def test_normalize_matches_the_norm_and_keeps_zero_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0.0, 0.0], [2**-0.5, -(2**-0.5)]])
    np.testing.assert_allclose(normalize(x, order=1)[0], [3 / 7, 4 / 7])
    np.testing.assert_allclose(normalize(x, axis=0)[:, 0], x[:, 0] / np.sqrt(10))
    t = normalize(torch.tensor(x, dtype=torch.float32))
    assert isinstance(t, torch.Tensor)
    torch.testing.assert_close(t, torch.nn.functional.normalize(torch.tensor(x, dtype=torch.float32), dim=-1))
