"""Which Python classes a model file may name, and how layers become JSON and back.

A model file names classes by string. easynn turns a string back into a class **only** through
this explicit registry, never by importing a module path read from the file:

    * built-in classes: every ``Layer`` subclass defined inside the ``easynn`` package;
    * classes and functions registered with ``@register_serializable(package="Custom")``;
    * ``custom_objects={"Name": obj}`` given to ``load_model`` (or a ``custom_object_scope``).

The file can therefore choose *which* of these known classes to build and with which JSON
arguments, but it can never bring code of its own.

Example:
    >>> import easynn
    >>> @register_serializable(package="Docs")
    ... class Twice(easynn.layers.Layer):
    ...     def call(self, inputs):
    ...         return inputs * 2
    >>> get_registered_name(Twice)
    'Docs>Twice'
    >>> get_registered_object("Docs>Twice") is Twice
    True
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
from typing import Any, Callable, Iterator

__all__ = [
    "register_serializable", "get_registered_name", "get_registered_object", "custom_object_scope",
    "serialize_layer", "deserialize_layer", "builtin_classes", "check_json",
]

# "Package>Name" -> object, and object -> "Package>Name".
_REGISTERED: dict[str, Any] = {}
_NAMES: dict[Any, str] = {}
# custom_objects of the load in progress (and of custom_object_scope blocks).
_SCOPE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("easynn_custom_objects", default=None)


def _same_definition(a: Any, b: Any) -> bool:
    """Two objects defined by the same code (a re-run notebook cell or a reloaded module)."""
    return (getattr(a, "__module__", None), getattr(a, "__qualname__", None)) == (
        getattr(b, "__module__", None), getattr(b, "__qualname__", None))


def register_serializable(package: str = "Custom", name: str | None = None) -> Callable[[Any], Any]:
    """Decorator: let saved models refer to a class (or function) as ``"package>name"``.

    Args:
        package: a namespace for the name, so that two libraries' ``MyLayer`` do not clash.
        name: the name inside the package; the class's ``__name__`` by default.

    Returns:
        A decorator that registers its argument and returns it unchanged.

    Raises:
        ValueError: if ``package`` contains ``">"``, or the name is already taken by a
            different definition.
        TypeError: if the decorated object is a class without ``get_config``.
    """
    if not isinstance(package, str) or ">" in package or not package:
        raise ValueError(f"`package` must be a non-empty string without '>'. Received: package={package!r}")

    def decorator(obj: Any) -> Any:
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise TypeError(
                f"Cannot register {obj.__name__}: a registered class must implement get_config() "
                "(and from_config(), unless cls(**config) rebuilds it)."
            )
        if not inspect.isclass(obj) and not callable(obj):
            raise TypeError(f"Only classes and functions can be registered. Received: {obj!r}")
        key = f"{package}>{name or obj.__name__}"
        previous = _REGISTERED.get(key)
        if previous is not None and previous is not obj and not _same_definition(previous, obj):
            raise ValueError(
                f"The name '{key}' is already registered to {previous!r}. Pass another "
                "`package` or `name` to register_serializable()."
            )
        _REGISTERED[key] = obj
        _NAMES[obj] = key
        return obj

    return decorator


def get_registered_name(obj: Any) -> str:
    """``"package>name"`` for a registered object, else its ``__name__``."""
    key = _NAMES.get(obj)
    if key is not None:
        return key
    return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name: str, custom_objects: dict | None = None) -> Any:
    """The object saved under ``name``: ``custom_objects`` first, then the registry; else None."""
    for table in (custom_objects or {}, _SCOPE.get() or {}, _REGISTERED):
        if name in table:
            return table[name]
    return None


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict | None) -> Iterator[None]:
    """Within the block, ``deserialize_layer`` (and ``load_model``) also find ``custom_objects``.

    Example:
        >>> with custom_object_scope({"Twice": object}):
        ...     get_registered_object("Twice") is object
        True
    """
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"`custom_objects` must be a dict of name -> class. Received: {custom_objects!r}")
    token = _SCOPE.set({**(_SCOPE.get() or {}), **(custom_objects or {})})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def builtin_classes() -> dict[str, type]:
    """Every ``Layer`` subclass defined inside the easynn package, by class name."""
    import easynn.layers  # noqa: F401  (defines the layer classes)
    import easynn.models  # noqa: F401
    from easynn.layers.base import Layer

    try:  # the functional API, when it is there
        import easynn.models.functional  # noqa: F401
    except ImportError:  # pragma: no cover - while the module is being written
        pass
    found: dict[str, type] = {"Layer": Layer}
    stack = [Layer]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            module = getattr(sub, "__module__", "")
            if (module == "easynn" or module.startswith("easynn.")) and not sub.__name__.startswith("_"):
                found.setdefault(sub.__name__, sub)
    # Names exported by easynn.layers (aliases such as Convolution2D) win over discovery order.
    for export in getattr(easynn.layers, "__all__", []):
        obj = getattr(easynn.layers, export, None)
        if inspect.isclass(obj) and issubclass(obj, Layer):
            found[export] = obj
    return found


def check_json(value: Any, where: str) -> None:
    """Raise a TypeError naming ``where`` if ``value`` is not plain JSON data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_json(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}; configs must be JSON objects.")
            check_json(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"{where} is {value!r} (type {type(value).__name__}), which cannot be written to JSON. "
        "get_config() must return plain values (numbers, strings, lists, dicts); serialize nested "
        "layers with easynn.saving.serialize_layer()."
    )


def serialize_layer(layer: Any) -> dict:
    """``{"class_name", "registered_name", "config"}`` for a layer; the config is checked to be JSON.

    Raises:
        TypeError: if the layer's config holds something JSON cannot store.
        NotImplementedError: from ``get_config`` when the layer cannot describe itself.
    """
    config = layer.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"{type(layer).__name__}.get_config() must return a dict. Received: {config!r}")
    check_json(config, f"The config of layer '{getattr(layer, 'name', '?')}' ({type(layer).__name__})")
    registered = _NAMES.get(type(layer))
    return {"class_name": type(layer).__name__, "registered_name": registered, "config": config}


def _resolve_class(spec: dict, custom_objects: dict | None) -> type:
    class_name = spec.get("class_name")
    registered = spec.get("registered_name")
    if not isinstance(class_name, str):
        raise ValueError(f"A layer entry in the model config has no valid 'class_name': {str(spec)[:200]}")
    for key in (registered, class_name):
        if isinstance(key, str):
            found = get_registered_object(key, custom_objects)
            if found is not None:
                return found
    # A registered class saved under "pkg>Name" may be passed as custom_objects={"Name": cls}.
    found = builtin_classes().get(class_name)
    if found is not None and not registered:
        return found
    known = ", ".join(sorted(builtin_classes()))
    shown = f"'{class_name}'" + (f" (registered as '{registered}')" if registered else "")
    raise ValueError(
        f"Unknown layer class {shown}. easynn builds only classes it knows: decorate the class with "
        f"@easynn.saving.register_serializable() in the code that loads the model, or pass "
        f"custom_objects={{'{class_name}': {class_name}}} to load_model(). Built-in classes: {known}."
    )


def deserialize_layer(spec: dict, custom_objects: dict | None = None) -> Any:
    """Make a new layer from ``serialize_layer``'s output, resolving the class by name only.

    Raises:
        ValueError: for an unknown class name or a malformed entry.
        TypeError: if the class is not an easynn layer.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
        raise ValueError(f"Malformed layer entry in the model config: {str(spec)[:200]}")
    from easynn.layers.base import Layer

    cls = _resolve_class(spec, custom_objects)
    if not (inspect.isclass(cls) and issubclass(cls, Layer)):
        raise TypeError(f"'{spec.get('class_name')}' resolved to {cls!r}, which is not an easynn Layer class.")
    config = dict(spec.get("config", {}))
    with custom_object_scope(custom_objects):
        if "custom_objects" in inspect.signature(cls.from_config).parameters:
            return cls.from_config(config, custom_objects=custom_objects)
        try:
            return cls.from_config(config)
        except TypeError as error:
            raise TypeError(
                f"Could not rebuild layer class {cls.__name__} from its config {config}: {error}. "
                f"If {cls.__name__}.__init__ takes arguments that get_config() does not return, "
                "implement get_config() (and from_config()) for it."
            ) from error
