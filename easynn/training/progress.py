"""Progress display: ``ProgbarLogger``; with ``progress_display`` and ``progress_text``, the only
code in easynn's training path that prints.

What a user sees, as in Keras 3:

* ``verbose=1``: ``Epoch 1/3`` then a live line per epoch,
  ``22/22 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step - accuracy: 0.9100 - loss: 0.2500 - val_loss: ...``;
* ``verbose=2``: one line per epoch, ``22/22 - 0s - 3ms/step - accuracy: ... - loss: ...``;
* ``evaluate`` / ``predict`` at ``verbose=1``: the same live line, without the epoch header.

Where the output goes decides how it is drawn (``progress_display.py``); the text of a line
(numbers, times, wrapping) is written by ``progress_text.py``. Their public names are
re-exported here.

Reading the running loss synchronises with the device (the batch logs are lazy), so the numbers
are read at most every ``refresh_seconds``; the step counter itself moves every step at no cost.
"""

from __future__ import annotations

import sys
import time

from easynn.training.callbacks_base import Callback
from easynn.training.progress_display import _BAR_WIDTH, _LIVE, _Display, open_display  # noqa: F401
from easynn.training.progress_text import _wrap, format_logs, format_value  # noqa: F401

__all__ = ["ProgbarLogger", "format_logs", "format_value"]

_MODES = ("train", "test", "predict")


class ProgbarLogger(Callback):
    """Shows progress; ``fit`` adds it when ``verbose`` is 1 or 2 (``evaluate`` and ``predict``
    with ``mode="test"`` / ``mode="predict"``).

    Args:
        verbose: 1 for a live bar, 2 for one line per epoch (``fit``) or per run.
        mode: ``"train"`` (fit: an ``Epoch i/n`` header and a line per epoch), ``"test"``
            (evaluate) or ``"predict"``.
        refresh_seconds: the least time between two reads of the (lazy) batch logs.
        file: where to write; ``sys.stdout`` at the time of each epoch by default, as Keras.

    Raises:
        ValueError: for a ``verbose`` other than 1 or 2, or an unknown ``mode``.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = ProgbarLogger(verbose=2, file=out)
        >>> bar.set_params({"epochs": 1, "steps": 4})
        >>> bar.on_epoch_begin(0)
        >>> bar.on_epoch_end(0, {"loss": 0.5})
        >>> out.getvalue().splitlines()[0], out.getvalue().splitlines()[1].startswith("4/4 - ")
        ('Epoch 1/1', True)
    """

    def __init__(self, verbose: int = 1, mode: str = "train", refresh_seconds: float = 0.2, file=None):
        super().__init__()
        if isinstance(verbose, bool) or verbose not in (1, 2):
            raise ValueError(f"`verbose` must be 1 or 2 for ProgbarLogger. Received: verbose={verbose!r}")
        if mode not in _MODES:
            raise ValueError(f"`mode` must be one of {', '.join(_MODES)}. Received: mode={mode!r}")
        self.verbose = verbose
        self.mode = mode
        self.refresh_seconds = refresh_seconds
        self.file = file
        self._display: _Display | None = None
        self._last_refresh = 0.0
        self._step = 0

    def _implements(self, hook: str) -> bool:
        # Batch hooks only matter for the live bar, and only those of this run's mode.
        if hook.endswith("_batch_end"):
            return self.verbose == 1 and hook == f"on_{self.mode}_batch_end"
        if hook.endswith("_batch_begin"):
            return False
        return super()._implements(hook)

    # ------------------------------------------------------------------ shared
    def _begin(self) -> None:
        if self._display is not None:  # a previous run ended abnormally
            self._display.abandon()
        self._step = 0
        self._last_refresh = time.perf_counter()
        self._display = open_display(self.params.get("steps"), stream=self.file or sys.stdout, style=self.verbose)

    def _batch(self, batch, logs) -> None:
        display = self._display
        if display is None:
            return
        self._step = batch + 1
        now = time.perf_counter()
        text = None
        if logs is not None and self.mode != "predict" and now - self._last_refresh >= self.refresh_seconds:
            self._last_refresh = now
            text = format_logs(logs)  # reading lazy logs: the one device sync
        display.update(self._step, text)

    def _end(self, logs) -> None:
        display, self._display = self._display, None
        if display is None:
            return
        if display.n < self._step or (display.total and display.n == 0):
            display.n = self._step or (display.total or 0)
        display.close(format_logs(logs) if self.mode != "predict" else "")

    # ------------------------------------------------------------------ fit
    def on_epoch_begin(self, epoch, logs=None):
        if self.mode != "train":
            return
        stream = self.file or sys.stdout
        stream.write(f"Epoch {epoch + 1}/{self.params.get('epochs')}\n")
        stream.flush()
        self._begin()

    def on_train_batch_end(self, batch, logs=None):
        if self.mode == "train":
            self._batch(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.mode == "train":
            self._end(logs)

    def on_train_end(self, logs=None):
        if self._display is not None:
            self._display.abandon()
            self._display = None

    # ------------------------------------------------------------------ evaluate
    def on_test_begin(self, logs=None):
        if self.mode == "test":
            self._begin()

    def on_test_batch_end(self, batch, logs=None):
        if self.mode == "test":
            self._batch(batch, logs)

    def on_test_end(self, logs=None):
        if self.mode == "test":
            self._end(logs)

    # ------------------------------------------------------------------ predict
    def on_predict_begin(self, logs=None):
        if self.mode == "predict":
            self._begin()

    def on_predict_batch_end(self, batch, logs=None):
        if self.mode == "predict":
            self._batch(batch, None)

    def on_predict_end(self, logs=None):
        if self.mode == "predict":
            self._end(None)
