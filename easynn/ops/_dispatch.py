"""The hook that lets every public op run on symbolic (functional-API) tensors.

Every public function of ``easynn.ops`` is decorated with :func:`op`. The wrapper looks at the
call's arguments (positional and keyword, and one level into lists/tuples, e.g. the list given to
``concatenate``); when one is an instance of a class registered with
:func:`register_symbolic_type`, the call goes to that class's handler as
``handler(op_name, fn, args, kwargs)`` (``fn`` is the undecorated eager function), and the handler's
result is returned. Otherwise ``fn(*args, **kwargs)`` runs.

Design and cost (measured with ``benchmarks/ops.py``): the :func:`op` wrapper is one extra Python
frame. With nothing registered it does one truth test of a module global and calls ``fn``; with a
type registered it also runs one ``isinstance`` per argument (a tuple of classes, so subclasses
match), skipping exact ``torch.Tensor`` arguments by an identity test of their type. That frame
costs about as much as the op's own argument handling (~0.1-0.2 us on an idle core), so the
hottest binary ops use :func:`binary_op` instead: the public function itself checks that both
operands are ``torch.Tensor`` objects (tensors, Parameters, easynn Variables; a symbolic tensor is
not one) and calls torch directly, one frame in all; every other call, and any torch error, takes
the ``op``-wrapped full path. :func:`reduction_op` does the same for ``sum``/``mean`` of float
tensors. A registered symbolic class that subclasses ``torch.Tensor`` switches both fast paths off.

Errors: inside the ``op`` wrapper (``try`` costs nothing until raised) a torch ``RuntimeError``
becomes a ``ValueError``/``TypeError`` naming the op and its operands' shapes and dtypes, an
``IndexError`` an :class:`AxisError`, and a conversion failure a ``TypeError`` naming the op.

Example:
    >>> from easynn.ops._dispatch import op, register_symbolic_type, unregister_symbolic_type
    >>> class Sym:
    ...     pass
    >>> @op
    ... def twice(x):
    ...     return 2 * x
    >>> register_symbolic_type(Sym, lambda name, fn, args, kwargs: f"node {name}")
    >>> twice(3), twice(Sym())
    (6, 'node twice')
    >>> unregister_symbolic_type(Sym)
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch

from easynn.ops._errors import AxisError, ConversionError, fail  # noqa: F401  (re-exported)

__all__ = ["op", "binary_op", "reduction_op", "AxisError", "ConversionError", "register_symbolic_type", "unregister_symbolic_type", "symbolic_types"]

Handler = Callable[[str, Callable, tuple, dict], Any]

# Registered classes, as a tuple for isinstance, and their handlers. The tuple is rebound (never
# mutated) so a wrapper reads a consistent snapshot.
_TYPES: tuple = ()
_HANDLERS: dict = {}
_SYMBOLIC_TENSOR_SUBCLASS = False
_TENSOR = torch.Tensor
_SEQUENCES = (list, tuple)


def register_symbolic_type(cls: type, handler: Handler) -> None:
    """Route every op called with an instance of ``cls`` to ``handler(op_name, fn, args, kwargs)``."""
    global _TYPES
    if not isinstance(cls, type):
        raise TypeError(f"`cls` must be a class. Received: cls={cls!r}")
    if not callable(handler):
        raise TypeError(f"`handler` must be callable. Received: handler={handler!r}")
    _HANDLERS[cls] = handler
    _TYPES = tuple(_HANDLERS)
    _update_tensor_subclasses()


def unregister_symbolic_type(cls: type) -> None:
    """Undo :func:`register_symbolic_type` for ``cls`` (no error when it was not registered)."""
    global _TYPES
    _HANDLERS.pop(cls, None)
    _TYPES = tuple(_HANDLERS)
    _update_tensor_subclasses()


def _update_tensor_subclasses() -> None:
    # The binary_op fast path takes any torch.Tensor (Parameters, Variables); it is switched off while
    # a registered symbolic class is itself a torch.Tensor subclass.
    global _SYMBOLIC_TENSOR_SUBCLASS
    _SYMBOLIC_TENSOR_SUBCLASS = any(issubclass(cls, torch.Tensor) for cls in _HANDLERS)


def symbolic_types() -> tuple:
    """The classes registered so far."""
    return _TYPES


def _handler_for(value: Any) -> Handler | None:
    for cls in type(value).__mro__:
        if cls in _HANDLERS:
            return _HANDLERS[cls]
    return None


# Argument types that are never symbolic: skipped by one set lookup.
_PLAIN = frozenset({_TENSOR, int, float, bool, str, type(None)})


def _keras_error(name: str, fn: Callable, args: tuple, kwargs: dict, error: Exception) -> Exception:
    """A torch error escaping op ``name`` as a ValueError/TypeError naming the op and its operands."""
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    operands = {names[i] if i < len(names) else f"args[{i}]": value for i, value in enumerate(args)}
    operands.update(kwargs)
    converted = fail(name, error, **operands)
    if isinstance(error, IndexError):
        return AxisError(str(converted))
    return converted


def _find_symbolic(args: tuple, kwargs: dict) -> Any:
    types = _TYPES
    for values in (args, kwargs.values()):
        for value in values:
            kind = type(value)
            if kind in _PLAIN:
                continue
            if kind in _SEQUENCES:
                for item in value:
                    if isinstance(item, types):
                        return item
            elif isinstance(value, types):
                return value
    return None


def op(fn: Callable) -> Callable:
    """Decorate a public op so that calls with symbolic arguments go to the registered handler."""
    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _TYPES:
            symbolic = _find_symbolic(args, kwargs)
            if symbolic is not None:
                return _handler_for(symbolic)(name, fn, args, kwargs)
        try:  # free unless raised (Python >= 3.11)
            return fn(*args, **kwargs)
        except ConversionError as error:
            raise TypeError(f"{name}(): {error}") from None
        except (RuntimeError, IndexError, TypeError) as error:
            kind = type(error)
            if kind is TypeError and not str(error).startswith(f"{name}()"):
                raise TypeError(f"{name}(): {error}") from None
            if kind is not RuntimeError and kind is not IndexError:  # NotImplementedError, AxisError...: clear
                raise
            raise _keras_error(name, fn, args, kwargs, error) from None

    wrapper.__easynn_op__ = True
    # doctest collects a function only when its globals are the module's: keep the module's.
    wrapper.__module__ = fn.__module__
    return wrapper


def binary_op(torch_fn: Callable, same_float_dtype: bool = False) -> Callable[[Callable], Callable]:
    """Decorator for a hot binary op ``fn(x1, x2)`` whose plain-tensor case is ``torch_fn(x1, x2)``.

    Two ``torch.Tensor`` operands (same floating dtype too when ``same_float_dtype``; else
    ``x2`` may also be a Python float) call ``torch_fn`` directly; anything else, and a torch error, goes to ``op(fn)`` (conversion,
    promotion, Keras-style errors, symbolic dispatch).
    """

    def decorate(fn: Callable) -> Callable:
        full = op(fn)
        tensor_type = _TENSOR

        if same_float_dtype:
            def public(x1, x2):
                if isinstance(x1, tensor_type) and isinstance(x2, tensor_type) and x1.dtype == x2.dtype \
                        and x1.is_floating_point() and not _SYMBOLIC_TENSOR_SUBCLASS:
                    try:
                        return torch_fn(x1, x2)
                    except RuntimeError:
                        pass
                return full(x1, x2)
        else:
            def public(x1, x2):
                # a Python float is a weak scalar to torch as to Keras: tensor <op> float is plain torch too
                if isinstance(x1, tensor_type) and (isinstance(x2, tensor_type) or type(x2) is float) \
                        and not _SYMBOLIC_TENSOR_SUBCLASS:
                    try:
                        return torch_fn(x1, x2)
                    except RuntimeError:
                        pass
                return full(x1, x2)

        functools.update_wrapper(public, fn)
        public.__easynn_op__ = True
        return public

    return decorate


_FLOATS = (torch.float32, torch.float64)


def reduction_op(torch_fn: Callable) -> Callable[[Callable], Callable]:
    """Decorator for a hot reduction ``fn(x, axis=None, keepdims=False)`` (``sum``, ``mean``).

    A float32/float64 ``torch.Tensor`` with ``axis`` None or an int calls
    ``torch_fn(x, dim=axis, keepdim=keepdims)`` directly, in one frame; anything else, and a torch
    error, goes to ``op(fn)``.
    """

    def decorate(fn: Callable) -> Callable:
        full = op(fn)
        tensor_type, floats = _TENSOR, _FLOATS

        def public(x, axis=None, keepdims=False):
            if isinstance(x, tensor_type) and x.dtype in floats and (axis is None or type(axis) is int) \
                    and not _SYMBOLIC_TENSOR_SUBCLASS:
                try:
                    return torch_fn(x, dim=axis, keepdim=keepdims)
                except (RuntimeError, IndexError, TypeError):
                    pass
            # the full path sees the arguments as given (a symbolic node records only non-defaults)
            if keepdims:
                return full(x, axis=axis, keepdims=keepdims)
            return full(x) if axis is None else full(x, axis=axis)

        functools.update_wrapper(public, fn)
        public.__easynn_op__ = True
        return public

    return decorate
