"""Models: ``Model`` (compile/fit/evaluate/predict), ``Sequential`` and the functional API."""

from easynn.models.functional import Functional  # registers what Model(inputs, outputs) builds
from easynn.models.model import Model
from easynn.models.sequential import Sequential
from easynn.saving import clone_model, model_from_json, save_model


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved with ``model.save`` (see ``easynn.saving.load_model``)."""
    from easynn import saving

    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


__all__ = ["Model", "Sequential", "Functional", "load_model", "clone_model", "model_from_json", "save_model"]
