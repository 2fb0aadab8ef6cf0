"""Shared machinery of the activation Functions: dtype handling, in-place safety, fast apply.

Every activation Function computes its derivative in float32 for half-precision inputs
(``_f32``), writes in place into backward's buffer only when nothing can observe it
(``_in_place_ok``), and is applied through the C entry point on the plain eager path
(``_apply``).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from easynn import config as _config

_LOW_PRECISION = (torch.float16, torch.bfloat16)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _f32(t: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 -> float32 (derivatives lose too much precision in half types)."""
    return t.float() if t.dtype in _LOW_PRECISION else t


def _is_batched(grad: torch.Tensor) -> bool:
    functorch = torch._C._functorch
    return functorch.is_functorch_wrapped_tensor(grad) or functorch.is_legacy_batchedtensor(grad)


def _in_place_ok(grad: torch.Tensor) -> bool:
    """True when writing into a fresh buffer is safe and useful: backward's own graph is not
    recorded, no vmap is batching the gradient (``autograd.grad(..., is_grads_batched=True)``),
    and torch.compile is not tracing (its compiler fuses the plain formula by itself)."""
    if torch.compiler.is_compiling() or torch.is_grad_enabled():
        return False
    return not _is_batched(grad)


def _one(like: torch.Tensor) -> torch.Tensor:
    return torch.ones((), dtype=like.dtype, device=like.device)


def _zero(like: torch.Tensor) -> torch.Tensor:
    return torch.zeros((), dtype=like.dtype, device=like.device)


def _as_tensor(x: Any) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(x)


# ``Function.apply`` binds its arguments with ``inspect.signature`` on every call when a Function
# uses ``setup_context`` (about 25 µs, more than a small relu costs). All our arguments are passed
# positionally and complete, so in plain eager mode we call the C implementation directly; under
# torch.compile, functorch transforms (vmap, grad) or with functorch-wrapped inputs we keep the
# documented path, which those systems understand.
_C_APPLY = torch._C._FunctionBase.__dict__["apply"]
_is_wrapped = torch._C._functorch.is_functorch_wrapped_tensor


def _apply(function: type, x: torch.Tensor, *args: Any) -> torch.Tensor:
    """``function.apply(x, *args)`` without per-call signature binding on the eager path, and
    without building a graph node when no gradient is recorded (``predict``, ``evaluate``)."""
    if (
        torch.compiler.is_compiling()
        or torch._C._are_functorch_transforms_active()
        or _is_wrapped(x)
        or (args and any(isinstance(a, torch.Tensor) and _is_wrapped(a) for a in args))
    ):
        return function.apply(x, *args)
    if not (torch.is_grad_enabled() and _config._LECTURE_GRADIENTS) and not torch._C._get_tracing_state():
        # No gradient recorded (predict, evaluate), or torch's own backward kernels asked for
        # (easynn.config.set_lecture_gradients: False, or "auto" inside fit's built-in step):
        # the same forward, without the Function; torch's autograd differentiates it.
        # (torch.jit.trace keeps the Function: its check re-runs under no_grad and compares graphs.)
        return function.forward(x, *args)
    return _C_APPLY.__get__(None, function)(x, *args)


def _check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    return float(value)
