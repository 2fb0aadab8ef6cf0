"""Keras's ``LossScaleOptimizer``: dynamic loss scaling around another optimizer.

Small float16 gradients flush to zero. Multiplying the loss by a large *scale* ``S`` multiplies
every gradient by ``S`` too, keeping them representable; the update divides them by ``S`` again.
The scale adapts (Keras's dynamic rule, the one ``torch.amp.GradScaler`` implements):

    any gradient inf/NaN  ->  skip the update, S = S / 2, counter = 0
    all finite            ->  inner update on g / S, counter += 1;
                              counter == dynamic_growth_steps  ->  S = 2 S, counter = 0

Design: a ``LossScaleOptimizer`` *is* an ``Optimizer`` (so ``compile``, ``optimizers.get`` and
saving accept it) that owns nothing but the scale: it does not run ``Optimizer.__init__`` and
forwards binding, the learning rate, ``iterations``, EMA and the state of the weights to the
inner optimizer. The scale and its counter live in a ``torch.amp.GradScaler`` made at the first
``scale_loss``/update, on that tensor's device, with ``growth_interval=dynamic_growth_steps``.
Each update reads one flag back from the device (as ``GradScaler.step`` does): skipping is a
Python decision, so the inner optimizer's step, weight decay, EMA and ``iterations`` stay
untouched on a skipped step, as in Keras.

Example (a hand-written loop, as keras-io's mixed precision guide writes it):
    >>> import torch
    >>> from easynn.optimizers.sgd import SGD
    >>> w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    >>> opt = LossScaleOptimizer(SGD(learning_rate=0.1), initial_scale=1024.0, dynamic_growth_steps=2)
    >>> loss = opt.scale_loss((w ** 2).sum())  # 1024 * (1 + 4)
    >>> loss.item()
    5120.0
    >>> loss.backward()
    >>> opt.apply([w.grad], [w])  # the gradients are divided by 1024 before SGD's update
    >>> w.tolist(), opt.iterations, opt.dynamic_scale
    ([0.800000011920929, 1.600000023841858], 1, 1024.0)
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable

import torch

from easynn import _validation
from easynn.optimizers import _registry
from easynn.optimizers.base import Optimizer

__all__ = ["LossScaleOptimizer"]

# Keras configs may carry the base optimizer's arguments at these defaults (older files);
# any other value belongs on the inner optimizer.
_BASE_DEFAULTS = {
    "learning_rate": None, "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def _from_inner(name: str) -> property:
    """A read-only attribute forwarded to the inner optimizer."""
    return property(lambda self: getattr(self.inner_optimizer, name),
                    doc=f"The inner optimizer's ``{name}``.")


class LossScaleOptimizer(Optimizer):
    """An optimizer that dynamically scales the loss to prevent float16 underflow (Keras's
    ``keras.optimizers.LossScaleOptimizer``, also ``keras.mixed_precision.LossScaleOptimizer``).

    Formula: ``scale_loss(L) = S · L``; each update applies the inner optimizer to ``g / S`` when
    every ``g`` is finite, else skips it and halves ``S``; ``S`` doubles after
    ``dynamic_growth_steps`` consecutive finite updates.

    In ``fit`` the loss is scaled with this optimizer's scale (and no second GradScaler is added
    under ``mixed_float16``); without mixed precision it still works, scaling in float32. In a
    hand-written loop call ``scale_loss(loss).backward()`` then ``apply(grads, variables)``.

    Args:
        inner_optimizer: the easynn ``Optimizer`` that does the updates (its own
            ``loss_scale_factor`` is turned off, as Keras does, so gradients are not scaled twice).
        initial_scale: the starting scale, a positive finite number. A large one is recommended:
            too high is corrected by halving after one skipped step, too low only slowly.
        dynamic_growth_steps: double the scale after this many consecutive finite updates.
        name: the optimizer name (default ``"loss_scale_optimizer"``).
        **kwargs: the base optimizer arguments are accepted only at their defaults (Keras's
            configs carry them); set them on the inner optimizer.

    Raises:
        TypeError: if ``inner_optimizer`` is not an easynn ``Optimizer`` (or is already a
            ``LossScaleOptimizer``).
        ValueError: for ``initial_scale`` <= 0 or not finite, ``dynamic_growth_steps`` < 1,
            ``dynamic=False`` or a base argument away from its default.

    Example:
        >>> from easynn.optimizers.adam import Adam
        >>> opt = LossScaleOptimizer(Adam(learning_rate=0.01))
        >>> opt.learning_rate, opt.dynamic_scale, opt.dynamic_growth_steps
        (0.01, 32768.0, 2000)
    """

    # The dynamic scale replaces Keras's static factor; the trainer reads this attribute.
    loss_scale_factor = None

    def __init__(self, inner_optimizer: Optimizer, initial_scale: float = 32768.0, dynamic_growth_steps: int = 2000,
                 name: str | None = None, **kwargs):
        if not isinstance(inner_optimizer, Optimizer) or isinstance(inner_optimizer, LossScaleOptimizer):
            what = "another LossScaleOptimizer" if isinstance(inner_optimizer, LossScaleOptimizer) else \
                type(inner_optimizer).__name__
            raise TypeError(
                "`inner_optimizer` must be an easynn Optimizer (e.g. easynn.optimizers.Adam()) that is not "
                f"itself a LossScaleOptimizer. Received: inner_optimizer={inner_optimizer!r} ({what})"
            )
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer only scales dynamically (`dynamic=False` is not supported); "
                             "for a fixed scale set `loss_scale_factor` on the inner optimizer instead.")
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{arg}`. Set `{arg}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized by LossScaleOptimizer: {kwargs}")
        scale = _validation.positive_float("initial_scale", initial_scale)
        if not math.isfinite(scale):
            raise ValueError(f"`initial_scale` must be a positive finite number. Received: initial_scale={initial_scale!r}")
        # No Optimizer.__init__: this optimizer has no learning rate, torch optimizer or EMA of its
        # own; everything but the scale is the inner optimizer's.
        self.name = name or "loss_scale_optimizer"
        self.inner_optimizer = inner_optimizer
        self.initial_scale = scale
        self.dynamic_growth_steps = _validation.positive_int("dynamic_growth_steps", dynamic_growth_steps)
        inner_optimizer.loss_scale_factor = None
        self._scaler: torch.amp.GradScaler | None = None
        # The scale and counter until the GradScaler exists (set by load_state_dict before it does).
        self._held_scale, self._held_counter = scale, 0

    # the scale -----------------------------------------------------------------
    def _scaler_on(self, device: torch.device) -> torch.amp.GradScaler:
        """The GradScaler that holds the scale, made on ``device``'s type the first time."""
        if self._scaler is None:
            scaler = torch.amp.GradScaler(device.type, init_scale=self._held_scale, growth_factor=2.0,
                                          backoff_factor=0.5, growth_interval=self.dynamic_growth_steps)
            scaler.load_state_dict({**scaler.state_dict(), "_growth_tracker": self._held_counter})
            scaler.scale(torch.zeros((), device=device))  # makes its scale/counter tensors on `device` now
            self._scaler = scaler
        return self._scaler

    @property
    def dynamic_scale(self) -> float:
        """The current loss scale ``S`` (reading it waits for the device)."""
        return self._held_scale if self._scaler is None else float(self._scaler.get_scale())

    @property
    def step_counter(self) -> int:
        """Consecutive finite updates since the scale last changed (Keras's ``step_counter``)."""
        return self._held_counter if self._scaler is None else int(self._scaler.state_dict()["_growth_tracker"])

    def scale_loss(self, loss):
        """``loss * dynamic_scale``; backpropagate this, then ``apply``/``step`` unscales.

        Args:
            loss: a scalar tensor (or a number).

        Returns:
            The scaled loss, on the loss's device.
        """
        if not isinstance(loss, torch.Tensor):
            return loss * self.dynamic_scale
        return self._scaler_on(loss.device).scale(loss)

    # the update ---------------------------------------------------------------
    def step(self, closure=None, scaler: "torch.amp.GradScaler | None" = None):
        """Unscale the gradients; if all are finite run the inner optimizer's ``step`` (clipping,
        decay, EMA, constraints...), else skip it; then update the scale.

        Args:
            closure: passed to the inner optimizer's step.
            scaler: not accepted: this optimizer scales the loss itself.

        Returns:
            The inner step's result (``None`` when skipped).

        Raises:
            TypeError: when ``scaler`` is given.
            RuntimeError: if called before ``build``.
        """
        if scaler is not None:
            raise TypeError("LossScaleOptimizer scales the loss itself; do not pass a GradScaler. "
                            f"Received: scaler={scaler!r}")
        inner = self.inner_optimizer
        opt = inner.torch_optimizer
        if opt is None:
            raise RuntimeError("LossScaleOptimizer.step() was called before build(). "
                               "Call optimizer.build(model.parameters()) first.")
        grads = inner._grads()
        if not grads:  # nothing to check or unscale
            return inner.step(closure)
        gradscaler = self._scaler_on(grads[0].device)
        gradscaler.unscale_(opt)  # g / S in place, and an inf/NaN flag per device
        # One host sync per update, as GradScaler.step: the skip is decided in Python.
        finite = not any(bool(flag) for flag in gradscaler._found_inf_per_device(opt).values())
        result = inner.step(closure) if finite else None
        gradscaler.update()  # halve on inf/NaN, else count and double every dynamic_growth_steps
        return result

    # forwarded to the inner optimizer -------------------------------------------
    def build(self, variables: Iterable) -> None:
        """Build the inner optimizer on ``variables``."""
        self.inner_optimizer.build(variables)

    @property
    def built(self) -> bool:
        return self.inner_optimizer.built

    @property
    def torch_optimizer(self) -> torch.optim.Optimizer | None:
        """The inner optimizer's ``torch.optim`` optimizer."""
        return self.inner_optimizer.torch_optimizer

    @property
    def _torch_opt(self) -> torch.optim.Optimizer | None:  # read by Optimizer.apply
        return self.inner_optimizer.torch_optimizer

    def _params(self) -> list[torch.Tensor]:
        return self.inner_optimizer._params()

    @property
    def iterations(self) -> int:
        """The inner optimizer's update count (a skipped step does not count)."""
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        self.inner_optimizer.iterations = value

    @property
    def learning_rate(self):
        """The inner optimizer's learning rate (read and set)."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self.inner_optimizer.learning_rate = value

    lr = learning_rate

    use_ema = _from_inner("use_ema")
    ema_momentum = _from_inner("ema_momentum")
    ema_overwrite_frequency = _from_inner("ema_overwrite_frequency")
    weight_decay = _from_inner("weight_decay")
    clipnorm = _from_inner("clipnorm")
    clipvalue = _from_inner("clipvalue")
    global_clipnorm = _from_inner("global_clipnorm")
    gradient_accumulation_steps = _from_inner("gradient_accumulation_steps")
    _ema_in_weights = _from_inner("_ema_in_weights")  # read by SwapEMAWeights

    @property
    def variables(self) -> list[torch.Tensor]:
        """The counter and the scale (once made), then the inner optimizer's variables."""
        own = [] if self._scaler is None else [self._scaler._growth_tracker, self._scaler._scale]
        return own + self.inner_optimizer.variables

    def zero_grad(self) -> None:
        self.inner_optimizer.zero_grad()

    def finalize_variable_values(self, variables=None) -> None:
        """The inner optimizer's (writes the EMA into the weights with ``use_ema``)."""
        self.inner_optimizer.finalize_variable_values(variables)

    def swap_ema_weights(self) -> bool:
        """The inner optimizer's (``SwapEMAWeights``)."""
        return self.inner_optimizer.swap_ema_weights()

    # state and config -----------------------------------------------------------
    def state_dict(self) -> dict:
        """The inner optimizer's ``state_dict()`` plus ``"loss_scale"``: ``{"dynamic_scale",
        "step_counter"}``, so a resumed run scales (and grows) exactly as the original."""
        state = dict(self.inner_optimizer.state_dict())
        state["loss_scale"] = {"dynamic_scale": self.dynamic_scale, "step_counter": self.step_counter}
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``state_dict()``; a plain optimizer's state (without ``"loss_scale"``) keeps the
        current scale.

        Raises:
            ValueError: for a malformed state.
        """
        if not isinstance(state, dict):
            raise ValueError("load_state_dict() expects a dict from LossScaleOptimizer.state_dict().")
        state = dict(state)
        scale = state.pop("loss_scale", None)
        self.inner_optimizer.load_state_dict(state)
        if scale is None:
            return
        if not isinstance(scale, dict) or not isinstance(scale.get("dynamic_scale"), numbers.Real) \
                or not isinstance(scale.get("step_counter"), numbers.Integral):
            raise ValueError(f"Malformed 'loss_scale' entry in the optimizer state: {scale!r}")
        self._held_scale, self._held_counter = float(scale["dynamic_scale"]), int(scale["step_counter"])
        if self._scaler is not None:
            self._scaler.load_state_dict({**self._scaler.state_dict(), "scale": self._held_scale,
                                          "_growth_tracker": self._held_counter})

    def get_config(self) -> dict:
        """Keras's keys: ``name``, ``inner_optimizer`` (serialized), ``initial_scale``,
        ``dynamic_growth_steps``."""
        return {"name": self.name, "inner_optimizer": _registry.serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "LossScaleOptimizer":
        """Inverse of ``get_config``; the inner optimizer may be a config, a name or an optimizer.

        Raises:
            ValueError: without ``inner_optimizer``.
        """
        config = dict(config)
        if "inner_optimizer" not in config:
            raise ValueError(f"A LossScaleOptimizer config needs 'inner_optimizer'. Received: {config!r}")
        inner = config.pop("inner_optimizer")
        if not isinstance(inner, Optimizer):
            inner = _registry.deserialize(inner, custom_objects)
        return cls(inner, **config)

    def __repr__(self) -> str:
        return (f"LossScaleOptimizer(inner_optimizer={self.inner_optimizer!r}, initial_scale={self.initial_scale}, "
                f"dynamic_growth_steps={self.dynamic_growth_steps})")


# Registered under its class name, so that optimizers.get/deserialize and loading a saved model
# find it (the registry cannot import this module: it would be an import cycle).
_registry._WRAPPERS[LossScaleOptimizer.__name__.lower()] = LossScaleOptimizer
