"""audio_dataset_from_directory: WAV decoding, labels, padding, splits, errors and fit."""

import os
import wave

import numpy as np
import pytest
import torch

import easynn
from easynn.utils import audio_dataset_from_directory
from easynn.utils.audio_dataset import read_wav

CLASSES = ("down", "up")
RATE = 8000


def _write(path, samples: np.ndarray, width: int = 2, rate: int = RATE) -> None:
    """Write integer ``samples`` of shape ``(frames, channels)`` as PCM of ``width`` bytes."""
    samples = np.asarray(samples)
    if width == 1:
        raw = samples.astype(np.uint8).tobytes()
    elif width == 2:
        raw = samples.astype("<i2").tobytes()
    elif width == 3:
        v = samples.astype(np.int64).reshape(-1) % (1 << 24)  # two's complement in 24 bits
        raw = np.stack([v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF], axis=1).astype(np.uint8).tobytes()
    else:
        raw = samples.astype("<i4").tobytes()
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(samples.shape[1])
        handle.setsampwidth(width)
        handle.setframerate(rate)
        handle.writeframes(raw)


def _values(label: int, index: int, length: int) -> np.ndarray:
    """16-bit mono samples of file ``index`` of class ``label``: the first sample tells the class."""
    return np.array([1000 * (label + 1)] + [100 * index + k for k in range(length - 1)])[:, None]


@pytest.fixture
def audio_dir(tmp_path):
    """2 classes x 3 mono 16-bit files of lengths 3, 4, 5, plus files Keras ignores."""
    root = tmp_path / "audio"
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for index in range(3):
            _write(root / name / f"{index}.wav", _values(label, index, 3 + index))
        (root / name / "notes.txt").write_text("not audio")
    return root


def _load(root, **kwargs):
    kwargs.setdefault("verbose", False)
    return audio_dataset_from_directory(root, **kwargs)


def test_read_wav_scaling_for_each_sample_width(tmp_path):
    stereo16 = np.array([[0, -32768], [16384, 32767], [-1, 1]])
    _write(tmp_path / "s16.wav", stereo16, width=2)
    audio, rate = read_wav(str(tmp_path / "s16.wav"))
    assert rate == RATE and audio.dtype == np.float32 and audio.shape == (3, 2)
    np.testing.assert_array_equal(audio, stereo16 / 32768.0)  # channels stay on the last axis
    unsigned8 = np.array([[0], [64], [128], [255]])
    _write(tmp_path / "u8.wav", unsigned8, width=1)
    np.testing.assert_array_equal(read_wav(str(tmp_path / "u8.wav"))[0], (unsigned8 - 128) / 128.0)
    pcm24 = np.array([[-(1 << 23), 1], [(1 << 23) - 1, -2], [12345, -54321]])
    _write(tmp_path / "s24.wav", pcm24, width=3)
    np.testing.assert_array_equal(read_wav(str(tmp_path / "s24.wav"))[0], (pcm24 / float(1 << 23)).astype(np.float32))
    pcm32 = np.array([[-(1 << 31)], [1 << 30], [(1 << 31) - 1]])
    _write(tmp_path / "s32.wav", pcm32, width=4)
    np.testing.assert_array_equal(read_wav(str(tmp_path / "s32.wav"))[0], (pcm32 / float(1 << 31)).astype(np.float32))
    assert read_wav(str(tmp_path / "s16.wav"), max_samples=2)[0].shape == (2, 2)
    (tmp_path / "bad.wav").write_bytes(b"RIFF0000WAVEjunk")
    with pytest.raises(ValueError, match="PCM WAV"):
        read_wav(str(tmp_path / "bad.wav"))


def test_inferred_labels_padding_to_longest_in_batch_and_exact_values(audio_dir, capsys):
    ds = audio_dataset_from_directory(audio_dir, shuffle=False, batch_size=4)
    assert capsys.readouterr().out == "Found 6 files belonging to 2 classes.\n"
    assert ds.class_names == list(CLASSES)
    assert ds.file_paths == [os.path.join(str(audio_dir), c, f"{i}.wav") for c in CLASSES for i in range(3)]
    (x1, y1), (x2, y2) = list(ds)
    assert x1.shape == (4, 5, 1) and x2.shape == (2, 5, 1)
    assert x1.dtype == torch.float32 and y1.dtype == torch.int32
    assert y1.tolist() == [0, 0, 0, 1] and y2.tolist() == [1, 1]
    expected = np.zeros((4, 5, 1), np.float32)
    for row, (label, index) in enumerate([(0, 0), (0, 1), (0, 2), (1, 0)]):
        values = _values(label, index, 3 + index)
        expected[row, : len(values)] = values / 32768.0
    np.testing.assert_array_equal(x1.numpy(), expected)
    assert x2[0, 4, 0] == 0 and x2[1, 4, 0] * 32768 == 203  # up/1 (4 samples) padded to up/2's 5
    short = next(iter(_load(audio_dir, shuffle=False, batch_size=2)))[0]
    assert short.shape == (2, 4, 1)  # each batch is padded to its own longest file, not the dataset's


def test_label_modes_and_explicit_labels(audio_dir):
    _, categorical = next(iter(_load(audio_dir, shuffle=False, label_mode="categorical", batch_size=6)))
    assert categorical.dtype == torch.float32 and categorical.tolist() == [[1, 0]] * 3 + [[0, 1]] * 3
    _, binary = next(iter(_load(audio_dir, shuffle=False, label_mode="binary", batch_size=6)))
    assert binary.shape == (6, 1) and binary.dtype == torch.float32 and binary[:, 0].tolist() == [0, 0, 0, 1, 1, 1]
    only = next(iter(_load(audio_dir, shuffle=False, label_mode=None, batch_size=6)))
    assert isinstance(only, torch.Tensor) and only.shape == (6, 5, 1)
    unlabelled = _load(audio_dir, labels=None, shuffle=False, batch_size=6)
    assert unlabelled.class_names is None and next(iter(unlabelled)).shape == (6, 5, 1)
    _, given = next(iter(_load(audio_dir, labels=[5, 4, 3, 2, 1, 0], shuffle=False, batch_size=6)))
    assert given.tolist() == [5, 4, 3, 2, 1, 0]  # one label per file in sorted path order
    reordered = _load(audio_dir, class_names=["up", "down"], shuffle=False, batch_size=6)
    x, y = next(iter(reordered))
    assert y.tolist() == [0, 0, 0, 1, 1, 1] and (x[:3, 0, 0] * 32768).tolist() == [2000.0] * 3


def test_output_sequence_length_truncates_and_zero_pads(audio_dir):
    x, _ = next(iter(_load(audio_dir, shuffle=False, output_sequence_length=4, batch_size=6)))
    assert x.shape == (6, 4, 1)
    np.testing.assert_array_equal(x[0, :, 0].numpy() * 32768, [1000, 0, 1, 0])  # 3 samples + a zero
    np.testing.assert_array_equal(x[2, :, 0].numpy() * 32768, [1000, 200, 201, 202])  # 5 cut to 4
    single = _load(audio_dir, shuffle=False, output_sequence_length=2, batch_size=None)
    item, label = single[5]
    assert item.shape == (2, 1) and int(label) == 1


def test_ragged_batches_are_lists_of_own_lengths(audio_dir):
    waves, labels = next(iter(_load(audio_dir, shuffle=False, ragged=True, batch_size=3)))
    assert isinstance(waves, list) and [tuple(w.shape) for w in waves] == [(3, 1), (4, 1), (5, 1)]
    assert labels.tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="ragged.*output_sequence_length"):
        _load(audio_dir, ragged=True, output_sequence_length=4)


def test_stereo_8_bit_files_and_sampling_rate(tmp_path):
    root = tmp_path / "stereo"
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        _write(root / name / "a.wav", np.array([[128 + 64 * label, 0], [255, 128]]), width=1, rate=RATE)
    x, y = next(iter(_load(root, shuffle=False, sampling_rate=RATE)))
    assert x.shape == (2, 2, 2) and y.tolist() == [0, 1]
    np.testing.assert_array_equal(x[1].numpy(), [[0.5, -1.0], [127 / 128, 0.0]])
    with pytest.raises(NotImplementedError, match="sampling_rate"):
        next(iter(_load(root, shuffle=False, sampling_rate=16000)))
    _write(root / "up" / "b.wav", np.array([[1], [2]]), width=2)  # a mono file joins a stereo batch
    with pytest.raises(ValueError, match="same number of channels"):
        next(iter(_load(root, shuffle=False)))


def test_split_is_disjoint_complete_and_reproducible(audio_dir):
    train = _load(audio_dir, validation_split=0.34, subset="training", seed=7)
    val = _load(audio_dir, validation_split=0.34, subset="validation", seed=7)
    assert len(train.file_paths) == 4 and len(val.file_paths) == 2  # int(0.34 * 6) for validation
    assert not set(train.file_paths) & set(val.file_paths)
    assert sorted(train.file_paths + val.file_paths) == sorted(_load(audio_dir, shuffle=False).file_paths)
    expected = sorted(_load(audio_dir, shuffle=False).file_paths)
    np.random.RandomState(7).shuffle(expected)  # Keras's one shuffle before the split
    assert train.file_paths + val.file_paths == expected
    both = _load(audio_dir, validation_split=0.34, subset="both", seed=7)
    assert isinstance(both, tuple) and [d.file_paths for d in both] == [train.file_paths, val.file_paths]
    first_epoch = [(x.clone(), y.clone()) for x, y in train]
    for x, y in first_epoch:  # the first sample encodes the class: audio stays paired with its label
        assert (x[:, 0, 0] * 32768 / 1000 - 1).tolist() == y.float().tolist()
    again = _load(audio_dir, validation_split=0.34, subset="training", seed=7)  # same seed, same batches
    assert [y.tolist() for _, y in first_epoch] == [y.tolist() for _, y in again]


def test_bad_arguments_raise_errors_naming_them(audio_dir, tmp_path):
    with pytest.raises(ValueError, match="label_mode"):
        _load(audio_dir, label_mode="sparse")
    with pytest.raises(ValueError, match="validation_split"):
        _load(audio_dir, subset="training", seed=1)
    with pytest.raises(ValueError, match="seed"):
        _load(audio_dir, validation_split=0.5, subset="training")
    for bad in (0, 8000.0, True):
        with pytest.raises(ValueError, match="sampling_rate"):
            _load(audio_dir, sampling_rate=bad)
    with pytest.raises(ValueError, match="output_sequence_length"):
        _load(audio_dir, output_sequence_length=-1)
    with pytest.raises(ValueError, match="batch_size"):
        _load(audio_dir, batch_size=0)
    with pytest.raises(ValueError, match="class_names"):
        _load(audio_dir, class_names=["left"])
    with pytest.raises(ValueError, match="label_mode='binary'"):
        _load(audio_dir, labels=[0, 1, 2, 0, 1, 2], label_mode="binary")
    empty = tmp_path / "empty" / "a"
    empty.mkdir(parents=True)
    (empty / "x.mp3").write_bytes(b"")
    with pytest.raises(ValueError, match=r"No audio files \(.wav\) found"):
        _load(empty.parent)
    with pytest.raises(ValueError, match="directory"):
        _load(tmp_path / "missing")


def test_fit_on_the_dataset_with_conv1d(audio_dir):
    easynn.utils.set_random_seed(0)
    train, val = _load(audio_dir, validation_split=0.34, subset="both", seed=3, batch_size=2, output_sequence_length=5)
    model = easynn.Sequential(
        [
            easynn.Input((5, 1)),
            easynn.layers.Conv1D(4, 3, activation="relu"),
            easynn.layers.GlobalAveragePooling1D(),
            easynn.layers.Dense(len(train.class_names), activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["val_loss"]).all()
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.predict(
        _load(audio_dir, label_mode=None, shuffle=False, output_sequence_length=5), verbose=0
    ).shape == (6, 2)
