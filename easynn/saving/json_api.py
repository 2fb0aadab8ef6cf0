"""``to_json`` / ``model_from_json``: a model's architecture as a JSON string, and back.

The JSON is ``serialize_keras_object(model)`` (Keras 3's format); it holds no weights.
``Model.to_json`` and ``easynn.models.model_from_json`` call these functions.

Example:
    >>> import easynn
    >>> model = easynn.Sequential([easynn.Input(shape=(3,)), easynn.layers.Dense(2)])
    >>> text = to_json(model)
    >>> model_from_json(text).count_params() == model.count_params()
    True
"""

from __future__ import annotations

import json
from typing import Any

from easynn.saving import registry, serialization

__all__ = ["to_json", "model_from_json"]


def to_json(model: Any, **kwargs: Any) -> str:
    """The architecture (and compile arguments, when compiled) of ``model`` as a JSON string.

    Args:
        model: an easynn model or layer.
        **kwargs: passed to ``json.dumps`` (``indent=2``...).

    Returns:
        A JSON string; ``model_from_json`` rebuilds the model from it, with fresh weights.

    Raises:
        TypeError: if a layer cannot describe itself (an anonymous lambda, a config holding
            something JSON cannot store).
    """
    from easynn.layers.base import Layer

    if not isinstance(model, Layer):
        raise TypeError(f"to_json() expects an easynn model or layer. Received: {model!r}")
    return json.dumps(serialization.serialize_keras_object(model), **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """Rebuild a model (new weights) from ``to_json``'s output.

    Args:
        json_string: the JSON text.
        custom_objects: ``{"Name": class_or_function}`` for unregistered custom objects.

    Returns:
        The model, built when the JSON recorded how to build it.

    Raises:
        TypeError: if ``json_string`` is not a string.
        ValueError: for text that is not JSON, or names no known class.
    """
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise TypeError(f"model_from_json() expects a JSON string. Received: {type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as error:
        raise ValueError(f"model_from_json() received text that is not valid JSON: {error}") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"model_from_json() expects the JSON of a model (with a 'class_name'). Received: {str(config)[:200]}")
    with registry.CustomObjectScope(custom_objects):
        return serialization.deserialize_keras_object(config, custom_objects=custom_objects)
