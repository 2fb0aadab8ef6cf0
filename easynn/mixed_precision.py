"""Mixed precision with Keras's policy names (``keras.mixed_precision``).

``"mixed_float16"`` and ``"mixed_bfloat16"`` run the forward pass under ``torch.autocast`` in that
dtype while the weights stay float32; ``"mixed_float16"`` also scales the loss
(``torch.amp.GradScaler``) so small float16 gradients do not flush to zero. ``"float32"`` (the
default) turns it off. The global policy applies to models compiled after it is set;
``compile(..., mixed_precision=...)`` overrides it for one model, and a layer's own ``dtype``
policy (``Dense(8, dtype="mixed_bfloat16")``, ``Activation("softmax", dtype="float32")``)
overrides it for that layer. The policies themselves live in ``easynn.dtype_policies``; this
module keeps Keras's ``mixed_precision`` names for them (Keras 2's ``Policy``,
``set_global_policy`` and ``global_policy`` included), and Keras's ``LossScaleOptimizer`` (the one in
``easynn.optimizers``: dynamic loss scaling that ``fit`` uses instead of its own GradScaler).

Example:
    >>> set_global_policy("mixed_bfloat16")
    >>> global_policy().name, global_policy().compute_dtype
    ('mixed_bfloat16', 'bfloat16')
    >>> set_global_policy("float32")
"""

from __future__ import annotations

from easynn.dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy
from easynn.optimizers.loss_scale import LossScaleOptimizer

__all__ = ["DTypePolicy", "Policy", "dtype_policy", "set_dtype_policy", "set_global_policy", "global_policy",
           "LossScaleOptimizer"]

# Keras 2's name for the same object.
Policy = DTypePolicy


def set_global_policy(policy: str | DTypePolicy) -> None:
    """Keras 2's name for ``set_dtype_policy``: the policy of the models compiled from now on.

    Raises:
        ValueError: for a policy other than ``"float32"``, ``"mixed_float16"``, ``"mixed_bfloat16"``.
    """
    set_dtype_policy(policy)


def global_policy() -> DTypePolicy:
    """Keras 2's name for ``dtype_policy()``: the global policy (equal to its name)."""
    return dtype_policy()
