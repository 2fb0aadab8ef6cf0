"""Layers: the Keras layer contract (``base.Layer``) and the built-in layers."""

from easynn.layers.base import Layer
from easynn.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Lambda, Reshape, TorchModuleWrapper
from easynn.layers.symbolic import SymbolicTensor

__all__ = [
    "Layer", "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Lambda", "Reshape",
    "TorchModuleWrapper", "SymbolicTensor",
]
