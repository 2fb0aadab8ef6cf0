"""BackupAndRestore: back training up as it goes; after a crash, ``fit`` continues where it stopped.

The backup is one file, ``backup_dir/latest.pt``, written atomically (temporary file, ``fsync``,
rename) and read with ``torch.load(weights_only=True)``: tensors, numbers, strings and
containers only, never pickled code. Layers' own state goes through the same hooks as model
files (``easynn.saving.hooks``): what ``save_own_variables`` stores and the files ``save_assets``
writes are kept in the backup, and on resume ``load_own_variables`` / ``load_assets`` (in a
private temporary folder) receive them after the weights, as when a model file is loaded.
"""

from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch

from easynn import distribute
from easynn.callbacks._save_freq import BatchCounter, check_save_freq
from easynn.callbacks.base import Callback
from easynn.saving import files, hooks

__all__ = ["BackupAndRestore"]

# 1: weights, optimizer, epoch, RNGs, callbacks. 2: + the own-variables and assets hooks.
_FORMAT = 2


def _atomic_save(obj, path: str) -> None:
    """``torch.save`` through the project's atomic writer (temporary file, fsync, rename)."""
    files.atomic_write(path, lambda handle: torch.save(obj, handle))


def _rng_state() -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state(
        (
            np_state["kind"],
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["gauss"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


# --------------------------------------------------------------------------- layers' hooks
def _bytes_tensor(data: bytes) -> torch.Tensor:
    if not data:
        return torch.empty(0, dtype=torch.uint8)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def _hook_state(model) -> dict:
    """What the layers' ``save_own_variables`` / ``save_assets`` hooks give, as tensors."""
    own_tensors, own_index = hooks.collect_own_variables(model)
    members, prefixes = hooks.collect_assets(model, files.MAX_TOTAL_BYTES)
    return {
        "own_variables": {"tensors": own_tensors, "index": own_index},
        "assets": {"members": {name: _bytes_tensor(data) for name, data in members}, "index": prefixes},
    }


def _checked_hook_state(state: dict, source: str) -> tuple[dict | None, dict, dict]:
    """``(own-variable stores, asset members, asset index)``, checked before anything is restored.

    Raises:
        ValueError: for a malformed own-variables or assets entry.
    """
    own = state.get("own_variables")
    stores = None
    if own:
        if not isinstance(own, dict) or not isinstance(own.get("tensors"), dict):
            raise ValueError(f"{source} is corrupted: its own-variables entry is malformed.")
        stores = hooks.own_variable_stores(own["tensors"], own.get("index"), source)
    assets = state.get("assets") or {}
    members = (assets.get("members") or {}) if isinstance(assets, dict) else None
    if not isinstance(members, dict) or any(
        not isinstance(t, torch.Tensor) or t.dtype != torch.uint8 for t in members.values()
    ):
        raise ValueError(f"{source} is corrupted: its assets entry is malformed.")
    prefixes = assets.get("index") or {}
    hooks.check_assets_index(prefixes, source)
    data = {name: t.numpy().tobytes() for name, t in members.items() if str(name).startswith(hooks.ASSETS_PREFIX)}
    return stores, data, prefixes


class BackupAndRestore(Callback):
    """Back training up at every epoch end; after a crash, ``fit`` continues where it stopped.

    At each epoch end (or every ``save_freq`` batches) one file, ``backup_dir/latest.pt``, is
    written atomically with everything needed to continue: the model's ``state_dict`` (weights
    and buffers), what layers keep through ``save_own_variables`` and ``save_assets`` (state
    that is not a weight: counters, vocabularies, files), the optimizer's state (moments,
    iteration count, learning rate), the number of completed epochs, the random number
    generators (Python, NumPy, torch, CUDA) and the state of the other callbacks that keep any
    (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, CSVLogger). When ``fit`` starts and a
    backup exists, all of it is restored -- weights, then ``load_own_variables``, then
    ``load_assets`` (from a private temporary folder), then the optimizer -- and the epoch loop
    starts at the next epoch; with the same data and seed the result equals an uninterrupted
    run. When training ends normally the backup is deleted (``delete_checkpoint``).

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
            read (and no readable previous one exists with ``double_checkpoint``), was written by
            a newer easynn, or holds malformed own-variables/assets entries.

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
        self.save_freq = check_save_freq(save_freq)
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, "latest.pt")
        self._prev_path = self._path + ".bkp"
        self._counter = BatchCounter(self.save_freq)
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
        later = [type(c).__name__ for c in callbacks[callbacks.index(self) + 1 :] if hasattr(c, "_get_backup_state")]
        if later:
            warnings.warn(
                f"BackupAndRestore is listed before {', '.join(later)}, whose state it saves; put it after them "
                "in `callbacks` so that a resumed run sees their state as of the last completed epoch.",
                RuntimeWarning,
                stacklevel=4,
            )

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        self._counter.seen = 0
        self.restored_epoch = None
        self._warn_order()
        found = self._read()
        if found is None:
            self._completed_epochs = 0
            return
        state, source = found
        stores, asset_members, asset_index = _checked_hook_state(state, source)
        self.model.load_state_dict(state["model"])
        if stores is not None:
            hooks.restore_own_variables(self.model, stores)
        hooks.restore_assets(self.model, asset_members, asset_index, source)
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
        callbacks = getattr(self.model, "_fit_callbacks", None) or []
        optimizer = getattr(self.model, "optimizer", None)
        # Everything is gathered (and every layer hook has run) before any file is touched.
        state = {
            "format": _FORMAT,
            "epoch": self._completed_epochs,
            "batches_seen": self._counter.seen,
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            **_hook_state(self.model),
            "optimizer": optimizer.state_dict() if optimizer is not None and hasattr(optimizer, "state_dict") else None,
            "callbacks": {self._peer_key(callbacks, peer): peer._get_backup_state() for peer in self._peers()},
            "rng": _rng_state(),
        }
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            os.replace(self._path, self._prev_path)
        _atomic_save(state, self._path)

    def _load(self, path: str):
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001 - any unreadable file is reported the same way
            raise ValueError(f"The backup '{path}' cannot be read ({type(error).__name__}: {error}).") from None
        if not isinstance(state, dict) or not isinstance(state.get("format", 1), int):
            raise ValueError(f"The backup '{path}' cannot be read (it is not a BackupAndRestore file).")
        if state.get("format", 1) > _FORMAT:
            raise ValueError(
                f"The backup '{path}' was written in backup format {state['format']} by a newer easynn; this "
                f"easynn reads formats up to {_FORMAT}. Upgrade easynn or delete the backup to start over."
            )
        return state, f"The backup '{path}'"

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
            warnings.warn(
                f"The backup '{existing[0]}' cannot be read; restoring the previous one.", RuntimeWarning, stacklevel=3
            )
            return self._load(existing[1])
