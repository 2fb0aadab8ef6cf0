"""CSVLogger, TerminateOnNaN and LambdaCallback."""

from __future__ import annotations

import csv
import math
import os
import warnings
from typing import Callable

from easynn import distribute
from easynn.callbacks.base import Callback

__all__ = ["CSVLogger", "TerminateOnNaN", "LambdaCallback"]


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (written and flushed every epoch).

    The header is ``epoch`` followed by the sorted log keys of the first epoch; when that epoch
    has no ``val_*`` keys, a ``val_<key>`` column is added for each key (filled with ``NA`` while
    there is no validation), as Keras does. Missing values are written as ``NA``.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: append to an existing file (no new header if it already has content) instead of
            overwriting it.

    Example:
        >>> import csv, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
        >>> logger = CSVLogger(path)
        >>> logger.on_train_begin()
        >>> logger.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
        >>> logger.on_train_end()
        >>> with open(path) as handle:
        ...     next(csv.DictReader(handle))
        {'epoch': '0', 'loss': '0.5', 'val_loss': '0.75'}
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"`filename` must be a str or os.PathLike. Received: filename={filename!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"`separator` must be a single character. Received: separator={separator!r}")
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file = None
        self._writer = None
        self._resume_size: int | None = None

    def on_train_begin(self, logs=None):
        # The file is opened at the first row (so that BackupAndRestore can make a resumed run
        # continue the file instead of truncating it).
        self._close()
        self.keys = None
        self._resume_size = None

    def _open(self) -> None:
        if self._resume_size is not None and os.path.exists(self.filename):
            self._file = open(self.filename, "r+", newline="")
            self._file.truncate(self._resume_size)
            self._file.seek(self._resume_size)
            write_header = self._resume_size == 0
        elif self.append and os.path.exists(self.filename):
            with open(self.filename) as handle:
                write_header = not handle.readline()
            self._file = open(self.filename, "a", newline="")
        else:
            self._file = open(self.filename, "w", newline="")
            write_header = True

        class _Dialect(csv.excel):
            delimiter = self.sep

        self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self.keys, dialect=_Dialect)
        if write_header:
            self._writer.writeheader()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        if not distribute.is_main_process():  # under torchrun, rank 0 alone writes the log
            return
        if self._writer is None:
            self._open()
        row = {"epoch": epoch}
        row.update((key, self._format(logs.get(key, "NA"))) for key in self.keys)
        self._writer.writerow(row)
        self._file.flush()

    @staticmethod
    def _format(value):
        if isinstance(value, str):
            return value
        if isinstance(value, (list, tuple)):
            return f"[{', '.join(map(str, value))}]"
        return value

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None

    def on_train_end(self, logs=None):
        self._close()

    def _get_backup_state(self) -> dict:
        size = os.path.getsize(self.filename) if self._file is not None else 0
        return {"keys": self.keys, "size": size}

    def _set_backup_state(self, state: dict) -> None:
        self._close()
        self.keys = state["keys"]
        self._resume_size = int(state["size"])


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    Reading the batch loss synchronises with the device, so this callback costs one host sync
    per training step (only while it is attached). The step with the bad loss has already
    updated the weights; training stops right after it (the rest of the epoch is skipped), so
    checkpoints written at earlier epoch ends stay as they were.

    Args:
        raise_error: raise a ``RuntimeError`` instead of warning and stopping.

    Raises:
        RuntimeError: with ``raise_error=True``, naming the epoch and the batch.

    Example:
        >>> cb = TerminateOnNaN()
        >>> cb.set_model(type("M", (), {"stop_training": False})())
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     cb.on_epoch_begin(2); cb.on_train_batch_end(5, {"loss": float("nan")})
        >>> cb.model.stop_training, str(caught[0].message)
        (True, 'Epoch 3, batch 5: invalid loss nan, terminating training.')
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error
        self._epoch = 0
        self.bad_batch: tuple[int, int] | None = None

    def on_train_begin(self, logs=None):
        self.bad_batch = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        self.bad_batch = (self._epoch, batch)
        message = f"Epoch {self._epoch + 1}, batch {batch}: invalid loss {float(loss)}, terminating training."
        if self.raise_error:
            raise RuntimeError(message)
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of plain functions, one per hook.

    ``on_epoch_begin``/``on_epoch_end`` receive ``(epoch, logs)``, the batch hooks
    ``(batch, logs)`` and ``on_train_begin``/``on_train_end`` ``(logs)``. Any other hook
    (``on_test_begin``, ``on_predict_batch_end``...) can be given by keyword.

    Raises:
        ValueError: for a keyword that is not a hook name.
        TypeError: for a hook that is not callable.

    Example:
        >>> seen = []
        >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
        >>> cb.on_epoch_end(0, {}); cb.on_epoch_end(1, {})
        >>> seen
        [0, 1]
    """

    _HOOKS = (
        "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
        "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
        "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end",
    )

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None,
                 on_train_batch_begin: Callable | None = None, on_train_batch_end: Callable | None = None,
                 **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        # Keras 2 names of the train-batch hooks.
        for old, new in (("on_batch_begin", "on_train_batch_begin"), ("on_batch_end", "on_train_batch_end")):
            if old in kwargs:
                hooks[new] = kwargs.pop(old)
        for name in kwargs:
            if name not in self._HOOKS:
                raise ValueError(f"LambdaCallback got an unknown hook {name!r}. Hooks are: {', '.join(self._HOOKS)}.")
        hooks.update(kwargs)
        self._hooks = {}
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable. Received: {name}={fn!r}")
            self._hooks[name] = fn
            setattr(self, name, fn)

    def _implements(self, hook: str) -> bool:
        return hook in self._hooks
