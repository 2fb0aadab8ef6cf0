"""Traceback filtering: a user's mistake reported at the user's line, not 11 frames deep in easynn.

``@filter_traceback`` goes on the public entry points (``Model.compile/fit/evaluate/predict``,
``Layer.__call__``...). When an exception leaves the outermost decorated call, the frames of
easynn's own files (and torch's ``nn.Module.__call__`` plumbing between them) are cut from its
traceback, as Keras does; the frames of the user's code (a custom layer's ``call``, a callback,
a loss function) and the frame where torch raised stay. Nested entry points (``fit`` calling
layers) cost one counter increment each and filter nothing themselves.

Full tracebacks: ``easynn.config.disable_traceback_filtering()`` or the environment variable
``EASYNN_TRACEBACK_FILTERING=0``. (The filtered traceback is re-raised with a bare ``raise``, so
not even the entry point's own frame is shown; Python 3.10 re-raises the original traceback.)

The outermost call also runs the registered clean-ups (``register_cleanup``) when an exception
(``KeyboardInterrupt`` included) leaves it: the progress display uses this to close its bars and
give ``print`` its stream back.

Example:
    >>> @filter_traceback
    ... def entry(value):
    ...     if value < 0:
    ...         raise ValueError(f"`value` must be >= 0. Received: value={value}")
    ...     return value
    >>> entry(3)
    3
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Callable, TypeVar

import torch

__all__ = ["filter_traceback", "is_filtering_enabled", "register_cleanup"]

ENV_VAR = "EASYNN_TRACEBACK_FILTERING"
_EASYNN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_TORCH_PLUMBING = os.path.join("torch", "nn", "modules", "module.py")
_local = threading.local()
_cleanups: list[Callable[[], None]] = []

F = TypeVar("F", bound=Callable)


def is_filtering_enabled() -> bool:
    """Whether tracebacks are filtered: ``config.is_traceback_filtering_enabled()`` and the
    environment variable ``EASYNN_TRACEBACK_FILTERING`` not set to ``0``/``false``/``off``."""
    if os.environ.get(ENV_VAR, "1").strip().lower() in ("0", "false", "off", "no"):
        return False
    from easynn import config

    return bool(config.is_traceback_filtering_enabled())


def register_cleanup(fn: Callable[[], None]) -> None:
    """Run ``fn()`` whenever an exception leaves an outermost entry point (once per error)."""
    if fn not in _cleanups:
        _cleanups.append(fn)


def _internal(filename: str) -> bool:
    return filename.startswith(_EASYNN_DIR) or filename.endswith(_TORCH_PLUMBING)


def _filtered(tb):
    """The traceback ``tb`` without easynn's frames (a new chain; ``None`` if nothing is left)."""
    kept = []
    while tb is not None:
        if not _internal(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    for earlier, later in zip(kept, kept[1:]):
        earlier.tb_next = later
    if kept:
        kept[-1].tb_next = None
        return kept[0]
    return None


def _filter_chain(error: BaseException) -> None:
    """Filter the tracebacks of the errors chained to ``error`` (``raise ... from``), in place."""
    seen = {id(error)}
    linked = error.__cause__ or error.__context__
    while linked is not None and id(linked) not in seen and len(seen) < 16:
        seen.add(id(linked))
        if linked.__traceback__ is not None:
            linked.__traceback__ = _filtered(linked.__traceback__) or linked.__traceback__
        linked = linked.__cause__ or linked.__context__


def _run_cleanups() -> None:
    for fn in list(_cleanups):
        try:
            fn()
        except Exception:  # a clean-up must never hide the user's error
            pass


def filter_traceback(fn: F) -> F:
    """Decorate a public entry point so that errors leaving it show the user's frames only.

    Args:
        fn: the function or method (``fit``, ``Layer.__call__``...).

    Returns:
        The wrapped function (same name, docstring and signature).

    Example:
        >>> class Model:
        ...     @filter_traceback
        ...     def fit(self, epochs):
        ...         return epochs
        >>> Model().fit(2)
        2
    """

    @functools.wraps(fn)
    def easynn_entry_point(*args, **kwargs):
        if torch.compiler.is_compiling():  # inside torch.compile's trace: stay out of the graph
            return fn(*args, **kwargs)
        depth = getattr(_local, "depth", 0)
        _local.depth = depth + 1
        try:
            return fn(*args, **kwargs)
        except BaseException as error:
            if depth or not isinstance(error, Exception):
                if not depth:
                    _run_cleanups()
                raise
            _run_cleanups()
            if not is_filtering_enabled():
                raise
            _filter_chain(error)
            error.__traceback__ = _filtered(error.__traceback__)
            raise  # easynn frames hidden: EASYNN_TRACEBACK_FILTERING=0 shows them
        finally:
            _local.depth = depth

    return easynn_entry_point  # type: ignore[return-value]
