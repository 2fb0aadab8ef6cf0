"""Attention (Luong, dot-product) and AdditiveAttention (Bahdanau), as Keras writes them.

    Attention, score_mode="dot":    scores = scale * (q @ k^T)             (scale = 1 without use_scale)
    Attention, score_mode="concat": scores = w * sum(tanh(scale * (q_i + k_j)))
    AdditiveAttention:              scores = sum(scale * tanh(q_i + k_j))  (scale: a (dim,) vector)
    weights = softmax(scores - 1e9 * (not mask));  output = dropout(weights) @ value;  output *= query_mask

The inputs are ``[query, value]`` or ``[query, value, key]``; the mask ``[query_mask, value_mask]``.

Example:
    >>> import torch
    >>> q, v = torch.zeros(2, 3, 4), torch.zeros(2, 5, 4)
    >>> Attention()([q, v]).shape
    torch.Size([2, 3, 4])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from easynn import _validation
from easynn.layers.attention import _common
from easynn.layers.base import Layer

__all__ = ["Attention", "AdditiveAttention"]


class _BaseDenseAttention(Layer):
    def __init__(self, dropout: float = 0.0, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dropout = _validation.probability("dropout", dropout)
        self.seed = seed
        self.supports_masking = True

    def _split(self, inputs: Any):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(
                f"Layer '{self.name}' expects inputs as a list [query, value] or [query, value, key]. "
                f"Received: {type(inputs).__name__} of length {len(inputs) if isinstance(inputs, (list, tuple)) else '-'}."
            )
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        _common.check_same_batch(self.name, query, value, key)
        if key.shape[1] != value.shape[1]:
            raise ValueError(
                f"Layer '{self.name}' expects key and value of the same length. Received shapes "
                f"{tuple(key.shape)} and {tuple(value.shape)}."
            )
        return query, value, key

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None,
             return_attention_scores: bool = False, use_causal_mask: bool = False):
        query, value, key = self._split(inputs)
        query_mask = value_mask = None
        if mask is not None:
            masks = list(mask) if isinstance(mask, (list, tuple)) else [mask]
            query_mask = masks[0] if masks else None
            value_mask = masks[1] if len(masks) > 1 else None
        scores = self._scores(query, key)
        t, s = scores.shape[-2], scores.shape[-1]
        allowed = None
        if value_mask is not None:
            value_mask = _common.as_bool(value_mask, scores.device)
            if tuple(value_mask.shape) != (scores.shape[0], s):
                raise ValueError(
                    f"Layer '{self.name}' expects the value mask of shape {(scores.shape[0], s)}. "
                    f"Received shape {tuple(value_mask.shape)}."
                )
            allowed = value_mask[:, None, :]
        if use_causal_mask:
            causal = _common.causal_mask(t, s, scores.device)
            allowed = causal if allowed is None else allowed & causal
        if allowed is not None:
            big = 3e4 if scores.dtype == torch.float16 else 1e9
            scores = scores - big * (~allowed).to(scores.dtype)
        weights = torch.softmax(scores, dim=-1)
        if training and self.dropout:
            weights = F.dropout(weights, self.dropout, training=True)
        result = weights @ value
        if query_mask is not None:
            query_mask = torch.as_tensor(query_mask, device=result.device)
            result = result * query_mask[..., None].to(result.dtype)
        if return_attention_scores:
            return result, weights
        return result

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask (Keras)."""
        return _common.query_mask_of(mask)

    def compute_output_shape(self, input_shape):
        query, value = input_shape[0], input_shape[1]
        return (*tuple(query)[:-1], value[-1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(dropout=self.dropout, seed=self.seed)
        return config


class Attention(_BaseDenseAttention):
    """Dot-product (Luong-style) attention.

    Formula: ``weights = softmax(scale * q @ k^T)`` (``score_mode="dot"``), or
    ``softmax(w * sum(tanh(scale * (q_i + k_j))))`` (``"concat"``); ``output = weights @ value``.

    Args:
        use_scale: learn a scalar ``scale`` (initialized to 1).
        score_mode: ``"dot"`` or ``"concat"`` (adds a scalar weight ``w``).
        dropout: dropout rate on the attention weights (training only).
        seed: accepted for Keras compatibility.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: ``[query (b, T, d), value (b, S, d_v)]`` or ``[query, value, key (b, S, d)]``.
        mask: optional ``[query_mask (b, T), value_mask (b, S)]``.
        training: enables dropout.
        return_attention_scores: also return the ``(b, T, S)`` weights.
        use_causal_mask: step ``i`` attends only to steps ``j <= i``.

    Raises:
        ValueError: for inputs that are not a list of 2 or 3 tensors, different batch sizes,
            a bad mask shape or an unknown ``score_mode``.

    Example:
        >>> import torch
        >>> q = torch.tensor([[[1.0, 0.0]]])
        >>> v = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
        >>> out, w = Attention()([q, v], return_attention_scores=True)
        >>> [round(x, 4) for x in w[0, 0].tolist()]  # softmax([1, 0])
        [0.7311, 0.2689]
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        self.use_scale = bool(use_scale)
        self.score_mode = _validation.one_of("score_mode", score_mode, ("dot", "concat"))

    def build(self, input_shape) -> None:
        self.scale = self.add_weight((), "ones", name="scale") if self.use_scale else None
        self.concat_score_weight = (
            self.add_weight((), "ones", name="concat_score_weight") if self.score_mode == "concat" else None
        )

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = query @ key.transpose(-1, -2)
            return scores * self.scale if self.scale is not None else scores
        summed = query[:, :, None, :] + key[:, None, :, :]
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(dim=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(use_scale=self.use_scale, score_mode=self.score_mode)
        return config


class AdditiveAttention(_BaseDenseAttention):
    """Additive (Bahdanau-style) attention.

    Formula: ``scores[i, j] = sum_d scale_d * tanh(q[i, d] + k[j, d])``;
    ``output = softmax(scores) @ value``.

    Args:
        use_scale: learn the ``(dim,)`` vector ``scale`` (glorot-uniform initialized); without
            it ``scale = 1``.
        dropout: dropout rate on the attention weights (training only).
        seed: accepted for Keras compatibility.
        **kwargs: base layer arguments.

    Call arguments:
        As for :class:`Attention` (query and key must have the same last size).

    Example:
        >>> import torch
        >>> layer = AdditiveAttention()
        >>> layer([torch.zeros(2, 3, 4), torch.zeros(2, 5, 4)]).shape, layer.count_params()
        (torch.Size([2, 3, 4]), 4)
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        self.use_scale = bool(use_scale)

    def build(self, input_shape) -> None:
        dim = int(input_shape[-1][-1])
        self.scale = self.add_weight((dim,), "glorot_uniform", name="scale") if self.use_scale else None

    def _scores(self, query, key):
        if query.shape[-1] != key.shape[-1]:
            raise ValueError(
                f"Layer '{self.name}' expects query and key with the same last size. Received "
                f"shapes {tuple(query.shape)} and {tuple(key.shape)}."
            )
        summed = torch.tanh(query[:, :, None, :] + key[:, None, :, :])
        if self.scale is not None:
            summed = summed * self.scale
        return summed.sum(dim=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["use_scale"] = self.use_scale
        return config
