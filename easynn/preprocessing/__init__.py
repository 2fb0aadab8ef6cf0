"""Keras's ``keras.preprocessing`` names, kept for old scripts (``sequence.pad_sequences``,
``image.load_img``, ``image_dataset_from_directory``...): the same functions as ``easynn.utils``'s."""

from easynn.preprocessing import image, sequence
from easynn.utils.image_dataset import image_dataset_from_directory
from easynn.utils.sequence import timeseries_dataset_from_array
from easynn.utils.text_dataset import text_dataset_from_directory

__all__ = [
    "image",
    "sequence",
    "image_dataset_from_directory",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
