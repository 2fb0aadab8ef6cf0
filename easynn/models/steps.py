"""Keras 3's custom-training surface of ``Model``: the steps, ``compute_loss`` and ``metrics``.

A subclass may override ``train_step(data)`` / ``test_step(data)`` / ``predict_step(data)``, as
in keras-io's "customizing what happens in fit() with PyTorch": ``fit``/``evaluate``/``predict``
then call it once per batch with what the data yields (``x``, ``(x, y)`` or
``(x, y, sample_weight)``), and the dict it returns becomes the logs. When nothing is overridden
``fit`` runs the fused fast path of ``training/loop.py`` instead, which computes the same thing.

Example (the guide's pattern):
    >>> import torch, easynn
    >>> class CustomModel(easynn.Sequential):
    ...     def train_step(self, data):
    ...         x, y = data
    ...         self.zero_grad()
    ...         y_pred = self(x, training=True)
    ...         loss = self.compute_loss(y=y, y_pred=y_pred)
    ...         loss.backward()
    ...         weights = self.trainable_weights
    ...         with torch.no_grad():
    ...             self.optimizer.apply([w.grad for w in weights], weights)
    ...         return self.compute_metrics(x, y, y_pred, loss=loss)
    >>> model = CustomModel([easynn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> history = model.fit(torch.ones(8, 2), torch.zeros(8, 1), epochs=1, verbose=0)
    >>> sorted(history.history)
    ['loss', 'mae']
"""

from __future__ import annotations

from typing import Any

from easynn.training.logs import to_float_logs
from easynn.training.loop import unpack_data

__all__ = ["KerasStepsMixin"]

_STEP_METHODS = ("train_step", "test_step", "predict_step")


def _is_metric(value: Any) -> bool:
    return all(callable(getattr(value, name, None)) for name in ("update_state", "result", "reset_state"))


class KerasStepsMixin:
    """``train_step``/``test_step``/``predict_step``, ``compute_loss``, ``compute_metrics``,
    ``metrics`` and ``reset_metrics`` with Keras 3's signatures (mixed into ``Model``)."""

    _OVERRIDES_CACHE: dict = {}

    def _overrides(self, method: str) -> bool:
        """Whether this model's class overrides Keras's ``method`` (cached per class)."""
        key = (type(self), method)
        cached = KerasStepsMixin._OVERRIDES_CACHE.get(key)
        if cached is None:
            cached = getattr(type(self), method) is not getattr(KerasStepsMixin, method)
            KerasStepsMixin._OVERRIDES_CACHE[key] = cached
        return cached

    # ------------------------------------------------------------------ the steps
    def train_step(self, data) -> dict:
        """One training step on ``data`` (Keras's default: forward, compiled loss, backward,
        optimizer step, metrics); returns the metrics' current results."""
        x, y, sample_weight = unpack_data(data)
        trainer = self._step_trainer(y, None)
        trainer.train_step(x, y, sample_weight)
        return trainer.result_tensors()

    def test_step(self, data) -> dict:
        """Loss and metrics of ``data`` without a gradient step; returns the metrics' results."""
        x, y, sample_weight = unpack_data(data)
        trainer = self._step_trainer(y, None)
        trainer.test_step(x, y, sample_weight)
        return trainer.result_tensors()

    def predict_step(self, data):
        """The model's outputs for ``data`` (``x``, or a tuple whose first entry is ``x``)."""
        x, _, _ = unpack_data(data)
        return self(x, training=False)

    def _step_trainer(self, y, y_pred):
        trainer = getattr(self, "_trainer", None)
        if trainer is None:
            trainer = self._build_trainer_from(y, y_pred)
        return trainer

    # ------------------------------------------------------------------ loss and metrics
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        """The total loss: the compiled losses (times ``loss_weights``) plus ``self.losses``.

        Formula: ``Σ_k w_k · loss_k(y_k, ŷ_k) + Σ model.losses`` (regularization and add_loss terms).

        Args:
            x: the inputs (unused by the default; a subclass may use them).
            y: the targets.
            y_pred: the model's outputs for ``x``.
            sample_weight: per-sample weights of the compiled losses.
            training: whether the loss is computed for a training step.

        Returns:
            A scalar tensor.
        """
        trainer = self._step_trainer(y, y_pred)
        return trainer.compute_loss(y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None, loss=None) -> dict:
        """Update the compiled metrics (and the loss tracker with ``loss``); return all results."""
        trainer = self._step_trainer(y, y_pred)
        if loss is not None:
            batch = y_pred if not isinstance(y_pred, (list, tuple)) else y_pred[0]
            trainer.loss_tracker.update_state(loss, sample_weight=int(batch.shape[0]) if batch.dim() else 1)
        trainer.compile_metrics.update_state(trainer.expand_targets(y), y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """``{name: result}`` for every metric in ``self.metrics`` (containers flattened)."""
        results: dict = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                results.update(value)
            else:
                results[metric.name] = value
        return results

    def _attribute_metrics(self) -> list:
        """Metric objects held as attributes of the model (e.g. ``self.loss_tracker = Mean()``).

        A custom ``train_step`` reads ``self.metrics`` twice per batch: the scan is kept until an
        attribute of the model is set or deleted.
        """
        cached = self.__dict__.get("_attribute_metrics_cache")
        if cached is not None:
            return list(cached)
        found = []
        for value in list(vars(self).values()) + list(getattr(self, "_modules", {}).values()):
            if _is_metric(value) and not any(value is m for m in found):
                found.append(value)
        self.__dict__["_attribute_metrics_cache"] = tuple(found)
        return found

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__.pop("_attribute_metrics_cache", None)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__.pop("_attribute_metrics_cache", None)
        super().__delattr__(name)

    @property
    def metrics(self) -> list:
        """Keras's list: the loss tracker, the compiled metrics, then metrics held as attributes."""
        trainer = getattr(self, "_trainer", None)
        tracked = [trainer.loss_tracker, trainer.compile_metrics] if trainer is not None else []
        if trainer is not None and not trainer.compile_metrics:
            tracked = tracked[:1]
        return tracked + self._attribute_metrics()

    def reset_metrics(self) -> None:
        """Reset the state of every metric in ``self.metrics``."""
        for metric in self.metrics:
            metric.reset_state()

    def _logs_of(self, results) -> dict:
        return to_float_logs(results)
