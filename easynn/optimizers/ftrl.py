"""FTRL-Proximal (McMahan et al., 2013), with Keras 3's arguments and update.

Formula, per coordinate, with ``p = -learning_rate_power`` and
``l2 = l2_regularization_strength + beta / (2 lr)``::

    g' = g + 2 * l2_shrinkage * w
    n' = n + g²
    z += g' - (n'^p - n^p) / lr * w
    w  = (clip(z, -l1, l1) - z) / (n'^p / lr + 2 l2)
    n  = n'

Torch has no FTRL; ``_TorchFtrl`` implements it as a ``torch.optim.Optimizer``.
"""

from __future__ import annotations

import torch

from easynn.optimizers.base import Optimizer

__all__ = ["Ftrl"]


class _TorchFtrl(torch.optim.Optimizer):
    def __init__(self, params, lr: float, lr_power: float, initial_accumulator_value: float, l1: float, l2: float,
                 l2_shrinkage: float, beta: float):
        super().__init__(params, {"lr": lr, "lr_power": lr_power, "initial_accumulator_value": initial_accumulator_value,
                                  "l1": l1, "l2": l2, "l2_shrinkage": l2_shrinkage, "beta": beta})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, power = group["lr"], -group["lr_power"]
            l2 = group["l2"] + group["beta"] / (2.0 * lr)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "accumulator" not in state:
                    state["accumulator"] = torch.full_like(p, group["initial_accumulator_value"])
                    state["linear"] = torch.zeros_like(p)
                n, z, g = state["accumulator"], state["linear"], p.grad
                g_shrunk = g + 2.0 * group["l2_shrinkage"] * p if group["l2_shrinkage"] else g
                new_n = n + g * g
                z.add_(g_shrunk - (new_n.pow(power) - n.pow(power)) / lr * p)
                quadratic = new_n.pow(power) / lr + 2.0 * l2
                p.copy_((z.clamp(-group["l1"], group["l1"]) - z) / quadratic)
                n.copy_(new_n)
        return loss


class Ftrl(Optimizer):
    """FTRL-Proximal: per-coordinate rates with L1/L2 regularization (Keras's defaults).

    Args:
        learning_rate: 0.001. learning_rate_power: -0.5 (<= 0). initial_accumulator_value: 0.1
        (>= 0). l1_regularization_strength, l2_regularization_strength,
        l2_shrinkage_regularization_strength: 0.0 (>= 0). beta: 0.0.

    Raises:
        ValueError: for a positive ``learning_rate_power`` or a negative strength/accumulator.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([0.0]))
        >>> opt = Ftrl(learning_rate=1.0, initial_accumulator_value=0.0)
        >>> opt.apply([torch.tensor([2.0])], [w])
        >>> w.tolist()  # z = 2, n = 4: w = -z / sqrt(n) / lr
        [-1.0]
    """

    def __init__(self, learning_rate=0.001, learning_rate_power: float = -0.5, initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0, l2_regularization_strength: float = 0.0,
                 l2_shrinkage_regularization_strength: float = 0.0, beta: float = 0.0, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "ftrl", **kwargs):
        if learning_rate_power > 0:
            raise ValueError(f"`learning_rate_power` must be <= 0. Received: learning_rate_power={learning_rate_power}")
        for key, value in (("initial_accumulator_value", initial_accumulator_value),
                           ("l1_regularization_strength", l1_regularization_strength),
                           ("l2_regularization_strength", l2_regularization_strength),
                           ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)):
            if value < 0:
                raise ValueError(f"`{key}` must be >= 0. Received: {key}={value}")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)

    def _make_torch_optimizer(self, params):
        return _TorchFtrl(params, self._current_lr(), self.learning_rate_power, self.initial_accumulator_value,
                          self.l1_regularization_strength, self.l2_regularization_strength,
                          self.l2_shrinkage_regularization_strength, self.beta)

    def _hyper(self):
        return {"learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength, "beta": self.beta}
