"""Objects -> Keras 3's JSON dicts: ``serialize_keras_object`` and the value encodings.

An object with ``get_config`` becomes ``{"module", "class_name", "config", "registered_name"}``
(plus ``"build_config"`` / ``"compile_config"`` when the object has them), its config's values
serialized the same way, recursively. A function becomes ``{"module", "class_name": "function",
"config": name, "registered_name": name}``. Tensors and NumPy arrays become ``"__tensor__"`` /
``"__numpy__"`` entries holding their values as lists (``_SPECIAL`` reads them back).

This module also holds what both directions share: how deep inside a config the work is
(``_DEPTH`` / ``_Nested``) and the ``clone_model`` placeholders (``_CLONING``).
``serialization`` (the other direction) imports it; it never imports ``serialization``.

Example:
    >>> import easynn
    >>> config = serialize_keras_object(easynn.regularizers.L1(0.005))
    >>> config["class_name"], config["config"], config["registered_name"]
    ('L1', {'l1': 0.005}, None)
"""

from __future__ import annotations

import contextvars
import inspect
import json
from typing import Any

import numpy as np
import torch

from easynn.saving import hooks, registry

__all__ = ["serialize_keras_object", "serialize_layer", "serialize_top_level"]

# How deep inside an object's config serialization/deserialization is; 0 = the object the user
# passed. Only that object gets easynn's default build_config (its input shape), as the model
# entry of a model file always had; nested layers are built by their model.
_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("easynn_serialization_depth", default=0)
# clone_model in progress: {id(layer): (layer, clone_function)} for the layers it replaces. Their
# entries in the model's config become placeholders that deserialization turns into the clones.
_CLONING: contextvars.ContextVar[dict | None] = contextvars.ContextVar("easynn_cloning", default=None)
_CLONE = "__easynn_clone__"


# --------------------------------------------------------------------------- helpers
def _is_layer(obj: Any) -> bool:
    from easynn.layers.base import Layer

    return isinstance(obj, Layer)


def _lambda_class() -> type:
    from easynn.layers.core import Lambda

    return Lambda


def _is_easynn_module(module: Any) -> bool:
    return isinstance(module, str) and (module in ("easynn", "keras") or module.startswith(("easynn.", "keras.")))


class _Nested:
    """``with _Nested():`` marks the work inside as nested (depth + 1)."""

    def __enter__(self) -> None:
        self._token = _DEPTH.set(_DEPTH.get() + 1)

    def __exit__(self, *exc_info: Any) -> None:
        _DEPTH.reset(self._token)


def _function_entry(fn: Any) -> dict:
    name = getattr(fn, "__name__", None)
    if not name or name == "<lambda>":
        raise TypeError(
            f"Cannot serialize the anonymous function {fn!r}: easynn never stores code in configs or "
            "model files. Define it with `def`, decorate it with "
            "@easynn.saving.register_keras_serializable(), and pass the named function instead."
        )
    registered = registry.get_registered_name(fn)
    module = getattr(fn, "__module__", None)
    if registered == name and _is_easynn_module(module):
        # easynn's own functions (activations, losses) by their Keras name.
        public = module.split(".")[1] if module.count(".") else module
        module = f"easynn.{public}"
    return {"module": module, "class_name": "function", "config": registered, "registered_name": registered}


def _is_layer_class(cls: Any) -> bool:
    from easynn.layers.base import Layer

    return inspect.isclass(cls) and issubclass(cls, Layer)


def _looks_serialized(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value and "config" in value


def _clone_placeholder(inner: Any) -> Any:
    cloning = _CLONING.get() or {}
    key = int(inner["id"]) if isinstance(inner, dict) and str(inner.get("id", "")).isdigit() else None
    if key not in cloning:
        raise ValueError(
            "The config holds a clone_model() placeholder outside of clone_model(); it is not a saved layer."
        )
    layer, clone_function = cloning[key]
    made = clone_function(layer)
    if not _is_layer(made):
        raise TypeError(f"clone_function must return an easynn layer. For layer '{layer.name}' it returned {made!r}.")
    return made


# --------------------------------------------------------------------------- serialize
def serialize_keras_object(obj: Any) -> Any:
    """A JSON-able description of ``obj`` in Keras 3's format.

    Args:
        obj: None, a plain value, a list/tuple/dict of such, a tensor or array, a named function,
            or an object with ``get_config`` (layer, model, loss, metric, optimizer, regularizer,
            initializer, registered custom class).

    Returns:
        Plain data: for objects ``{"module", "class_name", "config", "registered_name"}`` (with
        ``"build_config"`` for built layers and ``"compile_config"`` for compiled models).

    Raises:
        TypeError: for an anonymous ``lambda``, or an object without ``get_config``, or a config
            that holds something else JSON cannot store.

    Example:
        >>> serialize_keras_object([1, "relu", None])
        [1, 'relu', None]
    """
    entry = _serialize(obj, with_compile=True)
    if _DEPTH.get() == 0:
        registry.check_json(entry, f"The serialized {type(obj).__name__}")
    return entry


def serialize_top_level(model: Any) -> dict:
    """The model entry of a model file: like ``serialize_keras_object``, without compile_config."""
    entry = _serialize(model, with_compile=False)
    registry.check_json(entry, f"The config of model '{getattr(model, 'name', '?')}'")
    return entry


def serialize_layer(layer: Any) -> dict:
    """A nested layer's entry (what ``Sequential``/``Functional.get_config`` store per layer).

    Raises:
        TypeError: if the layer's config holds something JSON cannot store.
        NotImplementedError: from ``get_config`` when the layer cannot describe itself.
    """
    with _Nested():
        entry = _serialize(layer, with_compile=False)
    registry.check_json(entry, f"The config of layer '{getattr(layer, 'name', '?')}' ({type(layer).__name__})")
    return entry


def _serialize(obj: Any, with_compile: bool) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [_serialize(item, with_compile) for item in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"Configs must have string keys. Received the key {key!r} in {str(obj)[:200]}")
            out[key] = _serialize(value, with_compile)
        return out
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, torch.dtype):
        return str(obj).replace("torch.", "")
    if isinstance(obj, torch.Tensor):
        value = obj.detach().cpu()
        return {
            "class_name": "__tensor__",
            "config": {"value": value.tolist(), "dtype": str(value.dtype).replace("torch.", "")},
        }
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.item()
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
    if isinstance(obj, np.generic):
        return obj.item()
    cloning = _CLONING.get()
    if cloning is not None and _DEPTH.get() > 0 and id(obj) in cloning:
        return {"module": None, "class_name": _CLONE, "config": {"id": str(id(obj))}, "registered_name": None}
    if isinstance(obj, _lambda_class()):
        return _serialize_lambda(obj)
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return _function_entry(obj)
    if inspect.isclass(obj) or not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize {obj!r} (type {type(obj).__name__}): only plain values, tensors, named "
            "functions and objects with get_config() can be written to a config."
        )
    return _object_entry(obj, with_compile)


def _object_entry(obj: Any, with_compile: bool) -> dict:
    cls = type(obj)
    top = _DEPTH.get() == 0
    with _Nested():  # what get_config serializes itself is nested too
        config = obj.get_config()
        if not isinstance(config, dict):
            raise TypeError(f"{cls.__name__}.get_config() must return a dict. Received: {config!r}")
        inner = _serialize(config, with_compile=False)
    module = cls.__module__
    key = registry.registered_key(cls)
    if key is not None:
        registered = key
    elif _is_easynn_module(module):
        registered = None
    else:
        registered = cls.__name__
    entry = {"module": module, "class_name": cls.__name__, "config": inner, "registered_name": registered}
    if _is_layer(obj):
        build_config = hooks.build_config_of(obj, top=top)
        if build_config is not None:
            with _Nested():
                entry["build_config"] = _serialize(build_config, with_compile=False)
        if with_compile and top:
            compile_config = hooks.compile_config_of(obj, _serialize)
            if compile_config is not None:
                entry["compile_config"] = compile_config
    return entry


def _serialize_lambda(layer: Any) -> dict:
    from easynn.layers.base import Layer

    config = Layer.get_config(layer)  # name, trainable, dtype (Lambda.get_config refuses on purpose)
    try:
        config["function"] = _function_entry(layer.function)
    except TypeError as error:
        raise TypeError(
            f"Lambda layer '{layer.name}' cannot be serialized: its function is an anonymous lambda, and "
            "easynn never stores code in configs or model files. Define the function with `def` and "
            "register it with @easynn.saving.register_keras_serializable() (or write a Layer subclass)."
        ) from error
    for key, value in (("output_shape", layer._output_shape), ("mask", layer.mask)):
        if callable(value) or isinstance(value, torch.Tensor):
            raise TypeError(
                f"Lambda layer '{layer.name}' cannot be serialized: its `{key}` is a "
                f"{type(value).__name__}, and easynn stores only plain values for it. Write a Layer subclass "
                "(with compute_output_shape / compute_mask) to save this model."
            )
    if layer._output_shape is not None:
        shape = layer._output_shape
        config["output_shape"] = [list(s) for s in shape] if isinstance(shape, list) else list(shape)
    if layer.arguments:
        try:
            json.dumps(layer.arguments)
        except (TypeError, ValueError):
            raise TypeError(
                f"Lambda layer '{layer.name}' cannot be serialized: its `arguments` {sorted(layer.arguments)} are "
                "not plain JSON values."
            ) from None
        config["arguments"] = dict(layer.arguments)
    return {
        "module": type(layer).__module__,
        "class_name": type(layer).__name__,
        "config": config,
        "registered_name": None,
    }


# --------------------------------------------------------------------------- value encodings, read back
def _tensor(inner: dict) -> torch.Tensor:
    dtype = getattr(torch, str(inner.get("dtype", "float32")), None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"Unknown tensor dtype {inner.get('dtype')!r} in the config.")
    return torch.tensor(inner.get("value"), dtype=dtype)


def _numpy(inner: dict) -> np.ndarray:
    try:
        dtype = np.dtype(str(inner.get("dtype", "float32")))
    except TypeError:
        raise ValueError(f"Unknown array dtype {inner.get('dtype')!r} in the config.") from None
    if dtype.kind not in "biufc":
        raise ValueError(f"Only numeric arrays can be read from a config. Received dtype {dtype}.")
    return np.asarray(inner.get("value"), dtype=dtype)


_SPECIAL = {
    "__tensor__": _tensor,
    "__numpy__": _numpy,
    "__bytes__": lambda inner: str(inner.get("value", "")).encode("utf-8"),
}
