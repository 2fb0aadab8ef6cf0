"""Callbacks: Keras's hooks into fit, evaluate and predict."""

from easynn.callbacks.base import Callback, CallbackList, History
from easynn.callbacks.checkpoint import BackupAndRestore, ModelCheckpoint
from easynn.callbacks.early_stopping import EarlyStopping
from easynn.callbacks.logging import CSVLogger, LambdaCallback, TerminateOnNaN
from easynn.callbacks.monitor_callback import MonitorCallback
from easynn.callbacks.monitors import (
    ActivationMonitor,
    BiasShiftWarning,
    DeadReLUWarning,
    DiagnosticWarning,
    ExplodingGradientWarning,
    GradientMonitor,
    SaturationWarning,
    VanishingGradientWarning,
)
from easynn.callbacks.schedules import LearningRateScheduler, ReduceLROnPlateau
from easynn.callbacks.swap_ema_weights import SwapEMAWeights
from easynn.callbacks.tensorboard import TensorBoard
from easynn.training.progress import ProgbarLogger

__all__ = [
    "Callback", "CallbackList", "History", "ProgbarLogger",
    "BackupAndRestore", "CSVLogger", "EarlyStopping", "LambdaCallback", "LearningRateScheduler",
    "ModelCheckpoint", "MonitorCallback", "ReduceLROnPlateau", "SwapEMAWeights", "TensorBoard", "TerminateOnNaN",
]
__all__ += [
    "ActivationMonitor", "BiasShiftWarning", "DeadReLUWarning", "DiagnosticWarning", "ExplodingGradientWarning",
    "GradientMonitor", "SaturationWarning", "VanishingGradientWarning",
]
