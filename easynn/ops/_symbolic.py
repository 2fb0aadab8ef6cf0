"""What the functional API needs from ``easynn.ops`` to record op calls as graph nodes.

An op called on a symbolic tensor (``ops.matmul(inputs, w)``) becomes one node of the model
graph. The layers package (which sits above ``ops``) registers its ``SymbolicTensor`` class with
``_dispatch.register_symbolic_type``; its handler uses this module to

    * name the op by its public path (``"matmul"``, ``"image.resize"``, ``"nn.relu"``), and
      find it again from that name when a saved model is loaded — by attribute lookup inside
      ``easynn.ops`` only, never by importing an arbitrary module or unpickling code;
    * split the call into symbolic inputs and constants, and write the constants as JSON
      (numbers, strings, lists, tuples, slices, ``None``, ``...``, dtypes, small arrays).

Example:
    >>> from easynn import ops
    >>> from easynn.ops import _symbolic
    >>> _symbolic.public_name("resize", ops.image.resize.__wrapped__)
    'image.resize'
    >>> _symbolic.resolve("image.resize") is ops.image.resize.__wrapped__
    True
    >>> _symbolic.decode(_symbolic.encode((slice(None, 2), Ellipsis, None)), [])
    (slice(None, 2, None), Ellipsis, None)
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

__all__ = ["public_name", "resolve", "encode", "decode", "split_call"]

_SUBMODULES = ("nn", "linalg", "image", "math", "core", "numpy")
_NAME_CACHE: dict[Callable, str] = {}


def _wrapped(obj: Any) -> Callable | None:
    if callable(obj) and getattr(obj, "__easynn_op__", False):
        return getattr(obj, "__wrapped__", obj)
    return None


def public_name(op_name: str, fn: Callable) -> str:
    """The shortest public path of the op whose eager function is ``fn`` (``"matmul"``, ``"image.resize"``).

    Raises:
        ValueError: if ``fn`` is not reachable from ``easynn.ops`` (it could not be loaded back).
    """
    cached = _NAME_CACHE.get(fn)
    if cached is not None:
        return cached
    from easynn import ops

    candidates = [(ops, op_name, op_name)] + [
        (getattr(ops, sub, None), op_name, f"{sub}.{op_name}") for sub in _SUBMODULES
    ]
    for namespace, attr, path in candidates:
        if namespace is not None and _wrapped(namespace.__dict__.get(attr)) is fn:
            _NAME_CACHE[fn] = path
            return path
    module = getattr(fn, "__module__", "")
    if module.startswith("easynn.ops."):
        path = f"{module[len('easynn.ops.'):]}.{fn.__name__}"
        if resolve(path, strict=False) is fn:
            _NAME_CACHE[fn] = path
            return path
    raise ValueError(
        f"The op {op_name!r} was called on a symbolic tensor, but it is not a public easynn.ops function, so a "
        "model using it could not be saved and loaded. Use an easynn.ops function or a Layer subclass."
    )


def resolve(path: str, strict: bool = True) -> Callable | None:
    """The eager function of the op saved as ``path`` (``"matmul"``, ``"image.resize"``).

    Only attributes of ``easynn.ops`` and its op modules are looked at, and only functions
    decorated as ops are returned.

    Raises:
        ValueError: (with ``strict``) for a name that is not an easynn op.
    """
    from easynn import ops

    parts = path.split(".") if isinstance(path, str) else []
    target: Any = ops
    if 1 <= len(parts) <= 2 and all(p.isidentifier() and not p.startswith("__") for p in parts):
        if len(parts) == 2:
            sub = parts[0]
            target = getattr(ops, sub, None) if not sub.startswith("_") else None
            if target is None or not getattr(target, "__name__", "").startswith("easynn.ops"):
                import importlib

                try:
                    target = importlib.import_module(f"easynn.ops.{sub}") if sub.isidentifier() else None
                except ImportError:
                    target = None
        fn = _wrapped(getattr(target, parts[-1], None)) if target is not None else None
        if fn is not None:
            return fn
    if strict:
        raise ValueError(f"Unknown easynn op {path!r} in the model config: expected a name such as 'matmul' or "
                         "'image.resize' of an easynn.ops function.")
    return None


def encode(value: Any) -> Any:
    """A JSON-able form of an op's constant argument (see ``decode``).

    Raises:
        TypeError: for values JSON cannot describe (functions, layers, large objects).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"An op argument dict must have string keys. Received keys {list(value)}")
        return {"__dict__": {k: encode(v) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"__slice__": [encode(value.start), encode(value.stop), encode(value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, torch.dtype):
        return {"__dtype__": str(value).replace("torch.", "")}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (torch.Tensor, np.ndarray)):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        if array.dtype.kind not in "biuf":
            raise TypeError(f"An op's constant array of dtype {array.dtype} cannot be stored in the model config.")
        return {"__array__": array.tolist(), "dtype": str(array.dtype)}
    if value in (float, int, bool):  # Python types as dtypes: Keras's float32 / int32 / bool
        return {"__dtype__": {float: "float32", int: "int32", bool: "bool"}[value]}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"__dtype__": np.dtype(value).name}
    raise TypeError(
        f"An op called on a symbolic tensor received the constant {value!r:.80} (type {type(value).__name__}), "
        "which cannot be stored in the model config. Pass numbers, strings, lists, tuples or arrays, or wrap "
        "the computation in a Layer subclass."
    )


def decode(value: Any, inputs: list) -> Any:
    """The inverse of ``encode``; ``{"__input__": i}`` placeholders become ``inputs[i]``."""
    if isinstance(value, list):
        return [decode(v, inputs) for v in value]
    if not isinstance(value, dict):
        return value
    if "__input__" in value:
        return inputs[value["__input__"]]
    if "__tuple__" in value:
        return tuple(decode(v, inputs) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: decode(v, inputs) for k, v in value["__dict__"].items()}
    if "__slice__" in value:
        return slice(*[decode(v, inputs) for v in value["__slice__"]])
    if "__ellipsis__" in value:
        return Ellipsis
    if "__dtype__" in value:
        return value["__dtype__"]
    if "__array__" in value:
        array = np.asarray(value["__array__"], dtype=np.dtype(value["dtype"]))
        return torch.as_tensor(array)
    raise ValueError(f"Malformed op argument in the model config: {str(value)[:120]}")


def split_call(args: tuple, kwargs: dict, is_symbolic: Callable[[Any], bool]) -> tuple[Any, Any, list]:
    """``(encoded args, encoded kwargs, symbolic inputs)``: each symbolic tensor becomes ``{"__input__": i}``."""
    inputs: list = []

    def walk(value: Any) -> Any:
        if is_symbolic(value):
            for index, known in enumerate(inputs):
                if known is value:
                    return {"__input__": index}
            inputs.append(value)
            return {"__input__": len(inputs) - 1}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, tuple):
            return {"__tuple__": [walk(v) for v in value]}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"__dict__": {k: walk(v) for k, v in value.items()}}
        if isinstance(value, slice):
            return {"__slice__": [walk(value.start), walk(value.stop), walk(value.step)]}
        return encode(value)

    encoded_args = [walk(a) for a in args]
    encoded_kwargs = {k: walk(v) for k, v in kwargs.items()}
    return encoded_args, encoded_kwargs, inputs
