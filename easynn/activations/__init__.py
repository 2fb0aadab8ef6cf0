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

``easynn.config.set_lecture_gradients`` chooses who differentiates: the default ``"auto"`` runs
these Functions wherever the user differentiates and torch's built-in kernels for the same
derivatives inside ``fit``'s built-in train step (a Python backward node costs more than its
arithmetic on small steps); ``True`` runs these Functions everywhere, ``False`` nowhere.

The rest of Keras 3's catalogue (``selu``, ``mish``, ``relu6``, ``hard_sigmoid``, ``sparsemax``,
...) is in ``extended.py``: plain torch functions that torch's autograd differentiates.

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

from easynn.activations.axiswise import glu, log_softmax, sparsemax
from easynn.activations.extended import (
    celu,
    exponential,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    log_sigmoid,
    mish,
    relu6,
    selu,
    soft_shrink,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    squareplus,
    tanh_shrink,
    threshold,
)
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
    # Keras 3's other activations (extended.py, axiswise.py), and deserialize
    "celu", "deserialize", "exponential", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "log_sigmoid", "log_softmax", "mish", "relu6", "selu",
    "soft_shrink", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus",
    "tanh_shrink", "threshold",
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
    # extended.py, axiswise.py (hard_silu before its alias hard_swish, so it serializes as "hard_silu")
    "celu": celu, "exponential": exponential, "glu": glu, "hard_shrink": hard_shrink,
    "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu, "hard_swish": hard_swish,
    "hard_tanh": hard_tanh, "log_sigmoid": log_sigmoid, "log_softmax": log_softmax, "mish": mish,
    "relu6": relu6, "selu": selu, "soft_shrink": soft_shrink, "softsign": softsign,
    "sparse_plus": sparse_plus, "sparse_sigmoid": sparse_sigmoid, "sparsemax": sparsemax,
    "squareplus": squareplus, "tanh_shrink": tanh_shrink, "threshold": threshold,
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
            ``"swish"``, ``"gelu"``, or one of Keras's others: ``"selu"``, ``"mish"``,
            ``"relu6"``, ``"hard_sigmoid"``, ... see ``extended.py``), or any callable, returned
            unchanged.

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


def deserialize(config: str | dict, custom_objects: dict | None = None) -> Callable:
    """Turn a serialized activation back into the function (Keras's ``activations.deserialize``).

    Args:
        config: a name (``"relu"``), or Keras's dict form of a function
            (``{"class_name": "function", "config": "relu", ...}``).
        custom_objects: optional ``{name: callable}`` looked up before the built-in names.

    Returns:
        The activation function.

    Raises:
        ValueError: for an unknown name or a dict without a ``"config"`` name.
        TypeError: for anything that is neither a string nor a dict.

    Example:
        >>> deserialize("selu") is selu, deserialize({"class_name": "function", "config": "mish"}) is mish
        (True, True)
    """
    name = config.get("config") if isinstance(config, dict) else config
    if isinstance(config, dict) and not isinstance(name, str):
        raise ValueError(f"Could not interpret activation config {config!r}: expected a name under 'config'.")
    if not isinstance(name, str):
        raise TypeError(
            f"`config` must be an activation name or a dict. Received: config={config!r} "
            f"of type {type(config).__name__}"
        )
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return get(name)
