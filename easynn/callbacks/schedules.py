"""Learning-rate callbacks: ReduceLROnPlateau and LearningRateScheduler.

Both change ``model.optimizer.learning_rate``, which reaches every param group of the
underlying ``torch.optim`` optimizer, and both add the current rate to the epoch logs as
``learning_rate`` (so ``History`` and ``CSVLogger`` record it).
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from typing import Callable

from easynn.callbacks.base import Callback
from easynn.callbacks.monitor_callback import MonitorCallback

__all__ = ["ReduceLROnPlateau", "LearningRateScheduler"]


def _optimizer(model, owner: str):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"{owner} needs a compiled model whose optimizer has a `learning_rate` attribute.")
    return optimizer


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    An epoch improves when ``current < best - min_delta`` (mode ``"min"``) or
    ``current > best + min_delta`` (mode ``"max"``; ``"auto"``: min for losses, else the
    metric's own direction, the rule shared with EarlyStopping and ModelCheckpoint). After ``patience`` epochs without improvement the rate
    becomes ``max(lr * factor, min_lr)``, then ``cooldown`` epochs pass before counting again.

    Args:
        monitor: the log key to watch.
        factor: the multiplier, in [0, 1).
        patience: epochs without improvement before the rate is reduced.
        verbose: 1 prints each reduction.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: the least change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate never goes below this.

    Raises:
        ValueError: for ``factor >= 1`` or an unknown ``mode``.

    Example:
        >>> import torch, easynn
        >>> model = easynn.Sequential([easynn.layers.Dense(1)])
        >>> model.compile(optimizer=easynn.optimizers.SGD(0.1), loss="mse", device="cpu")
        >>> model.optimizer.build([torch.nn.Parameter(torch.zeros(1))])
        >>> cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
        >>> cb.set_model(model); cb.on_train_begin()
        >>> for epoch, loss in enumerate([1.0, 1.0, 1.0]):
        ...     cb.on_epoch_end(epoch, {"loss": loss})
        >>> model.optimizer.learning_rate
        0.025
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments: {sorted(kwargs)}")
        if not 0 <= factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau needs 0 <= factor < 1. Received: factor={factor}")
        self.factor = float(factor)
        self.min_lr = float(min_lr)
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self._reset()

    def _reset(self) -> None:
        self.best = None  # the first value watched improves; the direction is resolved then
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = _optimizer(self.model, "ReduceLROnPlateau")
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(sorted(logs))}.", RuntimeWarning, stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.", flush=True)
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def _get_backup_state(self) -> dict:
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def _set_backup_state(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr)``.

    ``epoch`` is 0-based and ``lr`` is the current rate; a one-argument ``schedule(epoch)`` also
    works (Keras 2's form).

    Args:
        schedule: a function returning the new learning rate as a number.
        verbose: 1 prints each new rate.

    Raises:
        TypeError: if ``schedule`` is not callable.
        ValueError: if ``schedule`` returns something that is not a finite non-negative number.

    Example:
        >>> import torch, easynn
        >>> model = easynn.Sequential([easynn.layers.Dense(1)])
        >>> model.compile(optimizer=easynn.optimizers.SGD(0.1), loss="mse", device="cpu")
        >>> model.optimizer.build([torch.nn.Parameter(torch.zeros(1))])
        >>> cb = LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr)
        >>> cb.set_model(model)
        >>> for epoch in range(3):
        ...     cb.on_epoch_begin(epoch)
        >>> model.optimizer.learning_rate
        0.025
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"`schedule` must be a function schedule(epoch, lr) -> lr. Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._two_args = self._takes_two_args(schedule)

    @staticmethod
    def _takes_two_args(fn) -> bool:
        try:
            params = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):  # builtins without a signature: assume the Keras 3 form
            return True
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _optimizer(self.model, "LearningRateScheduler")
        lr = float(optimizer.learning_rate)
        new_lr = self.schedule(epoch, lr) if self._two_args else self.schedule(epoch)
        if hasattr(new_lr, "item") and getattr(new_lr, "ndim", 0) == 0:
            new_lr = new_lr.item()
        if isinstance(new_lr, bool) or not isinstance(new_lr, numbers.Real) or not math.isfinite(new_lr) or new_lr < 0:
            raise ValueError(
                f"The output of the `schedule` function must be a finite non-negative float. "
                f"Received: {new_lr!r} at epoch {epoch}"
            )
        optimizer.learning_rate = float(new_lr)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new_lr)}.", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(_optimizer(self.model, "LearningRateScheduler").learning_rate)
