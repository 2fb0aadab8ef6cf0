"""HashedCrossing: crosses categorical features by hashing their combination, with Keras's bins.

Formula (Keras 3 / ``tf.sparse.cross_hashed``, for the values ``v_1 .. v_k`` of one sample):

    f_i  = FarmHash Fingerprint64(UTF-8 bytes of v_i)   for a string feature
         = v_i as an unsigned 64-bit integer            for an integer feature
    h    = 0xDECAFCAFFE                                 (TensorFlow's default hash key)
    h    = FingerprintCat64(h, f_i)                     for i = 1 .. k, in the order given
    bin  = h % num_bins

``FingerprintCat64(a, b)`` is TensorFlow's 64-bit mix of two fingerprints (``kMul =
0xc6a4a7935bd1e995``, ``ShiftMix(x) = x ^ (x >> 47)``, all arithmetic modulo 2**64):

    r = a ^ kMul;  r ^= ShiftMix(b * kMul) * kMul;  r *= kMul;  r = ShiftMix(r) * kMul;  r = ShiftMix(r)

So the bins equal Keras's (TensorFlow's) on every platform: ``HashedCrossing(num_bins=5)`` on
``(["A", "B", "A", "B", "A"], [101, 101, 101, 102, 102])`` gives ``[1, 4, 1, 1, 3]``, Keras's
documented numbers. String fingerprints are computed once per distinct value and cached; the mixing
runs vectorised in NumPy ``uint64`` arithmetic.

Example:
    >>> import numpy as np
    >>> layer = HashedCrossing(num_bins=5)
    >>> layer((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102]))).tolist()
    [1, 4, 1, 1, 3]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from easynn import _validation
from easynn.layers._layer_utils import _is_symbolic
from easynn.layers.base import Layer
from easynn.layers.preprocessing.encoding import _encode
from easynn.layers.preprocessing.hashing import _hash

__all__ = ["HashedCrossing", "cross_hashed"]

_HASH_KEY = 0xDECAFCAFFE  # tf.sparse.cross_hashed's default hash_key
_K_MUL = np.uint64(0xC6A4A7935BD1E995)
_SHIFT = np.uint64(47)


def _shift_mix(value: np.ndarray) -> np.ndarray:
    return value ^ (value >> _SHIFT)


def _fingerprint_cat64(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """TensorFlow's ``FingerprintCat64`` of two ``uint64`` arrays (elementwise, wrapping)."""
    result = first ^ _K_MUL
    result = result ^ (_shift_mix(second * _K_MUL) * _K_MUL)
    result = result * _K_MUL
    result = _shift_mix(result) * _K_MUL
    return _shift_mix(result)


def _feature_hashes(values: np.ndarray) -> np.ndarray:
    """Per-element ``uint64`` of one feature (flat): fingerprints of text, the bits of integers."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64).view(np.uint64)  # negative ints keep their two's complement bits
    hashes = np.empty(values.shape, dtype=np.uint64)
    for i, value in enumerate(values.tolist()):
        key = value if isinstance(value, bytes) else str(value).encode("utf-8")
        hashes[i] = _hash(key, None)
    return hashes


def cross_hashed(features: list[np.ndarray], num_bins: int) -> np.ndarray:
    """The crossed bin of each sample of ``features`` (NumPy arrays of one shape), as int64.

    Args:
        features: two or more arrays of equal shape, each integers or text (``str``/``bytes``).
        num_bins: the number of bins (> 0).

    Returns:
        An int64 array of the features' shape with values in ``[0, num_bins)``.

    Example:
        >>> cross_hashed([np.array(["A"]), np.array([101])], 10).tolist()
        [1]
    """
    shape = features[0].shape
    crossed = np.full(int(np.prod(shape, dtype=np.int64)), _HASH_KEY, dtype=np.uint64)
    for values in features:
        crossed = _fingerprint_cat64(crossed, _feature_hashes(values.reshape(-1)))
    return (crossed % np.uint64(num_bins)).astype(np.int64).reshape(shape)


def _as_feature(value: Any) -> Any:
    """One input: tensors stay tensors; anything else becomes a NumPy array (text as objects)."""
    if isinstance(value, torch.Tensor):
        return value
    array = np.asarray(value)
    return array.astype(object) if array.dtype.kind in "US" else array


def _kind(feature: Any) -> str:
    """``"int"``, ``"string"``, or the dtype's name for anything else."""
    if isinstance(feature, torch.Tensor):
        if feature.dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.uint16,
                             torch.uint32, torch.uint64):
            return "int"
        return str(feature.dtype).replace("torch.", "")
    if feature.dtype.kind in "iu":
        return "int"
    if feature.dtype.kind == "O":
        if all(isinstance(v, (str, bytes)) for v in feature.reshape(-1).tolist()):
            return "string"
        return "object"
    return str(feature.dtype)


class HashedCrossing(Layer):
    """Crosses two or more categorical features into one by hashing their combination, as Keras.

    Conceptually ``hash(concatenate(features)) % num_bins``; see the module docstring for the
    exact hash (TensorFlow's ``sparse.cross_hashed``), which gives Keras's bin numbers. Only
    scalar features are crossed: each input has shape ``()``, ``(batch,)`` or ``(batch, 1)``.

    Args:
        num_bins: number of hash bins.
        output_mode: ``"int"`` (default, the bin indices) or ``"one_hot"`` (a vector of
            ``num_bins`` entries with a 1 at the bin).
        sparse: with ``"one_hot"``, return a torch sparse COO tensor (ignored with ``"int"``,
            as in Keras).
        name: the layer name.
        dtype: output dtype; ``"int64"`` by default for ``"int"``, ``"float32"`` for
            ``"one_hot"``.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: a tuple or list of two or more features of one shape: integer tensors/arrays, or
            text (NumPy arrays of ``str``/``bytes``, nested lists of ``str``).

    Shape:
        ``"int"``: the inputs' shape. ``"one_hot"``: ``(batch, num_bins)`` for inputs
        ``(batch,)`` or ``(batch, 1)``, ``(1, num_bins)`` for scalars.

    Returns:
        The bins (int64, or ``dtype``) or their one-hot encoding (float32, or ``dtype``), on the
        device of the first tensor input (CPU for NumPy inputs).

    Raises:
        ValueError: for a ``num_bins`` that is not a positive integer, an unknown ``output_mode``,
            inputs that are not a list/tuple of at least two features, features of different
            shapes or of rank > 2 (or rank 2 with a last axis other than 1), and features that are
            neither integers nor strings (floats, booleans).
        TypeError: for a ``sparse`` that is not a bool.

    Example:
        >>> import numpy as np
        >>> layer = HashedCrossing(num_bins=5, output_mode="one_hot")
        >>> layer((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])))
        tensor([[0., 1., 0., 0., 0.],
                [0., 0., 0., 0., 1.],
                [0., 1., 0., 0., 0.],
                [0., 1., 0., 0., 0.],
                [0., 0., 0., 1., 0.]])
    """

    def __init__(self, num_bins: int, output_mode: str = "int", sparse: bool = False, name: str | None = None,
                 dtype: Any = None, **kwargs: Any) -> None:
        num_bins = _validation.positive_int("num_bins", num_bins)
        _validation.one_of("output_mode", output_mode, ("int", "one_hot"))
        if not isinstance(sparse, bool):
            raise TypeError(f"`sparse` must be a bool. Received: sparse={sparse!r}")
        if dtype is None:
            dtype = "int64" if output_mode == "int" else "float32"
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, (list, tuple)) and not _is_symbolic(inputs):
            inputs = tuple(_as_feature(v) for v in inputs)
        return super().__call__(inputs, *args, **kwargs)

    def build(self, input_shape: Any) -> None:
        pass  # no weights

    def _check_inputs(self, inputs: Any) -> None:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"`HashedCrossing` should be called on a list or tuple of inputs. Received: inputs={inputs!r}"
            )
        if len(inputs) < 2:
            raise ValueError(f"`HashedCrossing` should be called on at least two inputs. Received: inputs={inputs!r}")
        shape = tuple(inputs[0].shape)
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(
                "All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or `(batch_size, 1)`. "
                f"Received: input shapes {[tuple(x.shape) for x in inputs]}"
            )
        if any(tuple(x.shape) != shape for x in inputs[1:]):
            raise ValueError(
                "All `HashedCrossing` inputs should have equal shape. "
                f"Received: input shapes {[tuple(x.shape) for x in inputs]}"
            )
        kinds = [_kind(x) for x in inputs]
        if any(kind not in ("int", "string") for kind in kinds):
            raise ValueError(
                "All `HashedCrossing` inputs should have an integer or string dtype. "
                f"Received: input dtypes {kinds}"
            )

    def call(self, inputs: Any) -> torch.Tensor:
        inputs = tuple(_as_feature(v) for v in inputs) if isinstance(inputs, (list, tuple)) else inputs
        self._check_inputs(inputs)
        device = next((x.device for x in inputs if isinstance(x, torch.Tensor)), None)
        arrays = [x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x for x in inputs]
        ids = torch.as_tensor(cross_hashed(arrays, self.num_bins), device=device)
        if self.output_mode == "int":
            return ids.to(self.dtype)
        return _encode(ids, self.num_bins, "one_hot", self.dtype, self.sparse)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = list(input_shape) if isinstance(input_shape, (list, tuple)) else []
        if len(shapes) < 2 or not all(isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(f"Expected as input a list/tuple of 2 or more tensors. Received input_shape={input_shape}")
        first = tuple(shapes[0])
        if any(tuple(s)[-1:] != first[-1:] for s in shapes[1:]):
            raise ValueError(f"Expected the input tensors to have identical shapes. Received input_shape={input_shape}")
        if self.output_mode == "int":
            return first
        if not first:
            return (1, self.num_bins)
        if first[-1] != 1:
            return first + (self.num_bins,)
        return first[:-1] + (self.num_bins,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(num_bins=self.num_bins, output_mode=self.output_mode, sparse=self.sparse)
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_bins={self.num_bins}, output_mode={self.output_mode!r}"
