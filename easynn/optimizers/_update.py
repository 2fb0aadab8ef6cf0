"""One optimizer update, as Keras does it around ``torch.optim``'s step (mixed into ``Optimizer``).

``step()`` runs, in Keras's order: undo the static loss scale, accumulate gradients (every N-th
step updates), the learning-rate schedule, gradient clipping, decoupled weight decay, torch's own
(foreach) step, the moving average of the weights (EMA), then the **weight constraints**: each
updated weight ``w`` with a ``constraint`` becomes ``constraint(w)``, computed on the weight's
Keras-layout view (a Conv2D kernel is seen as ``(kh, kw, in, out)`` although torch stores it
``(out, in, kh, kw)``). Keras's ``apply(grads, variables)`` / ``apply_gradients`` put the given
gradients into ``.grad`` and call ``step()``.

Each extra costs nothing when it is off: the constrained weights are listed once (and again only
when a weight's ``constraint`` is set, see ``easynn.variables.constraints_version``), so a model
without constraints pays one integer comparison per step. Between the updates of gradient
accumulation the weights do not change, so constraints run only after real updates.

Example (a hand-written loop with a constrained weight):
    >>> import torch
    >>> from easynn.constraints import NonNeg
    >>> from easynn.optimizers.sgd import SGD
    >>> from easynn.variables import Variable
    >>> w = Variable(torch.tensor([0.5, 2.0]))
    >>> w.constraint = NonNeg()
    >>> opt = SGD(learning_rate=1.0)
    >>> opt.apply([torch.tensor([1.0, 1.0])], [w])
    >>> w.tolist() == [0.0, 1.0]  # the update gave [-0.5, 1.0]; the constraint zeroed -0.5
    True
"""

from __future__ import annotations

import torch

from easynn import variables as _variables
from easynn.optimizers import _kernels

__all__: list[str] = []


def _as_tensor(variable) -> torch.Tensor:
    """A parameter, or the tensor held by a variable-like object's ``value``."""
    if isinstance(variable, torch.Tensor):
        return variable
    value = getattr(variable, "value", None)
    if isinstance(value, torch.Tensor):
        return value
    raise TypeError(f"Expected a torch tensor or a variable with a `value` tensor. Received: {variable!r}")


class _UpdateStep:
    """``apply``/``step`` and the Keras extras around torch's step. Uses the ``Optimizer``'s
    ``_torch_opt``, ``_params()``, ``iterations``, ``_steps`` and its Keras arguments."""

    # Set by Optimizer: the weights that have a constraint, and the constraints_version they
    # were listed at (-1: list them again).
    _constrained: list[torch.Tensor] | tuple = ()
    _constraints_seen: int = -1

    # Keras's apply ---------------------------------------------------------
    def apply(self, grads, variables=None) -> None:
        """Apply ``grads`` to ``variables`` (Keras's ``optimizer.apply``); builds on first use.

        Only the given variables change, even when others have a ``.grad``; a ``None`` gradient
        leaves its variable alone.

        Raises:
            ValueError: without ``variables`` before ``build``, when the counts differ, or for a
                variable the optimizer was not built with.
        """
        grads = list(grads)
        if variables is None:
            if self._torch_opt is None:
                raise ValueError("apply() needs `variables` the first time (the optimizer is not built yet).")
            params = self._params()
        else:
            params = [_as_tensor(v) for v in variables]
            if self._torch_opt is None:
                self.build(params)
        if len(grads) != len(params):
            raise ValueError(f"apply() received {len(grads)} gradients for {len(params)} variables; pass one each.")
        built = self._params()
        if len(params) == len(built) and all(p is q for p, q in zip(params, built)):
            stashed = []  # the common case: every variable, in build order (nothing to check or hide)
        else:
            stashed = self._hide_other_grads(params, built)
        for p, g in zip(params, grads):
            if g is None:
                p.grad = None
            elif g is not p.grad:  # the guides pass ``v.value.grad`` itself: nothing to assign
                g = _as_tensor(g).detach()
                if g.shape == p.shape and g.stride() != p.stride():  # fused kernels need one layout
                    g = _kernels.laid_out_like(p, g)
                p.grad = g
        try:
            with torch.no_grad():
                self.step()
        finally:
            for p, g in stashed:
                p.grad = g

    @staticmethod
    def _hide_other_grads(params: list, built: list) -> list:
        """Check that every one of ``params`` was built, then set the ``.grad`` of the built
        variables not in ``params`` aside (to None), so that only ``params`` change; returns the
        (variable, grad) pairs to put back after the step."""
        known = {id(p) for p in built}
        unknown = [tuple(p.shape) for p in params if id(p) not in known]
        if unknown:
            raise ValueError(
                f"apply() received variables the optimizer was not built with (shapes {unknown}). "
                "Call optimizer.build(all_variables) first with every variable it will update."
            )
        given = {id(p) for p in params}
        stashed = [(p, p.grad) for p in built if id(p) not in given and p.grad is not None]
        for p, _ in stashed:
            p.grad = None
        return stashed

    def apply_gradients(self, grads_and_vars) -> int:
        """Keras's ``apply_gradients(zip(grads, variables))``; returns ``iterations``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])
        return self.iterations

    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` (the next update divides the gradients by it); the loss
        unchanged without a factor."""
        if self.loss_scale_factor is None:
            return loss
        self._loss_scaled = True
        return loss * self.loss_scale_factor

    # step -----------------------------------------------------------------
    def step(self, closure=None, scaler: "torch.amp.GradScaler | None" = None):
        """Clip gradients (if asked), apply decoupled weight decay (if any), torch's step, then
        the EMA (if asked) and the weight constraints (if any weight has one).

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
            raise RuntimeError(
                "Optimizer.step() was called before build(). Call optimizer.build(model.parameters()) first."
            )
        if self._loss_scaled:
            self._unscale_loss_factor()
        if self.gradient_accumulation_steps and not self._accumulate(scaler):
            self._steps += 1
            return None
        if self._schedule is not None:
            lr = float(self._schedule(self.iterations))
            for group in opt.param_groups:
                group["lr"] = lr
        if self.clipvalue is not None or self.clipnorm is not None or self.global_clipnorm is not None:
            if scaler is not None and not self.gradient_accumulation_steps:  # accumulation has unscaled
                scaler.unscale_(opt)
            self._clip()
        if self.weight_decay is not None and self._manual_weight_decay:
            self._decay()
        if scaler is not None:
            loss = scaler.step(opt) if closure is None else scaler.step(opt, closure)
            scaler.update()
        else:
            loss = _kernels.step(opt) if closure is None else opt.step(closure)
        if self.use_ema:
            self._update_ema()
        self._steps += 1
        self._apply_constraints()
        return loss

    def zero_grad(self) -> None:
        """Drop the gradients (``set_to_none=True``); a no-op before ``build``."""
        if self._torch_opt is not None:
            _kernels.drop_grads(self._torch_opt)

    def _grads(self) -> list[torch.Tensor]:
        return [p.grad for p in self._params() if p.grad is not None]

    @torch.no_grad()
    def _unscale_loss_factor(self) -> None:
        self._loss_scaled = False
        grads = self._grads()
        if grads:
            torch._foreach_div_(grads, self.loss_scale_factor)

    @torch.no_grad()
    def _accumulate(self, scaler) -> bool:
        """Add this step's gradients to the accumulators; on every N-th step put their mean in
        ``.grad`` and return True (apply the update), else False."""
        params = self._params()
        if self._accumulators is None:
            self._accumulators = [torch.zeros_like(p) for p in params]
        pairs = [(acc, p.grad) for acc, p in zip(self._accumulators, params) if p.grad is not None]
        if scaler is not None:
            scaler.unscale_(self._torch_opt)
            # A step whose scaled gradients overflowed adds nothing (decided on the device, no sync).
            found = sum(scaler._found_inf_per_device(self._torch_opt).values())
            pairs = [(acc, torch.where(found > 0, torch.zeros_like(g), g)) for acc, g in pairs]
        if pairs:
            torch._foreach_add_([a for a, _ in pairs], [g for _, g in pairs])
        steps = self.gradient_accumulation_steps
        if (self._steps + 1) % steps != 0:
            if scaler is not None:
                scaler.update()
            return False
        for acc, p in zip(self._accumulators, params):
            p.grad = acc / steps
        for acc in self._accumulators:
            acc.zero_()
        return True

    @torch.no_grad()
    def _update_ema(self) -> None:
        params = self._params()
        if self._ema is None:
            self._ema = [p.detach().clone() for p in params]
        elif self.iterations == 0:
            torch._foreach_copy_(self._ema, params)
        else:
            torch._foreach_lerp_(self._ema, [p.detach() for p in params], 1.0 - self.ema_momentum)
        freq = self.ema_overwrite_frequency
        if freq and (self.iterations + 1) % freq == 0:
            torch._foreach_copy_(params, self._ema)

    @torch.no_grad()
    def finalize_variable_values(self, variables=None) -> None:
        """With ``use_ema``, write the moving averages into the weights (Keras calls this at
        the end of fit); a no-op otherwise."""
        if not self.use_ema or self._ema is None:
            return
        if self._ema_in_weights:  # swapped in (SwapEMAWeights): the slots hold the raw weights
            torch._foreach_copy_(self._ema, self._params())
            self._ema_in_weights = False
            return
        torch._foreach_copy_(self._params(), self._ema)

    # Whether ``swap_ema_weights`` has put the averages into the weights (and the raw weights
    # into the average slots).
    _ema_in_weights: bool = False

    @torch.no_grad()
    def swap_ema_weights(self) -> bool:
        """Exchange the weights and their moving averages in place (``SwapEMAWeights`` calls it
        around evaluation); returns whether the averages are now in the weights. Nothing happens
        before the first update has made averages.

        Raises:
            ValueError: for an optimizer without ``use_ema``.
        """
        if not self.use_ema:
            raise ValueError("swap_ema_weights() needs an optimizer created with use_ema=True.")
        if self._ema is None:
            return False
        weights = self._params()
        held = torch._foreach_add(weights, 0)  # one temporary per weight, freed after the swap
        torch._foreach_copy_(weights, self._ema)
        torch._foreach_copy_(self._ema, held)
        self._ema_in_weights = not self._ema_in_weights
        return self._ema_in_weights

    @torch.no_grad()
    def _clip(self) -> None:
        grads = self._grads()
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

    # constraints ------------------------------------------------------------
    def _apply_constraints(self) -> None:
        """``w = constraint(w)`` for every updated weight that has a constraint (Keras: after
        each update, outside autograd)."""
        if self._constraints_seen != _variables.constraints_version:
            self._constrained = [p for p in self._params() if getattr(p, "constraint", None) is not None]
            self._constraints_seen = _variables.constraints_version
        if self._constrained:
            self._project(self._constrained)

    @staticmethod
    @torch.no_grad()
    def _project(params: list[torch.Tensor]) -> None:
        for p in params:
            if p.grad is None:  # not updated this step (Keras skips variables without gradients)
                continue
            constraint = p.constraint
            owner = p._owner_layer() if hasattr(p, "_owner_layer") else None
            # The constraint sees Keras's layout; the result goes back into torch's storage.
            view = p if owner is None else owner.keras_layout(p)
            value = constraint(view)
            if not isinstance(value, torch.Tensor) or value.shape != view.shape:
                got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                name = getattr(p, "path", None) or "a weight"
                raise ValueError(
                    f"The constraint {constraint!r} of '{name}' must return a tensor of the weight's (Keras-layout) "
                    f"shape {tuple(view.shape)}. Received: {got}"
                )
            p.copy_(value if owner is None else owner.torch_layout(p, value))
