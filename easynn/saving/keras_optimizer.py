"""Keras 3's optimizer variables (in a ``.keras`` file) -> the state of easynn's optimizer.

Keras writes its optimizer into ``model.weights.h5`` as one group, ``optimizer/vars/0``,
``/1``, ... in the order of ``optimizer.variables``, without names:

    iteration                          the number of updates done (int)
    learning_rate                      only when the learning rate is a number, not a schedule
    <slots>                            per kind of slot, one per trainable variable, in the
                                       order of ``model.trainable_variables``

where ``model.trainable_variables`` lists each layer's trainable weights, the layers in the
order of the file's layer groups (``keras_file.config_plan``). The slot kinds, their order and
how they map to ``torch.optim``'s per-weight state (Keras's formula -> torch's):

    Adam, AdamW   momentum, velocity interleaved per variable, then velocity_hat (amsgrad)
                  momentum -> exp_avg, velocity -> exp_avg_sq, velocity_hat -> max_exp_avg_sq,
                  iterations -> step (the same moments: m += (g - m)(1 - beta_1), ...)
    SGD           momentum (only with momentum != 0)
                  Keras: m = momentum * m - lr * g; w += m.
                  torch: b = momentum * b + g;  w -= lr * b.   So b = -m / lr.
    RMSprop       velocity; then momentum (momentum > 0); then average_gradient (centered)
                  velocity -> square_avg, average_gradient -> grad_avg, iterations -> step;
                  Keras: m = momentum * m + lr * g / sqrt(..); w -= m.
                  torch: b = momentum * b + g / (..);  w -= lr * b.   So b = m / lr.

``lr`` there is the learning rate of the next update, so the next update is Keras's exactly;
with a schedule whose rate changes, later SGD/RMSprop-momentum updates differ from Keras's as
they would have after the same schedule in easynn (torch keeps lr out of its buffer). Each slot
takes its weight's layout conversion (a ``Dense`` kernel is ``(in, out)`` in Keras and
``(out, in)`` in torch), through the layer's own ``torch_layout``.

Not mapped (the model loads with a fresh optimizer state and a warning naming what was left):
Keras's other optimizers, ``use_ema`` (the moving averages), ``gradient_accumulation_steps``
(the accumulators), a file whose variables do not fit the model.

Example:
    >>> slot_blocks("RMSprop", {"momentum": 0.9, "centered": True})
    [('velocity',), ('momentum',), ('average_gradient',)]
    >>> slot_blocks("Adam", {"amsgrad": False})
    [('momentum', 'velocity')]
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np
import torch

from easynn.optimizers._kernels import laid_out_like

__all__ = ["MAPPED_OPTIMIZERS", "slot_blocks", "read_variables", "restore"]

MAPPED_OPTIMIZERS = ("Adam", "AdamW", "SGD", "RMSprop")


def slot_blocks(class_name: str, config: dict) -> list[tuple[str, ...]] | None:
    """Keras's slot variables of an optimizer, as blocks in file order (None when not mapped).

    A block ``(a, b)`` holds, for each trainable variable in turn, its slot ``a`` then ``b``
    (Keras creates slots named together interleaved, and later calls after them).
    """
    if class_name in ("Adam", "AdamW"):
        return [("momentum", "velocity")] + ([("velocity_hat",)] if config.get("amsgrad") else [])
    if class_name == "SGD":
        return [("momentum",)] if config.get("momentum", 0.0) != 0 else []
    if class_name == "RMSprop":
        blocks = [("velocity",)]
        if config.get("momentum", 0.0) > 0:
            blocks.append(("momentum",))
        if config.get("centered"):
            blocks.append(("average_gradient",))
        return blocks
    return None


def read_variables(root: Any, source: str) -> list[np.ndarray]:
    """The arrays of the file's ``optimizer/vars`` group, in order (empty without one).

    Raises:
        ValueError: for non-numeric data or variables not numbered ``0..n-1``.
    """
    group = root.get("optimizer/vars")
    if group is None or not hasattr(group, "keys"):
        return []
    keys = sorted(group.keys(), key=lambda key: int(key) if key.isdigit() else -1)
    if keys != [str(index) for index in range(len(keys))]:
        raise ValueError(f"{source} is corrupted: the optimizer variables are not numbered 0..{len(keys) - 1}.")
    arrays = []
    for key in keys:
        dataset = group[key]
        if not hasattr(dataset, "dtype") or dataset.dtype.kind not in "biuf":
            raise ValueError(f"{source} is corrupted: optimizer variable {key} is not a numeric array.")
        arrays.append(np.asarray(dataset[()]))
    return arrays


def _caller_stacklevel() -> int:
    """The stacklevel of the first frame outside easynn (``load_model`` has several entry points)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("easynn."):
        frame, level = frame.f_back, level + 1
    return level


class _NotMapped(Exception):
    """Why the file's optimizer variables cannot become this optimizer's state."""


def _trainable(plan: list[tuple[Any, str]]) -> list[tuple[Any, torch.Tensor]]:
    """``[(layer, weight)]`` in the order of Keras's ``model.trainable_variables``."""
    seen: set[int] = set()
    out = []
    for layer, _ in plan:
        for weight in layer.trainable_weights:
            if id(weight) not in seen:
                seen.add(id(weight))
                out.append((layer, weight))
    return out


def _torch_layout(layer: Any, weight: torch.Tensor, array: np.ndarray) -> torch.Tensor:
    """A slot in Keras's layout -> a tensor in the stored ``weight``'s layout (its own copy).

    The copy has the weight's strides, as torch's own slots (``zeros_like``): a conv kernel may
    be stored channels-last, and torch's fused kernels pair a weight with its slots element by
    element in memory, so a slot with other strides would update the wrong entries.
    """
    owner = layer._owner_of(weight)
    value = torch.as_tensor(np.ascontiguousarray(array)).to(dtype=weight.dtype, device=weight.device)
    return laid_out_like(weight.detach(), owner.torch_layout(weight, value))


def _keras_shape(layer: Any, weight: torch.Tensor) -> tuple[int, ...]:
    return tuple(layer._owner_of(weight).keras_layout(weight.detach()).shape)


def _torch_state(class_name: str, slots: dict[str, torch.Tensor], step: torch.Tensor, lr: float, hyper: dict) -> dict:
    """One weight's ``torch.optim`` state from its Keras slots (see the module docstring)."""
    if class_name in ("Adam", "AdamW"):
        state = {"step": step.clone(), "exp_avg": slots["momentum"], "exp_avg_sq": slots["velocity"]}
        if "velocity_hat" in slots:
            state["max_exp_avg_sq"] = slots["velocity_hat"]
        return state
    if class_name == "SGD":
        return {"momentum_buffer": slots["momentum"].div_(-lr)} if "momentum" in slots else {}
    state = {"step": step.clone(), "square_avg": slots["velocity"]}  # RMSprop
    if hyper.get("momentum", 0.0) > 0:
        state["momentum_buffer"] = slots["momentum"].div_(lr)
    if hyper.get("centered"):
        state["grad_avg"] = slots["average_gradient"]
    return state


def _keras_optimizer(entry: Any) -> tuple[str, dict]:
    if isinstance(entry, dict):
        return str(entry.get("class_name", "")), dict(entry.get("config") or {})
    return str(entry), {}


def _check(optimizer: Any, class_name: str, hyper: dict, blocks: list | None) -> list[tuple[str, ...]]:
    if blocks is None:
        raise _NotMapped(
            f"easynn does not map the variables of Keras's {class_name} (it maps those of "
            f"{', '.join(MAPPED_OPTIMIZERS)})"
        )
    extras = [name for name in ("use_ema", "gradient_accumulation_steps") if hyper.get(name)]
    if extras:
        raise _NotMapped(
            f"the Keras {class_name} optimizer uses {' and '.join(extras)}, whose variables easynn does not map"
        )
    if type(optimizer).__name__ != class_name:
        raise _NotMapped(
            f"the file holds the variables of Keras's {class_name}, but the model's optimizer is "
            f"{type(optimizer).__name__}"
        )
    return blocks


def _slots(
    arrays: list[np.ndarray], position: int, blocks: list, weights: list, params: list
) -> list[dict[str, torch.Tensor]]:
    """Each trainable weight's slots ``{name: tensor in the weight's layout}``, checked."""
    mapped, present = {id(weight) for _, weight in weights}, {id(param) for param in params}
    if not mapped <= present or any(param.requires_grad and id(param) not in mapped for param in params):
        raise _NotMapped("the model's trainable weights are not those of the file's layers")
    per_weight: list[dict[str, torch.Tensor]] = [{} for _ in weights]
    for block in blocks:
        for slots, (layer, weight) in zip(per_weight, weights):
            for name in block:
                array, shape = arrays[position], _keras_shape(layer, weight)
                if tuple(array.shape) != shape:
                    raise _NotMapped(
                        f"optimizer variable {position} ({name} of a weight of layer '{layer.name}') has shape "
                        f"{tuple(array.shape)}, but the weight's is {shape}"
                    )
                slots[name] = _torch_layout(layer, weight, array)
                position += 1
    return per_weight


def restore(
    model: Any, arrays: list[np.ndarray], keras_optimizer: Any, plan: list[tuple[Any, str]], source: str
) -> bool:
    """Give ``model.optimizer`` the state that Keras's optimizer variables ``arrays`` describe.

    Args:
        model: the compiled easynn model, its weights already loaded.
        arrays: ``read_variables`` of the file.
        keras_optimizer: the ``compile_config["optimizer"]`` entry of Keras's config.json.
        plan: ``[(easynn layer, h5 group)]`` in the file's layer order (``keras_file.config_plan``).
        source: how warnings name the file.

    Returns:
        Whether a state was restored. ``False`` with a warning (the optimizer left fresh) when
        the variables cannot be mapped; ``False`` silently when the model has no optimizer or
        Keras's had never run (the file then holds only its counters, which a fresh state equals).

    Example:
        >>> restore(None, [], {"class_name": "Adam", "config": {}}, [], "'m.keras'")
        False
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not arrays:
        return False
    class_name, hyper = _keras_optimizer(keras_optimizer)
    has_lr = not isinstance(hyper.get("learning_rate"), dict)  # a schedule is not a variable
    counters = 2 if has_lr else 1
    iterations = int(arrays[0].reshape(-1)[0]) if arrays[0].size == 1 else None
    if len(arrays) <= counters and iterations == 0:
        return False
    weights, params = _trainable(plan), list(model.parameters())
    try:
        blocks = _check(optimizer, class_name, hyper, slot_blocks(class_name, hyper))
        expected = counters + sum(len(block) for block in blocks) * len(weights)
        if iterations is None or len(arrays) != expected:
            raise _NotMapped(
                f"it holds {len(arrays)} optimizer variables, but {class_name} over the model's "
                f"{len(weights)} trainable weights has {expected}"
            )
        per_weight = _slots(arrays, counters, blocks, weights, params)
        before = optimizer.iterations
        optimizer.iterations = iterations  # a schedule's rate for the next update needs it
        lr = float(arrays[1]) if has_lr else float(optimizer.learning_rate)
        if not lr > 0 and class_name in ("SGD", "RMSprop") and hyper.get("momentum", 0.0) > 0:
            optimizer.iterations = before
            raise _NotMapped(
                f"its learning rate is {lr}, so {class_name}'s momentum (which Keras scales by the "
                "learning rate and torch does not) cannot be converted"
            )
    except _NotMapped as reason:
        warnings.warn(
            f"The optimizer state in {source} was not restored: {reason}. Training continues with a fresh "
            "optimizer state (moments and step count start again from zero).",
            UserWarning,
            stacklevel=_caller_stacklevel(),
        )
        return False
    step = torch.tensor(float(iterations), dtype=torch.float32)
    optimizer.build(params)
    index = {id(param): i for i, param in enumerate(params)}
    states = {
        index[id(weight)]: _torch_state(class_name, slots, step, lr, hyper)
        for slots, (_, weight) in zip(per_weight, weights)
    }
    torch_state = {
        "state": {key: state for key, state in states.items() if state},
        "param_groups": optimizer.torch_optimizer.state_dict()["param_groups"],
    }
    optimizer.load_state_dict({"iterations": iterations, "learning_rate": lr if has_lr else None, "torch": torch_state})
    return True
