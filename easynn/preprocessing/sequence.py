"""``keras.preprocessing.sequence``: ``pad_sequences`` (the same function as ``easynn.utils.pad_sequences``)."""

from easynn.utils.sequence import pad_sequences

__all__ = ["pad_sequences"]
