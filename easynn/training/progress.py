"""Progress display: the only code in easynn's training path that prints.

``verbose=1`` shows a tqdm bar per epoch whose loss and metrics update live; ``verbose=2`` prints
one line per epoch; ``verbose=0`` prints nothing. Reading the running loss synchronises with the
device, so the numbers refresh at most every ``refresh_seconds`` (the bar's counter itself moves
every step at no cost).
"""

from __future__ import annotations

import sys
import time

from easynn.callbacks.base import Callback

__all__ = ["ProgbarLogger", "format_logs"]


def format_logs(logs: dict) -> str:
    """``"accuracy: 0.9100 - loss: 0.2500"``: Keras's sorted ``name: value`` pairs.

    Per-layer diagnostic keys (``"grad_norm/dense"``) are left out of the line.
    """
    parts = []
    for key in sorted(logs):
        if "/" in key:  # per-layer diagnostics (GradientMonitor, ActivationMonitor) stay in History
            continue
        value = logs[key]
        parts.append(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    return " - ".join(parts)


class ProgbarLogger(Callback):
    """Shows training progress; ``fit`` adds it when ``verbose`` is 1 or 2.

    Args:
        verbose: 1 for a live bar per epoch, 2 for one line per epoch.
        refresh_seconds: the least time between two refreshes of the bar's numbers.
        file: where to write (standard error by default, as tqdm does).
    """

    def __init__(self, verbose: int = 1, refresh_seconds: float = 0.2, file=None):
        super().__init__()
        if verbose not in (1, 2):
            raise ValueError(f"`verbose` must be 1 or 2 for ProgbarLogger. Received: verbose={verbose!r}")
        self.verbose = verbose
        self.refresh_seconds = refresh_seconds
        self.file = file
        self._bar = None
        self._last_refresh = 0.0
        self._epoch_start = 0.0

    def _implements(self, hook: str) -> bool:  # batch hooks only matter for the live bar
        if hook == "on_train_batch_end":
            return self.verbose == 1
        return super()._implements(hook)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        epochs = self.params.get("epochs")
        if self.verbose == 1:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.params.get("steps"), desc=f"Epoch {epoch + 1}/{epochs}",
                             unit="step", file=self.file or sys.stderr, leave=True, dynamic_ncols=True)
            self._last_refresh = 0.0

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is None:
            return
        self._bar.update(1)
        now = time.perf_counter()
        if logs is not None and now - self._last_refresh >= self.refresh_seconds:
            self._last_refresh = now
            self._bar.set_postfix_str(format_logs(dict(logs)), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._epoch_start
        text = format_logs(logs or {})
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.close()
            self._bar = None
        else:
            epochs = self.params.get("epochs")
            print(f"Epoch {epoch + 1}/{epochs} - {elapsed:.1f}s - {text}", file=self.file or sys.stdout, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
