"""Layers: the Keras layer contract (``base.Layer``) and the built-in layers."""

from easynn.layers.activation import ELU, LeakyReLU, Maxout, PReLU, ReLU, Softmax
from easynn.layers.activity_regularization import ActivityRegularization
from easynn.layers.attention import (
    AdditiveAttention,
    Attention,
    GroupedQueryAttention,
    GroupQueryAttention,
    MultiHeadAttention,
)
from easynn.layers.base import Layer
from easynn.layers.conv import Conv1D, Conv2D, Conv3D, Convolution1D, Convolution2D, Convolution3D
from easynn.layers.conv_separable import (
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from easynn.layers.conv_transpose import (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
    Convolution1DTranspose,
    Convolution2DTranspose,
    Convolution3DTranspose,
)
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
from easynn.layers.einsum_dense import EinsumDense
from easynn.layers.embedding import Embedding
from easynn.layers.input_spec import InputSpec
from easynn.layers.masking import Masking
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
from easynn.layers.merge_dot import Dot, dot
from easynn.layers.noise import (
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from easynn.layers.normalization import BatchNormalization, LayerNormalization
from easynn.layers.normalization_extra import GroupNormalization, UnitNormalization
from easynn.layers.op_layer import OpLayer
from easynn.layers.padding import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from easynn.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from easynn.layers.preprocessing import (
    AugMix,
    AutoContrast,
    CategoryEncoding,
    CenterCrop,
    CutMix,
    Discretization,
    Equalization,
    HashedCrossing,
    Hashing,
    IntegerLookup,
    MaxNumBoundingBoxes,
    MelSpectrogram,
    MixUp,
    Normalization,
    Pipeline,
    RandAugment,
    RandomBrightness,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomContrast,
    RandomCrop,
    RandomElasticTransform,
    RandomErasing,
    RandomFlip,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPerspective,
    RandomPosterization,
    RandomRotation,
    RandomSaturation,
    RandomSharpness,
    RandomShear,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
    Solarization,
    STFTSpectrogram,
    StringLookup,
    TextVectorization,
)
from easynn.layers.reshaping import Identity, Permute, RepeatVector
from easynn.layers.rms_normalization import RMSNormalization
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
from easynn.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from easynn.layers.spectral_normalization import SpectralNormalization, Wrapper
from easynn.layers.symbolic import SymbolicTensor
from easynn.layers.upsampling import UpSampling1D, UpSampling2D, UpSampling3D

__all__ = [
    "Layer", "ELU", "LeakyReLU", "Maxout", "PReLU", "ReLU", "Softmax", "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "InputSpec", "Lambda", "Reshape",
    "TorchModuleWrapper", "SymbolicTensor", "OpLayer",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
    "Conv1D", "Conv2D", "Convolution1D", "Convolution2D",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D",
    "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
    "BatchNormalization", "LayerNormalization", "Embedding", "LSTM", "GRU",
    "SimpleRNN", "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells", "Bidirectional",
    "TimeDistributed", "Masking", "MultiHeadAttention", "Attention", "AdditiveAttention", "ConvLSTM1D", "ConvLSTM2D",
    "ConvLSTM3D", "EinsumDense",
    "Rescaling", "Normalization", "Resizing", "CenterCrop", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomCrop", "RandomContrast", "RandomBrightness", "RandomGrayscale", "RandomInvert",
    "AutoContrast",
    "Conv3D", "Convolution3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution1DTranspose",
    "Convolution2DTranspose", "Convolution3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
    "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
    "MaxPooling3D", "AveragePooling3D", "GlobalMaxPooling3D", "GlobalAveragePooling3D", "MaxPool3D", "AvgPool3D",
    "GlobalMaxPool3D", "GlobalAvgPool3D",
    "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D",
    "Cropping2D", "Cropping3D", "Permute", "RepeatVector", "Identity",
    "RandomShear", "RandomSharpness", "Solarization", "RandomPosterization", "RandomColorDegeneration", "MixUp",
    "CutMix",
    "RandomShear", "RandomSharpness", "Solarization", "RandomPosterization", "RandomColorDegeneration", "MixUp",
    "CutMix", "Equalization", "RandAugment", "RandomErasing",
    "RandomHue", "RandomSaturation", "RandomColorJitter", "RandomGaussianBlur", "RandomPerspective",
    "RandomElasticTransform", "TextVectorization", "StringLookup", "IntegerLookup",
    "GroupNormalization", "UnitNormalization", "ActivityRegularization", "AlphaDropout", "GaussianDropout",
    "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "Dot", "dot", "RMSNormalization", "CategoryEncoding", "Discretization", "SpectralNormalization", "Wrapper",
    "GroupQueryAttention", "GroupedQueryAttention", "Pipeline", "STFTSpectrogram", "MelSpectrogram",
    "Hashing", "HashedCrossing", "AugMix", "MaxNumBoundingBoxes",
]
