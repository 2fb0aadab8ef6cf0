"""Hashing: categorical values to bins by a stable hash, with Keras's (TensorFlow's) bucket numbers.

Formula (Keras 3 / ``tf.strings.to_hash_bucket_fast`` and ``_strong``):

    key   = the value's UTF-8 bytes (integers: their decimal digits; floats: cast to int64 first)
    hash  = FarmHash Fingerprint64(key)            without ``salt``
          = SipHash-2-4(key, k0=salt[0], k1=salt[1])  with ``salt``
    bin   = hash % num_bins                          without ``mask_value``
          = 0 for the mask value, else 1 + hash % (num_bins - 1)

Both hashes are written here in plain Python from their published algorithms (FarmHash's
``farmhashna::Hash64``, which ``Fingerprint64`` is, and the SipHash paper), so the bins equal
Keras's on every platform: ``Hashing(num_bins=3)`` on ``A, B, C, D, E`` gives ``1, 0, 1, 1, 2``.
Each distinct value is hashed once and cached.

Example:
    >>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).tolist()
    [[1], [0], [1], [1], [2]]
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from easynn import _validation
from easynn.layers.base import Layer
from easynn.layers.preprocessing.encoding import _encode

__all__ = ["Hashing", "fingerprint64", "siphash64"]

_MASK64 = (1 << 64) - 1
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F  # FarmHash's primes


# ------------------------------------------------------------------ FarmHash Fingerprint64
def _rotate(value: int, shift: int) -> int:
    return ((value >> shift) | (value << (64 - shift))) & _MASK64


def _word(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 8], "little")


def _half_word(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "little")


def _shift_mix(value: int) -> int:
    return value ^ (value >> 47)


def _mix16(u: int, v: int, mul: int) -> int:
    """Murmur-style mix of two words (FarmHash's ``HashLen16``)."""
    a = ((u ^ v) * mul) & _MASK64
    a ^= a >> 47
    b = ((v ^ a) * mul) & _MASK64
    b ^= b >> 47
    return (b * mul) & _MASK64


def _up_to_16(data: bytes) -> int:
    n = len(data)
    if n >= 8:
        mul = _K2 + 2 * n
        a = (_word(data, 0) + _K2) & _MASK64
        b = _word(data, n - 8)
        c = (_rotate(b, 37) * mul + a) & _MASK64
        d = ((_rotate(a, 25) + b) * mul) & _MASK64
        return _mix16(c, d, mul)
    if n >= 4:
        mul = _K2 + 2 * n
        return _mix16((n + (_half_word(data, 0) << 3)) & _MASK64, _half_word(data, n - 4), mul)
    if n:
        y = (data[0] + (data[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (data[n - 1] << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _MASK64) * _K2) & _MASK64
    return _K2


def _up_to_32(data: bytes) -> int:
    n = len(data)
    mul = _K2 + 2 * n
    a = (_word(data, 0) * _K1) & _MASK64
    b = _word(data, 8)
    c = (_word(data, n - 8) * mul) & _MASK64
    d = (_word(data, n - 16) * _K2) & _MASK64
    return _mix16((_rotate((a + b) & _MASK64, 43) + _rotate(c, 30) + d) & _MASK64,
                  (a + _rotate((b + _K2) & _MASK64, 18) + c) & _MASK64, mul)


def _up_to_64(data: bytes) -> int:
    n = len(data)
    mul = _K2 + 2 * n
    a = (_word(data, 0) * _K2) & _MASK64
    b = _word(data, 8)
    c = (_word(data, n - 8) * mul) & _MASK64
    d = (_word(data, n - 16) * _K2) & _MASK64
    y = (_rotate((a + b) & _MASK64, 43) + _rotate(c, 30) + d) & _MASK64
    z = _mix16(y, (a + _rotate((b + _K2) & _MASK64, 18) + c) & _MASK64, mul)
    e = (_word(data, 16) * mul) & _MASK64
    f = _word(data, 24)
    g = ((y + _word(data, n - 32)) * mul) & _MASK64
    h = ((z + _word(data, n - 24)) * mul) & _MASK64
    return _mix16((_rotate((e + f) & _MASK64, 43) + _rotate(g, 30) + h) & _MASK64,
                  (e + _rotate((f + a) & _MASK64, 18) + g) & _MASK64, mul)


def _weak32(data: bytes, at: int, a: int, b: int) -> tuple[int, int]:
    """FarmHash's ``WeakHashLen32WithSeeds`` on the 32 bytes at ``at``."""
    w, x, y, z = (_word(data, at + 8 * i) for i in range(4))
    a = (a + w) & _MASK64
    b = _rotate((b + a + z) & _MASK64, 21)
    c = a
    a = (a + x + y) & _MASK64
    b = (b + _rotate(a, 44)) & _MASK64
    return (a + z) & _MASK64, (b + c) & _MASK64


def _longer(data: bytes) -> int:
    n = len(data)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _MASK64
    z = (_shift_mix((y * _K2 + 113) & _MASK64) * _K2) & _MASK64
    v = w = (0, 0)
    x = (x * _K2 + _word(data, 0)) & _MASK64
    end = ((n - 1) // 64) * 64  # whole 64-byte blocks, leaving 1 to 64 bytes
    last64 = n - 64
    at = 0
    while True:
        x = (_rotate((x + y + v[0] + _word(data, at + 8)) & _MASK64, 37) * _K1) & _MASK64
        y = (_rotate((y + v[1] + _word(data, at + 48)) & _MASK64, 42) * _K1) & _MASK64
        x ^= w[1]
        y = (y + v[0] + _word(data, at + 40)) & _MASK64
        z = (_rotate((z + w[0]) & _MASK64, 33) * _K1) & _MASK64
        v = _weak32(data, at, (v[1] * _K1) & _MASK64, (x + w[0]) & _MASK64)
        w = _weak32(data, at + 32, (z + w[1]) & _MASK64, (y + _word(data, at + 16)) & _MASK64)
        z, x = x, z
        at += 64
        if at == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    at = last64
    w = ((w[0] + ((n - 1) & 63)) & _MASK64, w[1])
    v = ((v[0] + w[0]) & _MASK64, v[1])
    w = ((w[0] + v[0]) & _MASK64, w[1])
    x = (_rotate((x + y + v[0] + _word(data, at + 8)) & _MASK64, 37) * mul) & _MASK64
    y = (_rotate((y + v[1] + _word(data, at + 48)) & _MASK64, 42) * mul) & _MASK64
    x ^= (w[1] * 9) & _MASK64
    y = (y + v[0] * 9 + _word(data, at + 40)) & _MASK64
    z = (_rotate((z + w[0]) & _MASK64, 33) * mul) & _MASK64
    v = _weak32(data, at, (v[1] * mul) & _MASK64, (x + w[0]) & _MASK64)
    w = _weak32(data, at + 32, (z + w[1]) & _MASK64, (y + _word(data, at + 16)) & _MASK64)
    z, x = x, z
    return _mix16((_mix16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _MASK64,
                  (_mix16(v[1], w[1], mul) + x) & _MASK64, mul)


def fingerprint64(data: bytes | str) -> int:
    """FarmHash ``Fingerprint64`` of ``data`` (a ``str`` is hashed as its UTF-8 bytes), as TensorFlow's.

    Example:
        >>> fingerprint64("A") % 3, fingerprint64(b"") == 0x9AE16A3B2F90404F
        (1, True)
    """
    data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    n = len(data)
    if n <= 16:
        return _up_to_16(data)
    if n <= 32:
        return _up_to_32(data)
    if n <= 64:
        return _up_to_64(data)
    return _longer(data)


# ------------------------------------------------------------------ SipHash-2-4
def _sip_rounds(v0: int, v1: int, v2: int, v3: int, rounds: int) -> tuple[int, int, int, int]:
    for _ in range(rounds):
        v0 = (v0 + v1) & _MASK64
        v1 = _rotate(v1, 51) ^ v0  # rotl 13
        v0 = _rotate(v0, 32)
        v2 = (v2 + v3) & _MASK64
        v3 = _rotate(v3, 48) ^ v2  # rotl 16
        v0 = (v0 + v3) & _MASK64
        v3 = _rotate(v3, 43) ^ v0  # rotl 21
        v2 = (v2 + v1) & _MASK64
        v1 = _rotate(v1, 47) ^ v2  # rotl 17
        v2 = _rotate(v2, 32)
    return v0, v1, v2, v3


def siphash64(key: tuple[int, int] | list[int], data: bytes | str) -> int:
    """SipHash-2-4 of ``data`` with the 128-bit key ``(k0, k1)`` (TensorFlow's strong hash).

    Example:
        >>> hex(siphash64((0x0706050403020100, 0x0F0E0D0C0B0A0908), b""))  # the paper's key, empty message
        '0x726fdb47dd0e0e31'
    """
    data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    k0, k1 = int(key[0]) & _MASK64, int(key[1]) & _MASK64
    v0, v1 = k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D
    v2, v3 = k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573
    n = len(data)
    whole = n - n % 8
    for at in range(0, whole, 8):
        m = _word(data, at)
        v3 ^= m
        v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3, 2)
        v0 ^= m
    last = ((n & 0xFF) << 56) | int.from_bytes(data[whole:], "little")
    v3 ^= last
    v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= 0xFF
    v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


@functools.lru_cache(maxsize=1 << 16)
def _hash(key: bytes, salt: tuple[int, int] | None) -> int:
    return fingerprint64(key) if salt is None else siphash64(salt, key)


# ------------------------------------------------------------------ the layer
def _key(value: Any) -> bytes:
    """The bytes TensorFlow hashes for one value (``tf.as_string`` for numbers)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bool, np.bool_)):
        return b"true" if value else b"false"
    if isinstance(value, (int, np.integer)):
        return str(int(value)).encode("ascii")
    if isinstance(value, (float, np.floating)):
        return str(int(value)).encode("ascii")  # floats are cast to int64 first
    raise TypeError(f"Hashing expects strings or numbers. Received a value of type {type(value).__name__}: {value!r}")


class Hashing(Layer):
    """Hashes categorical values (strings or integers) into ``num_bins`` bins, as Keras.

    See the module docstring for the formula. Stable across runs and platforms, with Keras's and
    TensorFlow's bin numbers.

    Args:
        num_bins: number of bins, the mask bin included when ``mask_value`` is set.
        mask_value: a value mapped to bin 0 (the others then hash into ``1 .. num_bins - 1``).
        salt: ``None`` (FarmHash64), or an int or a pair of ints: SipHash-2-4 keyed by
            ``(salt, salt)`` or the pair.
        output_mode: ``"int"`` (bin indices), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: vector modes: return a torch sparse COO tensor.
        **kwargs: base layer arguments; ``dtype`` is ``"int64"`` for ``"int"`` (``"int32"`` allowed)
            and ``"float32"`` for the other modes by default.

    Call arguments:
        inputs: strings (a ``str``, a nested list, a NumPy array of ``str``/``bytes``/objects) or
            numbers (a tensor, array or list of integers; floats are truncated to integers).

    Shape:
        ``"int"``: the input's shape. ``"one_hot"``: ``input_shape + (num_bins,)`` (a trailing axis
        of size 1 is replaced). ``"multi_hot"``/``"count"``: the last axis becomes ``num_bins``.

    Returns:
        The bins (int64, or the layer's integer dtype), or their encoding (float32).

    Raises:
        ValueError: for a ``num_bins`` that is None or not positive, an unknown ``output_mode``,
            a ``salt`` that is not an int or a pair of ints, ``sparse=True`` with ``"int"``, or an
            ``"int"`` mode with a non-integer ``dtype``.
        TypeError: for inputs that are neither strings nor numbers.

    Example:
        >>> Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]]).tolist()
        [[1], [1], [0], [2], [2]]
        >>> Hashing(num_bins=3, salt=[133, 137])(["A", "B", "C", "D", "E"]).tolist()
        [1, 2, 1, 0, 2]
    """

    def __init__(self, num_bins: int, mask_value: Any = None, salt: Any = None, output_mode: str = "int",
                 sparse: bool = False, **kwargs: Any) -> None:
        if num_bins is None or isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) \
                or num_bins <= 0:
            raise ValueError(
                "The `num_bins` for `Hashing` cannot be `None` or non-positive values. "
                f"Received: num_bins={num_bins!r}."
            )
        _validation.one_of("output_mode", output_mode, ("int", "one_hot", "multi_hot", "count"))
        if not isinstance(sparse, bool):
            raise TypeError(f"`sparse` must be a bool. Received: sparse={sparse!r}")
        if sparse and output_mode == "int":
            raise ValueError(
                '`sparse` may only be true if `output_mode` is "one_hot", "multi_hot", or "count". '
                f"Received: sparse={sparse} and output_mode={output_mode!r}"
            )
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(
                    isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in salt):
                salt = [int(salt[0]), int(salt[1])]
            elif isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
                salt = [int(salt), int(salt)]
            else:
                raise ValueError(
                    "The `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a single "
                    f"integer. Received: salt={salt!r}."
                )
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        if output_mode == "int" and self.dtype not in (torch.int32, torch.int64):
            raise ValueError(
                "When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or 'int64'. "
                f"Received: dtype={kwargs['dtype']!r}"
            )
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.salt = salt
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, str) or (isinstance(inputs, (list, tuple)) and not _holds_tensors(inputs)):
            inputs = _as_array(inputs)  # nested lists: one array (Layer leaves arrays of text alone)
        return super().__call__(inputs, *args, **kwargs)

    def build(self, input_shape: Any) -> None:
        pass  # no weights

    def _bins(self, array: np.ndarray) -> np.ndarray:
        """Bin index of every element of ``array`` (int64, same shape)."""
        salt = None if self.salt is None else (self.salt[0], self.salt[1])
        bins = self.num_bins
        masked = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            if array.dtype.kind in "iufb":
                masked = array == self.mask_value
            else:
                mask_key = _key(self.mask_value)
                masked = np.vectorize(lambda v: _key(v) == mask_key, otypes=[bool])(array) if array.size else \
                    np.zeros(array.shape, dtype=bool)
        flat = [_hash(_key(v), salt) % bins for v in array.reshape(-1).tolist()]
        out = np.asarray(flat, dtype=np.int64).reshape(array.shape)
        if masked is not None:
            out = np.where(masked, 0, out + 1)
        return out

    def call(self, inputs: Any) -> torch.Tensor:
        device = inputs.device if isinstance(inputs, torch.Tensor) else None
        array = inputs.detach().cpu().numpy() if isinstance(inputs, torch.Tensor) else _as_array(inputs)
        ids = torch.as_tensor(self._bins(array), device=device)
        if self.output_mode == "int":
            return ids.to(self.dtype)
        if ids.dim() == 0:
            ids = ids.reshape(1)
        return _encode(ids, self.num_bins, self.output_mode, self.dtype, self.sparse)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        if self.output_mode == "one_hot" and input_shape and input_shape[-1] != 1:
            return input_shape + (self.num_bins,)
        return input_shape[:-1] + (self.num_bins,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(num_bins=self.num_bins, salt=self.salt, mask_value=self.mask_value,
                      output_mode=self.output_mode, sparse=self.sparse)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_bins={self.num_bins}, salt={self.salt}, output_mode={self.output_mode!r}"


def _as_array(value: Any) -> np.ndarray:
    """Values as a NumPy array: numbers keep their dtype, text becomes an array of objects."""
    array = np.asarray(value)
    return array.astype(object) if array.dtype.kind in "US" else array


def _holds_tensors(value: Any) -> bool:
    return any(isinstance(v, torch.Tensor) or (isinstance(v, (list, tuple)) and _holds_tensors(v)) for v in value)
