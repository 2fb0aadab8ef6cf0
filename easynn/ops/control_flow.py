"""Control flow of ``keras.ops``: ``cond``, ``switch``, ``while_loop``, ``fori_loop``, ``map``, ``scan``,
``associative_scan`` and ``vectorized_map`` (re-exported by ``easynn.ops.core``, where Keras lists them).

Everything runs eagerly in Python, which is what Keras's torch backend does too: a predicate is
read on the host, and loops are Python loops over the first axis. Loop variables and scanned
inputs may be nested lists, tuples and dicts of tensors; stacked outputs keep that structure.

Example:
    >>> import torch
    >>> from easynn.ops import control_flow
    >>> control_flow.fori_loop(0, 3, lambda i, x: x * 2, torch.tensor(1.0))
    tensor(8.)
    >>> control_flow.map(lambda d: d["a"] + d["b"], {"a": torch.tensor([1, 2]), "b": torch.tensor([10, 20])})
    tensor([11, 22])
"""

from __future__ import annotations

import builtins
from typing import Any, Callable

import torch

from easynn.ops._convert import tensor

__all__ = ["cond", "switch", "while_loop", "fori_loop", "map", "scan", "associative_scan", "vectorized_map"]


def cond(pred: Any, true_fn: Callable, false_fn: Callable) -> Any:
    """``true_fn()`` if ``pred`` is true, else ``false_fn()``.

    Example:
        >>> cond(torch.tensor(1 > 0), lambda: "yes", lambda: "no")
        'yes'
    """
    return true_fn() if builtins.bool(pred) else false_fn()


def switch(index: Any, branches: list, *operands: Any) -> Any:
    """``branches[index](*operands)``, with ``index`` clamped to the valid range (as Keras does).

    Example:
        >>> switch(5, [lambda x: x + 1, lambda x: x * 10], 2)
        20
    """
    if not branches:
        raise ValueError("switch(): `branches` must be a non-empty list of callables.")
    position = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    return branches[position](*operands)


def _tuple_vars(loop_vars: Any) -> tuple[tuple, bool]:
    if isinstance(loop_vars, (list, tuple)):
        return tuple(loop_vars), True
    return (loop_vars,), False


def while_loop(cond: Callable, body: Callable, loop_vars: Any, maximum_iterations: int | None = None) -> Any:
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``.

    Args:
        cond: the predicate, called with the loop variables.
        body: returns the new loop variables (same structure).
        loop_vars: a tensor, or a tuple/list of them.
        maximum_iterations: stop after this many iterations.

    Returns:
        The final loop variables, in the structure of ``loop_vars``.

    Example:
        >>> while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (0, 0))
        (4, 6)
    """
    values, is_sequence = _tuple_vars(loop_vars)
    steps = 0
    while builtins.bool(cond(*values)) and (maximum_iterations is None or steps < maximum_iterations):
        result = body(*values)
        values = tuple(result) if isinstance(result, (list, tuple)) else (result,)
        steps += 1
    if not is_sequence:
        return values[0]
    return type(loop_vars)(values) if isinstance(loop_vars, list) else values


def fori_loop(lower: int, upper: int, body_fun: Callable, init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``.

    Example:
        >>> fori_loop(0, 4, lambda i, total: total + i, 0)
        6
    """
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def _stack_tree(items: list) -> Any:
    first = items[0]
    if isinstance(first, (list, tuple)):
        return type(first)(_stack_tree([item[i] for item in items]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: _stack_tree([item[key] for item in items]) for key in first}
    return torch.stack([tensor(item) for item in items])


def _index_tree(tree: Any, i: int) -> Any:
    if isinstance(tree, (list, tuple)):
        return type(tree)(_index_tree(t, i) for t in tree)
    if isinstance(tree, dict):
        return {key: _index_tree(value, i) for key, value in tree.items()}
    return tree[i]


def _leading(tree: Any) -> int:
    if isinstance(tree, (list, tuple)):
        return _leading(tree[0])
    if isinstance(tree, dict):
        return _leading(next(iter(tree.values())))
    return int(tensor(tree).shape[0])


def map(f: Callable, xs: Any) -> Any:  # noqa: A001 - Keras's name
    """``f`` applied to each slice of ``xs`` along the first axis, the results stacked.

    Example:
        >>> map(lambda row: row.sum(), torch.tensor([[1, 2], [3, 4]]))
        tensor([3, 7])
    """
    count = _leading(xs)
    if count == 0:
        raise ValueError("map(): `xs` has no elements along its first axis.")
    return _stack_tree([f(_index_tree(xs, i)) for i in range(count)])


def scan(f: Callable, init: Any, xs: Any = None, length: int | None = None, reverse: bool = False,
         unroll: int = 1) -> tuple[Any, Any]:
    """Loop ``carry, y = f(carry, x)`` over the first axis of ``xs``; return the last carry and the stacked ``y``.

    Args:
        f: ``(carry, x) -> (carry, y)``.
        init: the first carry.
        xs: what to scan over (``None`` with ``length`` gives ``x=None`` each step).
        length: the number of steps when ``xs`` is ``None``.
        reverse: scan from the end (the outputs keep the input order).
        unroll: accepted for Keras compatibility.

    Example:
        >>> carry, ys = scan(lambda c, x: (c + x, c * x), 0, torch.tensor([1, 2, 3]))
        >>> int(carry), ys.tolist()
        (6, [0, 2, 9])
    """
    if xs is None:
        if length is None:
            raise ValueError("scan(): pass `xs` or `length`.")
        count = int(length)
    else:
        count = _leading(xs)
    order = range(count - 1, -1, -1) if reverse else range(count)
    carry, ys = init, [None] * count
    for i in order:
        carry, ys[i] = f(carry, None if xs is None else _index_tree(xs, i))
    stacked = None if count == 0 or ys[0] is None else _stack_tree(ys)
    return carry, stacked


def associative_scan(f: Callable, elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """Inclusive scan with an associative ``f``: ``out[i] = f(out[i-1], elems[i])``.

    Example:
        >>> associative_scan(lambda a, b: a + b, torch.tensor([1, 2, 3, 4]))
        tensor([ 1,  3,  6, 10])
    """
    x = tensor(elems)
    items = list(x.movedim(axis, 0).unbind(0))
    if reverse:
        items = items[::-1]
    out = [items[0]]
    for item in items[1:]:
        out.append(f(out[-1], item))
    if reverse:
        out = out[::-1]
    return torch.stack(out).movedim(0, axis)


def vectorized_map(function: Callable, elements: Any) -> Any:
    """``function`` applied to each slice of ``elements`` (first axis), vectorised with ``torch.vmap``.

    Falls back to a Python loop for functions ``vmap`` cannot trace (data-dependent control flow).

    Example:
        >>> vectorized_map(lambda v: v * 2, torch.tensor([[1, 2], [3, 4]]))
        tensor([[2, 4],
                [6, 8]])
    """
    try:
        return torch.vmap(function)(elements)
    except (RuntimeError, ValueError, TypeError):
        return map(function, elements)
