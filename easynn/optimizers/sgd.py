"""Stochastic gradient descent (with optional Nesterov momentum) over ``torch.optim.SGD``."""

from __future__ import annotations

import torch

from easynn.optimizers.base import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum: ``torch.optim.SGD``.

    Keras: ``v = momentum * v - lr * g; w += v``; torch: ``b = momentum * b + g; w -= lr * b``
    (the same at a constant learning rate).

    Args:
        learning_rate: 0.01 (Keras's default). momentum: in [0, 1]. nesterov: Nesterov momentum.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs: see ``Optimizer``.
    """

    _torch_cls = torch.optim.SGD
    _default_lr = 0.01

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "SGD", **kwargs):
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)

    def _torch_kwargs(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov and self.momentum > 0}

    def _hyper(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}
