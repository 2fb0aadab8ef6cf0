"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts.

Keras's numbers, Keras's layout::

    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ dense (Dense)                   │ (None, 64)             │         6,464 │
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 6,464 (25.25 KB)
     Trainable params: 6,464 (25.25 KB)
     Non-trainable params: 0 (0.00 B)

Sizes are bytes of the weights' dtypes (1 KB = 1024 B). ``Optimizer params`` appears once the
optimizer has made its state, counted as Keras counts its optimizer variables: every slot tensor
(Adam's two moments, SGD's momentum...) plus the iteration counter and the learning rate. As in
Keras, ``Total params`` includes them.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from typing import Callable, Sequence

import torch

__all__ = ["print_summary", "summary_rows", "readable_memory_size", "count_params"]

_UNICODE_BOX = {"top": "┏━┳┓", "head": "┃┃┃", "head_sep": "┡━╇┩", "row": "│││", "sep": "├─┼┤", "bottom": "└─┴┘"}
_ASCII_BOX = {"top": "+=++", "head": "|||", "head_sep": "+=++", "row": "|||", "sep": "+-++", "bottom": "+-++"}


# ------------------------------------------------------------------------------ numbers
def readable_memory_size(num_bytes: float) -> str:
    """``"25.25 KB"``: bytes in B, KB, MB, GB, TB with 1024 per step and two decimals.

    Example:
        >>> readable_memory_size(6464 * 4), readable_memory_size(0)
        ('25.25 KB', '0.00 B')
    """
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes < 1024 or unit == "TB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} PB"  # pragma: no cover - unreachable


def _unique(tensors) -> list:
    return list({id(t): t for t in tensors}.values())


def count_params(tensors) -> int:
    """The number of scalars in ``tensors`` (each tensor counted once)."""
    return int(sum(t.numel() for t in _unique(tensors)))


def _memory(tensors) -> int:
    return int(sum(t.numel() * t.element_size() for t in _unique(tensors)))


def _optimizer_state(model) -> tuple[int, int] | None:
    """(count, bytes) of the optimizer's variables as Keras counts them, or ``None`` before the
    optimizer is built."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(optimizer, "built", False):
        return None
    torch_opt = getattr(optimizer, "torch_optimizer", None)
    if torch_opt is None:
        return None
    slots = [value for state in torch_opt.state.values() for key, value in state.items()
             if isinstance(value, torch.Tensor) and key != "step"]  # torch's per-tensor step counters
    # + Keras's `iterations` (int64) and `learning_rate` (float32) variables
    return count_params(slots) + 2, _memory(slots) + 8 + 4


# ------------------------------------------------------------------------------ shapes
def _fmt_shape(shape) -> str:
    if isinstance(shape, list):
        return ", ".join(_fmt_shape(s) for s in shape)
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _graph_output_shapes(model) -> dict:
    """A functional model's output shapes, straight from its graph (unknown axes stay ``None``)."""
    shapes: dict = {}
    for layer in getattr(model, "layers", []):
        output = getattr(layer, "output", None)  # an InputLayer's symbolic tensor
        if output is not None and hasattr(output, "shape") and not isinstance(output, torch.Tensor):
            shapes[id(layer)] = tuple(output.shape)
    for node in getattr(model, "_nodes", []):
        outs = [tuple(t.shape) for t in node.outputs if hasattr(t, "shape")]
        if outs:
            shapes.setdefault(id(node.layer), outs[0] if len(outs) == 1 else outs)
    return shapes


def _input_dtype(model):
    layer = getattr(model, "_input_layer", None)
    return getattr(layer, "input_dtype", torch.float32)


def _probe_output_shapes(model) -> dict:
    """Each sublayer's output shape (at any depth), recorded by forward hooks during one probe
    forward pass on the shape the model was built with (batch axis ``None``)."""
    shapes: dict = {}
    input_shape = getattr(model, "_build_input_shape", None)
    if input_shape is None or not isinstance(input_shape, (tuple, list, torch.Size)):
        return shapes

    def record(layer, output):
        if isinstance(output, torch.Tensor):
            shapes[id(layer)] = (None,) + tuple(output.shape[1:])
        elif isinstance(output, (list, tuple)) and all(isinstance(o, torch.Tensor) for o in output):
            shapes[id(layer)] = [(None,) + tuple(o.shape[1:]) for o in output]

    hooks = [module.register_forward_hook(lambda m, args, out: record(m, out))
             for module in model.modules() if module is not model]
    try:
        from easynn.layers.symbolic import SymbolicTensor, _run_on_probes

        several = isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list))
        shape_list = input_shape if several else [input_shape]
        symbolic = [SymbolicTensor((None,) + tuple(s[1:]), dtype=_input_dtype(model)) for s in shape_list]
        _run_on_probes(model, symbolic if several else symbolic[0], {})
    except Exception:  # a summary must never fail because a probe could not run
        pass
    finally:
        for hook in hooks:
            hook.remove()
    return shapes


def _output_shapes(model) -> dict:
    if getattr(model, "_nodes", None):
        return _graph_output_shapes(model)
    return _probe_output_shapes(model)


# ------------------------------------------------------------------------------ rows
def _layer_params(layer) -> str:
    if getattr(layer, "built", True) is False and not any(True for _ in layer.parameters()):
        return "0 (unbuilt)"
    weights = getattr(layer, "weights", None)
    if weights is None:
        weights = list(layer.parameters()) + list(layer.buffers())
    return f"{count_params(weights):,}"


def _trainable_cell(layer) -> str:
    weights = getattr(layer, "weights", None)
    if weights is None:
        weights = list(layer.parameters())
    if not weights:
        return "-"
    return "Y" if getattr(layer, "trainable", True) else "N"


def _connections(model) -> dict:
    getter = getattr(model, "layer_connections", None)
    return getter() if callable(getter) else {}


def _sequential_like(model, connections: dict) -> bool:
    """A graph that is a plain chain (one input, no branch, no merge, no shared layer) is shown
    without the ``Connected to`` column, as Keras does."""
    if not connections:
        return True
    sources = []
    for refs in connections.values():
        real = [r for r in refs if r != "-"]
        if len(real) > 1:
            return False
        sources += [r.split("[")[0] for r in real]
    inputs = sum(1 for refs in connections.values() if refs == ["-"])
    return inputs <= 1 and len(sources) == len(set(sources))


def summary_rows(model, expand_nested: bool = False) -> list[tuple[str, str, str, str, str]]:
    """(``name (Type)``, output shape, params, connections, trainable) for each layer (and each
    nested layer, indented with ``└``, when ``expand_nested``)."""
    connections = _connections(model)
    rows: list = []

    def add(container, level: int, shapes: dict) -> None:
        for layer in getattr(container, "layers", []):
            name = getattr(layer, "name", type(layer).__name__)
            prefix = "   " * level + "└ " if level else ""
            shape = shapes.get(id(layer))
            if shape is None and getattr(layer, "built", True) is False:
                text_shape = "?"
            else:
                text_shape = _fmt_shape(shape)
            refs = connections.get(id(layer), []) if level == 0 else []
            rows.append((f"{prefix}{name} ({type(layer).__name__})", text_shape, _layer_params(layer),
                         ", ".join(refs) if refs else "-", _trainable_cell(layer)))
            if expand_nested and getattr(layer, "layers", None):
                nested_shapes = dict(shapes)
                if getattr(layer, "_nodes", None):
                    nested_shapes.update(_graph_output_shapes(layer))
                add(layer, level + 1, nested_shapes)

    add(model, 0, _output_shapes(model))
    return rows


def _layer_index_range(layers: list, layer_range) -> tuple[int, int]:
    if layer_range is None:
        return 0, len(layers)
    if not isinstance(layer_range, (list, tuple)) or len(layer_range) != 2 or not all(
            isinstance(r, str) for r in layer_range):
        raise ValueError(
            "`layer_range` must be a list or tuple of two layer names (or regular expressions). "
            f"Received: layer_range={layer_range!r}"
        )
    starts = [i for i, layer in enumerate(layers) if re.match(layer_range[0], getattr(layer, "name", ""))]
    ends = [i for i, layer in enumerate(layers) if re.match(layer_range[1], getattr(layer, "name", ""))]
    if not starts or not ends:
        raise ValueError(
            f"`layer_range` {list(layer_range)} matches no layer of the model. Its layers are: "
            f"{[getattr(layer, 'name', '?') for layer in layers]}."
        )
    low, high = min(starts), max(ends)
    return (min(ends), max(starts) + 1) if low > high else (low, high + 1)


# ------------------------------------------------------------------------------ the table
def _column_widths(line_length: int, positions: Sequence[float]) -> list[int]:
    positions = list(positions)
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    widths, current = [], 0
    for position in positions:
        width = int(position) - current
        if width < 4:
            raise ValueError(
                f"`line_length`={line_length} with `positions`={positions} leaves a column narrower than 4 "
                "characters. Give a larger line_length."
            )
        widths.append(width)
        current = int(position)
    return widths


def _render_table(headers, aligns, rows, widths, box) -> list[str]:
    inner = [w - 3 for w in widths[:-1]] + [widths[-1] - 4]

    def rule(kind: str) -> str:
        left, fill, cross, right = box[kind]
        return left + cross.join(fill * (w + 2) for w in inner) + right

    def cells(values, kind: str, align) -> list[str]:
        wrapped = [textwrap.wrap(v, w, break_on_hyphens=False) or [""] for v, w in zip(values, inner)]
        height = max(len(c) for c in wrapped)
        left, mid, right = box[kind]
        lines = []
        for i in range(height):
            parts = []
            for column, w, a in zip(wrapped, inner, align):
                text = column[i] if i < len(column) else ""
                parts.append(text.rjust(w) if a == "right" else text.center(w) if a == "center" else text.ljust(w))
            lines.append(left + " " + f" {mid} ".join(parts) + " " + right)
        return lines

    out = [rule("top")] + cells(headers, "head", aligns) + [rule("head_sep")]
    for index, row in enumerate(rows):
        if index:
            out.append(rule("sep"))
        out += cells(row, "row", aligns)
    out.append(rule("bottom"))
    return out


def _box_for(print_fn) -> dict:
    if print_fn is not None:
        return _UNICODE_BOX
    encoding = getattr(sys.stdout, "encoding", None)
    if encoding is None:
        return _UNICODE_BOX
    try:
        "┏━┳┓┃┡╇┩│├─┼┤└┴┘".encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return _ASCII_BOX
    return _UNICODE_BOX


def print_summary(model, line_length: int | None = None, positions: Sequence[float] | None = None,
                  print_fn: Callable[[str], None] | None = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range: Sequence[str] | None = None) -> None:
    """Print Keras's summary table with ``print_fn`` (``print`` by default), one line per call.

    Args:
        model: the model (Sequential, functional or subclassed).
        line_length: total width of the table; default 88 (108 with ``Connected to``), at most
            the terminal width minus 4.
        positions: right edges of the columns, as fractions of ``line_length`` (all <= 1) or
            absolute character positions; default ``[0.45, 0.80, 1.0]`` (``[0.3, 0.56, 0.74, 1.0]``
            with ``Connected to``).
        print_fn: called with each line; ``print`` by default.
        expand_nested: also list the layers inside nested models, indented with ``└``.
        show_trainable: add a ``Trainable`` column (``Y``, ``N``, or ``-`` for no weights).
        layer_range: two layer names (or regular expressions), the first and the last layer to
            list (inclusive); the totals still count the whole model.

    Raises:
        ValueError: for a bad ``layer_range`` or a ``line_length`` too small for the columns, or
            when a subclassed model is not built yet (its layers are unknown until it is called).
    """
    print_fn = print_fn or print
    is_sequential = getattr(model, "_stack", None) is not None  # a Sequential lists its layers unbuilt

    if not model.built and not is_sequential and not any(True for _ in model.parameters()):
        raise ValueError(
            "This model has not yet been built. Build it by calling it on data, by fitting it, or by "
            "starting it with easynn.Input(shape=...)."
        )
    rows = summary_rows(model, expand_nested=expand_nested)
    layers = list(getattr(model, "layers", []))
    if layer_range is not None:
        low, high = _layer_index_range(layers, layer_range)
        keep_names = {getattr(layer, "name", None) for layer in layers[low:high]}
        kept, keeping = [], False
        for row in rows:
            if not row[0].startswith(" "):  # a top-level row decides for its nested rows
                keeping = row[0].rsplit(" (", 1)[0] in keep_names
            if keeping:
                kept.append(row)
        rows = kept
    sequential_like = _sequential_like(model, _connections(model))
    headers = ["Layer (type)", "Output Shape", "Param #"]
    aligns = ["left", "left", "right"]
    default_length, default_positions = 88, [0.45, 0.80, 1.0]
    if not sequential_like:
        headers.append("Connected to")
        aligns.append("left")
        default_length, default_positions = 108, [0.3, 0.56, 0.74, 1.0]
    if show_trainable:
        headers.append("Trainable")
        aligns.append("center")
        default_length += 12
        default_positions = [p * 0.9 for p in default_positions] + [1.0]
    if line_length is None:
        line_length = min(default_length, shutil.get_terminal_size((default_length + 4, 24)).columns - 4)
    if positions is None:
        positions = default_positions
    if len(positions) != len(headers):
        raise ValueError(f"`positions` must have {len(headers)} entries (one per column: {headers}). "
                         f"Received: positions={list(positions)}")
    widths = _column_widths(line_length, positions)
    for i, header in enumerate(headers):  # a header is never cut: widen its column from the first
        need = len(header) + (4 if i == len(headers) - 1 else 3) - widths[i]
        if i and need > 0 and widths[0] - need >= 8:
            widths[i] += need
            widths[0] -= need
    table_rows = []
    for name, shape, params, connected, trainable in rows:
        row = [name, shape, params]
        if not sequential_like:
            row.append(connected)
        if show_trainable:
            row.append(trainable)
        table_rows.append(row)

    trainable_weights = _unique(model.trainable_weights)
    trainable_ids = {id(w) for w in trainable_weights}
    non_trainable = [w for w in _unique(model.weights) if id(w) not in trainable_ids]
    counts = {"Trainable": (count_params(trainable_weights), _memory(trainable_weights)),
              "Non-trainable": (count_params(non_trainable), _memory(non_trainable))}
    optimizer = _optimizer_state(model)
    total = (sum(c for c, _ in counts.values()) + (optimizer[0] if optimizer else 0),
             sum(b for _, b in counts.values()) + (optimizer[1] if optimizer else 0))

    print_fn(f'Model: "{model.name}"')
    for line in _render_table(headers, aligns, table_rows, widths, _box_for(print_fn)):
        print_fn(line)
    print_fn(f" Total params: {total[0]:,} ({readable_memory_size(total[1])})")
    for label, (count, size) in counts.items():
        print_fn(f" {label} params: {count:,} ({readable_memory_size(size)})")
    if optimizer:
        print_fn(f" Optimizer params: {optimizer[0]:,} ({readable_memory_size(optimizer[1])})")
