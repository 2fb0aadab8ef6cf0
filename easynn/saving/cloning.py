"""``clone_model``: the same architecture with new layers and freshly initialized weights.

For ``Sequential`` and functional models every layer of ``model.layers`` is made again by
``clone_function(layer)`` (by default: a new layer from the layer's config) and wired exactly
as in the original; a subclassed model is rebuilt from its ``get_config()``. The clone is built
when the original was, and is not compiled (as in Keras).

Example:
    >>> import easynn, numpy as np
    >>> model = easynn.Sequential([easynn.Input(shape=(3,)), easynn.layers.Dense(2)])
    >>> clone = clone_model(model)
    >>> clone.count_params() == model.count_params(), clone.layers[0] is model.layers[0]
    (True, False)
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from easynn.saving import registry, serialization

__all__ = ["clone_model"]


def _custom_classes(model: Any) -> dict[str, type]:
    """The model's own custom layer classes by name, so unregistered ones clone too."""
    found: dict[str, type] = {}
    for module in model.modules():
        cls = type(module)
        if not serialization._is_easynn_module(cls.__module__):
            found.setdefault(cls.__name__, cls)
    return found


def _default_clone(layer: Any) -> Any:
    """A new layer of the same class and config (new weights)."""
    if isinstance(layer, serialization._lambda_class()):
        from easynn.layers.base import Layer

        config = Layer.get_config(layer)
        return type(layer)(layer.function, **config)
    with serialization._Nested():
        entry = serialization._object_entry(layer, with_compile=False)  # the layer itself, not its placeholder
        return serialization._deserialize(entry, _custom_classes(layer), compile=False, want_layer=True)


def clone_model(model: Any, input_tensors: Any = None, clone_function: Callable | None = None,
                call_function: Callable | None = None, recursive: bool = False, **kwargs: Any) -> Any:
    """A new model with the architecture of ``model`` and new weights.

    Args:
        model: an easynn ``Sequential``, functional or subclassed model.
        input_tensors: not supported yet (must be None).
        clone_function: ``fn(layer) -> new layer`` for each layer of ``model.layers`` (and of
            nested models when ``recursive``); by default a new layer from the layer's config.
        call_function: not supported yet (must be None).
        recursive: also apply ``clone_function`` to the layers of nested models.

    Returns:
        The clone: built when ``model`` was, uncompiled, with freshly initialized weights.

    Raises:
        TypeError: if ``model`` is not an easynn layer, or ``clone_function`` is not callable.
        NotImplementedError: for ``input_tensors`` or ``call_function``.

    Example:
        >>> import easynn
        >>> inputs = easynn.Input(shape=(4,))
        >>> model = easynn.Model(inputs, easynn.layers.Dense(1)(inputs))
        >>> clone_model(model).count_params()
        5
    """
    from easynn.layers.base import Layer

    if kwargs:
        raise TypeError(f"clone_model() got unexpected keyword arguments: {sorted(kwargs)}")
    if not isinstance(model, Layer):
        raise TypeError(f"clone_model() expects an easynn model. Received: {model!r}")
    if input_tensors is not None or call_function is not None:
        raise NotImplementedError(
            "clone_model(): `input_tensors` and `call_function` are not supported yet. Clone the model, "
            "then call the clone on new inputs (functional API) to rewire it."
        )
    if clone_function is not None and not callable(clone_function):
        raise TypeError(f"`clone_function` must be callable. Received: clone_function={clone_function!r}")
    function = clone_function or _default_clone
    targets = list(getattr(model, "layers", []))
    if recursive:
        targets = [m for m in model.modules() if isinstance(m, Layer) and m is not model]
    cloning = {id(layer): (layer, function) for layer in targets
               if type(layer).__name__ != "InputLayer" and inspect.isclass(type(layer))}
    token = serialization._CLONING.set(cloning)
    try:
        custom = _custom_classes(model)
        with registry.CustomObjectScope(custom), registry.SafeModeScope(True):
            entry = serialization.serialize_top_level(model)
            return serialization.deserialize_top_level(entry, custom, compile=False)
    finally:
        serialization._CLONING.reset(token)
