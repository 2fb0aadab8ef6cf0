"""StringLookup and IntegerLookup: tokens -> indices (or one-hot/multi-hot/count/tf-idf vectors).

Formula (Keras 3): index ``i`` of a token is its position in ``get_vocabulary()``, which is
``[mask_token] ("int" mode, when set) + [oov_token] * num_oov_indices + tokens``; ``adapt`` orders
the tokens by descending frequency (ties: descending token). ``invert=True`` maps indices back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from easynn.layers.base import Layer
from easynn.layers.preprocessing._lookup import Vocabulary, encode_bags

__all__ = ["StringLookup", "IntegerLookup"]


class _Lookup(Layer):
    """Shared body of StringLookup and IntegerLookup (subclasses say how to read the inputs)."""

    _kind = "token"

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: Any = None,
                 oov_token: Any = None, vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False, sparse: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if sparse:
            raise ValueError(f"easynn has no sparse tensors. Received: sparse={sparse}")
        self._vocab = Vocabulary(mask_token, oov_token, num_oov_indices, max_tokens, output_mode)
        if invert and output_mode != "int":
            raise ValueError(f"`invert=True` needs output_mode='int'. Received: output_mode={output_mode!r}")
        self.max_tokens, self.num_oov_indices = max_tokens, num_oov_indices
        self.mask_token, self.oov_token, self.invert = mask_token, oov_token, bool(invert)
        self.output_mode, self.pad_to_max_tokens = output_mode, bool(pad_to_max_tokens)
        self.register_buffer("_device_anchor", torch.zeros(0, dtype=torch.int64), persistent=False)
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------------------ vocabulary
    def _read(self, inputs: Any) -> np.ndarray:
        raise NotImplementedError

    def _batches(self, data: Any, steps: int | None):
        try:
            yield self._read(data)
            return
        except (TypeError, ValueError):
            if not hasattr(data, "__iter__"):
                raise
        for step, batch in enumerate(data):
            if steps is not None and step >= steps:
                return
            if isinstance(batch, tuple) and len(batch) in (2, 3):
                batch = batch[0]  # (x, y) pairs: adapt on x
            yield self._read(batch)

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Build the vocabulary from ``data`` (an array/list, or batches of them / ``(x, y)`` pairs).

        Each row of a 2-D batch is one document (for ``tf_idf``); 1-D batches count each element.
        """
        def documents():
            for array in self._batches(data, steps):
                rows = array.reshape(-1, 1) if array.ndim <= 1 else array.reshape(array.shape[0], -1)
                yield from (row.tolist() for row in rows)

        self._vocab.adapt(documents())

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the tokens (special tokens first, as ``get_vocabulary()`` shows them, are allowed)."""
        self._vocab.set(self._read(vocabulary).reshape(-1).tolist() if len(vocabulary) else [], idf_weights)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The tokens by index, special tokens first."""
        return self._vocab.get() if include_special_tokens else list(self._vocab.tokens or [])

    def vocabulary_size(self) -> int:
        """``len(get_vocabulary())``."""
        return self._vocab.size()

    # ------------------------------------------------------------------ call
    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.invert and not isinstance(inputs, torch.Tensor):
            try:
                inputs = self._read(inputs).tolist()  # nested lists: Layer.__call__ leaves them alone
            except (TypeError, ValueError):
                pass
        return super().__call__(inputs, *args, **kwargs)

    def build(self, input_shape: Any) -> None:
        pass  # no weights; the vocabulary is state set by adapt()/set_vocabulary()

    def call(self, inputs: Any) -> Any:
        if not self._vocab.ready():
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) has no vocabulary: call adapt(data) first, "
                "or pass vocabulary=[...].")
        device = self._device_anchor.device
        if self.invert:
            ids = inputs.detach().cpu().numpy() if isinstance(inputs, torch.Tensor) else np.asarray(inputs)
            vocab = self._vocab
            return np.vectorize(lambda i: vocab.invert(int(i)), otypes=[object])(ids) if ids.size else ids.astype(object)
        array = self._read(inputs)
        ids = np.vectorize(self._vocab.lookup, otypes=[np.int64])(array) if array.size else array.astype(np.int64)
        if self.output_mode == "int":
            return torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64)).to(device)
        depth = self._vocab.depth(self.pad_to_max_tokens)
        if self.output_mode == "one_hot":
            if ids.ndim > 1 and ids.shape[-1] == 1:
                ids = ids[..., 0]
            flat = ids.reshape(-1, 1)
            out = encode_bags(flat.tolist(), "one_hot", depth, None, device)
            return out.reshape(*ids.shape, depth)
        rows = ids.reshape(-1, 1) if ids.ndim <= 1 else ids.reshape(ids.shape[0], -1)
        return encode_bags(rows.tolist(), self.output_mode, depth, self._vocab.idf, device)

    def get_config(self) -> dict:
        config = super().get_config()
        vocab = self._vocab
        config.update(
            max_tokens=self.max_tokens, num_oov_indices=self.num_oov_indices, mask_token=self.mask_token,
            oov_token=self.oov_token, invert=self.invert, output_mode=self.output_mode,
            pad_to_max_tokens=self.pad_to_max_tokens,
            # The vocabulary is the layer's whole state: it travels in the config (and so in saved models).
            vocabulary=None if not vocab.ready() else list(vocab.tokens),
            idf_weights=None if vocab.idf is None else vocab.idf[vocab.start:].tolist(),
        )
        return config


class StringLookup(_Lookup):
    """Map strings to integer indices through a vocabulary (Keras's ``StringLookup``).

    Formula: ``index = get_vocabulary().index(token)``, unknown tokens -> the OOV index
    (1 with ``mask_token`` set in ``"int"`` mode, else 0).

    Args:
        max_tokens: the largest vocabulary, special tokens included (None: no limit); > 1.
        num_oov_indices: OOV slots (0: unknown tokens raise; > 1: tokens hash into them by CRC32,
            not Keras's FarmHash).
        mask_token: a token mapped to 0 in ``"int"`` mode (padding); None: no mask.
        oov_token: the token ``invert`` gives for OOV indices.
        vocabulary: a list/array of tokens.
        idf_weights: ``"tf_idf"`` with ``vocabulary``: one weight per token.
        invert: map indices back to tokens (``"int"`` mode; returns a NumPy array of objects).
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: vector modes: width ``max_tokens`` instead of the vocabulary size.

    Call arguments:
        inputs: strings: a list (nested for 2-D) or a NumPy array of ``str``.

    Shape:
        ``"int"``: the input's shape, int64; ``"one_hot"``: ``input_shape + (depth,)``; other
        modes: ``(batch, depth)`` float32 (each row of a 2-D input is one sample).

    Raises:
        ValueError: for an unknown ``output_mode``, ``max_tokens <= 1``, a repeated token in
            ``vocabulary``, ``invert`` outside ``"int"`` mode, or a call without a vocabulary.

    Example:
        >>> layer = StringLookup(vocabulary=["a", "b", "c"])
        >>> layer([["a", "c"], ["d", "b"]]).tolist()
        [[1, 3], [0, 2]]
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: str | None = None,
                 oov_token: str = "[UNK]", vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False, sparse: bool = False,
                 encoding: str = "utf-8", **kwargs: Any) -> None:
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                         output_mode, pad_to_max_tokens, sparse, **kwargs)

    def _read(self, inputs: Any) -> np.ndarray:
        if isinstance(inputs, str):
            inputs = [inputs]
        array = np.asarray(inputs, dtype=object)
        if array.size and not all(isinstance(v, str) for v in array.flat):
            raise TypeError(f"StringLookup expects strings. Received values of type {type(next(iter(array.flat))).__name__}.")
        return array

    def get_config(self) -> dict:
        config = super().get_config()
        config["encoding"] = self.encoding
        return config


class IntegerLookup(_Lookup):
    """Map integers to contiguous indices through a vocabulary (Keras's ``IntegerLookup``).

    Formula: as ``StringLookup``, with integer tokens; ``oov_token`` defaults to -1.

    Args:
        max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
            output_mode, pad_to_max_tokens: as ``StringLookup``.

    Call arguments:
        inputs: an integer tensor, NumPy array or (nested) list.

    Shape:
        as ``StringLookup``.

    Raises:
        ValueError: as ``StringLookup``.

    Example:
        >>> layer = IntegerLookup(vocabulary=[12, 36, 1138])
        >>> layer(torch.tensor([[12, 1138], [42, 36]])).tolist()
        [[1, 3], [0, 2]]
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: int | None = None,
                 oov_token: int = -1, vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False, sparse: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                         output_mode, pad_to_max_tokens, sparse, **kwargs)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(np.asarray(inputs, dtype=np.int64))
        return super().__call__(inputs, *args, **kwargs)

    def _read(self, inputs: Any) -> np.ndarray:
        if isinstance(inputs, torch.Tensor):
            inputs = inputs.detach().cpu().numpy()
        array = np.asarray(inputs)
        if array.size and array.dtype.kind not in "iu":
            raise TypeError(f"IntegerLookup expects integers. Received an array of dtype {array.dtype}.")
        return array.astype(np.int64)
