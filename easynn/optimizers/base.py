"""The optimizer base: Keras's optimizer arguments and methods over a ``torch.optim`` optimizer.

An easynn optimizer is created *unbound*, like a Keras one; ``build(variables)`` creates the
``torch.optim`` optimizer that does the work (``torch_optimizer``). This module holds the
optimizer as an object (arguments, binding, learning rate, state, config); the update itself
(``apply``, ``step`` and the Keras extras around torch's step) is in ``_update.py``. ``step()``
adds only a few attribute checks to torch's own (foreach) step unless clipping, weight decay, a
schedule, EMA, gradient accumulation or weight constraints are used; none of them syncs with the host.

Contract used by the training loop (``easynn.training``) and by saving: ``build(params)``,
``built``, ``step(scaler=)``, ``zero_grad()``, ``learning_rate`` (read/write at any time),
``iterations``, ``state_dict()/load_state_dict()``, ``get_config()/from_config()``,
``torch_optimizer``, ``scale_loss(loss)`` and ``finalize_variable_values(variables)``.

Keras's own API on top: ``apply(grads, variables=None)``, ``apply_gradients(zip(grads, vars))``,
``variables``, ``iterations``, ``learning_rate`` (a float or a schedule).

Example (a hand-written loop, as in keras-io's custom training loop guide):
    >>> import torch
    >>> from easynn.optimizers.sgd import SGD
    >>> w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    >>> opt = SGD(learning_rate=0.1)
    >>> loss = (w ** 2).sum()
    >>> loss.backward()
    >>> opt.apply([w.grad], [w])
    >>> w.tolist(), opt.iterations
    ([0.800000011920929, 1.600000023841858], 1)
"""

from __future__ import annotations

import copy
import math
import numbers
import sys
import warnings
from typing import Callable, Iterable

import torch

from easynn._dynamo_lazy import defer_dynamo_import
from easynn.optimizers._kernels import fused_or_default, laid_out_like
from easynn.optimizers._update import _as_tensor, _UpdateStep
from easynn.optimizers.schedules import _SCHEDULES, LearningRateSchedule

__all__ = ["Optimizer"]


def _positive_or_none(name: str, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number or None. Received: {name}={value!r}")
    return float(value)


def _user_stacklevel() -> int:
    """The stacklevel of the first caller outside this package (warnings point at user code)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("easynn.optimizers"):
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




class Optimizer(_UpdateStep):
    """Base class: Keras's optimizer arguments over a ``torch.optim`` optimizer.

    Args:
        learning_rate: a float, or a ``LearningRateSchedule`` evaluated at ``iterations`` each step.
        weight_decay: decoupled decay ``w -= lr * weight_decay * w`` applied before each update.
        clipnorm: clip each gradient tensor to this L2 norm.
        clipvalue: clip each gradient entry to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this global L2 norm.
        use_ema: keep an exponential moving average of the weights,
            ``ema = ema_momentum * ema + (1 - ema_momentum) * w`` after each update (the first
            update copies ``w``); ``finalize_variable_values`` writes it into the weights.
        ema_momentum: 0.99.
        ema_overwrite_frequency: every this many updates, copy the average into the weights.
        loss_scale_factor: ``scale_loss(loss)`` multiplies the loss by it and the next update
            divides the gradients by it (static loss scaling, as Keras).
        gradient_accumulation_steps: apply one update every this many steps, with the mean of
            the gradients accumulated since the last one; ``iterations`` counts updates.
        name: the optimizer name.
        **kwargs: ``lr`` (deprecated alias of ``learning_rate``, warns) and ``decay`` (ignored,
            warns, as in Keras 3). Anything else raises.

    Raises:
        ValueError: for bad values, unknown arguments, or both ``clipnorm`` and ``global_clipnorm``.
    """

    _torch_cls: type | None = None
    _default_lr = 0.001
    _manual_weight_decay = True  # False where the torch class already decays decoupled (AdamW)

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name: str | None = None, use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None, loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, **kwargs):
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
        self.use_ema = bool(use_ema)
        if isinstance(ema_momentum, bool) or not isinstance(ema_momentum, (int, float)) or not 0 <= ema_momentum <= 1:
            raise ValueError(f"`ema_momentum` must be in [0, 1]. Received: ema_momentum={ema_momentum!r}")
        self.ema_momentum = float(ema_momentum)
        self.ema_overwrite_frequency = _optional_positive_int("ema_overwrite_frequency", ema_overwrite_frequency)
        self.loss_scale_factor = _positive_or_none("loss_scale_factor", loss_scale_factor)
        self.gradient_accumulation_steps = _optional_positive_int("gradient_accumulation_steps",
                                                                  gradient_accumulation_steps)
        self._steps = 0  # calls of step()/apply(); updates = steps // gradient_accumulation_steps
        self._schedule: Callable | None = None
        self._lr = None
        self._torch_opt: torch.optim.Optimizer | None = None
        self._param_ids: tuple | None = None
        self._pending_state: dict | None = None
        self._ema: list[torch.Tensor] | None = None
        self._accumulators: list[torch.Tensor] | None = None
        self._loss_scaled = False
        self._constrained, self._constraints_seen = [], -1  # see _update._UpdateStep._apply_constraints
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
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        return learning_rate

    # torch optimizer -------------------------------------------------------
    def _torch_kwargs(self) -> dict:
        """Keyword arguments of ``_torch_cls`` besides ``lr`` (subclasses)."""
        return {}

    def _make_torch_optimizer(self, params: list) -> torch.optim.Optimizer:
        """``_torch_cls`` bound to ``params``, with torch's fused kernels where it has them."""
        return fused_or_default(self._torch_cls, params, lr=self._current_lr(), **self._torch_kwargs())

    @property
    def torch_optimizer(self) -> torch.optim.Optimizer | None:
        """The underlying ``torch.optim.Optimizer`` (``None`` before ``build``)."""
        return self._torch_opt

    @property
    def built(self) -> bool:
        return self._torch_opt is not None

    def build(self, variables: Iterable) -> None:
        """Bind the optimizer to ``variables`` (tensors, variables with a ``value`` tensor, or
        torch param-group dicts).

        Building again with the same parameters is a no-op; with different ones a fresh torch
        optimizer (with empty state) replaces the old one, keeping ``iterations``.

        Raises:
            ValueError: if ``variables`` is empty.
        """
        params = [p if isinstance(p, dict) else _as_tensor(p) for p in variables]
        if not params:
            raise ValueError("Optimizer.build() received an empty parameter list. The model has no trainable weights.")
        ids = _param_ids(params)
        if self._torch_opt is not None and ids == self._param_ids:
            return
        # torch.optim imports torch._dynamo (1.5 s+) on first use even in eager mode; defer it
        # until dynamo is really loaded (jit_compile=True). See easynn/_dynamo_lazy.py.
        defer_dynamo_import(torch.optim.Optimizer)
        self._torch_opt = self._make_torch_optimizer(params)
        defer_dynamo_import(type(self._torch_opt))
        self._param_ids = ids
        self._ema = self._accumulators = None
        self._ema_in_weights = False
        self._constraints_seen = -1
        self._after_build()
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.load_state_dict(state)

    def _after_build(self) -> None:
        pass

    def _params(self) -> list[torch.Tensor]:
        return [p for group in self._torch_opt.param_groups for p in group["params"]]

    # counters and learning rate ---------------------------------------------
    @property
    def iterations(self) -> int:
        """The number of updates applied (with gradient accumulation, steps // accumulation steps)."""
        return self._steps // (self.gradient_accumulation_steps or 1)

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._steps = int(value) * (self.gradient_accumulation_steps or 1)

    def _current_lr(self) -> float:
        return float(self._schedule(self.iterations)) if self._schedule is not None else self._lr

    @property
    def learning_rate(self) -> float:
        """The current learning rate; settable at any time to a float (reaches every param group)
        or to a ``LearningRateSchedule``."""
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

    @property
    def variables(self) -> list[torch.Tensor]:
        """The optimizer's state tensors: each parameter's torch state (moments, step counts),
        then the EMA copies and gradient accumulators when used. Empty before ``build``."""
        if self._torch_opt is None:
            return []
        tensors = [t for p in self._params() for t in self._torch_opt.state.get(p, {}).values()
                   if isinstance(t, torch.Tensor)]
        return tensors + list(self._ema or []) + list(self._accumulators or [])

    # state ------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"iterations", "learning_rate", "torch"}`` (+ ``"ema"``, ``"accumulators"`` and
        ``"steps"`` when those features are on); ``torch`` is the torch optimizer's state."""
        state = {
            "iterations": self.iterations,
            "learning_rate": self.learning_rate,
            "torch": None if self._torch_opt is None else self._torch_opt.state_dict(),
        }
        if self._ema is not None:
            state["ema"] = [t.detach().clone() for t in self._ema]
        if self._accumulators is not None:
            state["accumulators"] = [t.detach().clone() for t in self._accumulators]
            state["steps"] = self._steps
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``state_dict()`` (copied); before ``build`` it is kept and applied at build."""
        if not isinstance(state, dict) or "iterations" not in state:
            raise ValueError("load_state_dict() expects a dict from Optimizer.state_dict() with key 'iterations'.")
        self.iterations = int(state["iterations"])
        if "steps" in state:
            self._steps = int(state["steps"])
        if state.get("torch") is not None:
            if self._torch_opt is None:
                self._pending_state = state
                return
            # deepcopy: torch shares the state tensors with the source optimizer otherwise.
            self._torch_opt.load_state_dict(copy.deepcopy(state["torch"]))
            self._match_state_layouts()
        if self._torch_opt is not None:
            params = self._params()
            for key in ("ema", "accumulators"):
                if state.get(key) is not None:
                    setattr(self, f"_{key}", [laid_out_like(p, t.detach()) for t, p in zip(state[key], params)])
        if self._schedule is None and state.get("learning_rate") is not None:
            self.learning_rate = state["learning_rate"]

    def _match_state_layouts(self) -> None:
        """Give each per-weight state tensor its weight's memory layout.

        A loaded state is contiguous, while a convolution kernel may be channels_last; torch's
        fused kernels walk the weight and its state as flat memory, so a layout mismatch would
        update the wrong entries (a resumed run would drift from an uninterrupted one).
        """
        for group in self._torch_opt.param_groups:
            for p in group["params"]:
                slots = self._torch_opt.state.get(p)
                for key, value in (slots or {}).items():
                    if isinstance(value, torch.Tensor) and value.shape == p.shape and value.stride() != p.stride():
                        slots[key] = laid_out_like(p, value)

    # config -----------------------------------------------------------------
    def _hyper(self) -> dict:
        return {}

    def get_config(self) -> dict:
        lr = self._schedule if self._schedule is not None else self._lr
        if isinstance(lr, LearningRateSchedule):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        config = {
            "name": self.name, "learning_rate": lr, **self._hyper(), "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm, "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm,
        }
        if self.use_ema:
            config.update(use_ema=True, ema_momentum=self.ema_momentum,
                          ema_overwrite_frequency=self.ema_overwrite_frequency)
        if self.loss_scale_factor is not None:
            config["loss_scale_factor"] = self.loss_scale_factor
        if self.gradient_accumulation_steps is not None:
            config["gradient_accumulation_steps"] = self.gradient_accumulation_steps
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Optimizer":
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            name = lr.get("class_name")
            schedule_cls = (custom_objects or {}).get(name) or _SCHEDULES.get(name)
            if schedule_cls is None:
                raise ValueError(f"Unknown learning rate schedule {name!r}.")
            config["learning_rate"] = schedule_cls.from_config(lr.get("config", {}))
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self.learning_rate}, built={self.built})"


def _optional_positive_int(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer or None. Received: {name}={value!r}")
    return int(value)
