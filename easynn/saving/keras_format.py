"""Keras 3 configs -> easynn configs: the translation behind loading Keras-written ``.keras`` files.

Keras 3 and easynn write the same JSON dialect (``module``, ``class_name``, ``config``,
``registered_name``); what differs is translated here, as plain data, before easynn's own
deserializer builds anything (``keras_file`` drives the whole load):

    * layer classes: a Keras built-in layer maps onto easynn's class of the same name, with the
      same keyword arguments; an option easynn's class does not take is dropped when it is off
      (``None``/``False``/``0``/empty: ``sparse=False``, ``quantization_config=None``) or only
      changes speed or the initial random state (``unroll``, ``seed``), and is refused with a
      ``ValueError`` otherwise; a class easynn lacks is a ``ValueError`` that names the
      layers easynn loads; custom (registered) classes pass through to ``custom_objects``;
    * dtype policies become dtype names; Keras's initializers, regularizers and constraints
      become easynn's of the same name;
    * functional call records (``args``/``kwargs`` holding ``__keras_tensor__`` entries) become
      easynn's node records; the ``training``/``mask`` call arguments and the nodes that only
      compute masks are dropped (easynn sets the mode and propagates masks itself);
    * the compile config becomes easynn's tagged compile config.

A ``Lambda`` function stays as Keras wrote it: easynn's deserializer refuses bytecode always,
and unregistered named functions in safe mode.
"""

from __future__ import annotations

import inspect
from typing import Any

from easynn.saving import registry

__all__ = ["MODEL_CLASSES", "supported_layers", "translate_model", "translate_compile", "layer_entry"]

MODEL_CLASSES = ("Sequential", "Functional", "Model")
# easynn classes that are not layers a Keras file can name.
# Wrappers whose Keras weight layout (extra power-iteration vectors...) is not mapped yet.
_LAYOUT_NOT_MAPPED = {"SpectralNormalization", "Wrapper"}
_NOT_LOADABLE = _LAYOUT_NOT_MAPPED | {
    "Layer",
    "BaseRandomLayer",
    "Model",
    "Functional",
    "Sequential",
    "OpLayer",
    "RecurrentBase",
    "FusedRNN",
    "TorchModuleWrapper",
}
# Options that change nothing a loaded model computes (speed, the initial random state).
_IGNORED = {"unroll", "seed", "renorm_momentum", "ema_momentum", "use_cudnn", "autocast"}
_IGNORED_BY_CLASS = {"Lambda": {"output_shape", "output_shape_type", "output_shape_module", "function_type", "module"}}
_KERAS_LAYER_ONLY = {"autocast"}  # keras.layers.Layer's own options, which easynn's Layer does not take
_CALL_KWARGS_DROPPED = ("training", "mask")  # easynn sets the mode and propagates masks itself
_FAMILIES = ("initializers", "regularizers", "constraints")


def supported_layers() -> list[str]:
    """The Keras layer class names this loader builds (easynn's layers of the same names).

    Example:
        >>> {"Dense", "Conv2D", "LSTM", "MultiHeadAttention"} <= set(supported_layers())
        True
    """
    from easynn.layers.base import Layer

    return sorted(
        name for name, cls in registry.builtin_classes().items() if name not in _NOT_LOADABLE and issubclass(cls, Layer)
    )


def _accepted(cls: type) -> set[str]:
    """The keyword arguments ``cls(...)`` takes, following ``**kwargs`` up to easynn's Layer."""
    from easynn.layers.base import Layer

    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        if klass is object or klass.__module__.startswith("torch."):
            break
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if klass is Layer or not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return names - {"self"}


def _off(value: Any) -> bool:
    """An option that is switched off: dropping it changes nothing."""
    if value is None or value is False or value == {} or value == []:
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


def _filter(cls: type, config: dict, what: str) -> dict:
    """``config`` reduced to what ``cls`` takes; an unsupported option that is on is an error."""
    accepted = _accepted(cls)
    ignored = _IGNORED | _IGNORED_BY_CLASS.get(cls.__name__, set())
    out = {}
    for key, value in config.items():
        if key in accepted:
            out[key] = value
        elif not (key in ignored or _off(value)):
            raise ValueError(
                f"{what} was saved by Keras with {key}={value!r}, which easynn's {cls.__name__} does not "
                f"support. easynn's {cls.__name__} takes: {', '.join(sorted(accepted - {'kwargs'}))}."
            )
    return out


def _dtype(value: Any, what: str) -> Any:
    """A Keras ``DTypePolicy`` entry -> a dtype name (None for float32 and mixed policies)."""
    if isinstance(value, dict):
        if value.get("class_name") not in ("DTypePolicy", "FloatDTypePolicy"):
            raise ValueError(
                f"{what} uses the Keras dtype policy {value.get('class_name')!r}, which easynn does not load."
            )
        value = (value.get("config") or {}).get("name")
    if value in (None, "float32") or (isinstance(value, str) and value.startswith("mixed_")):
        return None  # easynn's default; mixed precision is a compile() option in easynn
    return value


def _family(name: str) -> Any:
    from easynn import constraints, initializers, regularizers

    return {"initializers": initializers, "regularizers": regularizers, "constraints": constraints}[name]


def _is_keras_builtin(entry: dict) -> bool:
    module = entry.get("module") or ""
    return module.split(".")[0] == "keras" and entry.get("registered_name") in (None, entry.get("class_name"))


def _value(value: Any, what: str) -> Any:
    """A value inside a layer config: nested Keras objects become easynn's spelling of them."""
    if isinstance(value, list):
        return [_value(item, what) for item in value]
    if not (isinstance(value, dict) and "class_name" in value and "config" in value):
        return value
    class_name, module = value["class_name"], value.get("module") or ""
    if class_name == "function":
        if module.split(".")[0] == "keras":
            return value["config"]  # a Keras activation/loss function: easynn knows it by name
        registered = value.get("registered_name")
        name = registered if registered not in (None, "function") else value["config"]
        return {"module": module or None, "class_name": "function", "config": value["config"], "registered_name": name}
    if class_name.startswith("__"):  # __lambda__, __tensor__, __numpy__: easynn's own rules apply
        return value
    if _is_keras_builtin(value) and len(module.split(".")) > 1 and module.split(".")[1] in _FAMILIES:
        family = _family(module.split(".")[1])
        cls = getattr(family, class_name, None)
        if not inspect.isclass(cls):
            raise ValueError(
                f"{what} uses the Keras {module.split('.')[1][:-1]} {class_name!r}, which easynn does not have."
            )
        return {"class_name": class_name, "config": _filter(cls, value["config"], f"The {class_name} of {what}")}
    return layer_entry(value)


def layer_entry(entry: dict) -> dict:
    """One Keras layer (or nested model) entry as an easynn entry.

    Raises:
        ValueError: for a Keras layer class easynn does not have (naming the ones it has), or
            an option that easynn's layer does not support.
    """
    class_name, inner = entry.get("class_name"), entry.get("config")
    if not isinstance(class_name, str) or not isinstance(inner, dict):
        raise ValueError(f"Malformed layer entry in the Keras config: {str(entry)[:200]}")
    if class_name in MODEL_CLASSES and "layers" in inner:
        return translate_model(entry)
    name = inner.get("name", "?")
    what = f"Layer '{name}' ({class_name})"
    if not _is_keras_builtin(entry):  # a custom class: found through custom_objects / registration
        config = {
            key: (_dtype(value, what) if key == "dtype" else value)
            for key, value in inner.items()
            if key not in _KERAS_LAYER_ONLY
        }
        return {
            "module": entry.get("module"),
            "class_name": class_name,
            "config": config,
            "registered_name": entry.get("registered_name"),
        }
    cls = registry.builtin_classes().get(class_name)
    if cls is None or class_name in _NOT_LOADABLE:
        why = (f"easynn's {class_name} cannot read Keras's weights for it yet" if class_name in _LAYOUT_NOT_MAPPED
               else "easynn has no such layer")
        raise ValueError(
            f"Unknown layer class '{class_name}' (layer '{name}') in a Keras file: {why}. "
            f"The Keras layers easynn loads: {', '.join(supported_layers())}."
        )
    config = {}
    for key, value in _filter(cls, inner, what).items():
        config[key] = _dtype(value, what) if key == "dtype" else _value(value, what)
    return {"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None}


def _history(value: Any) -> list:
    """The ``[layer, node, tensor]`` references of the Keras tensors in ``value``."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = (value.get("config") or {}).get("keras_history")
        if not (isinstance(history, list) and len(history) == 3):
            raise ValueError(f"Malformed tensor reference in the Keras config: {str(value)[:200]}")
        return [history]
    if isinstance(value, (list, tuple)):
        return [ref for item in value for ref in _history(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in _history(item)]
    return []


def _refs(value: Any, what: str) -> Any:
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return list(_history(value)[0])
    if isinstance(value, (list, tuple)):
        return [_refs(item, what) for item in value]
    raise ValueError(f"{what} is called with the constant {value!r} among its inputs, which easynn cannot rebuild.")


def _node(node: Any, what: str) -> dict:
    if not (isinstance(node, dict) and isinstance(node.get("args"), list)):
        raise ValueError(
            f"{what} has a call record easynn does not read ({str(node)[:200]}); it may be a Keras 2 file."
        )
    kwargs = {k: v for k, v in (node.get("kwargs") or {}).items() if k not in _CALL_KWARGS_DROPPED}
    tensor_kwargs = sorted(k for k, v in kwargs.items() if _history(v))
    if tensor_kwargs or not node["args"]:
        raise ValueError(
            f"{what} is called with tensors in the keyword argument(s) {tensor_kwargs or ['(all)']}; easynn's "
            "functional models take tensors only as positional inputs."
        )
    args = [_refs(arg, what) for arg in node["args"]]
    if len(args) == 1:
        return {"inputs": args[0], "kwargs": kwargs}
    return {"inputs": args, "kwargs": {**kwargs, "_positional_inputs": True}}


def _needed(specs: list[dict], outputs: Any) -> set[tuple[str, int]]:
    """The ``(layer, node)`` calls the outputs depend on (through positional inputs only)."""
    nodes = {(s.get("name"), i): n for s in specs for i, n in enumerate(s.get("inbound_nodes") or [])}
    stack = [tuple(ref[:2]) for ref in _history_refs(outputs)]
    seen: set[tuple[str, int]] = set()
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        node = nodes.get(key)
        if isinstance(node, dict):
            stack += [tuple(ref[:2]) for ref in _history(node.get("args"))]
    return seen


def _history_refs(refs: Any) -> list:
    if isinstance(refs, dict):
        return [r for value in refs.values() for r in _history_refs(value)]
    if isinstance(refs, list) and len(refs) == 3 and isinstance(refs[0], str):
        return [refs]
    return [r for item in (refs or []) for r in _history_refs(item)]


def _functional(inner: dict) -> dict:
    specs = inner.get("layers")
    if not isinstance(specs, list):
        raise ValueError("Malformed Keras functional config: 'layers' is not a list.")
    needed = _needed(specs, inner.get("output_layers"))
    inputs = {ref[0] for ref in _history_refs(inner.get("input_layers"))}
    layers = []
    for spec in specs:
        name = spec.get("name")
        nodes = spec.get("inbound_nodes") or []
        if name not in inputs and not any((name, index) in needed for index in range(len(nodes))):
            continue  # computes only a mask (Keras's NotEqual for Embedding(mask_zero=True))
        entry = layer_entry(spec)
        what = f"Layer '{name}' ({spec.get('class_name')})"
        entry.update(name=name, inbound_nodes=[_node(node, what) for node in nodes])
        layers.append(entry)
    return {
        "name": inner.get("name"),
        "trainable": inner.get("trainable", True),
        "layers": layers,
        "input_layers": inner.get("input_layers"),
        "output_layers": inner.get("output_layers"),
    }


def _sequential(inner: dict) -> dict:
    layers = [layer_entry(spec) for spec in inner.get("layers") or []]
    shape = inner.get("build_input_shape")
    if (not layers or layers[0]["class_name"] != "InputLayer") and isinstance(shape, list):
        layers.insert(
            0,
            {
                "module": "keras.layers",
                "class_name": "InputLayer",
                "registered_name": None,
                "config": {"batch_shape": shape},
            },
        )
    return {"name": inner.get("name"), "trainable": inner.get("trainable", True), "layers": layers}


def translate_model(entry: dict) -> dict:
    """A Keras 3 model entry (``config.json``) -> the easynn model entry ``load_model`` builds.

    Raises:
        ValueError: for an unknown layer class, an unsupported option or a malformed config.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError("Malformed Keras config: the model entry is not an object with a 'config'.")
    class_name, inner = entry.get("class_name"), entry["config"]
    if class_name == "Sequential":
        return {"module": "keras", "class_name": "Sequential", "config": _sequential(inner), "registered_name": None}
    if class_name in MODEL_CLASSES and "layers" in inner:
        return {"module": "keras", "class_name": "Functional", "config": _functional(inner), "registered_name": None}
    return layer_entry(entry)  # a subclassed model: only through custom_objects


def _compile_entry(value: Any, family: Any, what: str) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return {"kind": "name", "value": value}
    if isinstance(value, list):
        return {"kind": "list", "items": [_compile_entry(v, family, what) for v in value]}
    if isinstance(value, dict) and not ("class_name" in value and "config" in value):
        return {"kind": "dict", "items": {k: _compile_entry(v, family, what) for k, v in value.items()}}
    if value["class_name"] == "function":
        if _is_keras_builtin({**value, "registered_name": None}):
            return {"kind": "name", "value": value["config"]}
        return {"kind": "function", "name": value.get("registered_name") or value["config"]}
    cls = getattr(family, value["class_name"], None)
    if not _is_keras_builtin(value) or not inspect.isclass(cls):
        return {
            "kind": "object",
            "class_name": value["class_name"],
            "registered_name": value.get("registered_name"),
            "config": value["config"],
        }
    return {
        "kind": "object",
        "class_name": value["class_name"],
        "registered_name": None,
        "config": _filter(cls, value["config"], f"The {what} {value['class_name']}"),
    }


def translate_compile(config: Any) -> dict | None:
    """Keras's ``compile_config`` -> easynn's (None when the model was not compiled).

    Raises:
        ValueError: for an optimizer, loss or metric (or one of their options) easynn lacks.
    """
    from easynn import losses, metrics, optimizers

    if not isinstance(config, dict) or not config.get("optimizer"):
        return None
    opt = config["optimizer"]
    if isinstance(opt, str):
        opt_entry = {"kind": "object", "class_name": opt, "config": {}}
    else:
        cls = getattr(optimizers, opt.get("class_name", ""), None)
        if not inspect.isclass(cls):
            raise ValueError(f"the Keras optimizer {opt.get('class_name')!r} has no easynn counterpart")
        opt_config = _filter(cls, dict(opt.get("config") or {}), f"The optimizer {cls.__name__}")
        opt_entry = {"kind": "object", "class_name": cls.__name__, "config": opt_config}
    return {
        "optimizer": opt_entry,
        "loss": _compile_entry(config.get("loss"), losses, "loss"),
        "metrics": _compile_entry(config.get("metrics"), metrics, "metric"),
        "weighted_metrics": _compile_entry(config.get("weighted_metrics"), metrics, "metric"),
        "loss_weights": config.get("loss_weights"),
        "jit_compile": False,
    }
