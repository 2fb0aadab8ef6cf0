"""Attention layers: MultiHeadAttention, Attention (dot-product) and AdditiveAttention."""

from easynn.layers.attention.attention import AdditiveAttention, Attention
from easynn.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = ["MultiHeadAttention", "Attention", "AdditiveAttention"]
