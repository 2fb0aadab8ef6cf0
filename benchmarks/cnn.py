"""easynn's fit against a hand-written PyTorch loop on Keras's MNIST convnet, eager and compiled.

Run: python benchmarks/cnn.py [--samples 2048] [--repeats 5] [--devices cpu cuda] [--threads 2]
                              [--modes eager compiled] [--batch-size 128]

The network (Conv2D(32, 3, relu) -> MaxPool 2 -> Conv2D(64, 3, relu) -> MaxPool 2 -> Flatten ->
Dropout(0.5) -> Dense(10, softmax)) trains with Adam (lr 1e-3) on N synthetic 28x28x1 images, one
epoch per timing, four ways per device:

* ``hand-written`` (eager): an ``nn.Sequential`` of ``nn.Conv2d``/``nn.MaxPool2d``/``nn.Linear``
  on NCHW tensors moved to the device once, a per-epoch ``randperm``, whole-batch index slices,
  ``F.cross_entropy`` on the logits, ``torch.optim.Adam``;
* ``hand-written`` (compiled): the same loop with forward + loss in one ``torch.compile``'d
  function (the same scope easynn compiles);
* ``easynn fit`` (eager / compiled): ``model.fit(x, y, epochs=1, verbose=0)`` on NumPy arrays in
  Keras's channels_last layout, ``compile(..., jit_compile=False / True)``.

Each runner trains one warm-up epoch (which also pays for compilation), then the runners of a
device take turns (A, B, C, D, A, B, ...) for ``--repeats`` rounds, so a noisy machine slows all of
them alike. The table shows medians of samples/s and the ratio to the hand-written loop in the same
mode (eager or compiled). N should be a multiple of the batch size, so no run pays for an uneven
last batch.
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
from easynn.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D

CLASSES = 10


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, CLASSES, size=n).astype("int64")
    return x, y


def torch_convnet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(5 * 5 * 64, CLASSES),
    )


def easynn_convnet() -> easynn.Sequential:
    return easynn.Sequential([
        easynn.Input((28, 28, 1)),
        Conv2D(32, 3, activation="relu"), MaxPooling2D(2),
        Conv2D(64, 3, activation="relu"), MaxPooling2D(2),
        Flatten(), Dropout(0.5), Dense(CLASSES, activation="softmax"),
    ])


class HandWritten:
    def __init__(self, x, y, batch_size, device, compiled):
        self.name = "hand-written loop"
        self.model = torch_convnet().to(device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        # NCHW, PyTorch's native layout, on the device once.
        self.x = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(device)
        self.y = torch.from_numpy(y).to(device)
        self.batch_size, self.device = batch_size, device
        self.forward_loss = torch.compile(self._forward_loss) if compiled else self._forward_loss

    def _forward_loss(self, xb, yb):
        return F.cross_entropy(self.model(xb), yb)

    def epoch(self):
        self.model.train()
        n = self.x.shape[0]
        perm = torch.randperm(n, device=self.device)
        for start in range(0, n, self.batch_size):
            idx = perm[start : start + self.batch_size]
            self.opt.zero_grad(set_to_none=True)
            loss = self.forward_loss(self.x[idx], self.y[idx])
            loss.backward()
            self.opt.step()


class EasyNN:
    def __init__(self, x, y, batch_size, device, compiled):
        self.name = "easynn fit"
        self.model = easynn_convnet()
        self.model.compile(optimizer=easynn.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                           jit_compile=compiled, device=device)
        self.x, self.y, self.batch_size = x, y, batch_size

    def epoch(self):
        self.model.fit(self.x, self.y, batch_size=self.batch_size, epochs=1, verbose=0)


def sync(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def run_device(device: str, modes: list[str], n: int, batch_size: int, repeats: int) -> list[tuple]:
    x, y = make_data(n)
    runners = []
    for mode in modes:
        compiled = mode == "compiled"
        torch.manual_seed(0)
        runners.append((mode, HandWritten(x, y, batch_size, device, compiled)))
        torch.manual_seed(0)
        runners.append((mode, EasyNN(x, y, batch_size, device, compiled)))
    warmup = {}
    for mode, runner in runners:  # warm-up: first-call costs and compilation
        sync(device)
        start = time.perf_counter()
        runner.epoch()
        sync(device)
        warmup[(mode, runner.name)] = time.perf_counter() - start
    times: dict[tuple, list[float]] = {(mode, r.name): [] for mode, r in runners}
    for _ in range(repeats):
        for mode, runner in runners:
            sync(device)
            start = time.perf_counter()
            runner.epoch()
            sync(device)
            times[(mode, runner.name)].append(time.perf_counter() - start)
    rows = []
    for mode in modes:
        base = statistics.median(times[(mode, "hand-written loop")])
        for name in ("hand-written loop", "easynn fit"):
            median = statistics.median(times[(mode, name)])
            spread = (min(times[(mode, name)]), max(times[(mode, name)]))
            rows.append((device, mode, name, n / median, base / median, warmup[(mode, name)], n / spread[1], n / spread[0]))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--devices", nargs="+", default=["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    parser.add_argument("--modes", nargs="+", default=["eager", "compiled"], choices=["eager", "compiled"])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} CPU threads, N={args.samples}, batch {args.batch_size}, "
          f"Adam, {args.repeats} interleaved repeats (median; min-max in brackets)\n")
    print("| device | mode | loop | samples/s | vs hand-written | first epoch (s) |")
    print("|---|---|---|---:|---:|---:|")
    for device in args.devices:
        for dev, mode, name, rate, ratio, first, low, high in run_device(
                device, args.modes, args.samples, args.batch_size, args.repeats):
            print(f"| {dev} | {mode} | {name} | {rate:,.0f} [{low:,.0f}-{high:,.0f}] | {ratio:.2f}x | {first:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
