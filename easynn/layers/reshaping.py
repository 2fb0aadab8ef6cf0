"""Shape layers: UpSampling1D/2D/3D, ZeroPadding1D/2D/3D, Cropping1D/2D/3D, Permute, RepeatVector, Identity.

All take Keras's channels_last layout by default (``data_format="channels_first"`` where Keras has
it). Cropping is a slice (a view, no copy), padding one ``F.pad``, nearest upsampling one
``F.interpolate`` with an integer scale (the same values as repeating each pixel), bilinear
upsampling ``F.interpolate`` with half-pixel centres as Keras.

Example:
    >>> import torch
    >>> UpSampling2D(2)(torch.arange(4.0).reshape(1, 2, 2, 1))[0, :, :, 0]
    tensor([[0., 0., 1., 1.],
            [0., 0., 1., 1.],
            [2., 2., 3., 3.],
            [2., 2., 3., 3.]])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn.layers.base import Layer
from easynn.layers.conv import check_rank, normalize_data_format, normalize_tuple

__all__ = [
    "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    "Cropping1D", "Cropping2D", "Cropping3D", "Permute", "RepeatVector", "Identity",
]


def _spatial_axes(rank: int, data_format: str) -> tuple[int, ...]:
    first = 1 if data_format == "channels_last" else 2
    return tuple(range(first, first + rank))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _pairs(value: Any, rank: int, name: str) -> tuple[tuple[int, int], ...]:
    """Keras's padding/cropping argument -> one ``(before, after)`` pair per spatial axis.

    Accepted: an int (same on every side); ``rank`` ints (symmetric per axis); ``rank`` pairs.
    Rank 1 takes an int or one ``(before, after)`` pair.
    """
    pairs: Any = None
    if _is_int(value):
        pairs = ((value, value),) * rank
    elif isinstance(value, (tuple, list)):
        items = list(value)
        if rank == 1 and len(items) == 2 and all(_is_int(v) for v in items):
            pairs = ((items[0], items[1]),)
        elif len(items) == rank and all(_is_int(v) for v in items):
            pairs = tuple((v, v) for v in items)
        elif len(items) == rank and all(
            isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_int(u) for u in v) for v in items
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


def _check_input_rank(layer: Layer, inputs: torch.Tensor, rank: int) -> None:
    if inputs.dim() != rank + 2:
        raise ValueError(
            f"Layer '{layer.name}' expects inputs of rank {rank + 2}, but received shape {tuple(inputs.shape)}."
        )


# ---------------------------------------------------------------------- upsampling
class _UpSampling(Layer):
    rank = 2

    def __init__(self, size: Any = 2, data_format: str | None = None, interpolation: str = "nearest",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, self.rank, "size")
        self.data_format = normalize_data_format(data_format)
        allowed = ("nearest", "bilinear") if self.rank == 2 else ("nearest",)
        if interpolation not in allowed:
            raise ValueError(
                f"`interpolation` must be one of {', '.join(repr(a) for a in allowed)}. "
                f"Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation

    def build(self, input_shape) -> None:
        check_rank(self, input_shape, self.rank)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        _check_input_rank(self, inputs, self.rank)
        x = inputs.movedim(-1, 1) if self.data_format == "channels_last" else inputs
        if self.interpolation == "nearest":
            if all(s == 1 for s in self.size):
                return inputs
            if not x.is_floating_point():  # interpolate has no integer kernels: repeat instead
                y = x
                for axis, s in enumerate(self.size):
                    y = y.repeat_interleave(s, dim=axis + 2)
            else:
                y = F.interpolate(x, scale_factor=self.size, mode="nearest")
        else:
            size = tuple(n * s for n, s in zip(x.shape[2:], self.size))
            y = F.interpolate(x if x.is_floating_point() else x.float(), size=size, mode="bilinear",
                              align_corners=False)
        return y.movedim(1, -1) if self.data_format == "channels_last" else y

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, s in zip(_spatial_axes(self.rank, self.data_format), self.size):
            shape[axis] = None if shape[axis] is None else shape[axis] * s
        return tuple(shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format)
        if self.rank == 2:
            config["interpolation"] = self.interpolation
        return config


class UpSampling1D(_UpSampling):
    """Repeats each time step ``size`` times: ``(batch, steps, features)`` -> ``(batch, steps * size, features)``.

    Args:
        size: the repetition factor; 2 by default.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> UpSampling1D(2)(torch.tensor([[[1.0], [2.0]]])).flatten()
        tensor([1., 1., 2., 2.])
    """

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(size=size, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["size"] = self.size[0]
        del config["data_format"]
        return config


class UpSampling2D(_UpSampling):
    """Upsamples images by ``size``: nearest repeats each pixel, bilinear interpolates.

    Args:
        size: an int or ``(sh, sw)``; 2 by default.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default) or ``"bilinear"`` (half-pixel centres).
        **kwargs: base layer arguments.

    Shape:
        ``(batch, h, w, c)`` -> ``(batch, h * sh, w * sw, c)``.

    Example:
        >>> import torch
        >>> UpSampling2D((2, 3))(torch.zeros(1, 2, 2, 4)).shape
        torch.Size([1, 4, 6, 4])
    """

    rank = 2


class UpSampling3D(_UpSampling):
    """Repeats each voxel ``size`` times along depth, height and width.

    Args:
        size: an int or ``(sd, sh, sw)``; 2 by default.
        data_format: ``"channels_last"`` (``None``, default) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> UpSampling3D(2)(torch.zeros(1, 1, 2, 3, 4)).shape
        torch.Size([1, 2, 4, 6, 4])
    """

    rank = 3

    def __init__(self, size: Any = 2, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(size=size, data_format=data_format, **kwargs)


# ---------------------------------------------------------------------- padding and cropping
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
        _check_input_rank(self, inputs, self.rank)
        flat: list[int] = [0, 0] if self.data_format == "channels_last" else []  # channels, when last
        for before, after in reversed(self.pairs):
            flat += [before, after]
        return F.pad(inputs, flat)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self.pairs):
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
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self.pairs):
            size = input_shape[axis]
            if size is not None and before + after >= size:
                raise ValueError(
                    f"Layer '{self.name}': cropping {(before, after)} removes all of axis {axis} of size {size}. "
                    f"Received: cropping={self._config_value()}, input shape {tuple(input_shape)}."
                )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        _check_input_rank(self, inputs, self.rank)
        index = [slice(None)] * inputs.dim()
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self.pairs):
            if before + after >= inputs.shape[axis]:
                raise ValueError(
                    f"Layer '{self.name}': cropping {(before, after)} removes all of axis {axis} of size "
                    f"{inputs.shape[axis]} (input shape {tuple(inputs.shape)})."
                )
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self.pairs):
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


# ---------------------------------------------------------------------- axis shuffles
class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is 1-indexed, e.g. ``(2, 1)`` swaps the two axes.

    Args:
        dims: a permutation of ``1..rank-1``.
        **kwargs: base layer arguments.

    Raises:
        ValueError: if ``dims`` is not such a permutation, or the input's rank differs.

    Example:
        >>> import torch
        >>> Permute((2, 1))(torch.zeros(4, 10, 64)).shape
        torch.Size([4, 64, 10])
    """

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            dims = tuple(dims)
        except TypeError:
            dims = None
        if not dims or sorted(dims) != list(range(1, len(dims) + 1)) or not all(_is_int(d) for d in dims):
            raise ValueError(
                f"`dims` must be a permutation of the integers 1..n (the batch axis is not included). "
                f"Received: dims={dims!r}"
            )
        self.dims = dims

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() != len(self.dims) + 1:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank {len(self.dims) + 1} for dims={self.dims}, "
                f"but received shape {tuple(inputs.shape)}."
            )
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict:
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """Repeats a vector ``n`` times: ``(batch, features)`` -> ``(batch, n, features)``.

    Args:
        n: the number of repetitions.
        **kwargs: base layer arguments.

    Example:
        >>> import torch
        >>> RepeatVector(3)(torch.tensor([[1.0, 2.0]]))
        tensor([[[1., 2.],
                 [1., 2.],
                 [1., 2.]]])
    """

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not _is_int(n) or n <= 0:
            raise ValueError(f"`n` must be a positive integer. Received: n={n!r}")
        self.n = n

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() != 2:
            raise ValueError(
                f"Layer '{self.name}' expects inputs of rank 2 (batch, features), but received shape "
                f"{tuple(inputs.shape)}."
            )
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config["n"] = self.n
        return config


class Identity(Layer):
    """Returns its input unchanged (a placeholder, e.g. for an optional block).

    Example:
        >>> import torch
        >>> Identity()(torch.ones(2))
        tensor([1., 1.])
    """

    supports_masking = True  # elementwise per timestep: the mask passes through (Keras)

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
