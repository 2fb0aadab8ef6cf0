"""Activation functions, each with its derivative written next to it.

Every activation is a private ``torch.autograd.Function`` in PyTorch's modern form:
``forward(x, ...)`` computes the value (native torch ops are fine there), ``setup_context``
saves only what the derivative needs -- the *output* wherever the lecture writes the derivative
as a function of ``f(x)`` -- and ``backward`` applies the lecture's derivative in torch ops, so
that double backward, ``torch.vmap`` and ``torch.compile`` all work.

Each backward has two spellings of the same formula:

* the plain one, ``grad * f'(x)``, used whenever a graph of the backward itself is being
  recorded (``create_graph=True``, ``torch.func`` transforms), because it must stay
  differentiable;
* a fast one that builds ``f'(x)`` with plain float arithmetic (``sign``/``clamp`` instead of
  boolean masks) and writes in place into the single buffer backward has to allocate. It runs
  only when grad mode is off inside backward (an ordinary ``loss.backward()``), where nothing can
  observe the in-place writes.

float16/bfloat16 inputs keep their dtype; their derivatives are computed in float32.

Example:
    >>> import torch
    >>> from easynn import activations
    >>> activations.relu(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    >>> activations.get("relu") is activations.relu
    True
"""

from __future__ import annotations

from typing import Callable

from easynn.activations.gated import gelu, linear, silu, swish
from easynn.activations.rectifiers import elu, leaky_relu, prelu, relu
from easynn.activations.saturating import sigmoid, softmax, softplus, tanh

__all__ = [
    "elu",
    "gelu",
    "get",
    "leaky_relu",
    "linear",
    "prelu",
    "relu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "swish",
    "tanh",
]


# ---------------------------------------------------------------------------------- registry
_REGISTRY: dict[str, Callable] = {
    "elu": elu,
    "gelu": gelu,
    "leaky_relu": leaky_relu,
    "linear": linear,
    "relu": relu,
    "sigmoid": sigmoid,
    "silu": silu,
    "softmax": softmax,
    "softplus": softplus,
    "swish": swish,
    "tanh": tanh,
}
# The canonical name of each function (swish is silu, so it serializes as "silu", as in Keras).
_NAMES: dict[Callable, str] = {}
for _name, _fn in _REGISTRY.items():
    _NAMES.setdefault(_fn, _name)


def get(identifier: str | Callable | None) -> Callable:
    """Resolve an activation identifier to a function.

    Args:
        identifier: ``None`` or ``"linear"`` (identity), a name (``"relu"``, ``"sigmoid"``,
            ``"tanh"``, ``"leaky_relu"``, ``"elu"``, ``"softplus"``, ``"softmax"``, ``"silu"``,
            ``"swish"``, ``"gelu"``), or any callable, returned unchanged.

    Returns:
        The activation function.

    Raises:
        ValueError: for an unknown name.
        TypeError: for anything that is neither a string, a callable nor ``None``.

    Example:
        >>> get("relu") is relu, get(None) is linear
        (True, True)
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _REGISTRY.get(identifier)
        if fn is None:
            names = ", ".join(sorted(_REGISTRY))
            raise ValueError(
                f"Unknown activation {identifier!r}. Expected one of: {names}, or a callable."
            )
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(
        "`activation` must be a string, a callable or None. "
        f"Received: activation={identifier!r} of type {type(identifier).__name__}"
    )


def serialize(fn: Callable | None) -> str | Callable:
    """The name of an easynn activation (``"relu"``, ...), so that ``get(serialize(fn)) is fn``.

    Args:
        fn: an activation function, or ``None`` (serialized as ``"linear"``).

    Returns:
        The registered name; any other callable is returned unchanged (it cannot be named).

    Example:
        >>> serialize(relu), serialize(swish), serialize(None)
        ('relu', 'silu', 'linear')
    """
    if fn is None:
        return "linear"
    try:
        return _NAMES[fn]
    except (KeyError, TypeError):
        return fn
