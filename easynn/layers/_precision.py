"""A layer's dtype policy: the dtype of its weights and the dtype it computes in (mixed into ``Layer``).

``Dense(64, dtype="mixed_float16")`` keeps float32 weights and computes in float16, as Keras's
mixed-precision policies do: its floating inputs are cast to float16 and its ``call`` runs under
``torch.autocast(dtype=float16)``, which casts the float32 weights on the fly for the matrix
products while the gradients still reach the float32 weights. A layer given an explicit float
policy (``Activation("softmax", dtype="float32")``) computes in that dtype even inside a model
compiled with mixed precision: autocast is switched off for its ``call`` and its inputs are cast
up. A layer without a ``dtype`` follows its surroundings (the model's compile-time precision).

Example:
    >>> import torch
    >>> from easynn.layers.core import Dense
    >>> layer = Dense(3, dtype="mixed_bfloat16")
    >>> y = layer(torch.ones(2, 4))
    >>> layer.kernel.dtype, y.dtype
    (torch.float32, torch.bfloat16)
    >>> layer.dtype_policy, layer.compute_dtype, layer.variable_dtype
    (<DTypePolicy "mixed_bfloat16">, 'bfloat16', 'float32')
"""

from __future__ import annotations

from typing import Any

import torch

from easynn import dtype_policies

__all__: list[str] = []


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _cast_floats(value: Any, dtype: torch.dtype) -> Any:
    """``value`` (a tensor, or a list/tuple of them) with its floating tensors cast to ``dtype``."""
    if isinstance(value, torch.Tensor):
        return value.to(dtype) if value.is_floating_point() and value.dtype != dtype else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_floats(v, dtype) for v in value)
    return value


class PrecisionMixin:
    """``dtype_policy`` / ``compute_dtype`` / ``variable_dtype`` and the per-layer precision.

    Uses the layer's ``dtype`` (the weights' torch dtype, or None for the default float type) and
    ``_mixed_compute`` (the half dtype of a mixed policy, set by ``_set_dtype_policy``).
    """

    # None: follow the surroundings. A dtype: run ``call`` in it (autocast for a mixed policy,
    # autocast off for an explicit float policy). Read on every call: a class default, no lookup.
    _precision_override: torch.dtype | None = None
    _mixed_compute: torch.dtype | None = None

    def _set_dtype_policy(self, dtype: Any) -> Any:
        """Split a ``dtype`` argument into weights' dtype and compute dtype; returns the former."""
        variable_dtype, mixed = dtype_policies.split_layer_dtype(dtype)
        self._mixed_compute = mixed
        return variable_dtype

    def _resolve_precision_override(self) -> None:
        """Called once ``self.dtype`` is known: which dtype ``call`` is forced to run in, if any."""
        if self._mixed_compute is not None:
            self._precision_override = self._mixed_compute
        elif self.dtype is not None and self.dtype.is_floating_point:
            self._precision_override = self.dtype

    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        """The layer's ``DTypePolicy`` (its ``dtype`` argument, or the default float type)."""
        if self._mixed_compute is not None:
            return dtype_policies.DTypePolicy("mixed_" + _dtype_name(self._mixed_compute))
        if self.dtype is not None and self.dtype.is_floating_point:
            return dtype_policies.DTypePolicy(_dtype_name(self.dtype))
        return dtype_policies.DTypePolicy(None)

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in (Keras's ``layer.compute_dtype``)."""
        if self._mixed_compute is not None:
            return _dtype_name(self._mixed_compute)
        return _dtype_name(self.dtype) if self.dtype is not None else _dtype_name(torch.get_default_dtype())

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights (Keras's ``layer.variable_dtype``)."""
        return _dtype_name(self.dtype) if self.dtype is not None else _dtype_name(torch.get_default_dtype())

    def _config_dtype(self) -> str | None:
        """What ``get_config`` stores as ``dtype``: the policy's name, None when not given."""
        if self._mixed_compute is not None:
            return "mixed_" + _dtype_name(self._mixed_compute)
        return _dtype_name(self.dtype) if self.dtype is not None else None

    def _call_in_precision(self, compute: torch.dtype, call, inputs: Any, args: tuple, kwargs: dict):
        """``call(inputs, *args, **kwargs)`` in the dtype the policy forces."""
        tensor = inputs if isinstance(inputs, torch.Tensor) else None
        if tensor is None and isinstance(inputs, (list, tuple)):
            tensor = next((v for v in inputs if isinstance(v, torch.Tensor)), None)
        if tensor is None:
            return call(inputs, *args, **kwargs)
        device = tensor.device.type
        if self._mixed_compute is None:  # weights converted since (``.double()``) set the dtype
            compute = self._compute_dtype() or compute
        inputs = _cast_floats(inputs, compute)
        if self._mixed_compute is not None:
            with torch.autocast(device, dtype=compute):
                return call(inputs, *args, **kwargs)
        if not torch.is_autocast_enabled(device):
            return call(inputs, *args, **kwargs)
        with torch.autocast(device, enabled=False):
            return call(inputs, *args, **kwargs)
