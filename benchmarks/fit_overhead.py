"""How much does easynn's fit cost over a hand-written PyTorch loop?

Run: python benchmarks/fit_overhead.py [--repeats 7] [--device cpu|cuda] [--batch-sizes 32 256]
                                       [--precision float32 bfloat16] [--modes eager jit] [--json rows.json]

Trains the same MLP (784-256-128-10, ReLU, softmax cross-entropy, SGD lr 0.05) on ``--samples``
synthetic float32 samples (20,000 by default), ``--epochs`` epochs per timing, with:

* ``easynn``: ``model.fit(x, y, epochs=E, verbose=0)`` on NumPy arrays;
* ``hand-written``: the arrays moved to the device once per run, a per-epoch ``randperm``,
  whole-batch slices, ``F.cross_entropy`` on logits, ``torch.optim.SGD``;
* ``easynn fit, lecture's Functions in the step``: the same fit with
  ``easynn.config.set_lecture_gradients(True)``: the lecture's Python autograd Functions
  differentiate the activations inside fit's step too (the default, ``"auto"``, uses torch's
  kernels for the same derivatives there and the lecture's Functions everywhere else);
* ``DataLoader``: the common ``TensorDataset`` + ``DataLoader(shuffle=True)`` loop (eager float32 only);
* ``easynn fit, custom train_step``: the same model with keras-io's torch ``train_step`` override
  (eager float32 only): what a user pays for writing their own step.

``--precision bfloat16`` runs forward + loss under ``torch.autocast`` (easynn: ``mixed_bfloat16``);
``--modes jit`` (or ``--jit``) compiles forward + loss with ``torch.compile`` (easynn:
``jit_compile=True``). Runs are interleaved (A, B, C, A, B, C, ...) after a warm-up run each, and
the table reports medians of samples/s and the ratio against the hand-written loop (see
``benchmarks/_harness.py``).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from _harness import PRECISIONS, EasynnFit, HandWritten, add_arguments, run_benchmark
from torch import nn

import easynn

FEATURES, CLASSES = 784, 10


def make_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, size=n).astype("int64")
    return x, y


def torch_mlp():
    return nn.Sequential(nn.Linear(FEATURES, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, CLASSES))


def easynn_mlp():
    return easynn.Sequential([
        easynn.Input(shape=(FEATURES,)),
        easynn.layers.Dense(256, activation="relu"),
        easynn.layers.Dense(128, activation="relu"),
        easynn.layers.Dense(CLASSES, activation="softmax"),
    ])


class GuideTrainStep(easynn.Sequential):
    """A ``train_step`` written as keras-io's "customizing fit() with PyTorch" guide writes it."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        weights = self.trainable_weights
        with torch.no_grad():
            self.optimizer.apply([w.value.grad for w in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class EasynnCustomStep(EasynnFit):
    """``fit`` of a model whose ``train_step`` is the guide's (no fused fast path)."""

    name = "easynn fit, custom train_step"


class EasynnLectureGradients(EasynnFit):
    """``fit`` with ``easynn.config.set_lecture_gradients(True)``: the lecture's Python autograd
    Functions differentiate the activations inside fit's built-in step as well."""

    name = "easynn fit, lecture's Functions in the step"

    def run(self, epochs):
        easynn.config.set_lecture_gradients(True)
        try:
            super().run(epochs)
        finally:
            easynn.config.set_lecture_gradients("auto")


class Loader:
    """The ``TensorDataset`` + ``DataLoader(shuffle=True)`` loop most tutorials show."""

    name = "DataLoader loop"

    def __init__(self, x, y, batch_size, device, precision):
        self.model = torch_mlp().to(device)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.05)
        dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        self.loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
        self.device = torch.device(device)
        self.dtype = PRECISIONS[precision]

    def run(self, epochs):
        self.model.train()
        for _ in range(epochs):
            for xb, yb in self.loader:
                xb, yb = xb.to(self.device), yb.to(self.device)
                self.opt.zero_grad()
                with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
                    loss = F.cross_entropy(self.model(xb), yb)
                loss.backward()
                self.opt.step()


def make_runners(x, y, batch_size, device, precision, mode):
    torch.manual_seed(0)
    runners = [
        HandWritten(torch_mlp(), lambda p: torch.optim.SGD(p, lr=0.05), x, y, batch_size, device, precision, mode),
        EasynnFit(easynn_mlp(), easynn.optimizers.SGD(learning_rate=0.05), x, y, batch_size, device, precision, mode),
    ]
    runners.append(EasynnLectureGradients(easynn_mlp(), easynn.optimizers.SGD(learning_rate=0.05), x, y, batch_size,
                                         device, precision, mode))
    if mode == "eager" and precision == "float32":
        custom = GuideTrainStep(easynn_mlp().layers)
        runners.append(EasynnCustomStep(custom, easynn.optimizers.SGD(learning_rate=0.05), x, y, batch_size, device,
                                        precision, mode))
        runners.append(Loader(x, y, batch_size, device, precision))
    return runners


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, samples=20_000, batch_sizes=[32, 256], repeats=7)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    return run_benchmark("fit_overhead", "MLP 784-256-128-10, SGD", args, make_data, make_runners)


if __name__ == "__main__":
    main()
