"""The progress display: one live progress line on one stream, drawn where the output goes.

* a terminal: tqdm draws the bar in place; metrics that do not fit the terminal width go on
  extra lines below it (never cut off), and while the bar is live, ``print`` and ``logging``
  output is routed above it (one clean line each, no stale bar left behind);
* a notebook: tqdm.auto's widget, then the complete line;
* anything else (a file, a CI log, pytest's capture) or ``config.disable_interactive_logging()``:
  plain, complete lines, no ``\\r`` and no escape codes.

Every display opened with ``open_display`` is closed when an error leaves fit/evaluate/predict.
"""

from __future__ import annotations

import logging
import sys
import time
import weakref

from easynn import _traceback
from easynn.training.progress_text import _bar_chars, _columns, _format_eta, _format_step_time, _wrap

__all__ = ["open_display"]

_BAR_WIDTH = 20
# A non-interactive stream gets an intermediate line at most this often (the final line always).
_PLAIN_INTERVAL_S = 30.0


def _notebook_tqdm():
    """tqdm's notebook class when running in a Jupyter kernel with widgets, else ``None``."""
    if "ipykernel" not in sys.modules:
        return None
    try:
        from tqdm.auto import tqdm as auto_tqdm
        from tqdm.std import tqdm as std_tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return None if auto_tqdm is std_tqdm else auto_tqdm


def _display_kind(stream) -> str:
    """``"notebook"``, ``"tty"`` or ``"plain"`` for output written to ``stream``."""
    from easynn import config

    if not config.is_interactive_logging_enabled():
        return "plain"
    if _notebook_tqdm() is not None:
        return "notebook"
    try:
        return "tty" if stream.isatty() else "plain"
    except (AttributeError, ValueError):
        return "plain"


class _LineRouter:
    """Stands in for ``sys.stdout`` / ``sys.stderr`` while a bar is live in a terminal: each
    complete line is written above the bar (the bar is cleared, the line written, the bar
    redrawn), so a callback's or the user's ``print`` never glues onto the bar."""

    def __init__(self, original, display: "_Display"):
        self._original = original
        self._display = weakref.ref(display)
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            display = self._display()
            if display is not None and display.live:
                display.write_above(self._original, complete + "\n")
            else:
                self._original.write(complete + "\n")
        return len(text)

    def flush(self) -> None:
        self._original.flush()

    def release(self) -> None:
        """Write whatever partial line is left (at the end of the live bar)."""
        if self._pending:
            self._original.write(self._pending)
            self._pending = ""
        self._original.flush()

    def isatty(self) -> bool:
        return self._original.isatty()

    def fileno(self) -> int:
        return self._original.fileno()

    def __getattr__(self, name):  # encoding, errors, buffer, ...
        return getattr(self._original, name)


class _Display:
    """One progress line (and its wrapped metric lines) on one stream.

    ``update(n, text)`` moves it; ``close(text)`` replaces it with the final, complete line(s).
    Used by ``ProgbarLogger`` and ``easynn.utils.Progbar``.
    """

    def __init__(self, total: int | None, stream=None, unit: str = "step", width: int = _BAR_WIDTH, style: int = 1):
        self.total = total
        self.stream = stream if stream is not None else sys.stdout
        self.unit = unit
        self.width = width
        self.style = style  # 1: live bar; 2: one line at the end (Keras's verbose=2)
        self.kind = _display_kind(self.stream) if style == 1 else "plain"
        self.start = time.perf_counter()
        self.n = 0
        self.live = False
        self._bars: list = []
        self._routers: list[tuple[str, _LineRouter]] = []
        self._handlers: list[tuple[logging.StreamHandler, object]] = []
        self._last_plain = self.start
        self._text = ""
        self._full, self._empty = _bar_chars(self.stream)
        if self.kind in ("tty", "notebook"):
            self._open()

    # -------------------------------------------------------------------- pieces of a line
    def _counter(self) -> str:
        total = "Unknown" if self.total is None else str(self.total)
        return f"{self.n}/{total}"

    def _bar(self) -> str:
        if not self.total:
            return ""
        filled = min(self.width, int(self.width * self.n / self.total))
        return self._full * filled + self._empty * (self.width - filled)

    def _timing(self, final: bool) -> tuple[str, str]:
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / self.n if self.n else 0.0
        if final or not self.total:
            clock = f"{elapsed:.0f}s"
        else:
            clock = _format_eta(per_step * max(self.total - self.n, 0))
        return clock, _format_step_time(per_step, self.unit) if self.n else ""

    def line_parts(self, text: str, final: bool) -> tuple[str, list[str]]:
        """The head (``22/22 ━━━━ 0s 3ms/step``) and the metric parts of the line."""
        clock, per_step = self._timing(final)
        parts = [p for p in text.split(" - ") if p] if text else []
        if self.style == 2:
            head = " - ".join(p for p in (self._counter(), clock, per_step) if p)
        else:
            head = " ".join(p for p in (self._counter(), self._bar(), clock, per_step) if p)
        return head, parts

    # -------------------------------------------------------------------- live display
    def _open(self) -> None:
        if self.kind == "notebook":
            bar_class = _notebook_tqdm()
            self._bars = [
                bar_class(total=self.total, unit=self.unit, leave=False, bar_format="{n_fmt}/{total_fmt} {bar} {desc}")
            ]
        else:
            from tqdm.std import tqdm

            ascii_chars = self._empty + self._full
            self._bars = [
                tqdm(
                    total=self.total,
                    file=self.stream,
                    leave=False,
                    ascii=ascii_chars,
                    bar_format="{n_fmt}/{total_fmt} {bar:%d} {desc}" % self.width,
                    mininterval=0.1,
                    dynamic_ncols=False,
                    ncols=_columns(self.stream),
                )
            ]
            self._route_output()
        self.live = True

    def _route_output(self) -> None:
        """While the bar is live, print() and logging go through ``write_above``."""
        for name in ("stdout", "stderr"):
            original = getattr(sys, name)
            try:
                same_terminal = original is self.stream or original.isatty()
            except (AttributeError, ValueError):
                same_terminal = False
            if same_terminal and not isinstance(original, _LineRouter):
                router = _LineRouter(original, self)
                setattr(sys, name, router)
                self._routers.append((name, router))
        originals = {id(router._original): router for _, router in self._routers}
        loggers = [logging.getLogger()] + [
            item for item in logging.Logger.manager.loggerDict.values() if isinstance(item, logging.Logger)
        ]
        for logger in loggers:
            for handler in logger.handlers:
                stream = getattr(handler, "stream", None)
                if type(handler) is logging.StreamHandler and id(stream) in originals:
                    self._handlers.append((handler, stream))
                    handler.stream = originals[id(stream)]

    def _restore_output(self) -> None:
        for handler, stream in self._handlers:
            if handler.stream is not stream:
                handler.stream = stream
        self._handlers = []
        for name, router in reversed(self._routers):
            if getattr(sys, name) is router:  # someone else may have replaced it since
                setattr(sys, name, router._original)
            router.release()
        self._routers = []

    def write_above(self, stream, text: str) -> None:
        """Write ``text`` (complete lines) above the live bar, then redraw the bar."""
        for bar in self._bars:
            bar.clear()
        stream.write(text)
        stream.flush()
        for bar in self._bars:
            bar.refresh()

    def _show(self, text: str) -> None:
        clock, per_step = self._timing(final=False)
        parts = [p for p in text.split(" - ") if p] if text else []
        if self.kind == "notebook":
            self._bars[0].set_description_str(" - ".join([f"{clock} {per_step}".strip()] + parts), refresh=True)
            return
        columns = _columns(self.stream)
        # tqdm draws "{n}/{total} {bar} " itself; the rest of the first line is ours.
        drawn = 2 * len(str(self.total or self.n)) + 1 + self.width + 2
        lines = _wrap(f"{clock} {per_step}".strip(), parts, columns - 1, first_width=max(columns - 1 - drawn, 1))
        from tqdm.std import tqdm

        while len(self._bars) < len(lines):
            self._bars.append(
                tqdm(total=None, file=self.stream, leave=False, bar_format="{desc}", dynamic_ncols=False, ncols=columns)
            )
        for bar, line in zip(self._bars, lines + [""] * (len(self._bars) - len(lines))):
            bar.ncols = columns
            bar.set_description_str(line, refresh=False)
        for bar in self._bars:
            bar.refresh()

    # -------------------------------------------------------------------- public
    def update(self, n: int, text: str | None = None) -> None:
        """Move to step ``n``; ``text`` (``"loss: ... - accuracy: ..."``), when given, replaces
        the metrics shown."""
        advance, self.n = n - self.n, n
        if text is not None:
            self._text = text
        if self.live:
            if advance > 0:
                self._bars[0].update(advance)
            if text is not None:
                self._show(self._text)
        elif self.kind == "plain" and self.style == 1 and text is not None:
            now = time.perf_counter()
            if now - self._last_plain >= _PLAIN_INTERVAL_S:
                self._last_plain = now
                self._print_lines([self.plain_line(self._text, final=False)])

    def plain_line(self, text: str, final: bool = True) -> str:
        head, parts = self.line_parts(text, final)
        return " - ".join([head] + parts)

    def _print_lines(self, lines: list[str]) -> None:
        stream = self.stream
        for line in lines:
            stream.write(line + "\n")
        stream.flush()

    def close(self, text: str | None = None) -> None:
        """End the live display and print the final, complete line(s) (``text`` defaults to the
        last metrics shown)."""
        if text is not None:
            self._text = text
        was_live, self.live = self.live, False
        for bar in reversed(self._bars):
            bar.close()
        self._bars = []
        self._restore_output()
        head, parts = self.line_parts(self._text, final=True)
        if was_live and self.kind == "tty":
            lines = _wrap(head, parts, _columns(self.stream) - 1)
        else:
            lines = [" - ".join([head] + parts)]
        self._print_lines(lines)

    def abandon(self) -> None:
        """Close without printing a final line (an error interrupted the run)."""
        if self.live:
            self.live = False
            for bar in reversed(self._bars):
                bar.close()
            self._bars = []
            self._restore_output()


_LIVE: "weakref.WeakSet[_Display]" = weakref.WeakSet()


def _abandon_live_displays() -> None:
    for display in list(_LIVE):
        display.abandon()


# An error leaving fit/evaluate/predict closes the bars and gives print() its stream back.
_traceback.register_cleanup(_abandon_live_displays)


def open_display(total, stream=None, unit="step", width=_BAR_WIDTH, style=1) -> _Display:
    """A ``_Display`` registered so that an error leaving fit/evaluate/predict closes it."""
    display = _Display(total, stream=stream, unit=unit, width=width, style=style)
    _LIVE.add(display)
    return display
