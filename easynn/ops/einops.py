"""``keras.ops.rearrange``: einops-style axis reordering, merging and splitting with a pattern string.

A pattern is ``"input axes -> output axes"``. Axes are names (``b``, ``h1``); parentheses group
axes into one dimension: on the left ``(h1 h)`` splits a dimension (give all but one length as a
keyword, e.g. ``h1=2``), on the right ``(b h)`` merges dimensions. Beyond Keras's documented forms,
``...`` stands for any number of untouched axes (on the right also inside parentheses, to merge
them) and ``()`` or ``1`` for an axis of length 1, as in einops. Every name must appear on both
sides. The work is one ``reshape``, one ``permute`` and one ``reshape``.

Example:
    >>> import torch
    >>> images = torch.zeros(2, 6, 4, 3)  # b h w c
    >>> rearrange(images, "b h w c -> b c h w").shape
    torch.Size([2, 3, 6, 4])
    >>> rearrange(images, "b (h1 h) (w1 w) c -> (b h1 w1) h w c", h1=2, w1=2).shape
    torch.Size([8, 3, 2, 3])
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch

from easynn.ops._convert import tensor as _as_tensor
from easynn.ops._dispatch import op

Tensor = torch.Tensor

__all__ = ["rearrange"]

_TOKEN = re.compile(r"\.\.\.|\(|\)|[A-Za-z_][A-Za-z0-9_]*|\d+|\S")
_ELLIPSIS = "..."


def _parse(side: str, text: str, pattern: str) -> list:
    """``text`` as a list of entries; an entry is a name, ``...``, or a list (a parenthesised group)."""
    entries: list = []
    group: list | None = None
    for token in _TOKEN.findall(text):
        if token == "(":
            if group is not None:
                raise ValueError(f"rearrange(): nested parentheses are not allowed. Received: pattern={pattern!r}")
            group = []
        elif token == ")":
            if group is None:
                raise ValueError(f"rearrange(): unbalanced ')' in the {side} side. Received: pattern={pattern!r}")
            entries.append(group)
            group = None
        elif token == "1":  # a unit axis; inside a group it changes nothing
            if group is None:
                entries.append([])
        elif token == _ELLIPSIS or token[0].isalpha() or token[0] == "_":
            (entries if group is None else group).append(token)
        else:
            raise ValueError(f"rearrange(): unexpected {token!r} in the {side} side; axes are names, '(...)' "
                             f"groups, '...' or '1'. Received: pattern={pattern!r}")
    if group is not None:
        raise ValueError(f"rearrange(): unbalanced '(' in the {side} side. Received: pattern={pattern!r}")
    return entries


def _names(entries: list) -> list[str]:
    out: list[str] = []
    for entry in entries:
        out.extend(entry if isinstance(entry, list) else [entry])
    return out


def _check_sides(left: list, right: list, pattern: str) -> None:
    for side, entries in (("input", left), ("output", right)):
        names = _names(entries)
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"rearrange(): axes {repeated} appear twice in the {side} side. Received: "
                             f"pattern={pattern!r}")
    if any(isinstance(e, list) and _ELLIPSIS in e for e in left):
        raise ValueError(f"rearrange(): '...' cannot be split inside parentheses in the input side. "
                         f"Received: pattern={pattern!r}")
    only_left = sorted(set(_names(left)) - set(_names(right)))
    only_right = sorted(set(_names(right)) - set(_names(left)))
    if only_left or only_right:
        raise ValueError(f"rearrange(): every axis must appear on both sides; only in the input: {only_left}, "
                         f"only in the output: {only_right}. Received: pattern={pattern!r}")


def _lengths(left: list, shape: tuple, axes_lengths: dict, pattern: str) -> tuple[dict, list]:
    """Length of every named axis, and the names of the axes hidden by ``...``."""
    dims = len(shape)
    has_ellipsis = _ELLIPSIS in left
    if (len(left) - 1 > dims) if has_ellipsis else (len(left) != dims):
        raise ValueError(f"rearrange(): the input side has {len(left)} entries but the tensor has {dims} "
                         f"dimensions (shape {shape}). Received: pattern={pattern!r}")
    hidden = [f"...{i}" for i in range(dims - len(left) + 1)] if has_ellipsis else []
    sizes: dict = {}
    position = 0
    for entry in left:
        if entry == _ELLIPSIS:
            for name in hidden:
                sizes[name] = shape[position]
                position += 1
            continue
        dim = shape[position]
        position += 1
        group = entry if isinstance(entry, list) else [entry]
        unknown = [n for n in group if n not in axes_lengths]
        known = math.prod(int(axes_lengths[n]) for n in group if n in axes_lengths)
        if len(unknown) > 1 and isinstance(entry, list):
            raise ValueError(f"rearrange(): cannot infer the lengths of {unknown} in ({' '.join(group)}); give "
                             f"all but one as keywords. Received: pattern={pattern!r}")
        if unknown:
            if known <= 0 or dim % known:
                raise ValueError(f"rearrange(): dimension {dim} cannot be split as ({' '.join(group)}) with "
                                 f"{ {n: axes_lengths[n] for n in group if n in axes_lengths} }. "
                                 f"Received: pattern={pattern!r}")
            sizes[unknown[0]] = dim // known
        elif known != dim:
            raise ValueError(f"rearrange(): dimension {dim} does not match ({' '.join(group)}) of length {known}. "
                             f"Received: pattern={pattern!r}, axes_lengths={axes_lengths}")
        for n in group:
            if n in axes_lengths:
                sizes[n] = int(axes_lengths[n])
    return sizes, hidden


@op
def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> Tensor:
    """Reorder, merge and split axes as an einops pattern says (see the module docstring for the grammar).

    Formula: ``reshape(permute(reshape(tensor, input elementary axes), output order), output groups)``:
    the input is split into its elementary axes (the names inside groups), those are permuted into
    the output order, and consecutive output names in a group are merged.

    Args:
        tensor: the input tensor.
        pattern: ``"in -> out"``, e.g. ``"b h w c -> b (h w) c"``.
        **axes_lengths: lengths of axes that a group on the input side splits (all but one per group).

    Returns:
        The rearranged tensor (same dtype and values).

    Raises:
        ValueError: a malformed pattern, an axis on one side only, a dimension count or length that
            does not fit, or a keyword length that the pattern does not use.
        TypeError: ``pattern`` is not a string.

    Example:
        >>> x = torch.arange(6).reshape(2, 3)
        >>> rearrange(x, "a b -> b a").tolist(), rearrange(x, "a b -> (a b)").tolist()
        ([[0, 3], [1, 4], [2, 5]], [0, 1, 2, 3, 4, 5])
        >>> rearrange(torch.arange(6), "(a b) -> a b", a=3).shape
        torch.Size([3, 2])
    """
    x = _as_tensor(tensor)
    if not isinstance(pattern, str):
        raise TypeError(f"rearrange(): `pattern` must be a string such as 'b h w -> b (h w)'. "
                        f"Received: pattern={pattern!r}")
    if pattern.count("->") != 1:
        raise ValueError(f"rearrange(): `pattern` must have one '->' between the input and output axes. "
                         f"Received: pattern={pattern!r}")
    left_text, right_text = pattern.split("->")
    left, right = _parse("input", left_text, pattern), _parse("output", right_text, pattern)
    _check_sides(left, right, pattern)
    unused = sorted(set(axes_lengths) - set(_names(left)))
    if unused:
        raise ValueError(f"rearrange(): axis lengths {unused} are not axes of the input side. Received: "
                         f"pattern={pattern!r}, axes_lengths={axes_lengths}")
    for name, length in axes_lengths.items():
        if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
            raise ValueError(f"rearrange(): axis length `{name}` must be a positive integer. Received: "
                             f"{name}={length!r}")
    sizes, hidden = _lengths(left, tuple(x.shape), axes_lengths, pattern)

    def elementary(entries: list) -> list[str]:
        out: list[str] = []
        for name in _names(entries):
            out.extend(hidden if name == _ELLIPSIS else [name])
        return out

    source, target = elementary(left), elementary(right)
    x = x.reshape([sizes[n] for n in source])
    x = x.permute([source.index(n) for n in target])
    final: list[int] = []
    for entry in right:
        if entry == _ELLIPSIS:
            final.extend(sizes[n] for n in hidden)
        else:
            group = entry if isinstance(entry, list) else [entry]
            final.append(math.prod(sizes[n] for n in elementary(group)))
    return x.reshape(final)
