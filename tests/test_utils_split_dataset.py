"""easynn.utils.split_dataset: Keras's sizes, rounding, shuffle order and errors, for each input kind."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, IterableDataset, Subset, TensorDataset

import easynn
from easynn.utils import split_dataset


def keras_order(n, seed):
    """The order Keras's split_dataset gives: random.seed(seed); random.shuffle(samples)."""
    state = random.getstate()
    try:
        random.seed(seed)
        order = list(range(n))
        random.shuffle(order)
        return order
    finally:
        random.setstate(state)


# ------------------------------------------------------------------ sizes and rounding


@pytest.mark.parametrize("left_size, right_size, n, expected", [
    (0.8, None, 10, (8, 2)),
    (None, 0.3, 10, (7, 3)),
    (3, None, 10, (3, 7)),
    (None, 4, 10, (6, 4)),
    (0.5, None, 5, (2, 3)),     # round(2.5) = 2 (Python rounds half to even)
    (0.7, None, 5, (4, 1)),     # round(3.5) = 4
    (0.45, None, 10, (4, 6)),   # round(4.5) = 4
    (0.15, None, 10, (2, 8)),   # round(1.5) = 2
    (None, 0.25, 10, (8, 2)),   # right = round(2.5) = 2
    (0.2, 0.3, 10, (2, 3)),     # both given: the middle 5 samples are left out
    (2, 0.5, 10, (2, 5)),
    (0.5, 0.5, 10, (5, 5)),
])
def test_split_sizes_follow_keras(left_size, right_size, n, expected):
    left, right = split_dataset(np.arange(n), left_size=left_size, right_size=right_size)
    assert (len(left), len(right)) == expected
    # left = the first samples, right = the last ones
    assert left.tolist() == list(range(expected[0]))
    assert right.tolist() == list(range(n - expected[1], n))


def test_numpy_integer_and_float_sizes_are_accepted():
    left, right = split_dataset(np.arange(10), left_size=np.int64(4), right_size=np.float64(0.5))
    assert (len(left), len(right)) == (4, 5)


# ------------------------------------------------------------------ shuffle


def test_shuffle_uses_keras_order_and_is_deterministic():
    data = np.arange(10) * 10
    left, right = split_dataset(data, left_size=0.6, shuffle=True, seed=3)
    order = keras_order(10, 3)  # [1, 5, 6, 0, 9, 4, 7, 2, 8, 3]
    assert left.tolist() == [10 * i for i in order[:6]]
    assert right.tolist() == [10 * i for i in order[6:]]
    again_left, again_right = split_dataset(data, left_size=0.6, shuffle=True, seed=3)
    assert np.array_equal(left, again_left) and np.array_equal(right, again_right)
    other_left, _ = split_dataset(data, left_size=0.6, shuffle=True, seed=4)
    assert not np.array_equal(left, other_left)


def test_shuffle_does_not_touch_the_global_random_state():
    random.seed(123)
    expected = random.random()
    random.seed(123)
    split_dataset(np.arange(10), left_size=0.5, shuffle=True, seed=0)
    assert random.random() == expected


def test_shuffle_without_seed_follows_set_random_seed():
    # The first set_random_seed imports easynn.random, whose import draws from Python's random
    # after seeding it; warm it up so both draws below start from the same state.
    easynn.utils.set_random_seed(0)
    easynn.utils.set_random_seed(7)
    first, _ = split_dataset(np.arange(50), left_size=10, shuffle=True)
    easynn.utils.set_random_seed(7)
    second, _ = split_dataset(np.arange(50), left_size=10, shuffle=True)
    assert np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(10))


def test_shuffled_halves_are_disjoint_and_cover_everything():
    left, right = split_dataset(torch.arange(17), left_size=0.3, shuffle=True, seed=11)
    assert sorted(left.tolist() + right.tolist()) == list(range(17))


# ------------------------------------------------------------------ input kinds


def test_tuple_of_arrays_keeps_rows_aligned():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    (x_left, y_left), (x_right, y_right) = split_dataset((x, y), left_size=0.7, shuffle=True, seed=5)
    assert x_left.shape == (7, 2) and y_right.shape == (3,)
    assert np.array_equal(x_left[:, 0], 2 * y_left) and np.array_equal(x_right[:, 0], 2 * y_right)
    order = keras_order(10, 5)
    assert y_left.tolist() == order[:7] and y_right.tolist() == order[7:]


def test_list_and_dict_and_nested_structures_keep_their_type():
    x, y = np.arange(8), np.arange(8) + 100
    left, right = split_dataset([x, y], right_size=2)
    assert type(left) is list and left[1].tolist() == [100, 101, 102, 103, 104, 105]
    assert right[0].tolist() == [6, 7]
    left, right = split_dataset({"b": x, "a": y}, left_size=0.25)
    assert list(left) == ["b", "a"] and left["b"].tolist() == [0, 1] and right["a"].tolist() == list(range(102, 108))
    left, right = split_dataset(({"img": x}, y), left_size=3, shuffle=True, seed=2)
    assert left[0]["img"].tolist() == [v - 100 for v in left[1].tolist()]


def test_tensors_stay_tensors_on_their_device():
    x = torch.arange(12.0).reshape(6, 2)
    left, right = split_dataset(x, left_size=4, shuffle=True, seed=0)
    assert isinstance(left, torch.Tensor) and left.shape == (4, 2) and left.device == x.device
    order = keras_order(6, 0)
    assert torch.equal(left, x[order[:4]]) and torch.equal(right, x[order[4:]])


def test_unshuffled_arrays_are_views_as_slicing_gives():
    x = np.arange(10)
    left, _ = split_dataset(x, left_size=5)
    assert np.shares_memory(left, x)


def test_torch_dataset_gives_subsets():
    dataset = TensorDataset(torch.arange(10.0).unsqueeze(1), torch.arange(10))
    left, right = split_dataset(dataset, left_size=0.8, shuffle=True, seed=9)
    assert isinstance(left, Subset) and isinstance(right, Subset)
    order = keras_order(10, 9)
    assert list(left.indices) == order[:8] and list(right.indices) == order[8:]
    assert int(right[0][1]) == order[8]
    left, right = split_dataset(dataset, right_size=3)
    assert list(left.indices) == list(range(7)) and list(right.indices) == [7, 8, 9]


def test_custom_map_style_dataset():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return torch.tensor([float(i)]), torch.tensor(float(i * i))

    left, right = split_dataset(Squares(), left_size=2)
    assert [float(left[i][1]) for i in range(len(left))] == [0.0, 1.0]
    assert len(right) == 3


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("kwargs, pattern", [
    ({}, r"At least one of `left_size` and `right_size`.*left_size=None, right_size=None"),
    ({"left_size": 0}, r"`left_size` must be a positive integer.*left_size=0"),
    ({"left_size": -2}, r"left_size=-2"),
    ({"right_size": 10}, r"smaller than the 10 samples.*right_size=10"),
    ({"left_size": 0.0}, r"`left_size` must be a float in \(0, 1\).*left_size=0.0"),
    ({"left_size": 1.0}, r"left_size=1.0"),
    ({"right_size": 1.5}, r"right_size=1.5"),
    ({"left_size": -0.1}, r"left_size=-0.1"),
    ({"left_size": 0.6, "right_size": 0.5}, r"at most 1.*left_size=0.6, right_size=0.5"),
    ({"left_size": 6, "right_size": 5}, r"6 \+ 5 = 11 samples but `dataset` has 10"),
    ({"left_size": 0.7, "right_size": 4}, r"7 \+ 4 = 11"),
    ({"left_size": 0.01}, r"left_size=0.01 and right_size=None leave the left split empty \(left_size rounds to 0"),
    ({"right_size": 0.04}, r"leave the right split empty"),
])
def test_bad_sizes_raise_value_error(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        split_dataset(np.arange(10), **kwargs)


@pytest.mark.parametrize("kwargs, pattern", [
    ({"left_size": "0.5"}, r"`left_size` must be a float in \(0, 1\), an integer or None.*left_size='0.5'"),
    ({"right_size": True}, r"right_size=True of type bool"),
    ({"left_size": [3]}, r"left_size=\[3\]"),
    ({"left_size": 0.5, "seed": 1.5}, r"`seed` must be an integer or None. Received: seed=1.5"),
])
def test_wrong_types_raise_type_error(kwargs, pattern):
    with pytest.raises(TypeError, match=pattern):
        split_dataset(np.arange(10), **kwargs)


def test_bad_datasets():
    with pytest.raises(ValueError, match=r"same length.*10 at path \(0,\) and 9 at path \(1,\)"):
        split_dataset((np.zeros(10), np.zeros(9)), left_size=0.5)
    with pytest.raises(TypeError, match=r"Received int at path \(0,\)"):
        split_dataset([1, 2, 3], left_size=1)
    with pytest.raises(TypeError, match="dataset of type str"):
        split_dataset("abc", left_size=1)
    with pytest.raises(ValueError, match="scalar"):
        split_dataset(np.array(1.0), left_size=1)
    with pytest.raises(ValueError, match="empty"):
        split_dataset(np.zeros((0, 3)), left_size=0.5)
    with pytest.raises(ValueError, match="holds no arrays"):
        split_dataset((), left_size=0.5)

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(3))

    with pytest.raises(TypeError, match="map-style"):
        split_dataset(Stream(), left_size=1)


# ------------------------------------------------------------------ training on a split


def _model():
    easynn.utils.set_random_seed(0)
    model = easynn.Sequential([easynn.Input((2,)), easynn.layers.Dense(1)])
    model.compile(optimizer=easynn.optimizers.SGD(0.1), loss="mse")
    return model


def test_fit_on_array_split_trains_on_left_and_validates_on_right():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0]], dtype="float32")).astype("float32")
    left, right = split_dataset((x, y), left_size=0.75, shuffle=True, seed=1)
    model = _model()
    history = model.fit(*left, validation_data=right, epochs=30, batch_size=10, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    # validation ran on the 10 right-hand samples: its loss is what evaluate gives on them
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(*right, verbose=0), rel=1e-5)


def test_fit_on_torch_dataset_split():
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.normal(size=(32, 2)), dtype=torch.float32)
    y = x @ torch.tensor([[0.5], [1.5]])
    left, right = split_dataset(TensorDataset(x, y), left_size=24, shuffle=True, seed=0)
    model = _model()
    history = model.fit(left, validation_data=right, epochs=30, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    assert "val_loss" in history.history
