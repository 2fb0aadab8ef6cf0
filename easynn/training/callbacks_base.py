"""The callback interface: Keras's hooks into fit, evaluate and predict.

It lives with the training loop that calls it (``easynn.callbacks`` holds the callbacks built on
it and re-exports these names, so ``easynn.callbacks.Callback`` is this class).

A callback sees ``self.model`` and ``self.params`` (``epochs``, ``steps``, ``verbose``) and
receives a ``logs`` dict at each hook. It stops training by setting
``self.model.stop_training = True`` (checked after each epoch).

Batch-level ``logs`` are *lazy*: reading a value (``logs["loss"]``) synchronises with the device,
so callbacks that never read batch logs cost no host sync per step, and batch hooks nobody
overrides are not called at all.

Example:
    >>> class StopAtTwo(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         if epoch == 1:
    ...             self.model.stop_training = True
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Callable, Iterable

__all__ = ["Callback", "CallbackList", "History", "LazyLogs"]

_BATCH_HOOKS = (
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)


class LazyLogs(Mapping):
    """A read-only mapping whose values are computed (synchronised) only when read."""

    def __init__(self, compute: Callable[[], dict]):
        self._compute = compute
        self._values: dict | None = None

    def _resolve(self) -> dict:
        if self._values is None:
            self._values = self._compute()
        return self._values

    def __getitem__(self, key):
        return self._resolve()[key]

    def __iter__(self):
        return iter(self._resolve())

    def __len__(self) -> int:
        return len(self._resolve())

    def __repr__(self) -> str:
        return repr(self._resolve())


class Callback:
    """Base class of callbacks; override the hooks you need. Every hook takes ``logs=None``;
    ``CallbackList`` always passes a mapping (``{}`` where there is nothing to report)."""

    def __init__(self) -> None:
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    # As in Keras 3, the train batch hooks call Keras 2's on_batch_begin/on_batch_end, so a
    # callback written for Keras 2 (overriding only those) is called.
    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras 2 names of the train batch hooks (called by the two above).
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...

    def _implements(self, hook: str) -> bool:
        method = getattr(type(self), hook, None)
        if method is not getattr(Callback, hook):
            return True
        if hook == "on_train_batch_begin" and type(self).on_batch_begin is not Callback.on_batch_begin:
            return True
        return hook == "on_train_batch_end" and type(self).on_batch_end is not Callback.on_batch_end


class History(Callback):
    """Records each epoch's logs: ``history.history["loss"]`` is the per-epoch list.

    Always attached by ``fit``, which returns it (and stores it as ``model.history``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def plot(self, path=None, metrics=None):
        """Draw loss and metric curves (train vs validation); see ``easynn.plot.history``."""
        # easynn.plot is optional (matplotlib) and sits above this module in the package layering,
        # so it is loaded on demand by name rather than imported here.
        plot_history = importlib.import_module("easynn.plot").history

        return plot_history(self, path=path, metrics=metrics)


class CallbackList:
    """Dispatches each hook to every callback, in order; skips batch hooks nobody overrides."""

    def __init__(self, callbacks: Iterable[Callback] | None = None, model=None, **params: Any):
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"`callbacks` must be a list of easynn.callbacks.Callback instances. Received: {callback!r}"
                )
        self.params = params
        self.model = model
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)
        self._active = {hook: [c for c in self.callbacks if c._implements(hook)] for hook in _BATCH_HOOKS}

    def needs(self, hook: str) -> bool:
        """Whether any callback overrides the batch ``hook``."""
        return bool(self._active.get(hook, True))

    def _call(self, hook: str, *args) -> None:
        # As Keras: every hook receives a logs mapping, never None (an empty dict at the begin hooks).
        if args[-1] is None:
            args = (*args[:-1], {})
        for callback in self._active.get(hook, self.callbacks):
            getattr(callback, hook)(*args)

    def on_train_begin(self, logs=None): self._call("on_train_begin", logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs)
    def on_test_begin(self, logs=None): self._call("on_test_begin", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None): self._call("on_train_batch_begin", batch, logs)
    def on_train_batch_end(self, batch, logs=None): self._call("on_train_batch_end", batch, logs)
    def on_test_batch_begin(self, batch, logs=None): self._call("on_test_batch_begin", batch, logs)
    def on_test_batch_end(self, batch, logs=None): self._call("on_test_batch_end", batch, logs)
    def on_predict_batch_begin(self, batch, logs=None): self._call("on_predict_batch_begin", batch, logs)
    def on_predict_batch_end(self, batch, logs=None): self._call("on_predict_batch_end", batch, logs)
    on_batch_begin = on_train_batch_begin  # Keras 2 names
    on_batch_end = on_train_batch_end
