"""Layers: the Keras layer contract (``base.Layer``) and the built-in layers."""

from easynn.layers.base import Layer
from easynn.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Lambda, Reshape, TorchModuleWrapper
from easynn.layers.symbolic import SymbolicTensor
from easynn.layers.merge import (
    Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract,
    add, average, concatenate, maximum, minimum, multiply, subtract,
)

__all__ = [
    "Layer", "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Lambda", "Reshape",
    "TorchModuleWrapper", "SymbolicTensor",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
]
