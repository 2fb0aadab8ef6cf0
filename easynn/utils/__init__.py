"""Utilities: label encoding and reproducibility."""

from easynn.utils.graph import trace_graph
from easynn.utils.numerics import to_categorical
from easynn.utils.seeding import set_random_seed
from easynn.utils.sequence import pad_sequences

__all__ = ["to_categorical", "set_random_seed", "trace_graph", "pad_sequences"]
