"""easynn's fit against a hand-written PyTorch loop on an LSTM text classifier.

Run: python benchmarks/lstm.py [--device cpu|cuda] [--samples 2048] [--batch-sizes 64]
                               [--seq-len 50] [--vocab 10000] [--units 64] [--masked]
                               [--precision float32 bfloat16] [--modes eager jit] [--json rows.json]

The network, as in Keras's IMDB LSTM examples: Embedding(vocab, units) -> LSTM(units) (last
state) -> Dense(2, softmax), trained with Adam (lr 1e-3) on N synthetic token sequences (the label
says whether low token ids are in the majority). Both loops run the fused (cuDNN on a GPU) LSTM
kernel: ``nn.LSTM(batch_first=True)`` by hand, ``easynn.layers.LSTM`` in the easynn model. Timing,
precision and jit rows as in ``benchmarks/_harness.py``.

``--masked``: right-padded sequences (lengths drawn from ``seq_len/2 .. seq_len``, padding id 0) as
real text batches are; easynn masks them with ``Embedding(mask_zero=True)``, the hand-written loop packs
them with ``pack_padded_sequence`` (what easynn's LSTM does underneath for right-padded masks).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _harness import EasynnFit, HandWritten, add_arguments, run_benchmark
from torch import nn

import easynn
from easynn.layers import LSTM, Dense, Embedding

CLASSES = 2


def data_maker(seq_len: int, vocab: int, masked: bool = False):
    def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        if not masked:
            x = rng.integers(0, vocab, size=(n, seq_len)).astype("int64")
            y = ((x < vocab // 2).sum(axis=1) > seq_len // 2).astype("int64")
            return x, y
        x = rng.integers(1, vocab, size=(n, seq_len)).astype("int64")  # 0 is the padding id
        lengths = rng.integers(seq_len // 2, seq_len + 1, size=n)
        x[np.arange(seq_len)[None, :] >= lengths[:, None]] = 0
        y = (((x > 0) & (x < vocab // 2)).sum(axis=1) > lengths // 2).astype("int64")
        return x, y

    return make_data


class TorchLSTMClassifier(nn.Module):
    def __init__(self, vocab: int, units: int, masked: bool = False):
        super().__init__()
        self.embedding = nn.Embedding(vocab, units)
        self.lstm = nn.LSTM(units, units, batch_first=True)
        self.head = nn.Linear(units, CLASSES)
        self.masked = masked

    def forward(self, tokens):
        embedded = self.embedding(tokens)
        if self.masked:  # right-padded: pack by length, as a PyTorch user does
            lengths = (tokens != 0).sum(dim=1).cpu()
            embedded = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(embedded)
        return self.head(h[-1])


def easynn_lstm(seq_len: int, vocab: int, units: int, masked: bool = False) -> easynn.Sequential:
    return easynn.Sequential([
        easynn.Input((seq_len,), dtype="int64"),
        Embedding(vocab, units, mask_zero=masked),
        LSTM(units),
        Dense(CLASSES, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, samples=2048, batch_sizes=[64], repeats=5)
    parser.add_argument("--seq-len", type=int, default=50)
    parser.add_argument("--vocab", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--masked", action="store_true", help="right-padded batches, masked (mask_zero) / packed")
    args = parser.parse_args(argv)

    def make_runners(x, y, batch_size, device, precision, mode):
        torch.manual_seed(0)
        hand = HandWritten(TorchLSTMClassifier(args.vocab, args.units, args.masked), lambda p: torch.optim.Adam(p, lr=1e-3),
                           x, y, batch_size, device, precision, mode)
        torch.manual_seed(0)
        fit = EasynnFit(easynn_lstm(args.seq_len, args.vocab, args.units, args.masked), easynn.optimizers.Adam(learning_rate=1e-3),
                        x, y, batch_size, device, precision, mode)
        return [hand, fit]

    model = f"Embedding({args.vocab}, {args.units}) -> LSTM({args.units}) -> Dense(2), seq {args.seq_len}, Adam"
    if args.masked:
        model += ", right-padded and masked"
    return run_benchmark("lstm", model, args, data_maker(args.seq_len, args.vocab, args.masked), make_runners)


if __name__ == "__main__":
    main()
