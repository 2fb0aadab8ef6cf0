"""The weights half of ``Layer``: ``add_weight``, attribute tracking, Keras-ordered weight lists,
``get_weights``/``set_weights`` with Keras layouts, freezing with ``trainable``.

Weights are registered on the ``torch.nn.Module`` (trainable ones as ``nn.Parameter``, others as
buffers), so torch optimizers, ``state_dict``, DDP and ``torch.compile`` see them as usual.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import torch

from easynn.layers._layer_utils import (
    _module_weight_lists,
    _module_weights,
    _resolve_dtype,
    _track_modules,
    _unique,
)

__all__ = ["WeightsMixin"]


class WeightsMixin:
    """Weight creation and access with Keras's contract (mixed into ``Layer``)."""

    # ------------------------------------------------------------------ weights
    def add_weight(
        self,
        shape: Iterable[int] = (),
        initializer: Any = "glorot_uniform",
        trainable: bool = True,
        regularizer: Any = None,
        name: str | None = None,
        dtype: Any = None,
        constraint: Any = None,
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
            constraint: a projection (``"non_neg"``, ``easynn.constraints.MaxNorm(3)``, any
                callable) that optimizers apply after each update, on the Keras-layout view;
                stored as ``weight.constraint``.

        Returns:
            The new ``easynn.Variable``: an ``nn.Parameter`` (or, non-trainable, a buffer).
        """
        from easynn import constraints, initializers, regularizers

        if self.__dict__.get("built") and not self.__dict__.get("_build_depth") and not self.__dict__.get("_building"):
            # Keras 3 locks a layer's state once it is built: weights belong in __init__ or build().
            raise RuntimeError(
                f"Cannot add {'weight ' + repr(name) if name else 'a weight'} to layer '{self.name}': it is "
                "already built. Create every "
                "weight in __init__() or build() (build runs once, with the first input's shape)."
            )
        constraint = constraints.get(constraint)
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
        if constraint is not None:
            weight.constraint = constraint
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
            if isinstance(module, WeightsMixin) and module is not self:
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

    def _owner_of(self, weight: torch.Tensor) -> "WeightsMixin":
        for module in self.modules():
            if isinstance(module, WeightsMixin):
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

    # ------------------------------------------------------------------ Keras's saving hooks
    def save_own_variables(self, store) -> None:
        """Write this layer's own weights (not its sublayers') into ``store`` as ``"0"``, ``"1"``...

        Keras's hook, called by ``model.save``; values are in Keras's layout (see ``keras_layout``).
        """
        for index, weight in enumerate(self._stored_variables()):
            store[str(index)] = self.keras_layout(weight.detach()).cpu().numpy().copy()

    def _stored_variables(self) -> list:
        """What ``save_own_variables`` stores, in order: this layer's own weights (a built-in
        layer may list only the variables it creates itself, as Keras's ``Dense`` does)."""
        trainable, non_trainable = self._own_weights()
        return trainable + non_trainable

    def load_own_variables(self, store) -> None:
        """Read what ``save_own_variables`` wrote, checking the count and every shape first.

        Raises:
            ValueError: if ``store`` holds another number of variables or a different shape
                (nothing is changed then).
        """
        weights = self._stored_variables()
        if len(list(store.keys())) != len(weights):
            raise ValueError(
                f"Layer '{self.name}' expected {len(weights)} variables, but received {len(list(store.keys()))} "
                f"(keys: {sorted(store.keys())})."
            )
        values = [torch.as_tensor(np.asarray(store[str(i)])) for i in range(len(weights))]
        for index, (weight, value) in enumerate(zip(weights, values)):
            expected = tuple(self.keras_layout(weight.detach()).shape)
            if tuple(value.shape) != expected:
                raise ValueError(
                    f"Variable {index} of layer '{self.name}' has shape {expected}, but the store holds "
                    f"{tuple(value.shape)}."
                )
        with torch.no_grad():
            for weight, value in zip(weights, values):
                weight.copy_(self.torch_layout(weight, value.to(dtype=weight.dtype, device=weight.device)))

