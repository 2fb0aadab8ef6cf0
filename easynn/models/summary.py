"""``model.summary()``: the table is built in ``easynn/layers/summary.py`` (a model is a layer
tree, and the plotting code below the models package draws from the same rows); this module
keeps the ``easynn.models.summary`` import path."""

from easynn.layers.summary import print_summary, readable_memory_size, summary_rows

__all__ = ["print_summary", "readable_memory_size", "summary_rows"]
