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
import inspect
import warnings
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from easynn._naming import to_snake_case
from easynn._traceback import filter_traceback
from easynn.layers._layer_utils import (
    _UNSET,
    _capture_init_args,
    _dtype_of,
    _first_tensor,
    _is_symbolic,
    _mark_built,
    _resolve_dtype,
    _shape_of,
    warn_if_mask_dropped,
)
from easynn.layers._masking import _READS_MASKS, MaskingMixin
from easynn.layers._precision import PrecisionMixin
from easynn.layers._weights import WeightsMixin
from easynn.layers.input_spec import assert_input_compatibility
from easynn.layers.symbolic import POSITIONAL_INPUTS
from easynn.variables import rewrap_buffers

__all__ = ["Layer", "unique_name", "to_snake_case"]

_NAME_COUNTS: collections.Counter = collections.Counter()


class _CallContext:
    """Which layer's ``__call__`` is the outermost one running now (``None`` between calls).

    ``generation`` counts outermost calls: a loss added under an older generation is stale.
    """

    root: "Layer | None" = None
    generation: int = 0


_CALL_CONTEXT = _CallContext()

_GLOBAL_MODULE_HOOKS = tuple(
    getattr(torch.nn.modules.module, name, None)
    for name in ("_global_forward_pre_hooks", "_global_forward_hooks", "_global_backward_pre_hooks",
                 "_global_backward_hooks", "_global_forward_hooks_always_called")
)
_KNOWN_MODULE_LAYOUT = all(isinstance(hooks, dict) for hooks in _GLOBAL_MODULE_HOOKS)


def _unobserved(layer: nn.Module) -> bool:
    """True when ``nn.Module.__call__`` would go straight to ``forward``: no module hook (the
    layer's own or a global one), no ``module.compile()``, no tracer (``torch.jit.trace``,
    ``torch.compile``). Its own check costs a few microseconds per layer per step; this one
    is the same test without the two extra frames."""
    return (
        _KNOWN_MODULE_LAYOUT
        and not (layer._forward_hooks or layer._forward_pre_hooks or layer._backward_hooks
                 or layer._backward_pre_hooks)
        and layer.__dict__.get("_compiled_call_impl") is None
        and not any(_GLOBAL_MODULE_HOOKS)
        and not torch._C._get_tracing_state()
        and not torch.compiler.is_compiling()
    )


def unique_name(base: str) -> str:
    """Return ``base``, then ``base_1``, ``base_2``, ... on later calls (Keras's naming)."""
    count = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


class Layer(WeightsMixin, MaskingMixin, PrecisionMixin, nn.Module):
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

    # What the layer accepts: an ``InputSpec`` or a list of them, checked before every call.
    input_spec = None

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
        self.dtype = _resolve_dtype(self._set_dtype_policy(dtype))  # the weights' dtype
        self._resolve_precision_override()
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
            config["dtype"] = self._config_dtype()
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

    def get_build_config(self) -> dict | None:
        """Keras's hook: what ``build_from_config`` needs to rebuild the weights (the input shape)."""
        if not self.built or self._build_input_shape is None:
            return None
        return {"input_shape": self._build_input_shape}

    def build_from_config(self, config: dict | None) -> None:
        """Keras's hook: build from ``get_build_config()``'s output (before weights are loaded)."""
        if config and config.get("input_shape") is not None and not self.built:
            self.build_from_shape(tuple(config["input_shape"]) if not isinstance(config["input_shape"][0], (list, tuple))
                                  else [tuple(s) for s in config["input_shape"]])

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if _CALL_CONTEXT.root is not None and POSITIONAL_INPUTS not in kwargs:
            # A nested call (a layer inside a model being called): straight to the work. The
            # outermost call owns the losses and the traceback filtering.
            return self._call(*args, **kwargs)
        return self._outer_call(*args, **kwargs)

    @filter_traceback
    def _outer_call(self, *args, **kwargs):
        if kwargs and kwargs.get(POSITIONAL_INPUTS):
            # A functional-graph node of a layer called on several positional tensors, e.g.
            # ``LogisticEndpoint()(targets, logits)``: the graph stores them as one list.
            kwargs = {k: v for k, v in kwargs.items() if k != POSITIONAL_INPUTS}
            args = tuple(args[0]) + args[1:]
        if _CALL_CONTEXT.root is not None or torch.compiler.is_compiling():
            # A nested call: the outermost one owns the losses. Under torch.compile the trainer
            # clears them eagerly instead (mutating this module's globals would force recompiles).
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
        if self.input_spec is not None:  # Keras's input checks (see easynn/layers/input_spec.py)
            given = list(args) if len(args) > 1 else (inputs if args else kwargs.get("inputs"))
            assert_input_compatibility(self.input_spec, given, self.name)
        if isinstance(inputs, torch.Tensor) and self.built:  # the hot path: one check, no scans
            dtype = self._compute_dtype()
            if dtype is not None and inputs.dtype != dtype and inputs.is_floating_point():
                args = (self._autocast(inputs, dtype),) + args[1:]
            masking = self._masking  # the only cost masks add to a layer whose input has none
            if masking == _READS_MASKS or getattr(inputs, "_keras_mask", None) is not None:
                if masking:
                    return self._call_with_masks(args, kwargs)
                warn_if_mask_dropped(self, inputs)
            if _unobserved(self):  # what nn.Module.__call__ does when no hook can see the call
                return self.forward(*args, **kwargs)
            return super().__call__(*args, **kwargs)
        if args and not isinstance(inputs, torch.Tensor):
            if _is_symbolic(inputs):
                from easynn.layers.symbolic import call_symbolically

                return call_symbolically(self, args, kwargs)
            if isinstance(inputs, np.ndarray) and inputs.dtype.kind not in "USO":  # Keras layers take NumPy
                args = (torch.as_tensor(inputs),) + args[1:]  # arrays too (strings stay for text layers)
        if not self.built:
            self._build_on(args[0] if args else kwargs.get("inputs"))
        if args and isinstance(args[0], torch.Tensor) and args[0].is_floating_point():
            dtype = self._compute_dtype()
            if dtype is not None and args[0].dtype != dtype:
                args = (self._autocast(args[0], dtype),) + args[1:]
        if self._masking:
            return self._call_with_masks(args, kwargs)
        warn_if_mask_dropped(self, args[0] if args else None)
        return super().__call__(*args, **kwargs)

    def _compute_dtype(self) -> torch.dtype | None:
        """The dtype of this layer's own first floating weight (``None`` without weights), cached
        until weights are added or converted (``.to()``, ``.double()``)."""
        cached = self.__dict__.get("_compute_dtype_cache", _UNSET)
        if cached is _UNSET and self._mixed_compute is not None:
            cached = self.__dict__["_compute_dtype_cache"] = self._mixed_compute
        elif cached is _UNSET:
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
        result = super()._apply(fn, *args, **kwargs)
        rewrap_buffers(self)  # the converted buffers become Keras Variables again (name, path)
        return result

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
        compute = self._precision_override
        if compute is None:
            outputs = self.call(inputs, *args, **kwargs)
        else:  # a dtype policy of its own: see easynn/layers/_precision.py
            outputs = self._call_in_precision(compute, self.call, inputs, args, kwargs)
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

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss: torch.Tensor) -> None:
        """Add a loss term (e.g. activity regularization) computed during the forward pass."""
        if torch.compiler.is_compiling():  # see __call__: the trainer clears these before each step
            self._losses.append(loss)
            return
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

    # ------------------------------------------------------------------ graph connectivity
    def _first_node(self, what: str):
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:  # AttributeError: hasattr(layer, "output") must stay False (torch.jit, tooling)
            raise AttributeError(
                f"Layer '{self.name}' has no {what} yet: it has not been called on a symbolic tensor "
                "(easynn.Input or another layer's output) in a functional model."
            )
        return nodes[0]

    @property
    def input(self):
        """The symbolic input of this layer's first call in a functional model (Keras's ``layer.input``)."""
        if "_explicit_input" in self.__dict__:
            return self.__dict__["_explicit_input"]
        return self._first_node("input").inputs

    @input.setter
    def input(self, value) -> None:  # InputLayer and functional models set their own
        self.__dict__["_explicit_input"] = value

    @property
    def output(self):
        """The symbolic output of this layer's first call in a functional model (Keras's ``layer.output``)."""
        if "_explicit_output" in self.__dict__:
            return self.__dict__["_explicit_output"]
        outputs = self._first_node("output").outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

    @output.setter
    def output(self, value) -> None:
        self.__dict__["_explicit_output"] = value

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
