"""The Adam family over torch.optim: Adam, AdamW, Nadam, Adamax (Keras's defaults).

Where the update rules differ from Keras 3 (documented per class):
    * torch adds epsilon to ``sqrt(v̂)`` of the bias-corrected ``v̂``; Keras adds it to
      ``sqrt(v)`` and folds the correction into the step size ("epsilon hat"). Keras's effective
      epsilon is ``eps / sqrt(1 - beta_2^t)``: the two agree unless ``|g|`` ~ 1e-7.
    * ``weight_decay`` is decoupled, as in Keras: ``w -= lr * wd * w`` before each update.
"""

from __future__ import annotations

import torch

from easynn.optimizers._kernels import fused_or_default
from easynn.optimizers.base import Optimizer

__all__ = ["Adam", "AdamW", "Nadam", "Adamax"]


class Adam(Optimizer):
    """Adam: ``torch.optim.Adam`` with Keras's epsilon 1e-7.

    With ``weight_decay`` it runs ``torch.optim.AdamW`` (decoupled decay, as Keras's Adam does).

    Args:
        learning_rate: 0.001. beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7 (torch: 1e-8).
        amsgrad: use the AMSGrad variant.
    """

    _torch_cls = torch.optim.Adam

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name: str = "adam", **kwargs):
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = float(beta_1), float(beta_2), float(epsilon), bool(amsgrad)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)

    _manual_weight_decay = False

    def _make_torch_optimizer(self, params):
        cls = torch.optim.AdamW if self.weight_decay is not None else torch.optim.Adam
        return fused_or_default(cls, params, lr=self._current_lr(), **self._torch_kwargs())

    def _torch_kwargs(self):
        return {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon, "amsgrad": self.amsgrad,
                "weight_decay": self.weight_decay or 0.0}

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay: ``torch.optim.AdamW``, Keras's ``weight_decay=0.004``."""

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name: str = "adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, **kwargs)

    def _make_torch_optimizer(self, params):
        return fused_or_default(torch.optim.AdamW, params, lr=self._current_lr(), **self._torch_kwargs())


class Nadam(Adam):
    """Nadam: ``torch.optim.NAdam`` with ``momentum_decay=1`` so that its momentum schedule
    ``beta_1 (1 - 0.5 * 0.96^t)`` is Keras 3's."""

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "nadam", **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, False, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, **kwargs)

    _manual_weight_decay = True

    def _make_torch_optimizer(self, params):
        return torch.optim.NAdam(params, lr=self._current_lr(), betas=(self.beta_1, self.beta_2), eps=self.epsilon,
                                 momentum_decay=1.0)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adamax(Adam):
    """Adamax: ``torch.optim.Adamax`` (torch adds eps inside the max, Keras to the denominator)."""

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "adamax", **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, False, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, **kwargs)

    _manual_weight_decay = True

    def _make_torch_optimizer(self, params):
        return torch.optim.Adamax(params, lr=self._current_lr(), betas=(self.beta_1, self.beta_2), eps=self.epsilon)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
