"""Progress text: how logged numbers, step times and a wrapped progress line are written.

Pure functions of their arguments (no printing, no state), shared by the progress display
(``progress_display.py``), ``ProgbarLogger`` and ``easynn.utils.Progbar``.
"""

from __future__ import annotations

import os
import shutil

__all__ = ["format_value", "format_logs"]


def format_value(value) -> str:
    """One logged number as Keras prints it: 4 decimals, scientific notation below 1e-3.

    Example:
        >>> format_value(0.25), format_value(1.5e-05), format_value(3)
        ('0.2500', '1.5000e-05', '3')
    """
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:.4f}" if abs(number) > 1e-3 else f"{number:.4e}"


def _log_parts(logs) -> list[str]:
    parts = []
    for key in sorted(logs):
        if "/" in key:  # per-layer diagnostics (GradientMonitor, ActivationMonitor) stay in History
            continue
        parts.append(f"{key}: {format_value(logs[key])}")
    return parts


def format_logs(logs) -> str:
    """``"accuracy: 0.9100 - loss: 0.2500"``: Keras's sorted ``name: value`` pairs.

    Per-layer diagnostic keys (``"grad_norm/dense"``) are left out of the line.

    Example:
        >>> format_logs({"loss": 0.25, "accuracy": 0.91})
        'accuracy: 0.9100 - loss: 0.2500'
    """
    return " - ".join(_log_parts(logs or {}))


def _format_step_time(seconds: float, unit: str) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _format_eta(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def _bar_chars(stream) -> tuple[str, str]:
    """``("━", "─")`` where the stream can encode them (or holds text, like ``io.StringIO``),
    else ASCII ``("=", ".")``."""
    encoding = getattr(stream, "encoding", None)
    if encoding is None:
        return "━", "─"
    try:
        "━─".encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return "=", "."
    return "━", "─"


def _columns(stream) -> int:
    """The width of the terminal behind ``stream`` (80 when it cannot be told)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    if columns <= 0:
        columns = shutil.get_terminal_size((80, 24)).columns
    return columns if columns > 0 else 80


def _wrap(head: str, parts: list[str], width: int, first_width: int | None = None) -> list[str]:
    """``head - part - part ...`` packed into lines of at most ``width`` characters (the first
    at most ``first_width``). Parts are never split; continuation lines start with two spaces.

    Example:
        >>> _wrap("4/4", ["loss: 0.5000", "val_loss: 0.6000"], width=20)
        ['4/4 - loss: 0.5000', '  val_loss: 0.6000']
    """
    limit = width if first_width is None else first_width
    lines, line = [], head
    for part in parts:
        piece = f" - {part}" if line.strip() else part
        if len(line) + len(piece) > limit and line.strip():
            lines.append(line)
            line, piece, limit = "  ", part, width
        line += piece
    lines.append(line)
    return lines
