"""Training diagnostics: the lecture's optimisation problems, measured while ``fit`` runs.

* ``GradientMonitor``: per-layer gradient norms and update/weight ratios, with a warning when
  the lower layers' gradients vanish (``y = f5(f4(f3(f2(f1(x)))))``: ``dy/dx`` is a product of
  one factor per layer, and a sigmoid's factor is at most 0.25) or explode.
* ``ActivationMonitor``: per activation layer, the fraction of dead ReLU units (never active on
  an epoch's training batches), of saturated sigmoid/tanh units (derivative below a threshold for
  most of their outputs), and the mean output (non-zero-centred outputs shift the next layer's
  bias).

Both write their numbers into the epoch ``logs`` (so ``History`` records them: ``fit`` calls the
user's callbacks before ``History``) under keys ``"<quantity>/<layer name>"``. Both attach their
hooks in ``on_train_begin`` and remove them in ``on_train_end``: a model that is not being
monitored pays nothing. Per step they only launch a few device kernels; the one host sync is at
the end of the epoch.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
from torch import nn

from easynn import activations
from easynn.callbacks.base import Callback

__all__ = [
    "ActivationMonitor",
    "BiasShiftWarning",
    "DeadReLUWarning",
    "DiagnosticWarning",
    "ExplodingGradientWarning",
    "GradientMonitor",
    "SaturationWarning",
    "VanishingGradientWarning",
]


class DiagnosticWarning(UserWarning):
    """Base class of the warnings issued by the training monitors."""


class VanishingGradientWarning(DiagnosticWarning):
    """A layer's gradient norm is tiny compared with the last layer's."""


class ExplodingGradientWarning(DiagnosticWarning):
    """A layer's gradient norm is huge or not finite."""


class DeadReLUWarning(DiagnosticWarning):
    """Many of a ReLU layer's units output 0 for every training sample."""


class SaturationWarning(DiagnosticWarning):
    """Many of a sigmoid/tanh layer's units sit where the derivative is almost 0."""


class BiasShiftWarning(DiagnosticWarning):
    """A layer's mean output is far from 0."""


# ---------------------------------------------------------------------------------- helpers
def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


def _optional_positive(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number or None. Received: {name}={value!r}")
    return float(value)


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError(f"`{name}` must be a number in (0, 1]. Received: {name}={value!r}")
    return float(value)


def _leaf_layers(model) -> list[nn.Module]:
    """The model's layers, with nested models (a Sequential inside a model) expanded."""
    from easynn.models.model import Model

    found: list[nn.Module] = []
    for layer in getattr(model, "layers", None) or list(model.children()):
        if isinstance(layer, Model) and layer is not model:
            found.extend(_leaf_layers(layer))
        else:
            found.append(layer)
    return found


def _named(layers: list[nn.Module]) -> list[tuple[str, nn.Module]]:
    """``(name, layer)`` pairs with unique names (nested models may reuse a name)."""
    seen: dict[str, int] = {}
    named = []
    for layer in layers:
        base = getattr(layer, "name", None) or type(layer).__name__.lower()
        count = seen.get(base, 0)
        seen[base] = count + 1
        named.append((base if count == 0 else f"{base}_{count}", layer))
    return named


def _trainable_params(layer: nn.Module) -> list[torch.Tensor]:
    weights = getattr(layer, "trainable_weights", None)
    if weights is None:
        weights = list(layer.parameters())
    return [w for w in weights if isinstance(w, torch.Tensor) and w.requires_grad]


def _warn(category: type[Warning], message: str) -> None:
    warnings.warn(message, category, stacklevel=3)


# ---------------------------------------------------------------------------------- gradients
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


# ---------------------------------------------------------------------------------- activations
def _activation_kind(layer: nn.Module) -> str | None:
    """``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"other"`` (mean only) or ``None`` (not watched)."""
    from easynn.layers import activation as act_layers

    relu_layer = getattr(act_layers, "ReLU", None)
    if relu_layer is not None and isinstance(layer, relu_layer):
        return "relu" if getattr(layer, "negative_slope", 0.0) == 0.0 else "other"
    others = tuple(c for c in (getattr(act_layers, n, None) for n in ("LeakyReLU", "ELU", "PReLU")) if c is not None)
    if others and isinstance(layer, others):
        return "other"
    fn = getattr(layer, "activation", None)
    if fn is None or isinstance(fn, nn.Module) or not callable(fn) or fn is activations.linear:
        return None
    name = activations.serialize(fn)
    if name == "softmax":  # its outputs always average 1/k; nothing to learn from them
        return None
    return name if name in ("relu", "sigmoid", "tanh") else "other"


class _ActivationStats:
    """On-device running statistics of one layer's outputs over an epoch."""

    def __init__(self, kind: str, sigmoid_band: float, tanh_band: float) -> None:
        self.kind = kind
        self.sigmoid_band = sigmoid_band
        self.tanh_band = tanh_band
        self.reset()

    def reset(self) -> None:
        self.total: torch.Tensor | None = None  # sum of outputs
        self.flags: torch.Tensor | None = None  # relu: ever active; sigmoid/tanh: saturated counts
        self.rows = 0  # outputs seen per unit

    def update(self, y: torch.Tensor) -> None:
        y = y.detach()
        y = y.reshape(-1, y.shape[-1]) if y.dim() > 1 else y.reshape(-1, 1)
        if self.total is None:
            self.total = torch.zeros((), device=y.device)
            dtype = torch.bool if self.kind == "relu" else torch.int64
            self.flags = torch.zeros(y.shape[-1], dtype=dtype, device=y.device)
        self.total += y.sum(dtype=torch.float32)
        self.rows += y.shape[0]
        if self.kind == "relu":  # dead: output 0 for every sample of the epoch
            self.flags |= (y > 0).any(0)
        elif self.kind == "sigmoid":  # y(1 - y) < t  <=>  |y - 1/2| > sqrt(1 - 4t) / 2
            self.flags += ((y - 0.5).abs_() > self.sigmoid_band).sum(0)
        elif self.kind == "tanh":  # 1 - y^2 < t  <=>  |y| > sqrt(1 - t)
            self.flags += (y.abs() > self.tanh_band).sum(0)

    def summary(self) -> list[torch.Tensor]:
        units = self.flags.numel()
        values = [self.total / max(self.rows * units, 1)]
        if self.kind == "relu":
            values.append(1.0 - self.flags.float().mean())
        elif self.kind in ("sigmoid", "tanh"):  # a unit is saturated for most of its outputs
            values.append((self.flags.float() / max(self.rows, 1) > 0.5).float().mean())
        return values


class ActivationMonitor(Callback):
    """Dead ReLUs, saturated sigmoid/tanh units and bias shift, per activation layer.

    Watched layers: those with an ``activation`` (``Dense(..., activation="relu")``,
    ``Activation``, convolutions, ...; the outputs seen are post-activation) and the activation
    layers ``ReLU``, ``LeakyReLU``, ``ELU``, ``PReLU``. Over each epoch's sampled training batches:

    * ``"dead_fraction/<layer>"`` (relu): the fraction of units (last axis) whose output was 0
      for every sample -- their gradient ``I(x > 0)`` is 0, so they never learn again;
    * ``"saturated_fraction/<layer>"`` (sigmoid, tanh): the fraction of units whose derivative,
      computed from the output (``y(1 - y)`` or ``1 - y^2``), is below ``derivative_threshold``
      for more than half of their outputs;
    * ``"mean_activation/<layer>"`` (all): the mean output. Sigmoid and ReLU outputs are never
      centred on 0, which shifts the next layer's inputs (the lecture's bias shift).

    Warnings name the layer (once per ``fit`` and layer): ``DeadReLUWarning`` when
    ``dead_fraction >= dead_threshold``, ``SaturationWarning`` when ``saturated_fraction >=
    saturation_threshold``, ``BiasShiftWarning`` when ``|mean_activation| > shift_threshold``
    (off by default). Validation batches (eval mode) are not counted. A final softmax/sigmoid
    fused into the loss is not seen (``fit`` computes that layer's logits directly).

    Args:
        every: sample one training batch out of this many.
        dead_threshold: dead fraction that triggers a warning.
        saturation_threshold: saturated fraction that triggers a warning.
        derivative_threshold: an output is saturated where the derivative is below this
            (sigmoid's largest derivative is 0.25, tanh's 1).
        shift_threshold: ``|mean output|`` that triggers a warning; ``None`` disables it.
        warn: issue warnings at all (the logs are written either way).

    Raises:
        ValueError: for an out-of-range argument.

    Example:
        >>> import numpy as np, torch, easynn
        >>> from easynn.layers import Dense
        >>> model = easynn.Sequential([easynn.Input(shape=(2,)), Dense(3, activation="relu", name="hidden"),
        ...                            Dense(1, name="out")])
        >>> with torch.no_grad():
        ...     _ = model.get_layer("hidden").bias.fill_(-100.0)  # every unit dies
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> history = model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0,
        ...                     callbacks=[ActivationMonitor(warn=False)])
        >>> history.history["dead_fraction/hidden"]
        [1.0]
    """

    def __init__(self, every: int = 1, dead_threshold: float = 0.5, saturation_threshold: float = 0.5,
                 derivative_threshold: float = 0.01, shift_threshold: float | None = None, warn: bool = True) -> None:
        super().__init__()
        self.every = _positive_int("every", every)
        self.dead_threshold = _fraction("dead_threshold", dead_threshold)
        self.saturation_threshold = _fraction("saturation_threshold", saturation_threshold)
        self.derivative_threshold = _optional_positive("derivative_threshold", derivative_threshold)
        if self.derivative_threshold is None:
            raise ValueError("`derivative_threshold` must be a positive number. Received: derivative_threshold=None")
        self.shift_threshold = _optional_positive("shift_threshold", shift_threshold)
        self.warn = bool(warn)
        t = self.derivative_threshold
        self._sigmoid_band = math.sqrt(1.0 - 4.0 * t) / 2.0 if t < 0.25 else -1.0
        self._tanh_band = math.sqrt(1.0 - t) if t < 1.0 else -1.0
        self._stats: dict[str, _ActivationStats] = {}
        self._handles: list = []
        self._sampling = True
        self._warned: set[tuple[str, str]] = set()

    def _make_hook(self, stats: _ActivationStats):
        def hook(module, args, output):
            if self._sampling and module.training and isinstance(output, torch.Tensor) and output.is_floating_point():
                stats.update(output)
        return hook

    def on_train_begin(self, logs=None):
        self._remove_hooks()
        self._stats = {}
        self._warned = set()
        for name, layer in _named(_leaf_layers(self.model)):
            kind = _activation_kind(layer)
            if kind is None:
                continue
            stats = _ActivationStats(kind, self._sigmoid_band, self._tanh_band)
            self._stats[name] = stats
            self._handles.append(layer.register_forward_hook(self._make_hook(stats)))

    def on_train_end(self, logs=None):
        self._remove_hooks()

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def on_epoch_begin(self, epoch, logs=None):
        for stats in self._stats.values():
            stats.reset()

    def on_train_batch_begin(self, batch, logs=None):
        self._sampling = batch % self.every == 0

    def on_epoch_end(self, epoch, logs=None):
        self._sampling = True
        seen = [(name, s) for name, s in self._stats.items() if s.total is not None]
        if not seen or logs is None:
            return
        parts = [s.summary() for _, s in seen]
        flat = torch.stack([v.float().to(parts[0][0].device) for p in parts for v in p]).tolist()  # one sync
        offset = 0
        for (name, stats), part in zip(seen, parts):
            values = flat[offset:offset + len(part)]
            offset += len(part)
            logs[f"mean_activation/{name}"] = values[0]
            if stats.kind == "relu":
                logs[f"dead_fraction/{name}"] = values[1]
            elif stats.kind in ("sigmoid", "tanh"):
                logs[f"saturated_fraction/{name}"] = values[1]
            if self.warn:
                self._check(epoch, name, stats.kind, values)

    def _once(self, kind: str, name: str) -> bool:
        if (kind, name) in self._warned:
            return False
        self._warned.add((kind, name))
        return True

    def _check(self, epoch: int, name: str, kind: str, values: list[float]) -> None:
        if kind == "relu" and values[1] >= self.dead_threshold and self._once("dead", name):
            _warn(DeadReLUWarning,
                  f"Layer '{name}': {values[1]:.0%} of its ReLU units were dead at epoch {epoch} (output 0 for "
                  f"every training sample; dead_threshold={self.dead_threshold}). Their gradient is 0, so they "
                  "stop learning: use he_normal initialisation, a smaller learning rate, or LeakyReLU/ELU.")
        if kind in ("sigmoid", "tanh") and values[1] >= self.saturation_threshold and self._once("saturated", name):
            _warn(SaturationWarning,
                  f"Layer '{name}': {values[1]:.0%} of its {kind} units were saturated at epoch {epoch} (derivative "
                  f"below {self.derivative_threshold} for most outputs; saturation_threshold="
                  f"{self.saturation_threshold}). Normalise the inputs or use smaller initial weights.")
        if self.shift_threshold is not None and abs(values[0]) > self.shift_threshold and self._once("shift", name):
            _warn(BiasShiftWarning,
                  f"Layer '{name}': mean output {values[0]:.3g} at epoch {epoch} exceeds shift_threshold="
                  f"{self.shift_threshold} in magnitude (bias shift). Zero-centred activations (tanh, ELU) or "
                  "normalisation layers keep the next layer's inputs centred.")
