"""Utilities: label encoding and reproducibility."""

from easynn.backend import clear_session
from easynn.config import disable_interactive_logging, enable_interactive_logging, is_interactive_logging_enabled
from easynn.saving.registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from easynn.saving.serialization import deserialize_keras_object, serialize_keras_object
from easynn.training.py_dataset import PyDataset, Sequence
from easynn.utils.audio_dataset import audio_dataset_from_directory
from easynn.utils.config_dict import Config
from easynn.utils.data_format import convert_data_format, convert_to_channels_first, convert_to_channels_last
from easynn.utils.dataset_split import split_dataset
from easynn.utils.feature_space import FeatureSpace
from easynn.utils.file_utils import get_file
from easynn.utils.graph import trace_graph
from easynn.utils.image_dataset import image_dataset_from_directory
from easynn.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from easynn.utils.numerics import normalize, to_categorical
from easynn.utils.plotting import model_to_dot, plot_model
from easynn.utils.progbar import Progbar
from easynn.utils.seeding import set_random_seed
from easynn.utils.sequence import pad_sequences, timeseries_dataset_from_array
from easynn.utils.structures import (
    get_source_inputs,
    is_keras_tensor,
    pack_x_y_sample_weight,
    standardize_dtype,
    unpack_x_y_sample_weight,
)
from easynn.utils.text_dataset import text_dataset_from_directory

__all__ = ["to_categorical", "normalize", "get_file", "plot_model", "model_to_dot", "Progbar", "set_random_seed", "trace_graph", "pad_sequences",
           "timeseries_dataset_from_array", "PyDataset", "Sequence",
           "load_img", "img_to_array", "array_to_img", "save_img", "image_dataset_from_directory",
           "text_dataset_from_directory", "audio_dataset_from_directory",
           "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "is_keras_tensor", "get_source_inputs",
           "standardize_dtype", "clear_session", "split_dataset",
           "Config", "FeatureSpace", "convert_data_format", "convert_to_channels_first", "convert_to_channels_last",
           "enable_interactive_logging", "disable_interactive_logging", "is_interactive_logging_enabled",
           # Keras also exposes its serialization API as keras.utils.*
           "register_keras_serializable", "get_custom_objects", "custom_object_scope", "CustomObjectScope",
           "get_registered_name", "get_registered_object", "serialize_keras_object", "deserialize_keras_object"]
