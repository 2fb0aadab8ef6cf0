"""LAMB (You et al., 2019): Adam's step rescaled per tensor by a trust ratio.

Formula (Keras 3's): Adam's bias-corrected ``u = m̂ / (sqrt(v̂) + eps)``; the trust ratio is
``||w|| / ||u||`` (1 when either norm is 0); ``w -= lr * ratio * u``. Torch has no LAMB;
``_TorchLamb`` implements it as a ``torch.optim.Optimizer`` with foreach ops.
"""

from __future__ import annotations

import torch

from easynn.optimizers.base import Optimizer

__all__ = ["Lamb"]


class _TorchLamb(torch.optim.Optimizer):
    def __init__(self, params, lr: float, betas: tuple[float, float], eps: float):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

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
            beta_1, beta_2 = group["betas"]
            ms, vs = [], []
            for p in params:
                state = self.state[p]
                if "m" not in state:
                    state["step"] = 0
                    state["m"], state["v"] = torch.zeros_like(p), torch.zeros_like(p)
                state["step"] += 1
                ms.append(state["m"])
                vs.append(state["v"])
            t = self.state[params[0]]["step"]
            grads = [p.grad for p in params]
            torch._foreach_lerp_(ms, grads, 1.0 - beta_1)
            torch._foreach_mul_(vs, beta_2)
            torch._foreach_addcmul_(vs, grads, grads, value=1.0 - beta_2)
            m_hat = torch._foreach_div(ms, 1.0 - beta_1 ** t)
            denom = torch._foreach_sqrt(torch._foreach_div(vs, 1.0 - beta_2 ** t))
            torch._foreach_add_(denom, group["eps"])
            update = torch._foreach_div(m_hat, denom)
            w_norms, u_norms = torch._foreach_norm(params), torch._foreach_norm(update)
            ratios = [torch.where((w > 0) & (u > 0), w / u, torch.ones_like(w)) for w, u in zip(w_norms, u_norms)]
            torch._foreach_mul_(update, ratios)
            torch._foreach_add_(params, update, alpha=-group["lr"])
        return loss


class Lamb(Optimizer):
    """LAMB: layer-wise adaptive Adam for large batches (Keras's defaults).

    Args:
        learning_rate: 0.001. beta_1: 0.9. beta_2: 0.999. epsilon: 1e-6.
        Other arguments: see ``Optimizer``.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
        >>> opt = Lamb(learning_rate=0.1)
        >>> opt.apply([torch.tensor([1.0, 1.0])], [w])
        >>> [round(v, 4) for v in w.tolist()]  # u = (1, 1), ratio = 5 / sqrt(2)
        [2.6464, 3.6464]
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-6,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "lamb", **kwargs):
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)

    def _make_torch_optimizer(self, params):
        return _TorchLamb(params, lr=self._current_lr(), betas=(self.beta_1, self.beta_2), eps=self.epsilon)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
