"""Which of torch's implementations runs an update, and how little Python wraps it.

torch ships three implementations of its main optimizers: a Python loop over the weights
(``for p in params: p.add_(...)``, its CPU default), a multi-tensor one (``foreach``, its CUDA
default) and **fused** kernels that update every weight of a device and dtype in one call. They
compute the same formulas; the fused kernels are the fastest (Adam on a 235k-weight MLP on CPU:
about 0.3 ms a step instead of 1.5 ms). easynn asks for them wherever torch has them
(``fused_or_default``).

torch also wraps every ``step()`` and ``zero_grad()`` in a profiler range and the step-hook
machinery, a fixed cost of tens of microseconds -- a few percent of a small model's whole training
step. While no step hook is registered, the profiler is off and no learning-rate scheduler has
patched the instance, nothing can observe that layer, and ``step(opt)`` calls the method beneath
it (``drop_grads`` likewise sets the gradients to ``None`` as ``zero_grad()`` does). Otherwise,
or on a torch whose layout differs, the public methods run.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.ones(3))
    >>> opt = fused_or_default(torch.optim.SGD, [w], lr=0.5)
    >>> opt.defaults["fused"]  # torch has a fused SGD for CPU float32 weights
    True
    >>> w.grad = torch.ones(3)
    >>> step(opt)
    >>> w.tolist()
    [0.5, 0.5, 0.5]
"""

from __future__ import annotations

import inspect

import torch
from torch.optim import optimizer as _torch_optimizer_module

__all__ = ["fused_or_default", "step", "drop_grads", "laid_out_like"]


def _takes_fused(cls: type) -> bool:
    try:
        return "fused" in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def fused_or_default(cls: type, params: list, **kwargs) -> torch.optim.Optimizer:
    """``cls(params, fused=True, **kwargs)`` where torch has a fused kernel for these weights
    (their device and dtype), else ``cls(params, **kwargs)``.

    torch checks support when the optimizer is created and raises for weights its kernels do not
    take (another device, integer or complex dtypes, an older torch); those keep its default.
    """
    if _takes_fused(cls) and "fused" not in kwargs and "foreach" not in kwargs:
        try:
            return cls(params, fused=True, **kwargs)
        except (RuntimeError, ValueError, TypeError):
            pass
    return cls(params, **kwargs)


def _global_hooks() -> bool:
    pre = getattr(_torch_optimizer_module, "_global_optimizer_pre_hooks", None)
    post = getattr(_torch_optimizer_module, "_global_optimizer_post_hooks", None)
    return pre is None or post is None or bool(pre) or bool(post)


def _observed(opt: torch.optim.Optimizer) -> bool:
    """Whether anything may watch torch's step layer: hooks, a profiler, a patched instance."""
    return (
        "step" in opt.__dict__  # an LR scheduler (or the user) wrapped this instance's step
        or getattr(opt, "_optimizer_step_pre_hooks", True)
        or getattr(opt, "_optimizer_step_post_hooks", True)
        or _global_hooks()
        or torch.autograd.profiler._is_profiler_enabled
    )


def _beneath_hooks(cls: type):
    """The class's step below torch's profiler / step-hook layer, or None (another layout)."""
    method = getattr(cls, "step", None)
    if not getattr(method, "hooked", False):
        return None
    return getattr(method, "__wrapped__", None)


def step(opt: torch.optim.Optimizer) -> None:
    """``opt.step()``, without torch's profiler and hook layer when nothing observes it."""
    inner = None if _observed(opt) else _beneath_hooks(type(opt))
    if inner is None:
        opt.step()
    else:
        inner(opt)


def drop_grads(opt: torch.optim.Optimizer) -> None:
    """``opt.zero_grad(set_to_none=True)``: every gradient becomes ``None``."""
    if torch.autograd.profiler._is_profiler_enabled:
        opt.zero_grad(set_to_none=True)
        return
    for group in opt.param_groups:
        for p in group["params"]:
            p.grad = None


def laid_out_like(weight: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """``value`` copied into a tensor with ``weight``'s device and strides (``value``'s dtype).

    A fused kernel walks a weight, its gradient and its state slots as flat memory, element by
    element: a conv kernel stored channels_last with a contiguous gradient or slot would be paired
    with the wrong entries. Gradients and slots torch makes itself already share the weight's
    layout; this is for the ones that come from elsewhere (a loaded state, ``optimizer.apply``).

    Example:
        >>> w = torch.zeros(2, 3, 2, 2).contiguous(memory_format=torch.channels_last)
        >>> laid_out_like(w, torch.ones(2, 3, 2, 2)).stride() == w.stride()
        True
    """
    return torch.empty_like(weight, dtype=value.dtype).copy_(value)

