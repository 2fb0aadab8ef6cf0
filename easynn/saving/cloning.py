"""``clone_model``: the same architecture with new layers and freshly initialized weights.

As in Keras 3:

* a ``Sequential`` model is cloned layer by layer: ``clone_function(layer)`` for each of
  ``model.layers`` (by default a new layer from the layer's config), stacked on a new ``Input``
  like the original's, or on ``input_tensors``;
* a functional model is cloned by replaying its graph: each call of a layer in the original
  becomes ``call_function(new_layer, *args, **kwargs)`` (by default ``new_layer(*args,
  **kwargs)``) on the new symbolic tensors, starting from new ``Input`` s like the originals or
  from ``input_tensors``. A layer called several times is cloned once (its clone is shared the
  same way);
* ``recursive=True`` clones nested ``Sequential`` / functional models with ``clone_model``
  itself (the same ``clone_function``; ``call_function`` too for functional ones), so that
  ``clone_function`` sees their layers; otherwise a nested model is one layer for
  ``clone_function``;
* a subclassed model is rebuilt from its ``get_config()``.

The clone is built when the original was, and is not compiled. ``saving`` never imports
``easynn.models``: the model classes are found among the registered built-ins.

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

from easynn.saving import hooks, registry, serialization

__all__ = ["clone_model"]


# --------------------------------------------------------------------------- helpers
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
    custom = _custom_classes(layer)
    with registry.CustomObjectScope(custom), registry.SafeModeScope(True), serialization._Nested():
        entry = serialization._object_entry(layer, with_compile=False)  # the layer itself, not its placeholder
        return serialization._deserialize(entry, custom, compile=False, want_layer=True)


def _model_class(name: str) -> type | None:
    """easynn's ``Sequential`` / ``Functional`` class (registered built-ins; no import of models)."""
    return registry.builtin_classes().get(name)


def _is_instance(obj: Any, name: str) -> bool:
    cls = _model_class(name)
    return cls is not None and isinstance(obj, cls)


def _check_layer(made: Any, original: Any) -> Any:
    from easynn.layers.base import Layer

    if not isinstance(made, Layer):
        raise TypeError(
            f"clone_function must return an easynn layer. For layer '{getattr(original, 'name', original)}' "
            f"it returned {made!r}."
        )
    return made


class _Cloner:
    """``clone_function`` wrapped: one clone per original layer (shared layers stay shared), and
    nested Sequential/functional models cloned by ``clone_model`` when ``recursive``."""

    def __init__(
        self, clone_function: Callable | None, call_function: Callable | None, recursive: bool, cache: dict | None
    ):
        self.clone_function = clone_function
        self.call_function = call_function
        self.recursive = recursive
        self.cache = {} if cache is None else cache

    def __call__(self, layer: Any) -> Any:
        key = id(layer)
        if key in self.cache:
            return self.cache[key][1]
        if self.recursive and _is_instance(layer, "Sequential"):
            made = clone_model(layer, clone_function=self.clone_function, recursive=True, cache=self.cache)
        elif self.recursive and _is_instance(layer, "Functional"):
            made = clone_model(
                layer,
                clone_function=self.clone_function,
                call_function=self.call_function,
                recursive=True,
                cache=self.cache,
            )
        else:
            made = _check_layer((self.clone_function or _default_clone)(layer), layer)
        self.cache[key] = (layer, made)  # the original is kept alive so that its id stays unique
        return made


def _input_like(input_layer: Any) -> Any:
    """A new ``Input`` with the shape, dtype and name of ``input_layer``."""
    from easynn.layers.core import InputLayer

    return InputLayer(
        shape=input_layer.shape,
        batch_size=getattr(input_layer, "batch_size", None),
        dtype=input_layer.input_dtype,
        name=input_layer.name,
    ).output


def _as_input(value: Any, where: str) -> Any:
    """``value`` as a symbolic tensor made by ``easynn.Input`` (an ``InputLayer`` gives its output)."""
    from easynn.layers.core import InputLayer
    from easynn.layers.symbolic import SymbolicTensor

    if isinstance(value, InputLayer):
        return value.output
    if not isinstance(value, SymbolicTensor):
        raise ValueError(
            f"Every entry of `input_tensors` must be a symbolic tensor made by easynn.Input(...). "
            f"Received {where}={value!r} of type {type(value).__name__}."
        )
    if value.node is not None or getattr(value, "input_layer", None) is None:
        raise ValueError(
            f"`input_tensors` must be made by easynn.Input(...); {where} is the output of layer "
            f"'{getattr(value.node.layer, 'name', '?') if value.node is not None else '?'}'. To stack the clone "
            "on another model's output, clone it on a new Input and call the clone on that output."
        )
    return value


# --------------------------------------------------------------------------- Sequential
def _clone_sequential(model: Any, cloner: _Cloner, input_tensors: Any) -> Any:
    sequential = _model_class("Sequential")
    layers = [cloner(layer) for layer in model.layers]
    original_input = getattr(model, "_input_layer", None)
    if input_tensors is not None:
        items = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(items) != 1:
            raise ValueError(
                f"A Sequential model has one input, so `input_tensors` must hold one tensor. Received "
                f"{len(items)}: input_tensors={input_tensors!r}"
            )
        layers.insert(0, _as_input(items[0], "input_tensors"))
    elif original_input is not None:
        layers.insert(0, _input_like(original_input))
    clone = sequential(layers, name=model.name, trainable=model.trainable)
    if input_tensors is None and original_input is None and getattr(model, "built", False):
        config = hooks.default_get_build_config(model)  # built by build(shape) or a call: build the clone alike
        if config is not None:
            hooks.build_from(clone, config, top=True)
    return clone


# --------------------------------------------------------------------------- functional
def _new_inputs(model: Any, input_tensors: Any) -> list:
    originals = list(model.inputs)
    names = [t.input_layer.name for t in originals]
    if input_tensors is None:
        return [_input_like(t.input_layer) for t in originals]
    if isinstance(input_tensors, dict):
        unknown = sorted(set(input_tensors) - set(names))
        missing = [n for n in names if n not in input_tensors]
        if unknown or missing:
            raise ValueError(
                f"`input_tensors` as a dict must be keyed by the model's input names {names}. Missing: "
                f"{missing}; unknown: {unknown}."
            )
        items = [(f"input_tensors[{n!r}]", input_tensors[n]) for n in names]
    else:
        values = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(values) != len(originals):
            raise ValueError(
                f"`input_tensors` must have the same structure as model.input: {len(originals)} tensor(s) "
                f"({', '.join(names)}). Received {len(values)}: input_tensors={input_tensors!r}"
            )
        several = isinstance(input_tensors, (list, tuple))
        items = [(f"input_tensors[{i}]" if several else "input_tensors", v) for i, v in enumerate(values)]
    return [_as_input(value, where) for where, value in items]


def _call_node(node: Any, layer: Any, tensors: dict, call_function: Callable | None) -> list:
    """Call ``layer`` as ``node`` called the original layer, on the new tensors; the flat outputs."""
    from easynn.layers.symbolic import POSITIONAL_INPUTS, SymbolicTensor, _flatten, _map

    inputs = _map(node.inputs, lambda t: tensors[id(t)] if isinstance(t, SymbolicTensor) else t)
    kwargs = dict(node.kwargs)
    args = tuple(inputs) if kwargs.pop(POSITIONAL_INPUTS, False) else (inputs,)
    outputs = call_function(layer, *args, **kwargs) if call_function is not None else layer(*args, **kwargs)
    flat = _flatten(outputs)
    if len(flat) != len(node.outputs) or not all(isinstance(t, SymbolicTensor) for t in flat):
        who = "call_function" if call_function is not None else f"layer '{layer.name}'"
        raise ValueError(
            f"{who} returned {len(flat)} output(s) for layer '{node.layer.name}' ({outputs!r}), but that call "
            f"returned {len(node.outputs)} symbolic tensor(s) in the original model. It must return symbolic "
            "tensors of the same structure."
        )
    return flat


def _functional_like(cls: type) -> bool:
    """Whether ``cls(inputs, outputs, name=...)`` builds it (Keras's test for a clone's class)."""
    try:
        parameters = list(inspect.signature(cls.__init__).parameters)[1:3]
    except (TypeError, ValueError):
        return False
    return parameters == ["inputs", "outputs"]


def _clone_functional(model: Any, cloner: _Cloner, input_tensors: Any, call_function: Callable | None) -> Any:
    new_inputs = _new_inputs(model, input_tensors)
    tensors = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    for node in model._nodes:  # topological order: every node after the nodes it reads
        made = _call_node(node, cloner(node.layer), tensors, call_function)
        tensors.update((id(old), new) for old, new in zip(node.outputs, made))
    outputs = [tensors[id(t)] for t in model.outputs]
    keys = getattr(model, "_output_keys", None)
    if keys is not None:
        outputs = dict(zip(keys, outputs))
    elif not isinstance(model.output, list):
        outputs = outputs[0]
    inputs = new_inputs if isinstance(model.input, list) else new_inputs[0]
    cls = type(model) if _functional_like(type(model)) else _model_class("Functional")
    clone = cls(inputs, outputs, name=model.name)
    if clone.trainable != model.trainable:
        clone.trainable = model.trainable
    return clone


# --------------------------------------------------------------------------- subclassed
def _clone_from_config(model: Any, clone_function: Callable | None, recursive: bool) -> Any:
    """A subclassed model: its config, deserialized; layers that appear in the config are made
    by ``clone_function`` (easynn's extension; Keras refuses ``clone_function`` here)."""
    from easynn.layers.base import Layer

    function = clone_function or _default_clone
    targets = list(getattr(model, "layers", []))
    if recursive:
        targets = [m for m in model.modules() if isinstance(m, Layer) and m is not model]
    cloning = {id(layer): (layer, function) for layer in targets if type(layer).__name__ != "InputLayer"}
    token = serialization._CLONING.set(cloning)
    try:
        custom = _custom_classes(model)
        with registry.CustomObjectScope(custom), registry.SafeModeScope(True):
            entry = serialization.serialize_top_level(model)
            return serialization.deserialize_top_level(entry, custom, compile=False)
    finally:
        serialization._CLONING.reset(token)


# --------------------------------------------------------------------------- public
def clone_model(
    model: Any,
    input_tensors: Any = None,
    clone_function: Callable | None = None,
    call_function: Callable | None = None,
    recursive: bool = False,
    **kwargs: Any,
) -> Any:
    """A new model with the architecture of ``model`` and new weights (Keras 3's ``clone_model``).

    Args:
        model: an easynn ``Sequential``, functional or subclassed model.
        input_tensors: symbolic tensor(s) made by ``easynn.Input`` to build the clone on, in the
            structure of ``model.input`` (a tensor, a list, or a dict keyed by input name); new
            ``Input`` s like the original's by default. Sequential and functional models only.
        clone_function: ``fn(layer) -> layer`` called once per layer (an ``InputLayer`` is never
            passed); by default a new layer from the layer's config. Returning ``layer`` itself
            shares it (and its weights) with the original.
        call_function: ``fn(layer, *args, **kwargs) -> outputs`` called for each layer call of a
            functional model, instead of ``layer(*args, **kwargs)``; it may add layers before or
            after the call. Functional models only.
        recursive: clone nested Sequential/functional models with ``clone_model`` (the same
            ``clone_function``, and ``call_function`` for functional ones) instead of passing
            them whole to ``clone_function``.

    Returns:
        The clone: built when ``model`` was (always, for functional models), uncompiled, with
        freshly initialized weights unless ``clone_function`` reuses layers.

    Raises:
        TypeError: if ``model`` is not an easynn layer, a function is not callable, or
            ``clone_function`` returns something other than a layer.
        ValueError: for ``input_tensors`` of the wrong structure or not made by ``easynn.Input``,
            ``call_function`` with a model that is not functional, ``input_tensors`` with a
            subclassed model, or a ``call_function`` whose outputs do not match the call.

    Example:
        >>> import easynn
        >>> from easynn.layers import Dense, Dropout
        >>> inputs = easynn.Input(shape=(4,))
        >>> model = easynn.Model(inputs, Dense(1)(Dense(3)(inputs)))
        >>> def add_dropout(layer, *args, **kwargs):
        ...     outputs = layer(*args, **kwargs)
        ...     return Dropout(0.5)(outputs) if isinstance(layer, Dense) else outputs
        >>> clone = clone_model(model, call_function=add_dropout)
        >>> [type(layer).__name__ for layer in clone.layers]
        ['InputLayer', 'Dense', 'Dropout', 'Dense', 'Dropout']
    """
    from easynn.layers.base import Layer

    cache = kwargs.pop("cache", None)  # shared by the recursive calls (as in Keras)
    if kwargs:
        raise TypeError(f"clone_model() got unexpected keyword arguments: {sorted(kwargs)}")
    if not isinstance(model, Layer):
        raise TypeError(f"clone_model() expects an easynn model. Received: {model!r}")
    for name, function in (("clone_function", clone_function), ("call_function", call_function)):
        if function is not None and not callable(function):
            raise TypeError(f"`{name}` must be callable. Received: {name}={function!r}")
    kind = type(model).__name__
    if _is_instance(model, "Sequential"):
        if call_function is not None:
            raise ValueError(
                "`call_function` is not supported with Sequential models: their layers are listed, not called, "
                f"when the model is built. Use it with functional models. Received a model of type '{kind}'."
            )
        return _clone_sequential(model, _Cloner(clone_function, None, recursive, cache), input_tensors)
    if _is_instance(model, "Functional"):
        cloner = _Cloner(clone_function, call_function, recursive, cache)
        return _clone_functional(model, cloner, input_tensors, call_function)
    if input_tensors is not None:
        raise ValueError(
            "`input_tensors` is only supported for Sequential and functional models. Received a model of "
            f"type '{kind}'; call the clone on new inputs instead."
        )
    if call_function is not None:
        raise ValueError(f"`call_function` is only supported for functional models. Received a model of type '{kind}'.")
    return _clone_from_config(model, clone_function, recursive)
