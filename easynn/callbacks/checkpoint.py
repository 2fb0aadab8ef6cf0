"""ModelCheckpoint (save the model during training) and BackupAndRestore (crash-safe resume).

Both write atomically: a file is written to a temporary name in the same folder, flushed,
``fsync``-ed and renamed into place, so a crash or a kill at any moment leaves the previous
file whole.
"""

from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch

from easynn import distribute
from easynn.callbacks.base import Callback
from easynn.callbacks.monitor_callback import MonitorCallback
from easynn.saving.files import atomic_write

__all__ = ["ModelCheckpoint", "BackupAndRestore"]


def _check_save_freq(save_freq):
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq <= 0:
        raise ValueError(
            f"`save_freq` must be 'epoch' or a positive integer (batches). Received: save_freq={save_freq!r}"
        )
    return save_freq


class _BatchCounter:
    """Counts training batches across epochs; says when ``save_freq`` batches have passed."""

    def __init__(self, save_freq):
        self.save_freq = save_freq
        self.seen = 0

    def tick(self) -> bool:
        if self.save_freq == "epoch":
            return False
        self.seen += 1
        if self.seen >= self.save_freq:
            self.seen = 0
            return True
        return False


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

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq="epoch",
                 initial_value_threshold: float | None = None):
        super().__init__(monitor, mode)
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"`filepath` must be a str or os.PathLike. Received: filepath={filepath!r}")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = _check_save_freq(save_freq)
        # None: the first value watched is the best so far (the direction is resolved then).
        self.best = None if initial_value_threshold is None else float(initial_value_threshold)
        self._counter = _BatchCounter(self.save_freq)
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
            warnings.warn(f"Can save best model only with {self.monitor} available; skipping.", RuntimeWarning,
                          stacklevel=3)
            return False
        current = float(current)
        previous = self._worst() if self.best is None else self.best
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {previous:.5f} to {current:.5f}, "
                      f"saving model to {path}", flush=True)
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


# --------------------------------------------------------------------------- BackupAndRestore

def _atomic_save(obj, path: str) -> None:
    """``torch.save`` through the project's atomic writer (temporary file, fsync, rename)."""
    atomic_write(path, lambda handle: torch.save(obj, handle))


def _rng_state() -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state((np_state["kind"], np_state["keys"].numpy().astype(np.uint32), np_state["pos"],
                         np_state["has_gauss"], np_state["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


class BackupAndRestore(Callback):
    """Back training up at every epoch end; after a crash, ``fit`` continues where it stopped.

    At each epoch end (or every ``save_freq`` batches) one file, ``backup_dir/latest.pt``, is
    written atomically with everything needed to continue: the model's ``state_dict`` (weights
    and buffers), the optimizer's state (moments, iteration count, learning rate), the number of
    completed epochs, the random number generators (Python, NumPy, torch, CUDA) and the state of
    the other callbacks that keep any (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint,
    CSVLogger). When ``fit`` starts and a backup exists, all of it is restored and the epoch loop
    starts at the next epoch; with the same data and seed the result equals an uninterrupted run.
    When training ends normally the backup is deleted (``delete_checkpoint``).

    Put BackupAndRestore **after** the callbacks whose state it saves (it records them as they
    are when its own ``on_epoch_end`` runs). The file is read with ``torch.load(weights_only=True)``
    (no arbitrary unpickling).

    Args:
        backup_dir: a folder for the backup (created if needed); not shared between runs.
        save_freq: ``"epoch"``, or a number of batches. Only epoch backups resume exactly: a
            batch backup restarts the interrupted epoch from the weights saved mid-epoch, as Keras.
        double_checkpoint: keep the previous backup as ``latest.pt.bkp`` and fall back to it if
            the latest one cannot be read.
        delete_checkpoint: delete the backup when training ends without error.

    Raises:
        ValueError: for an empty ``backup_dir`` or a bad ``save_freq``; when the backup cannot be
            read (and no readable previous one exists with ``double_checkpoint``).

    Example:
        >>> import tempfile
        >>> cb = BackupAndRestore(tempfile.mkdtemp())
        >>> cb.save_freq, cb.delete_checkpoint
        ('epoch', True)
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = False, delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"`backup_dir` must be a non-empty path. Received: backup_dir={backup_dir!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = _check_save_freq(save_freq)
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, "latest.pt")
        self._prev_path = self._path + ".bkp"
        self._counter = _BatchCounter(self.save_freq)
        self._completed_epochs = 0
        self.restored_epoch: int | None = None

    # ------------------------------------------------------------------ peers
    def _peers(self) -> list:
        callbacks = getattr(self.model, "_fit_callbacks", None) or []
        return [c for c in callbacks if c is not self and hasattr(c, "_get_backup_state")]

    def _peer_key(self, callbacks: list, callback) -> str:
        same = [c for c in callbacks if type(c) is type(callback)]
        return f"{type(callback).__name__}:{same.index(callback)}"

    def _warn_order(self) -> None:
        callbacks = getattr(self.model, "_fit_callbacks", None) or []
        if self not in callbacks:
            return
        later = [type(c).__name__ for c in callbacks[callbacks.index(self) + 1:] if hasattr(c, "_get_backup_state")]
        if later:
            warnings.warn(
                f"BackupAndRestore is listed before {', '.join(later)}, whose state it saves; put it after them "
                "in `callbacks` so that a resumed run sees their state as of the last completed epoch.",
                RuntimeWarning, stacklevel=4,
            )

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        self._counter.seen = 0
        self.restored_epoch = None
        self._warn_order()
        state = self._read()
        if state is None:
            self._completed_epochs = 0
            return
        self.model.load_state_dict(state["model"])
        if state.get("optimizer") is not None and getattr(self.model, "optimizer", None) is not None:
            self.model.optimizer.load_state_dict(state["optimizer"])
        callbacks = getattr(self.model, "_fit_callbacks", None) or []
        for peer in self._peers():
            saved = state["callbacks"].get(self._peer_key(callbacks, peer))
            if saved is not None:
                peer._set_backup_state(saved)
        self._counter.seen = state["batches_seen"]
        self._completed_epochs = state["epoch"]
        self.restored_epoch = state["epoch"]
        self.model._initial_epoch = state["epoch"]
        _set_rng_state(state["rng"])  # last: nothing after this may draw random numbers

    def _implements(self, hook: str) -> bool:
        if hook == "on_train_batch_end":
            return self.save_freq != "epoch"
        return super()._implements(hook)

    def on_train_batch_end(self, batch, logs=None):
        if self._counter.tick():
            self._write()

    def on_epoch_end(self, epoch, logs=None):
        self._completed_epochs = epoch + 1
        if self.save_freq == "epoch":
            self._write()

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint or not distribute.is_main_process():
            return
        for path in (self._path, self._prev_path):
            if os.path.exists(path):
                os.remove(path)
        try:
            os.rmdir(self.backup_dir)  # only when empty: never delete files we did not write
        except OSError:
            pass

    # ------------------------------------------------------------------ files
    def _write(self) -> None:
        # Under torchrun every process holds the same state: rank 0 writes, the others wait so
        # that no process can read a half-written backup.
        if distribute.is_main_process():
            self._write_file()
        if distribute.is_distributed():
            distribute.barrier()

    def _write_file(self) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        callbacks = getattr(self.model, "_fit_callbacks", None) or []
        optimizer = getattr(self.model, "optimizer", None)
        state = {
            "format": 1,
            "epoch": self._completed_epochs,
            "batches_seen": self._counter.seen,
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": optimizer.state_dict() if optimizer is not None and hasattr(optimizer, "state_dict") else None,
            "callbacks": {self._peer_key(callbacks, peer): peer._get_backup_state() for peer in self._peers()},
            "rng": _rng_state(),
        }
        if self.double_checkpoint and os.path.exists(self._path):
            os.replace(self._path, self._prev_path)
        _atomic_save(state, self._path)

    def _load(self, path: str):
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001 - any unreadable file is reported the same way
            raise ValueError(f"The backup '{path}' cannot be read ({type(error).__name__}: {error}).") from None

    def _read(self):
        paths = [self._path] + ([self._prev_path] if self.double_checkpoint else [])
        existing = [p for p in paths if os.path.exists(p)]
        if not existing:
            return None
        try:
            return self._load(existing[0])
        except ValueError:
            if len(existing) < 2:
                raise
            warnings.warn(f"The backup '{existing[0]}' cannot be read; restoring the previous one.", RuntimeWarning,
                          stacklevel=3)
            return self._load(existing[1])
