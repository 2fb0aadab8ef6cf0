"""``plot_model``: Keras's picture of a model's layer graph.

Two renderers draw the same graph (one box per layer, arrows for the data flow):

* graphviz's ``dot`` program, when it is installed (``apt install graphviz`` / ``brew install
  graphviz``; no Python package needed): Keras's look, any format ``dot`` writes;
* easynn's own matplotlib renderer otherwise (``pip install matplotlib``): PNG, SVG, PDF or JPG.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

__all__ = ["plot_model", "model_to_dot"]

_RANKDIRS = ("TB", "LR")


# ------------------------------------------------------------------------------ the graph
def _layer_dtype(layer) -> str:
    for tensor in list(layer.parameters())[:1]:
        return str(tensor.dtype).replace("torch.", "")
    dtype = getattr(layer, "input_dtype", None) or getattr(layer, "dtype", None)
    return str(dtype).replace("torch.", "") if dtype is not None else "float32"


def _activation_name(layer) -> str | None:
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    name = getattr(activation, "__name__", None) or getattr(activation, "name", None) or type(activation).__name__
    return str(name)


def _graph(model, expand_nested: bool) -> tuple[list[dict], list[tuple[int, int]]]:
    """Boxes (``name``, ``type``, ``shape``, ``layer``) and arrows ``(from, to)``, in topological
    order; a nested Sequential becomes its chain of layers when ``expand_nested``."""
    from easynn.layers.summary import _fmt_shape, summary_rows

    layers = list(getattr(model, "layers", []))
    rows = summary_rows(model) if layers else []
    boxes = [{"name": getattr(layer, "name", type(layer).__name__), "type": type(layer).__name__,
              "shape": row[1], "layer": layer} for layer, row in zip(layers, rows)]
    connections_fn = getattr(model, "layer_connections", None)
    edges: list[tuple[int, int]] = []
    if callable(connections_fn):
        connections = connections_fn()
        index = {box["name"]: i for i, box in enumerate(boxes)}
        for i, layer in enumerate(layers):
            for ref in connections.get(id(layer), []):
                match = re.match(r"^(.*)\[\d+\]\[\d+\]$", ref)
                parent = index.get(match.group(1) if match else ref)
                if parent is not None and parent != i:
                    edges.append((parent, i))
    else:
        input_layer = getattr(model, "_input_layer", None)
        if input_layer is not None:  # Sequential: the Input is not in .layers, as in Keras
            boxes.insert(0, {"name": getattr(input_layer, "name", "input"), "type": "InputLayer",
                             "shape": _fmt_shape((None,) + tuple(input_layer.shape)), "layer": input_layer})
        edges = [(i, i + 1) for i in range(len(boxes) - 1)]
    if expand_nested:
        boxes, edges = _expand(boxes, edges)
    return boxes, edges


def _expand(boxes, edges):
    """Replace each nested model whose own graph is a chain by that chain."""
    out_boxes, out_edges, first, last = [], [], {}, {}
    for i, box in enumerate(boxes):
        inner = getattr(box["layer"], "layers", None)
        if inner and not callable(getattr(box["layer"], "layer_connections", None)):
            inner_boxes, _ = _graph(box["layer"], expand_nested=True)
            inner_boxes = [b for b in inner_boxes if b["type"] != "InputLayer"]
            start = len(out_boxes)
            for inner_box in inner_boxes:
                out_boxes.append(dict(inner_box, name=f"{box['name']}/{inner_box['name']}"))
            out_edges += [(start + k, start + k + 1) for k in range(len(inner_boxes) - 1)]
            first[i], last[i] = start, len(out_boxes) - 1
        else:
            out_boxes.append(box)
            first[i] = last[i] = len(out_boxes) - 1
    out_edges += [(last[p], first[c]) for p, c in edges]
    return out_boxes, sorted(set(out_edges))


def _labels(boxes, edges, show_shapes, show_dtype, show_layer_names, show_layer_activations,
            show_trainable) -> list[list[str]]:
    labels = []
    for i, box in enumerate(boxes):
        lines = [f"{box['name']} ({box['type']})" if show_layer_names else box["type"]]
        if show_shapes:
            inputs = [boxes[p]["shape"] for p, c in edges if c == i]
            if inputs:
                lines.append(f"Input shape: {', '.join(inputs)}")
            lines.append(f"Output shape: {box['shape']}")
        if show_dtype:
            lines.append(f"dtype: {_layer_dtype(box['layer'])}")
        if show_layer_activations:
            activation = _activation_name(box["layer"])
            if activation:
                lines.append(f"Activation: {activation}")
        if show_trainable and box["type"] != "InputLayer":
            lines.append(f"Trainable: {'Y' if getattr(box['layer'], 'trainable', True) else 'N'}")
        labels.append(lines)
    return labels


# ------------------------------------------------------------------------------ graphviz
def model_to_dot(model, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
                 show_layer_activations: bool = False, show_trainable: bool = False) -> str:
    """The model's graph in graphviz's DOT language (a string), as ``plot_model`` draws it."""
    rankdir = _check_rankdir(rankdir)
    boxes, edges = _graph(model, expand_nested)
    labels = _labels(boxes, edges, show_shapes, show_dtype, show_layer_names, show_layer_activations,
                     show_trainable)

    def quote(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"')

    lines = [f'digraph "{quote(str(getattr(model, "name", "model")))}" {{',
             f"  graph [rankdir={rankdir}, dpi={int(dpi)}, concentrate=true];",
             '  node [shape=box, style="rounded,filled", fillcolor="#dbe9f6", fontname="Helvetica", fontsize=11];']
    for i, (box, label) in enumerate(zip(boxes, labels)):
        fill = ', fillcolor="#eeeeee"' if box["type"] == "InputLayer" else ""
        lines.append(f'  n{i} [label="{quote(chr(10).join(label))}"{fill}];'.replace("\n", "\\n"))
    lines += [f"  n{p} -> n{c};" for p, c in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _check_rankdir(rankdir: str) -> str:
    if rankdir not in _RANKDIRS:
        raise ValueError(f"`rankdir` must be 'TB' (top to bottom) or 'LR' (left to right). Received: rankdir={rankdir!r}")
    return rankdir


# ------------------------------------------------------------------------------ matplotlib
def _draw(boxes, edges, labels, rankdir: str, dpi: int):
    from easynn.plot._figures import new_figure

    level = [0] * len(boxes)
    for parent, child in sorted(edges, key=lambda e: e[1]):  # boxes are in topological order
        level[child] = max(level[child], level[parent] + 1)
    depth = max(level) + 1
    rows: dict[int, list[int]] = {}
    for i, lv in enumerate(level):
        rows.setdefault(lv, []).append(i)
    widest = max(len(members) for members in rows.values())
    longest = max(len(line) for label in labels for line in label)
    tallest = max(len(label) for label in labels)
    box_w = max(1.6, 0.085 * longest + 0.3)  # inches, for 9-point text
    box_h = 0.15 * tallest + 0.22
    gap_along, gap_across = 0.45, 0.3
    if rankdir == "TB":
        size = (widest * (box_w + gap_across) + gap_across, depth * (box_h + gap_along) + gap_along)
    else:
        size = (depth * (box_w + gap_along) + gap_along, widest * (box_h + gap_across) + gap_across)
    fig = new_figure(size, dpi)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, size[0])
    ax.set_ylim(size[1], 0.0)  # y grows downwards, like a page
    ax.axis("off")
    centre = {}
    for lv, members in rows.items():
        for k, i in enumerate(members):
            across = (k + 0.5) * (size[0] if rankdir == "TB" else size[1]) / len(members)
            if rankdir == "TB":
                centre[i] = (across, gap_along + lv * (box_h + gap_along) + box_h / 2)
            else:
                centre[i] = (gap_along + lv * (box_w + gap_along) + box_w / 2, across)
    from matplotlib.patches import FancyBboxPatch

    for i, label in enumerate(labels):
        cx, cy = centre[i]
        input_like = boxes[i]["type"] == "InputLayer"
        ax.add_patch(FancyBboxPatch((cx - box_w / 2, cy - box_h / 2), box_w, box_h,
                                    boxstyle="round,pad=0.0,rounding_size=0.08",
                                    facecolor="#eeeeee" if input_like else "#dbe9f6", edgecolor="0.3"))
        ax.text(cx, cy - box_h / 2 + 0.12, label[0], ha="center", va="top", fontsize=9, fontweight="bold")
        if len(label) > 1:
            ax.text(cx, cy - box_h / 2 + 0.3, "\n".join(label[1:]), ha="center", va="top", fontsize=8,
                    linespacing=1.25)
    for parent, child in edges:
        (x0, y0), (x1, y1) = centre[parent], centre[child]
        if rankdir == "TB":
            start, end = (x0, y0 + box_h / 2), (x1, y1 - box_h / 2)
        else:
            start, end = (x0 + box_w / 2, y0), (x1 - box_w / 2, y1)
        ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": "0.3", "lw": 1.0})
    return fig


# ------------------------------------------------------------------------------ public
def plot_model(model, to_file: str = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, renderer: str = "auto"):
    """Draw the model's layer graph to ``to_file``, as ``keras.utils.plot_model``.

    Args:
        model: an easynn model (built, so that output shapes are known).
        to_file: the image to write; its extension picks the format (``.png``, ``.svg``,
            ``.pdf``, ``.jpg``).
        show_shapes: show each layer's input and output shapes.
        show_dtype: show each layer's dtype.
        show_layer_names: show ``name (Type)`` rather than the type alone.
        rankdir: ``"TB"`` draws top to bottom, ``"LR"`` left to right.
        expand_nested: draw the layers of nested Sequential models instead of one box.
        dpi: dots per inch of raster images.
        show_layer_activations: show the activation of layers that have one.
        show_trainable: show whether each layer is trainable.
        renderer: ``"auto"`` (graphviz when its ``dot`` program is installed, else matplotlib),
            ``"graphviz"`` or ``"matplotlib"``.

    Returns:
        An ``IPython.display.Image`` of a PNG when IPython is installed (for notebooks), else
        ``None``.

    Raises:
        ValueError: for a bad ``rankdir`` or ``renderer``, or a model without layers.
        ImportError: when matplotlib is needed and missing (``pip install matplotlib``).
        RuntimeError: when ``renderer="graphviz"`` and ``dot`` is not installed or fails.

    Example:
        >>> import easynn, tempfile, os
        >>> net = easynn.Sequential([easynn.Input(shape=(3,)), easynn.layers.Dense(2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "net.png")
        >>> _ = plot_model(net, to_file=path, show_shapes=True, renderer="matplotlib", dpi=50)
        >>> os.path.getsize(path) > 0
        True
    """
    rankdir = _check_rankdir(rankdir)
    if renderer not in ("auto", "graphviz", "matplotlib"):
        raise ValueError(f"`renderer` must be 'auto', 'graphviz' or 'matplotlib'. Received: renderer={renderer!r}")
    boxes, edges = _graph(model, expand_nested)
    if not boxes:
        raise ValueError(f"Model '{getattr(model, 'name', model)}' has no layers to draw.")
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1].lstrip(".").lower() or "png"
    dot = shutil.which("dot")
    if renderer == "graphviz" or (renderer == "auto" and dot):
        if not dot:
            raise RuntimeError("renderer='graphviz' needs graphviz's `dot` program, which was not found. "
                               "Install graphviz (apt install graphviz / brew install graphviz) or use "
                               "renderer='matplotlib'.")
        source = model_to_dot(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
                              show_layer_activations, show_trainable)
        _write_with_dot(dot, source, to_file, extension)
    else:
        labels = _labels(boxes, edges, show_shapes, show_dtype, show_layer_names, show_layer_activations,
                         show_trainable)
        fig = _draw(boxes, edges, labels, rankdir, dpi)
        from easynn.plot._figures import save_figure

        save_figure(fig, to_file, dpi, extension)
    if extension != "png":
        return None
    try:
        from IPython.display import Image
    except ImportError:
        return None
    return Image(filename=to_file)


def _write_with_dot(dot: str, source: str, to_file: str, extension: str) -> None:
    folder = os.path.dirname(os.path.abspath(to_file))
    os.makedirs(folder, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=".plot_model_", suffix="." + extension, dir=folder)
    os.close(handle)
    try:
        result = subprocess.run([dot, f"-T{extension}", "-o", partial], input=source.encode("utf-8"),
                                capture_output=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"graphviz's dot failed to write {to_file}: "
                               f"{result.stderr.decode('utf-8', 'replace').strip()}")
        os.replace(partial, to_file)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
