"""Keras 2's ``keras.preprocessing`` names, kept for old scripts (``sequence.pad_sequences``)."""

from easynn.preprocessing import sequence

__all__ = ["sequence"]
