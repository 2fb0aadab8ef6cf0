"""easynn's fit against a hand-written PyTorch loop on Keras's MNIST convnet, eager and compiled.

Run: python benchmarks/cnn.py [--samples 2048] [--repeats 5] [--device cpu|cuda] [--threads 2]
                              [--modes eager jit] [--batch-sizes 128] [--precision float32 bfloat16]
                              [--channels-last] [--json rows.json]

The network (Conv2D(32, 3, relu) -> MaxPool 2 -> Conv2D(64, 3, relu) -> MaxPool 2 -> Flatten ->
Dropout(0.5) -> Dense(10, softmax)) trains with Adam (lr 1e-3) on N synthetic 28x28x1 images,
``--epochs`` epochs per timing, two ways per mode (see ``benchmarks/_harness.py``):

* ``hand-written``: an ``nn.Sequential`` of ``nn.Conv2d``/``nn.MaxPool2d``/``nn.Linear`` on NCHW
  tensors (PyTorch's native layout) moved to the device once per run, a per-epoch ``randperm``,
  whole-batch index slices, ``F.cross_entropy`` on the logits, ``torch.optim.Adam``; in ``jit``
  mode forward + loss are one ``torch.compile``'d function (the same scope easynn compiles);
* ``easynn fit``: ``model.fit(x, y, epochs=E, verbose=0)`` on NumPy arrays in Keras's
  channels_last layout, ``compile(..., jit_compile=False / True)``.

``--channels-last`` adds a third loop: the hand-written one with model and images in
``torch.channels_last`` memory format (what a GPU user tunes; easynn's convolutions already run in
it). ``--precision bfloat16`` trains under ``torch.autocast`` (easynn: ``mixed_precision=
"mixed_bfloat16"``). Each runner trains one warm-up run (which also pays for compilation: the
"first run" column), then the runners of a (batch, precision) group take turns (A, B, C, D, A, B,
...) for ``--repeats`` rounds, so a noisy machine slows all of them alike. The table shows medians
of samples/s and the ratio to the hand-written loop in the same mode. N should be a multiple of the
batch size, so no run pays for an uneven last batch (or a recompilation for it).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _harness import EasynnFit, HandWritten, add_arguments, run_benchmark
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


def nchw(x: np.ndarray) -> torch.Tensor:
    """Keras's (N, 28, 28, 1) images as PyTorch's contiguous (N, 1, 28, 28)."""
    return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()


class HandWrittenChannelsLast(HandWritten):
    """The hand-written loop as a GPU user tunes it: weights and activations in ``channels_last``
    memory (NHWC, cuDNN's fast layout; easynn's convolutions use it too)."""

    name = "hand-written channels_last"

    def __init__(self, x, y, batch_size, device, precision, mode):
        # (N, 28, 28, 1) viewed as (N, 1, 28, 28): already channels_last in memory, no copy.
        super().__init__(torch_convnet().to(memory_format=torch.channels_last), adam, x, y, batch_size, device,
                         precision, mode, to_torch=lambda a: torch.from_numpy(a).permute(0, 3, 1, 2))


def adam(params):
    return torch.optim.Adam(params, lr=1e-3)


def runner_maker(channels_last: bool):
    def make_runners(x, y, batch_size, device, precision, mode):
        torch.manual_seed(0)
        runners = [HandWritten(torch_convnet(), adam, x, y, batch_size, device, precision, mode, to_torch=nchw)]
        torch.manual_seed(0)
        runners.append(EasynnFit(easynn_convnet(), easynn.optimizers.Adam(learning_rate=1e-3), x, y, batch_size,
                                 device, precision, mode))
        if channels_last:
            torch.manual_seed(0)
            runners.append(HandWrittenChannelsLast(x, y, batch_size, device, precision, mode))
        return runners

    return make_runners


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, samples=2048, batch_sizes=[128], repeats=5, modes=("eager", "jit"))
    parser.add_argument("--channels-last", action="store_true",
                        help="also time the hand-written loop in channels_last memory format")
    args = parser.parse_args(argv)
    return run_benchmark("cnn", "MNIST convnet (Keras example), Adam", args, make_data, runner_maker(args.channels_last))


if __name__ == "__main__":
    main()
