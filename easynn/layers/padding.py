"""Border layers: ZeroPadding1D/2D/3D add zeros around the spatial axes, Cropping1D/2D/3D remove them.

Both read Keras's padding/cropping argument the same way (an int, one int per axis, or one
``(before, after)`` pair per axis), so they share ``_Padding``. Padding is one ``F.pad``;
cropping is a slice (a view, no copy). channels_last by default (``data_format="channels_first"``
where Keras has it).

Example:
    >>> import torch
    >>> ZeroPadding2D(1)(torch.ones(1, 2, 2, 1))[0, :, :, 0]
    tensor([[0., 0., 0., 0.],
            [0., 1., 1., 0.],
            [0., 1., 1., 0.],
            [0., 0., 0., 0.]])
    >>> Cropping2D(((1, 0), (0, 1)))(torch.arange(9.0).reshape(1, 3, 3, 1))[0, :, :, 0]
    tensor([[3., 4.],
            [6., 7.]])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn.layers._shape_utils import check_input_rank, is_int, spatial_axes
from easynn.layers.base import Layer
from easynn.layers.conv import check_rank, normalize_data_format

__all__ = ["ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D"]


def _pairs(value: Any, rank: int, name: str) -> tuple[tuple[int, int], ...]:
    """Keras's padding/cropping argument -> one ``(before, after)`` pair per spatial axis.

    Accepted: an int (same on every side); ``rank`` ints (symmetric per axis); ``rank`` pairs.
    Rank 1 takes an int or one ``(before, after)`` pair.
    """
    pairs: Any = None
    if is_int(value):
        pairs = ((value, value),) * rank
    elif isinstance(value, (tuple, list)):
        items = list(value)
        if rank == 1 and len(items) == 2 and all(is_int(v) for v in items):
            pairs = ((items[0], items[1]),)
        elif len(items) == rank and all(is_int(v) for v in items):
            pairs = tuple((v, v) for v in items)
        elif len(items) == rank and all(
            isinstance(v, (tuple, list)) and len(v) == 2 and all(is_int(u) for u in v) for v in items
        ):
            pairs = tuple((int(v[0]), int(v[1])) for v in items)
    if pairs is None:
        expected = "an int or a pair (before, after)" if rank == 1 else (
            f"an int, a tuple of {rank} ints, or a tuple of {rank} pairs of ints"
        )
        raise ValueError(f"`{name}` must be {expected}. Received: {name}={value!r}")
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError(f"`{name}` must not be negative. Received: {name}={value!r}")
    return pairs


class _Padding(Layer):
    rank = 2
    argument = "padding"

    def __init__(self, value: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pairs = _pairs(value, self.rank, self.argument)
        self.data_format = normalize_data_format(data_format)

    def build(self, input_shape) -> None:
        check_rank(self, input_shape, self.rank)

    def _config_value(self):
        return self.pairs[0] if self.rank == 1 else self.pairs

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({self.argument: self._config_value(), "data_format": self.data_format})
        return config


class _ZeroPadding(_Padding):
    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        check_input_rank(self, inputs, self.rank)
        flat: list[int] = [0, 0] if self.data_format == "channels_last" else []  # channels, when last
        for before, after in reversed(self.pairs):
            flat += [before, after]
        return F.pad(inputs, flat)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(spatial_axes(self.rank, self.data_format), self.pairs):
            shape[axis] = None if shape[axis] is None else shape[axis] + before + after
        return tuple(shape)


class ZeroPadding1D(_ZeroPadding):
    """Adds zeros at the start and end of sequences ``(batch, steps, features)``.

    Args:
        padding: an int, or ``(before, after)``; 1 by default.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> ZeroPadding1D((1, 2))(torch.ones(1, 2, 1)).flatten()
        tensor([0., 1., 1., 0., 0.])
    """

    rank = 1

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around images.

    Args:
        padding: an int (all sides), ``(sym_h, sym_w)``, or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Shape:
        ``(batch, h, w, c)`` -> ``(batch, h + top + bottom, w + left + right, c)``.

    Example:
        >>> import torch
        >>> ZeroPadding2D(((1, 0), (0, 2)))(torch.zeros(1, 3, 3, 2)).shape
        torch.Size([1, 4, 5, 2])
    """

    rank = 2

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Adds zeros around volumes ``(batch, d, h, w, c)``.

    Args:
        padding: an int, 3 ints (symmetric per axis) or 3 ``(before, after)`` pairs.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> ZeroPadding3D(1)(torch.zeros(1, 1, 2, 3, 4)).shape
        torch.Size([1, 3, 4, 5, 4])
    """

    rank = 3

    def __init__(self, padding: Any = (1, 1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class _Cropping(_Padding):
    argument = "cropping"

    def build(self, input_shape) -> None:
        check_rank(self, input_shape, self.rank)
        for axis, (before, after) in zip(spatial_axes(self.rank, self.data_format), self.pairs):
            size = input_shape[axis]
            if size is not None and before + after >= size:
                raise ValueError(
                    f"Layer '{self.name}': cropping {(before, after)} removes all of axis {axis} of size {size}. "
                    f"Received: cropping={self._config_value()}, input shape {tuple(input_shape)}."
                )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        check_input_rank(self, inputs, self.rank)
        index = [slice(None)] * inputs.dim()
        for axis, (before, after) in zip(spatial_axes(self.rank, self.data_format), self.pairs):
            if before + after >= inputs.shape[axis]:
                raise ValueError(
                    f"Layer '{self.name}': cropping {(before, after)} removes all of axis {axis} of size "
                    f"{inputs.shape[axis]} (input shape {tuple(inputs.shape)})."
                )
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(spatial_axes(self.rank, self.data_format), self.pairs):
            shape[axis] = None if shape[axis] is None else shape[axis] - before - after
        return tuple(shape)


class Cropping1D(_Cropping):
    """Removes steps at the start and end of sequences ``(batch, steps, features)``.

    Args:
        cropping: an int or ``(start, end)``; ``(1, 1)`` by default.
        **kwargs: base layer arguments.

    Raises:
        ValueError: for a negative cropping or one that removes the whole axis.

    Example:
        >>> import torch
        >>> Cropping1D((1, 2))(torch.arange(5.0).reshape(1, 5, 1)).flatten()
        tensor([1., 2.])
    """

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, None, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["data_format"]
        return config


class Cropping2D(_Cropping):
    """Removes rows and columns at the borders of images.

    Args:
        cropping: an int, ``(sym_h, sym_w)`` or ``((top, bottom), (left, right))``; none by default.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> Cropping2D(((1, 0), (1, 1)))(torch.zeros(1, 4, 5, 3)).shape
        torch.Size([1, 3, 3, 3])
    """

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Removes slices at the borders of volumes ``(batch, d, h, w, c)``.

    Args:
        cropping: an int, 3 ints or 3 ``(before, after)`` pairs; 1 on every side by default.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> Cropping3D()(torch.zeros(1, 3, 4, 5, 2)).shape
        torch.Size([1, 1, 2, 3, 2])
    """

    rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)
