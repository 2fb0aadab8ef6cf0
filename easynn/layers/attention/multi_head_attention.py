"""MultiHeadAttention with Keras's weights, on torch's ``scaled_dot_product_attention``.

Formula, per head ``h`` (``d_k = key_dim``):

    Q_h = query @ Wq[:, h] + bq[h]      K_h = key @ Wk[:, h] + bk[h]      V_h = value @ Wv[:, h] + bv[h]
    A_h = softmax(Q_h K_h^T / sqrt(d_k) + M)            (M = 0 where attended, -1e9 where masked)
    out = sum_h dropout(A_h) V_h @ Wo[h] + bo

Weights, in Keras's shapes and order: ``query`` kernel ``(d_q, heads, key_dim)`` and bias
``(heads, key_dim)``; ``key`` ``(d_k, heads, key_dim)``, ``(heads, key_dim)``; ``value``
``(d_v, heads, value_dim)``, ``(heads, value_dim)``; ``attention_output`` ``(heads, value_dim,
d_out)``, ``(d_out,)``. The mask is additive with Keras's -1e9 (a fully masked row attends
uniformly, as in Keras, instead of giving NaN). Without ``return_attention_scores`` the
attention runs in ``F.scaled_dot_product_attention`` (flash / memory-efficient kernels on GPU).

Example:
    >>> import torch
    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = torch.zeros(3, 5, 8)
    >>> mha(x, x).shape
    torch.Size([3, 5, 8])
    >>> mha.count_params()  # 3 * (8 * 2 * 4 + 2 * 4) + 2 * 4 * 8 + 8
    288
"""

from __future__ import annotations

import math
from typing import Any

import torch

from easynn import _validation
from easynn.layers.attention import _common
from easynn.layers.attention._common import causal_mask
from easynn.layers.base import Layer

__all__ = ["MultiHeadAttention", "causal_mask"]


class MultiHeadAttention(Layer):
    """Multi-head (scaled dot-product) attention, as in "Attention Is All You Need".

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (``key_dim`` by default).
        dropout: dropout rate on the attention probabilities (training only).
        use_bias: whether the four projections have biases.
        output_shape: size of the output's last axis (the query's last axis by default).
        attention_axes: ``None`` (attend over every axis between batch and features, flattened)
            or ``(1,)`` for rank-3 inputs; other axes are not supported.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: for the
            projections.
        kernel_constraint, bias_constraint: projections of the four kernels (Keras's shapes,
            e.g. ``(d_q, heads, key_dim)``) and biases after each update.
        seed: accepted for Keras compatibility.
        **kwargs: base layer arguments.

    Call arguments:
        query: ``(batch, T, d_q)``.
        value: ``(batch, S, d_v)``.
        key: optional ``(batch, S, d_k)`` (``value`` by default).
        query_mask, value_mask, key_mask: optional bool ``(batch, T)`` / ``(batch, S)``.
        attention_mask: optional bool ``(batch, T, S)`` (``True`` = may attend).
        return_attention_scores: also return the ``(batch, heads, T, S)`` probabilities.
        training: enables dropout.
        use_causal_mask: query step ``i`` attends only to steps ``j <= i``.

    Returns:
        ``(batch, T, output_shape)``, and the scores with ``return_attention_scores``.

    Raises:
        ValueError: for a non-positive ``num_heads``/``key_dim``, inputs of different batch
            sizes or ranks, masks of the wrong shape, or a causal mask with ``T != S``.

    Example:
        >>> import torch
        >>> mha = MultiHeadAttention(num_heads=1, key_dim=2, value_dim=3, output_shape=5)
        >>> out, scores = mha(torch.zeros(2, 4, 6), torch.zeros(2, 7, 6), return_attention_scores=True)
        >>> out.shape, scores.shape
        (torch.Size([2, 4, 5]), torch.Size([2, 1, 4, 7]))
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: Any = None,
        attention_axes: Any = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        seed: int | None = None,
        flash_attention: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_heads = _validation.positive_int("num_heads", num_heads)
        self.key_dim = _validation.positive_int("key_dim", key_dim)
        self.value_dim = _validation.positive_int("value_dim", value_dim) if value_dim is not None else self.key_dim
        self.dropout = _validation.probability("dropout", dropout)
        self.use_bias = bool(use_bias)
        if output_shape is not None and not isinstance(output_shape, int):
            output_shape = tuple(output_shape)
            if len(output_shape) != 1:
                raise ValueError(
                    f"`output_shape` must be an int or a 1-tuple in easynn. Received: output_shape={output_shape!r}"
                )
            output_shape = output_shape[0]
        self._output_shape = None if output_shape is None else _validation.positive_int("output_shape", output_shape)
        if attention_axes is not None:
            axes = (attention_axes,) if isinstance(attention_axes, int) else tuple(attention_axes)
            if axes not in ((1,), (-2,)):
                raise NotImplementedError(
                    f"MultiHeadAttention supports attention_axes=None or (1,). Received: attention_axes={attention_axes!r}"
                )
            attention_axes = list(axes)
        self.attention_axes = attention_axes
        _common.set_projection_args(self, kernel_initializer, bias_initializer, kernel_regularizer,
                                    bias_regularizer, kernel_constraint, bias_constraint)
        self.seed = seed
        self.flash_attention = flash_attention
        self.supports_masking = True
        self._weights_made = False

    # ------------------------------------------------------------------ weights
    def build(self, query_shape, value_shape=None, key_shape=None) -> None:
        sizes = _common.feature_sizes(query_shape, value_shape, key_shape)
        if sizes is not None:  # None: Layer.__call__ knows only the query, the weights come on the call
            self._make_weights(*sizes)

    def _make_weights(self, d_query: int, d_value: int, d_key: int) -> None:
        h, kd, vd = self.num_heads, self.key_dim, self.value_dim
        d_out = self._output_shape or d_query
        self.query_dim, self.value_dim_in, self.key_dim_in = d_query, d_value, d_key
        _common.make_projection_weights(self, (
            ("query", (d_query, h, kd), (h, kd)),
            ("key", (d_key, h, kd), (h, kd)),
            ("value", (d_value, h, vd), (h, vd)),
            ("output", (h, vd, d_out), (d_out,)),
        ))

    # ------------------------------------------------------------------ calling
    def __call__(self, query: Any = None, value: Any = None, key: Any = None, **kwargs: Any):
        # mha(q, v), mha(query=q, value=v, key=k), also on functional-API tensors (see route_call).
        return _common.route_call(self, super().__call__, query, value, key, kwargs, short_name="mha",
                                  numpy_inputs=False)

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
        query, value, key = _common.unpack_inputs(self.name, query, value, key, "mha")
        if query.dim() != value.dim() or key.dim() != value.dim():
            raise ValueError(
                f"Layer '{self.name}' expects query, value and key of the same rank. Received shapes "
                f"{tuple(query.shape)}, {tuple(value.shape)}, {tuple(key.shape)}."
            )
        _common.check_same_batch(self.name, query, value, key)
        if key.shape[1:-1] != value.shape[1:-1]:
            raise ValueError(
                f"Layer '{self.name}' expects key and value with the same sequence shape. Received "
                f"key {tuple(key.shape)} and value {tuple(value.shape)}."
            )
        # Rank > 3 (e.g. images): attend over all the middle axes, flattened (Keras's default).
        q_middle = query.shape[1:-1]
        if query.dim() > 3:
            query = query.reshape(query.shape[0], -1, query.shape[-1])
            value = value.reshape(value.shape[0], -1, value.shape[-1])
            key = key.reshape(key.shape[0], -1, key.shape[-1])
            for name, m in (("query_mask", query_mask), ("value_mask", value_mask), ("key_mask", key_mask)):
                if m is not None:
                    raise NotImplementedError(f"`{name}` with inputs of rank > 3 is not supported.")
        if not self._weights_made:
            self._make_weights(query.shape[-1], value.shape[-1], key.shape[-1])
        mask = _common.combine_masks(self.name, query.shape[0], query.shape[1], value.shape[1], query.device,
                                     query_mask, value_mask, key_mask, attention_mask, use_causal_mask,
                                     causal_same_length=True)
        p = self.dropout if training else 0.0
        out, scores = _common.multi_head_attention(self, query, value, key, mask, 1.0 / math.sqrt(self.key_dim), p,
                                                   return_attention_scores)
        if len(q_middle) > 1:
            out = out.reshape(out.shape[0], *q_middle, out.shape[-1])
        if return_attention_scores:
            return out, scores
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask (Keras)."""
        return _common.query_mask_of(mask)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if isinstance(query_shape, list) and value_shape is None:
            query_shape = query_shape[0]
        return (*tuple(query_shape)[:-1], self._output_shape or query_shape[-1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            value_dim=self.value_dim,
            dropout=self.dropout,
            use_bias=self.use_bias,
            output_shape=self._output_shape,
            attention_axes=self.attention_axes,
            **_common.projection_config(self),
            seed=self.seed,
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_heads={self.num_heads}, key_dim={self.key_dim}, value_dim={self.value_dim}"
