"""``Dot``: the batched dot product of two tensors (Keras's ``keras.layers.Dot``), and ``dot``.

For each sample ``i`` the layer contracts axis ``axes[0]`` of ``x1[i]`` with axis ``axes[1]`` of
``x2[i]``. The result keeps ``x1``'s other axes, then ``x2``'s other non-batch axes, in order; a
result with only the batch axis left gets a trailing axis of size 1, so two ``(batch, n)`` inputs
give ``(batch, 1)``.

Example:
    >>> import torch
    >>> Dot(axes=1)([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]])])
    tensor([[11.]])
"""

from __future__ import annotations

from typing import Any

import torch

from easynn.layers.merge import _fmt, _Merge

__all__ = ["Dot", "dot"]

_NORM_EPSILON = 1e-7  # Keras's backend.epsilon(): the floor of the norm when ``normalize=True``


def _check_axes(axes: Any) -> int | tuple[int, int]:
    def is_int(a):
        return isinstance(a, int) and not isinstance(a, bool)

    if is_int(axes):
        return axes
    if isinstance(axes, (list, tuple)) and len(axes) == 2 and all(is_int(a) for a in axes):
        return (int(axes[0]), int(axes[1]))
    raise TypeError(
        "`axes` must be an integer or a tuple/list of 2 integers (one axis per input). "
        f"Received: axes={axes!r}"
    )


def _l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    """``x / max(||x||_2, 1e-7)`` along ``axis`` (Keras's ``ops.normalize``)."""
    norm = torch.linalg.vector_norm(x, dim=axis, keepdim=True)
    return x / norm.clamp_min(_NORM_EPSILON)


def _batch_dot(x: torch.Tensor, y: torch.Tensor, ax: int, ay: int) -> torch.Tensor:
    """Contract ``x``'s axis ``ax`` with ``y``'s axis ``ay``, batched over axis 0."""
    xm = x.movedim(ax, -1)  # (B, X..., K)
    ym = y.movedim(ay, 1)  # (B, K, Y...)
    batch, k = xm.shape[0], xm.shape[-1]
    out = torch.bmm(xm.reshape(batch, -1, k), ym.reshape(batch, k, -1))
    out = out.reshape(*xm.shape[:-1], *ym.shape[2:])
    return out.unsqueeze(-1) if out.dim() == 1 else out


class Dot(_Merge):
    """Batched dot product of two tensors: ``out[i] = sum_k x1[i, ..., k, ...] * x2[i, ..., k, ...]``.

    With ``normalize=True`` each input is first divided by its L2 norm along its dot axis
    (floored at ``1e-7``), so the output is the cosine similarity of the two samples.

    Args:
        axes: an int (the same axis of both inputs) or a pair ``(axis1, axis2)``. Negative axes
            count from each input's last axis. The two axes must have the same size.
        normalize: L2-normalize both inputs along their dot axes first (default ``False``).
        **kwargs: base layer arguments (``name``, ...).

    Call arguments:
        inputs: a list of exactly 2 tensors, each with a batch axis.

    Shape:
        ``[(batch, 3, 5), (batch, 10, 3)]`` with ``axes=(1, 2)`` -> ``(batch, 5, 10)``;
        ``[(batch, n), (batch, n)]`` with ``axes=1`` -> ``(batch, 1)``. No weights.

    Returns:
        The dot products, ``x1``'s remaining axes followed by ``x2``'s remaining non-batch axes.

    Raises:
        TypeError: for ``axes`` that is not an int or a pair of ints, or a non-bool ``normalize``.
        ValueError: unless called on exactly 2 tensors whose dot axes exist, are not the batch
            axis, and have the same size (the shapes are named).

    Example:
        >>> import torch
        >>> x = torch.arange(10.0).reshape(1, 5, 2)
        >>> y = torch.arange(10.0, 20.0).reshape(1, 2, 5)
        >>> Dot(axes=(1, 2))([x, y])
        tensor([[[260., 360.],
                 [320., 445.]]])
    """

    _exact_inputs = 2
    _min_inputs = 2

    def __init__(self, axes: int | tuple[int, int], normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axes = _check_axes(axes)
        if not isinstance(normalize, bool):
            raise TypeError(f"`normalize` must be a bool. Received: normalize={normalize!r}")
        self.normalize = normalize

    def _resolve_axes(self, rank1: int, rank2: int) -> tuple[int, int]:
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        resolved = []
        for axis, rank in zip(pair, (rank1, rank2)):
            if not -rank <= axis < rank:
                raise ValueError(
                    f"Layer '{self.name}' (Dot): axes={self.axes!r} is out of range for inputs of "
                    f"ranks {rank1} and {rank2}."
                )
            resolved.append(axis % rank)
        return resolved[0], resolved[1]

    def _check_shapes(self, shapes: list[tuple]) -> None:
        s1, s2 = shapes
        listed = f"{_fmt(s1)} and {_fmt(s2)}"
        if len(s1) < 2 or len(s2) < 2:
            raise ValueError(
                f"Layer '{self.name}' (Dot) needs inputs of rank >= 2 (a batch axis and at least one more). "
                f"Received shapes: {listed}."
            )
        a1, a2 = self._resolve_axes(len(s1), len(s2))
        if a1 == 0 or a2 == 0:
            raise ValueError(
                f"Layer '{self.name}' (Dot) cannot take the dot product along the batch axis. "
                f"Received: axes={self.axes!r} for shapes {listed}."
            )
        d1, d2 = s1[a1], s2[a2]
        if isinstance(d1, int) and isinstance(d2, int) and d1 != d2:
            raise ValueError(
                f"Layer '{self.name}' (Dot): incompatible input shapes {listed}: axis {a1} of the first "
                f"has size {d1} but axis {a2} of the second has size {d2}. Received: axes={self.axes!r}"
            )

    def _merge(self, tensors):
        x1, x2 = tensors
        a1, a2 = self._resolve_axes(x1.dim(), x2.dim())
        if self.normalize:
            x1, x2 = _l2_normalize(x1, a1), _l2_normalize(x2, a2)
        return _batch_dot(x1, x2, a1, a2)

    def compute_output_shape(self, input_shape):
        s1, s2 = (list(s) for s in input_shape)
        self._check_shapes([tuple(s1), tuple(s2)])
        a1, a2 = self._resolve_axes(len(s1), len(s2))
        s1.pop(a1)
        s2.pop(a2)
        out = s1 + s2[1:]
        return tuple(out + [1] if len(out) == 1 else out)

    def compute_mask(self, inputs, mask=None):
        """Keras: ``Dot`` drops the masks (the contracted axis may be the masked one)."""
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config["axes"] = self.axes if isinstance(self.axes, int) else list(self.axes)
        config["normalize"] = self.normalize
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axes={self.axes}, normalize={self.normalize}"


def dot(inputs, axes: int | tuple[int, int], normalize: bool = False, **kwargs):
    """``Dot(axes=axes, normalize=normalize, **kwargs)(inputs)``, Keras's functional form.

    Example:
        >>> import torch
        >>> dot([torch.tensor([[3.0, 4.0]]), torch.tensor([[3.0, 4.0]])], axes=1, normalize=True)
        tensor([[1.]])
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
