"""Training curves from a ``History``: loss and each metric, train vs validation.

matplotlib is optional (``pip install matplotlib``); it is imported only when a plot
is drawn, with the non-interactive Agg backend, so plotting works on servers without a display.
"""

from __future__ import annotations

from easynn.plot._figures import DEFAULT_DPI, new_figure, save_png

__all__ = ["history"]


def history(history, path=None, metrics=None, dpi: int = DEFAULT_DPI, width: float = 6.0, height: float = 3.5):
    """Plot loss and metric curves: one subplot per quantity, validation dashed.

    Args:
        history: a ``History`` (what ``fit`` returns) or its ``.history`` dict.
        path: where to write a PNG (folders are created); ``None`` writes nothing.
        metrics: names to plot (without ``val_``); by default every logged quantity that is not a
            validation one (``loss`` first), e.g. ``["loss", "accuracy"]``.
        dpi: dots per inch of the PNG.
        width: width of the figure in inches.
        height: height of one subplot in inches.

    Returns:
        The matplotlib ``Figure`` (``width * dpi`` by ``height * len(metrics) * dpi`` pixels).

    Raises:
        ImportError: when matplotlib is missing, naming ``pip install matplotlib``.
        ValueError: when ``metrics`` names a quantity the history does not have, or it is empty.

    Example:
        >>> fig = history({"loss": [1.0, 0.5], "val_loss": [1.2, 0.7]})
        >>> [ax.get_title() for ax in fig.axes]
        ['loss']
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"`history` must be a History or a dict of lists. Received: {type(history).__name__}")
    epochs = list(getattr(history, "epoch", []) or [])
    if metrics is None:
        # Diagnostics ("grad_norm/dense", ...) have their own plots (easynn.plot.gradient_flow).
        metrics = [k for k in logs if not k.startswith("val_") and k != "learning_rate" and "/" not in k]
        metrics.sort(key=lambda k: (k != "loss", k))
    elif isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    if not metrics:
        raise ValueError("Nothing to plot: the history is empty. Train with fit() first.")
    for name in metrics:
        if name not in logs and f"val_{name}" not in logs:
            raise ValueError(f"`metrics` names {name!r}, which the history does not have. It has: {sorted(logs)}.")
    fig = new_figure((width, height * len(metrics)), dpi)
    axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, metrics):
        for key, style, label in ((name, "-", "train"), (f"val_{name}", "--", "validation")):
            values = logs.get(key)
            if not values:
                continue
            xs = [e + 1 for e in epochs] if len(epochs) == len(values) else list(range(1, len(values) + 1))
            ax.plot(xs, values, style, marker="o", markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.xaxis.get_major_locator().set_params(integer=True)  # epochs 1, 2, 3: no 1.5
        ax.grid(True, alpha=0.3)
        # Right of the axes: the legend never hides a curve.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9, borderaxespad=0.0)
    fig.tight_layout()
    return save_png(fig, path, dpi)
