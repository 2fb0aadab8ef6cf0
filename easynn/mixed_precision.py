"""Mixed precision with Keras's policy names.

``"mixed_float16"`` and ``"mixed_bfloat16"`` run the forward pass under ``torch.autocast`` in that
dtype while the weights stay float32; ``"mixed_float16"`` also scales the loss
(``torch.amp.GradScaler``) so small float16 gradients do not flush to zero. ``"float32"`` (the
default) turns it off. A policy applies to models compiled after it is set; ``compile(...,
mixed_precision=...)`` overrides it for one model.

Example:
    >>> set_global_policy("mixed_bfloat16")
    >>> global_policy()
    'mixed_bfloat16'
    >>> set_global_policy("float32")
"""

from __future__ import annotations

__all__ = ["set_global_policy", "global_policy", "Policy"]

_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
_current = "float32"


class Policy:
    """A named precision policy, as ``keras.mixed_precision.Policy``.

    Args:
        name: ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``.
    """

    def __init__(self, name: str):
        if name not in _POLICIES:
            raise ValueError(f"Unknown mixed precision policy {name!r}. Expected one of: {', '.join(_POLICIES)}.")
        self.name = name

    @property
    def compute_dtype(self) -> str:
        return {"float32": "float32", "mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}[self.name]

    @property
    def variable_dtype(self) -> str:
        return "float32"

    def __repr__(self) -> str:
        return f'<Policy "{self.name}">'


def set_global_policy(policy: str | Policy) -> None:
    """Set the policy used by models compiled from now on.

    Raises:
        ValueError: for an unknown policy name.
    """
    global _current
    name = policy.name if isinstance(policy, Policy) else policy
    Policy(name)  # validates
    _current = name


def global_policy() -> str:
    """The current policy name."""
    return _current
