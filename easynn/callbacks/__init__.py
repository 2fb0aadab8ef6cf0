"""Callbacks: Keras's hooks into fit, evaluate and predict."""

from easynn.callbacks.base import Callback, CallbackList, History
from easynn.training.progress import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
