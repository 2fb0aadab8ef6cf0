"""easynn's fit against a hand-written PyTorch loop on a small convolutional autoencoder with
augmentation and upsampling layers in the model (issue 13's vision layers).

Run: python benchmarks/vision_decoder.py [--samples 512] [--batch-size 64] [--epochs 2] [--repeats 3]
                                         [--threads 2] [--device cpu|cuda]

The network, on N synthetic 32x32x3 images (target: the images themselves):

    RandomFlip("horizontal") -> Conv2D(16, 3, s2, same, relu) -> Conv2D(32, 3, s2, same, relu)
    -> Conv2DTranspose(16, 3, s2, same, relu) -> UpSampling2D(2) -> Conv2D(3, 3, same)

* ``hand-written``: the same layers as ``nn.Conv2d``/``nn.ConvTranspose2d``/``nn.Upsample`` on NCHW
  tensors moved to the device once, a per-sample flip with ``torch.where``, a per-epoch ``randperm``,
  whole-batch slices, ``F.mse_loss``, ``torch.optim.Adam``;
* ``easynn fit``: ``model.fit(x, x, epochs=E, batch_size=B, verbose=0)`` on NumPy arrays in Keras's
  channels_last layout.

The two runners take turns (A, B, A, B, ...) for ``--repeats`` rounds after one warm-up run each;
the table shows the median samples/s and easynn's ratio to the hand-written loop. This is a
benchmark, not a test: it prints and asserts nothing.
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
from easynn.layers import Conv2D, Conv2DTranspose, RandomFlip, UpSampling2D


def easynn_model() -> easynn.Sequential:
    return easynn.Sequential([
        easynn.Input((32, 32, 3)),
        RandomFlip("horizontal", seed=0),
        Conv2D(16, 3, strides=2, padding="same", activation="relu"),
        Conv2D(32, 3, strides=2, padding="same", activation="relu"),
        Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
        UpSampling2D(2),
        Conv2D(3, 3, padding="same"),
    ])


class TorchModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc1 = nn.Conv2d(3, 16, 3, stride=2)
        self.enc2 = nn.Conv2d(16, 32, 3, stride=2)
        self.dec = nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.out = nn.Conv2d(16, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flip = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < 0.5
        x = torch.where(flip, x.flip(-1), x)
        x = F.relu(self.enc1(F.pad(x, (0, 1, 0, 1))))  # TensorFlow's "same" for stride 2 on even sizes
        x = F.relu(self.enc2(F.pad(x, (0, 1, 0, 1))))
        return self.out(self.up(F.relu(self.dec(x))))


def run_hand(x: np.ndarray, epochs: int, batch_size: int, device: str) -> float:
    model = TorchModel().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(device)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(data), device=device)
        for i in range(0, len(data), batch_size):
            batch = data[order[i:i + batch_size]]
            loss = F.mse_loss(model(batch), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return epochs * len(data) / (time.perf_counter() - start)


def run_easynn(x: np.ndarray, epochs: int, batch_size: int, device: str) -> float:
    model = easynn_model()
    if device != "cpu":
        model.to(device)
    model.compile(optimizer=easynn.optimizers.Adam(learning_rate=1e-3), loss="mse")
    start = time.perf_counter()
    model.fit(x, x, epochs=epochs, batch_size=batch_size, verbose=0)
    if device == "cuda":
        torch.cuda.synchronize()
    return epochs * len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = np.random.default_rng(0).random((args.samples, 32, 32, 3), dtype=np.float32)
    runners = {"hand-written": run_hand, "easynn fit": run_easynn}
    for run in runners.values():  # warm-up
        run(x, 1, args.batch_size, args.device)
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.repeats):
        for name, run in runners.items():
            rates[name].append(run(x, args.epochs, args.batch_size, args.device))
    base = statistics.median(rates["hand-written"])
    print(f"device={args.device} threads={args.threads} samples={args.samples} batch={args.batch_size} "
          f"epochs={args.epochs} repeats={args.repeats}")
    print(f"{'runner':<14} | {'samples/s (median)':>18} | {'vs hand-written':>15}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:<14} | {median:>18.0f} | {median / base:>14.2f}x")


if __name__ == "__main__":
    main()
