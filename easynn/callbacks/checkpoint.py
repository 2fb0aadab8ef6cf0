"""ModelCheckpoint: save the model (or its weights) during training.

``model.save`` writes the whole model through the saving hooks (``get_build_config``,
``save_own_variables``, ``save_assets``, the compile config and the optimizer state), and every
file is written atomically: to a temporary name in the same folder, flushed, ``fsync``-ed and
renamed into place, so a crash or a kill at any moment leaves the previous file whole.
``BackupAndRestore`` (crash-safe resume) lives in ``backup.py`` and is re-exported here.
"""

from __future__ import annotations

import os
import warnings

from easynn.callbacks._save_freq import BatchCounter, check_save_freq
from easynn.callbacks.backup import BackupAndRestore
from easynn.callbacks.monitor_callback import MonitorCallback

__all__ = ["ModelCheckpoint", "BackupAndRestore"]


class ModelCheckpoint(MonitorCallback):
    """Save the model (or its weights) at the end of every epoch, or every ``save_freq`` batches.

    ``filepath`` may hold ``str.format`` fields filled from the epoch (1-based, as Keras
    names files), the batch (1-based, when saving by batches) and the logs, e.g.
    ``"ckpt-{epoch:02d}-{val_loss:.4f}.keras"``. Any file name works (no extension is
    required); missing folders are created. With ``save_best_only`` a file is written only
    when ``monitor`` improves on the best value so far (strictly; a NaN never improves).

    Args:
        filepath: the path or path pattern.
        monitor: the log key that decides "best".
        verbose: 1 prints a line at each decision.
        save_best_only: save only when ``monitor`` improves.
        save_weights_only: ``model.save_weights`` instead of ``model.save``.
        mode: ``"auto"`` (min for losses, else the metric's own direction, as Keras 3's
            MonitorCallback; see ``easynn.callbacks.monitor_callback``), ``"min"``, ``"max"``.
        save_freq: ``"epoch"`` or a number of training batches.
        initial_value_threshold: the "best" value to beat at the start (with ``save_best_only``).

    Raises:
        ValueError: for an unknown ``mode`` or ``save_freq``.
        KeyError: if ``filepath`` names a field the logs do not have.
        IsADirectoryError: if the formatted path is an existing folder.

    Example:
        >>> cb = ModelCheckpoint("ckpt-{epoch:02d}-{val_loss:.4f}.keras")
        >>> cb._file_path(epoch=4, batch=None, logs={"val_loss": 0.123456})
        'ckpt-05-0.1235.keras'
    """

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq="epoch",
        initial_value_threshold: float | None = None,
    ):
        super().__init__(monitor, mode)
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"`filepath` must be a str or os.PathLike. Received: filepath={filepath!r}")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = check_save_freq(save_freq)
        # None: the first value watched is the best so far (the direction is resolved then).
        self.best = None if initial_value_threshold is None else float(initial_value_threshold)
        self._counter = BatchCounter(self.save_freq)
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def _implements(self, hook: str) -> bool:
        if hook == "on_train_batch_end":  # batch logs are only read when saving by batches
            return self.save_freq != "epoch"
        return super()._implements(hook)

    def on_train_batch_end(self, batch, logs=None):
        if self._counter.tick():
            self._save(self._current_epoch, batch, dict(logs or {}))

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(
                f'Failed to format the ModelCheckpoint filepath "{self.filepath}": {error} is not in the logs. '
                f"Available keys: epoch, {', '.join(sorted(logs))}."
            ) from None

    def _should_save(self, epoch: int, logs: dict, path: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: saving model to {path}", flush=True)
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Can save best model only with {self.monitor} available; skipping.", RuntimeWarning, stacklevel=3
            )
            return False
        current = float(current)
        previous = self._worst() if self.best is None else self.best
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(
                    f"Epoch {epoch + 1}: {self.monitor} improved from {previous:.5f} to {current:.5f}, "
                    f"saving model to {path}",
                    flush=True,
                )
            self.best = current
            return True
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {previous:.5f}", flush=True)
        return False

    def _save(self, epoch: int, batch: int | None, logs: dict) -> None:
        path = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, path):
            return
        if os.path.isdir(path):
            raise IsADirectoryError(f"ModelCheckpoint's filepath must name a file, but {path!r} is a folder.")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)

    def _get_backup_state(self) -> dict:
        return {"best": self.best, "seen": self._counter.seen}

    def _set_backup_state(self, state: dict) -> None:
        self.best = state["best"]
        self._counter.seen = state["seen"]
