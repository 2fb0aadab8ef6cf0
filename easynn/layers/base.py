"""The Layer: Keras's layer contract on top of ``torch.nn.Module``.

Who owns what:
    * ``__init__`` stores the constructor arguments (and nothing that needs the input size);
    * ``build(input_shape)`` creates the weights, once, on the first call, with the real shape;
    * ``call(inputs, training=None)`` computes; ``training`` is filled in from the module's
      train/eval mode when the caller leaves it out;
    * ``get_config()`` returns the constructor arguments, so ``cls.from_config(config)``
      makes an equal, unbuilt layer.

A ``Layer`` is a real ``torch.nn.Module``: it can live inside any PyTorch model, its weights are
``nn.Parameter`` (trainable) or buffers (non-trainable), and ``.to(device)`` moves them.

Example:
    >>> import torch
    >>> class Scale(Layer):
    ...     def build(self, input_shape):
    ...         self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones")
    ...     def call(self, inputs):
    ...         return inputs * self.gain
    >>> layer = Scale()
    >>> layer(torch.ones(2, 3)).shape
    torch.Size([2, 3])
    >>> [tuple(w.shape) for w in layer.weights]
    [(3,)]
"""

from __future__ import annotations

import collections
import functools
import inspect
import warnings
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from easynn._naming import to_snake_case
from easynn.layers.symbolic import SymbolicTensor

__all__ = ["Layer", "unique_name", "to_snake_case"]

_NAME_COUNTS: collections.Counter = collections.Counter()
_UNSET = object()


class _CallContext:
    """Which layer's ``__call__`` is the outermost one running now (``None`` between calls).

    ``generation`` counts outermost calls: a loss added under an older generation is stale.
    """

    root: "Layer | None" = None
    generation: int = 0


_CALL_CONTEXT = _CallContext()


def unique_name(base: str) -> str:
    """Return ``base``, then ``base_1``, ``base_2``, ... on later calls (Keras's naming)."""
    count = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


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
    if isinstance(value, (list, tuple)):
        return [_dtype_of(v) for v in value]
    return None


def _shape_of(value: Any):
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)):
        return [_shape_of(v) for v in value]
    return None


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
        result = build(self, *args, **kwargs)
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
    if isinstance(module, Layer):
        return module.weights
    params, buffers = _plain_own_weights(module)
    out = params + buffers
    for child in module.children():
        out += _module_weights(child)
    return out


def _module_weight_lists(module: nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(trainable, non_trainable) of any module; plain torch modules go by requires_grad."""
    if isinstance(module, Layer):
        return module._weight_lists()
    params, buffers = _plain_own_weights(module)
    trainable = [p for p in params if p.requires_grad]
    non_trainable = [p for p in params if not p.requires_grad] + buffers
    for child in module.children():
        sub_t, sub_nt = _module_weight_lists(child)
        trainable += sub_t
        non_trainable += sub_nt
    return trainable, non_trainable


class Layer(nn.Module):
    """Base class of every easynn layer (and model).

    Args:
        name: the layer's name; unique by default (``dense``, ``dense_1``, ...).
        trainable: whether the layer's weights are updated by training.
        dtype: dtype of the weights (``"float32"`` by default, torch's default dtype).
        activity_regularizer: a regularizer applied to the layer's output; its value, divided by
            the batch size as Keras does, joins the training loss.
        input_shape: Keras's legacy way to give the input shape (without the batch axis) to the
            first layer of a ``Sequential``.
        input_dim: legacy shorthand for ``input_shape=(input_dim,)``.

    Subclasses override ``build`` and ``call``; see the module docstring. A subclass that does
    not write ``get_config`` gets its constructor arguments saved automatically when they are
    plain JSON values (numbers, strings, lists, dicts), as in Keras 3.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _capture_init_args(cls.__dict__["__init__"])
        if "build" in cls.__dict__:
            cls.build = _mark_built(cls.__dict__["build"])

    def __init__(
        self,
        *,
        name: str | None = None,
        trainable: bool = True,
        dtype: Any = None,
        activity_regularizer: Any = None,
        input_shape: Iterable[int] | None = None,
        input_dim: int | None = None,
        batch_input_shape: Iterable[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string. Received: name={name!r}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.dtype = _resolve_dtype(dtype)
        self.built = False
        self._trainable = bool(trainable)
        self._losses: list[torch.Tensor] = []
        self._weight_regularizers: list[tuple[str, Any]] = []
        self._build_device: torch.device | None = None
        self._build_input_shape = None
        from easynn import regularizers

        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._call_takes_training = "training" in inspect.signature(self.call).parameters
        # Keras 2 spellings: the first layer of a Sequential may carry its input shape.
        if input_dim is not None:
            warnings.warn(
                "`input_dim` is a Keras 2 argument; pass `input_shape=(input_dim,)` or start the "
                "model with `easynn.Input(shape=...)` instead.",
                DeprecationWarning,
                stacklevel=3,
            )
            input_shape = (int(input_dim),)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        if input_shape is not None and (
            isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Iterable)
            or not all(d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool)) for d in input_shape)
        ):
            raise ValueError(
                "`input_shape` must be a tuple of integers without the batch axis, e.g. "
                f"input_shape=(784,). Received: input_shape={input_shape!r}"
            )
        self._declared_input_shape = tuple(input_shape) if input_shape is not None else None
        # Keras semantics: a layer called outside fit() runs in inference mode (training=False).
        # fit() switches the model to training mode and back; torch users can call .train().
        self.training = False

    # ------------------------------------------------------------------ the contract
    def build(self, input_shape) -> None:
        """Create the layer's weights. ``input_shape`` includes the batch axis."""

    def call(self, inputs, *args, **kwargs):
        """The layer's computation. Subclasses must override it."""
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement call().")

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape``; by default found by running the layer on zeros."""
        from easynn.layers.symbolic import infer_output_shape

        return infer_output_shape(self, input_shape)

    def get_config(self) -> dict:
        """The constructor arguments of this layer, as plain Python values.

        Subclasses with their own arguments override it (``config = super().get_config()``, then
        add theirs). One that does not gets the arguments it was constructed with, when they are
        all plain JSON values.

        Raises:
            NotImplementedError: for a subclass that does not override ``get_config`` and was
                given arguments that cannot be stored as JSON (a layer object, a tensor...).
        """
        config = {"name": self.name, "trainable": self.trainable}
        if self.dtype is not None:
            config["dtype"] = str(self.dtype).replace("torch.", "")
        if self.activity_regularizer is not None:
            from easynn import regularizers

            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if type(self).get_config is not Layer.get_config or type(self).__init__ is Layer.__init__:
            return config
        captured, bad = self.__dict__.get("_auto_config", ({}, []))
        if bad:
            raise NotImplementedError(
                f"{type(self).__name__} cannot be saved automatically: its constructor received "
                f"{', '.join(bad)}, which are not plain JSON values. Implement "
                f"{type(self).__name__}.get_config() returning its constructor arguments (and "
                "from_config() if cls(**config) cannot rebuild it)."
            )
        accepted = inspect.signature(type(self).__init__).parameters
        takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
        config = {k: v for k, v in config.items() if takes_kwargs or k in accepted}
        config.update(captured)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        """Make a new (unbuilt) layer from the output of ``get_config()``."""
        return cls(**config)

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if _CALL_CONTEXT.root is not None:  # a nested call: the outermost one owns the losses
            return self._call(*args, **kwargs)
        # The outermost call: as in Keras, the losses its layers added on the previous outermost
        # call are dropped, so ``model.losses`` always holds the last forward pass's terms.
        _CALL_CONTEXT.root = self
        _CALL_CONTEXT.generation += 1
        try:
            pending = self.__dict__.get("_pending_loss_layers")
            if pending:
                for layer in pending:
                    layer._losses = []
                pending.clear()
            return self._call(*args, **kwargs)
        finally:
            _CALL_CONTEXT.root = None

    def _call(self, *args, **kwargs):
        inputs = args[0] if args else None
        if isinstance(inputs, torch.Tensor) and self.built:  # the hot path: one check, no scans
            dtype = self._compute_dtype()
            if dtype is not None and inputs.dtype != dtype and inputs.is_floating_point():
                args = (self._autocast(inputs, dtype),) + args[1:]
            return super().__call__(*args, **kwargs)
        if args and not isinstance(inputs, torch.Tensor):
            if _is_symbolic(inputs):
                from easynn.layers.symbolic import call_symbolically

                return call_symbolically(self, args, kwargs)
            if isinstance(inputs, np.ndarray):  # Keras layers take NumPy arrays too
                args = (torch.as_tensor(inputs),) + args[1:]
        if not self.built:
            self._build_on(args[0] if args else kwargs.get("inputs"))
        if args and isinstance(args[0], torch.Tensor) and args[0].is_floating_point():
            dtype = self._compute_dtype()
            if dtype is not None and args[0].dtype != dtype:
                args = (self._autocast(args[0], dtype),) + args[1:]
        return super().__call__(*args, **kwargs)

    def _compute_dtype(self) -> torch.dtype | None:
        """The dtype of this layer's own first floating weight (``None`` without weights), cached
        until weights are added or converted (``.to()``, ``.double()``)."""
        cached = self.__dict__.get("_compute_dtype_cache", _UNSET)
        if cached is _UNSET:
            weight = next((w for w in self._parameters.values() if w is not None and w.is_floating_point()), None)
            if weight is None:
                weight = next((b for b in self._buffers.values() if b is not None and b.is_floating_point()), None)
            cached = None if weight is None else weight.dtype
            self.__dict__["_compute_dtype_cache"] = cached
        return cached

    def _autocast(self, inputs: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Cast a floating input to the dtype of this layer's own weights, as Keras's autocast.

        A float64 tensor given to a float32 ``Dense`` (or float32 data to a ``.double()`` layer)
        would otherwise fail inside torch with a dtype mismatch. Left alone under
        ``torch.autocast`` (mixed precision decides dtypes there) and for layers without weights.
        """
        if torch.is_autocast_enabled(inputs.device.type):
            return inputs
        return inputs.to(dtype)

    def _apply(self, fn, *args, **kwargs):  # .to(), .double(), .cuda() ... may change the dtype
        self.__dict__.pop("_compute_dtype_cache", None)
        return super()._apply(fn, *args, **kwargs)

    def register_parameter(self, name, param) -> None:
        self.__dict__.pop("_compute_dtype_cache", None)
        super().register_parameter(name, param)

    def register_buffer(self, name, tensor, persistent: bool = True) -> None:
        self.__dict__.pop("_compute_dtype_cache", None)
        super().register_buffer(name, tensor, persistent)

    def forward(self, inputs, *args, **kwargs):
        if self._call_takes_training and kwargs.get("training") is None:
            kwargs["training"] = self.training
        elif not self._call_takes_training:
            kwargs.pop("training", None)
        outputs = self.call(inputs, *args, **kwargs)
        if self.activity_regularizer is not None:
            batch = max(int(outputs.shape[0]), 1) if outputs.dim() else 1
            self.add_loss(self.activity_regularizer(outputs) / batch)
        return outputs

    def _build_on(self, inputs) -> None:
        """Build from a real input (tensor or list of tensors) on that input's device."""
        tensor = _first_tensor(inputs)
        if tensor is not None:
            self._build_device = tensor.device
        shape = _shape_of(inputs)
        self._build_input_shape = shape
        self._build_input_dtype = _dtype_of(inputs)
        self.build(shape)
        self.built = True

    def build_from_shape(self, input_shape, device: Any = None) -> None:
        """Build the layer for inputs of ``input_shape`` (batch axis included) on ``device``."""
        if not self.built:
            self._build_device = torch.device(device) if device is not None else None
            self._build_input_shape = input_shape
            self.build(input_shape)
            self.built = True

    # ------------------------------------------------------------------ weights
    def add_weight(
        self,
        shape: Iterable[int] = (),
        initializer: Any = "glorot_uniform",
        trainable: bool = True,
        regularizer: Any = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> torch.Tensor:
        """Create, register and return a weight.

        Args:
            shape: the weight's shape.
            initializer: a name (``"glorot_uniform"``, ``"zeros"``, ...), an initializer object
                or a callable ``fn(shape, dtype=None, device=None)``.
            trainable: trainable weights are ``nn.Parameter``; others are buffers (moved and
                saved with the layer, never touched by the optimizer).
            regularizer: a regularizer (``"l2"``, ``easynn.regularizers.l2(1e-4)``, ...) whose
                penalty joins the training loss.
            name: attribute name; ``weight``, ``weight_1``, ... by default.
            dtype: the weight's dtype; the layer's dtype by default.

        Returns:
            The new ``easynn.Variable``: an ``nn.Parameter`` (or, non-trainable, a buffer).
        """
        from easynn import initializers, regularizers

        shape = tuple(int(s) for s in shape)
        if any(s < 0 for s in shape):
            raise ValueError(f"Weight shapes must be non-negative. Received: shape={shape}")
        auto_named = name is None
        if name is None:
            name = "weight"
            index = 1
            while hasattr(self, name):
                name = f"weight_{index}"
                index += 1
        dtype = _resolve_dtype(dtype) or self.dtype or torch.get_default_dtype()
        init = initializers.get(initializer)
        with torch.no_grad():
            value = init(shape, dtype=dtype, device=self._build_device)
        value = torch.as_tensor(value, dtype=dtype, device=self._build_device)
        # A Keras Variable (easynn.variables): a Parameter when trainable, else a buffer.
        from easynn.variables import make_variable

        weight = make_variable(value, trainable=trainable, name=name, owner=self, auto_named=auto_named)
        if trainable:
            weight.requires_grad_(bool(self.trainable) and (value.is_floating_point() or value.is_complex()))
            self.register_parameter(name, weight)
        else:
            self.register_buffer(name, weight)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self._weight_regularizers.append((name, regularizer))
        if auto_named:  # renamed by ``self.w = self.add_weight(...)`` (see __setattr__)
            self.__dict__.setdefault("_auto_weight_names", set()).add(name)
        return weight

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, torch.Tensor):  # a weight may be replaced: recompute the compute dtype
            self.__dict__.pop("_compute_dtype_cache", None)
        # Keras code writes ``self.w = self.add_weight(shape=...)`` without a name. Register the
        # weight under ``w`` only (not ``weight`` *and* ``w``), so it is counted once and a
        # non-trainable one stays a buffer that ``.to(device)`` moves.
        if isinstance(value, (list, tuple, dict)):
            value = _track_modules(value)
        auto = self.__dict__.get("_auto_weight_names")
        if auto and isinstance(value, torch.Tensor) and name not in auto:
            for old in list(auto):
                if self._parameters.get(old) is value or self._buffers.get(old) is value:
                    auto.discard(old)
                    is_buffer = self._buffers.get(old) is value
                    (self._buffers if is_buffer else self._parameters).pop(old)
                    self._weight_regularizers = [(name if n == old else n, r) for n, r in self._weight_regularizers]
                    if is_buffer:
                        self.__dict__.pop(name, None)
                        self.register_buffer(name, value)
                        return
                    break
        super().__setattr__(name, value)

    def _own_weights(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        trainable = [p for p in self._parameters.values() if p is not None]
        non_trainable = [
            b
            for name, b in self._buffers.items()
            if b is not None
            and name not in self._non_persistent_buffers_set
            and (b.is_floating_point() or b.is_complex())
        ]
        return trainable, non_trainable

    def _weight_lists(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """(trainable, non_trainable) weights in Keras's order: own, then sublayers."""
        own_trainable, own_non_trainable = self._own_weights()
        trainable = own_trainable if self.trainable else []
        non_trainable = own_non_trainable + ([] if self.trainable else own_trainable)
        for child in self.children():
            sub_t, sub_nt = _module_weight_lists(child)
            if not self.trainable:
                sub_nt, sub_t = sub_t + sub_nt, []
            trainable += sub_t
            non_trainable += sub_nt
        return _unique(trainable), _unique(non_trainable)

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        """The weights the optimizer updates."""
        return self._weight_lists()[0]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        """Weights that training leaves alone (frozen ones, moving statistics)."""
        return self._weight_lists()[1]

    @property
    def variables(self) -> list[torch.Tensor]:
        """Keras 3's name for ``weights``."""
        return self.weights

    @property
    def trainable_variables(self) -> list[torch.Tensor]:
        """Keras 3's name for ``trainable_weights``."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[torch.Tensor]:
        """Keras 3's name for ``non_trainable_weights``."""
        return self.non_trainable_weights

    @property
    def weights(self) -> list[torch.Tensor]:
        """All weights, in Keras's order: each layer's own, then its sublayers', depth first."""
        own_t, own_nt = self._own_weights()
        out: list[torch.Tensor] = own_t + own_nt
        for child in self.children():
            out += _module_weights(child)
        return _unique(out)

    @property
    def trainable(self) -> bool:
        """Whether training updates this layer's weights. Settable: freezing works in fit."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for module in self.modules():
            if isinstance(module, Layer) and module is not self:
                module._trainable = bool(value)
        for param in self.parameters():
            param.requires_grad_(bool(value))

    def count_params(self) -> int:
        """Total number of scalars in the layer's weights."""
        if not self.built and not self.weights:
            raise ValueError(
                f"You tried to call count_params() on layer '{self.name}', but the layer isn't "
                "built. Call it on data first, or build it with an input shape."
            )
        return int(sum(w.numel() for w in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays, in Keras's order and layout (Dense kernel: (in, out))."""
        return [self._export_weight(w) for w in self.weights]

    def set_weights(self, weights: list) -> None:
        """Set the weights from NumPy arrays in the order and layout of ``get_weights()``.

        Raises:
            ValueError: if the number of arrays or any shape differs; nothing is changed then.
        """
        targets = self.weights
        weights = list(weights)
        if len(weights) != len(targets):
            raise ValueError(
                f"Layer '{self.name}' expects {len(targets)} weight arrays, "
                f"but received {len(weights)}."
            )
        values = []
        for index, (target, value) in enumerate(zip(targets, weights)):
            value = torch.as_tensor(np.asarray(value))
            expected = tuple(self._export_weight(target).shape)
            if tuple(value.shape) != expected:
                raise ValueError(
                    f"Weight {index} of layer '{self.name}' has shape {expected}, "
                    f"but the array given has shape {tuple(value.shape)}."
                )
            values.append(value)
        with torch.no_grad():
            for target, value in zip(targets, values):
                target.copy_(self._import_weight(target, value))

    def _owner_of(self, weight: torch.Tensor) -> "Layer":
        for module in self.modules():
            if isinstance(module, Layer):
                own_t, own_nt = module._own_weights()
                if any(weight is w for w in own_t + own_nt):
                    return module
        return self

    def _export_weight(self, weight: torch.Tensor) -> np.ndarray:
        owner = self._owner_of(weight)
        return owner.keras_layout(weight.detach()).cpu().numpy().copy()

    def _import_weight(self, weight: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        owner = self._owner_of(weight)
        return owner.torch_layout(weight, value.to(dtype=weight.dtype, device=weight.device))

    def keras_layout(self, weight: torch.Tensor) -> torch.Tensor:
        """Map a stored weight to Keras's layout (identity unless a layer stores it otherwise)."""
        return weight

    def torch_layout(self, weight: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """Inverse of ``keras_layout``: a Keras-layout value for the stored ``weight``."""
        return value

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss: torch.Tensor) -> None:
        """Add a loss term (e.g. activity regularization) computed during the forward pass."""
        if self.__dict__.get("_loss_generation") != _CALL_CONTEXT.generation:
            self._losses = []  # terms of an earlier forward pass (possibly under another root)
            self.__dict__["_loss_generation"] = _CALL_CONTEXT.generation
        self._losses.append(loss)
        self._adds_losses = True  # tells the training loop to collect self.losses every step
        root = _CALL_CONTEXT.root or self
        pending = root.__dict__.setdefault("_pending_loss_layers", [])
        if not any(layer is self for layer in pending):
            pending.append(self)

    @property
    def losses(self) -> list[torch.Tensor]:
        """Losses added during the last forward pass plus the weight regularization penalties."""
        out: list[torch.Tensor] = []
        for module in self.modules():
            if isinstance(module, Layer):
                out += module._losses
                for name, regularizer in module._weight_regularizers:
                    out.append(regularizer(getattr(module, name)))
        return out

    def _clear_losses(self) -> None:
        for module in self.modules():
            if isinstance(module, Layer) and module._losses:
                module._losses = []

    def _has_loss_terms(self) -> bool:
        return any(
            isinstance(m, Layer)
            and (m._weight_regularizers or m.activity_regularizer is not None or m.__dict__.get("_adds_losses"))
            for m in self.modules()
        )

    # ------------------------------------------------------------------ final activation
    def final_activation(self) -> str | None:
        """``"softmax"`` or ``"sigmoid"`` when this layer ends in one (used for the fused loss)."""
        return None

    def call_logits(self, inputs):
        """The output before the final activation named by ``final_activation()``."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"name={self.name!r}"

    def __repr__(self) -> str:  # keep torch's tree, but lead with the Keras name
        return super().__repr__()

    def _warn_legacy(self, old: str, new: str) -> None:
        warnings.warn(
            f"`{old}` is a Keras 2 argument; use `{new}` instead.", DeprecationWarning, stacklevel=3
        )
