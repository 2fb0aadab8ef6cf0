"""easynn's fit against a hand-written PyTorch loop on an LSTM text classifier.

Run: python benchmarks/lstm.py [--device cpu|cuda] [--samples 2048] [--batch-sizes 64]
                               [--seq-len 50] [--vocab 10000] [--units 64]
                               [--precision float32 bfloat16] [--modes eager jit] [--json rows.json]

The network, as in Keras's IMDB LSTM examples: Embedding(vocab, units) -> LSTM(units) (last
state) -> Dense(2, softmax), trained with Adam (lr 1e-3) on N synthetic token sequences (the label
says whether low token ids are in the majority). Both loops run the fused (cuDNN on a GPU) LSTM
kernel: ``nn.LSTM(batch_first=True)`` by hand, ``easynn.layers.LSTM`` in the easynn model. Timing,
precision and jit rows as in ``benchmarks/_harness.py``.
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


def data_maker(seq_len: int, vocab: int):
    def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        x = rng.integers(0, vocab, size=(n, seq_len)).astype("int64")
        y = ((x < vocab // 2).sum(axis=1) > seq_len // 2).astype("int64")
        return x, y

    return make_data


class TorchLSTMClassifier(nn.Module):
    def __init__(self, vocab: int, units: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, units)
        self.lstm = nn.LSTM(units, units, batch_first=True)
        self.head = nn.Linear(units, CLASSES)

    def forward(self, tokens):
        _, (h, _) = self.lstm(self.embedding(tokens))
        return self.head(h[-1])


def easynn_lstm(seq_len: int, vocab: int, units: int) -> easynn.Sequential:
    return easynn.Sequential([
        easynn.Input((seq_len,), dtype="int64"),
        Embedding(vocab, units),
        LSTM(units),
        Dense(CLASSES, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, samples=2048, batch_sizes=[64], repeats=5)
    parser.add_argument("--seq-len", type=int, default=50)
    parser.add_argument("--vocab", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=64)
    args = parser.parse_args(argv)

    def make_runners(x, y, batch_size, device, precision, mode):
        torch.manual_seed(0)
        hand = HandWritten(TorchLSTMClassifier(args.vocab, args.units), lambda p: torch.optim.Adam(p, lr=1e-3),
                           x, y, batch_size, device, precision, mode)
        torch.manual_seed(0)
        fit = EasynnFit(easynn_lstm(args.seq_len, args.vocab, args.units), easynn.optimizers.Adam(learning_rate=1e-3),
                        x, y, batch_size, device, precision, mode)
        return [hand, fit]

    model = f"Embedding({args.vocab}, {args.units}) -> LSTM({args.units}) -> Dense(2), seq {args.seq_len}, Adam"
    return run_benchmark("lstm", model, args, data_maker(args.seq_len, args.vocab), make_runners)


if __name__ == "__main__":
    main()
