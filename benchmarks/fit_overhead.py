"""How much does easynn's fit cost over a hand-written PyTorch loop?

Run: python benchmarks/fit_overhead.py [--repeats 7] [--device cpu|cuda]

Trains the same MLP (784-256-128-10, ReLU, softmax cross-entropy, SGD lr 0.05) on 20,000
synthetic float32 samples, one epoch per timing, with:

* ``easynn``: ``model.fit(x, y, epochs=1, verbose=0)`` on NumPy arrays;
* ``hand-written``: tensors moved to the device once, a per-epoch ``randperm``, whole-batch
  slices, ``F.cross_entropy`` on logits, ``torch.optim.SGD``;
* ``DataLoader``: the common ``TensorDataset`` + ``DataLoader(shuffle=True)`` loop.

Runs are interleaved (A, B, C, A, B, C, ...) after a warm-up epoch each, and the table reports
medians of samples/s and the ratio against the hand-written loop.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import easynn

N, FEATURES, CLASSES = 20_000, 784, 10


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, size=N).astype("int64")
    return x, y


def torch_mlp():
    return nn.Sequential(nn.Linear(FEATURES, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, CLASSES))


class HandWritten:
    name = "hand-written loop"

    def __init__(self, x, y, batch_size, device):
        self.model = torch_mlp().to(device)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.05)
        self.x, self.y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        self.batch_size, self.device = batch_size, device

    def epoch(self):
        perm = torch.randperm(N, device=self.device)
        for start in range(0, N, self.batch_size):
            idx = perm[start : start + self.batch_size]
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(self.x[idx]), self.y[idx])
            loss.backward()
            self.opt.step()


class Loader:
    name = "DataLoader loop"

    def __init__(self, x, y, batch_size, device):
        self.model = torch_mlp().to(device)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.05)
        dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        self.loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
        self.device = device

    def epoch(self):
        for xb, yb in self.loader:
            xb, yb = xb.to(self.device), yb.to(self.device)
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(xb), yb)
            loss.backward()
            self.opt.step()


class EasyNN:
    name = "easynn fit"

    def __init__(self, x, y, batch_size, device):
        self.model = easynn.Sequential([
            easynn.Input(shape=(FEATURES,)),
            easynn.layers.Dense(256, activation="relu"),
            easynn.layers.Dense(128, activation="relu"),
            easynn.layers.Dense(CLASSES, activation="softmax"),
        ])
        self.model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.05),
                           loss="sparse_categorical_crossentropy", device=device)
        self.x, self.y, self.batch_size = x, y, batch_size

    def epoch(self):
        self.model.fit(self.x, self.y, batch_size=self.batch_size, epochs=1, verbose=0)


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def run(batch_size, repeats, device):
    x, y = make_data()
    runners = [HandWritten(x, y, batch_size, device), EasyNN(x, y, batch_size, device), Loader(x, y, batch_size, device)]
    times = {r.name: [] for r in runners}
    for r in runners:  # warm-up epoch
        r.epoch()
    for _ in range(repeats):
        for r in runners:
            sync(device)
            start = time.perf_counter()
            r.epoch()
            sync(device)
            times[r.name].append(time.perf_counter() - start)
    base = statistics.median(times[HandWritten.name])
    rows = []
    for r in runners:
        median = statistics.median(times[r.name])
        rows.append((batch_size, r.name, N / median, base / median))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, device {args.device}, {args.threads} threads, {args.repeats} interleaved repeats\n")
    print("| batch | loop | samples/s (median) | vs hand-written |")
    print("|---:|---|---:|---:|")
    for batch_size in args.batch_sizes:
        for bs, name, rate, ratio in run(batch_size, args.repeats, args.device):
            print(f"| {bs} | {name} | {rate:,.0f} | {ratio:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
