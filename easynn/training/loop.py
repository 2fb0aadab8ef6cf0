"""The training loop: one step, one epoch.

Who owns what:
    * ``training/data.py`` makes device batches (this module never converts data);
    * ``Trainer.train_step`` owns zero_grad -> forward -> loss -> backward -> optimizer step;
    * ``Trainer.run_epoch`` owns train/eval mode, grad mode, batch hooks, and the sample-weighted
      running sums of loss and metrics, which stay on the device (no ``.item()`` per step);
    * callbacks (``easynn.callbacks``) decide when to stop by setting ``model.stop_training``;
    * ``Model.fit`` (``models/model.py``) only orchestrates these pieces.

The fused loss: when the model ends in softmax (or sigmoid) and the loss is categorical (or
binary) crossentropy on probabilities, the step computes the loss from the logits in the stable
form, whose gradient is the lecture's ``ŷ − y``; metrics still see probabilities.
"""

from __future__ import annotations

import contextlib

import torch

from easynn import activations
from easynn.callbacks.base import LazyLogs

__all__ = ["Trainer", "SingleProcess"]


class SingleProcess:
    """The default strategy: one process, nothing to synchronise.

    ``easynn.distribute`` supplies the multi-process one with the same methods.
    """

    rank = 0
    world_size = 1
    is_main = True

    def wrap(self, model):
        """The module the training step calls (DDP wraps it; here, the model itself)."""
        return model

    def reduce_sum(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """Element-wise sums over all processes (one process: unchanged)."""
        return tensors

    def barrier(self) -> None:
        """Wait for every process (one process: nothing to wait for)."""

    def agree(self, flag: bool) -> bool:
        """Rank 0's value of ``flag`` on every process (used for ``stop_training``)."""
        return flag

    def gather_predictions(self, outputs, num_samples: int):
        """Every process's predictions, in input order (one process: its own)."""
        return outputs

    def join(self, model):
        """A context for uneven inputs across processes (one process: nothing to do)."""
        return contextlib.nullcontext()


def _batch_size(x) -> int:
    while isinstance(x, (list, tuple)):
        x = x[0]
    if isinstance(x, dict):
        return _batch_size(next(iter(x.values())))
    return int(x.shape[0])


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class Trainer:
    """Runs steps and epochs for a compiled model.

    Args:
        model: the easynn model.
        optimizer: an easynn optimizer (``easynn.optimizers``), built on first use.
        losses: one loss object per output (``easynn.losses.get`` results).
        loss_weights: one weight per output.
        metrics: one list of metric objects per output.
        output_names: names used to prefix per-output logs when there are several outputs.
        device: the device batches and weights live on.
        jit_compile: run forward + loss through ``torch.compile``.
        precision: ``None``, ``torch.float16`` or ``torch.bfloat16`` for autocast.
        strategy: ``SingleProcess()`` or a distributed strategy.
    """

    def __init__(self, model, optimizer, losses, loss_weights, metrics, output_names, device,
                 jit_compile=False, precision=None, strategy=None):
        self.model = model
        self.optimizer = optimizer
        self.losses = losses
        self.loss_weights = loss_weights
        self.metrics = metrics
        self.output_names = output_names
        self.device = torch.device(device)
        self.precision = precision
        self.strategy = strategy or SingleProcess()
        self.runner = self.strategy.wrap(model)
        self.has_extra_losses = model._has_loss_terms()
        self.fused_loss, self.final_activation = self._fused_path()
        self.scaler = None
        if precision == torch.float16:
            self.scaler = torch.amp.GradScaler(self.device.type)
        self._forward_loss_fn = self._forward_loss
        if jit_compile:
            self._forward_loss_fn = torch.compile(self._forward_loss)
        self._loss_sum = torch.zeros((), device=self.device)
        self._count = 0
        self._last_terms = None
        self._term_sums = self._zero_term_sums()

    # ------------------------------------------------------------------ pieces of a step
    def _fused_path(self):
        if len(self.losses) != 1:
            return None, None
        kind = getattr(self.losses[0], "fused_kind", None)
        final = self.model.final_activation()
        if (kind in ("categorical", "sparse_categorical") and final == "softmax") or (kind == "binary" and final == "sigmoid"):
            return self.losses[0].with_logits(), activations.get(final)
        return None, None

    def _autocast(self):
        if self.precision is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.precision)

    def _forward_loss(self, x, y, sample_weight):
        """Forward pass and total loss; returns ``(loss, y_pred)``."""
        if self.fused_loss is not None:
            logits = self.runner(x, return_logits=True)
            loss = self.fused_loss(y, logits, sample_weight)
            y_pred = logits
        else:
            y_pred = self.runner(x)
            outputs = _as_list(y_pred)
            targets = _as_list(y)
            loss = None
            terms = []
            for fn, weight, target, output in zip(self.losses, self.loss_weights, targets, outputs):
                term = fn(target, output, sample_weight)
                term = term if weight == 1.0 else term * weight
                terms.append(term)
                loss = term if loss is None else loss + term
            # Several outputs: Keras also logs each output's (weighted) loss as "<output>_loss".
            self._last_terms = terms if len(terms) > 1 else None
        if self.has_extra_losses:
            extra = self.model.losses
            if extra:
                loss = loss + torch.stack([t.float() for t in extra]).sum()
        return loss, y_pred

    def _predictions_for_metrics(self, y_pred):
        if self.fused_loss is not None and any(self.metrics):
            with torch.no_grad():
                return self.final_activation(y_pred.detach())
        return y_pred

    def _update_metrics(self, y, y_pred, sample_weight) -> None:
        if not any(self.metrics):
            return
        y_pred = self._predictions_for_metrics(y_pred)
        for metric_list, target, output in zip(self.metrics, _as_list(y), _as_list(y_pred)):
            for metric in metric_list:
                # Model._ensure_trainer marks `metrics` (unweighted, as in Keras) and `weighted_metrics`.
                weight = sample_weight if getattr(metric, "_weighted", True) else None
                metric.update_state(target, output.detach(), weight)

    # ------------------------------------------------------------------ steps
    def train_step(self, x, y, sample_weight=None) -> torch.Tensor:
        """One optimisation step on a batch; returns the (detached) batch loss."""
        self.optimizer.zero_grad()
        with self._autocast():
            loss, y_pred = self._forward_loss_fn(x, y, sample_weight)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.optimizer.step(scaler=self.scaler)
        else:
            loss.backward()
            self.optimizer.step()
        if self.has_extra_losses:
            self.model._clear_losses()
        loss = loss.detach()
        self._accumulate(loss, x)
        self._update_metrics(y, y_pred, sample_weight)
        return loss

    def test_step(self, x, y, sample_weight=None) -> torch.Tensor:
        """Loss and metrics on a batch, without gradients."""
        with self._autocast():
            loss, y_pred = self._forward_loss_fn(x, y, sample_weight)
        if self.has_extra_losses:
            self.model._clear_losses()
        self._accumulate(loss, x)
        self._update_metrics(y, y_pred, sample_weight)
        return loss

    def predict_step(self, x):
        """The model's outputs for a batch (under autocast when mixed precision is on)."""
        with self._autocast():
            out = self.model(x)
        if self.has_extra_losses:  # activity regularizers add terms on every call; drop them
            self.model._clear_losses()
        return out

    def _accumulate(self, loss: torch.Tensor, x) -> None:
        n = _batch_size(x)
        self._loss_sum.add_(loss.float(), alpha=n)
        self._count += n
        if self._last_terms is not None and self._term_sums:
            for total, term in zip(self._term_sums, self._last_terms):
                total.add_(term.detach().float(), alpha=n)
            self._last_terms = None

    def _output_loss_names(self) -> list[str]:
        return [f"{name}_loss" for name in self.output_names] if len(self.losses) > 1 and self.fused_loss is None else []

    def _zero_term_sums(self) -> list[torch.Tensor]:
        return [torch.zeros((), device=self.device) for _ in self._output_loss_names()]

    # ------------------------------------------------------------------ state and logs
    def reset_state(self) -> None:
        self._loss_sum = torch.zeros((), device=self.device)
        self._count = 0
        self._term_sums = self._zero_term_sums()
        for metric_list in self.metrics:
            for metric in metric_list:
                metric.reset_state()

    def metric_names(self) -> list[str]:
        """Log names in Keras's order: ``loss``, per-output losses, then the metrics."""
        names = ["loss"] + self._output_loss_names()
        several = len(self.output_names) > 1
        for out_name, metric_list in zip(self.output_names, self.metrics):
            for metric in metric_list:
                names.append(f"{out_name}_{metric.name}" if several else metric.name)
        return names

    def _all_reduce_state(self) -> None:
        """Replace this process's running sums by the sums over all processes (epoch end)."""
        count = torch.tensor(float(self._count), device=self.device)
        states = [self._loss_sum, count, *self._term_sums] + [v for m in self._flat_metrics() for v in m.variables]
        reduced = self.strategy.reduce_sum([t.detach().float().clone() for t in states])
        for state, total in zip(states, reduced):
            state.copy_(total.to(state.dtype))
        self._count = int(round(float(count)))

    def _flat_metrics(self) -> list:
        return [metric for metric_list in self.metrics for metric in metric_list]

    def results(self, reduce: bool = False) -> dict[str, float]:
        """The running loss and metrics as floats (summed over all processes with ``reduce``).

        Every value is a per-sample mean: sums of ``value × samples`` divided by the sample count,
        never a mean of batch means.
        """
        if reduce and self.strategy.world_size > 1:
            self._all_reduce_state()
        count = max(self._count, 1)
        values = {"loss": float(self._loss_sum / count)}
        for name, total in zip(self._output_loss_names(), self._term_sums):
            values[name] = float(total / count)
        metric_names = self.metric_names()[1 + len(self._term_sums):]
        for name, metric in zip(metric_names, self._flat_metrics()):
            values[name] = float(metric.result())
        return values

    # ------------------------------------------------------------------ epochs
    def run_epoch(self, batches, epoch: int, callbacks, training: bool) -> dict[str, float]:
        """One pass over ``batches``; returns the epoch's logs (reduced across processes)."""
        self.model.train(training)
        self.reset_state()
        step = self.train_step if training else self.test_step
        begin_hook = "on_train_batch_begin" if training else "on_test_batch_begin"
        end_hook = "on_train_batch_end" if training else "on_test_batch_end"
        call_begin = callbacks is not None and callbacks.needs(begin_hook)
        call_end = callbacks is not None and callbacks.needs(end_hook)
        grad = torch.enable_grad() if training else torch.no_grad()
        join = self.strategy.join(self.runner) if training else contextlib.nullcontext()
        with grad, join:
            for index, (x, y, sample_weight) in enumerate(batches.epoch(epoch)):
                if call_begin:
                    getattr(callbacks, begin_hook)(index, None)
                step(x, y, sample_weight)
                if call_end:
                    getattr(callbacks, end_hook)(index, LazyLogs(self.results))
                    # As in Keras, a batch hook may stop training mid-epoch (e.g. TerminateOnNaN).
                    if training and self.model.stop_training and self.strategy.world_size == 1:
                        break
        if self._count == 0 and self.strategy.world_size == 1:
            raise ValueError("The data produced no batches: check that it is not empty.")
        return self.results(reduce=True)

    def predict(self, batches, callbacks=None):
        """Outputs for every batch, concatenated, as CPU tensors (a list for several outputs)."""
        self.model.eval()
        chunks: list = []
        call_begin = callbacks is not None and callbacks.needs("on_predict_batch_begin")
        call_end = callbacks is not None and callbacks.needs("on_predict_batch_end")
        with torch.no_grad():
            for index, (x, _, _) in enumerate(batches.epoch(0)):
                if call_begin:
                    callbacks.on_predict_batch_begin(index, None)
                out = self.predict_step(x)
                chunks.append(out)
                if call_end:
                    callbacks.on_predict_batch_end(index, {"outputs": out})
        if not chunks:
            raise ValueError("predict() received no data.")
        if isinstance(chunks[0], (list, tuple)):
            return [torch.cat([c[i] for c in chunks]).float().cpu() if chunks[0][i].is_floating_point()
                    else torch.cat([c[i] for c in chunks]).cpu() for i in range(len(chunks[0]))]
        out = torch.cat(chunks)
        return (out.float() if out.is_floating_point() else out).cpu()

