"""Shared by the training monitors: their warning classes and small helpers (layers, names, checks)."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

__all__ = [
    "BiasShiftWarning", "DeadReLUWarning", "DiagnosticWarning", "ExplodingGradientWarning", "SaturationWarning",
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
    """The model's layers, with nested models (a Sequential inside a model) expanded.

    A nested model is recognised by its ``layers`` and ``fit`` (callbacks sit above models in
    the import layering and do not import them)."""
    found: list[nn.Module] = []
    for layer in getattr(model, "layers", None) or list(model.children()):
        if layer is not model and hasattr(layer, "layers") and callable(getattr(layer, "fit", None)):
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
