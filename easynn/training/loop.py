"""The training loop: one step, one epoch.

Who owns what:
    * ``training/data.py`` makes device batches (this module never converts data);
    * ``Trainer`` is built once per ``compile`` (at the first fit/evaluate after it) and owns the
      loss functions, the loss tracker and compiled metrics (``training/trackers.py``), the
      float16 GradScaler and the step functions, so their state survives across fit calls;
    * ``Trainer.train_step`` owns zero_grad -> forward -> loss -> backward -> optimizer step;
      when the model overrides Keras's ``train_step`` / ``test_step`` / ``predict_step``, the
      epoch calls the model's method instead and the dict it returns becomes the logs;
    * ``Trainer.run_epoch`` owns the train/eval mode of the epoch, grad mode, batch hooks and the
      sample-weighted running sums, which stay on the device (no ``.item()`` per step);
    * the caller (``Model.fit``) restores the modes it found (``training/modes.py``);
    * callbacks decide when to stop by setting ``model.stop_training``.

The fused softmax/sigmoid + crossentropy is not special-cased here: the model's output carries
its logits (``easynn.losses._logits``) and the crossentropy uses them, so the output layer runs
through its normal Layer call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import torch

from easynn import config as _config
from easynn.optimizers.loss_scale import LossScaleOptimizer
from easynn.training.logs import BatchLogs, to_float_logs
from easynn.training.strategy import SINGLE_PROCESS, SingleProcess
from easynn.training.trackers import CompileMetrics, LossTracker

__all__ = ["Trainer", "SingleProcess", "pack_data", "unpack_data"]


def _batch_size(x) -> int:
    if isinstance(x, list) and x and isinstance(x[0], str):  # a batch of strings (text layers)
        return len(x)
    while isinstance(x, (list, tuple)):
        x = x[0]
    if isinstance(x, dict):
        return _batch_size(next(iter(x.values())))
    return int(x.shape[0])


def _as_list(value, names: list[str] | None = None) -> list:
    """One entry per output: a dict is read by output name, a list/tuple as is, else ``[value]``."""
    if isinstance(value, Mapping):
        if names is None:
            return list(value.values())
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"Unknown output name(s) {unknown} in the targets. The model's outputs are {names}.")
        return [value.get(name) for name in names]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def pack_data(x, y=None, sample_weight=None):
    """What a Keras ``train_step(data)`` receives: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None:
        return x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_data(data):
    """Inverse of ``pack_data`` (Keras's ``unpack_x_y_sample_weight``): ``(x, y, sample_weight)``."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        "Data must be x, (x,), (x, y) or (x, y, sample_weight). "
        f"Received a tuple of length {len(data)}."
    )


class Trainer:
    """Runs steps and epochs for a compiled model.

    Args:
        model: the easynn model.
        optimizer: an easynn optimizer (``easynn.optimizers``), built on first use.
        losses: one loss object per output (``None`` for an output without a loss).
        loss_weights: one weight per output.
        metrics: one list of metric objects per output.
        output_names: names used to prefix per-output logs when there are several outputs.
        device: the device batches and weights live on.
        jit_compile: ``True`` runs forward + loss through ``torch.compile``; ``"cuda_graphs"`` with
            ``mode="reduce-overhead"`` (CUDA graphs).
        precision: ``None``, ``torch.float16`` or ``torch.bfloat16`` for autocast.
        strategy: ``SINGLE_PROCESS`` or a distributed strategy.
        auto_scale_loss: scale float16 losses with a GradScaler (Keras's ``auto_scale_loss``).
        steps_per_execution: batch hooks and progress run every this many steps (Keras).
        output_shapes: the shapes of the model's outputs on the probe batch (batch axis first).
    """

    def __init__(self, model, optimizer, losses, loss_weights, metrics, output_names, device,
                 jit_compile=False, precision=None, strategy=None, auto_scale_loss=True,
                 steps_per_execution=1, output_shapes=None):
        self.model = model
        self.optimizer = optimizer
        self.losses = losses
        self.loss_weights = loss_weights
        self.output_names = output_names
        self.device = torch.device(device)
        self.precision = precision
        self.strategy = strategy or SINGLE_PROCESS
        self.steps_per_execution = steps_per_execution
        self.output_shapes = output_shapes
        self.runner = self.strategy.wrap(model)
        self.loss_tracker = LossTracker(device=self.device)
        self.compile_metrics = CompileMetrics(metrics, output_names)
        self.metrics = metrics
        self.has_weight_penalties = any(getattr(m, "_weight_regularizers", None) for m in model.modules())
        # A model that is not built yet (a custom train_step builds it on its first step) may gain
        # regularized weights later: look again until it has weights.
        self._recheck_penalties = not any(True for _ in model.parameters())
        self.scaler = None
        # A LossScaleOptimizer scales the loss itself: never a second GradScaler on top (Keras).
        scales_dynamically = isinstance(optimizer, LossScaleOptimizer)
        if precision == torch.float16 and auto_scale_loss and not scales_dynamically:
            self.scaler = torch.amp.GradScaler(self.device.type)
        self._forward_loss_fn = self._forward_loss
        # Under torch.compile the Layer call does no loss bookkeeping (see Layer.__call__): the
        # added losses are cleared here before each step and always collected.
        self._compiled_with_losses = bool(jit_compile) and model._has_loss_terms()
        if jit_compile == "cuda_graphs":
            self._forward_loss_fn = torch.compile(self._forward_loss, mode="reduce-overhead")
        elif jit_compile:
            self._forward_loss_fn = torch.compile(self._forward_loss)
        self._last_terms = None
        self._term_sums = self._zero_term_sums()
        self._custom_logs: Mapping | None = None
        # Keras's optimizer loss_scale_factor: scale before backward; the step divides it out.
        # A LossScaleOptimizer's dynamic scale goes the same way (decided once, not per step).
        self._optimizer_scales_loss = scales_dynamically or getattr(optimizer, "loss_scale_factor", None) is not None
        # Targets given only for the outputs that have a loss (``loss=["mse", None]`` with
        # ``y=y0``): the positions they fill, set by ``models/setup.py``; ``None``: one per output.
        self.target_slots: list[int] | None = None

    def expand_targets(self, y):
        """``y`` with one entry per output: targets given only for the outputs with a loss are
        placed at those outputs, ``None`` elsewhere (Keras lets ``y`` skip loss-less outputs)."""
        if self.target_slots is None or y is None or isinstance(y, Mapping):
            return y
        given = list(y) if isinstance(y, (list, tuple)) else [y]
        if len(given) != len(self.target_slots):
            return y
        full = [None] * len(self.losses)
        for slot, target in zip(self.target_slots, given):
            full[slot] = target
        return full

    # ------------------------------------------------------------------ the loss
    def _autocast(self):
        if self.precision is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.precision)

    def compute_loss(self, y, y_pred, sample_weight=None) -> torch.Tensor:
        """The compiled losses (times ``loss_weights``) plus the model's added losses.

        Formula: ``Σ_k w_k · loss_k(y_k, ŷ_k) + Σ model.losses``.
        """
        if self.target_slots is not None:
            y = self.expand_targets(y)
        outputs, targets = _as_list(y_pred, self.output_names), _as_list(y, self.output_names)
        loss = None
        terms = []
        for fn, weight, target, output in zip(self.losses, self.loss_weights, targets, outputs):
            if fn is None or target is None:
                continue
            term = fn(target, output, sample_weight)
            term = term if weight == 1.0 else term * weight
            terms.append(term)
            loss = term if loss is None else loss + term
        # Several outputs: Keras also logs each output's (weighted) loss as "<output>_loss".
        self._last_terms = terms if len(self._term_sums) else None
        extra = self._added_losses()
        if extra is not None:
            loss = extra if loss is None else loss + extra
        if loss is None:
            raise ValueError(
                "No loss to optimize: compile() was given no loss and the model added none "
                "(add_loss). Pass loss=... to compile() or override compute_loss/train_step."
            )
        return loss

    def _added_losses(self) -> torch.Tensor | None:
        if self._recheck_penalties and any(True for _ in self.model.parameters()):
            self._recheck_penalties = False
            self.has_weight_penalties = any(getattr(m, "_weight_regularizers", None) for m in self.model.modules())
        # O(1) when nothing was added: the outermost Layer call lists the layers that added terms.
        if not (self.has_weight_penalties or self._compiled_with_losses
                or self.model.__dict__.get("_pending_loss_layers")):
            return None
        extra = self.model.losses
        if not extra:
            return None
        return torch.stack([t.float() for t in extra]).sum()

    def _forward_loss(self, x, y, sample_weight):
        """Forward pass and total loss; returns ``(loss, y_pred)``."""
        y_pred = self.runner(x)
        return self.compute_loss(y, y_pred, sample_weight), y_pred

    # ------------------------------------------------------------------ steps
    def train_step(self, x, y, sample_weight=None) -> torch.Tensor:
        """One optimisation step on a batch; returns the (detached) batch loss."""
        self.optimizer.zero_grad()
        if self._compiled_with_losses:
            self.model._clear_losses()
        # The lecture's activation Functions or torch's kernels for the same derivatives
        # (easynn.config.set_lecture_gradients; "auto": torch's, inside this step only).
        _config._enter_fit_step()
        try:
            with self._autocast():
                loss, y_pred = self._forward_loss_fn(x, y, sample_weight)
        finally:
            _config._exit_fit_step()
        scaled = self.optimizer.scale_loss(loss) if self._optimizer_scales_loss else loss
        if not scaled.requires_grad:
            pass  # no trainable weight reaches the loss (e.g. a model of add_loss layers only): as Keras, no update
        elif self.scaler is not None:
            self.scaler.scale(scaled).backward()
            self.optimizer.step(scaler=self.scaler)
        else:
            scaled.backward()
            self.optimizer.step()
        loss = loss.detach()
        self._accumulate(loss, x)
        if self.compile_metrics:
            self.compile_metrics.update_state(self.expand_targets(y), y_pred, sample_weight)
        return loss

    def test_step(self, x, y, sample_weight=None) -> torch.Tensor:
        """Loss and metrics on a batch, without gradients."""
        if self._compiled_with_losses:
            self.model._clear_losses()
        with self._autocast():
            loss, y_pred = self._forward_loss_fn(x, y, sample_weight)
        loss = loss.detach()
        self._accumulate(loss, x)
        if self.compile_metrics:
            self.compile_metrics.update_state(self.expand_targets(y), y_pred, sample_weight)
        return loss

    def predict_step(self, x):
        """The model's outputs for a batch (under autocast when mixed precision is on)."""
        with self._autocast():
            return self.model(x)

    def _accumulate(self, loss: torch.Tensor, x) -> None:
        n = _batch_size(x)
        self.loss_tracker.update_state(loss, sample_weight=n)
        if self._last_terms is not None:
            for total, term in zip(self._term_sums, self._last_terms):
                total.add_(term.detach().float(), alpha=n)
            self._last_terms = None

    def _output_loss_names(self) -> list[str]:
        active = [name for name, fn in zip(self.output_names, self.losses) if fn is not None]
        return [f"{name}_loss" for name in active] if len(self.losses) > 1 else []

    def _zero_term_sums(self) -> list[torch.Tensor]:
        return [torch.zeros((), device=self.device) for _ in self._output_loss_names()]

    # ------------------------------------------------------------------ custom (Keras) steps
    def _custom(self, method: str):
        """The model's own ``train_step``/``test_step``/``predict_step`` when it overrides Keras's."""
        overrides = getattr(self.model, "_overrides", None)
        return getattr(self.model, method) if overrides is not None and overrides(method) else None

    def _run_custom(self, step, x, y, sample_weight, what: str, batch: int):
        logs = step(pack_data(x, y, sample_weight))
        if logs is None:
            logs = {}
        if not isinstance(logs, Mapping):
            raise TypeError(
                f"{what}() must return a dict of metric names to values (Keras's contract). "
                f"Received at batch {batch}: {type(logs).__name__}."
            )
        self._custom_logs = logs

    # ------------------------------------------------------------------ state and logs
    def reset_state(self) -> None:
        """Reset the loss tracker, per-output loss sums and every metric (start of an epoch)."""
        self.loss_tracker.reset_state()
        self._term_sums = self._zero_term_sums()
        self.compile_metrics.reset_state()
        self._custom_logs = None
        for metric in getattr(self.model, "_attribute_metrics", lambda: [])():
            metric.reset_state()

    def metric_names(self) -> list[str]:
        """Log names in Keras's order: ``loss``, per-output losses, then the metrics."""
        return ["loss"] + self._output_loss_names() + self.compile_metrics.names()

    def result_tensors(self) -> dict:
        """The running results as device tensors (no host sync)."""
        if self._custom_logs is not None:
            return dict(self._custom_logs)
        values = {"loss": self.loss_tracker.result()}
        count = self.loss_tracker.count.clamp_min(1)
        for name, total in zip(self._output_loss_names(), self._term_sums):
            values[name] = total / count
        values.update(self.compile_metrics.result())
        return values

    def _all_reduce_state(self) -> None:
        """Replace this process's running sums by the sums over all processes (epoch end)."""
        states = [*self.loss_tracker.variables, *self._term_sums, *self.compile_metrics.variables]
        reduced = self.strategy.reduce_sum([t.detach().float().clone() for t in states])
        for state, total in zip(states, reduced):
            state.copy_(total.to(state.dtype))

    def results(self, reduce: bool = False) -> dict[str, float]:
        """The running loss and metrics as floats (summed over all processes with ``reduce``).

        Every value is a per-sample mean: sums of ``value × samples`` divided by the sample count,
        never a mean of batch means.
        """
        if reduce and self.strategy.world_size > 1 and self._custom_logs is None:
            self._all_reduce_state()
        return to_float_logs(self.result_tensors())

    # ------------------------------------------------------------------ epochs
    def run_epoch(self, batches, epoch: int, callbacks, training: bool, steps: int | None = None) -> dict[str, float]:
        """One pass over ``batches`` (at most ``steps`` batches); returns the epoch's logs."""
        self.model.train(training)
        self.reset_state()
        custom = self._custom("train_step" if training else "test_step")
        step = self.train_step if training else self.test_step
        what = "train_step" if training else "test_step"
        begin_hook = "on_train_batch_begin" if training else "on_test_batch_begin"
        end_hook = "on_train_batch_end" if training else "on_test_batch_end"
        call_begin = callbacks is not None and callbacks.needs(begin_hook)
        call_end = callbacks is not None and callbacks.needs(end_hook)
        every = self.steps_per_execution
        grad = torch.enable_grad() if training else torch.no_grad()
        join = self.strategy.join(self.runner) if training and custom is None else contextlib.nullcontext()
        ran = 0
        with grad, join:
            for index, (x, y, sample_weight) in enumerate(batches.epoch(epoch)):
                if steps is not None and index >= steps:
                    break
                if call_begin and index % every == 0:
                    getattr(callbacks, begin_hook)(index, {})
                if custom is not None:
                    self._run_custom(custom, x, y, sample_weight, what, index)
                else:
                    step(x, y, sample_weight)
                ran += 1
                if call_end and (index + 1) % every == 0:
                    getattr(callbacks, end_hook)(index, BatchLogs(self.result_tensors))
                # As in Keras, a hook or train_step may stop training mid-epoch (TerminateOnNaN).
                if training and self.model.stop_training and self.strategy.world_size == 1:
                    break
        if ran == 0 and self.strategy.world_size == 1:
            raise ValueError("The data produced no batches: check that it is not empty.")
        return self.results(reduce=True)

    def predict(self, batches, callbacks=None, steps: int | None = None):
        """Outputs for every batch, concatenated, as CPU tensors (a list for several outputs)."""
        self.model.eval()
        chunks: list = []
        custom = self._custom("predict_step")
        call_begin = callbacks is not None and callbacks.needs("on_predict_batch_begin")
        call_end = callbacks is not None and callbacks.needs("on_predict_batch_end")
        with torch.no_grad():
            for index, (x, _, _) in enumerate(batches.epoch(0)):
                if steps is not None and index >= steps:
                    break
                if call_begin:
                    callbacks.on_predict_batch_begin(index, {})
                out = custom(x) if custom is not None else self.predict_step(x)
                chunks.append(out)
                if call_end:
                    callbacks.on_predict_batch_end(index, {"outputs": out})
        if not chunks:
            raise ValueError("predict() received no data.")
        return _concatenate(chunks)


def _to_cpu(tensor: torch.Tensor) -> torch.Tensor:
    return (tensor.float() if tensor.is_floating_point() else tensor).cpu()


def _concatenate(chunks: list):
    first = chunks[0]
    if isinstance(first, (list, tuple)):
        return [_to_cpu(torch.cat([c[i] for c in chunks])) for i in range(len(first))]
    if isinstance(first, Mapping):
        return {key: _to_cpu(torch.cat([c[key] for c in chunks])) for key in first}
    return _to_cpu(torch.cat(chunks))
