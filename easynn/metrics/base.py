"""The metric base: ``Metric`` (Keras 3's API), its state variables, ``Sum``, ``Mean`` and
``MeanMetricWrapper``.

A metric keeps its state in variables made by ``add_variable``: device tensors that
``update_state`` changes in place (no host sync) and ``result()`` reads as a 0-dim (or small)
tensor. The state lives on the device of the first update (or of ``metric.to(device)``).
Because the built-in states are weighted sums over samples, an epoch value is the mean over all
samples, so a short last batch does not skew it. ``variables`` lists every state tensor
(including those of metrics held as attributes); distributed training sums them across
processes in place before calling ``result()``.

Example:
    >>> import torch
    >>> class CountPositives(Metric):
    ...     def __init__(self, name="count_positives", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.count = self.add_variable(shape=(), initializer="zeros", name="count")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.count.assign_add((y_pred > 0).float().sum())
    ...     def result(self):
    ...         return self.count.value
    >>> m = CountPositives()
    >>> float(m(None, torch.tensor([1.0, -2.0, 3.0])))
    2.0
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch

from easynn._naming import to_snake_case

__all__ = ["Metric", "MetricVariable", "Mean", "Sum", "MeanMetricWrapper"]


def _tensor(x: Any, device=None) -> torch.Tensor:
    if isinstance(x, MetricVariable):
        x = x.value
    if isinstance(x, torch.Tensor):
        return x if device is None or x.device == torch.device(device) else x.to(device)
    return torch.as_tensor(x, device=device)


def _torch_dtype(dtype: Any, what: str = "dtype") -> torch.dtype:
    if dtype is None:
        return torch.get_default_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and isinstance(getattr(torch, dtype, None), torch.dtype):
        return getattr(torch, dtype)
    raise ValueError(f"`{what}` must be a dtype name such as 'float32'. Received: {what}={dtype!r}")


def _on_device(dtype: torch.dtype, device: torch.device) -> torch.dtype:
    # MPS has no float64: accumulators fall back to float32 there.
    return torch.float32 if device.type == "mps" and dtype == torch.float64 else dtype


def _unwrap(x):
    if isinstance(x, MetricVariable):
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    return x


class MetricVariable:
    """A metric's state tensor with Keras's ``Variable`` methods.

    ``assign``, ``assign_add`` and ``assign_sub`` change the tensor in place (references stay
    valid, no host sync); ``value`` is the tensor; ``numpy()`` copies it to the host. Torch
    functions and arithmetic accept the variable directly, and tensor attributes (``shape``,
    ``dtype``, ``device``, ``detach()``, ``copy_()`` ...) are forwarded to the tensor.

    Example:
        >>> v = MetricVariable(torch.zeros(2), name="total")
        >>> _ = v.assign_add(torch.tensor([1.0, 2.0]))
        >>> (v * 2).tolist(), v.numpy().tolist()
        ([2.0, 4.0], [1.0, 2.0])
    """

    def __init__(self, value: torch.Tensor, name: str = "variable", aggregation: str = "sum", owner=None):
        self._value = value
        self.name = name
        self.aggregation = aggregation
        self._owner = owner

    @property
    def value(self) -> torch.Tensor:
        """The state tensor itself."""
        return self._value

    def _coerce(self, value) -> Any:
        value = _unwrap(value)
        if isinstance(value, torch.Tensor):
            if value.device != self._value.device:
                # Follow the data to its device (all the owner's variables move together).
                if self._owner is not None:
                    self._owner.to(value.device)
                else:
                    self._value = self._value.to(value.device)
            return value.detach()
        return value

    def assign(self, value) -> "MetricVariable":
        """Set the value in place (broadcast to the variable's shape)."""
        value = self._coerce(value)
        if isinstance(value, torch.Tensor):
            self._value.copy_(value)
        else:
            self._value.fill_(value)
        return self

    def assign_add(self, value) -> "MetricVariable":
        """``variable += value`` in place."""
        self._value.add_(self._coerce(value))
        return self

    def assign_sub(self, value) -> "MetricVariable":
        """``variable -= value`` in place."""
        self._value.sub_(self._coerce(value))
        return self

    def numpy(self):
        """A host (numpy) copy of the value: synchronises with the device."""
        return self._value.detach().cpu().numpy()

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("_value", "_owner"):
            raise AttributeError(name)
        return getattr(self._value, name)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return func(*_unwrap(tuple(args)), **{k: _unwrap(v) for k, v in (kwargs or {}).items()})

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __getitem__(self, index):
        return self._value[_unwrap(index)]

    def __format__(self, spec: str) -> str:
        return format(self._value.item() if self._value.dim() == 0 else self._value, spec)

    def __repr__(self) -> str:
        return f"<MetricVariable name={self.name!r} shape={tuple(self._value.shape)} dtype={self._value.dtype}>"

    __hash__ = object.__hash__


def _binary_op(name: str):
    def op(self, *args):
        return getattr(self._value, name)(*[_unwrap(a) for a in args])

    op.__name__ = name
    return op


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__floordiv__", "__pow__", "__rpow__", "__neg__", "__abs__", "__lt__", "__le__", "__gt__", "__ge__",
              "__matmul__", "__rmatmul__"):
    setattr(MetricVariable, _name, _binary_op(_name))


_INITIALIZERS = {"zeros": 0.0, "ones": 1.0}


def _plain(value):
    if isinstance(value, MetricVariable):
        return value.value.clone()  # a copy: the logs must not change with the next update
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _tensor_result(fn):
    if getattr(fn, "_easynn_tensor_result", False):
        return fn

    @functools.wraps(fn)
    def result(self):
        return _plain(fn(self))

    result._easynn_tensor_result = True
    return result


class Metric:
    """Base class of stateful metrics (Keras 3's ``keras.metrics.Metric``).

    Subclasses create their state in ``__init__`` with ``add_variable``, change it in
    ``update_state`` with tensor ops only (``variable.assign_add(...)``) and compute the value in
    ``result()``. ``reset_state()`` zeroes every variable; ``__call__`` updates the state and
    returns the running result.

    Args:
        dtype: the dtype of ``result()`` and of variables made without one (default float32).
        name: the name the metric is logged under (defaults to the snake_case class name).

    Attributes:
        direction: ``"up"`` when larger values are better, ``"down"`` when smaller are, ``None``
            when unknown; the callbacks' ``mode="auto"`` reads it.

    Raises:
        RuntimeError: ``add_variable`` on a subclass whose ``__init__`` did not call
            ``super().__init__()``.
    """

    direction: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A result() that returns a state variable (as the keras-io guides write it) gives a tensor.
        if "result" in cls.__dict__:
            cls.result = _tensor_result(cls.__dict__["result"])

    def __init__(self, dtype=None, name: str | None = None):
        self.name = name or to_snake_case(type(self).__name__)
        self._dtype = _torch_dtype(dtype)
        self._variables: list[MetricVariable] = []
        self._device = torch.device("cpu")
        self._built_device = False

    # state ------------------------------------------------------------
    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation: str = "sum",
                     name: str | None = None) -> MetricVariable:
        """Create a state variable on the metric's device and track it in ``variables``.

        Args:
            shape: the variable's shape (``()`` for a scalar).
            initializer: ``"zeros"``, ``"ones"``, a number, or an ``easynn.initializers`` name
                or callable ``fn(shape, dtype=..., device=...)``.
            dtype: defaults to the metric's dtype.
            aggregation: how distributed training combines the copies; ``"sum"`` (the only
                one easynn reduces) or ``"mean"``/``"none"``, accepted for Keras compatibility.
            name: the variable's name.
        """
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.add_variable() was called before Metric.__init__(). Call "
                "super().__init__(name=name, **kwargs) at the start of your metric's __init__."
            )
        if aggregation not in ("sum", "mean", "none", "only_first_replica"):
            raise ValueError(f"`aggregation` must be 'sum', 'mean' or 'none'. Received: aggregation={aggregation!r}")
        shape = tuple(int(s) for s in (shape if isinstance(shape, (list, tuple, torch.Size)) else (shape,)))
        torch_dtype = _on_device(_torch_dtype(dtype) if dtype is not None else self._dtype, self._device)
        if isinstance(initializer, str) and initializer in _INITIALIZERS or isinstance(initializer, (int, float)):
            fill = _INITIALIZERS.get(initializer, initializer)
            value = torch.full(shape, fill, dtype=torch_dtype, device=self._device)
        else:
            from easynn import initializers

            value = initializers.get(initializer)(shape, dtype=torch_dtype, device=self._device)
        variable = MetricVariable(value, name or f"variable_{len(self._variables)}", aggregation, owner=self)
        self._variables.append(variable)
        return variable

    def add_weight(self, name: str | None = None, shape=(), dtype=None, initializer="zeros",
                   aggregation: str = "sum") -> MetricVariable:
        """Keras 2's spelling of ``add_variable`` (``name`` first)."""
        return self.add_variable(shape, initializer, dtype, aggregation, name)

    def _sub_metrics(self) -> list["Metric"]:
        subs = []
        for key, value in self.__dict__.items():
            if isinstance(value, Metric):
                subs.append(value)
            elif isinstance(value, (list, tuple)) and key != "_variables":
                subs.extend(v for v in value if isinstance(v, Metric))
        return subs

    @property
    def variables(self) -> list[MetricVariable]:
        """Every state variable (this metric's, then those of metrics held as attributes)."""
        own = list(self.__dict__.get("_variables", ()))
        for sub in self._sub_metrics():
            own.extend(sub.variables)
        return own

    def reset_state(self) -> None:
        """Zero every state variable in place (references held by others stay valid)."""
        for variable in self.variables:
            variable.value.zero_()

    def to(self, device) -> "Metric":
        """Move the state to ``device`` (the variables keep their identity)."""
        device = torch.device(device)
        for variable in self.__dict__.get("_variables", ()):
            variable._value = variable._value.to(device=device, dtype=_on_device(variable._value.dtype, device))
        for sub in self._sub_metrics():
            sub.to(device)
        self._device, self._built_device = device, True
        return self

    def _ensure_device(self, ref: torch.Tensor) -> None:
        if not self._built_device or ref.device != self._device:
            self.to(ref.device)

    @property
    def dtype(self) -> str:
        """The dtype of ``result()``, as a name (``"float32"``)."""
        return str(self._dtype).removeprefix("torch.")

    # API --------------------------------------------------------------
    def update_state(self, *args, **kwargs) -> None:
        """Accumulate statistics from a batch (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self) -> torch.Tensor:
        """The metric's value from the accumulated state (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def __call__(self, *args, **kwargs) -> torch.Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _weights_like(values: torch.Tensor, sample_weight) -> torch.Tensor | None:
    """``sample_weight`` broadcast to ``values`` (a trailing axis of 1 squeezed, axes added)."""
    if sample_weight is None:
        return None
    w = _tensor(sample_weight, values.device).to(values.dtype)
    if w.dim() > values.dim() and w.shape[-1] == 1:
        w = w.squeeze(-1)
    while w.dim() < values.dim():
        w = w.unsqueeze(-1)
    return w.expand_as(values)


class Sum(Metric):
    """Weighted sum of values: ``Σ w_i v_i``.

    Example:
        >>> m = Sum()
        >>> float(m(torch.tensor([1.0, 3.0, 5.0])))
        9.0
    """

    direction = None

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.total = self.add_variable((), "zeros", dtype=torch.float64, name="total")

    def update_state(self, values, sample_weight=None) -> None:
        values = _tensor(values)
        self._ensure_device(values)
        values = values.detach()
        values = values if values.is_floating_point() else values.to(self.total.dtype)
        w = _weights_like(values, sample_weight)
        self.total.value.add_((values if w is None else values * w).sum())

    def result(self) -> torch.Tensor:
        return self.total.value.to(self._dtype)


class Mean(Metric):
    """Weighted mean of values: ``Σ w_i v_i / Σ w_i`` (0 before any update).

    Example:
        >>> m = Mean()
        >>> m.update_state(torch.tensor([1.0, 3.0]))
        >>> m.update_state(torch.tensor([5.0]), sample_weight=torch.tensor([2.0]))
        >>> float(m.result())
        3.5
    """

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.total = self.add_variable((), "zeros", dtype=torch.float64, name="total")
        self.count = self.add_variable((), "zeros", dtype=torch.float64, name="count")

    def update_state(self, values, sample_weight=None) -> None:
        values = _tensor(values)
        self._ensure_device(values)
        values = values.detach()
        if not values.is_floating_point():
            values = values.to(self.total.dtype)
        w = _weights_like(values, sample_weight)
        if w is None:
            self.total.value.add_(values.sum())
            self.count.value.add_(values.numel())
        else:
            self.total.value.add_((values * w).sum())
            self.count.value.add_(w.sum())

    def result(self) -> torch.Tensor:
        return (self.total.value / self.count.value.clamp_min(1e-12)).to(self._dtype)


class MeanMetricWrapper(Mean):
    """Sample-weighted mean of a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    Args:
        fn: returns one value per sample (or per element).
        name: the logged name (defaults to ``fn.__name__``).
        dtype: the result's dtype.
        **kwargs: passed to ``fn``.

    Example:
        >>> m = MeanMetricWrapper(lambda t, p: (t - p).abs(), name="abs_err")
        >>> float(m(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0])))
        1.5
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", "metric"), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        with torch.no_grad():
            values = self._fn(_unwrap(y_true), _unwrap(y_pred), **self._fn_kwargs)
        super().update_state(_tensor(values).detach(), sample_weight)

    @property
    def fn(self) -> Callable:
        """The wrapped per-sample function."""
        return self._fn

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}
