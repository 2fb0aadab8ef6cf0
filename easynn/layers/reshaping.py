"""Axis shuffles and pass-throughs: Permute, RepeatVector, Identity.

The other shape layers live in their own modules: ``upsampling`` (UpSampling1D/2D/3D) and
``padding`` (ZeroPadding1D/2D/3D, Cropping1D/2D/3D); they are re-exported here, where they were
defined before.

Example:
    >>> import torch
    >>> Permute((2, 1))(torch.arange(6.0).reshape(1, 2, 3))
    tensor([[[0., 3.],
             [1., 4.],
             [2., 5.]]])
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.layers._shape_utils import is_int
from easynn.layers.base import Layer

# UpSampling, ZeroPadding and Cropping moved to their own modules; re-exported for code that
# imported them from here.
from easynn.layers.padding import Cropping1D as Cropping1D
from easynn.layers.padding import Cropping2D as Cropping2D
from easynn.layers.padding import Cropping3D as Cropping3D
from easynn.layers.padding import ZeroPadding1D as ZeroPadding1D
from easynn.layers.padding import ZeroPadding2D as ZeroPadding2D
from easynn.layers.padding import ZeroPadding3D as ZeroPadding3D
from easynn.layers.upsampling import UpSampling1D as UpSampling1D
from easynn.layers.upsampling import UpSampling2D as UpSampling2D
from easynn.layers.upsampling import UpSampling3D as UpSampling3D

__all__ = ["Permute", "RepeatVector", "Identity"]


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
        if not dims or sorted(dims) != list(range(1, len(dims) + 1)) or not all(is_int(d) for d in dims):
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
        if not is_int(n) or n <= 0:
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
