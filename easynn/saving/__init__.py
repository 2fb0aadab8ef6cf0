"""Saving and loading models and weights, safely.

``model.save(path)`` writes one zip file (any name, e.g. ``model.keras``) with the architecture
(``config.json``), the weights (``model.safetensors``), the compile arguments and the optimizer
state (``optimizer.safetensors``) and ``metadata.json``. ``load_model(path)`` rebuilds it.
``save_weights``/``load_weights`` write/read the weights alone as one safetensors file.

Safety: classes are resolved only through an explicit registry (easynn's own layers, classes
registered with ``@register_serializable``, and ``custom_objects``); no module path from a file
is ever imported and nothing is ever unpickled. Writes are atomic (temporary file + fsync +
rename), so an interrupted save leaves the previous file intact.

Example:
    >>> import os, tempfile, torch, easynn
    >>> model = easynn.Sequential([easynn.Input(shape=(3,)), easynn.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> model.save(path)
    >>> restored = easynn.saving.load_model(path)
    >>> bool(torch.equal(restored(torch.ones(1, 3)), model(torch.ones(1, 3))))
    True
"""

from easynn.saving.model_file import load_model, save_model
from easynn.saving.registry import (
    custom_object_scope,
    deserialize_layer,
    get_registered_name,
    get_registered_object,
    register_serializable,
    serialize_layer,
)
from easynn.saving.weights import load_weights, save_weights

__all__ = [
    "save_model", "load_model", "save_weights", "load_weights", "register_serializable", "get_registered_name",
    "get_registered_object", "custom_object_scope", "serialize_layer", "deserialize_layer",
]
