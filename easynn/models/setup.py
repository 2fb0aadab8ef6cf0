"""Turning ``compile``'s arguments and the first batch into a ``Trainer``, once per compile.

``Model.compile`` only records and validates its arguments. The first ``fit``/``evaluate``/
``train_on_batch`` after it runs the model once on two samples (the *probe*: it builds the
model and tells the output shapes), then ``build_trainer`` resolves the per-output losses and
metrics for those shapes. Later calls reuse the trainer and run no probe: targets are checked
against the output shapes the probe recorded.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import torch

from easynn import losses as losses_module
from easynn import metrics as metrics_module
from easynn.training import data as data_module
from easynn.training.loop import Trainer, _as_list
from easynn.training.modes import preserved_modes

__all__ = ["probe", "first_samples", "build_trainer", "check_targets", "check_label_range",
           "class_weights_to_sample_weights", "per_output"]


def _shape_for_message(shape: tuple) -> tuple:
    """A shape as the user thinks of it: the batch axis is ``None`` (the probe's 2 is not theirs)."""
    return (None,) + tuple(shape[1:]) if len(shape) else tuple(shape)


def probe(model, x, device) -> Any:
    """Run the model on the first two samples of ``x`` (building it on first use) in inference
    mode without gradients; returns the outputs."""
    x_probe = data_module.tree_map(lambda t: t[:2].to(device), x)
    with preserved_modes(model), torch.no_grad():
        model.eval()
        return model(x_probe)


def first_samples(batches):
    """The first two samples of ``(x, y)`` of a batch source (no forward pass)."""
    head = lambda t: t[:2]  # noqa: E731
    if isinstance(batches, data_module.ArrayBatches):
        return data_module.tree_map(head, batches.x), data_module.tree_map(head, batches.y)
    if hasattr(batches, "first_batch"):  # generators, PyDataset: peeked, not used up
        x, y, _ = batches.first_batch()
        return data_module.tree_map(head, x), data_module.tree_map(head, y)
    for x, y, _ in batches.epoch(0):
        return data_module.tree_map(head, x), data_module.tree_map(head, y)
    raise ValueError("The dataset is empty: it produced no batches.")


def output_names(model, count: int) -> list[str]:
    names = getattr(model, "output_names", None)
    if names and len(names) == count:
        return list(names)
    return [f"output_{i}" for i in range(count)] if count > 1 else ["output"]


def per_output(spec, names: list[str], what: str) -> list:
    """``spec`` (one value, a list with one entry per output, or a dict by output name) as a list."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"`{what}` names unknown outputs {sorted(unknown)}. The outputs are {names}.")
        return [spec.get(name) for name in names]
    nested = what != "metrics" and what != "weighted_metrics" or any(isinstance(s, (list, tuple)) for s in spec or [])
    if isinstance(spec, (list, tuple)) and nested and (len(names) > 1 or what in ("loss", "loss_weights")):
        if len(spec) != len(names):
            raise ValueError(
                f"The model has {len(names)} output(s) but `{what}` has {len(spec)} entries. "
                f"Give one entry per output (outputs: {names})."
            )
        return list(spec)
    return [spec] * len(names)


def _loss_weight(name: str, value) -> float:
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`loss_weights` entries must be numbers. Received for output '{name}': {value!r}")
    return float(value)


def build_trainer(model, y_sample, y_pred, strategy) -> Trainer:
    """The trainer for ``model``'s compile arguments, given sample targets and probe outputs."""
    known_outputs = y_pred is not None
    if not known_outputs:  # a custom train_step: no probe; the targets stand in for the outputs' shapes
        y_pred = y_sample
    count = len(y_pred) if isinstance(y_pred, (list, tuple, dict)) else 1
    names = output_names(model, count)
    outputs = _as_list(y_pred, names)
    targets = _as_list(y_sample, names)
    config = model._compile_config
    loss_specs = per_output(config["loss"], names, "loss") if config["loss"] is not None else [None] * len(names)
    losses = [losses_module.get(spec) if spec is not None else None for spec in loss_specs]
    slots = None
    if known_outputs and y_sample is not None and len(targets) != len(outputs):
        # As Keras: with ``loss=[fn, None]`` the targets may cover only the outputs with a loss.
        slots = [i for i, fn in enumerate(losses) if fn is not None]
        if isinstance(y_sample, Mapping) or len(targets) != len(slots):
            with_loss = [names[i] for i in slots]
            raise ValueError(
                f"The model has {len(outputs)} outputs ({names}) but y provides {len(targets)} target "
                f"array(s). Give one target per output, or one per output with a loss ({with_loss}), "
                "in the outputs' order, or a dict keyed by output name."
            )
        targets = [None] * len(outputs)
        for slot, target in zip(slots, _as_list(y_sample, None)):
            targets[slot] = target
    if y_sample is None:
        targets = [None] * len(outputs)
    params = list(model.parameters())
    if params:  # a custom train_step's model may build on its first step; the optimizer then builds itself
        model.optimizer.build(params)
    if y_sample is not None:
        for name, fn, target in zip(names, losses, targets):
            if fn is not None and target is None:
                raise ValueError(
                    f"Output '{name}' has a loss but y gives no target for it. Pass a target for every "
                    f"output with a loss, or compile with loss=None for '{name}'."
                )
    weights = (per_output(config["loss_weights"], names, "loss_weights") if config["loss_weights"] is not None
               else [1.0] * len(names))
    weights = [_loss_weight(name, w) for name, w in zip(names, weights)]
    metric_lists = []
    for spec, w_spec, target, output in zip(per_output(config["metrics"], names, "metrics"),
                                            per_output(config["weighted_metrics"], names, "weighted_metrics"),
                                            targets, outputs):
        shape_o = tuple(output.shape) if output is not None else (2, 1)
        shape_t = tuple(target.shape) if target is not None else shape_o
        metric_list = []
        # As in Keras: `metrics` ignore sample/class weights, `weighted_metrics` use them.
        for weighted, group in ((False, spec), (True, w_spec)):
            specs = [] if group is None else (list(group) if isinstance(group, (list, tuple)) else [group])
            for s in specs:
                metric = metrics_module.get(s, shape_t, shape_o)
                if weighted and any(m.name == metric.name for m in metric_list):
                    metric.name = f"weighted_{metric.name}"
                metric._weighted = weighted
                if hasattr(metric, "to"):
                    metric.to(model.device)
                metric_list.append(metric)
        metric_lists.append(metric_list)
    trainer = Trainer(model, model.optimizer, losses, weights, metric_lists, names, model.device,
                      jit_compile=config["jit_compile"], precision=model._precision, strategy=strategy,
                      auto_scale_loss=config["auto_scale_loss"], steps_per_execution=config["steps_per_execution"],
                      output_shapes=[tuple(o.shape) for o in outputs] if known_outputs else None)
    trainer.target_slots = slots
    if known_outputs:
        _warn_if_not_probabilities(model, losses, outputs)
    return trainer


def _warn_if_not_probabilities(model, losses, outputs) -> None:
    """Warn once when a probability-space crossentropy meets outputs outside [0, 1] (a linear
    last layer): the clipped loss would be meaningless and its gradient mostly zero."""
    for loss, output in zip(losses, outputs):
        kind = getattr(loss, "fused_kind", None)
        if kind is None or not output.is_floating_point() or output.numel() == 0:
            continue
        if getattr(output, "_keras_logits", None) is not None:
            continue
        low, high = float(output.min()), float(output.max())
        if low < 0.0 or high > 1.0:
            last = _last_layer_name(model)
            warnings.warn(
                f"The loss '{loss.name}' expects probabilities, but the model's output (from layer "
                f"'{last}') has values in [{low:.3g}, {high:.3g}]. End the model with a softmax (or "
                "sigmoid) activation, or use the loss with from_logits=True.",
                UserWarning, stacklevel=4,
            )
            return


def _last_layer_name(model) -> str:
    layers = list(getattr(model, "layers", []) or [])
    return getattr(layers[-1], "name", "?") if layers else getattr(model, "name", "?")


def check_targets(trainer: Trainer, y_sample) -> None:
    """Each loss checks the targets' shape against the outputs' (label format errors).

    Shapes are reported with the batch axis as ``None``: the probe's two samples are not the
    user's data.
    """
    if y_sample is None or trainer.output_shapes is None:
        return
    targets = _as_list(trainer.expand_targets(y_sample), trainer.output_names)
    for loss, target, shape in zip(trainer.losses, targets, trainer.output_shapes):
        if loss is not None and hasattr(loss, "check") and target is not None:
            loss.check(_shape_for_message(tuple(target.shape)), _shape_for_message(shape))


def check_label_range(trainer: Trainer, batches) -> None:
    """Integer labels of a sparse crossentropy must lie in ``[0, classes)`` (one pass per call)."""
    if not isinstance(batches, data_module.ArrayBatches) or batches.y is None or trainer.output_shapes is None:
        return
    targets = _as_list(trainer.expand_targets(batches.y), trainer.output_names)
    for loss, target, shape in zip(trainer.losses, targets, trainer.output_shapes):
        if target is None or getattr(loss, "fused_kind", None) != "sparse_categorical" or len(shape) < 2:
            continue
        ignore = getattr(loss, "options", {}).get("ignore_class")
        labels = target if ignore is None else target[target != ignore]
        if labels.numel() == 0:
            continue
        low, high = float(labels.min()), float(labels.max())
        classes = int(shape[-1])
        if low < 0 or high >= classes:
            raise ValueError(
                f"`y` holds class labels from {low:g} to {high:g}, but the model outputs {classes} classes, "
                f"so labels must lie in [0, {classes - 1}]. Check the labels or the last layer's units."
            )


def class_weights_to_sample_weights(y, class_weight: dict) -> torch.Tensor:
    """Per-sample weights ``class_weight[label]`` (labels from one-hot rows or integer labels)."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict {{class: weight}}. Received: {class_weight!r}")
    y = data_module.to_tensor(y, "y")
    if y.dim() > 1 and y.shape[-1] > 1:
        labels = y.argmax(dim=-1)
    else:
        labels = y.reshape(y.shape[0], -1)[:, 0]
        labels = (labels > 0.5).long() if labels.is_floating_point() and labels.max() <= 1 else labels.long()
    table = torch.ones(int(max(int(labels.max()) + 1, max(class_weight) + 1)))
    for cls, weight in class_weight.items():
        table[int(cls)] = float(weight)
    return table[labels]
