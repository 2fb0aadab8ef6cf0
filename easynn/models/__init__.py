"""Models: ``Model`` (compile/fit/evaluate/predict), ``Sequential`` and the functional API."""

from easynn.models import functional as _functional  # noqa: F401  (registers Model(inputs, outputs))
from easynn.models.model import Model
from easynn.models.sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True):
    """Load a model saved with ``model.save`` (see ``easynn.saving.load_model``)."""
    from easynn import saving

    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


__all__ = ["Model", "Sequential", "load_model"]
