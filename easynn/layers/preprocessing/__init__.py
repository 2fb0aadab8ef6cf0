"""Preprocessing and augmentation layers that run inside the model, on the model's device.

* :mod:`numeric`: Rescaling, Normalization (with ``adapt``);
* :mod:`image`: Resizing, CenterCrop;
* :mod:`augmentation`: RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomShear, RandomCrop;
* :mod:`color`: RandomContrast, RandomBrightness, RandomGrayscale, RandomInvert, AutoContrast;
* :mod:`enhance`: RandomSharpness, Solarization, RandomPosterization, RandomColorDegeneration, Equalization,
  RandomErasing;
* :mod:`color_jitter`: RandomHue, RandomSaturation, RandomColorJitter;
* :mod:`geometric`: RandomGaussianBlur, RandomPerspective, RandomElasticTransform;
* :mod:`rand_augment`: RandAugment; :mod:`aug_mix`: AugMix;
* :mod:`mixing`: MixUp, CutMix (also on ``{"images", "labels"}`` dicts);
* :mod:`text_vectorization`: TextVectorization; :mod:`string_lookup`: StringLookup, IntegerLookup;
* :mod:`encoding`: CategoryEncoding, Discretization (with ``adapt``).
* :mod:`pipeline`: Pipeline (a layer that applies a list of layers in order).
* :mod:`stft_spectrogram`: STFTSpectrogram; :mod:`mel_spectrogram`: MelSpectrogram (audio).
* :mod:`hashing`: Hashing (FarmHash64 / SipHash bins, Keras's bucket numbers).
* :mod:`hashed_crossing`: HashedCrossing (feature crosses by TensorFlow's ``cross_hashed``).
* :mod:`bounding_boxes`: MaxNumBoundingBoxes (pads/cuts ``{"bounding_boxes": ...}`` to a fixed count).

Random layers act only with ``training=True`` (inside ``fit``) and are the identity otherwise.
"""

from easynn.layers.preprocessing.aug_mix import AugMix
from easynn.layers.preprocessing.augmentation import (
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    RandomZoom,
)
from easynn.layers.preprocessing.bounding_boxes import MaxNumBoundingBoxes
from easynn.layers.preprocessing.color import (
    AutoContrast,
    RandomBrightness,
    RandomContrast,
    RandomGrayscale,
    RandomInvert,
)
from easynn.layers.preprocessing.color_jitter import RandomColorJitter, RandomHue, RandomSaturation
from easynn.layers.preprocessing.encoding import CategoryEncoding, Discretization
from easynn.layers.preprocessing.enhance import (
    Equalization,
    RandomColorDegeneration,
    RandomErasing,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from easynn.layers.preprocessing.geometric import RandomElasticTransform, RandomGaussianBlur, RandomPerspective
from easynn.layers.preprocessing.hashed_crossing import HashedCrossing
from easynn.layers.preprocessing.hashing import Hashing
from easynn.layers.preprocessing.image import CenterCrop, Resizing
from easynn.layers.preprocessing.mel_spectrogram import MelSpectrogram
from easynn.layers.preprocessing.mixing import CutMix, MixUp
from easynn.layers.preprocessing.numeric import Normalization, Rescaling
from easynn.layers.preprocessing.pipeline import Pipeline
from easynn.layers.preprocessing.rand_augment import RandAugment
from easynn.layers.preprocessing.stft_spectrogram import STFTSpectrogram
from easynn.layers.preprocessing.string_lookup import IntegerLookup, StringLookup
from easynn.layers.preprocessing.text_vectorization import TextVectorization

__all__ = [
    "Rescaling", "Normalization", "Resizing", "CenterCrop", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomCrop", "RandomContrast", "RandomBrightness", "RandomGrayscale",
    "RandomInvert", "AutoContrast", "RandomShear", "RandomSharpness", "Solarization", "RandomPosterization",
    "RandomColorDegeneration", "Equalization", "RandomErasing", "MixUp", "CutMix",
    "RandAugment", "RandomHue", "RandomSaturation", "RandomColorJitter", "RandomGaussianBlur", "RandomPerspective",
    "RandomElasticTransform", "TextVectorization", "StringLookup", "IntegerLookup",
    "CategoryEncoding", "Discretization", "Pipeline", "STFTSpectrogram", "MelSpectrogram",
    "Hashing", "HashedCrossing", "AugMix", "MaxNumBoundingBoxes",
]
