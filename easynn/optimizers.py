"""Keras optimizers (names, defaults, clipping, decoupled weight decay) on top of torch.optim.

An easynn optimizer is created *unbound*, like a Keras one; ``build(params)`` creates the
``torch.optim`` optimizer that does the work (``torch_optimizer``), with Keras's defaults, which
differ from torch's (Adam/RMSprop epsilon 1e-7, RMSprop rho 0.9, Adagrad initial accumulator
0.1, AdamW weight decay 0.004, SGD lr 0.01). ``step()`` adds only a few attribute checks to
torch's own (foreach) step unless clipping, weight decay or a schedule is asked for.

Where the update rules differ from Keras 3 (documented per class):
    * Adam/AdamW/Nadam: torch adds epsilon to ``sqrt(v̂)`` of the bias-corrected ``v̂``; Keras adds
      it to ``sqrt(v)`` and folds the correction into the step size ("epsilon hat"). Keras's
      effective epsilon is ``eps / sqrt(1 - beta_2^t)``: the two agree unless ``|g|`` ~ 1e-7.
    * RMSprop/Adagrad: Keras divides by ``sqrt(v + eps)``, torch by ``sqrt(v) + eps``.
    * SGD momentum (``v = m v - lr g``) and RMSprop momentum fold lr into the buffer in Keras and
      not in torch: identical at a constant learning rate, different after it changes.
    * ``weight_decay`` is decoupled, as in Keras: ``w -= lr * wd * w`` before each update.
    * ``lr=`` is accepted with a DeprecationWarning (Keras 3 rejects it), so Keras 2 scripts run.

Contract used by the training loop: ``build(params)``, ``built``, ``step()``, ``zero_grad()``,
``learning_rate`` (read/write at any time), ``iterations``, ``state_dict()/load_state_dict()``,
``get_config()/from_config()``, ``torch_optimizer``.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([10.0]))
    >>> opt = RMSprop(learning_rate=0.1)
    >>> opt.build([w])
    >>> (w ** 2 / 2).sum().backward()
    >>> opt.step()
    >>> round(w.item(), 4)  # Keras documents 9.683772
    9.6838
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import sys
import warnings
from typing import Any, Callable, Iterable

import torch

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Nadam", "Adamax",
    "TorchOptimizer", "LearningRateSchedule", "ExponentialDecay", "get", "serialize",
]


# --------------------------------------------------------------------------- schedules

class LearningRateSchedule:
    """Base class: ``schedule(step) -> float`` gives the learning rate at an iteration count.

    Computed in Python floats, so setting it each step costs no device sync.
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored if ``staircase``).

    Example:
        >>> s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
        >>> s(0), s(19), s(20)
        (0.1, 0.05, 0.025)
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str = "ExponentialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"`decay_steps` must be > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.decay_rate = float(decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


_SCHEDULES = {"ExponentialDecay": ExponentialDecay}


# --------------------------------------------------------------------------- base

_UNSUPPORTED = ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                "gradient_accumulation_steps")


def _positive_or_none(name: str, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number or None. Received: {name}={value!r}")
    return float(value)


class Optimizer:
    """Base class: Keras's optimizer arguments over a ``torch.optim`` optimizer.

    Args:
        learning_rate: a float, or a ``LearningRateSchedule`` evaluated at ``iterations`` each step.
        weight_decay: decoupled decay ``w -= lr * weight_decay * w`` applied before each update.
        clipnorm: clip each gradient tensor to this L2 norm.
        clipvalue: clip each gradient entry to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this global L2 norm.
        name: the optimizer name.
        **kwargs: ``lr`` (deprecated alias of ``learning_rate``, warns) and ``decay`` (ignored,
            warns, as in Keras 3). Anything else raises.

    Raises:
        ValueError: for bad values, unknown arguments, or both ``clipnorm`` and ``global_clipnorm``.
    """

    _torch_cls: type | None = None
    _default_lr = 0.001

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name: str | None = None, **kwargs):
        learning_rate = self._legacy_kwargs(learning_rate, kwargs)
        self.name = name or type(self).__name__.lower()
        self.weight_decay = None if weight_decay in (None, 0, 0.0) else _non_negative("weight_decay", weight_decay)
        self.clipnorm = _positive_or_none("clipnorm", clipnorm)
        self.clipvalue = _positive_or_none("clipvalue", clipvalue)
        self.global_clipnorm = _positive_or_none("global_clipnorm", global_clipnorm)
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError(
                "Only one of `clipnorm` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, global_clipnorm={global_clipnorm}"
            )
        self.iterations = 0
        self._schedule: Callable | None = None
        self._lr = None
        self._torch_opt: torch.optim.Optimizer | None = None
        self._param_ids: tuple | None = None
        self._pending_state: dict | None = None
        self.learning_rate = learning_rate

    def _legacy_kwargs(self, learning_rate, kwargs: dict):
        if "lr" in kwargs:
            lr = kwargs.pop("lr")
            warnings.warn(
                "The `lr` argument is deprecated, use `learning_rate` instead (Keras 3 rejects `lr`; "
                "easynn accepts it for Keras 2 scripts).", DeprecationWarning, stacklevel=_user_stacklevel(),
            )
            if learning_rate != self._default_lr and learning_rate != lr:
                raise ValueError(f"Pass only one of `lr` and `learning_rate`. Received: lr={lr}, learning_rate={learning_rate}")
            learning_rate = lr
        if "decay" in kwargs:
            kwargs.pop("decay")
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", UserWarning,
                          stacklevel=_user_stacklevel())
        unsupported = sorted(k for k in kwargs if k in _UNSUPPORTED)
        if unsupported:
            raise ValueError(f"Argument(s) {unsupported} of Keras optimizers are not supported by easynn.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        return learning_rate

    # torch optimizer -------------------------------------------------------
    def _torch_kwargs(self) -> dict:
        """Keyword arguments of ``_torch_cls`` besides ``lr`` (subclasses)."""
        return {}

    def _make_torch_optimizer(self, params: list) -> torch.optim.Optimizer:
        return self._torch_cls(params, lr=self._current_lr(), **self._torch_kwargs())

    @property
    def torch_optimizer(self) -> torch.optim.Optimizer | None:
        """The underlying ``torch.optim.Optimizer`` (``None`` before ``build``)."""
        return self._torch_opt

    @property
    def built(self) -> bool:
        return self._torch_opt is not None

    def build(self, params: Iterable) -> None:
        """Bind the optimizer to ``params`` (tensors or torch param-group dicts).

        Building again with the same parameters is a no-op; with different ones a fresh torch
        optimizer (with empty state) replaces the old one, keeping ``iterations``.

        Raises:
            ValueError: if ``params`` is empty.
        """
        params = list(params)
        if not params:
            raise ValueError("Optimizer.build() received an empty parameter list. The model has no trainable weights.")
        ids = _param_ids(params)
        if self._torch_opt is not None and ids == self._param_ids:
            return
        self._torch_opt = self._make_torch_optimizer(params)
        self._param_ids = ids
        self._after_build()
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.load_state_dict(state)

    def _after_build(self) -> None:
        pass

    # learning rate ----------------------------------------------------------
    def _current_lr(self) -> float:
        return float(self._schedule(self.iterations)) if self._schedule is not None else self._lr

    @property
    def learning_rate(self) -> float:
        """The current learning rate; settable at any time (reaches every param group)."""
        if self._torch_opt is not None:
            return self._torch_opt.param_groups[0]["lr"]
        return self._current_lr()

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(value, LearningRateSchedule) or (callable(value) and not isinstance(value, (int, float))):
            self._schedule = value
        else:
            if self._schedule is not None and self._lr is not None:
                raise TypeError(
                    "This optimizer was created with a LearningRateSchedule as its `learning_rate`, so its "
                    "learning rate cannot be set to a number. Assign a new schedule instead."
                )
            self._lr = _non_negative("learning_rate", value)
        if self._lr is None:  # first assignment of a schedule: remember its start value
            self._lr = self._current_lr()
        if self._torch_opt is not None:
            lr = self._current_lr()
            for group in self._torch_opt.param_groups:
                group["lr"] = lr

    lr = learning_rate  # Keras 2 spelling of the attribute

    # step -----------------------------------------------------------------
    def step(self, closure=None, scaler: "torch.amp.GradScaler | None" = None):
        """Clip gradients (if asked), apply decoupled weight decay (if any), then torch's step.

        Args:
            closure: passed to ``torch.optim.Optimizer.step``.
            scaler: a ``torch.amp.GradScaler`` whose scaled loss produced the gradients (float16
                mixed precision): gradients are unscaled before clipping, the step goes through
                ``scaler.step`` (skipped on inf/NaN) and ``scaler.update()`` is called. Weight
                decay is applied even on a skipped step.

        Raises:
            RuntimeError: if called before ``build``.
        """
        opt = self._torch_opt
        if opt is None:
            raise RuntimeError("Optimizer.step() was called before build(). Call optimizer.build(model.parameters()) first.")
        if self._schedule is not None:
            lr = float(self._schedule(self.iterations))
            for group in opt.param_groups:
                group["lr"] = lr
        if self.clipvalue is not None or self.clipnorm is not None or self.global_clipnorm is not None:
            if scaler is not None:
                scaler.unscale_(opt)
            self._clip()
        if self.weight_decay is not None and self._manual_weight_decay:
            self._decay()
        if scaler is not None:
            loss = scaler.step(opt) if closure is None else scaler.step(opt, closure)
            scaler.update()
        else:
            loss = opt.step() if closure is None else opt.step(closure)
        self.iterations += 1
        return loss

    _manual_weight_decay = True  # False where the torch class already decays decoupled (AdamW)

    def zero_grad(self) -> None:
        """Drop the gradients (``set_to_none=True``); a no-op before ``build``."""
        if self._torch_opt is not None:
            self._torch_opt.zero_grad(set_to_none=True)

    @torch.no_grad()
    def _clip(self) -> None:
        grads = [p.grad for g in self._torch_opt.param_groups for p in g["params"] if p.grad is not None]
        if not grads:
            return
        if self.clipvalue is not None:
            torch._foreach_clamp_min_(grads, -self.clipvalue)
            torch._foreach_clamp_max_(grads, self.clipvalue)
        if self.clipnorm is not None:
            # Keras's clip_by_norm: g * clipnorm / max(||g||, clipnorm), per tensor.
            scales = torch._foreach_norm(grads)
            torch._foreach_clamp_min_(scales, self.clipnorm)
            torch._foreach_reciprocal_(scales)
            torch._foreach_mul_(scales, self.clipnorm)
            torch._foreach_mul_(grads, scales)
        if self.global_clipnorm is not None:
            # Keras's clip_by_global_norm: g * clip / max(global_norm, clip).
            norms = torch._foreach_norm(grads)
            device = grads[0].device
            total = torch.linalg.vector_norm(torch.stack([n.to(device, torch.float32) for n in norms]))
            scale = self.global_clipnorm / total.clamp_min(self.global_clipnorm)
            by_device: dict[torch.device, list] = {}
            for grad in grads:
                by_device.setdefault(grad.device, []).append(grad)
            for dev, group in by_device.items():
                torch._foreach_mul_(group, scale.to(dev))

    @torch.no_grad()
    def _decay(self) -> None:
        for group in self._torch_opt.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                torch._foreach_mul_(params, 1.0 - group["lr"] * self.weight_decay)

    # state ------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"iterations", "learning_rate", "torch"}``; ``torch`` is the torch optimizer's state."""
        return {
            "iterations": self.iterations,
            "learning_rate": self.learning_rate,
            "torch": None if self._torch_opt is None else self._torch_opt.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``state_dict()`` (copied); before ``build`` it is kept and applied at build."""
        if not isinstance(state, dict) or "iterations" not in state:
            raise ValueError("load_state_dict() expects a dict from Optimizer.state_dict() with key 'iterations'.")
        self.iterations = int(state["iterations"])
        if state.get("torch") is not None:
            if self._torch_opt is None:
                self._pending_state = state
                return
            # deepcopy: torch shares the state tensors with the source optimizer otherwise.
            self._torch_opt.load_state_dict(copy.deepcopy(state["torch"]))
        if self._schedule is None and state.get("learning_rate") is not None:
            self.learning_rate = state["learning_rate"]

    # config -----------------------------------------------------------------
    def _hyper(self) -> dict:
        return {}

    def get_config(self) -> dict:
        lr = self._schedule if self._schedule is not None else self._lr
        if isinstance(lr, LearningRateSchedule):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        return {
            "name": self.name, "learning_rate": lr, **self._hyper(), "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm, "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            schedule_cls = _SCHEDULES.get(lr.get("class_name"))
            if schedule_cls is None:
                raise ValueError(f"Unknown learning rate schedule {lr.get('class_name')!r}.")
            config["learning_rate"] = schedule_cls.from_config(lr.get("config", {}))
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self.learning_rate}, built={self.built})"


def _user_stacklevel() -> int:
    """The stacklevel of the first caller outside this module (warnings point at user code)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    return level


def _non_negative(name: str, value) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number{' or a LearningRateSchedule' if name == 'learning_rate' else ''}. "
                        f"Received: {name}={value!r}")
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"`{name}` must be a finite, non-negative number. Received: {name}={value}")
    return float(value)


def _param_ids(params: list) -> tuple:
    if isinstance(params[0], dict):
        return tuple(id(p) for group in params for p in group["params"])
    return tuple(id(p) for p in params)


# --------------------------------------------------------------------------- Keras optimizers

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
        return cls(params, lr=self._current_lr(), **self._torch_kwargs())

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
        return torch.optim.AdamW(params, lr=self._current_lr(), **self._torch_kwargs())


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


# --------------------------------------------------------------------------- torch.optim wrappers

class TorchOptimizer(Optimizer):
    """Wraps a ``torch.optim.Optimizer`` class (unbound, built with torch's own defaults plus
    ``torch_kwargs``) or an instance (already bound to the user's parameters).

    Example:
        >>> import torch
        >>> opt = get(torch.optim.Adam)
        >>> opt.learning_rate, opt.built
        (0.001, False)
    """

    def __init__(self, torch_cls: type, name: str | None = None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **torch_kwargs):
        self._torch_cls = torch_cls
        self.torch_kwargs = dict(torch_kwargs)
        lr = self.torch_kwargs.pop("lr", None)
        if lr is None:
            default = inspect.signature(torch_cls).parameters.get("lr")
            lr = default.default if default is not None and default.default is not inspect.Parameter.empty else 0.001
        super().__init__(float(lr), None, clipnorm, clipvalue, global_clipnorm, name or torch_cls.__name__.lower())

    @classmethod
    def from_instance(cls, optimizer: torch.optim.Optimizer) -> "TorchOptimizer":
        """Wrap an optimizer already bound to parameters; ``build`` then keeps its param groups."""
        self = cls(type(optimizer), lr=optimizer.param_groups[0]["lr"])
        self._torch_opt = optimizer
        self._param_ids = None
        return self

    def build(self, params: Iterable) -> None:
        if self._torch_opt is not None and self._param_ids is None:
            # A user-made torch optimizer: its param groups are the user's. Only check it trains the model.
            params = list(params)
            mine = {id(p) for g in self._torch_opt.param_groups for p in g["params"]}
            if params and not any(i in mine for i in _param_ids(params)):
                raise ValueError(
                    "The torch optimizer passed to compile() was created for other parameters than this "
                    "model's. Create it with torch.optim.X(model.parameters(), ...) after building the model."
                )
            return
        super().build(params)

    def _make_torch_optimizer(self, params):
        return self._torch_cls(params, lr=self._current_lr(), **self.torch_kwargs)

    def get_config(self):
        raise TypeError(f"Cannot serialize the torch optimizer {self._torch_cls.__name__}; pass it again when loading.")


# --------------------------------------------------------------------------- get / serialize

_CLASSES = {c.__name__.lower(): c for c in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Nadam, Adamax)}


def get(identifier: Any) -> Optimizer | None:
    """Resolve an optimizer identifier.

    Accepts a Keras name (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``,
    ``"adadelta"``, ``"nadam"``, ``"adamax"``; case-insensitive), a ``{"class_name", "config"}``
    dict, an easynn ``Optimizer`` (instance or class), a ``torch.optim.Optimizer`` subclass
    (wrapped unbound, built with torch's defaults) or instance (wrapped as built).

    Raises:
        ValueError: for an unknown name, listing the valid ones.
        TypeError: for anything else.

    Example:
        >>> opt = get("RMSprop")
        >>> type(opt).__name__, opt.learning_rate, opt.rho
        ('RMSprop', 0.001, 0.9)
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier.lower())
        if cls is None:
            raise ValueError(
                f"Unknown optimizer '{identifier}'. Expected one of: {', '.join(_CLASSES)}, an easynn "
                "Optimizer or a torch.optim optimizer."
            )
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(str(identifier["class_name"]).lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer class '{identifier['class_name']}'. Expected one of: {', '.join(_CLASSES)}.")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, torch.optim.Optimizer):
        return TorchOptimizer.from_instance(identifier)
    if isinstance(identifier, type):
        if issubclass(identifier, Optimizer) and identifier is not TorchOptimizer:
            return identifier()
        if issubclass(identifier, torch.optim.Optimizer):
            return TorchOptimizer(identifier)
    raise TypeError(
        f"Could not interpret optimizer identifier: {identifier!r}. Expected a name such as 'adam', an easynn "
        "Optimizer, or a torch.optim optimizer class or instance."
    )


def serialize(optimizer: Any) -> Any:
    """``{"class_name", "config"}`` for an easynn optimizer; names pass through.

    Raises:
        TypeError: for wrapped torch optimizers.
    """
    if optimizer is None or isinstance(optimizer, str):
        return optimizer
    if isinstance(optimizer, Optimizer):
        return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
    raise TypeError(f"Cannot serialize optimizer {optimizer!r}.")
