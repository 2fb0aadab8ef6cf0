"""Config entries for layers held by other layers (Bidirectional, TimeDistributed, RNN's cell).

``easynn.layers`` may not import ``easynn.saving`` (the import layering), so wrappers store a
nested layer as ``{"class_name": ..., "config": ...}`` themselves and find the class again among
easynn's layers, then among the ``Layer`` subclasses defined so far (a user's cell class must be
defined, or given in ``custom_objects``, before loading, exactly as for ``load_model``).

Example:
    >>> from easynn.layers.rnn.lstm import LSTM
    >>> spec = serialize_nested(LSTM(3, name="lstm_docs"))
    >>> spec["class_name"], deserialize_nested(spec).units
    ('LSTM', 3)
"""

from __future__ import annotations

from typing import Any

from easynn.layers.base import Layer

__all__ = ["serialize_nested", "deserialize_nested"]


def serialize_nested(layer: Any) -> dict:
    """``{"class_name", "config"}`` of ``layer`` (its ``get_config()``)."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _find_class(name: str) -> type | None:
    import easynn.layers as layers

    found = getattr(layers, name, None)
    if isinstance(found, type) and issubclass(found, Layer):
        return found
    stack = [Layer]
    while stack:  # Layer subclasses defined so far (easynn's first, then the user's)
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub.__name__ == name:
                return sub
            stack.append(sub)
    return None


def deserialize_nested(spec: Any, custom_objects: dict | None = None) -> Any:
    """A new layer from ``serialize_nested``'s output (a layer object is returned as is).

    Raises:
        ValueError: when the class cannot be found.
    """
    if isinstance(spec, Layer) or not isinstance(spec, dict):
        return spec
    name = spec.get("class_name")
    cls = (custom_objects or {}).get(name) or _find_class(str(name))
    if cls is None:
        raise ValueError(
            f"Unknown layer class '{name}' in a nested layer config. Define the class (or pass it in "
            "custom_objects) before deserializing."
        )
    return cls.from_config(dict(spec.get("config", {})))
