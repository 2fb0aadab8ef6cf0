"""Layers: the Keras layer contract (``base.Layer``) and the built-in layers."""

from easynn.layers.activation import ELU, LeakyReLU, Maxout, PReLU, ReLU, Softmax
from easynn.layers.base import Layer
from easynn.layers.conv import Conv1D, Conv2D, Convolution1D, Convolution2D
from easynn.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    Lambda,
    Reshape,
    TorchModuleWrapper,
)
from easynn.layers.embedding import Embedding
from easynn.layers.merge import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from easynn.layers.normalization import BatchNormalization, LayerNormalization
from easynn.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from easynn.layers.rnn import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
    TimeDistributed,
)
from easynn.layers.masking import Masking
from easynn.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from easynn.layers.preprocessing import (
    AutoContrast,
    CenterCrop,
    Normalization,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomGrayscale,
    RandomInvert,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
)
from easynn.layers.symbolic import SymbolicTensor

__all__ = [
    "Layer", "ELU", "LeakyReLU", "Maxout", "PReLU", "ReLU", "Softmax", "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Lambda", "Reshape",
    "TorchModuleWrapper", "SymbolicTensor",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
    "Conv1D", "Conv2D", "Convolution1D", "Convolution2D",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D",
    "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
    "BatchNormalization", "LayerNormalization", "Embedding", "LSTM", "GRU",
    "SimpleRNN", "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells", "Bidirectional",
    "TimeDistributed", "Masking", "MultiHeadAttention", "Attention", "AdditiveAttention",
    "Rescaling", "Normalization", "Resizing", "CenterCrop", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomCrop", "RandomContrast", "RandomBrightness", "RandomGrayscale", "RandomInvert",
    "AutoContrast",
]
