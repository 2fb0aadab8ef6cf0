"""easynn's fit against a hand-written PyTorch loop on a small transformer encoder classifier.

Run: python benchmarks/transformer.py [--device cpu|cuda] [--samples 1024] [--batch-sizes 64]
                                      [--seq-len 64] [--dim 64] [--heads 4] [--ff-dim 128] [--blocks 2]
                                      [--attention auto|easynn|torch]
                                      [--precision float32 bfloat16] [--modes eager jit] [--json rows.json]

The network follows Keras's "Text classification with Transformer" example: token + learned
position embeddings -> ``--blocks`` post-norm encoder blocks (self-attention, dropout 0.1, residual,
LayerNormalization(eps 1e-6); Dense(ff, relu) -> Dense(dim), dropout 0.1, residual, LayerNorm) ->
mean over the sequence -> Dropout(0.1) -> Dense(2, softmax), Adam (lr 1e-3), synthetic tokens.

Attention: easynn's ``MultiHeadAttention`` when the installed easynn has it (``--attention auto``),
else ``torch.nn.MultiheadAttention`` wrapped as an easynn layer (``TorchModuleWrapper``); the
hand-written loop always uses ``torch.nn.MultiheadAttention`` (both end in torch's
``scaled_dot_product_attention``). The title line says which one ran. Timing, precision and jit
rows as in ``benchmarks/_harness.py``.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _harness import EasynnFit, HandWritten, add_arguments, run_benchmark
from torch import nn

import easynn
from easynn.layers import (
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    Layer,
    LayerNormalization,
    TorchModuleWrapper,
)

CLASSES = 2


def data_maker(seq_len: int, vocab: int):
    def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        x = rng.integers(0, vocab, size=(n, seq_len)).astype("int64")
        y = ((x < vocab // 2).sum(axis=1) > seq_len // 2).astype("int64")
        return x, y

    return make_data


# ----------------------------------------------------------------------------- hand-written
class TorchBlock(nn.Module):
    def __init__(self, dim: int, heads: int, ff_dim: int, rate: float = 0.1):
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(dim, ff_dim), nn.ReLU(), nn.Linear(ff_dim, dim))
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.drop1, self.drop2 = nn.Dropout(rate), nn.Dropout(rate)

    def forward(self, x):
        attended = self.attention(x, x, x, need_weights=False)[0]
        x = self.norm1(x + self.drop1(attended))
        return self.norm2(x + self.drop2(self.ffn(x)))


class TorchEncoder(nn.Module):
    def __init__(self, seq_len, vocab, dim, heads, ff_dim, blocks):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Embedding(seq_len, dim)
        self.blocks = nn.Sequential(*[TorchBlock(dim, heads, ff_dim) for _ in range(blocks)])
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(dim, CLASSES)

    def forward(self, tokens):
        steps = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.blocks(self.tokens(tokens) + self.positions(steps))
        return self.head(self.drop(x.mean(dim=1)))


# ----------------------------------------------------------------------------- easynn
class SelfAttention(nn.Module):
    """``nn.MultiheadAttention`` as a one-input module (query = key = value), for TorchModuleWrapper."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x):
        return self.attention(x, x, x, need_weights=False)[0]


def attention_layer(kind: str, dim: int, heads: int):
    """``(layer, label)``: easynn's MultiHeadAttention, or the wrapped torch module."""
    if kind in ("auto", "easynn"):
        try:
            from easynn.layers import MultiHeadAttention
        except ImportError:
            if kind == "easynn":
                raise
        else:
            return MultiHeadAttention(num_heads=heads, key_dim=dim // heads), "easynn MultiHeadAttention"
    return TorchModuleWrapper(SelfAttention(dim, heads)), "torch MultiheadAttention in TorchModuleWrapper"


class TokenAndPositionEmbedding(Layer):
    def __init__(self, seq_len: int, vocab: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.tokens = Embedding(vocab, dim)
        self.positions = Embedding(seq_len, dim)

    def call(self, inputs):
        steps = torch.arange(inputs.shape[1], device=inputs.device)
        return self.tokens(inputs) + self.positions(steps)


class EncoderBlock(Layer):
    def __init__(self, dim: int, heads: int, ff_dim: int, attention: str = "auto", rate: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.attention, self.attention_label = attention_layer(attention, dim, heads)
        self.ffn1, self.ffn2 = Dense(ff_dim, activation="relu"), Dense(dim)
        self.norm1, self.norm2 = LayerNormalization(epsilon=1e-6), LayerNormalization(epsilon=1e-6)
        self.drop1, self.drop2 = Dropout(rate), Dropout(rate)

    def call(self, x):
        attended = self.attention(x) if isinstance(self.attention, TorchModuleWrapper) else self.attention(x, x)
        x = self.norm1(x + self.drop1(attended))
        return self.norm2(x + self.drop2(self.ffn2(self.ffn1(x))))


def easynn_encoder(seq_len, vocab, dim, heads, ff_dim, blocks, attention="auto"):
    encoder_blocks = [EncoderBlock(dim, heads, ff_dim, attention) for _ in range(blocks)]
    model = easynn.Sequential([
        easynn.Input((seq_len,), dtype="int64"),
        TokenAndPositionEmbedding(seq_len, vocab, dim),
        *encoder_blocks,
        GlobalAveragePooling1D(),
        Dropout(0.1),
        Dense(CLASSES, activation="softmax"),
    ])
    return model, encoder_blocks[0].attention_label


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, samples=1024, batch_sizes=[64], repeats=5)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--vocab", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ff-dim", type=int, default=128)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--attention", default="auto", choices=["auto", "easynn", "torch"])
    args = parser.parse_args(argv)
    shape = (args.seq_len, args.vocab, args.dim, args.heads, args.ff_dim, args.blocks)
    _, label = easynn_encoder(*shape, attention=args.attention)

    def make_runners(x, y, batch_size, device, precision, mode):
        torch.manual_seed(0)
        hand = HandWritten(TorchEncoder(*shape), lambda p: torch.optim.Adam(p, lr=1e-3), x, y, batch_size, device,
                           precision, mode)
        torch.manual_seed(0)
        model, _ = easynn_encoder(*shape, attention=args.attention)
        fit = EasynnFit(model, easynn.optimizers.Adam(learning_rate=1e-3), x, y, batch_size, device, precision, mode)
        return [hand, fit]

    model = (f"encoder: {args.blocks} blocks, dim {args.dim}, {args.heads} heads, ff {args.ff_dim}, seq {args.seq_len}, "
             f"vocab {args.vocab}, Adam; easynn attention: {label}")
    return run_benchmark("transformer", model, args, data_maker(args.seq_len, args.vocab), make_runners)


if __name__ == "__main__":
    main()
