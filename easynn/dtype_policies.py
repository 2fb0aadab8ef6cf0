"""Dtype policies: in which dtype a layer keeps its weights, and in which it computes.

A Keras dtype policy is a name. ``"float32"`` (or ``"float64"``, ``"bfloat16"``, ...) means one
dtype for both; ``"mixed_float16"`` and ``"mixed_bfloat16"`` mean *mixed precision*: the weights
stay float32 (so small updates are not rounded away), the layer computes in the half type (faster
on GPUs with tensor cores, half the activation memory)::

    policy             variable_dtype   compute_dtype
    "float32"          float32          float32
    "float64"          float64          float64
    "mixed_float16"    float32          float16
    "mixed_bfloat16"   float32          bfloat16

A layer takes a policy as its ``dtype`` argument (``Dense(64, dtype="mixed_bfloat16")``); the
global policy (``set_dtype_policy``, also ``easynn.config.set_dtype_policy`` and
``easynn.mixed_precision.set_global_policy``) is the one models use when they are compiled:
``compile`` runs the forward pass under ``torch.autocast`` in the compute dtype and, for
``mixed_float16``, scales the loss. A layer given an explicit float policy (the usual
``Activation("softmax", dtype="float32")`` at the end of a mixed model) computes in that dtype
even inside a mixed-precision model, as in Keras.

Policies compare equal to their names, so ``global_policy() == "mixed_float16"`` reads naturally.

Example:
    >>> policy = DTypePolicy("mixed_bfloat16")
    >>> policy.variable_dtype, policy.compute_dtype
    ('float32', 'bfloat16')
    >>> policy == "mixed_bfloat16"
    True
    >>> deserialize(serialize(policy)) == policy
    True
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["DTypePolicy", "FloatDTypePolicy", "get", "serialize", "deserialize", "dtype_policy", "set_dtype_policy"]

_FLOATS = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}
_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
# What the global policy may be: compile() turns it into autocast, which needs float32 weights.
_GLOBAL_NAMES = ("float32", "mixed_float16", "mixed_bfloat16")


def _default_name() -> str:
    """The default float type (``easynn.config.floatx()``, which is torch's default dtype)."""
    return str(torch.get_default_dtype()).replace("torch.", "")


class DTypePolicy:
    """A named dtype policy, as ``keras.DTypePolicy``.

    Args:
        name: ``"float32"``, ``"float64"``, ``"float16"``, ``"bfloat16"``, ``"mixed_float16"`` or
            ``"mixed_bfloat16"``; ``None`` is the default float type (``config.floatx()``).

    Raises:
        ValueError: for any other name.
    """

    def __init__(self, name: str | None = None):
        if name is None:
            name = _default_name()
        if not isinstance(name, str) or (name not in _FLOATS and name not in _MIXED):
            raise ValueError(
                "Unknown dtype policy: `name` must be one of 'float32', 'float64', 'float16', 'bfloat16', "
                f"'mixed_float16' or 'mixed_bfloat16'. Received: name={name!r}"
            )
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in."""
        return _MIXED.get(self._name, self._name)

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights (float32 for the mixed policies)."""
        return "float32" if self._name in _MIXED else self._name

    @property
    def is_mixed(self) -> bool:
        """Whether the weights and the computation differ in dtype."""
        return self._name in _MIXED

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> "DTypePolicy":
        return cls(**config)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, DTypePolicy):
            return other.name == self._name
        if isinstance(other, str):
            return other == self._name
        return NotImplemented

    def __hash__(self) -> int:  # equal to its name, so it hashes like it (dict lookups by name)
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


# Keras 3 names the float policies' class FloatDTypePolicy; it is the same policy here.
FloatDTypePolicy = DTypePolicy


def get(identifier: Any) -> DTypePolicy:
    """A policy from a name, a ``torch.dtype``, a policy or its serialized dict.

    Raises:
        ValueError: for anything else.
    """
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, torch.dtype):
        return DTypePolicy(str(identifier).replace("torch.", ""))
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if identifier is None or isinstance(identifier, str):
        return DTypePolicy(identifier)
    raise ValueError(
        f"Expected a dtype policy: a name such as 'mixed_float16', a torch.dtype or a DTypePolicy. "
        f"Received: {identifier!r}"
    )


def serialize(policy: DTypePolicy) -> dict:
    """Keras's serialized form: ``{"class_name": "DTypePolicy", "config": {"name": ...}}``."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config()}


def deserialize(config: Any) -> DTypePolicy:
    """The inverse of ``serialize``; also takes a plain name.

    Raises:
        ValueError: for a dict of another class, or an unknown name.
    """
    if isinstance(config, str):
        return DTypePolicy(config)
    if not isinstance(config, dict) or config.get("class_name") not in ("DTypePolicy", "FloatDTypePolicy"):
        raise ValueError(f"Expected a serialized DTypePolicy (class_name 'DTypePolicy'). Received: {config!r}")
    return DTypePolicy.from_config(config.get("config") or {})


_global = DTypePolicy("float32")


def dtype_policy() -> DTypePolicy:
    """The global dtype policy (``"float32"`` unless changed)."""
    return _global


def set_dtype_policy(policy: Any) -> None:
    """Set the global policy, used by the models compiled from now on.

    Args:
        policy: ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"`` (a name or a
            ``DTypePolicy``). For float64 everywhere, use ``easynn.config.set_floatx("float64")``.

    Raises:
        ValueError: for any other policy; the global policy is then unchanged.
    """
    global _global
    resolved = get(policy)
    if resolved.name not in _GLOBAL_NAMES:
        raise ValueError(
            "The global dtype policy must be 'float32', 'mixed_float16' or 'mixed_bfloat16' (for float64 "
            f"weights everywhere, call easynn.config.set_floatx('float64')). Received: policy={policy!r}"
        )
    _global = resolved


def split_layer_dtype(dtype: Any) -> tuple[Any, torch.dtype | None]:
    """A layer's ``dtype`` argument -> (the dtype of its weights, its mixed compute dtype or None).

    A mixed policy (by name, as a ``DTypePolicy`` or serialized) gives float32 weights and its
    half compute dtype; another ``DTypePolicy`` gives its one dtype; anything else (``None``, a
    ``torch.dtype``, a dtype name such as ``"int32"`` for lookup layers) is returned as given.

    Example:
        >>> split_layer_dtype("mixed_float16")
        (torch.float32, torch.float16)
        >>> split_layer_dtype("float64")
        ('float64', None)
    """
    if isinstance(dtype, dict):
        dtype = deserialize(dtype)
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        dtype = DTypePolicy(dtype)  # an unknown mixed name raises here
    if isinstance(dtype, DTypePolicy):
        if dtype.is_mixed:
            return torch.float32, _FLOATS[dtype.compute_dtype]
        return _FLOATS[dtype.name], None
    return dtype, None
