"""Keras 3's JSON dicts -> objects (``deserialize_keras_object``), and the public face of both ways.

The other direction, objects -> dicts (``serialize_keras_object``), lives in ``to_config``; its
public names are re-exported here, so ``easynn.saving.serialization`` offers both.

Deserialization finds classes and functions **by name only** (see ``registry``): the
``module`` written in a config is information, never imported. A function is never rebuilt
from code: an anonymous ``lambda`` cannot be serialized at all, and a ``Lambda`` layer whose
function is not a registered (or ``custom_objects``) function loads only in unsafe mode, where
the function is looked up by name in a module the program has *already* imported.

Example:
    >>> import easynn
    >>> config = serialize_keras_object(easynn.regularizers.L1(0.005))
    >>> type(deserialize_keras_object(config)).__name__
    'L1'
"""

from __future__ import annotations

import inspect
import sys
import types
from typing import Any

from easynn.saving import hooks, registry
from easynn.saving.to_config import (  # noqa: F401  (the serializing half, re-exported)
    _CLONE,
    _CLONING,
    _DEPTH,
    _SPECIAL,
    _clone_placeholder,
    _function_entry,
    _is_easynn_module,
    _is_layer,
    _is_layer_class,
    _lambda_class,
    _looks_serialized,
    _Nested,
    _object_entry,
    _serialize,
    _serialize_lambda,
    serialize_keras_object,
    serialize_layer,
    serialize_top_level,
)

__all__ = [
    "serialize_keras_object",
    "deserialize_keras_object",
    "serialize_layer",
    "deserialize_layer",
    "serialize_top_level",
    "deserialize_top_level",
]

_FAMILIES = ("regularizers", "initializers", "constraints", "losses", "metrics", "optimizers")


# --------------------------------------------------------------------------- deserialize
def deserialize_keras_object(
    config: Any, custom_objects: dict | None = None, safe_mode: bool = True, **kwargs: Any
) -> Any:
    """Rebuild an object from ``serialize_keras_object``'s output (or a Keras-written config).

    Classes and functions are found by name only: in ``custom_objects``, the active
    ``custom_object_scope``, the registered objects and easynn's own classes.

    Args:
        config: the serialized data.
        custom_objects: ``{"Name": class_or_function}`` for objects that are not registered.
        safe_mode: False lets a ``Lambda`` layer whose function is not registered be rebuilt by
            looking its function up in an already-imported module (see ``easynn.config``).

    Returns:
        The object (plain data comes back as it is; a dict without ``class_name`` and
        ``config`` is deserialized value by value).

    Raises:
        ValueError: for an unknown class or function name, or a refused ``Lambda``.
        TypeError: if a class cannot be rebuilt from its config.

    Example:
        >>> deserialize_keras_object({"a": [1, 2]})
        {'a': [1, 2]}
    """
    if kwargs:
        raise TypeError(f"deserialize_keras_object() got unexpected keyword arguments: {sorted(kwargs)}")
    with registry.CustomObjectScope(custom_objects), registry.SafeModeScope(_effective_safe_mode(safe_mode)):
        return _deserialize(config, custom_objects, compile=True)


def _effective_safe_mode(safe_mode: Any) -> bool | None:
    """An enclosing load's setting wins; then ``safe_mode=False``; then the global switch."""
    if registry._SAFE_MODE.get() is not None:
        return None
    if safe_mode is False:
        return False
    return None


def deserialize_top_level(entry: dict, custom_objects: dict | None, compile: bool) -> Any:
    """The model of a model file's entry (the caller holds the scopes)."""
    return _deserialize(entry, custom_objects, compile=compile)


def deserialize_layer(spec: dict, custom_objects: dict | None = None) -> Any:
    """Make a new layer from ``serialize_layer``'s output, resolving the class by name only.

    Raises:
        ValueError: for an unknown class name or a malformed entry.
        TypeError: if the class is not an easynn layer.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
        raise ValueError(f"Malformed layer entry in the model config: {str(spec)[:200]}")
    spec = {"config": {}, **spec}
    with registry.CustomObjectScope(custom_objects), _Nested():
        layer = _deserialize(spec, custom_objects, compile=False, want_layer=True)
    return layer


def _deserialize(config: Any, custom_objects: dict | None, compile: bool, want_layer: bool = False) -> Any:
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        if custom_objects and custom_objects.get(config) is not None:
            return custom_objects[config]
        return config
    if isinstance(config, (list, tuple)):
        with _Nested():
            return [_deserialize(item, custom_objects, compile) for item in config]
    if not isinstance(config, dict):
        return config  # already an object (a from_config that deserializes twice)
    if "class_name" not in config or "config" not in config:
        with _Nested():
            return {key: _deserialize(value, custom_objects, compile) for key, value in config.items()}
    class_name = config["class_name"]
    inner = config["config"]
    if not isinstance(class_name, str):
        raise ValueError(f"A config entry has no valid 'class_name': {str(config)[:200]}")
    special = _SPECIAL.get(class_name)
    if special is not None:
        return special(inner)
    if class_name == "__lambda__":
        raise ValueError(
            "The config holds a Python lambda stored as bytecode (written by Keras). easynn never runs "
            "code from a file, in safe mode or not: rebuild that layer in code, or replace the lambda by "
            "a named function registered with @easynn.saving.register_keras_serializable()."
        )
    if class_name == "function":
        return _resolve_function(config, custom_objects, for_lambda=False)
    if class_name == _CLONE:
        return _clone_placeholder(inner)
    cls = _resolve_class(config, custom_objects, want_layer=want_layer)
    if not isinstance(inner, dict):
        raise ValueError(f"The config of '{class_name}' must be a dict. Received: {str(inner)[:200]}")
    top = _DEPTH.get() == 0
    instance = _instantiate(cls, dict(inner), custom_objects)
    if _is_layer(instance) and config.get("build_config") is not None:
        hooks.build_from(instance, config["build_config"], top=top)
    if compile and config.get("compile_config") is not None and _is_layer(instance):
        hooks.compile_from(instance, config["compile_config"], custom_objects, "the config")
    return instance


def _instantiate(cls: type, inner: dict, custom_objects: dict | None) -> Any:
    if cls is _lambda_class():
        return _deserialize_lambda(cls, inner, custom_objects)
    if not _is_layer_class(cls):
        inner = _resolve_nested(inner, custom_objects)
    else:
        inner = _resolve_nested_functions(inner, custom_objects)
    from_config = getattr(cls, "from_config", None)
    if from_config is None:
        raise TypeError(f"{cls.__name__} has no from_config(); it cannot be rebuilt from a config.")
    try:
        with _Nested():  # what from_config deserializes itself is nested
            if "custom_objects" in inspect.signature(from_config).parameters:
                return from_config(inner, custom_objects=custom_objects)
            return from_config(inner)
    except TypeError as error:
        raise TypeError(
            f"Could not rebuild {cls.__name__} from its config {str(inner)[:300]}: {error}. If "
            f"{cls.__name__}.__init__ takes arguments that get_config() does not return, implement "
            "get_config() (and from_config()) for it."
        ) from error


def _resolve_nested_functions(inner: dict, custom_objects: dict | None) -> dict:
    """Function entries in a layer's config become the functions (``Dense(activation=fn)``).

    Nested layers stay dicts: as in Keras, the layer's own ``from_config`` deserializes them.
    Other nested objects (initializers, regularizers) are understood by the families' ``get``;
    registered custom ones are built here.
    """
    out = {}
    for key, value in inner.items():
        if _looks_serialized(value) and value["class_name"] == "function":
            out[key] = _resolve_function(value, custom_objects, for_lambda=False)
        elif _looks_serialized(value) and value["class_name"] in _SPECIAL:
            out[key] = _SPECIAL[value["class_name"]](value["config"])
        elif _looks_serialized(value) and isinstance(value.get("config"), dict):
            found = _find_class(value, custom_objects, allow_builtin=False)
            if found is None and not value.get("registered_name"):
                found = _registered_by_class_name(value["class_name"])
            out[key] = (
                value
                if found is None or _is_layer_class(found)
                else _instantiate(found, dict(value["config"]), custom_objects)
            )
        else:
            out[key] = value
    return out


def _registered_by_class_name(class_name: Any) -> Any:
    """A registered non-layer class written by a family's own ``serialize`` (``{"class_name": "Gain",
    "config": ...}``, without the package): found when exactly one package registered that name
    and easynn has no class of that name."""
    if not isinstance(class_name, str) or _family_class(class_name, None) is not None:
        return None
    matches = [
        obj
        for key, obj in registry._REGISTERED.items()
        if key.split(">")[-1] == class_name and inspect.isclass(obj) and not _is_layer_class(obj)
    ]
    return matches[0] if len(matches) == 1 else None


def _resolve_nested(inner: dict, custom_objects: dict | None) -> dict:
    """For non-layer objects (losses, metrics...): every nested serialized object is rebuilt."""
    with _Nested():
        return {
            key: (
                _deserialize(value, custom_objects, compile=False)
                if _looks_serialized(value) or isinstance(value, list)
                else value
            )
            for key, value in inner.items()
        }


def _family_class(class_name: str, module: Any) -> Any:
    """easynn's own non-layer class ``class_name`` (L1, Adam, Huber...), by family when known."""
    from easynn import initializers, losses, metrics, optimizers, regularizers

    families = {
        "regularizers": regularizers,
        "initializers": initializers,
        "losses": losses,
        "metrics": metrics,
        "optimizers": optimizers,
    }
    constraints = sys.modules.get("easynn.constraints")  # when that module exists and is loaded
    if constraints is not None:
        families["constraints"] = constraints
    parts = module.split(".") if isinstance(module, str) else []
    order = [name for name in _FAMILIES if name in parts] or list(_FAMILIES)
    for name in order:
        family = families.get(name)
        candidate = getattr(family, class_name, None) if family is not None else None
        if inspect.isclass(candidate) and hasattr(candidate, "from_config") and not class_name.startswith("_"):
            return candidate
    return None


def _find_class(config: dict, custom_objects: dict | None, allow_builtin: bool = True) -> Any:
    class_name = config.get("class_name")
    registered = config.get("registered_name")
    module = config.get("module")
    for key in (registered, class_name):
        if isinstance(key, str):
            found = registry.get_registered_object(key, custom_objects)
            if found is not None:
                return found
    if not allow_builtin:
        return None
    # easynn's own classes, unless the file says the class was a custom one of that name.
    if registered in (None, class_name) and (registered is None or _is_easynn_module(module)):
        found = registry.builtin_classes().get(class_name)
        if found is not None:
            return found
        return _family_class(class_name, module)
    return None


def _resolve_class(config: dict, custom_objects: dict | None, want_layer: bool) -> type:
    found = _find_class(config, custom_objects)
    class_name, registered = config.get("class_name"), config.get("registered_name")
    if found is None:
        shown = f"'{class_name}'" + (
            f" (registered as '{registered}')" if registered and registered != class_name else ""
        )
        what = "layer class" if want_layer else "class"
        hint = f"Built-in layer classes: {', '.join(sorted(registry.builtin_classes()))}." if want_layer else ""
        raise ValueError(
            f"Unknown {what} {shown}. easynn builds only classes it knows: decorate the class with "
            f"@easynn.saving.register_keras_serializable() in the code that loads it (register_serializable "
            f"is the same decorator), or pass custom_objects={{'{class_name}': {class_name}}}. {hint}".rstrip()
        )
    if want_layer and not _is_layer_class(found):
        raise TypeError(f"'{class_name}' resolved to {found!r}, which is not an easynn Layer class.")
    if not inspect.isclass(found):
        raise TypeError(f"'{class_name}' resolved to {found!r}, which is not a class.")
    return found


def _resolve_function(entry: dict, custom_objects: dict | None, for_lambda: bool, layer_name: str = "?") -> Any:
    name = entry.get("config")
    registered = entry.get("registered_name")
    module = entry.get("module")
    if not isinstance(name, str):
        raise ValueError(f"Malformed function entry in the config: {str(entry)[:200]}")
    for key in (registered, name, name.split(">")[-1]):
        if isinstance(key, str):
            found = registry.get_registered_object(key, custom_objects)
            if found is not None:
                return found
    if module is None or _is_easynn_module(module):
        found = _builtin_function(name, module)
        if found is not None:
            return found
    if for_lambda and not registry.in_safe_mode():
        found = _already_imported_function(module, name)
        if found is not None:
            return found
        raise ValueError(
            f"Lambda layer '{layer_name}' calls the function '{name}' of module '{module}', which is not "
            "defined in any module this program has imported. Even in unsafe mode easynn only looks "
            "functions up, it never imports or runs code from a file: import that module first, or pass "
            f"custom_objects={{'{name}': {name}}}."
        )
    if for_lambda:
        raise ValueError(
            f"Refusing to rebuild Lambda layer '{layer_name}': its function '{name}' (module '{module}') is "
            "not a registered object, and safe mode does not look up unregistered functions. Register it "
            f"with @easynn.saving.register_keras_serializable(), pass custom_objects={{'{name}': {name}}}, "
            "or, for a file you trust, load with safe_mode=False or call "
            "easynn.config.enable_unsafe_deserialization()."
        )
    raise ValueError(
        f"Unknown function '{registered or name}' (module '{module}'). Files never contain code, so easynn "
        "finds functions by name only: decorate it with @easynn.saving.register_keras_serializable() or "
        f"pass custom_objects={{'{name}': {name}}}."
    )


def _builtin_function(name: str, module: Any) -> Any:
    from easynn import activations, losses, metrics

    parts = module.split(".") if isinstance(module, str) else []
    families = [("activations", activations), ("losses", losses), ("metrics", metrics)]
    ordered = [f for f in families if f[0] in parts] or families
    for family_name, family in ordered:
        if family_name == "activations":
            try:
                return activations.get(name)
            except (ValueError, TypeError):
                continue
        candidate = getattr(family, name, None)
        if inspect.isfunction(candidate) and not name.startswith("_"):
            return candidate
    return None


def _already_imported_function(module: Any, name: str) -> Any:
    """Unsafe mode only: ``module.name`` if that module is already imported and it is a function."""
    if not isinstance(module, str) or not name.isidentifier():
        return None
    loaded = sys.modules.get(module)
    candidate = getattr(loaded, name, None) if loaded is not None else None
    return candidate if isinstance(candidate, types.FunctionType) else None


def _deserialize_lambda(cls: type, inner: dict, custom_objects: dict | None) -> Any:
    config = dict(inner)
    fn_entry = config.pop("function", None)
    name = config.get("name", "?")
    if _looks_serialized(fn_entry) and fn_entry.get("class_name") == "__lambda__":
        if registry.in_safe_mode():
            raise ValueError(
                f"Refusing to rebuild Lambda layer '{name}': its function is a Python lambda stored as "
                "bytecode, and loading it would run code from the file. easynn never does that (not even "
                "with safe_mode=False): rebuild the model in code and load its weights."
            )
        raise ValueError(
            f"Lambda layer '{name}' holds a Python lambda stored as bytecode. easynn never runs code from a "
            "file, even in unsafe mode: rebuild the model in code and load its weights."
        )
    if not (_looks_serialized(fn_entry) and fn_entry.get("class_name") == "function"):
        raise ValueError(
            f"Malformed Lambda layer '{name}' in the config: its 'function' entry is {str(fn_entry)[:200]}."
        )
    function = _resolve_function(fn_entry, custom_objects, for_lambda=True, layer_name=str(name))
    return cls(function, **config)
