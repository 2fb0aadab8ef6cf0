"""InputSpec: what a layer accepts, checked before every call (Keras's ``layer.input_spec``).

A layer that sets ``self.input_spec = InputSpec(ndim=3)`` (usually in ``__init__`` or ``build``)
gets a clear error naming the layer, the input and the rule it breaks, instead of a shape error
deep inside ``call``. The checks, in Keras's order, for each input against its spec:

    ndim       the number of axes must equal it (batch axis included)
    max_ndim   ... must be at most it
    min_ndim   ... must be at least it
    dtype      the input's dtype name must equal it ("float32", "int64", ...)
    axes       {axis: size}: those axes must have those sizes (None: any size)
    shape      a full shape; ``None`` entries match any size

Unknown sizes (``None`` in a functional-API input) pass every size check, as in Keras. With
``allow_last_axis_squeeze=True`` the ``ndim`` check is skipped and a trailing axis of size 1 is
ignored on both sides of the ``shape`` check, so ``(batch, 3)`` and ``(batch, 3, 1)`` both match
``shape=(None, 3)``.

Example:
    >>> import torch
    >>> from easynn.layers.base import Layer
    >>> class Sequences(Layer):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.input_spec = InputSpec(ndim=3)
    ...     def call(self, inputs):
    ...         return inputs.mean(dim=1)
    >>> Sequences()(torch.ones(2, 5, 4)).shape
    torch.Size([2, 4])
    >>> Sequences()(torch.ones(2, 4))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Input 0 of layer "sequences_1" is incompatible with the layer: expected ndim=3, found ndim=2. Full shape received: (2, 4)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["InputSpec", "assert_input_compatibility"]


def _optional_int(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer or None. Received: {name}={value!r}")
    return int(value)


def _dtype_name(dtype: Any) -> str | None:
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    return str(np.dtype(dtype)) if not isinstance(dtype, str) else dtype


class InputSpec:
    """The rank, dtype and sizes a layer's input must have (Keras's ``keras.InputSpec``).

    Args:
        dtype: the expected dtype name (``"float32"``) or ``torch.dtype``.
        shape: the full expected shape, batch axis included; ``None`` entries match any size.
            Sets ``ndim`` to its length.
        ndim: the exact number of axes.
        max_ndim: the largest number of axes allowed.
        min_ndim: the smallest number of axes allowed.
        axes: ``{axis: size}`` for the axes whose size is fixed (negative axes count from the
            end).
        allow_last_axis_squeeze: skip the ``ndim`` check and ignore a trailing axis of size 1
            when checking ``shape``.
        name: the input's name (for a layer with several named inputs).
        optional: whether the input may be ``None``.

    Raises:
        ValueError: for a negative or non-integer ``ndim``/``min_ndim``/``max_ndim``, an ``axes``
            that is not a dict of integer axes, or an axis of ``axes`` outside ``ndim``.
    """

    def __init__(self, dtype: Any = None, shape: Any = None, ndim: int | None = None, max_ndim: int | None = None,
                 min_ndim: int | None = None, axes: dict | None = None, allow_last_axis_squeeze: bool = False,
                 name: str | None = None, optional: bool = False):
        self.dtype = _dtype_name(dtype)
        self.shape = None if shape is None else tuple(None if d is None else int(d) for d in shape)
        self.ndim = len(self.shape) if self.shape is not None else _optional_int("ndim", ndim)
        self.max_ndim = _optional_int("max_ndim", max_ndim)
        self.min_ndim = _optional_int("min_ndim", min_ndim)
        if axes is not None and (not isinstance(axes, dict) or not all(isinstance(a, int) for a in axes)):
            raise ValueError(f"`axes` must be a dict of {{axis: size}} with integer axes. Received: axes={axes!r}")
        self.axes = dict(axes or {})
        if self.ndim is not None:
            too_far = [a for a in self.axes if (a if a >= 0 else -a - 1) >= self.ndim]
            if too_far:
                raise ValueError(f"Axis {too_far[0]} of `axes` is out of range for ndim={self.ndim}. Received: axes={axes!r}")
        self.allow_last_axis_squeeze = bool(allow_last_axis_squeeze)
        self.name = name
        self.optional = bool(optional)

    def get_config(self) -> dict:
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes}

    @classmethod
    def from_config(cls, config: dict) -> "InputSpec":
        return cls(**config)

    def __repr__(self) -> str:
        fields = [f"{k}={v!r}" for k, v in self.get_config().items() if v not in (None, {})]
        return f"InputSpec({', '.join(fields)})"


def _flat(value: Any) -> list:
    if isinstance(value, dict):
        return [v for _, v in sorted(value.items())]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


def _squeezed(shape: tuple) -> tuple:
    return shape[:-1] if shape and shape[-1] == 1 else shape


def assert_input_compatibility(input_spec: Any, inputs: Any, layer_name: str) -> None:
    """Check ``inputs`` (a tensor, symbolic tensor, or a list/dict of them) against the layer's
    ``input_spec`` (one ``InputSpec`` or a list of them; ``None`` entries are skipped).

    Raises:
        ValueError: with Keras's message, naming the layer, the input's index and the rule.
    """
    specs = input_spec if isinstance(input_spec, (list, tuple)) else [input_spec]
    if not any(spec is not None for spec in specs):
        return
    flat = _flat(inputs)
    if len(flat) != len(specs):
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(flat)} input tensors. '
            f"Inputs received: {inputs!r}"
        )
    for index, (spec, x) in enumerate(zip(specs, flat)):
        if spec is None:
            continue
        if x is None:
            if spec.optional:
                continue
            raise ValueError(f'Input {index} of layer "{layer_name}" is None, and the layer\'s input spec is not optional.')
        shape = getattr(x, "shape", None)
        if shape is None:
            continue
        shape = tuple(None if d is None else int(d) for d in shape)
        _check_one(spec, shape, getattr(x, "dtype", None), f'Input {index} of layer "{layer_name}"')


def _check_one(spec: InputSpec, shape: tuple, dtype: Any, who: str) -> None:
    prefix = f"{who} is incompatible with the layer:"
    ndim = len(shape)
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(f"{prefix} expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(f"{prefix} expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(f"{prefix} expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape received: {shape}")
    if spec.dtype is not None and dtype is not None and _dtype_name(dtype) != spec.dtype:
        raise ValueError(f"{prefix} expected dtype={spec.dtype}, found dtype={_dtype_name(dtype)}")
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if not -ndim <= axis < ndim:
            raise ValueError(f"{prefix} expected an axis {axis}, but the input has only {ndim} axes: {shape}")
        found = shape[axis]
        if found is not None and int(found) != size:
            raise ValueError(
                f"{prefix} expected axis {axis} of input shape to have value {size}, but received input with "
                f"shape {shape}"
            )
    if spec.shape is not None:
        spec_shape, found_shape = spec.shape, shape
        if spec.allow_last_axis_squeeze:
            spec_shape, found_shape = _squeezed(spec_shape), _squeezed(found_shape)
        for expected, found in zip(spec_shape, found_shape):
            if expected is not None and found is not None and int(found) != expected:
                raise ValueError(f"{prefix} expected shape={spec.shape}, found shape={shape}")
