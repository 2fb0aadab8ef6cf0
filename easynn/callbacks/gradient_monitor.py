"""GradientMonitor: per-layer gradient norms during fit, with vanishing/exploding warnings.

The lecture's first optimisation problem: ``y = f5(f4(f3(f2(f1(x)))))``, so ``dy/dx`` is a
product of one factor per layer, and a sigmoid's factor is at most 0.25: the lower layers'
gradients vanish (or, with large factors, explode). Per step the monitor only launches a few
device kernels; the one host sync is at the end of the epoch.
"""

from __future__ import annotations

import math

import torch

from easynn._validation import positive_int as _positive_int
from easynn.callbacks._diagnostics import (
    ExplodingGradientWarning,
    VanishingGradientWarning,
    _leaf_layers,
    _named,
    _optional_positive,
    _trainable_params,
    _warn,
)
from easynn.callbacks.base import Callback

__all__ = ["GradientMonitor"]


class GradientMonitor(Callback):
    """Per-layer gradient norms during ``fit``, with vanishing/exploding-gradient warnings.

    For each layer with trainable weights ``W`` (all its weights together) and each sampled
    training step: ``grad_norm = ||dL/dW||`` and ``update_ratio = ||W_new - W_old|| / ||W_old||``
    (a healthy step changes the weights by roughly 1e-3 of their size). The epoch's value is the
    mean over the sampled steps, added to the epoch logs as ``"grad_norm/<layer>"`` and
    ``"update_ratio/<layer>"`` and therefore recorded by ``History``.

    A layer's gradient *vanishes* when ``grad_norm(layer) / grad_norm(last layer) < vanish_ratio``
    (the chain rule multiplied it by one small factor per layer above it); it *explodes* when
    ``grad_norm > explode_norm`` or is not finite. Each is warned about once per ``fit`` and
    layer, naming the layers.

    Args:
        every: sample one training step out of this many (step indices ``0, every, 2*every, ...``
            of each epoch).
        vanish_ratio: warn (``VanishingGradientWarning``) below this ratio to the last layer's
            norm; ``None`` disables the check.
        explode_norm: warn (``ExplodingGradientWarning``) above this norm; ``None`` disables it
            (non-finite norms are still reported).
        update_ratio: also measure ``update_ratio`` (keeps one copy of the weights to subtract).
        warn: issue warnings at all (the logs are written either way).

    Raises:
        ValueError: for a non-positive ``every``, ``vanish_ratio`` or ``explode_norm``.

    Example:
        >>> import numpy as np, easynn
        >>> from easynn.layers import Dense
        >>> easynn.utils.set_random_seed(0)
        >>> model = easynn.Sequential([easynn.Input(shape=(3,)), Dense(4, activation="tanh", name="hidden"),
        ...                            Dense(1, name="out")])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2, verbose=0,
        ...                     callbacks=[GradientMonitor()])
        >>> sorted(k for k in history.history if "/" in k)
        ['grad_norm/hidden', 'grad_norm/out', 'update_ratio/hidden', 'update_ratio/out']
    """

    def __init__(self, every: int = 1, vanish_ratio: float | None = 1e-3, explode_norm: float | None = 1e3,
                 update_ratio: bool = True, warn: bool = True) -> None:
        super().__init__()
        self.every = _positive_int("every", every)
        self.vanish_ratio = _optional_positive("vanish_ratio", vanish_ratio)
        self.explode_norm = _optional_positive("explode_norm", explode_norm)
        self.update_ratio = bool(update_ratio)
        self.warn = bool(warn)
        self._names: list[str] = []
        self._params: list[torch.Tensor] = []
        self._owner: list[int] = []
        self._snapshot: list[torch.Tensor] | None = None
        self._grad_sum: torch.Tensor | None = None
        self._update_sum: torch.Tensor | None = None
        self._count = 0
        self._sampling = False
        self._warned: set[tuple[str, str]] = set()

    def on_train_begin(self, logs=None):
        self._names, self._params, self._owner = [], [], []
        for name, layer in _named(_leaf_layers(self.model)):
            params = _trainable_params(layer)
            if params:
                self._owner += [len(self._names)] * len(params)
                self._names.append(name)
                self._params += params
        self._snapshot = None
        self._warned = set()

    def on_train_end(self, logs=None):
        self._params, self._snapshot = [], None
        self._grad_sum = self._update_sum = None

    def on_epoch_begin(self, epoch, logs=None):
        if not self._params:
            return
        device = self._params[0].device
        self._index = torch.tensor(self._owner, device=device)
        self._grad_sum = torch.zeros(len(self._names), device=device)
        self._update_sum = torch.zeros(len(self._names), device=device)
        self._count = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._sampling = bool(self._params) and batch % self.every == 0
        if self._sampling and self.update_ratio:
            with torch.no_grad():
                if self._snapshot is None:
                    self._snapshot = [p.detach().clone() for p in self._params]
                else:
                    torch._foreach_copy_(self._snapshot, [p.detach() for p in self._params])

    def _per_layer_norm(self, tensors: list[torch.Tensor], owner: torch.Tensor) -> torch.Tensor:
        # ||layer|| = sqrt(sum over its tensors of ||t||^2); one fused norm kernel per dtype.
        norms = torch.stack([n.float() for n in torch._foreach_norm(tensors)])
        squares = torch.zeros(len(self._names), device=norms.device).index_add_(0, owner, norms * norms)
        return squares.sqrt()

    def on_train_batch_end(self, batch, logs=None):
        # Gradients of the step just taken stay in .grad until the next step's zero_grad.
        if not self._sampling:
            return
        with torch.no_grad():
            pairs = [(p.grad.detach(), i) for p, i in zip(self._params, self._owner) if p.grad is not None]
            if pairs:
                owner = self._index if len(pairs) == len(self._params) else torch.tensor(
                    [i for _, i in pairs], device=self._index.device)
                self._grad_sum += self._per_layer_norm([g for g, _ in pairs], owner)
            if self.update_ratio and self._snapshot is not None:
                weights = self._per_layer_norm(self._snapshot, self._index)
                torch._foreach_sub_(self._snapshot, [p.detach() for p in self._params])  # now old - new
                updates = self._per_layer_norm(self._snapshot, self._index)
                self._update_sum += updates / weights.clamp_min(1e-12)
        self._count += 1

    def on_epoch_end(self, epoch, logs=None):
        if not self._params or self._count == 0 or logs is None:
            return
        grads = (self._grad_sum / self._count).tolist()  # the epoch's one host sync
        updates = (self._update_sum / self._count).tolist() if self.update_ratio else None
        for i, name in enumerate(self._names):
            logs[f"grad_norm/{name}"] = grads[i]
            if updates is not None:
                logs[f"update_ratio/{name}"] = updates[i]
        if self.warn:
            self._check(epoch, grads)

    def _check(self, epoch: int, grads: list[float]) -> None:
        last_name, last = self._names[-1], grads[-1]
        exploding = [(n, g) for n, g in zip(self._names, grads)
                     if not math.isfinite(g) or (self.explode_norm is not None and g > self.explode_norm)]
        vanishing = []
        if self.vanish_ratio is not None and math.isfinite(last) and last > 0:
            vanishing = [(n, g) for n, g in zip(self._names[:-1], grads[:-1])
                         if math.isfinite(g) and g / last < self.vanish_ratio]
        new = [(n, g) for n, g in exploding if ("explode", n) not in self._warned]
        if new:
            self._warned.update(("explode", n) for n, _ in new)
            listed = ", ".join(f"'{n}' ({g:.3g})" for n, g in new)
            _warn(ExplodingGradientWarning,
                  f"Exploding gradients at epoch {epoch}: gradient norm above explode_norm={self.explode_norm} "
                  f"or not finite in layer(s) {listed}. Lower the learning rate, clip gradients "
                  "(optimizer clipnorm=...) or normalise the inputs.")
        new = [(n, g) for n, g in vanishing if ("vanish", n) not in self._warned]
        if new:
            self._warned.update(("vanish", n) for n, _ in new)
            listed = ", ".join(f"'{n}' ({g / last:.2g})" for n, g in new)
            _warn(VanishingGradientWarning,
                  f"Vanishing gradients at epoch {epoch}: the gradient norm of layer(s) {listed} is below "
                  f"vanish_ratio={self.vanish_ratio} times that of the last layer '{last_name}' ({last:.3g}). "
                  "Each sigmoid/tanh layer multiplies the gradient by at most 0.25/1; use relu with "
                  "he_normal initialisation, fewer layers, or normalisation layers.")
