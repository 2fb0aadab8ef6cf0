"""The vocabulary shared by TextVectorization, StringLookup and IntegerLookup (Keras's IndexLookup).

Formula (Keras 3): the vocabulary is ``[mask_token] (int mode only) + [oov_token] * num_oov_indices
+ tokens``. ``adapt`` keeps tokens by descending frequency, ties broken by descending token (Keras
sorts ``(count, token)`` and reverses), cut to ``max_tokens`` entries in all. ``tf_idf`` weights
are ``log(1 + num_documents / (1 + document_count))``; the OOV slots get their mean.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

import numpy as np
import torch

from easynn._validation import one_of
from easynn.layers.preprocessing.hashing import fingerprint64

__all__ = ["Vocabulary", "OUTPUT_MODES", "encode_bags", "check_max_tokens"]

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def check_max_tokens(max_tokens: Any) -> int | None:
    """``max_tokens`` is None or an integer greater than 1 (Keras's rule)."""
    if max_tokens is None:
        return None
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, (int, np.integer)) or max_tokens <= 1:
        raise ValueError(f"If set, `max_tokens` must be an integer greater than 1. Received: max_tokens={max_tokens!r}")
    return int(max_tokens)


class Vocabulary:
    """Tokens <-> indices, with Keras's special tokens in front.

    Args:
        mask_token: index 0 in ``"int"`` mode when not None (padding).
        oov_token: the token shown for the OOV slots.
        num_oov_indices: how many OOV slots (unknown tokens hash into them; 0: unknown tokens raise).
        max_tokens: the largest vocabulary, special tokens included (None: no limit).
        output_mode: one of ``OUTPUT_MODES``.
    """

    def __init__(self, mask_token: Any, oov_token: Any, num_oov_indices: int, max_tokens: int | None,
                 output_mode: str) -> None:
        self.mode = one_of("output_mode", output_mode, OUTPUT_MODES)
        self.max_tokens = check_max_tokens(max_tokens)
        if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, int) or num_oov_indices < 0:
            raise ValueError(f"`num_oov_indices` must be a non-negative integer. Received: num_oov_indices={num_oov_indices!r}")
        self.mask_token, self.oov_token, self.num_oov = mask_token, oov_token, num_oov_indices
        self.tokens: list | None = None
        self.idf: np.ndarray | None = None  # one weight per entry of get() (tf_idf only)
        self._index: dict = {}

    # ------------------------------------------------------------------ layout
    def specials(self) -> list:
        mask = [self.mask_token] if self.mask_token is not None and self.mode == "int" else []
        return mask + [self.oov_token] * self.num_oov

    @property
    def start(self) -> int:
        """Index of the first real token."""
        return len(self.specials())

    def get(self) -> list:
        return self.specials() + list(self.tokens or [])

    def size(self) -> int:
        return len(self.get())

    def depth(self, pad_to_max_tokens: bool) -> int:
        """Width of the one_hot/multi_hot/count/tf_idf outputs."""
        return self.max_tokens if pad_to_max_tokens and self.max_tokens is not None else self.size()

    # ------------------------------------------------------------------ setting
    def set(self, tokens: Iterable, idf_weights: Any = None) -> None:
        """Set the tokens (leading special tokens, as ``get()`` returns them, are dropped).

        Raises:
            ValueError: for repeated tokens, special tokens among the tokens, too many tokens, or
                ``idf_weights`` missing/misshaped in ``tf_idf`` mode (or given in another mode).
        """
        tokens = list(np.asarray(tokens).tolist()) if isinstance(tokens, np.ndarray) else list(tokens)
        specials = self.specials()
        given_specials = tokens[: len(specials)] == specials and bool(specials)
        if given_specials:
            tokens = tokens[len(specials):]
        repeated = [t for t, n in Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError(f"The `vocabulary` must hold unique tokens. Repeated: {repeated[:5]}")
        bad = [t for t in tokens if t is not None and (t == self.mask_token or t == self.oov_token)]
        if bad:
            raise ValueError(
                f"The `vocabulary` holds the special token {bad[0]!r} after its start. Special tokens "
                f"({specials}) may only come first, in that order.")
        if self.max_tokens is not None and len(tokens) + len(specials) > self.max_tokens:
            raise ValueError(
                f"The `vocabulary` has {len(tokens) + len(specials)} entries (special tokens included), more than "
                f"max_tokens={self.max_tokens}. Pass a shorter vocabulary or raise max_tokens.")
        if self.mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("output_mode='tf_idf' needs `idf_weights` with the `vocabulary` (or call adapt()).")
            idf = np.asarray(idf_weights, dtype=np.float32).reshape(-1)
            if len(idf) == len(tokens):  # Keras pads the special slots with the mean weight
                fill = float(idf.mean()) if len(idf) else 0.0
                idf = np.concatenate([np.full(len(specials), fill, np.float32), idf])
            if len(idf) != len(tokens) + len(specials):
                raise ValueError(f"`idf_weights` has {len(idf)} entries; the vocabulary has {len(tokens)} tokens.")
            self.idf = idf
        elif idf_weights is not None:
            raise ValueError(f"`idf_weights` is only used with output_mode='tf_idf'. Received output_mode={self.mode!r}")
        self.tokens = tokens
        self._index = {t: self.start + i for i, t in enumerate(tokens)}

    def adapt(self, documents: Iterable[list]) -> None:
        """Count the tokens of ``documents`` (lists of tokens) and keep the most frequent.

        Raises:
            ValueError: if there were no documents.
        """
        counts: Counter = Counter()
        doc_counts: Counter = Counter()
        num_docs = 0
        for doc in documents:
            counts.update(doc)
            doc_counts.update(set(doc))
            num_docs += 1
        if num_docs == 0:
            raise ValueError("adapt() received no data: pass a non-empty array, list or dataset.")
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        order = sorted(counts.items(), key=lambda kv: (kv[1], _sort_key(kv[0])), reverse=True)
        keep = None if self.max_tokens is None else max(self.max_tokens - self.start, 0)
        tokens = [t for t, _ in order[:keep]]
        idf = None
        if self.mode == "tf_idf":
            idf = np.log1p(num_docs / (1.0 + np.array([doc_counts[t] for t in tokens], dtype=np.float64)))
        self.set(tokens, None if idf is None else idf.astype(np.float32))

    # ------------------------------------------------------------------ lookup
    def ready(self) -> bool:
        return self.tokens is not None

    def lookup(self, token: Any) -> int:
        index = self._index.get(token)
        if index is not None:
            return index
        if self.mask_token is not None and token == self.mask_token:
            return 0 if self.mode == "int" else -1  # masked entries count for nothing in bag modes
        if self.num_oov == 0:
            raise ValueError(f"Found the token {token!r}, which is not in the vocabulary, but num_oov_indices=0.")
        first = 1 if self.mask_token is not None and self.mode == "int" else 0
        if self.num_oov == 1:
            return first
        # Keras (TensorFlow's vocabulary table) buckets an unknown token by FarmHash Fingerprint64 of
        # its text: StringLookup's documented [["m", "z"]] -> OOV slots [0, 1] holds here too.
        return first + fingerprint64(str(token)) % self.num_oov

    def invert(self, index: int) -> Any:
        vocab = self.get()
        return vocab[index] if 0 <= index < len(vocab) else self.oov_token


def _sort_key(token: Any) -> Any:
    return token.encode("utf-8") if isinstance(token, str) else token


def encode_bags(rows: list[list[int]], mode: str, depth: int, idf: np.ndarray | None,
                device: torch.device) -> torch.Tensor:
    """``(len(rows), depth)`` float32: multi_hot (0/1), count, or tf_idf (count * idf).

    Indices ``< 0`` (masked) and ``>= depth`` are dropped.
    """
    out = np.zeros((len(rows), depth), dtype=np.float32)
    for r, ids in enumerate(rows):
        ids = np.asarray([i for i in ids if 0 <= i < depth], dtype=np.int64)
        if mode == "multi_hot" or mode == "one_hot":
            out[r, ids] = 1.0
        else:
            np.add.at(out[r], ids, 1.0)
    if mode == "tf_idf" and idf is not None:
        weights = np.zeros(depth, dtype=np.float32)
        weights[: min(depth, len(idf))] = idf[:depth]
        out *= weights
    return torch.from_numpy(out).to(device)
