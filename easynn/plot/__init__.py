"""Pictures (needs matplotlib: ``pip install matplotlib``; it loads only when drawing).

* ``history``: loss and metric curves of a ``History``;
* ``activations``: each activation with its derivative;
* ``gradient_flow``: per-layer gradient norms recorded by ``easynn.callbacks.GradientMonitor``;
* ``loss_surface`` (and ``surface_grid``, its numbers): the lecture's figure 4.9;
* ``model``: the layer graph of a model.

Each returns a matplotlib ``Figure`` and writes a PNG when given ``path``.
"""

from easynn.plot.diagnostics import activations, gradient_flow, loss_surface, model, surface_grid
from easynn.plot.history import history

__all__ = ["activations", "gradient_flow", "history", "loss_surface", "model", "surface_grid"]
