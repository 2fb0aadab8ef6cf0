"""ActivationMonitor: dead ReLU units, saturated sigmoid/tanh units and shifted means, per layer.

The lecture's activation problems, measured on the training batches of each epoch with forward
hooks attached in ``on_train_begin`` and removed in ``on_train_end`` (a model that is not being
monitored pays nothing); the one host sync is at the end of the epoch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from easynn import activations
from easynn._validation import positive_int as _positive_int
from easynn.callbacks._diagnostics import (
    BiasShiftWarning,
    DeadReLUWarning,
    SaturationWarning,
    _fraction,
    _leaf_layers,
    _named,
    _optional_positive,
    _warn,
)
from easynn.callbacks.base import Callback

__all__ = ["ActivationMonitor"]


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
