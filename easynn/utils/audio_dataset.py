"""``audio_dataset_from_directory``: a folder of class subfolders of ``.wav`` files as batches for ``fit``.

Each file is decoded with Python's ``wave`` module when its batch is drawn, as ``float32`` of shape
``(samples, channels)`` with values in ``[-1, 1]``: integer PCM samples are divided by
``2 ** (bits - 1)`` (16-bit: ``x / 32768``, like ``tf.audio.decode_wav``); 8-bit WAV samples are
unsigned, so they become ``(x - 128) / 128``. ``output_sequence_length`` cuts or zero-pads every
file to that many samples; without it each batch is zero-padded to its longest file (Keras's
``padded_batch``). easynn has no ragged tensors: ``ragged=True`` gives each batch as a ``list`` of
``(samples, channels)`` tensors. Indexing, shuffling and splitting follow Keras's rules: see
``easynn.utils.dataset_utils``.
"""

from __future__ import annotations

import numbers
import wave
from typing import Any

import numpy as np
import torch

from easynn.utils import dataset_utils

__all__ = ["audio_dataset_from_directory", "ALLOWED_FORMATS", "read_wav"]

ALLOWED_FORMATS = (".wav",)


def read_wav(path: str, max_samples: int | None = None) -> tuple[np.ndarray, int]:
    """``(audio, sampling_rate)`` of a PCM ``.wav`` file; ``audio`` is ``float32`` ``(samples, channels)``.

    Formula: a ``b``-bit signed sample ``x`` becomes ``x / 2 ** (b - 1)`` (so ``[-1, 1)``); an 8-bit
    (unsigned) sample ``u`` becomes ``(u - 128) / 128``.

    Args:
        path: the file.
        max_samples: read at most this many samples per channel (``None``: all of them).

    Returns:
        The samples, channels on the last axis, and the file's sampling rate in Hz.

    Raises:
        ValueError: when the file is not a PCM WAV file of 8, 16, 24 or 32 bits (for example
            IEEE-float or compressed WAV, which Python's ``wave`` module cannot read).
    """
    try:
        with wave.open(path, "rb") as handle:
            channels, width, rate = handle.getnchannels(), handle.getsampwidth(), handle.getframerate()
            frames = handle.getnframes() if max_samples is None else min(handle.getnframes(), max_samples)
            data = handle.readframes(frames)
    except (wave.Error, EOFError) as error:
        raise ValueError(
            f"Could not decode {path!r} as a PCM WAV file ({error}). Only uncompressed integer PCM "
            "(8, 16, 24 or 32 bits) is supported; convert other files first."
        ) from error
    if width == 1:
        audio = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        audio = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)  # sign of the top byte
        audio = value.astype(np.float64) / float(1 << 23)
    elif width == 4:
        audio = np.frombuffer(data, dtype="<i4").astype(np.float64) / float(1 << 31)
    else:  # the wave module itself rejects other widths; kept for a clear message
        raise ValueError(f"Unsupported sample width {8 * width} bits in {path!r}; expected 8, 16, 24 or 32.")
    audio = np.asarray(audio, dtype=np.float32)
    return audio[: (audio.size // channels) * channels].reshape(-1, channels), rate


def _pad_batch(waves: list[torch.Tensor]) -> torch.Tensor:
    """Zero-pad ``(samples, channels)`` tensors at the end to the longest, then stack them."""
    channels = {int(w.shape[1]) for w in waves}
    if len(channels) > 1:
        raise ValueError(
            "The audio files of one batch must have the same number of channels, but this batch mixes "
            f"{sorted(channels)} channels. Convert the files to one channel count first."
        )
    out = waves[0].new_zeros((len(waves), max(int(w.shape[0]) for w in waves), channels.pop()))
    for i, w in enumerate(waves):
        out[i, : w.shape[0]] = w
    return out


class AudioFileDataset(dataset_utils.FileDataset):
    """WAV files decoded one at a time: item ``i`` is ``float32`` ``(samples, channels)`` (and its label).

    Args:
        file_paths, labels, label_mode, class_names: see ``dataset_utils.FileDataset``.
        sampling_rate: the rate every file must have (``None``: any rate).
        output_sequence_length: cut or zero-pad every file to this many samples (``None``: keep them).
        ragged: batch as a ``list`` of tensors of their own lengths instead of one padded tensor.
    """

    def __init__(
        self,
        file_paths,
        labels,
        label_mode,
        class_names,
        *,
        sampling_rate: int | None = None,
        output_sequence_length: int | None = None,
        ragged: bool = False,
    ) -> None:
        super().__init__(file_paths, labels, label_mode, class_names)
        self.sampling_rate = sampling_rate
        self.output_sequence_length = output_sequence_length
        self.ragged = ragged

    def load(self, path: str) -> torch.Tensor:
        audio, rate = read_wav(path, self.output_sequence_length)
        if self.sampling_rate is not None and rate != self.sampling_rate:
            raise NotImplementedError(
                f"`sampling_rate`={self.sampling_rate} asks for resampling, which easynn does not implement, "
                f"but {path!r} is sampled at {rate} Hz. Resample the files beforehand, or pass sampling_rate=None."
            )
        length = self.output_sequence_length
        if length is not None and audio.shape[0] < length:
            audio = np.concatenate([audio, np.zeros((length - audio.shape[0], audio.shape[1]), np.float32)])
        return torch.from_numpy(np.ascontiguousarray(audio))

    def collate_fn(self, items: list) -> Any:
        """A batch: one zero-padded ``(batch, samples, channels)`` tensor, or a list when ragged."""
        labelled = bool(items) and isinstance(items[0], tuple)
        waves = [item[0] for item in items] if labelled else list(items)
        batch = waves if self.ragged else _pad_batch(waves)
        return (batch, torch.stack([item[1] for item in items])) if labelled else batch


def _check_optional_positive_int(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer or None. Received: {name}={value!r}")
    return int(value)


def audio_dataset_from_directory(
    directory: Any,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    batch_size: int | None = 32,
    sampling_rate: int | None = None,
    output_sequence_length: int | None = None,
    ragged: bool = False,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
):
    """WAV files in class subfolders (``directory/<class>/<file>.wav``) as batches for ``fit``.

    Formula: class ``k`` is the ``k``-th subfolder in sorted order (or in ``class_names``); the
    files are sorted, shuffled once with ``seed``, and the last ``int(validation_split * n)`` of
    them form the validation subset. A 16-bit sample ``x`` is given as ``x / 32768``.

    Args:
        directory: the folder. With ``labels="inferred"`` it holds one subfolder per class.
        labels: ``"inferred"`` (from the subfolders), ``None`` (audio only) or a list of integer
            labels, one per ``.wav`` file in the sorted order of their paths under ``directory``.
        label_mode: ``"int"`` (``int32``), ``"categorical"`` (one-hot ``float32``), ``"binary"``
            (``float32`` of shape ``(1,)``, exactly 2 classes) or ``None`` (audio only).
        class_names: with ``labels="inferred"``, the subfolders to use, in the order that numbers them.
        batch_size: files per batch; ``None`` returns the unbatched ``Dataset``.
        sampling_rate: the expected sampling rate in Hz (a positive integer). easynn does not
            resample: a file at another rate raises ``NotImplementedError`` when it is read.
        output_sequence_length: cut every file to this many samples, zero-padding shorter ones.
            ``None``: each batch is zero-padded to its longest file.
        ragged: give each batch as a ``list`` of ``(samples, channels)`` tensors of their own
            lengths (easynn has no ragged tensor; ``fit`` cannot take such batches).
        shuffle: shuffle the files once (with ``seed``) and the training batches every epoch.
        seed: seed of both shuffles; required with ``validation_split`` when shuffling.
        validation_split: fraction of the files kept for validation, in ``(0, 1)``.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (then ``(training, validation)``).
        follow_links: walk into symbolic links to folders.
        verbose: print how many files were found and used.

    Returns:
        A ``torch.utils.data.DataLoader`` yielding ``(audio, labels)`` (``audio`` only without
        labels), ``audio`` of shape ``(batch, samples, channels)`` and dtype ``float32``. It has
        ``class_names`` and ``file_paths``. ``subset="both"`` gives a tuple of two of them.

    Raises:
        ValueError: for a missing directory, bad ``labels``/``label_mode``/``class_names``/
            ``batch_size``/``sampling_rate``/``output_sequence_length``, both ``ragged`` and
            ``output_sequence_length``, ``validation_split`` without ``subset`` (or inversely) or
            without ``seed`` when shuffling, ``label_mode="binary"`` with other than 2 classes, no
            ``.wav`` file found; and, when a batch is read, a file that is not integer PCM or a
            padded batch mixing channel counts.
        NotImplementedError: when a file's rate differs from ``sampling_rate`` (at read time).

    Example:
        >>> import os, tempfile, wave, numpy as np
        >>> root = tempfile.mkdtemp()
        >>> for name, values in (("no", [0, 16384, -16384]), ("yes", [32767, -32768])):
        ...     os.makedirs(os.path.join(root, name))
        ...     with wave.open(os.path.join(root, name, "a.wav"), "wb") as f:
        ...         f.setnchannels(1); f.setsampwidth(2); f.setframerate(8000)
        ...         f.writeframes(np.array(values, dtype="<i2").tobytes())
        >>> ds = audio_dataset_from_directory(root, shuffle=False, verbose=False)
        >>> audio, labels = next(iter(ds))
        >>> ds.class_names, tuple(audio.shape), labels.tolist()
        (['no', 'yes'], (2, 3, 1), [0, 1])
        >>> audio[:, :, 0].tolist()
        [[0.0, 0.5, -0.5], [0.999969482421875, -1.0, 0.0]]
    """
    labels, label_mode = dataset_utils.check_label_arguments(labels, label_mode, class_names)
    batch_size = dataset_utils.check_batch_size(batch_size)
    sampling_rate = _check_optional_positive_int("sampling_rate", sampling_rate)
    output_sequence_length = _check_optional_positive_int("output_sequence_length", output_sequence_length)
    if ragged and output_sequence_length is not None:
        raise ValueError(
            "`ragged=True` and `output_sequence_length` cannot be used together (ragged batches keep each "
            f"file's own length). Received: ragged={ragged!r}, output_sequence_length={output_sequence_length!r}"
        )
    dataset_utils.check_validation_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = int(np.random.randint(1_000_000))
    paths, label_ids, names = dataset_utils.index_directory(
        directory, labels, ALLOWED_FORMATS, class_names, shuffle, seed, follow_links
    )

    def new_dataset(part_paths, part_labels):
        return AudioFileDataset(
            part_paths,
            part_labels,
            label_mode,
            names,
            sampling_rate=sampling_rate,
            output_sequence_length=output_sequence_length,
            ragged=bool(ragged),
        )

    result = dataset_utils.make_datasets(
        new_dataset,
        paths,
        label_ids,
        names,
        label_mode=label_mode,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        validation_split=validation_split,
        subset=subset,
        what="audio files (.wav)",
        directory=directory,
        verbose=verbose,
    )
    return tuple(result) if subset == "both" else result  # Keras's audio loader returns a tuple
