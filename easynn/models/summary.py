"""``model.summary()``: Keras's table of layers, output shapes and parameter counts."""

from __future__ import annotations

from typing import Callable

import torch

__all__ = ["print_summary", "summary_rows"]


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
        if output is not None and hasattr(output, "shape"):
            shapes[id(layer)] = tuple(output.shape)
    for node in getattr(model, "_nodes", []):
        outs = [tuple(t.shape) for t in node.outputs]
        shapes.setdefault(id(node.layer), outs[0] if len(outs) == 1 else outs)
    return shapes


def _output_shapes(model) -> dict:
    """Each layer's output shape: from the graph of a functional model, else recorded by forward
    hooks during one probe forward pass."""
    if getattr(model, "_nodes", None):
        return _graph_output_shapes(model)
    shapes: dict = {}
    input_shape = getattr(model, "_build_input_shape", None)
    if input_shape is None or not isinstance(input_shape, (tuple, list)):
        return shapes
    hooks = []
    for layer in getattr(model, "layers", []):
        def hook(module, args, output, layer=layer):
            shapes[id(layer)] = (None,) + tuple(output.shape[1:]) if isinstance(output, torch.Tensor) else [
                (None,) + tuple(o.shape[1:]) for o in output]
        hooks.append(layer.register_forward_hook(hook))
    try:
        from easynn.layers.symbolic import SymbolicTensor, _run_on_probes

        shape_list = input_shape if isinstance(input_shape, list) else [input_shape]
        symbolic = [SymbolicTensor((None,) + tuple(s[1:]), dtype=_input_dtype(model)) for s in shape_list]
        _run_on_probes(model, symbolic if isinstance(input_shape, list) else symbolic[0], {})
    except Exception:  # a summary must never fail because a probe could not run
        pass
    finally:
        for h in hooks:
            h.remove()
    return shapes


def _input_dtype(model):
    layer = getattr(model, "_input_layer", None)
    return getattr(layer, "input_dtype", torch.float32)


def summary_rows(model) -> list[tuple[str, str, int, str]]:
    """(``name (Type)``, output shape, parameter count, connections) for each layer."""
    shapes = _output_shapes(model)
    rows = []
    connections = getattr(model, "layer_connections", lambda: {})()
    for layer in getattr(model, "layers", []):
        name = getattr(layer, "name", type(layer).__name__)
        count = sum(w.numel() for w in getattr(layer, "weights", list(layer.parameters())))
        rows.append((f"{name} ({type(layer).__name__})", _fmt_shape(shapes.get(id(layer))), int(count),
                     ", ".join(connections.get(id(layer), []))))
    return rows


def print_summary(model, line_length: int | None = None, print_fn: Callable[[str], None] | None = None) -> None:
    """Print the summary table with ``print_fn`` (``print`` by default).

    Raises:
        ValueError: if the model is not built yet (its parameter counts are unknown).
    """
    print_fn = print_fn or print
    if not model.built and not any(True for _ in model.parameters()):
        raise ValueError(
            "This model has not yet been built. Build it by calling it on data, by fitting it, or by "
            "starting it with easynn.Input(shape=...)."
        )
    rows = summary_rows(model)
    show_connections = any(r[3] for r in rows)
    headers = ("Layer (type)", "Output Shape", "Param #") + (("Connected to",) if show_connections else ())
    table = [(r[0], r[1], f"{r[2]:,}") + ((r[3],) if show_connections else ()) for r in rows]
    widths = [max(len(h), *(len(row[i]) for row in table)) if table else len(h) for i, h in enumerate(headers)]
    total_width = line_length or (sum(widths) + 3 * (len(widths) - 1))
    line = lambda cells: "   ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    trainable = sum(w.numel() for w in model.trainable_weights)
    total = sum(w.numel() for w in model.weights)
    print_fn(f'Model: "{model.name}"')
    print_fn("=" * total_width)
    print_fn(line(headers))
    print_fn("=" * total_width)
    for row in table:
        print_fn(line(row))
    print_fn("=" * total_width)
    print_fn(f" Total params: {total:,}")
    print_fn(f" Trainable params: {trainable:,}")
    print_fn(f" Non-trainable params: {total - trainable:,}")
    optimizer = getattr(model, "optimizer", None)
    torch_opt = getattr(optimizer, "torch_optimizer", None)
    if torch_opt is not None and torch_opt.state:
        state = sum(v.numel() for s in torch_opt.state.values() for v in s.values() if isinstance(v, torch.Tensor))
        print_fn(f" Optimizer params: {state:,}")
