"""Attention layers: MultiHeadAttention, GroupQueryAttention, Attention (dot-product), AdditiveAttention."""

from easynn.layers.attention.attention import AdditiveAttention, Attention
from easynn.layers.attention.grouped_query_attention import GroupedQueryAttention, GroupQueryAttention
from easynn.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = ["MultiHeadAttention", "Attention", "AdditiveAttention", "GroupQueryAttention", "GroupedQueryAttention"]
