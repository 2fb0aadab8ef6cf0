"""Which Python objects a saved config may name, and the scopes that widen or narrow that set.

A model file (or a JSON config) names classes and functions by string. easynn turns a string
back into an object **only** through the tables below, never by importing a module path read
from the file:

    * easynn's own classes: every ``Layer`` subclass defined inside the ``easynn`` package, and
      classes easynn registers with ``register_builtin`` (the model classes);
    * objects registered with ``@register_keras_serializable(package="Custom")``, kept in the
      dict that ``get_custom_objects()`` returns;
    * ``custom_objects={"Name": obj}`` given to ``load_model`` (or a ``custom_object_scope``).

The file can therefore choose *which* of these known objects to build and with which JSON
arguments, but it can never bring code of its own.

Example:
    >>> import easynn
    >>> @register_keras_serializable(package="Docs")
    ... class Twice(easynn.layers.Layer):
    ...     def call(self, inputs):
    ...         return inputs * 2
    >>> get_registered_name(Twice)
    'Docs>Twice'
    >>> get_registered_object("Docs>Twice") is Twice
    True
"""

from __future__ import annotations

import contextvars
import inspect
from typing import Any, Callable

__all__ = [
    "register_keras_serializable", "register_serializable", "register_builtin", "get_custom_objects",
    "get_registered_name", "get_registered_object", "custom_object_scope", "CustomObjectScope",
    "SafeModeScope", "in_safe_mode", "builtin_classes", "check_json",
]

# "Package>Name" -> object (what get_custom_objects() returns), and object -> "Package>Name".
_REGISTERED: dict[str, Any] = {}
_NAMES: dict[Any, str] = {}
# Classes easynn itself registers (Sequential, Functional, ...): kept apart from the custom
# objects so that ``get_custom_objects().clear()`` (a common first line in Keras scripts) cannot
# make easynn forget its own model classes.
_BUILTINS: dict[str, type] = {}
# custom_objects of the load in progress (and of custom_object_scope blocks).
_SCOPE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("easynn_custom_objects", default=None)
# safe_mode of the load in progress; None means "the global setting" (easynn.config).
_SAFE_MODE: contextvars.ContextVar[bool | None] = contextvars.ContextVar("easynn_safe_mode", default=None)


def _same_definition(a: Any, b: Any) -> bool:
    """Two objects defined by the same code (a re-run notebook cell or a reloaded module)."""
    return (getattr(a, "__module__", None), getattr(a, "__qualname__", None)) == (
        getattr(b, "__module__", None), getattr(b, "__qualname__", None))


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable[[Any], Any]:
    """Decorator: let saved models and configs refer to a class or function as ``"package>name"``.

    Args:
        package: a namespace for the name, so that two libraries' ``MyLayer`` do not clash.
        name: the name inside the package; the object's ``__name__`` by default.

    Returns:
        A decorator that registers its argument and returns it unchanged.

    Raises:
        ValueError: if ``package`` is empty or contains ``">"``, or if ``"package>name"`` is
            already registered to a different definition.
        TypeError: if the decorated object is a class without ``get_config``, or is neither a
            class nor a function.

    Example:
        >>> @register_keras_serializable(package="Docs", name="square")
        ... def my_square(x):
        ...     return x * x
        >>> get_registered_name(my_square), get_custom_objects()["Docs>square"] is my_square
        ('Docs>square', True)
    """
    if not isinstance(package, str) or ">" in package or not package:
        raise ValueError(f"`package` must be a non-empty string without '>'. Received: package={package!r}")
    if name is not None and (not isinstance(name, str) or not name or ">" in name):
        raise ValueError(f"`name` must be a non-empty string without '>', or None. Received: name={name!r}")

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
                "`package` or `name` to register_keras_serializable()."
            )
        _REGISTERED[key] = obj
        _NAMES[obj] = key
        return obj

    return decorator


# The name easynn used before the Keras one existed; both stay.
register_serializable = register_keras_serializable


def register_builtin(cls: type | None = None, *, name: str | None = None) -> Any:
    """Register one of easynn's own classes (a model class) under its plain class name.

    Use as ``register_builtin(Sequential)`` or as the decorator ``@register_builtin``. Such
    classes are written to configs with ``registered_name: None``, like Keras's own classes,
    and ``get_custom_objects().clear()`` does not remove them.

    Raises:
        TypeError: if ``cls`` is not a class with ``get_config``.
        ValueError: if the name is taken by a different class.
    """

    def decorator(obj: type) -> type:
        if not inspect.isclass(obj) or not hasattr(obj, "get_config"):
            raise TypeError(f"register_builtin() expects a class with get_config(). Received: {obj!r}")
        key = name or obj.__name__
        previous = _BUILTINS.get(key)
        if previous is not None and previous is not obj and not _same_definition(previous, obj):
            raise ValueError(f"The built-in name '{key}' is already registered to {previous!r}.")
        _BUILTINS[key] = obj
        return obj

    return decorator if cls is None else decorator(cls)


def get_custom_objects() -> dict[str, Any]:
    """The global dict of registered objects, ``{"package>name": obj}`` (mutable, as in Keras).

    ``get_custom_objects().clear()`` forgets every registration; adding an entry by hand makes
    that name resolvable when loading.

    Example:
        >>> "Docs>Twice" in get_custom_objects()
        True
    """
    return _REGISTERED


def registered_key(obj: Any) -> str | None:
    """``"package>name"`` if ``obj`` is registered now (not cleared since), else None."""
    key = _NAMES.get(obj)
    return key if key is not None and _REGISTERED.get(key) is obj else None


def get_registered_name(obj: Any) -> str:
    """``"package>name"`` for a registered object, else its ``__name__``.

    Example:
        >>> get_registered_name(len)
        'len'
    """
    key = registered_key(obj)
    if key is not None:
        return key
    return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name: str, custom_objects: dict | None = None, module_objects: dict | None = None) -> Any:
    """The object known under ``name``, or None.

    Looked up in ``custom_objects``, then the active ``custom_object_scope`` blocks, then the
    registered objects, then ``module_objects``.
    """
    for table in (custom_objects or {}, _SCOPE.get() or {}, _REGISTERED, module_objects or {}):
        if name in table:
            return table[name]
    return None


class CustomObjectScope:
    """Within the ``with`` block, loading and deserialization also find ``custom_objects``.

    ``custom_object_scope`` is the same class, as in Keras.

    Args:
        custom_objects: ``{"Name": class_or_function}``; several dicts may be given.

    Raises:
        TypeError: if an argument is not a dict (or None).

    Example:
        >>> with custom_object_scope({"Thing": object}):
        ...     get_registered_object("Thing") is object
        True
        >>> get_registered_object("Thing") is None
        True
    """

    def __init__(self, *custom_objects: dict | None) -> None:
        merged: dict[str, Any] = {}
        for table in custom_objects:
            if table is None:
                continue
            if not isinstance(table, dict):
                raise TypeError(f"`custom_objects` must be a dict of name -> object. Received: {table!r}")
            merged.update(table)
        self.custom_objects = merged
        self._tokens: list[contextvars.Token] = []

    def __enter__(self) -> "CustomObjectScope":
        self._tokens.append(_SCOPE.set({**(_SCOPE.get() or {}), **self.custom_objects}))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _SCOPE.reset(self._tokens.pop())


custom_object_scope = CustomObjectScope


class SafeModeScope:
    """Within the block, ``safe_mode`` is ``True``/``False`` (None: the global setting)."""

    def __init__(self, safe_mode: bool | None = True) -> None:
        if safe_mode is not None and not isinstance(safe_mode, bool):
            raise TypeError(f"`safe_mode` must be True, False or None. Received: safe_mode={safe_mode!r}")
        self.safe_mode = safe_mode
        self._tokens: list[contextvars.Token] = []

    def __enter__(self) -> "SafeModeScope":
        current = _SAFE_MODE.get()
        self._tokens.append(_SAFE_MODE.set(current if self.safe_mode is None else self.safe_mode))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _SAFE_MODE.reset(self._tokens.pop())


def in_safe_mode() -> bool:
    """True unless a ``load_model(safe_mode=False)`` is running or unsafe mode was enabled globally."""
    value = _SAFE_MODE.get()
    if value is not None:
        return value
    from easynn import config

    return not config.unsafe_deserialization_enabled()


def builtin_classes(_retry: bool = True) -> dict[str, type]:
    """easynn's own classes by name: registered built-ins and every easynn ``Layer`` subclass.

    Only classes already defined are found; ``import easynn`` defines all of them.
    """
    import easynn.layers  # noqa: F401  (defines the layer classes)
    from easynn.layers.base import Layer

    found: dict[str, type] = {"Layer": Layer}
    stack = [Layer]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            module = getattr(sub, "__module__", "")
            if (module == "easynn" or module.startswith("easynn.")) and not sub.__name__.startswith("_"):
                found.setdefault(sub.__name__, sub)
    found.update(_BUILTINS)
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
        "get_config() must return plain values (numbers, strings, lists, dicts) or objects that "
        "easynn.saving.serialize_keras_object() can describe (layers, registered objects)."
    )
