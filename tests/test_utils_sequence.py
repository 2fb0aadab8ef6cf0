"""pad_sequences against hand-worked values (Keras's padding / truncating / value / dtype)."""

import numpy as np
import pytest
import torch

import easynn
from easynn.utils import pad_sequences

SEQS = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]]


def test_defaults_pad_and_truncate_at_the_start():
    out = pad_sequences(SEQS)
    assert out.dtype == np.int32
    assert out.tolist() == [[0, 0, 1, 2, 3], [0, 0, 0, 4, 5], [6, 7, 8, 9, 10]]


@pytest.mark.parametrize(
    "padding, truncating, want",
    [
        ("pre", "pre", [[1, 2, 3], [0, 4, 5], [8, 9, 10]]),
        ("post", "pre", [[1, 2, 3], [4, 5, 0], [8, 9, 10]]),
        ("pre", "post", [[1, 2, 3], [0, 4, 5], [6, 7, 8]]),
        ("post", "post", [[1, 2, 3], [4, 5, 0], [6, 7, 8]]),
    ],
)
def test_maxlen_padding_truncating(padding, truncating, want):
    assert pad_sequences(SEQS, maxlen=3, padding=padding, truncating=truncating).tolist() == want


def test_value_dtype_and_step_shapes():
    out = pad_sequences([[0.5], [1.5, 2.5]], dtype="float32", value=-1.0, padding="post")
    assert out.dtype == np.float32 and out.tolist() == [[0.5, -1.0], [1.5, 2.5]]
    vectors = pad_sequences([np.ones((2, 3)), np.zeros((1, 3))], maxlen=3, dtype="float32")
    assert vectors.shape == (2, 3, 3) and vectors[1, :2].sum() == 0 and vectors[0, 0].sum() == 0
    words = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert words.tolist() == [["a", "b"], ["<pad>", "c"]]
    assert pad_sequences([[], [1]]).tolist() == [[0], [1]]
    assert pad_sequences([torch.tensor([1, 2]), np.array([3])]).tolist() == [[1, 2], [0, 3]]
    assert pad_sequences(SEQS, maxlen=0).shape == (3, 0)
    assert pad_sequences([]).shape == (0, 0)


def test_keras_io_padding_guide_values():
    raw = [[711, 632, 71], [73, 8, 3215, 55, 927], [83, 91, 1, 645, 1253, 927]]
    assert pad_sequences(raw, padding="post").tolist() == [
        [711, 632, 71, 0, 0, 0], [73, 8, 3215, 55, 927, 0], [83, 91, 1, 645, 1253, 927]]


def test_bad_arguments():
    with pytest.raises(ValueError, match="padding"):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences(SEQS, truncating="both")
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences(SEQS, maxlen=-1)
    with pytest.raises(ValueError, match=r"sequences\[1\]"):
        pad_sequences([[1], 2])
    with pytest.raises(ValueError, match="dtype"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match="Shape of sample"):
        pad_sequences([np.ones((2, 3)), np.ones((1, 2))], dtype="float32")


def test_exported_names():
    assert easynn.utils.pad_sequences is pad_sequences
    assert easynn.utils.timeseries_dataset_from_array.__module__ == "easynn.utils.sequence"


def test_keras2_preprocessing_path():
    from easynn.preprocessing.sequence import pad_sequences as legacy

    assert legacy is pad_sequences


def test_timeseries_windows_by_hand():
    from easynn.utils.sequence import timeseries_dataset_from_array

    data, targets = np.arange(20), np.arange(20) * 10
    windows = timeseries_dataset_from_array(data, targets, sequence_length=4, sequence_stride=3, sampling_rate=2,
                                            batch_size=None, start_index=1, end_index=15)
    # starts 1, 4, 7 (the window from 7 ends at 13 < 15; from 10 it would need 16)
    assert len(windows) == 3
    assert windows[0][0].tolist() == [1, 3, 5, 7] and windows[0][1].item() == 10
    assert windows[2][0].tolist() == [7, 9, 11, 13] and windows[2][1].item() == 70
    only_x = timeseries_dataset_from_array(data, None, sequence_length=5, batch_size=8)
    batches = list(only_x)
    assert [tuple(b.shape) for b in batches] == [(8, 5), (8, 5)]  # 16 windows
    assert timeseries_dataset_from_array(data, targets[:3], sequence_length=5, batch_size=None).__len__() == 3
    shuffled = timeseries_dataset_from_array(data, targets, sequence_length=2, batch_size=32, shuffle=True, seed=1)
    x, y = next(iter(shuffled))
    assert sorted(y.tolist()) == list(range(0, 190, 10)) and (x[:, 0] * 10 == y).all()
    with pytest.raises(ValueError, match="sequence_length"):
        timeseries_dataset_from_array(data, None, sequence_length=0)
    with pytest.raises(ValueError, match="end_index"):
        timeseries_dataset_from_array(data, None, sequence_length=2, end_index=30)


def test_timeseries_dataset_trains_a_model():
    from easynn.utils.sequence import timeseries_dataset_from_array

    series = np.sin(np.arange(200) / 5).astype("float32")[:, None]
    loader = timeseries_dataset_from_array(series[:-1], series[5:, 0], sequence_length=5, batch_size=64)
    model = easynn.Sequential([easynn.Input(shape=(5, 1)), easynn.layers.LSTM(8), easynn.layers.Dense(1)])
    model.compile(optimizer=easynn.optimizers.Adam(0.02), loss="mse")
    history = model.fit(loader, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
