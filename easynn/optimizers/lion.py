"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"): sign updates.

Formula (Keras 3's): ``c = beta_1 m + (1 - beta_1) g``; ``w -= lr * sign(c)``;
``m = beta_2 m + (1 - beta_2) g``. Torch has no Lion, so ``_TorchLion`` implements it as a
``torch.optim.Optimizer`` with foreach ops (no host sync).
"""

from __future__ import annotations

import torch

from easynn.optimizers.base import Optimizer

__all__ = ["Lion"]


class _TorchLion(torch.optim.Optimizer):
    def __init__(self, params, lr: float, betas: tuple[float, float]):
        super().__init__(params, {"lr": lr, "betas": betas})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            moments = []
            for p in params:
                state = self.state[p]
                if "m" not in state:
                    state["m"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                moments.append(state["m"])
            beta_1, beta_2 = group["betas"]
            update = torch._foreach_lerp(moments, grads, 1.0 - beta_1)  # beta_1 m + (1 - beta_1) g
            torch._foreach_sign_(update)
            torch._foreach_add_(params, update, alpha=-group["lr"])
            torch._foreach_lerp_(moments, grads, 1.0 - beta_2)
        return loss


class Lion(Optimizer):
    """Lion: the sign of an interpolated momentum as the update (Keras's defaults).

    Args:
        learning_rate: 0.001 (Lion wants a 3-10x smaller rate than Adam). beta_1: 0.9.
        beta_2: 0.99. Other arguments: see ``Optimizer``.

    Raises:
        ValueError: for ``beta_1`` outside (0, 1].

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0, -1.0]))
        >>> opt = Lion(learning_rate=0.1)
        >>> opt.apply([torch.tensor([0.5, -3.0])], [w])
        >>> [round(v, 4) for v in w.tolist()]
        [0.9, -0.9]
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.99, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "lion", **kwargs):
        if not 0 < beta_1 <= 1:
            raise ValueError(f"`beta_1` must be in (0, 1]. Received: beta_1={beta_1!r}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)

    def _make_torch_optimizer(self, params):
        return _TorchLion(params, lr=self._current_lr(), betas=(self.beta_1, self.beta_2))

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}
