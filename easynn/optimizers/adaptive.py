"""Per-coordinate adaptive optimizers over torch.optim: RMSprop, Adagrad, Adadelta, Adafactor.

Keras divides by ``sqrt(v + eps)`` and torch by ``sqrt(v) + eps`` (RMSprop, Adagrad); RMSprop's
momentum folds lr into the buffer in Keras and not in torch (identical at a constant rate).
"""

from __future__ import annotations

import torch

from easynn.optimizers.base import Optimizer

__all__ = ["RMSprop", "Adagrad", "Adadelta", "Adafactor"]


class RMSprop(Optimizer):
    """RMSprop: ``torch.optim.RMSprop`` with Keras's ``rho=0.9`` (torch alpha 0.99), eps 1e-7.

    Keras divides by ``sqrt(v + eps)`` and torch by ``sqrt(v) + eps``.
    """

    _torch_cls = torch.optim.RMSprop

    def __init__(self, learning_rate=0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name: str = "rmsprop", **kwargs):
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), bool(centered)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)

    def _torch_kwargs(self):
        return {"alpha": self.rho, "eps": self.epsilon, "momentum": self.momentum, "centered": self.centered}

    def _hyper(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad: ``torch.optim.Adagrad`` with Keras's lr 0.001 and initial accumulator 0.1."""

    _torch_cls = torch.optim.Adagrad

    def __init__(self, learning_rate=0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "adagrad",
                 **kwargs):
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)

    def _torch_kwargs(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "eps": self.epsilon}

    def _hyper(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: ``torch.optim.Adadelta`` with Keras's lr 0.001 (torch 1.0), rho 0.95, eps 1e-7."""

    _torch_cls = torch.optim.Adadelta

    def __init__(self, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "adadelta", **kwargs):
        self.rho, self.epsilon = float(rho), float(epsilon)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)

    def _torch_kwargs(self):
        return {"rho": self.rho, "eps": self.epsilon}

    def _hyper(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018): factored second moments, ``torch.optim.Adafactor``.

    The step size is relative, as Keras's ``relative_step=True``: ``min(lr, 1/sqrt(t))`` times
    ``max(epsilon_2, RMS(w))``; updates are clipped to RMS ``clip_threshold``.

    Args:
        learning_rate: 0.001. beta_2_decay: -0.8 (the second-moment decay ``1 - t^beta_2_decay``).
        epsilon_1: 1e-30 (added to squared gradients). epsilon_2: 1e-3 (smallest weight scale).
        clip_threshold: 1.0. relative_step: must be True (torch's Adafactor is always relative).

    Raises:
        ValueError: for ``relative_step=False``.
    """

    def __init__(self, learning_rate=0.001, beta_2_decay: float = -0.8, epsilon_1: float = 1e-30,
                 epsilon_2: float = 1e-3, clip_threshold: float = 1.0, relative_step: bool = True, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "adafactor", **kwargs):
        if not relative_step:
            raise ValueError("Adafactor(relative_step=False) is not supported by easynn (torch's Adafactor always "
                             "uses the relative step). Received: relative_step=False")
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = float(beta_2_decay), float(epsilon_1), float(epsilon_2)
        self.clip_threshold, self.relative_step = float(clip_threshold), True
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)

    def _make_torch_optimizer(self, params):
        return torch.optim.Adafactor(params, lr=self._current_lr(), beta2_decay=self.beta_2_decay,
                                     eps=(self.epsilon_1, self.epsilon_2), d=self.clip_threshold)

    def _hyper(self):
        return {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}
