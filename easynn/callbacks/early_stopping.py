"""EarlyStopping: stop training when a monitored quantity has stopped improving."""

from __future__ import annotations

import copy
import warnings

from easynn.callbacks.monitor_callback import MonitorCallback

__all__ = ["EarlyStopping"]


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras semantics).

    An epoch improves on the reference ``best`` when ``current - min_delta < best`` (mode
    ``"min"``) or ``current + min_delta > best`` (mode ``"max"``); the first epoch watched always
    improves. ``wait`` counts epochs since the last improvement that also beat ``baseline`` (when
    one is given); training stops at the end of a non-improving epoch with ``wait >= patience``
    and ``epoch > 0``. Epochs before ``start_from_epoch`` are not watched.

    Args:
        monitor: the log key to watch (``"val_loss"``, ``"val_accuracy"``, ``"loss"``...).
        min_delta: the least change that counts as an improvement (its sign is ignored).
        patience: epochs without improvement after which training stops.
        verbose: 1 prints the epoch where training stopped and the weights restoration.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (min for losses, else the metric's own
            direction; see ``easynn.callbacks.monitor_callback``).
        baseline: a value to beat; ``wait`` is reset only by epochs better than it.
        restore_best_weights: at the end of training, load the weights of the best epoch
            (whenever best weights were recorded, even when training was not stopped early).
        start_from_epoch: epochs to wait before watching (a warm-up).

    Raises:
        ValueError: for an unknown ``mode``, a negative ``patience`` or ``start_from_epoch``, or
            (at the first epoch end) a ``mode="auto"`` whose direction cannot be told.

    Example:
        >>> stopper = EarlyStopping(monitor="loss", patience=1)
        >>> stopper.set_model(type("M", (), {"stop_training": False})())
        >>> stopper.on_train_begin()
        >>> for epoch, loss in enumerate([3.0, 2.0, 2.5, 2.6]):
        ...     stopper.on_epoch_end(epoch, {"loss": loss})
        ...     if stopper.model.stop_training:
        ...         break
        >>> stopper.stopped_epoch
        2
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__(monitor, mode, baseline, min_delta)
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise ValueError(f"`patience` must be a non-negative integer. Received: patience={patience!r}")
        if not isinstance(start_from_epoch, int) or isinstance(start_from_epoch, bool) or start_from_epoch < 0:
            raise ValueError(
                f"`start_from_epoch` must be a non-negative integer. Received: start_from_epoch={start_from_epoch!r}"
            )
        self.patience = patience
        self.verbose = verbose
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _snapshot(self):
        return copy.deepcopy({k: v.detach().cpu() for k, v in self.model.state_dict().items()})

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self._monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Nothing recorded yet: the current weights are the best so far.
            self.best_weights = self._snapshot()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._snapshot()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", flush=True)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.", flush=True)
            self.model.load_state_dict(self.best_weights)

    def _monitor_value(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(sorted(logs or {}))}",
                RuntimeWarning, stacklevel=3,
            )
        return value

    # State saved by BackupAndRestore.
    def _get_backup_state(self) -> dict:
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def _set_backup_state(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)
