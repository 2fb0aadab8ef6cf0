"""Callbacks: Keras's hooks into fit, evaluate and predict."""

from easynn.callbacks.base import Callback, CallbackList, History
from easynn.callbacks.monitors import (
    ActivationMonitor, BiasShiftWarning, DeadReLUWarning, DiagnosticWarning, ExplodingGradientWarning,
    GradientMonitor, SaturationWarning, VanishingGradientWarning,
)
from easynn.training.progress import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
__all__ += [
    "ActivationMonitor", "BiasShiftWarning", "DeadReLUWarning", "DiagnosticWarning", "ExplodingGradientWarning",
    "GradientMonitor", "SaturationWarning", "VanishingGradientWarning",
]
