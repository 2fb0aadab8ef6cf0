"""Keep ``torch.optim`` from importing ``torch._dynamo`` (1.5 s or more) in eager training.

Why: every ``torch.optim.Optimizer`` imports ``torch._dynamo`` the first time it adds a param
group, zeroes gradients or steps, only to mark those methods "do not compile" or to insert a
graph break. Neither does anything unless dynamo is tracing, and dynamo can only be tracing once
it has been imported (``torch.compile`` imports it). So, until someone imports it, skipping it
changes nothing; as soon as it is in ``sys.modules`` torch's own behaviour is used.

``defer_dynamo_import(cls)`` applies this to one optimizer class (idempotent, cheap):

* the ``torch._disable_dynamo`` wrappers (``add_param_group``, ``zero_grad``, ``state_dict``,
  ``load_state_dict``) get their cache filled with a dispatcher that calls the plain method
  while dynamo is not loaded, and ``torch._dynamo.disable(...)`` of it afterwards;
* ``cls.step``'s ``_use_grad_for_differentiable`` layer is rebuilt with the same grad-mode
  handling and the graph breaks only when dynamo is loaded; the profiler / step-hook layer
  torch puts around it is kept (``Optimizer.profile_hook_step``).

Anything unexpected (another torch version's layout) leaves the class as torch made it.

Example:
    >>> import torch
    >>> isinstance(defer_dynamo_import(torch.optim.SGD), bool)  # False once dynamo is loaded anyway
    True
"""

from __future__ import annotations

import functools
import sys

import torch

__all__ = ["defer_dynamo_import"]

_DONE: set = set()


class _LazyDisable:
    """What ``torch._disable_dynamo`` caches on a function: the plain call until dynamo is loaded."""

    def __init__(self, fn, recursive: bool = True):
        self._fn = fn
        self._recursive = recursive
        self._disabled = None

    def __call__(self, *args, **kwargs):
        if "torch._dynamo" not in sys.modules:
            return self._fn(*args, **kwargs)
        if self._disabled is None:
            import torch._dynamo

            self._disabled = torch._dynamo.disable(self._fn, self._recursive, wrapping=False)
        return self._disabled(*args, **kwargs)


def _is_disable_wrapper(fn) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_name == "inner" and code.co_filename.endswith("_compile.py")


def _seed_disable_cache(cls) -> None:
    for name in ("add_param_group", "zero_grad", "state_dict", "load_state_dict"):
        method = getattr(cls, name, None)
        raw = getattr(method, "__wrapped__", None)
        if raw is not None and _is_disable_wrapper(method) and getattr(raw, "__dynamo_disable", None) is None:
            setattr(raw, "__dynamo_disable", _LazyDisable(raw))


def _lazy_use_grad(raw):
    """torch's ``_use_grad_for_differentiable`` without the eager import of ``torch._dynamo``."""

    @functools.wraps(raw)
    def _use_grad_lazily(self, *args, **kwargs):
        loaded = "torch._dynamo" in sys.modules
        previous = torch.is_grad_enabled()
        try:
            torch.set_grad_enabled(self.defaults["differentiable"])
            if loaded:
                torch._dynamo.graph_break()
            return raw(self, *args, **kwargs)
        finally:
            if loaded:
                torch._dynamo.graph_break()
            torch.set_grad_enabled(previous)

    return _use_grad_lazily


def _rebuild_step(cls) -> bool:
    owner = next((klass for klass in cls.__mro__ if "step" in klass.__dict__), None)
    if owner is None:
        return False
    layers, step = [], owner.__dict__["step"]
    while step is not None:
        layers.append(step)
        step = getattr(step, "__wrapped__", None)
    names = [getattr(getattr(f, "__code__", None), "co_name", None) for f in layers]
    if "_use_grad_lazily" in names or "_use_grad" not in names:
        return True  # already rebuilt, or a step without torch's graph-break layer
    index = names.index("_use_grad")
    if index > 1 or index + 1 >= len(layers):
        return False
    new_step = _lazy_use_grad(layers[index + 1])
    if index == 1:  # torch already added its profiler / step-hook layer: put it back
        new_step = torch.optim.Optimizer.profile_hook_step(new_step)
        new_step.hooked = True
    owner.step = new_step
    return True


def defer_dynamo_import(cls) -> bool:
    """Make ``cls`` (a ``torch.optim.Optimizer`` subclass) import ``torch._dynamo`` only when
    dynamo is in use. Returns whether the class is now free of the eager import."""
    if cls in _DONE:
        return True
    if "torch._dynamo" in sys.modules:  # already paid for: nothing to gain
        return False
    try:
        for klass in cls.__mro__:
            if klass is object:
                continue
            _seed_disable_cache(klass)
        ok = _rebuild_step(cls)
    except Exception:  # another torch layout: leave torch's class as it is
        return False
    if ok:
        _DONE.add(cls)
    return ok
