"""Muon (Jordan et al., 2024; Liu et al., 2025 "Muon is Scalable for LLM Training"), as Keras 3 has it.

Muon updates a 2-D weight by the orthogonalized momentum of its gradient; every other weight (biases,
normalization scales, convolution kernels, embeddings, excluded layers) gets an AdamW step. Per
update, for a weight ``w`` with gradient ``g`` and learning rate ``lr`` (Keras 3's formulas):

    weight decay (first):  w -= lr * wd * w     wd = weight_decay (Muon weights), adam_weight_decay (others)

    Muon (2-D, not excluded):
        m = momentum * m + g
        u = g + momentum * m                  (nesterov=True; u = m otherwise)
        X = u / (||u||_F + 1e-7)              (transposed first when rows > columns, and back after)
        repeat ns_steps times:  A = X X^T;  X = a X + (b A + c A A) X       (a, b, c = muon_a, _b, _c)
        w -= lr * X * sqrt(max(rows, columns)) * rms_rate          (without the last two factors if rms_rate=None)

    AdamW (the rest), with lr_a = lr * adam_lr_ratio and t the update count:
        m += (g - m)(1 - adam_beta_1);  v += (g^2 - v)(1 - adam_beta_2)
        w -= lr_a * sqrt(1 - adam_beta_2^t) / (1 - adam_beta_1^t) * m / (sqrt(v) + epsilon)

A weight takes the AdamW step when it is not 2-D, when ``exclude_embeddings`` is on and its path
(``"embedding/embeddings"``) contains ``"embedding"`` (any case), or when one of the regular
expressions of ``exclude_layers`` matches its path (``re.search``). The choice is made once, at
``build``.

Why not ``torch.optim.Muon``: torch 2.13's Muon takes 2-D weights only (Keras mixes in AdamW for the
rest), runs the Newton-Schulz iteration in bfloat16 (Keras: in the weight's dtype), and scales by
``0.2 * sqrt(max(A, B))`` or ``sqrt(max(1, A / B))`` only (Keras: any ``rms_rate`` or none). Its
momentum is an average where Keras's is a sum; the orthogonalization removes that scale, so with
``rms_rate=0.2`` the two agree up to bfloat16 rounding (tested). ``_TorchMuon`` here follows
Keras, computing the iteration in float32 for float16/bfloat16 weights.
"""

from __future__ import annotations

import math
import numbers
import re

import torch

from easynn.optimizers.base import Optimizer

__all__ = ["Muon", "newton_schulz"]


def newton_schulz(x: torch.Tensor, steps: int, a: float = 3.4445, b: float = -4.7750, c: float = 2.0315,
                  eps: float = 1e-7) -> torch.Tensor:
    """Keras's ``zeropower_via_newtonschulz5``: an approximate orthogonalization ``U S' V^T`` of ``x``.

    Formula: ``X = x / (||x||_F + eps)`` (over the last two axes, the wide orientation), then
    ``steps`` times ``A = X X^T; X = a X + (b A + c A A) X``. The singular values end near 1 (in
    about ``[0.7, 1.2]`` with Keras's coefficients; the iteration does not converge to 1), the singular vectors are ``x``'s.

    Args:
        x: a tensor of rank >= 2 (batched over the leading axes).
        steps: number of iterations.
        a, b, c: the quintic's coefficients (Keras's defaults).
        eps: added to the norm.

    Returns:
        A tensor of ``x``'s shape and dtype.

    Example:
        >>> x = torch.diag(torch.tensor([4.0, 1.0]))
        >>> [round(v, 4) for v in newton_schulz(x, 5).diagonal().tolist()]  # s -> a s + b s^3 + c s^5 from 4/sqrt(17), 1/sqrt(17)
        [0.7374, 0.7429]
    """
    compute = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    tall = compute.shape[-2] > compute.shape[-1]
    if tall:
        compute = compute.mT
    norm = torch.linalg.matrix_norm(compute, keepdim=True)  # Frobenius
    compute = compute / (norm + eps)
    for _ in range(steps):
        gram = compute @ compute.mT
        compute = a * compute + (b * gram + c * gram @ gram) @ compute
    if tall:
        compute = compute.mT
    return compute.to(x.dtype)


class _TorchMuon(torch.optim.Optimizer):
    """Keras's Muon step over torch parameters; each group's ``use_muon`` lists, per parameter,
    whether it takes the Muon step (else AdamW)."""

    def __init__(self, params, lr: float, flags, **hyper):
        super().__init__(params, {"lr": lr, **hyper})
        for group, group_flags in zip(self.param_groups, flags):
            group["use_muon"] = list(group_flags)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            muon = [(p, p.grad) for p, flag in zip(group["params"], group["use_muon"]) if flag and p.grad is not None]
            adam = [(p, p.grad) for p, flag in zip(group["params"], group["use_muon"])
                    if not flag and p.grad is not None]
            lr = group["lr"]
            for pairs, decay in ((muon, group["weight_decay"]), (adam, group["adam_weight_decay"])):
                if pairs and decay:
                    torch._foreach_mul_([p for p, _ in pairs], 1.0 - lr * decay)
            if adam:
                self._adamw(group, adam, lr * group["adam_lr_ratio"])
            for p, g in muon:
                self._muon(group, p, g, lr)
        return loss

    def _adamw(self, group: dict, pairs: list, lr: float) -> None:
        beta_1, beta_2, eps = group["adam_beta_1"], group["adam_beta_2"], group["epsilon"]
        params, grads, ms, vs, alphas = [], [], [], [], []
        for p, g in pairs:
            state = self.state[p]
            if "momentum" not in state:
                state["step"] = 0
                state["momentum"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["step"] += 1
            t = state["step"]
            params.append(p)
            grads.append(g.to(p.dtype))
            ms.append(state["momentum"])
            vs.append(state["velocity"])
            alphas.append(lr * math.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t))
        torch._foreach_lerp_(ms, grads, 1.0 - beta_1)
        torch._foreach_lerp_(vs, torch._foreach_mul(grads, grads), 1.0 - beta_2)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_add_(denom, eps)
        update = torch._foreach_div(ms, denom)
        torch._foreach_mul_(update, alphas)
        torch._foreach_sub_(params, update)

    def _muon(self, group: dict, p: torch.Tensor, g: torch.Tensor, lr: float) -> None:
        state = self.state[p]
        if "momentum" not in state:
            state["momentum"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        m, momentum = state["momentum"], group["momentum"]
        m.mul_(momentum).add_(g)
        u = g.add(m, alpha=momentum) if group["nesterov"] else m
        update = newton_schulz(u, group["ns_steps"], group["muon_a"], group["muon_b"], group["muon_c"])
        scale = lr
        if group["rms_rate"] is not None:  # Moonlight's RMS matching: AdamW's lr and decay carry over
            scale *= math.sqrt(max(p.shape[0], p.shape[1])) * group["rms_rate"]
        p.add_(update, alpha=-scale)


def _unit(name: str, value, *, closed_high: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            0 <= value < 1 or (closed_high and value == 1)):
        interval = "[0, 1]" if closed_high else "[0, 1)"
        raise ValueError(f"`{name}` must be a number in {interval}. Received: {name}={value!r}")
    return float(value)


def _non_negative(name: str, value, *, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 or math.isinf(value):
        raise ValueError(f"`{name}` must be a finite, non-negative number{' or None' if allow_none else ''}. "
                         f"Received: {name}={value!r}")
    return float(value)


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    return float(value)


class Muon(Optimizer):
    """Muon for 2-D weights, AdamW for the rest, with Keras 3's arguments and defaults.

    See the module docstring for the formulas and for which weights take which step. Keras's
    advice: use it on hidden matrices; leave embeddings (``exclude_embeddings``), the output layer
    (``exclude_layers=["output_dense"]``, by layer name) and 0/1-D weights to AdamW.

    Args:
        learning_rate: 0.001 (a float or a ``LearningRateSchedule``).
        adam_beta_1: 0.9. adam_beta_2: 0.999: AdamW's moment decay rates.
        adam_weight_decay: 0.004: the decoupled decay of the AdamW weights (``None``/0: none).
        epsilon: 1e-7: AdamW's epsilon ("epsilon hat", added to ``sqrt(v)``).
        weight_decay: 0.004: the decoupled decay of the Muon weights (``None``/0: none).
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps: see ``Optimizer``.
        name: ``"muon"``.
        exclude_layers: regular expressions; a weight whose path (``"layer_name/kernel"``) matches
            one takes the AdamW step. A single string counts as a list of one.
        exclude_embeddings: weights whose path contains ``"embedding"`` take the AdamW step (True).
        muon_a, muon_b, muon_c: the Newton-Schulz coefficients (3.4445, -4.7750, 2.0315).
        adam_lr_ratio: AdamW's learning rate is ``learning_rate * adam_lr_ratio`` (1).
        momentum: 0.95: Muon's momentum.
        ns_steps: 5: Newton-Schulz iterations.
        nesterov: True: Nesterov-style momentum.
        rms_rate: 0.2: scale Muon's update by ``sqrt(max(rows, columns)) * rms_rate`` so that its
            RMS matches AdamW's (Moonlight); ``None`` disables it.
        **kwargs: ``lr``/``decay`` as for every optimizer.

    Returns:
        An unbuilt optimizer; ``build(variables)`` (or the first ``apply``/``fit``) binds it.

    Raises:
        ValueError: for betas or ``momentum`` outside ``[0, 1)``, a negative ``epsilon``,
            ``adam_lr_ratio`` or decay, a ``ns_steps`` that is not a positive integer, a
            non-positive ``rms_rate``, non-finite ``muon_a``/``muon_b``/``muon_c``, or an invalid
            regular expression in ``exclude_layers``.
        TypeError: for an ``exclude_layers`` that is not a list of strings, or non-bool
            ``nesterov``/``exclude_embeddings``.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([[3.0, 0.0], [0.0, 1.0]]))
        >>> b = torch.nn.Parameter(torch.tensor([1.0]))
        >>> opt = Muon(learning_rate=0.1, weight_decay=0.0, adam_weight_decay=0.0, rms_rate=None)
        >>> opt.apply([torch.eye(2), torch.tensor([0.5])], [w, b])
        >>> # w: u = 1.95 I, X = I / sqrt(2) -> 1.1081 I after 5 steps; b: AdamW's first step moves it by lr
        >>> [round(v, 4) for v in w.detach().flatten().tolist()], round(b.item(), 4)
        ([2.8892, 0.0, 0.0, 0.8892], 0.9)
    """

    def __init__(self, learning_rate=0.001, adam_beta_1: float = 0.9, adam_beta_2: float = 0.999,
                 adam_weight_decay: float | None = 0.004, epsilon: float = 1e-7, weight_decay: float | None = 0.004,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str = "muon", exclude_layers=None, exclude_embeddings: bool = True,
                 muon_a: float = 3.4445, muon_b: float = -4.7750, muon_c: float = 2.0315,
                 adam_lr_ratio: float = 1, momentum: float = 0.95, ns_steps: int = 5, nesterov: bool = True,
                 rms_rate: float | None = 0.2, **kwargs):
        self.adam_beta_1 = _unit("adam_beta_1", adam_beta_1)
        self.adam_beta_2 = _unit("adam_beta_2", adam_beta_2)
        self.adam_weight_decay = _non_negative("adam_weight_decay", adam_weight_decay, allow_none=True)
        self.epsilon = _non_negative("epsilon", epsilon)
        if isinstance(exclude_layers, str):
            exclude_layers = [exclude_layers]
        if exclude_layers is None:
            exclude_layers = []
        if not isinstance(exclude_layers, (list, tuple)) or not all(isinstance(k, str) for k in exclude_layers):
            raise TypeError(
                f"`exclude_layers` must be a list of strings (regular expressions). Received: exclude_layers="
                f"{exclude_layers!r}"
            )
        for keyword in exclude_layers:
            try:
                re.compile(keyword)
            except re.error as error:
                raise ValueError(
                    f"`exclude_layers` holds an invalid regular expression {keyword!r}: {error}"
                ) from error
        self.exclude_layers = list(exclude_layers)
        for arg, value in (("exclude_embeddings", exclude_embeddings), ("nesterov", nesterov)):
            if not isinstance(value, bool):
                raise TypeError(f"`{arg}` must be a bool. Received: {arg}={value!r}")
        self.exclude_embeddings, self.nesterov = exclude_embeddings, nesterov
        self.muon_a, self.muon_b, self.muon_c = (_number(n, v) for n, v in
                                                 (("muon_a", muon_a), ("muon_b", muon_b), ("muon_c", muon_c)))
        self.adam_lr_ratio = _non_negative("adam_lr_ratio", adam_lr_ratio)
        self.momentum = _unit("momentum", momentum)
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, numbers.Integral) or ns_steps < 1:
            raise ValueError(f"`ns_steps` must be a positive integer. Received: ns_steps={ns_steps!r}")
        self.ns_steps = int(ns_steps)
        if rms_rate is not None and (isinstance(rms_rate, bool) or not isinstance(rms_rate, numbers.Real)
                                     or not 0 < rms_rate < math.inf):
            raise ValueError(f"`rms_rate` must be a positive number or None. Received: rms_rate={rms_rate!r}")
        self.rms_rate = None if rms_rate is None else float(rms_rate)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)

    _manual_weight_decay = False  # _TorchMuon decays each kind of weight by its own rate

    def _should_use_adamw(self, variable: torch.Tensor) -> bool:
        """Keras's rule: AdamW for non-2-D weights, embeddings (when excluded) and excluded layers."""
        if variable.dim() != 2:
            return True
        path = str(getattr(variable, "path", None) or getattr(variable, "name", None) or "")
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def _make_torch_optimizer(self, params):
        groups = params if isinstance(params[0], dict) else [{"params": list(params)}]
        flags = [[not self._should_use_adamw(p) for p in group["params"]] for group in groups]
        return _TorchMuon(
            groups, lr=self._current_lr(), flags=flags, weight_decay=self.weight_decay or 0.0,
            adam_weight_decay=self.adam_weight_decay or 0.0, adam_beta_1=self.adam_beta_1,
            adam_beta_2=self.adam_beta_2, epsilon=self.epsilon, adam_lr_ratio=self.adam_lr_ratio,
            momentum=self.momentum, nesterov=self.nesterov, ns_steps=self.ns_steps, muon_a=self.muon_a,
            muon_b=self.muon_b, muon_c=self.muon_c, rms_rate=self.rms_rate,
        )

    def _hyper(self):
        return {
            "adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon,
            "exclude_layers": list(self.exclude_layers), "muon_a": self.muon_a, "muon_b": self.muon_b,
            "muon_c": self.muon_c, "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
            "ns_steps": self.ns_steps, "nesterov": self.nesterov, "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate,
        }
