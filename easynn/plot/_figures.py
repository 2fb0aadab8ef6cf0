"""What every plot shares: a matplotlib Figure without pyplot, and an atomic PNG save."""

from __future__ import annotations

import io
import os

__all__ = ["new_figure", "save_png", "save_figure", "DEFAULT_DPI"]

# Figures are written at 150 dots per inch unless asked otherwise: sharp on screens and in slides.
DEFAULT_DPI = 150


def new_figure(figsize: tuple[float, float], dpi: int):
    """A matplotlib ``Figure`` on the Agg canvas (no pyplot state, no display needed).

    Raises:
        ImportError: naming the ``plot`` extra when matplotlib is missing.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "Plotting needs matplotlib, which is not installed. Install it with `pip install matplotlib` "
            "(from a clone of easynn: `pip install -e \".[plot]\"`)."
        ) from error
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path, dpi: int):
    """Write ``fig`` to ``path`` as a PNG, whole or not at all; returns ``fig``."""
    return save_figure(fig, path, dpi, "png")


def save_figure(fig, path, dpi: int, fmt: str = "png"):
    """Write ``fig`` to ``path`` in ``fmt`` (png, svg, pdf, jpg), whole or not at all; returns ``fig``.

    The image is rendered in memory and written through the project's atomic writer (temporary
    file, fsync, rename), on the main process only under torchrun.
    """
    if path is None:
        return fig
    from easynn import distribute
    from easynn.saving.files import atomic_write

    if not distribute.is_main_process():
        return fig
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, format=fmt)
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))
    return fig
