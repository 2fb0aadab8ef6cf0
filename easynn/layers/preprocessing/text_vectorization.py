"""TextVectorization: strings -> token indices (or bags of tokens), inside the model.

Formula (Keras 3): ``text -> standardize -> split -> ngrams -> vocabulary lookup``. In ``"int"``
mode index 0 is padding (``""``) and 1 is OOV (``"[UNK]"``); tokens follow by descending
frequency (ties: descending token). Batches are ``list``s of ``str`` (easynn has no string tensors);
``text_dataset_from_directory`` yields such batches and ``fit`` passes them to the first layer.
"""

from __future__ import annotations

import re
import string
from typing import Any, Iterable

import numpy as np
import torch

from easynn._validation import one_of
from easynn.layers.base import Layer
from easynn.layers.preprocessing._lookup import OUTPUT_MODES, Vocabulary, encode_bags

__all__ = ["TextVectorization", "as_strings", "string_batches"]

_PUNCTUATION = re.compile("[" + re.escape(string.punctuation) + "]")
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


def as_strings(inputs: Any) -> list[str] | None:
    """A batch of strings as a ``list`` (an ``(n, 1)`` array gives ``n`` strings); None if not strings."""
    if isinstance(inputs, str):
        return [inputs]
    if isinstance(inputs, np.ndarray) and inputs.dtype.kind in "USO":
        flat = inputs.reshape(len(inputs), -1)[:, 0] if inputs.ndim > 1 else inputs.reshape(-1)
        values = [v.decode("utf-8") if isinstance(v, bytes) else v for v in flat.tolist()]
        return values if all(isinstance(v, str) for v in values) else None
    if isinstance(inputs, (list, tuple)) and all(isinstance(v, str) for v in inputs):
        return list(inputs)
    return None


def string_batches(data: Any, steps: int | None = None) -> Iterable[list[str]]:
    """The string batches of ``adapt``'s data: one batch, or an iterable of batches / ``(x, y)`` pairs.

    Raises:
        TypeError: for data that hold no strings.
    """
    single = as_strings(data)
    if single is not None:
        yield single
        return
    for step, batch in enumerate(data):
        if steps is not None and step >= steps:
            return
        strings = as_strings(batch)
        if strings is None and isinstance(batch, (tuple, list)) and batch:
            strings = as_strings(batch[0])  # (texts, labels): adapt on the texts
        if strings is None:
            raise TypeError(f"adapt() expects strings (a list/array of str, or batches of them). Received a batch of type {type(batch).__name__}.")
        yield strings


class TextVectorization(Layer):
    """Turn strings into sequences of token indices, or into multi-hot/count/tf-idf vectors.

    Formula: ``standardize(text).split()`` -> n-grams -> indices in ``get_vocabulary()``;
    ``output_sequence_length`` pads with 0 or truncates (else: the longest text of the batch).

    Args:
        max_tokens: the largest vocabulary, padding and OOV included (None: no limit); > 1.
        standardize: ``"lower_and_strip_punctuation"``, ``"lower"``, ``"strip_punctuation"``,
            None, or a callable ``str -> str``.
        split: ``"whitespace"``, ``"character"``, None (the whole text is one token) or a callable
            ``str -> list[str]``.
        ngrams: None, an integer ``n`` (1- to n-grams) or a tuple of n-gram sizes.
        output_mode: ``"int"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: ``"int"`` mode only: pad/truncate every output to this length.
        pad_to_max_tokens: bag modes: output width ``max_tokens`` instead of the vocabulary size.
        vocabulary: a list of tokens (or the path of a file with one token per line).
        idf_weights: ``"tf_idf"`` with ``vocabulary``: one weight per token.

    Call arguments:
        inputs: a list/tuple/NumPy array of ``str`` (shape ``(batch,)`` or ``(batch, 1)``).

    Shape:
        ``"int"``: ``(batch, length)`` int64; other modes: ``(batch, depth)`` float32; on the
        layer's device (``model.to(device)`` moves it).

    Raises:
        ValueError: for an unknown ``output_mode``/``standardize``/``split``, ``max_tokens <= 1``,
            ``output_sequence_length`` outside ``"int"`` mode, or a call before ``adapt()``
            without a ``vocabulary``.

    Example:
        >>> layer = TextVectorization(output_sequence_length=4)
        >>> layer.adapt(["the cat sat", "the dog"])
        >>> layer.get_vocabulary()
        ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
        >>> layer(["The bird sat!"]).tolist()
        [[2, 1, 3, 0]]
    """

    def __init__(self, max_tokens: int | None = None, standardize: Any = "lower_and_strip_punctuation",
                 split: Any = "whitespace", ngrams: Any = None, output_mode: str = "int",
                 output_sequence_length: int | None = None, pad_to_max_tokens: bool = False,
                 vocabulary: Any = None, idf_weights: Any = None, sparse: bool = False,
                 ragged: bool = False, encoding: str = "utf-8", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        one_of("output_mode", output_mode, [m for m in OUTPUT_MODES if m != "one_hot"])
        if not (standardize is None or callable(standardize)):
            one_of("standardize", standardize, _STANDARDIZE)
        if not (split is None or callable(split)):
            one_of("split", split, _SPLIT)
        self.ngrams = _check_ngrams(ngrams)
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(
                    "`output_sequence_length` is only used with output_mode='int'. "
                    f"Received: output_mode={output_mode!r}, output_sequence_length={output_sequence_length!r}")
            if isinstance(output_sequence_length, bool) or not isinstance(output_sequence_length, int) \
                    or output_sequence_length < 1:
                raise ValueError(f"`output_sequence_length` must be a positive integer or None. "
                                 f"Received: output_sequence_length={output_sequence_length!r}")
        if sparse or ragged:
            raise ValueError(f"easynn has no sparse or ragged tensors. Received: sparse={sparse}, ragged={ragged}")
        self.max_tokens, self.standardize, self.split = max_tokens, standardize, split
        self.output_mode, self.output_sequence_length = output_mode, output_sequence_length
        self.pad_to_max_tokens, self.encoding = bool(pad_to_max_tokens), encoding
        self._vocab = Vocabulary("", "[UNK]", 1, max_tokens, output_mode)
        # A non-persistent, non-float buffer: not a weight, but model.to(device) moves it.
        self.register_buffer("_device_anchor", torch.zeros(0, dtype=torch.int64), persistent=False)
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------------------ vocabulary
    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Build the vocabulary from ``data``: strings, or batches of strings / ``(strings, labels)``."""
        self._vocab.adapt(doc for batch in string_batches(data, steps) for doc in map(self._tokens, batch))

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the tokens (a list, or a file with one per line); ``idf_weights`` for ``"tf_idf"``."""
        if isinstance(vocabulary, str):
            with open(vocabulary, encoding=self.encoding) as handle:
                vocabulary = [line.rstrip("\n") for line in handle]
        self._vocab.set(vocabulary, idf_weights)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The tokens by index: ``["", "[UNK]", ...]`` in ``"int"`` mode, ``["[UNK]", ...]`` otherwise."""
        return self._vocab.get() if include_special_tokens else list(self._vocab.tokens or [])

    def vocabulary_size(self) -> int:
        """``len(get_vocabulary())``."""
        return self._vocab.size()

    # ------------------------------------------------------------------ text -> tokens
    def _tokens(self, text: str) -> list[str]:
        if callable(self.standardize):
            text = self.standardize(text)
        elif self.standardize is not None:
            if "lower" in self.standardize:
                text = text.lower()
            if "strip_punctuation" in self.standardize:
                text = _PUNCTUATION.sub("", text)
        if callable(self.split):
            tokens = list(self.split(text))
        elif self.split == "whitespace":
            tokens = text.split()
        elif self.split == "character":
            tokens = list(text)
        else:
            tokens = [text]
        if self.ngrams is None:
            return tokens
        return [" ".join(tokens[i : i + n]) for n in self.ngrams for i in range(len(tokens) - n + 1)]

    # ------------------------------------------------------------------ call
    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        strings = as_strings(inputs)
        return super().__call__(inputs if strings is None else strings, *args, **kwargs)

    def build(self, input_shape: Any) -> None:
        pass  # no weights; the vocabulary is state set by adapt()/set_vocabulary()

    def call(self, inputs: Any) -> torch.Tensor:
        strings = as_strings(inputs)
        if strings is None:
            raise TypeError(f"TextVectorization expects a list or array of str. Received: {type(inputs).__name__}")
        if not self._vocab.ready():
            raise ValueError(
                f"Layer '{self.name}' (TextVectorization) has no vocabulary: call adapt(data) first, "
                "or pass vocabulary=[...] (or call set_vocabulary).")
        rows = [[self._vocab.lookup(t) for t in self._tokens(s)] for s in strings]
        device = self._device_anchor.device
        if self.output_mode != "int":
            depth = self._vocab.depth(self.pad_to_max_tokens)
            return encode_bags(rows, self.output_mode, depth, self._vocab.idf, device)
        length = self.output_sequence_length or max((len(r) for r in rows), default=0)
        out = np.zeros((len(rows), length), dtype=np.int64)
        for i, row in enumerate(rows):
            row = row[:length]
            out[i, : len(row)] = row
        return torch.from_numpy(out).to(device)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        batch = input_shape[0] if isinstance(input_shape, (tuple, list)) and input_shape else None
        if self.output_mode == "int":
            return (batch, self.output_sequence_length)
        return (batch, self._vocab.depth(self.pad_to_max_tokens) if self._vocab.ready() else None)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            max_tokens=self.max_tokens, standardize=self.standardize, split=self.split,
            ngrams=self.ngrams if self.ngrams is None else list(self.ngrams),
            output_mode=self.output_mode, output_sequence_length=self.output_sequence_length,
            pad_to_max_tokens=self.pad_to_max_tokens, encoding=self.encoding,
            # The vocabulary is the layer's whole state: it travels in the config (and so in saved models).
            vocabulary=None if not self._vocab.ready() else list(self._vocab.tokens),
            idf_weights=None if self._vocab.idf is None else self._vocab.idf[self._vocab.start:].tolist(),
        )
        return config

    def extra_repr(self) -> str:
        return f"output_mode={self.output_mode!r}, vocabulary_size={self.vocabulary_size() if self._vocab.ready() else None}"


def _check_ngrams(ngrams: Any) -> tuple[int, ...] | None:
    if ngrams is None:
        return None
    if isinstance(ngrams, int) and not isinstance(ngrams, bool) and ngrams >= 1:
        return tuple(range(1, ngrams + 1))
    if isinstance(ngrams, (tuple, list)) and ngrams and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in ngrams):
        return tuple(int(n) for n in ngrams)
    raise ValueError(f"`ngrams` must be None, a positive integer or a tuple of positive integers. Received: ngrams={ngrams!r}")


