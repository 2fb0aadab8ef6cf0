"""Compile state <-> JSON (+ tensors): losses, metrics, optimizer config and optimizer state.

Every loss or metric entry becomes one tagged JSON value:

    ``{"kind": "name", "value": "mse"}``                  a Keras string identifier
    ``{"kind": "object", "class_name", "registered_name", "config"}``   an easynn (or registered) object
    ``{"kind": "function", "name": "my_loss"}``           a plain Python function: found again by
                                                            name in custom_objects or the registry
    ``{"kind": "list" | "dict", "items": ...}``           one entry per output
    ``{"kind": "unsupported", "reason": "..."}``          cannot be saved; the loaded model is then
                                                            left uncompiled, with a warning

Optimizer state is a nested structure of tensors and plain values; tensors go to
``optimizer.safetensors`` under numbered keys, the rest stays in JSON with tags for what JSON
lacks (tuples, dicts with non-string keys).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from easynn.saving import registry

__all__ = ["serialize_compile", "deserialize_compile", "encode_state", "decode_state", "CompileRestoreError"]


class CompileRestoreError(Exception):
    """The saved compile state names something that cannot be rebuilt here (not a user error)."""


# --------------------------------------------------------------------------- losses / metrics
def _function_entry(fn: Any, module: Any) -> dict:
    name = getattr(fn, "__name__", None)
    if name and getattr(module, name, None) is fn:  # an easynn function: its Keras name
        return {"kind": "name", "value": name}
    name = registry.registered_key(fn) or name
    if not name or name == "<lambda>":
        return {"kind": "unsupported", "reason": f"the anonymous function {fn!r} has no name to save it under"}
    return {"kind": "function", "name": name}


def _serialize_entry(spec: Any, module: Any, family: str) -> Any:
    if spec is None:
        return None
    if isinstance(spec, str):
        return {"kind": "name", "value": spec}
    if isinstance(spec, (list, tuple)):
        return {"kind": "list", "items": [_serialize_entry(s, module, family) for s in spec]}
    if isinstance(spec, dict):
        return {"kind": "dict", "items": {str(k): _serialize_entry(v, module, family) for k, v in spec.items()}}
    registered = registry.registered_key(type(spec)) if not inspect.isfunction(spec) else None
    if registered is not None and hasattr(spec, "get_config"):
        config = spec.get_config()
        registry.check_json(config, f"The config of {family} {type(spec).__name__}")
        return {"kind": "object", "class_name": type(spec).__name__, "registered_name": registered, "config": config}
    try:
        saved = module.serialize(spec)
    except (TypeError, ValueError) as error:
        fn = getattr(spec, "fn", None)  # LossFunctionWrapper / MeanMetricWrapper around a custom function
        if inspect.isfunction(spec) or inspect.isbuiltin(spec):
            return _function_entry(spec, module)
        if fn is not None and inspect.isfunction(fn):
            return _function_entry(fn, module)
        return {"kind": "unsupported", "reason": f"{family} {spec!r} cannot be saved ({error})"}
    if isinstance(saved, str):
        return {"kind": "name", "value": saved}
    if isinstance(saved, dict) and "class_name" in saved:
        try:
            registry.check_json(saved.get("config", {}), f"The config of {family} {saved['class_name']}")
        except TypeError as error:
            return {"kind": "unsupported", "reason": str(error)}
        return {"kind": "object", "class_name": saved["class_name"], "registered_name": None,
                "config": saved.get("config", {})}
    return {"kind": "unsupported", "reason": f"{family} {spec!r} serialized to {saved!r}"}


def _deserialize_entry(entry: Any, module: Any, family: str, custom_objects: dict | None) -> Any:
    if entry is None:
        return None
    if not isinstance(entry, dict) or "kind" not in entry:
        raise ValueError(f"Malformed {family} entry in the compile config: {str(entry)[:200]}")
    kind = entry["kind"]
    if kind == "name":
        return entry["value"]
    if kind == "list":
        return [_deserialize_entry(e, module, family, custom_objects) for e in entry["items"]]
    if kind == "dict":
        return {k: _deserialize_entry(e, module, family, custom_objects) for k, e in entry["items"].items()}
    if kind == "function":
        fn = registry.get_registered_object(entry["name"], custom_objects)
        if fn is None:
            raise ValueError(
                f"The model was compiled with the custom {family} function '{entry['name']}', which easynn "
                f"does not store (files never contain code). Pass it when loading: "
                f"load_model(path, custom_objects={{'{entry['name']}': {entry['name']}}}), or load with "
                "compile=False and compile the model yourself."
            )
        return fn
    if kind == "object":
        registered = entry.get("registered_name")
        cls = None
        for key in (registered, entry.get("class_name")):
            if isinstance(key, str) and cls is None:
                cls = registry.get_registered_object(key, custom_objects)
        if cls is None and registered:
            raise ValueError(
                f"The model was compiled with the custom {family} class '{registered}'. Register it with "
                "@easynn.saving.register_serializable() or pass it in custom_objects when loading."
            )
        if cls is None:
            return module.get({"class_name": entry["class_name"], "config": entry.get("config", {})})
        return cls.from_config(dict(entry.get("config", {})))
    if kind == "unsupported":
        raise CompileRestoreError(entry.get("reason", f"a {family} could not be saved"))
    raise ValueError(f"Unknown {family} entry kind {kind!r} in the compile config.")


def serialize_compile(model) -> dict | None:
    """The compile arguments of ``model`` as JSON, or None when it was never compiled."""
    if not getattr(model, "compiled", False):
        return None
    from easynn import losses, metrics, optimizers

    compile_config = dict(getattr(model, "_compile_config", {}) or {})
    optimizer = getattr(model, "optimizer", None)
    try:
        opt_entry: Any = optimizers.serialize(optimizer)
        registry.check_json(opt_entry, "The optimizer config")
        opt_entry = {"kind": "object", "class_name": opt_entry["class_name"], "config": opt_entry["config"]}
    except (TypeError, ValueError, KeyError) as error:
        opt_entry = {"kind": "unsupported", "reason": f"the optimizer {optimizer!r} cannot be saved ({error})"}
    loss_weights = compile_config.get("loss_weights")
    try:
        registry.check_json(loss_weights, "loss_weights")
    except TypeError:
        loss_weights = [float(w) for w in loss_weights]
    return {
        "optimizer": opt_entry,
        "loss": _serialize_entry(compile_config.get("loss"), losses, "loss"),
        "metrics": _serialize_entry(compile_config.get("metrics"), metrics, "metric"),
        "weighted_metrics": _serialize_entry(compile_config.get("weighted_metrics"), metrics, "metric"),
        "loss_weights": loss_weights,
        "jit_compile": bool(compile_config.get("jit_compile", False)),
        "mixed_precision": compile_config.get("mixed_precision"),
    }


def deserialize_compile(config: dict, custom_objects: dict | None) -> dict:
    """``compile()`` keyword arguments from ``serialize_compile``'s output.

    Raises:
        ValueError: when a custom function or class is needed but not given.
        CompileRestoreError: when the saved state said it could not be saved.
    """
    from easynn import losses, metrics, optimizers

    opt = config.get("optimizer")
    if isinstance(opt, dict) and opt.get("kind") == "unsupported":
        raise CompileRestoreError(opt.get("reason", "the optimizer could not be saved"))
    if not isinstance(opt, dict) or "class_name" not in opt:
        raise ValueError(f"Malformed optimizer entry in the compile config: {str(opt)[:200]}")
    optimizer = optimizers.get({"class_name": opt["class_name"], "config": opt.get("config", {})})
    kwargs = {
        "optimizer": optimizer,
        "loss": _deserialize_entry(config.get("loss"), losses, "loss", custom_objects),
        "metrics": _deserialize_entry(config.get("metrics"), metrics, "metric", custom_objects),
        "weighted_metrics": _deserialize_entry(config.get("weighted_metrics"), metrics, "metric", custom_objects),
        "loss_weights": config.get("loss_weights"),
        "jit_compile": bool(config.get("jit_compile", False)),
    }
    if config.get("mixed_precision") is not None:
        kwargs["mixed_precision"] = config["mixed_precision"]
    return kwargs


# --------------------------------------------------------------------------- optimizer state
def encode_state(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """A JSON tree for ``value``; its tensors (CPU copies) are added to ``tensors``.

    Raises:
        TypeError: for values that are neither tensors, containers nor plain JSON scalars.
    """
    if isinstance(value, torch.Tensor):
        key = str(len(tensors))
        tensors[key] = value.detach().to("cpu").clone().contiguous()
        return {"__tensor__": key}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [encode_state(v, tensors) for v in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode_state(v, tensors) for k, v in value.items()}
        return {"__dict__": [[encode_state(k, tensors), encode_state(v, tensors)] for k, v in value.items()]}
    raise TypeError(f"Optimizer state holds {type(value).__name__} {value!r}, which easynn cannot save.")


def decode_state(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of ``encode_state``.

    Raises:
        ValueError: for a reference to a tensor that is not in ``tensors`` or a malformed tree.
    """
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if isinstance(tree, list):
        return [decode_state(v, tensors) for v in tree]
    if isinstance(tree, dict) and len(tree) == 1:
        (tag, body), = tree.items()
        if tag == "__tensor__":
            if body not in tensors:
                raise ValueError(f"The optimizer state refers to tensor {body!r}, missing from optimizer.safetensors.")
            return tensors[body]
        if tag == "__tuple__" and isinstance(body, list):
            return tuple(decode_state(v, tensors) for v in body)
        if tag == "__dict__" and isinstance(body, list):
            out = {}
            for pair in body:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ValueError("Malformed optimizer state: a dict entry is not a [key, value] pair.")
                key = decode_state(pair[0], tensors)
                if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
                    raise ValueError("Malformed optimizer state: a dict key is not a plain value.")
                out[key] = decode_state(pair[1], tensors)
            return out
    if isinstance(tree, dict) and not any(str(k).startswith("__") for k in tree):
        return {k: decode_state(v, tensors) for k, v in tree.items()}
    raise ValueError(f"Malformed optimizer state entry: {str(tree)[:200]}")
