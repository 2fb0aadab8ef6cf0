"""``evaluate``, ``predict`` and the ``*_on_batch`` methods of ``Model`` (inference and one-batch steps).

Like ``fit``, each runs inside ``preserved_modes`` (the model's train/eval and grad modes are
restored on exit) and reuses the trainer built once per ``compile``.
"""

from __future__ import annotations

from easynn import _validation
from easynn._traceback import filter_traceback
from easynn.callbacks.base import CallbackList
from easynn.models import setup
from easynn.models._arguments import (
    as_callbacks,
    check_batch_axis,
    current_strategy,
    first_param_device,
    optional_steps,
    require_targets,
    verbose_level,
)
from easynn.training import data as data_module
from easynn.training.loop import Trainer
from easynn.training.modes import preserved_modes
from easynn.training.progress import ProgbarLogger
from easynn.training.strategy import SINGLE_PROCESS

__all__ = ["EvaluationMixin"]


class EvaluationMixin:
    """Keras's evaluate/predict/train_on_batch/test_on_batch/predict_on_batch (mixed into ``Model``)."""

    def _run_test(self, batches, trainer: Trainer, callback_list: CallbackList | None, steps=None) -> dict:
        if callback_list is not None:
            callback_list.on_test_begin({})
        logs = trainer.run_epoch(batches, 0, callback_list, training=False, steps=steps)
        if callback_list is not None:
            callback_list.on_test_end(logs)
        return logs

    # ------------------------------------------------------------------ evaluate / predict
    @filter_traceback
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Loss (and metrics) on the given data, in inference mode.

        Args:
            steps: evaluate at most this many batches.

        Returns:
            The loss as a float when no metrics were compiled; else ``[loss, *metrics]`` in
            ``metrics_names`` order; or a dict with ``return_dict=True``.
        """
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments: {sorted(kwargs)}")
        self._require_compiled("evaluate")
        require_targets(self, x, y, "evaluate")
        batch_size = 32 if batch_size is None else _validation.positive_int("batch_size", batch_size)
        verbose = verbose_level(verbose)
        steps = optional_steps("steps", steps)
        strategy = current_strategy()
        batches, trainer = self._prepare(x, y, sample_weight, batch_size, False, strategy, steps=steps)
        progress = [ProgbarLogger(verbose, mode="test")] if verbose and strategy.is_main else []
        callback_list = CallbackList(as_callbacks(callbacks) + progress, model=self, steps=batches.num_batches,
                                     verbose=verbose)
        with preserved_modes(self):
            logs = self._run_test(batches, trainer, callback_list, steps)
        if return_dict:
            return logs
        names = [name for name in trainer.metric_names() if name in logs] or list(logs)
        values = [logs[name] for name in names]
        return values[0] if len(values) == 1 else values

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metric names]`` once the model has run ``fit`` or ``evaluate``."""
        return self._trainer.metric_names() if self._trainer is not None else ["loss"]

    @filter_traceback
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for ``x`` as a NumPy array (a list of arrays for several outputs).

        Runs in inference mode (dropout off, batch norm on moving statistics) without gradients;
        the result is on the CPU whatever the device.

        Args:
            steps: predict at most this many batches.
        """
        batch_size = 32 if batch_size is None else _validation.positive_int("batch_size", batch_size)
        verbose = verbose_level(verbose)
        steps = optional_steps("steps", steps)
        check_batch_axis(self, x, "predict")
        device = self.device if self.compiled else first_param_device(self)
        strategy = current_strategy() if self.compiled else SINGLE_PROCESS
        batches = data_module.adapt(x, None, None, batch_size=batch_size, shuffle=False, device=device,
                                    rank=strategy.rank, world_size=strategy.world_size, steps=steps)
        # Distributed: each process predicts its strided shard, then all gather (input order).
        # Fewer samples than processes, a Dataset (not sharded) or steps: every process predicts it all.
        sharded = isinstance(batches, data_module.ArrayBatches) and batches.world_size > 1
        if sharded and (steps is not None or batches.num_samples < batches.world_size):
            batches = data_module.adapt(x, None, None, batch_size=batch_size, shuffle=False, device=device, steps=steps)
            sharded = False
        trainer = self._trainer or Trainer(self, None, [], [], [[]], ["output"], device,
                                           precision=getattr(self, "_precision", None), strategy=strategy)
        progress = [ProgbarLogger(verbose, mode="predict")] if verbose and strategy.is_main else []
        callback_list = CallbackList(as_callbacks(callbacks) + progress, model=self, steps=batches.num_batches,
                                     verbose=verbose)
        with preserved_modes(self):
            callback_list.on_predict_begin({})
            outputs = trainer.predict(batches, callback_list, steps=steps)
            if sharded:
                outputs = strategy.gather_predictions(outputs, batches.num_samples)
            callback_list.on_predict_end({})
        if isinstance(outputs, list):
            return [o.numpy() for o in outputs]
        if isinstance(outputs, dict):
            return {k: o.numpy() for k, o in outputs.items()}
        return outputs.numpy()

    # ------------------------------------------------------------------ *_on_batch
    @filter_traceback
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on one batch; returns its loss (and metrics) like ``evaluate``.

        As in Keras 3, the metrics are reset first, so the values are this batch's.
        """
        self._require_compiled("train_on_batch")
        require_targets(self, x, y, "train_on_batch")
        if class_weight is not None:
            sample_weight = setup.class_weights_to_sample_weights(y, class_weight)
        return self._on_batch(x, y, sample_weight, return_dict, training=True)

    @filter_traceback
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) of one batch, without a gradient step."""
        self._require_compiled("test_on_batch")
        require_targets(self, x, y, "test_on_batch")
        return self._on_batch(x, y, sample_weight, return_dict, training=False)

    @filter_traceback
    def predict_on_batch(self, x):
        """Outputs of one batch as NumPy."""
        n = data_module.num_samples(data_module._convert(x, "x"))
        return self.predict(x, batch_size=max(n, 1), verbose=0)

    def _on_batch(self, x, y, sample_weight, return_dict, training):
        batches, trainer = self._prepare(x, y, sample_weight, 2**31 - 1, False, SINGLE_PROCESS)
        with preserved_modes(self):
            logs = trainer.run_epoch(batches, 0, None, training=training)
        if return_dict:
            return logs
        names = [name for name in trainer.metric_names() if name in logs] or list(logs)
        values = [logs[name] for name in names]
        return values[0] if len(values) == 1 else values
