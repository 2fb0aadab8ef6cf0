"""The lecture's pictures of optimisation problems: activations, gradient flow, loss surface, graph.

* ``activations``: each activation function with its derivative (computed by autograd through
  easynn's own Functions, i.e. the hand-written backward passes);
* ``gradient_flow``: per-layer gradient norms over epochs, as recorded by ``GradientMonitor``;
* ``loss_surface``: figure 4.9, the non-convex loss of ``y = σ(w2 σ(w1 x))`` over ``(w1, w2)``;
* ``model``: the layer graph, one box per layer (name, type, output shape), arrows for data flow.

matplotlib is optional (``pip install matplotlib``), imported only when drawing, with
the Agg canvas (no display needed). Each function returns the ``Figure`` and writes a PNG of
exactly ``figsize * dpi`` pixels when ``path`` is given.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Sequence

import torch

from easynn import activations as _activations
from easynn._validation import positive_int as _positive_int
from easynn.plot._figures import DEFAULT_DPI, new_figure, save_png

__all__ = ["activations", "gradient_flow", "loss_surface", "model"]

LECTURE_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu", "gelu")






def _range(name: str, value: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not lo < hi:
        raise ValueError(f"`{name}` must be a pair (low, high) with low < high. Received: {name}={value!r}")
    return lo, hi


# ---------------------------------------------------------------------------------- activations
def activations(names: Sequence[str | Callable] | None = None, path=None, x_range=(-5.0, 5.0), ncols: int = 4,
                size: float = 2.5, dpi: int = DEFAULT_DPI, points: int = 401):
    """Each activation ``f`` (solid) and its derivative ``f'`` (dashed), one panel per function.

    The derivative is ``d f(x) / dx`` from autograd, so it shows what easynn's backward pass
    really computes (e.g. ``σ'(x) = σ(x)(1 - σ(x))`` peaking at 0.25: the vanishing-gradient
    factor).

    Args:
        names: activation names or callables; default the lecture's ``sigmoid, tanh, relu,
            leaky_relu, elu, softplus, silu, gelu``.
        path: where to write a PNG; ``None`` writes nothing.
        x_range: the ``(low, high)`` interval drawn.
        ncols: panels per row.
        size: width and height of one panel in inches.
        dpi: dots per inch.
        points: samples of ``x``.

    Returns:
        The matplotlib ``Figure``, ``ncols * size`` by ``rows * size`` inches (fewer columns
        when there are fewer functions).

    Raises:
        ImportError: when matplotlib is missing.
        ValueError: for an unknown name, ``softmax`` (not elementwise) or a bad range.

    Example:
        >>> fig = activations(["sigmoid", "relu"], dpi=50)
        >>> [ax.get_title() for ax in fig.axes], fig.get_size_inches().tolist()
        (['sigmoid', 'relu'], [5.0, 2.5])
    """
    names = list(LECTURE_ACTIVATIONS if names is None else ([names] if isinstance(names, str) else names))
    if not names:
        raise ValueError("`names` must list at least one activation. Received: names=[]")
    lo, hi = _range("x_range", x_range)
    ncols = min(_positive_int("ncols", ncols), len(names))
    points = _positive_int("points", points)
    fns = []
    for name in names:
        fn = _activations.get(name)
        if fn is _activations.softmax:
            raise ValueError("softmax is not an elementwise function; it cannot be drawn as f(x). Received: 'softmax'")
        label = name if isinstance(name, str) else getattr(name, "__name__", "f")
        fns.append((label, fn))
    x = torch.linspace(lo, hi, points, dtype=torch.float64, requires_grad=True)
    curves = []
    for label, fn in fns:
        y = fn(x)
        (dy,) = torch.autograd.grad(y.sum(), x)
        curves.append((label, y.detach().numpy(), dy.numpy()))
    xs = x.detach().numpy()

    rows = math.ceil(len(curves) / ncols)
    fig = new_figure((ncols * size, rows * size), dpi)
    for index, (label, y, dy) in enumerate(curves):
        ax = fig.add_subplot(rows, ncols, index + 1)
        ax.axhline(0.0, color="0.8", lw=0.8)
        ax.axvline(0.0, color="0.8", lw=0.8)
        ax.plot(xs, y, lw=1.8, label="f(x)")
        ax.plot(xs, dy, lw=1.4, ls="--", label="f'(x)")
        ax.set_title(label, fontsize=10)
        ax.tick_params(labelsize=7)
        if index == 0:
            ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return save_png(fig, path, dpi)


# ---------------------------------------------------------------------------------- gradient flow
def gradient_flow(history, path=None, figsize=(10.0, 4.0), dpi: int = DEFAULT_DPI, title: str | None = None):
    """Per-layer gradient norms (log scale): over epochs (left) and by depth at the last epoch (right).

    Reads the ``"grad_norm/<layer>"`` entries ``GradientMonitor`` adds to the logs. A vanishing
    gradient shows as norms falling by orders of magnitude from the last layer to the first.

    Args:
        history: a ``History`` (what ``fit`` returns) or its ``.history`` dict.
        path: where to write a PNG; ``None`` writes nothing.
        figsize: ``(width, height)`` in inches.
        dpi: dots per inch.
        title: the figure's title.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ImportError: when matplotlib is missing.
        TypeError: when ``history`` is neither a History nor a dict.
        ValueError: when there are no ``grad_norm/...`` entries (train with ``GradientMonitor``).

    Example:
        >>> fig = gradient_flow({"grad_norm/dense": [1e-6, 2e-6], "grad_norm/dense_1": [0.1, 0.2]}, dpi=50)
        >>> [ax.get_yscale() for ax in fig.axes]
        ['log', 'log']
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"`history` must be a History or a dict of lists. Received: {type(history).__name__}")
    layers = [(key.split("/", 1)[1], list(values)) for key, values in logs.items() if key.startswith("grad_norm/")]
    if not layers:
        raise ValueError(
            "`history` has no 'grad_norm/<layer>' entries. Train with "
            "callbacks=[easynn.callbacks.GradientMonitor()] to record them."
        )
    epochs = [e + 1 for e in (list(getattr(history, "epoch", []) or []) or list(range(len(layers[0][1]))))]
    fig = new_figure(tuple(figsize), dpi)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    from matplotlib import colormaps

    colours = colormaps["viridis"]  # colour encodes depth: dark = first layer
    for depth_index, (name, values) in enumerate(layers):
        colour = colours(depth_index / max(len(layers) - 1, 1) * 0.9)
        left.plot(epochs[:len(values)], values, marker="o", ms=3, lw=1.2, label=name, color=colour)
    left.set_yscale("log")
    left.set_xlabel("epoch")
    left.xaxis.get_major_locator().set_params(integer=True)
    left.set_ylabel("gradient norm")
    left.set_title("per-layer gradient norm", fontsize=10)
    if len(layers) <= 12:  # below the axes, so that it never hides a curve
        left.legend(fontsize=7, ncol=min(len(layers), 3), loc="upper center", bbox_to_anchor=(0.5, -0.2),
                    frameon=False)
    last = [values[-1] if values else math.nan for _, values in layers]
    depth = list(range(1, len(layers) + 1))
    right.bar(depth, [v if v > 0 else math.nan for v in last],  # the same colour per layer as on the left
              color=[colours(i / max(len(layers) - 1, 1) * 0.9) for i in range(len(layers))])
    right.set_yscale("log")
    right.set_xticks(depth)
    right.set_xticklabels([name for name, _ in layers], rotation=45, ha="right", fontsize=8)
    right.set_xlabel("layer (input -> output)")
    right.set_title("last epoch, by depth", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path, dpi)


# ---------------------------------------------------------------------------------- loss surface
def _as_vector(name: str, value) -> torch.Tensor:
    tensor = torch.as_tensor(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=torch.float64)
    if tensor.dim() == 2 and tensor.shape[1] == 1:
        tensor = tensor[:, 0]
    if tensor.dim() != 1 or tensor.numel() == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D array of scalars (or shape (n, 1)). Received shape {tuple(tensor.shape)}.")
    return tensor


def surface_grid(x, y, w_range=(-10.0, 10.0), resolution: int = 101, loss: str = "mse"):
    """The loss of ``y_hat = σ(w2 σ(w1 x))`` on ``(x, y)`` over a ``(w1, w2)`` grid.

    Formula: ``L(w1, w2) = mean_i loss(y_i, σ(w2 σ(w1 x_i)))``, with loss ``mse``
    (``(y - y_hat)^2``) or ``binary_crossentropy`` (``-y log y_hat - (1 - y) log(1 - y_hat)``).

    Args:
        x: the inputs, shape ``(n,)`` or ``(n, 1)``.
        y: the targets, same length.
        w_range: ``(low, high)`` for both weights, or ``((low1, high1), (low2, high2))``.
        resolution: grid points per axis.
        loss: ``"mse"`` or ``"binary_crossentropy"``.

    Returns:
        ``(w1, w2, L)``: three ``(resolution, resolution)`` float64 tensors (``w1`` varies along
        columns, ``w2`` along rows).

    Raises:
        ValueError: for mismatched or non-1-D data, a bad range, resolution or loss name.

    Example:
        >>> w1, w2, L = surface_grid([1.0, -1.0], [1.0, 0.0], w_range=(-1, 1), resolution=3)
        >>> float(L[1, 1])  # w1 = w2 = 0: y_hat = σ(0) = 0.5 for both samples
        0.25
    """
    xs, ys = _as_vector("x", x), _as_vector("y", y)
    if xs.numel() != ys.numel():
        raise ValueError(f"x has {xs.numel()} samples but y has {ys.numel()}. They must have the same length.")
    resolution = _positive_int("resolution", resolution)
    if resolution < 2:
        raise ValueError(f"`resolution` must be at least 2. Received: resolution={resolution}")
    if loss not in ("mse", "binary_crossentropy"):
        raise ValueError(f"`loss` must be 'mse' or 'binary_crossentropy'. Received: loss={loss!r}")
    pair = tuple(w_range)
    ranges = (pair, pair) if len(pair) == 2 and not isinstance(pair[0], (tuple, list)) else pair
    if len(ranges) != 2:
        raise ValueError(f"`w_range` must be (low, high) or ((low1, high1), (low2, high2)). Received: w_range={w_range!r}")
    (lo1, hi1), (lo2, hi2) = _range("w_range", ranges[0]), _range("w_range", ranges[1])
    w1 = torch.linspace(lo1, hi1, resolution, dtype=torch.float64)
    w2 = torch.linspace(lo2, hi2, resolution, dtype=torch.float64)
    sigmoid = _activations.sigmoid
    hidden = sigmoid(w1[:, None] * xs[None, :])  # (resolution, n): σ(w1 x) for every w1
    surface = torch.empty(resolution, resolution, dtype=torch.float64)
    with torch.no_grad():
        for row, v in enumerate(w2):  # one w2 at a time keeps memory at resolution * n
            pred = sigmoid(v * hidden)
            if loss == "mse":
                surface[row] = ((pred - ys) ** 2).mean(1)
            else:
                pred = pred.clamp(1e-7, 1 - 1e-7)
                surface[row] = -(ys * pred.log() + (1 - ys) * (1 - pred).log()).mean(1)
    grid1, grid2 = torch.meshgrid(w1, w2, indexing="xy")
    return grid1, grid2, surface


def loss_surface(x, y, path=None, w_range=(-10.0, 10.0), resolution: int = 101, loss: str = "mse",
                 kind: str = "surface", figsize=(7.0, 5.5), dpi: int = DEFAULT_DPI):
    """Figure 4.9 of the lecture: the loss of ``y = σ(w2 σ(w1 x))`` over ``(w1, w2)``.

    Even this two-weight network has a non-convex loss: flat plateaus where the sigmoids saturate
    (gradient ~ 0) next to steep walls, so gradient descent's result depends on where it starts.

    Args:
        x: toy inputs, shape ``(n,)`` or ``(n, 1)``.
        y: targets in ``[0, 1]``, same length.
        path: where to write a PNG; ``None`` writes nothing.
        w_range: ``(low, high)`` for both weights, or one pair per weight.
        resolution: grid points per axis.
        loss: ``"mse"`` or ``"binary_crossentropy"``.
        kind: ``"surface"`` (3-D) or ``"contour"`` (filled contours, minimum marked).
        figsize: ``(width, height)`` in inches.
        dpi: dots per inch.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ImportError: when matplotlib is missing.
        ValueError: for bad data or arguments (see ``surface_grid``) or an unknown ``kind``.

    Example:
        >>> fig = loss_surface([1.0, -1.0], [1.0, 0.0], resolution=11, kind="contour", dpi=50)
        >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
        ('w1', 'w2')
    """
    if kind not in ("surface", "contour"):
        raise ValueError(f"`kind` must be 'surface' or 'contour'. Received: kind={kind!r}")
    w1, w2, surface = surface_grid(x, y, w_range, resolution, loss)
    w1, w2, surface = w1.numpy(), w2.numpy(), surface.numpy()
    fig = new_figure(tuple(figsize), dpi)
    if kind == "surface":
        import mpl_toolkits.mplot3d  # noqa: F401  (registers the 3-D projection on old matplotlib)

        ax = fig.add_subplot(1, 1, 1, projection="3d")
        ax.plot_surface(w1, w2, surface, cmap="viridis", linewidth=0, antialiased=True)
        ax.set_zlabel(loss, labelpad=10)
        from matplotlib.ticker import MaxNLocator

        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):  # fewer ticks: 3-D labels otherwise run together
            axis.set_major_locator(MaxNLocator(5))
        ax.tick_params(labelsize=8)
    else:
        ax = fig.add_subplot(1, 1, 1)
        filled = ax.contourf(w1, w2, surface, levels=30, cmap="viridis")
        fig.colorbar(filled, ax=ax, label=loss)
        row, col = divmod(int(surface.argmin()), surface.shape[1])
        ax.plot([w1[row, col]], [w2[row, col]], marker="*", color="red", ms=10, ls="none", label="grid minimum",
                clip_on=False)  # a minimum on the border stays whole
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.set_title("loss of y = σ(w2 σ(w1 x))", fontsize=10, loc="left")
    if kind == "contour":  # above the axes, right of the title: it hides no part of the surface
        ax.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, borderaxespad=0.2)
    if kind == "contour":
        fig.tight_layout()
    return save_png(fig, path, dpi)


# ---------------------------------------------------------------------------------- model graph
def _graph(net) -> tuple[list[tuple[str, str, str]], list[tuple[int, int]]]:
    """Boxes ``(name, type, output shape)`` and arrows ``(from, to)`` of a model's layers."""
    from easynn.layers.summary import _fmt_shape, summary_rows

    layers = list(getattr(net, "layers", []))
    rows = summary_rows(net) if layers else []
    boxes = []
    for layer, row in zip(layers, rows):
        boxes.append((getattr(layer, "name", type(layer).__name__), type(layer).__name__, row[1]))
    connections_fn = getattr(net, "layer_connections", None)
    edges: list[tuple[int, int]] = []
    if callable(connections_fn):
        connections = connections_fn()
        index = {name: i for i, (name, _, _) in enumerate(boxes)}
        for i, layer in enumerate(layers):
            for ref in connections.get(id(layer), []):
                match = re.match(r"^(.*)\[\d+\]\[\d+\]$", ref)
                parent = index.get(match.group(1) if match else ref)
                if parent is not None and parent != i:
                    edges.append((parent, i))
        return boxes, edges
    input_layer = getattr(net, "_input_layer", None)
    if input_layer is not None:  # Sequential: the Input is not in .layers, as in Keras
        shape = _fmt_shape((None,) + tuple(input_layer.shape))
        boxes.insert(0, (getattr(input_layer, "name", "input"), "InputLayer", shape))
    edges = [(i, i + 1) for i in range(len(boxes) - 1)]
    return boxes, edges


def model(model, path=None, figsize=None, dpi: int = DEFAULT_DPI):
    """The model's layer graph: one box per layer (name, type, output shape), arrows for data flow.

    A ``Sequential`` model is a chain from its input; a functional model uses its layers' inbound
    connections (``model.layer_connections()``), each layer drawn one row below its deepest input.

    Args:
        model: an easynn model (built, so that output shapes are known).
        path: where to write a PNG; ``None`` writes nothing.
        figsize: ``(width, height)`` in inches; by default sized to the graph.
        dpi: dots per inch.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ImportError: when matplotlib is missing.
        ValueError: when the model has no layers.

    Example:
        >>> import easynn
        >>> net = easynn.Sequential([easynn.Input(shape=(3,), name="x"), easynn.layers.Dense(2, name="out")])
        >>> fig = model(net, dpi=50)
        >>> [t.get_text() for t in fig.axes[0].texts if t.get_text()]
        ['x\\nInputLayer\\n(None, 3)', 'out\\nDense\\n(None, 2)']
    """
    boxes, edges = _graph(model)
    if not boxes:
        raise ValueError(f"Model '{getattr(model, 'name', model)}' has no layers to draw.")
    level = [0] * len(boxes)
    for parent, child in sorted(edges, key=lambda e: e[1]):  # layers are in topological order
        level[child] = max(level[child], level[parent] + 1)
    # Then move each non-input layer down to just above its first consumer (fewer long arrows).
    for i in reversed(range(len(boxes))):
        children = [level[c] for p, c in edges if p == i]
        if children and boxes[i][1] != "InputLayer":
            level[i] = max(level[i], min(children) - 1)
    depth = max(level) + 1
    rows: dict[int, list[int]] = {}
    for i, lv in enumerate(level):
        rows.setdefault(lv, []).append(i)
    widest = max(len(members) for members in rows.values())
    if figsize is None:
        figsize = (max(4.0, 2.6 * widest), max(2.0, 1.0 * depth + 0.4))
    fig = new_figure(tuple(figsize), dpi)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, float(widest))
    ax.set_ylim(float(depth), 0.0)  # level 0 at the top
    ax.axis("off")
    box_w, box_h = 0.8, 0.62
    centre = {}
    for lv, members in rows.items():
        for k, i in enumerate(members):
            centre[i] = ((k + 0.5) * widest / len(members), lv + 0.5)
    from matplotlib.patches import FancyBboxPatch

    fontsize = 8 if figsize[1] / depth >= 0.8 else 6
    for i, (name, cls, shape) in enumerate(boxes):
        cx, cy = centre[i]
        ax.add_patch(FancyBboxPatch((cx - box_w / 2, cy - box_h / 2), box_w, box_h,
                                    boxstyle="round,pad=0.0,rounding_size=0.08",
                                    facecolor="#dbe9f6" if cls != "InputLayer" else "#eeeeee", edgecolor="0.3"))
        ax.text(cx, cy, f"{name}\n{cls}\n{shape}", ha="center", va="center", fontsize=fontsize)
    for parent, child in edges:
        (x0, y0), (x1, y1) = centre[parent], centre[child]
        ax.annotate("", xy=(x1, y1 - box_h / 2), xytext=(x0, y0 + box_h / 2),
                    arrowprops={"arrowstyle": "->", "color": "0.3", "lw": 1.0})
    return save_png(fig, path, dpi)
