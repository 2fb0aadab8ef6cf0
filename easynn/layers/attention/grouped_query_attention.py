"""Grouped-query attention (Ainslie et al., 2023): query heads share fewer key/value heads.

Keras exports it as ``keras.layers.GroupQueryAttention``; the class is ``GroupedQueryAttention``.

Formula, with ``r = num_query_heads / num_key_value_heads`` and query head ``h`` reading the
key/value head ``g = h // r`` (Keras repeats each key/value head ``r`` times, in place):

    Q_h = query @ Wq[:, h] + bq[h]      K_g = key @ Wk[:, g] + bk[g]      V_g = value @ Wv[:, g] + bv[g]
    A_h = softmax(Q_h K_g^T / sqrt(head_dim) + M)        (M = 0 where attended, -1e9 where masked)
    out = sum_h dropout(A_h) V_g @ Wo[h] + bo            (last axis = the query's last axis)

``num_key_value_heads == num_query_heads`` is multi-head attention, ``num_key_value_heads == 1``
multi-query attention. Weights, in Keras's shapes and order: ``query`` kernel ``(d_q, Hq, head_dim)``
and bias ``(Hq, head_dim)``; ``key`` and ``value`` kernels ``(d, Hkv, head_dim)`` and biases
``(Hkv, head_dim)``; ``attention_output`` kernel ``(Hq, head_dim, d_q)`` and bias ``(d_q,)``.

Example:
    >>> import torch
    >>> gqa = GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
    >>> x = torch.zeros(3, 5, 8)
    >>> gqa(x, x).shape
    torch.Size([3, 5, 8])
    >>> gqa.count_params()  # (8*4*4 + 4*4) + 2 * (8*2*4 + 2*4) + (4*4*8 + 8)
    424
"""

from __future__ import annotations

import math
from typing import Any

import torch

from easynn import _validation
from easynn.layers.attention import _common
from easynn.layers.base import Layer

__all__ = ["GroupedQueryAttention", "GroupQueryAttention"]


class GroupedQueryAttention(Layer):
    """Grouped-query attention: ``num_query_heads`` query heads over ``num_key_value_heads`` key/value heads.

    Each key/value head serves ``num_query_heads // num_key_value_heads`` consecutive query heads,
    which shrinks the key/value projections (and a decoder's key/value cache) by that factor.
    See the module docstring for the formula and the weights.

    Args:
        head_dim: size of each attention head (query, key and value).
        num_query_heads: number of query heads.
        num_key_value_heads: number of key/value heads; must divide ``num_query_heads``.
        dropout: dropout rate on the attention probabilities (training only).
        use_bias: whether the four projections have biases.
        flash_attention: ``None`` (follow ``easynn.config.is_flash_attention_enabled()``), ``True``
            or ``False``. Without ``return_attention_scores`` the attention always runs in
            ``F.scaled_dot_product_attention``, which picks the flash kernel when it can; ``True``
            forbids ``dropout > 0`` and ``return_attention_scores=True``, as in Keras.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: for the four projections.
        seed: accepted for Keras compatibility (dropout uses torch's global generator).
        **kwargs: base layer arguments (``name``, ``dtype``, ``activity_regularizer``...).

    Call arguments:
        query: ``(batch, T, d_q)``.
        value: ``(batch, S, d_v)``.
        key: optional ``(batch, S, d_k)`` (``value`` by default).
        query_mask, value_mask, key_mask: optional bool ``(batch, T)`` / ``(batch, S)``; filled in
            from the inputs' Keras masks (``Embedding(mask_zero=True)``) when left out.
        attention_mask: optional bool ``(batch, T, S)`` or ``(T, S)`` (``True`` = may attend).
        return_attention_scores: also return the ``(batch, num_query_heads, T, S)`` probabilities.
        training: enables dropout.
        use_causal_mask: query step ``i`` attends only to value steps ``j <= i``.

    Shape:
        query ``(batch, T, d_q)``, value ``(batch, S, d_v)``, key ``(batch, S, d_k)`` ->
        ``(batch, T, d_q)``.

    Returns:
        The attention output, and the scores with ``return_attention_scores=True``.

    Raises:
        ValueError: for non-positive sizes, ``num_query_heads`` not divisible by
            ``num_key_value_heads``, ``dropout > 0`` with ``flash_attention=True``, inputs that are
            not rank 3 or whose batch/sequence sizes disagree, or masks of the wrong shape.
        TypeError: for a ``flash_attention`` that is not ``None`` or a bool.

    Example:
        >>> import torch
        >>> gqa = GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=1)
        >>> out, scores = gqa(torch.zeros(2, 3, 6), torch.zeros(2, 7, 5), return_attention_scores=True)
        >>> out.shape, scores.shape
        (torch.Size([2, 3, 6]), torch.Size([2, 4, 3, 7]))
    """

    def __init__(
        self,
        head_dim: int,
        num_query_heads: int,
        num_key_value_heads: int,
        dropout: float = 0.0,
        use_bias: bool = True,
        flash_attention: bool | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        head_dim = _validation.positive_int("head_dim", head_dim)
        num_query_heads = _validation.positive_int("num_query_heads", num_query_heads)
        num_key_value_heads = _validation.positive_int("num_key_value_heads", num_key_value_heads)
        if num_query_heads % num_key_value_heads:
            raise ValueError(
                "`num_query_heads` must be divisible by `num_key_value_heads`. Received: "
                f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}"
            )
        dropout = _validation.probability("dropout", dropout)
        if flash_attention is not None and not isinstance(flash_attention, bool):
            raise TypeError(
                f"`flash_attention` must be None, True or False. Received: flash_attention={flash_attention!r}"
            )
        if flash_attention and dropout > 0:
            raise ValueError(
                "Dropout is not supported when flash attention is enabled. Set dropout=0.0 or "
                f"flash_attention=False. Received: dropout={dropout}, flash_attention=True"
            )
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = dropout
        self.use_bias = bool(use_bias)
        self.flash_attention = flash_attention
        _common.set_projection_args(self, kernel_initializer, bias_initializer, kernel_regularizer,
                                    bias_regularizer, kernel_constraint, bias_constraint)
        self.seed = seed
        self.supports_masking = True
        self._weights_made = False

    @property
    def _flash_attention(self) -> bool:
        """Keras's resolved flag: the argument, else the global setting."""
        if self.flash_attention is not None:
            return self.flash_attention
        from easynn import config

        return bool(config.is_flash_attention_enabled())

    # ------------------------------------------------------------------ weights
    def build(self, query_shape, value_shape=None, key_shape=None) -> None:
        sizes = _common.feature_sizes(query_shape, value_shape, key_shape)
        if sizes is not None:  # None: Layer.__call__ knows only the query, the weights come on the call
            self._make_weights(*sizes)

    def _make_weights(self, d_query: int, d_value: int, d_key: int) -> None:
        hq, hkv, hd = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self.feature_dim = d_query
        _common.make_projection_weights(self, (
            ("query", (d_query, hq, hd), (hq, hd)),
            ("key", (d_key, hkv, hd), (hkv, hd)),
            ("value", (d_value, hkv, hd), (hkv, hd)),
            ("output", (hq, hd, d_query), (d_query,)),
        ))

    # ------------------------------------------------------------------ calling
    def __call__(self, query: Any = None, value: Any = None, key: Any = None, **kwargs: Any):
        # gqa(q, v), gqa(query=q, value=v, key=k), on tensors, NumPy arrays or functional-API
        # tensors (see route_call).
        return _common.route_call(self, super().__call__, query, value, key, kwargs, short_name="gqa",
                                  numpy_inputs=True)

    def call(
        self,
        query: torch.Tensor,
        value: torch.Tensor | None = None,
        key: torch.Tensor | None = None,
        query_mask: Any = None,
        value_mask: Any = None,
        key_mask: Any = None,
        attention_mask: Any = None,
        return_attention_scores: bool = False,
        training: bool | None = None,
        use_causal_mask: bool = False,
    ):
        query, value, key = _common.unpack_inputs(self.name, query, value, key, "gqa")
        if return_attention_scores and self._flash_attention:
            raise ValueError(
                "Returning attention scores is not supported when flash attention is enabled. Pass "
                "flash_attention=False (or easynn.config.disable_flash_attention()) to get the scores."
            )
        if query.dim() != 3 or value.dim() != 3 or key.dim() != 3:
            raise ValueError(
                f"Layer '{self.name}' expects query, value and key of rank 3 (batch, length, features). "
                f"Received shapes {tuple(query.shape)}, {tuple(value.shape)}, {tuple(key.shape)}."
            )
        _common.check_same_batch(self.name, query, value, key)
        if key.shape[1] != value.shape[1]:
            raise ValueError(
                f"Layer '{self.name}' expects key and value of the same length. Received key "
                f"{tuple(key.shape)} and value {tuple(value.shape)}."
            )
        if not self._weights_made:
            self._make_weights(query.shape[-1], value.shape[-1], key.shape[-1])
        # Keras's cumsum rule: a causal mask is fine for T != S too (row i sees columns j <= i).
        mask = _common.combine_masks(self.name, query.shape[0], query.shape[1], value.shape[1], query.device,
                                     query_mask, value_mask, key_mask, attention_mask, use_causal_mask,
                                     causal_same_length=False)
        p = self.dropout if training else 0.0
        # Query head h reads key/value head h // num_repeats.
        out, scores = _common.multi_head_attention(self, query, value, key, mask, 1.0 / math.sqrt(self.head_dim), p,
                                                   return_attention_scores, self.num_repeats)
        if return_attention_scores:
            return out, scores
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask (Keras)."""
        return _common.query_mask_of(mask)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        """The query's shape (Keras also requires the query and value feature sizes to agree here)."""
        if isinstance(query_shape, list) and value_shape is None:
            query_shape, value_shape, *rest = query_shape + [None]
            key_shape = rest[0]
        query_shape = tuple(query_shape)
        if value_shape is not None:
            value_shape = tuple(value_shape)
            key_shape = value_shape if key_shape is None else tuple(key_shape)
            if query_shape[-1] != value_shape[-1]:
                raise ValueError(
                    "The last dimension of `query_shape` and `value_shape` must be equal. Received: "
                    f"query_shape={query_shape}, value_shape={value_shape}"
                )
            if value_shape[1:-1] != key_shape[1:-1]:
                raise ValueError(
                    "All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                    f"value_shape={value_shape}, key_shape={key_shape}"
                )
        return query_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            head_dim=self.head_dim,
            num_query_heads=self.num_query_heads,
            num_key_value_heads=self.num_key_value_heads,
            dropout=self.dropout,
            use_bias=self.use_bias,
            flash_attention=self.flash_attention,
            **_common.projection_config(self),
            seed=self.seed,
        )
        return config

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, head_dim={self.head_dim}, num_query_heads={self.num_query_heads}, "
                f"num_key_value_heads={self.num_key_value_heads}")


# Keras exports the class as keras.layers.GroupQueryAttention; its class name (in saved files too)
# is GroupedQueryAttention.
GroupQueryAttention = GroupedQueryAttention
