"""Helpers of the Layer base class: dtype names, symbolic-input detection, constructor-argument
capture for ``get_config``, the collection of a module tree's weights in Keras's order, and the
warning for a mask dropped by a layer that does not support masking."""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any

import torch
from torch import nn

from easynn.layers.symbolic import SymbolicTensor

_UNSET = object()


def _is_layer(module: Any) -> bool:
    """An easynn Layer (without importing the class: it is defined on top of this module)."""
    return hasattr(module, "_weight_lists") and isinstance(module, nn.Module)


def _resolve_dtype(dtype: Any) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str):
        name = dtype.split("mixed_")[-1]
        found = getattr(torch, name, None)
        if isinstance(found, torch.dtype):
            return found
    raise ValueError(
        f"`dtype` must be a torch.dtype or a name such as 'float32'. Received: dtype={dtype!r}"
    )


def _is_symbolic(value: Any) -> bool:
    if isinstance(value, torch.Tensor):  # the hot path: a real tensor
        return False
    if isinstance(value, SymbolicTensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, SymbolicTensor) for v in value)
    return False


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        return _first_tensor(list(value.values()))
    return None


def _dtype_of(value: Any):
    if isinstance(value, torch.Tensor):
        return value.dtype
    if _is_strings(value):  # a batch of text (TextVectorization); "string" as in Keras
        return "string"
    if isinstance(value, (list, tuple)):
        return [_dtype_of(v) for v in value]
    return None


def _shape_of(value: Any):
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if _is_strings(value):  # a batch of text: shape (batch,)
        return (len(value),)
    if isinstance(value, (list, tuple)):
        return [_shape_of(v) for v in value]
    return None


def _is_strings(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, str) for v in value)


def _plain(value: Any) -> bool:
    """True for JSON-able constructor arguments (what Keras 3 captures automatically)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _capture_init_args(init):
    """Wrap a subclass's ``__init__`` so the outermost call records its arguments.

    The record (``self._auto_config``) is what ``get_config`` returns for subclasses that do not
    write their own: a dict when every argument is plain JSON, else the names of the others.
    """
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        if "_auto_config" not in self.__dict__:
            try:
                bound = signature.bind(self, *args, **kwargs)
                bound.apply_defaults()
            except TypeError:
                bound = None
            config: dict | None = {}
            bad: list[str] = []
            if bound is not None:
                for pname, value in list(bound.arguments.items())[1:]:
                    kind = signature.parameters[pname].kind
                    if kind is inspect.Parameter.VAR_KEYWORD:
                        items = value.items()
                    elif kind is inspect.Parameter.VAR_POSITIONAL:
                        if value:
                            bad.append(f"*{pname}")
                        continue
                    else:
                        items = [(pname, value)]
                    for key, item in items:
                        if _plain(item):
                            config[key] = item
                        else:
                            bad.append(f"{key}={type(item).__name__}")
            object.__setattr__(self, "_auto_config", (config, bad))
        try:
            init(self, *args, **kwargs)
        except AttributeError as error:
            if "_parameters" not in self.__dict__:
                raise _missing_super_init(self) from error
            raise
        if "_parameters" not in self.__dict__:
            raise _missing_super_init(self)

    return __init__


def _missing_super_init(layer) -> RuntimeError:
    name = type(layer).__name__
    return RuntimeError(
        f"{name}.__init__() did not call super().__init__(). A Layer (or Model) subclass must call "
        f"super().__init__(**kwargs) at the start of its __init__, before creating weights or sublayers."
    )


def _mark_built(build):
    """Wrap a subclass's ``build`` so that calling it directly marks the layer built, as in Keras.

    Without this, ``layer.build(shape)`` followed by ``set_weights`` and a call would build again
    on the call and silently replace the weights just set with fresh random ones.
    """

    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        # Only the outermost build marks the layer built: a subclass's build may call
        # super().build() first and create its own weights after it.
        depth = self.__dict__.get("_build_depth", 0)
        self.__dict__["_build_depth"] = depth + 1
        try:
            result = build(self, *args, **kwargs)
        finally:
            self.__dict__["_build_depth"] = depth
        if depth == 0:
            self.built = True
            if self._build_input_shape is None and args:
                self._build_input_shape = args[0]
        return result

    return wrapper


def _track_modules(value: Any) -> Any:
    """A non-empty list/tuple (or str-keyed dict) of modules as an ``nn.ModuleList``/``ModuleDict``.

    Keras tracks layers kept in lists and dicts (``self.blocks = [Dense(4), Dense(4)]``); a plain
    Python list would hide them from ``parameters()``, ``weights`` and the optimizer.
    """
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, nn.Module) for v in value):
        return nn.ModuleList(value)
    if (isinstance(value, dict) and value and all(isinstance(k, str) and "." not in k for k in value)
            and all(isinstance(v, nn.Module) for v in value.values())):
        return nn.ModuleDict(value)
    return value


def _unique(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """``tensors`` without repeats (a layer reachable through two containers counts once)."""
    seen: set[int] = set()
    return [t for t in tensors if not (id(t) in seen or seen.add(id(t)))]


def _plain_own_weights(module: nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    params = [p for p in module.parameters(recurse=False)]
    buffers = [
        b
        for name, b in module.named_buffers(recurse=False)
        if b.is_floating_point() and name not in module._non_persistent_buffers_set
    ]
    return params, buffers


def _module_weights(module: nn.Module) -> list[torch.Tensor]:
    """Weights of any module in Keras's order: its own, then its children's, depth first."""
    if _is_layer(module):
        return module.weights
    params, buffers = _plain_own_weights(module)
    out = params + buffers
    for child in module.children():
        out += _module_weights(child)
    return out


def _module_weight_lists(module: nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(trainable, non_trainable) of any module; plain torch modules go by requires_grad."""
    if _is_layer(module):
        return module._weight_lists()
    params, buffers = _plain_own_weights(module)
    trainable = [p for p in params if p.requires_grad]
    non_trainable = [p for p in params if not p.requires_grad] + buffers
    for child in module.children():
        sub_t, sub_nt = _module_weight_lists(child)
        trainable += sub_t
        non_trainable += sub_nt
    return trainable, non_trainable


def warn_if_mask_dropped(layer, inputs: Any) -> None:
    """Warn, once per layer, that ``layer`` drops the mask its input carries (Keras 3 warns too).

    A layer that does not support masking (``supports_masking`` false: ``Flatten``, ``Conv1D``,
    ``Lambda`` without ``mask=``, user layers that do not opt in) returns an output without a
    mask, so the layers, losses and metrics after it see the padded timesteps as real ones.
    ``Layer.__call__`` calls this for such layers; it costs one attribute read when the input
    has no mask. A layer class may opt out with ``_warns_on_dropped_mask = False`` (the
    functional API's op nodes: Keras's ops never warn).

    Args:
        layer: the layer being called.
        inputs: its first input (a tensor, or a list of tensors).

    Example:
        >>> import torch, warnings
        >>> from easynn import layers
        >>> x = torch.ones(2, 3, 4)
        >>> x._keras_mask = torch.ones(2, 3, dtype=torch.bool)
        >>> flatten = layers.Flatten(name="flat")
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_if_mask_dropped(flatten, x)
        ...     warn_if_mask_dropped(flatten, x)  # once per layer
        >>> len(caught), "Layer 'flat' (of type Flatten)" in str(caught[0].message)
        (1, True)
    """
    if getattr(inputs, "_keras_mask", None) is None and not (
        isinstance(inputs, (list, tuple)) and any(getattr(t, "_keras_mask", None) is not None for t in inputs)
    ):
        return
    if layer.__dict__.get("_warned_dropped_mask") or not getattr(layer, "_warns_on_dropped_mask", True):
        return
    layer.__dict__["_warned_dropped_mask"] = True
    warnings.warn(
        f"Layer '{layer.name}' (of type {type(layer).__name__}) received an input that carries a mask, "
        "but it does not support masking: its output has no mask, so the layers, losses and metrics "
        "after it will treat padded timesteps as real ones. If the mask should pass through this layer, "
        "set `self.supports_masking = True` in its __init__ (and override `compute_mask` to change it).",
        UserWarning,
        stacklevel=3,
    )
