"""Input conversion, dtype names and type promotion for ``easynn.ops``, following Keras 3 on torch.

Conventions (the same as Keras 3's torch backend):

- A ``torch.Tensor`` (or ``nn.Parameter``) passes through untouched: no copy, same device, same
  autograd graph. This is the fast path every op takes first.
- A Python ``bool`` / ``int`` / ``float`` becomes ``bool`` / ``int32`` / ``floatx()`` (float32);
  nested lists of them follow the same rule (``[1, 2.5]`` -> float32).
- A NumPy array keeps its dtype (float64 stays float64, as in Keras), except uint32 (-> int64, which
  torch can compute with).
- In binary ops a Python scalar is a *weak* type: it takes the other operand's dtype when the kinds
  agree (``int8 tensor + 1`` -> int8, ``float16 tensor * 2.0`` -> float16) and only moves an integer
  tensor to float (``int32 tensor + 0.5`` -> float32). Tensors/arrays promote as NumPy/JAX do
  (``int32 + float32`` -> float32, ``uint8 + int8`` -> int16), which is torch's own rule.
- A non-tensor operand is created on the device of the tensor operand (CUDA stays CUDA); ops that
  only create tensors use torch's default device.

Example:
    >>> import numpy as np
    >>> from easynn.ops import convert_to_tensor, convert_to_numpy
    >>> convert_to_tensor([1, 2]).dtype, convert_to_tensor(np.zeros(2)).dtype, convert_to_tensor(0.5).dtype
    (torch.int32, torch.float64, torch.float32)
    >>> convert_to_numpy(convert_to_tensor([1.5, 2.0]))
    array([1.5, 2. ], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from easynn import config as _config
from easynn.ops._errors import ConversionError, describe, fail  # noqa: F401  (re-exported for the op modules)

__all__ = ["convert_to_tensor", "convert_to_numpy", "to_torch_dtype", "dtype_name", "floatx", "result_type"]

Tensor = torch.Tensor

_NAMES = {
    "bool": torch.bool, "uint8": torch.uint8, "int8": torch.int8, "int16": torch.int16,
    "int32": torch.int32, "int64": torch.int64, "uint16": torch.uint16, "uint32": torch.uint32,
    "uint64": torch.uint64, "float16": torch.float16, "bfloat16": torch.bfloat16,
    "float32": torch.float32, "float64": torch.float64, "complex64": torch.complex64,
    "complex128": torch.complex128,
    # common aliases
    "float": torch.float32, "double": torch.float64, "half": torch.float16, "int": torch.int32,
}
_TORCH_NAMES = {v: k for k, v in reversed(list(_NAMES.items()))}
_INT_TYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
              torch.uint16, torch.uint32, torch.uint64)


def floatx() -> str:
    """Keras's default float type name: ``easynn.config.floatx()``."""
    return _config.floatx()


def _floatx_dtype() -> torch.dtype:
    return _NAMES[floatx()]


def to_torch_dtype(dtype: Any) -> torch.dtype | None:
    """A torch dtype from a Keras name (``"float32"``), a torch/NumPy dtype or a Python type."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str):
        found = _NAMES.get(dtype)
        if found is None:
            raise ValueError(f"Unknown dtype {dtype!r}. Expected one of: {', '.join(sorted(_NAMES))}.")
        return found
    if dtype is float:
        return _floatx_dtype()
    if dtype is int:
        return torch.int32
    if dtype is bool:
        return torch.bool
    if dtype is complex:
        return torch.complex64
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = getattr(dtype, "name", None)
    if name in _NAMES:
        return _NAMES[name]
    raise ValueError(f"Unknown dtype {dtype!r}. Expected a dtype name such as 'float32' or a torch/NumPy dtype.")


def dtype_name(dtype: Any) -> str:
    """Keras's standard dtype name (``"float32"``) of a tensor dtype, NumPy dtype or name."""
    return _TORCH_NAMES[to_torch_dtype(dtype)]


def is_int(dtype: torch.dtype) -> bool:
    return dtype in _INT_TYPES


def _python_dtype(items: list) -> torch.dtype:
    """Keras's dtype for a flat list of Python/NumPy scalars: strongest kind, weak Python types."""
    strong = [np.asarray(i).dtype for i in items if hasattr(i, "dtype")]
    kinds = {type(i) for i in items if not hasattr(i, "dtype")}
    if strong:
        result = np.result_type(*strong)
        if complex in kinds and result.kind != "c":
            return torch.complex64
        if float in kinds and result.kind in "biu":
            return _floatx_dtype()
        if int in kinds and result.kind == "b":
            return torch.int32
        return to_torch_dtype(result if result != np.uint32 else np.int64)
    if complex in kinds:
        return torch.complex64
    if float in kinds:
        return _floatx_dtype()
    if int in kinds:
        return torch.int32
    return torch.bool if kinds else _floatx_dtype()


def _flatten(x: Any, out: list) -> list:
    for item in x:
        if isinstance(item, (list, tuple)):
            _flatten(item, out)
        else:
            out.append(item)
    return out


def convert_to_tensor(x: Any, dtype: Any = None, sparse: bool | None = None) -> Tensor:
    """Convert ``x`` (tensor, NumPy array, Python scalar or nested list) to a torch tensor.

    Args:
        x: the value. A tensor is returned as is (cast when ``dtype`` is given).
        dtype: target dtype (a name such as ``"float32"``, a torch or NumPy dtype); ``None`` infers
            it as Keras does (see the module docstring).
        sparse: ``True`` is not supported on torch (as in Keras's torch backend).

    Returns:
        A ``torch.Tensor``.

    Raises:
        ValueError: ``sparse=True`` or an unknown ``dtype``.
        TypeError: ``x`` cannot be converted (e.g. a string).

    Example:
        >>> convert_to_tensor([[1, 2], [3, 4]], dtype="float32")
        tensor([[1., 2.],
                [3., 4.]])
    """
    if sparse:
        raise ValueError("convert_to_tensor(): `sparse=True` is not supported with the torch backend.")
    if isinstance(x, Tensor):
        if dtype is None:
            return x
        target = to_torch_dtype(dtype)
        return x if x.dtype == target else x.to(target)
    target = to_torch_dtype(dtype)
    kind = type(x)
    if kind is float or kind is int or kind is bool:
        if target is None:
            target = torch.bool if kind is bool else torch.int32 if kind is int else _floatx_dtype()
        return torch.tensor(x, dtype=target)
    value = getattr(x, "value", None)  # a Keras-style Variable wrapping a tensor
    if isinstance(value, Tensor):
        return convert_to_tensor(value, dtype)
    if kind is list or kind is tuple:
        flat = _flatten(x, [])
        if any(isinstance(item, Tensor) for item in flat):
            return torch.stack([convert_to_tensor(item, dtype) for item in x])
        if target is None:
            target = _python_dtype(flat)
        array = np.array(x)
    else:
        try:
            array = np.asarray(x)
        except Exception as error:  # noqa: BLE001 - report what the user passed
            raise ConversionError(f"cannot convert a {type(x).__name__} to a tensor (convert_to_tensor). "
                                  f"Received: {x!r:.80}") from error
    if array.dtype.kind in "OSUV":
        raise ConversionError(f"cannot convert a {type(x).__name__} to a tensor (convert_to_tensor): expected "
                              f"numbers, NumPy arrays or tensors. Received: {x!r:.80}")
    if target is None:
        if array.dtype == np.uint32:
            array = array.astype(np.int64)
        target = to_torch_dtype(array.dtype)
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array).copy()
    return torch.as_tensor(array, dtype=target)


def convert_to_numpy(x: Any) -> np.ndarray:
    """A NumPy array of ``x`` (tensors are detached and moved to the CPU; bfloat16 becomes float32).

    Example:
        >>> convert_to_numpy(torch.ones(2, requires_grad=True))
        array([1., 1.], dtype=float32)
    """
    if isinstance(x, Tensor):
        x = x.detach()
        if x.device.type != "cpu":
            x = x.cpu()
        if x.dtype == torch.bfloat16:
            x = x.float()
        if x.is_conj():
            x = x.resolve_conj()
        return x.numpy()
    if isinstance(x, (list, tuple)):
        return np.array([convert_to_numpy(item) for item in x])
    value = getattr(x, "value", None)
    if isinstance(value, Tensor):
        return convert_to_numpy(value)
    return np.asarray(x)


def result_type(*dtypes: Any) -> str:
    """The dtype name two or more operands promote to (Python ``int``/``float`` are weak types).

    Example:
        >>> result_type("int32", "float32"), result_type("int8", int), result_type("int32", float)
        ('float32', 'int8', 'float32')
    """
    strong = [to_torch_dtype(d) for d in dtypes if d not in (int, float, bool, complex)]
    weak = [d for d in dtypes if d in (int, float, bool, complex)]
    if not strong:
        return dtype_name(_python_dtype([d() for d in weak]))
    result = strong[0]
    for other in strong[1:]:
        result = torch.promote_types(result, other)
    for kind in weak:
        if kind is float and not (result.is_floating_point or result.is_complex):
            result = _floatx_dtype()
        elif kind is complex and not result.is_complex:
            result = torch.complex128 if result == torch.float64 else torch.complex64
        elif kind is int and result == torch.bool:
            result = torch.int32
    return dtype_name(result)


# ----------------------------------------------------------------------------------------------
# Private helpers used by every op module.

def tensor(x: Any) -> Tensor:
    """``x`` as a tensor; the fast path for tensors is one isinstance."""
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def like(x: Any, ref: Tensor) -> Tensor:
    """``x`` as a tensor on ``ref``'s device, Python scalars taking ``ref``'s dtype when kinds agree."""
    if isinstance(x, Tensor):
        return x
    kind = type(x)
    if kind is float:
        dtype = ref.dtype if (ref.is_floating_point() or ref.is_complex()) else _floatx_dtype()
        return torch.tensor(x, dtype=dtype, device=ref.device)
    if kind is int:
        dtype = torch.int32 if ref.dtype == torch.bool else ref.dtype
        return torch.tensor(x, dtype=dtype, device=ref.device)
    if kind is bool:
        return torch.tensor(x, dtype=torch.bool, device=ref.device)
    out = convert_to_tensor(x)
    return out if out.device == ref.device else out.to(ref.device)


def pair(x1: Any, x2: Any) -> tuple[Tensor, Tensor]:
    """Both operands as tensors on one device, with Keras's weak Python scalars."""
    t1 = isinstance(x1, Tensor)
    if t1 and isinstance(x2, Tensor):
        return x1, x2
    if t1:
        return x1, like(x2, x1)
    if isinstance(x2, Tensor):
        return like(x1, x2), x2
    x1 = convert_to_tensor(x1)
    return x1, like(x2, x1)


def scalar_or_tensor(x: Any, ref: Tensor) -> Any:
    """For torch calls that accept a Python number: keep it (weak type), else convert onto ref's device.

    A Python int with a bool tensor becomes an int32 tensor (torch would pick int64, Keras int32).
    """
    kind = type(x)
    if kind is float or (kind is int and ref.dtype != torch.bool):
        return x
    return like(x, ref)


def seq(xs: Any, name: str, arg: str = "xs") -> list[Tensor]:
    """A list/tuple of operands as tensors on the device of the first tensor among them."""
    if isinstance(xs, Tensor):
        return list(xs.unbind(0))
    if not isinstance(xs, (list, tuple)):
        raise TypeError(f"{name}(): `{arg}` must be a list or tuple of tensors. Received: {type(xs).__name__}")
    ref = next((x for x in xs if isinstance(x, Tensor)), None)
    if ref is None:
        return [convert_to_tensor(x) for x in xs]
    return [like(x, ref) for x in xs]


def floating(x: Any) -> Tensor:
    """``x`` as a tensor; bool and integer tensors become torch's default float dtype (float and complex pass)."""
    x = tensor(x)
    return x if (x.is_floating_point() or x.is_complex()) else x.to(torch.get_default_dtype())


def real_floating(x: Any) -> Tensor:
    """``x`` as a real float tensor: anything not floating (complex too) becomes torch's default float dtype."""
    x = tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())
