"""The metric base class: ``Metric`` (Keras 3's API) and how it owns its state variables.

``Sum``, ``Mean`` and ``MeanMetricWrapper`` live in ``easynn.metrics.reduction`` and
``MetricVariable`` in ``easynn.metrics.variable`` (also importable from here); all are exported by
``easynn.metrics``.

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
from typing import Any

import torch

from easynn._naming import to_snake_case
from easynn.metrics.variable import MetricVariable

__all__ = ["Metric", "MetricVariable"]


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
    def add_variable(
        self, shape=(), initializer="zeros", dtype=None, aggregation: str = "sum", name: str | None = None
    ) -> MetricVariable:
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

    def add_weight(
        self, name: str | None = None, shape=(), dtype=None, initializer="zeros", aggregation: str = "sum"
    ) -> MetricVariable:
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
