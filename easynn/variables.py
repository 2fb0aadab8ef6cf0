"""Keras Variables that are real PyTorch tensors.

Every weight made by ``Layer.add_weight`` is a ``Variable``:

    * a trainable one is a ``torch.nn.Parameter`` (torch optimizers, ``state_dict``, DDP and
      ``torch.compile`` see an ordinary parameter);
    * a non-trainable one is a buffer with ``requires_grad=False`` (class ``NonTrainableVariable``,
      which ``isinstance(v, Variable)`` also accepts), moved and saved with its layer.

On top of the tensor, they speak Keras's Variable interface: ``assign``, ``assign_add``,
``assign_sub`` (in place, outside autograd), ``value`` (the variable itself, so ``v.value.grad``
works as in the keras-io torch guides), ``numpy()`` (also on a weight that requires grad),
``name`` (``"kernel"``), ``path`` (``"dense/kernel"``), ``trainable``.

Example:
    >>> import torch
    >>> v = Variable("ones", shape=(2,), name="scale")
    >>> v.assign_add([1.0, 2.0]).numpy()
    array([2., 3.], dtype=float32)
    >>> v.name, v.path, v.trainable, isinstance(v, torch.nn.Parameter)
    ('scale', 'scale', True, True)
"""

from __future__ import annotations

import copy
import weakref
from typing import Any

import numpy as np
import torch
from torch import nn

from easynn.scopes import current_name_scope

__all__ = ["Variable", "NonTrainableVariable", "is_variable", "make_variable", "rewrap_buffers"]

_AUTO_COUNTS: dict[str, int] = {}
# Bumped whenever a variable's ``constraint`` is set: optimizers keep the list of constrained
# weights and rebuild it only when this number moved (no per-step scan of every parameter).
constraints_version = 0


def _auto_name(base: str = "variable") -> str:
    count = _AUTO_COUNTS.get(base, 0)
    _AUTO_COUNTS[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def _as_dtype(dtype: Any) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str):
        found = getattr(torch, dtype.replace("torch.", ""), None)
        if isinstance(found, torch.dtype):
            return found
    if isinstance(dtype, np.dtype) or (isinstance(dtype, type) and issubclass(dtype, np.generic)):
        return torch.from_numpy(np.zeros((), dtype=dtype)).dtype
    raise ValueError(f"`dtype` must be a torch.dtype or a name such as 'float32'. Received: dtype={dtype!r}")


def _initial_value(initializer: Any, shape: Any, dtype: torch.dtype | None) -> torch.Tensor:
    """The first value of a variable: a tensor/array/number, or an initializer called on ``shape``."""
    if isinstance(initializer, (str, dict)) or (callable(initializer) and not isinstance(initializer, torch.Tensor)):
        if shape is None:
            raise ValueError(
                f"When `initializer` is an initializer ({initializer!r}), `shape` must be given. Received: shape=None"
            )
        from easynn import initializers

        shape = tuple(int(s) for s in shape)
        init = initializers.get(initializer)
        with torch.no_grad():
            value = init(shape, dtype=dtype or torch.get_default_dtype())
        return torch.as_tensor(value, dtype=dtype or torch.get_default_dtype())
    value = torch.as_tensor(np.asarray(initializer) if not isinstance(initializer, torch.Tensor) else initializer)
    if dtype is not None:
        value = value.to(dtype)
    elif value.is_floating_point():
        value = value.to(torch.get_default_dtype()) if value.dtype == torch.float64 and not isinstance(
            initializer, (torch.Tensor, np.ndarray)) else value
    if shape is not None and tuple(value.shape) != tuple(int(s) for s in shape):
        raise ValueError(
            f"The initial value has shape {tuple(value.shape)}, but `shape` is {tuple(shape)}. "
            "Pass a value of that shape, or an initializer name."
        )
    return value.detach().clone()


class _KerasVariable:
    """The Keras Variable interface, shared by the trainable and the non-trainable class."""

    # set per instance: _keras_name, _owner (weakref to the layer or None), _auto
    @property
    def name(self) -> str:
        """The variable's own name (``"kernel"``); for a layer weight, its attribute name."""
        owner = self._owner_layer()
        if owner is not None and self.__dict__.get("_auto"):
            for key, value in list(owner._parameters.items()) + list(owner._buffers.items()):
                if value is self:
                    return key
        return self.__dict__.get("_keras_name") or "variable"

    @property
    def path(self) -> str:
        """``"<layer name>/<name>"`` for a layer weight (``"dense/kernel"``), else the name."""
        owner = self._owner_layer()
        if owner is not None:
            return f"{owner.name}/{self.name}"
        scope = self.__dict__.get("_name_scope")
        return f"{scope}/{self.name}" if scope else self.name

    def _owner_layer(self):
        ref = self.__dict__.get("_owner")
        return ref() if ref is not None else None

    @property
    def value(self):
        """The variable itself (a tensor): ``v.value.grad`` is the gradient after ``backward()``."""
        return self

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates this variable (``requires_grad``)."""
        return bool(self.requires_grad)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if value and not self.is_floating_point() and not self.is_complex():
            raise ValueError(f"Variable '{self.name}' has dtype {self.dtype}; only float variables can be trainable.")
        self.requires_grad_(bool(value))

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """A NumPy copy of the value (works when ``requires_grad`` is True, and on a GPU)."""
        return self.detach().cpu().numpy().copy()

    def _value_for(self, value: Any, method: str) -> torch.Tensor:
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(np.asarray(value))
        value = value.detach()
        if tuple(value.shape) != tuple(self.shape) and (method == "assign" or value.dim() > self.dim()):
            raise ValueError(
                f"Variable.{method}() of '{self.path}' expects a value of shape {tuple(self.shape)}, "
                f"but received shape {tuple(value.shape)}."
            )
        return value.to(dtype=self.dtype, device=self.device)

    def assign(self, value: Any):
        """Set the value in place (outside autograd); returns the variable.

        Raises:
            ValueError: if ``value`` does not have the variable's shape.
        """
        value = self._value_for(value, "assign")
        with torch.no_grad():
            self.copy_(value)
        return self

    def assign_add(self, delta: Any):
        """``v += delta`` in place, outside autograd; returns the variable."""
        delta = self._value_for(delta, "assign_add")
        with torch.no_grad():
            self.add_(delta)
        return self

    def assign_sub(self, delta: Any):
        """``v -= delta`` in place, outside autograd; returns the variable."""
        delta = self._value_for(delta, "assign_sub")
        with torch.no_grad():
            self.sub_(delta)
        return self

    @property
    def ndim(self) -> int:
        return self.dim()

    @property
    def constraint(self):
        """The projection ``w -> w'`` optimizers apply after each update (``None``: none).

        Set by ``add_weight(constraint=...)``; it sees the weight in Keras's layout.
        """
        return self.__dict__.get("_constraint")

    @constraint.setter
    def constraint(self, value) -> None:
        global constraints_version
        if value is not None and not callable(value):
            raise TypeError(f"`constraint` must be callable or None. Received: constraint={value!r}")
        self.__dict__["_constraint"] = value
        constraints_version += 1  # optimizers re-list their constrained weights when this changes

    def _keras_state(self) -> dict:
        return {k: self.__dict__[k] for k in ("_keras_name", "_auto", "_constraint") if k in self.__dict__}

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        with torch.no_grad():
            data = self.detach().clone(memory_format=torch.preserve_format)
        result = type(self)._wrap(data, requires_grad=self.requires_grad)
        result.__dict__.update(self._keras_state())
        owner = self._owner_layer()
        if owner is not None:  # a layer being deep-copied is already in memo: point at the copy
            result.__dict__["_owner"] = weakref.ref(memo.get(id(owner), owner))
        memo[id(self)] = result
        if self.grad is not None:
            result.grad = copy.deepcopy(self.grad, memo)
        return result

    def __reduce_ex__(self, proto):
        return (_rebuild_variable, (type(self).__name__, self.detach(), self.requires_grad, self._keras_state()))

    def __repr__(self) -> str:
        body = torch.Tensor.__repr__(self.detach())
        return f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={str(self.dtype).replace('torch.', '')}, value={body}>"


def _rebuild_variable(kind: str, data: torch.Tensor, requires_grad: bool, state: dict):
    cls = NonTrainableVariable if kind == "NonTrainableVariable" else Variable
    result = cls._wrap(data, requires_grad=requires_grad)
    result.__dict__.update(state)
    return result


class _VariableMeta(type(nn.Parameter)):
    # ``isinstance(buffer_weight, Variable)`` is True too: both classes are Keras Variables.
    def __instancecheck__(cls, instance) -> bool:
        if cls is Variable and type(instance) is NonTrainableVariable:
            return True
        return super().__instancecheck__(instance)


class Variable(_KerasVariable, nn.Parameter, metaclass=_VariableMeta):
    """A Keras Variable: a ``torch.nn.Parameter`` with Keras's methods (non-trainable: a buffer).

    Args:
        initializer: an initializer name or object (``"zeros"``, ``"glorot_uniform"``...) called
            on ``shape``, or the initial value itself (tensor, array, number).
        shape: the shape (required with an initializer).
        dtype: the dtype; torch's default float type by default (the value's own for a value).
        trainable: ``True`` makes a ``Parameter`` the optimizer updates; ``False`` makes a
            ``NonTrainableVariable`` (``requires_grad=False``), kept as a buffer by layers.
        name: the variable's name (``"variable"``, ``"variable_1"``... by default).

    Returns:
        A ``Variable`` (or ``NonTrainableVariable`` when ``trainable=False``).

    Raises:
        ValueError: if ``shape`` is missing for an initializer or disagrees with a value.

    Example:
        >>> v = Variable(initializer="zeros", shape=(2, 3), trainable=False, name="count")
        >>> type(v).__name__, v.requires_grad, isinstance(v, Variable)
        ('NonTrainableVariable', False, True)
    """

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __new__(cls, initializer: Any = None, shape: Any = None, dtype: Any = None, trainable: bool = True,
                name: str | None = None, **kwargs: Any):
        if kwargs:
            unknown = sorted(set(kwargs) - {"autocast", "aggregation", "synchronization"})
            if unknown:
                raise TypeError(f"Variable() got unexpected keyword arguments {unknown}.")
        if initializer is None:
            raise ValueError("Variable() needs an `initializer` (a name such as 'zeros', or an initial value).")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string. Received: name={name!r}")
        value = _initial_value(initializer, shape, _as_dtype(dtype))
        variable = make_variable(value, trainable=trainable, name=name or _auto_name())
        variable.__dict__["_name_scope"] = current_name_scope()  # easynn.name_scope's prefix
        return variable

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # everything happens in __new__
        pass

    @classmethod
    def _wrap(cls, data: torch.Tensor, requires_grad: bool):
        return torch.Tensor._make_subclass(cls, data, requires_grad)

    def __reduce_ex__(self, proto):
        return _KerasVariable.__reduce_ex__(self, proto)

    def __deepcopy__(self, memo):
        return _KerasVariable.__deepcopy__(self, memo)

    def __repr__(self) -> str:
        return _KerasVariable.__repr__(self)

    def numpy(self, *, force: bool = False) -> np.ndarray:
        return _KerasVariable.numpy(self)


class NonTrainableVariable(_KerasVariable, torch.Tensor):
    """A non-trainable Keras Variable: a plain tensor subclass (``requires_grad=False``) that layers
    register as a buffer, so ``.to(device)`` moves it and the optimizer never sees it.
    ``isinstance(v, easynn.Variable)`` is True for it."""

    __torch_function__ = torch._C._disabled_torch_function_impl

    @classmethod
    def _wrap(cls, data: torch.Tensor, requires_grad: bool = False):
        return torch.Tensor._make_subclass(cls, data, False)

    @property
    def trainable(self) -> bool:
        return False

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if value:
            raise ValueError(
                f"Variable '{self.path}' was created with trainable=False and is a buffer of its layer; "
                "create it with trainable=True to train it."
            )

    def numpy(self, *, force: bool = False) -> np.ndarray:
        return _KerasVariable.numpy(self)


def make_variable(value: torch.Tensor, trainable: bool = True, name: str | None = None, owner: Any = None,
                  auto_named: bool = False):
    """Wrap ``value`` (a tensor, not copied) as a ``Variable`` or ``NonTrainableVariable``.

    Args:
        value: the tensor holding the data.
        trainable: a Parameter that requires grad (float dtypes) or a buffer-style variable.
        name: the Keras name.
        owner: the layer that owns it (gives ``path``); kept as a weak reference.
        auto_named: the name may change to the attribute the layer stores it under.
    """
    value = value.detach()
    if trainable:
        variable = Variable._wrap(value, requires_grad=value.is_floating_point() or value.is_complex())
    else:
        variable = NonTrainableVariable._wrap(value)
    variable.__dict__["_keras_name"] = name
    variable.__dict__["_auto"] = bool(auto_named)
    variable.__dict__["_owner"] = weakref.ref(owner) if owner is not None else None
    if owner is not None and not trainable and name is not None:  # remembered for rewrap_buffers()
        owner.__dict__.setdefault("_variable_buffers", {})[name] = {"_keras_name": name, "_auto": bool(auto_named)}
    return variable


def is_variable(value: Any) -> bool:
    """Whether ``value`` is an easynn Variable (trainable or not)."""
    return isinstance(value, (Variable, NonTrainableVariable))


def rewrap_buffers(module: nn.Module) -> None:
    """Restore the ``NonTrainableVariable`` class of buffers that a conversion replaced.

    ``module.to(device)`` / ``.double()`` replace each buffer by a new plain tensor (parameters
    keep their object). Calling this after such a conversion makes the new buffers Keras
    Variables again, with their names.

    Example:
        >>> from easynn.layers import BatchNormalization
        >>> bn = BatchNormalization(); _ = bn(torch.zeros(2, 3))
        >>> _ = bn.double(); rewrap_buffers(bn)
        >>> type(bn.moving_mean).__name__, bn.moving_mean.dtype
        ('NonTrainableVariable', torch.float64)
    """
    for sub in module.modules():
        names = sub.__dict__.get("_variable_buffers")
        if not names:
            continue
        for key, state in names.items():
            buffer = sub._buffers.get(key)
            if buffer is not None and type(buffer) is not NonTrainableVariable:
                wrapped = NonTrainableVariable._wrap(buffer)
                wrapped.__dict__.update(state)
                wrapped.__dict__["_owner"] = weakref.ref(sub)
                sub._buffers[key] = wrapped
