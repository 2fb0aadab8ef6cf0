"""Merge layers: combine a list of tensors into one (the joints of a functional graph).

``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum`` and ``Minimum`` work element-wise
and broadcast as PyTorch does (shapes are aligned on the right; a dimension of 1 stretches).
``Concatenate`` joins along ``axis``; the other dimensions must be equal.

Each layer takes **one list** of tensors, in Keras's style: ``Add()([a, b])``. Shapes are checked
when the layer is called, on symbolic tensors too, so a mismatch is reported while the model is
being written rather than in the middle of ``fit``.

Example:
    >>> import torch
    >>> Add()([torch.ones(2, 3), torch.ones(2, 3)])
    tensor([[2., 2., 2.],
            [2., 2., 2.]])
    >>> Concatenate()([torch.zeros(2, 3), torch.zeros(2, 4)]).shape
    torch.Size([2, 7])
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.layers.base import Layer

__all__ = [
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
]


def _fmt(shape) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _broadcast_shape(layer: str, shapes: list[tuple]) -> tuple:
    """The element-wise result shape, or a ValueError naming both offending shapes."""
    result: tuple = shapes[0]
    for shape in shapes[1:]:
        rank = max(len(result), len(shape))
        a = (1,) * (rank - len(result)) + tuple(result)
        b = (1,) * (rank - len(shape)) + tuple(shape)
        merged = []
        for da, db in zip(a, b):
            if da is None or db is None:  # unknown (the batch axis of a symbolic tensor)
                merged.append(db if da == 1 else da if db == 1 else (da if da is not None else db))
            elif da == db or db == 1:
                merged.append(da)
            elif da == 1:
                merged.append(db)
            else:
                raise ValueError(
                    f"Layer '{layer}' received inputs with incompatible shapes: "
                    f"{', '.join(_fmt(s) for s in shapes)}. Their shapes must be equal or broadcastable "
                    f"(each dimension equal, or 1); {_fmt(result)} and {_fmt(shape)} are not."
                )
        result = tuple(merged)
    return result


def _step_mask(x: torch.Tensor) -> torch.Tensor | None:
    """``x``'s ``(batch, steps)`` mask widened to ``x``'s shape, or ``None``."""
    mask = getattr(x, "_keras_mask", None)
    if mask is None:
        return None
    mask = mask.bool()
    while mask.dim() < x.dim():
        mask = mask.unsqueeze(-1)
    return mask.expand(x.shape)


def _masked_extremum(tensors: list[torch.Tensor], op) -> torch.Tensor:
    """Keras 3's masked ``Maximum``/``Minimum``: a masked entry takes the other input's value (the
    op has no identity element); when every input is masked the output mask is their OR."""
    out, out_mask = tensors[0], _step_mask(tensors[0])
    for x in tensors[1:]:
        mask = _step_mask(x)
        if mask is not None:
            x = torch.where(mask, x, out)
        if out_mask is not None:
            out = torch.where(out_mask, out, x)
        out_mask = out_mask | mask if mask is not None and out_mask is not None else None
        out = op(out, x)
    if out_mask is not None:
        out._keras_mask = out_mask.any(dim=-1)
    return out


class _Merge(Layer):
    """Base class: validates that the input is a list of tensors with compatible shapes.

    Subclasses implement ``_merge(tensors)`` and may override ``_check_shapes``.
    """

    _min_inputs = 1
    _exact_inputs: int | None = None
    supports_masking = True  # the output mask is compute_mask's combination of the input masks

    def __call__(self, *args, **kwargs):
        inputs = args[0] if args else kwargs.get("inputs")
        self._check_inputs(inputs)
        return super().__call__(*args, **kwargs)

    def _check_inputs(self, inputs) -> None:
        kind = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A `{kind}` layer should be called on a list of tensors, e.g. {kind}()([a, b]). "
                f"Received: inputs={inputs!r} (not a list)."
            )
        if self._exact_inputs is not None and len(inputs) != self._exact_inputs:
            raise ValueError(
                f"A `{kind}` layer should be called on exactly {self._exact_inputs} inputs. "
                f"Received {len(inputs)} inputs."
            )
        if len(inputs) < self._min_inputs:
            raise ValueError(
                f"A `{kind}` layer should be called on a list of at least {self._min_inputs} input(s). "
                f"Received {len(inputs)} inputs."
            )
        for index, tensor in enumerate(inputs):
            if not hasattr(tensor, "shape"):
                raise TypeError(
                    f"Input {index} of layer '{self.name}' is not a tensor. Received: {tensor!r} "
                    f"of type {type(tensor).__name__}."
                )
        self._check_shapes([tuple(t.shape) for t in inputs])

    def _check_shapes(self, shapes: list[tuple]) -> None:
        _broadcast_shape(self.name, shapes)

    def call(self, inputs):
        return self._merge(list(inputs))

    def compute_mask(self, inputs, mask=None):
        """Keras: a step is kept when every masked input keeps it (the AND of the masks)."""
        masks = [m for m in (mask if isinstance(mask, (list, tuple)) else [mask]) if m is not None]
        if not masks:
            return None
        out = masks[0].bool()
        for m in masks[1:]:
            out = out & m.bool()
        return out

    def _merge(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


class Add(_Merge):
    """Element-wise sum of a list of tensors: ``output = x1 + x2 + ... + xn``.

    Shape:
        A list of tensors of equal (or broadcastable) shapes -> one tensor of that shape.

    Raises:
        ValueError: if the input is not a list or the shapes are incompatible (both are named).

    Example:
        >>> import torch
        >>> Add()([torch.tensor([[1.0, 2.0]]), torch.tensor([[10.0, 20.0]])])
        tensor([[11., 22.]])
    """

    def _merge(self, tensors):
        out = tensors[0]
        for t in tensors[1:]:
            out = out + t
        return out


class Subtract(_Merge):
    """Element-wise difference of exactly two tensors: ``output = x1 - x2``.

    Raises:
        ValueError: unless called on a list of exactly 2 tensors of compatible shapes.

    Example:
        >>> import torch
        >>> Subtract()([torch.tensor([[5.0, 7.0]]), torch.tensor([[1.0, 2.0]])])
        tensor([[4., 5.]])
    """

    _exact_inputs = 2

    def _merge(self, tensors):
        return tensors[0] - tensors[1]


class Multiply(_Merge):
    """Element-wise product of a list of tensors: ``output = x1 * x2 * ... * xn``.

    Example:
        >>> import torch
        >>> Multiply()([torch.tensor([[2.0, 3.0]]), torch.tensor([[4.0, 5.0]])])
        tensor([[ 8., 15.]])
    """

    def _merge(self, tensors):
        masks = [_step_mask(t) for t in tensors]
        if all(m is None for m in masks):
            out = tensors[0]
            for t in tensors[1:]:
                out = out * t
            return out
        # Keras 3: masked entries count as 1; with every input masked, the output is 0 where all
        # are masked and its mask is the OR of theirs.
        out = None
        for t, m in zip(tensors, masks):
            t = t if m is None else torch.where(m, t, torch.ones_like(t))
            out = t if out is None else out * t
        if all(m is not None for m in masks):
            keep = masks[0]
            for m in masks[1:]:
                keep = keep | m
            out = torch.where(keep, out, torch.zeros_like(out))
            out._keras_mask = keep.any(dim=-1)
        return out


class Average(_Merge):
    """Element-wise mean of a list of tensors: ``output = (x1 + ... + xn) / n``.

    Example:
        >>> import torch
        >>> Average()([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 6.0]])])
        tensor([[2., 4.]])
    """

    def _merge(self, tensors):
        out = tensors[0]
        for t in tensors[1:]:
            out = out + t
        return out / len(tensors)


class Maximum(_Merge):
    """Element-wise maximum of a list of tensors: ``output = max(x1, ..., xn)``.

    Example:
        >>> import torch
        >>> Maximum()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])])
        tensor([[3., 5.]])
    """

    def _merge(self, tensors):
        if any(getattr(t, "_keras_mask", None) is not None for t in tensors):
            return _masked_extremum(tensors, torch.maximum)
        out = tensors[0]
        for t in tensors[1:]:
            out = torch.maximum(out, t)
        return out


class Minimum(_Merge):
    """Element-wise minimum of a list of tensors: ``output = min(x1, ..., xn)``.

    Example:
        >>> import torch
        >>> Minimum()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])])
        tensor([[1., 2.]])
    """

    def _merge(self, tensors):
        if any(getattr(t, "_keras_mask", None) is not None for t in tensors):
            return _masked_extremum(tensors, torch.minimum)
        out = tensors[0]
        for t in tensors[1:]:
            out = torch.minimum(out, t)
        return out


class Concatenate(_Merge):
    """Joins a list of tensors along ``axis``: ``torch.cat(inputs, dim=axis)``.

    Args:
        axis: the axis to join along (``-1``, the features, by default). Every other
            dimension must be the same in all inputs.
        **kwargs: base layer arguments (``name``, ...).

    Shape:
        ``[(batch, ..., d1), (batch, ..., d2)]`` -> ``(batch, ..., d1 + d2)`` for ``axis=-1``.

    Raises:
        ValueError: if the inputs differ in rank, or in a dimension other than ``axis``, or if
            ``axis`` is out of range; the message lists the shapes received.

    Example:
        >>> import torch
        >>> Concatenate(axis=1)([torch.zeros(2, 3, 4), torch.zeros(2, 5, 4)]).shape
        torch.Size([2, 8, 4])
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = axis

    def _check_shapes(self, shapes: list[tuple]) -> None:
        listed = ", ".join(_fmt(s) for s in shapes)
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ValueError(
                f"Layer '{self.name}' (Concatenate) requires inputs of the same rank. Received shapes: {listed}."
            )
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Layer '{self.name}' (Concatenate): axis={self.axis} is out of range for inputs of rank {rank}. "
                f"Received shapes: {listed}."
            )
        axis = self.axis % rank
        for dim in range(rank):
            if dim == axis:
                continue
            # Only plain ints are compared: unknown sizes (None) and torch.export's symbolic
            # sizes (SymInt, unhashable) are left to torch.cat, which checks them when it runs.
            sizes = {s[dim] for s in shapes if isinstance(s[dim], int)}
            if len(sizes) > 1:
                raise ValueError(
                    f"Layer '{self.name}' (Concatenate) requires inputs with matching shapes except for the "
                    f"concatenation axis {self.axis}. Received shapes: {listed} (they differ on axis {dim})."
                )

    def _merge(self, tensors):
        return torch.cat(tensors, dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        """Keras: each input's mask widened to its own shape (all true for an unmasked input),
        joined along ``axis``, then reduced with ``any`` over the last axis."""
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask]
        if all(m is None for m in masks):
            return None
        full = []
        for m, x in zip(masks, inputs):
            if m is None:
                full.append(torch.ones(x.shape, dtype=torch.bool, device=x.device))
            else:
                m = m.bool()
                while m.dim() < x.dim():
                    m = m.unsqueeze(-1)
                full.append(m.expand(x.shape))
        return torch.cat(full, dim=self.axis).any(dim=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}"


# Keras's functional shorthands: ``add([a, b])`` is ``Add()([a, b])``.
def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
