"""``Progbar``: Keras's progress bar for custom loops, drawn by easynn's progress display.

It looks like ``fit``'s bar (``7/10 ━━━━━━━━━━━━━━────── 1s 20ms/step - loss: 0.3100``), draws
in place in a terminal (tqdm), keeps every value visible at any width, and prints plain lines
when the output is a file or a CI log.
"""

from __future__ import annotations

import sys
import time

from easynn.training.progress import format_value, open_display

__all__ = ["Progbar"]


class Progbar:
    """A progress bar with running averages, as ``keras.utils.Progbar``.

    Args:
        target: total number of steps, or ``None`` when unknown.
        width: width of the bar in characters.
        verbose: 1 for a live bar, 2 for one line at the end, 0 for silence.
        interval: the least time in seconds between two redraws.
        stateful_metrics: names whose values are shown as given, not averaged over steps.
        unit_name: the unit of ``.../step``.

    Raises:
        ValueError: for a ``verbose`` other than 0, 1 or 2.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = Progbar(2, verbose=2, file=out)
        >>> bar.update(1, values=[("loss", 1.0)])
        >>> bar.update(2, values=[("loss", 0.5)])
        >>> out.getvalue().split(" - ")[0], out.getvalue().strip().split(" - ")[-1]
        ('2/2', 'loss: 0.7500')
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics=None, unit_name: str = "step", file=None):
        if verbose not in (0, 1, 2):
            raise ValueError(f"`verbose` must be 0, 1 or 2. Received: verbose={verbose!r}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self._file = file
        self._values: dict[str, list[float]] = {}
        self._order: list[str] = []
        self._seen_so_far = 0
        self._last_update = 0.0
        self._display = None
        self._finished = False

    def _text(self) -> str:
        parts = []
        for name in self._order:
            total, count = self._values[name]
            value = total if name in self.stateful_metrics else total / max(count, 1)
            parts.append(f"{name}: {format_value(value)}")
        return " - ".join(parts)

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Set the bar to step ``current`` and record ``values`` (``[(name, value), ...]``).

        Non-stateful values are averaged over the steps they cover (``current`` minus the
        previous ``current``); stateful ones are shown as given.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        base = max(current - self._seen_so_far, 1)
        for name, value in values or []:
            if name not in self._values:
                self._order.append(name)
                self._values[name] = [0.0, 0]
            if name in self.stateful_metrics:
                self._values[name] = [float(value), 1]
            else:
                self._values[name][0] += float(value) * base
                self._values[name][1] += base
        self._seen_so_far = current
        if self.verbose == 0 or self._finished:
            return
        if self._display is None:
            self._display = open_display(self.target, stream=self._file or sys.stdout, unit=self.unit_name,
                                         width=self.width, style=self.verbose)
        now = time.perf_counter()
        if finalize:
            self._display.n = current
            self._display.close(self._text())
            self._finished = True
        elif now - self._last_update >= self.interval:
            self._last_update = now
            self._display.update(current, self._text())
        else:
            self._display.update(current)

    def add(self, n: int, values=None) -> None:
        """Advance by ``n`` steps (see ``update``)."""
        self.update(self._seen_so_far + n, values)
