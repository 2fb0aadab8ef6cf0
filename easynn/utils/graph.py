"""The computation graph as the lecture draws it: steps ``h1 ... hn`` with local derivatives.

``trace_graph(fn, *inputs)`` runs ``fn`` once on scalar inputs, walks the backward graph autograd
recorded (``grad_fn.next_functions``), and gives every step its local derivatives -- found by
calling that step's own backward on a unit gradient, exactly what the chain rule multiplies.
The gradient of the output with respect to an input is then the lecture's rule: the product of
the local derivatives along a path, summed over all paths from the output to the input.

A step is one torch call as written in ``fn`` (``1 / h5`` is one step even though torch records
it as a reciprocal and a multiplication); easynn's activation Functions (``activations.sigmoid``)
are one step each, with the derivative their hand-written backward computes.

Example:
    >>> import torch
    >>> def f(x, w, b):  # the lecture's f(x; w, b) = 1 / (exp(-(wx + b)) + 1)
    ...     h1 = x * w
    ...     h2 = h1 + b
    ...     h3 = -h2
    ...     h4 = torch.exp(h3)
    ...     h5 = h4 + 1
    ...     return 1 / h5
    >>> graph = trace_graph(f, 1.0, 0.0, 0.0)
    >>> print(graph.chain("w"))
    ∂f/∂w = ∂f/∂h6 · ∂h6/∂h5 · ∂h5/∂h4 · ∂h4/∂h3 · ∂h3/∂h2 · ∂h2/∂h1 · ∂h1/∂w
          = 1 × -0.25 × 1 × 1 × -1 × 1 × 1
          = 0.25
    >>> graph.gradient("w"), graph.autograd["w"]
    (0.25, 0.25)
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["ComputationGraph", "GraphStep", "trace_graph"]

# How a recorded torch call is written back: binary operators, reflected ones, unary minus.
_BINARY = {"mul": "*", "add": "+", "sub": "-", "div": "/", "true_divide": "/", "pow": "**", "matmul": "@",
           "__mul__": "*", "__add__": "+", "__sub__": "-", "__truediv__": "/", "__div__": "/", "__pow__": "**",
           "__matmul__": "@"}
_REFLECTED = {"__rmul__": "*", "__radd__": "+", "__rsub__": "-", "__rtruediv__": "/", "__rdiv__": "/",
              "__rpow__": "**", "__rmatmul__": "@"}
_UNARY_MINUS = {"neg", "negative", "__neg__"}


def _num(value: float) -> str:
    value = float(value) + 0.0  # -0.0 prints as 0
    return f"{value:.4g}"


@dataclass
class GraphStep:
    """One step ``h_k = op(inputs)`` of a computation graph.

    Attributes:
        name: ``"h1"``, ``"h2"``, ... in the order the steps were computed.
        expression: how the step reads, e.g. ``"x * w"`` or ``"sigmoid(h2)"``.
        value: the step's value in this run (``None`` when it could not be seen).
        local: ``{input name: ∂(this step)/∂(input)}`` for each input that needs a gradient.
    """

    name: str
    expression: str
    value: float | None
    local: dict[str, float] = field(default_factory=dict)


class _Recorder(TorchFunctionMode):
    """Remembers every torch call made while active: function, arguments, result."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[Any, tuple, dict, Any]] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        self.calls.append((func, tuple(args), dict(kwargs), out))
        return out


def _tensors(obj) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _tensors(item)]
    return []


def _node_label(node) -> str:
    """``_SigmoidFunctionBackward`` -> ``sigmoid``, ``ExpBackward0`` -> ``exp``."""
    name = re.sub(r"Backward\d*$", "", type(node).__name__).lstrip("_")
    name = re.sub(r"Function$", "", name)
    return name.lower() or type(node).__name__


def _is_leaf_node(node) -> bool:
    return hasattr(node, "variable")


def _order(node) -> int:
    seq = getattr(node, "_sequence_nr", None)
    return seq() if callable(seq) else 0


def _call_node(node, grad: torch.Tensor) -> tuple:
    """One backward node applied to ``grad``: the gradients it sends to each of its inputs."""
    out = node(grad) if callable(node) else node.apply(grad)
    return out if isinstance(out, tuple) else (out,)


def _unit_grad(node) -> torch.Tensor:
    metadata = getattr(node, "_input_metadata", None)
    if metadata is None:
        return torch.ones(())
    if len(metadata) != 1:
        raise ValueError(
            f"trace_graph supports operations with one output; '{_node_label(node)}' has {len(metadata)}."
        )
    shape = tuple(metadata[0].shape)
    numel = 1
    for s in shape:
        numel *= s
    if numel != 1:
        raise ValueError(
            "trace_graph draws scalar computation graphs, as in the lecture; "
            f"operation '{_node_label(node)}' produced a tensor of shape {shape}."
        )
    return torch.ones(shape, dtype=metadata[0].dtype, device=metadata[0].device)


class ComputationGraph:
    """The traced graph: steps in computation order, the output, and gradients by paths.

    Attributes:
        inputs: ``{name: value}`` of the function's inputs.
        steps: the ``GraphStep`` list, ``h1`` first.
        output: the name of the step (or input) that is ``f``.
        value: ``f``'s value.
        autograd: ``{input name: df/d(input)}`` computed by ``torch.autograd.grad``, to compare.
    """

    def __init__(self, fn_name: str, inputs: dict[str, float], steps: list[GraphStep], output: str,
                 value: float, autograd: dict[str, float]) -> None:
        self.fn_name = fn_name
        self.inputs = inputs
        self.steps = steps
        self.output = output
        self.value = value
        self.autograd = autograd
        self._by_name = {step.name: step for step in steps}

    def _check(self, wrt: str) -> str:
        if wrt not in self.inputs:
            raise ValueError(f"`wrt` must name an input of the function, one of {list(self.inputs)}. Received: wrt={wrt!r}")
        return wrt

    def paths(self, wrt: str) -> list[list[tuple[str, str, float]]]:
        """Every path from ``f`` down to input ``wrt``, as ``(upper, lower, ∂upper/∂lower)`` edges.

        The first edge is always ``("f", output, 1.0)``.

        Raises:
            ValueError: if ``wrt`` is not an input name.
        """
        self._check(wrt)
        found: list[list[tuple[str, str, float]]] = []

        def walk(name: str, path: list[tuple[str, str, float]]) -> None:
            if name == wrt:
                found.append(path)
                return
            step = self._by_name.get(name)
            if step is None:
                return
            for lower, local in step.local.items():
                walk(lower, path + [(name, lower, local)])

        walk(self.output, [("f", self.output, 1.0)])
        return found

    def gradient(self, wrt: str) -> float:
        """``∂f/∂wrt``: the product of local derivatives along each path, summed over the paths.

        Computed by accumulating from the output down (each step's total derivative times its local
        derivatives), which is the sum over paths without listing them one by one.

        Raises:
            ValueError: if ``wrt`` is not an input name.
        """
        self._check(wrt)
        total: dict[str, float] = {self.output: 1.0}
        for step in reversed(self.steps):
            upstream = total.get(step.name, 0.0)
            for lower, local in step.local.items():
                total[lower] = total.get(lower, 0.0) + upstream * local
        return total.get(wrt, 0.0) + 0.0

    def chain(self, wrt: str) -> str:
        """The lecture's chain-rule line(s) for ``∂f/∂wrt``: symbols, numbers, product (and sum).

        Raises:
            ValueError: if ``wrt`` is not an input name.
        """
        paths = self.paths(wrt)
        head = f"∂f/∂{wrt} = "
        pad = " " * (len(head) - 2) + "= "
        if not paths:
            return f"{head}0  (f does not depend on {wrt})"
        lines = []
        for index, path in enumerate(paths):
            symbols = " · ".join(f"∂{u}/∂{lo}" for u, lo, _ in path)
            numbers = " × ".join(_num(v) for _, _, v in path)
            product = 1.0
            for _, _, v in path:
                product *= v
            prefix = head if index == 0 else " " * (len(head) - 2) + "+ "
            if len(paths) == 1:
                lines += [prefix + symbols, pad + numbers, pad + _num(product)]
            else:
                lines.append(f"{prefix}{symbols}    [{numbers} = {_num(product)}]")
        if len(paths) > 1:
            lines.append(pad + _num(self.gradient(wrt)) + f"   (sum over {len(paths)} paths)")
        return "\n".join(lines)

    def __str__(self) -> str:
        args = ", ".join(f"{name}={_num(v)}" for name, v in self.inputs.items())
        lines = [f"{self.fn_name}({args}) = {_num(self.value)}"]
        width = max([len(s.expression) for s in self.steps] + [1])
        for step in self.steps:
            value = "?" if step.value is None else _num(step.value)
            locals_ = ", ".join(f"∂{step.name}/∂{lo} = {_num(v)}" for lo, v in step.local.items())
            lines.append(f"  {step.name:>3} = {step.expression:<{width}}  = {value:<8}  {locals_}")
        lines.append(f"  {'f':>3} = {self.output}")
        for name in self.inputs:
            lines.append(self.chain(name) + f"   (autograd: {_num(self.autograd[name])})")
        return "\n".join(lines)

    __repr__ = __str__


def _input_names(fn: Callable, count: int, names) -> list[str]:
    if names is not None:
        names = list(names)
        if len(names) != count or not all(isinstance(n, str) and n for n in names) or len(set(names)) != count:
            raise ValueError(f"`names` must be {count} distinct non-empty strings, one per input. Received: names={names!r}")
        return names
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    if len(params) >= count:
        return [p.name for p in params[:count]]
    return [f"x{i + 1}" for i in range(count)]


def _as_leaf(name: str, value: Any) -> torch.Tensor:
    if isinstance(value, bool) or not isinstance(value, (int, float, torch.Tensor)):
        raise TypeError(f"Input '{name}' must be a number or a scalar tensor. Received: {value!r}")
    tensor = value.detach().clone() if isinstance(value, torch.Tensor) else torch.tensor(float(value))
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    if tensor.numel() != 1:
        raise ValueError(
            f"trace_graph draws scalar computation graphs: input '{name}' must be a scalar. "
            f"Received shape {tuple(tensor.shape)}."
        )
    return tensor.requires_grad_(True)


def trace_graph(fn: Callable[..., torch.Tensor], *inputs: Any, names=None) -> ComputationGraph:
    """Trace ``fn(*inputs)`` into the lecture's computation graph with local derivatives.

    Each input becomes a fresh scalar leaf that requires a gradient; ``fn`` runs once while every
    torch call is recorded; the backward graph is then walked from the output. For each step the
    local derivatives ``∂h_k/∂(input)`` come from calling the step's backward node(s) on a unit
    gradient. ``graph.gradient(name)`` sums the products of local derivatives over all paths
    (the lecture's multi-path rule); ``graph.autograd`` holds autograd's own answer to compare.

    Args:
        fn: a function of scalar tensors returning a scalar tensor, written with torch operations
            or easynn functions.
        *inputs: numbers or one-element tensors, one per parameter of ``fn``.
        names: the inputs' names; by default the parameter names of ``fn``.

    Returns:
        A ``ComputationGraph``; printing it shows the steps, the local derivatives and the chain
        of products for every input.

    Raises:
        TypeError: if an input is not a number or tensor, or ``fn`` does not return a tensor.
        ValueError: for non-scalar inputs, outputs or intermediate values, or bad ``names``.

    Example:
        >>> from easynn import activations
        >>> g = trace_graph(lambda z: activations.sigmoid(z), 0.0)
        >>> g.steps[0].expression, g.steps[0].local
        ('sigmoid(z)', {'z': 0.25})
    """
    if not callable(fn):
        raise TypeError(f"`fn` must be callable. Received: fn={fn!r}")
    arg_names = _input_names(fn, len(inputs), names)
    leaves = [_as_leaf(name, value) for name, value in zip(arg_names, inputs)]
    recorder = _Recorder()
    with recorder:
        out = fn(*leaves)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"`fn` must return a tensor. Received: {type(out).__name__}")
    if out.numel() != 1:
        raise ValueError(f"trace_graph needs a scalar output. Received shape {tuple(out.shape)}.")
    leaf_names = {id(t): name for t, name in zip(leaves, arg_names)}
    if not out.requires_grad:
        return ComputationGraph(getattr(fn, "__name__", "f"), {n: float(t.detach()) for n, t in zip(arg_names, leaves)},
                                [], "?", float(out), {n: 0.0 for n in arg_names})

    # Every tensor seen, by the node that produced it (for values), and each recorded call's head.
    tensor_of: dict[Any, torch.Tensor] = {}
    call_of: dict[Any, tuple] = {}
    for func, args, kwargs, result in recorder.calls:
        for t in _tensors(args) + _tensors(kwargs) + _tensors(result):
            if t.grad_fn is not None:
                tensor_of.setdefault(t.grad_fn, t)
        if isinstance(result, torch.Tensor) and result.grad_fn is not None:
            call_of.setdefault(result.grad_fn, (func, args, kwargs))
    if out.grad_fn is not None:
        tensor_of[out.grad_fn] = out

    # All nodes of the backward graph.
    nodes: list = []
    seen: set = set()
    stack = [out.grad_fn] if out.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None)

    # Group the nodes a single torch call created (e.g. 1/h -> reciprocal, mul) under that call.
    owner: dict[Any, Any] = {}
    for head, (_, args, kwargs) in call_of.items():
        if head not in seen:
            continue
        stops = {t.grad_fn for t in _tensors(args) + _tensors(kwargs) if t.grad_fn is not None}
        stack = [head]
        while stack:
            node = stack.pop()
            if node in owner or _is_leaf_node(node) or (node is not head and (node in stops or node in call_of)):
                continue
            owner[node] = head
            stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None)
    for node in nodes:  # nodes no recorded call claims (custom Functions) are their own step
        if not _is_leaf_node(node) and node not in owner:
            owner[node] = node
    heads = sorted({h for h in owner.values()}, key=_order)
    step_names = {head: f"h{i + 1}" for i, head in enumerate(heads)}

    def name_of(node) -> str:
        if _is_leaf_node(node):
            var = node.variable
            if id(var) not in leaf_names:
                leaf_names[id(var)] = f"p{len(leaf_names) - len(leaves) + 1}"
            return leaf_names[id(var)]
        return step_names[owner[node]]

    steps = []
    for head in heads:
        members = sorted((n for n, h in owner.items() if h is head), key=_order, reverse=True)
        pending = {head: _unit_grad(head)}
        local: dict[str, float] = {}
        with torch.no_grad():
            for node in members:
                grad = pending.pop(node, None)
                if grad is None:
                    continue
                for (nxt, _), g in zip(node.next_functions, _call_node(node, grad)):
                    if nxt is None or g is None:
                        continue
                    if not _is_leaf_node(nxt) and owner.get(nxt) is head:
                        pending[nxt] = g if nxt not in pending else pending[nxt] + g
                    else:
                        key = name_of(nxt)
                        local[key] = local.get(key, 0.0) + float(g.sum())
        value = tensor_of.get(head)
        steps.append(GraphStep(step_names[head], "", None if value is None else float(value.detach()), local))

    def describe(obj) -> str:
        if isinstance(obj, torch.Tensor):
            if id(obj) in leaf_names:
                return leaf_names[id(obj)]
            if obj.grad_fn is not None and obj.grad_fn in owner:
                return step_names[owner[obj.grad_fn]]
            return _num(obj) if obj.numel() == 1 else f"tensor{tuple(obj.shape)}"
        return _num(obj) if isinstance(obj, (int, float)) and not isinstance(obj, bool) else repr(obj)

    for head, step in zip(heads, steps):
        if head in call_of:
            func, args, kwargs = call_of[head]
            op = getattr(func, "__name__", str(func))
            words = [describe(a) for a in args]
            if op in _BINARY and len(words) == 2 and not kwargs:
                step.expression = f"{words[0]} {_BINARY[op]} {words[1]}"
            elif op in _REFLECTED and len(words) == 2:
                step.expression = f"{words[1]} {_REFLECTED[op]} {words[0]}"
            elif op in _UNARY_MINUS and len(words) == 1:
                step.expression = f"-{words[0]}"
            else:
                words += [f"{k}={describe(v)}" for k, v in kwargs.items()]
                step.expression = f"{op.strip('_')}({', '.join(words)})"
        else:
            step.expression = f"{_node_label(head)}({', '.join(step.local)})"

    grads = torch.autograd.grad(out, leaves, allow_unused=True)
    autograd = {name: (0.0 if g is None else float(g) + 0.0) for name, g in zip(arg_names, grads)}
    output = step_names[owner[out.grad_fn]] if out.grad_fn is not None else leaf_names[id(out)]
    return ComputationGraph(getattr(fn, "__name__", "f").replace("<lambda>", "f"),
                            {n: float(t.detach()) for n, t in zip(arg_names, leaves)}, steps, output, float(out.detach()), autograd)
