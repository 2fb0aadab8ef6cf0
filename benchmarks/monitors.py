"""Cost of the training monitors: fit time with and without them, interleaved medians.

Run: python benchmarks/monitors.py [--repeats 7] [--device cpu|cuda] [--threads 1] [--configs ...]

Each round fits the same fresh model once per configuration, in a rotating order, so drift in
machine load hits every configuration alike; the table shows each configuration's median
seconds per epoch and its overhead against plain ``fit``. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import easynn as keras
from easynn.callbacks import ActivationMonitor, GradientMonitor
from easynn.layers import Dense

CONFIGS = {
    "plain fit": lambda: [],
    "ActivationMonitor()": lambda: [ActivationMonitor(warn=False)],
    "ActivationMonitor(every=10)": lambda: [ActivationMonitor(every=10, warn=False)],
    "GradientMonitor()": lambda: [GradientMonitor(warn=False)],
    "GradientMonitor(update_ratio=False)": lambda: [GradientMonitor(update_ratio=False, warn=False)],
    "both": lambda: [GradientMonitor(warn=False), ActivationMonitor(warn=False)],
}


def build(width: int, depth: int, device: str) -> keras.Sequential:
    layers = [keras.Input(shape=(64,))]
    layers += [Dense(width, activation="relu" if i % 2 else "sigmoid") for i in range(depth)]
    layers.append(Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device=device)
    return model


def one_fit(config, x, y, args) -> tuple[float, float]:
    """Wall-clock and process CPU seconds per epoch (CPU time is less disturbed by other load)."""
    keras.utils.set_random_seed(0)
    model = build(args.width, args.depth, args.device)
    callbacks = CONFIGS[config]()
    model.fit(x[:args.batch_size], y[:args.batch_size], epochs=1, batch_size=args.batch_size, verbose=0,
              callbacks=CONFIGS[config]())  # warm-up (allocation, first-call costs)
    if args.device != "cpu":
        torch.cuda.synchronize()
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0, callbacks=callbacks)
    if args.device != "cpu":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / args.epochs, (time.process_time() - cpu_start) / args.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--configs", default=None, help="comma-separated subset of: " + ", ".join(CONFIGS))
    parser.add_argument("--samples", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.samples, 64)).astype("float32")
    y = rng.integers(0, 10, size=args.samples)
    names = list(CONFIGS) if args.configs is None else ["plain fit"] + [
        n for n in (c.strip() for c in args.configs.split(",")) if n in CONFIGS and n != "plain fit"]
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(args.repeats):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            wall, used = one_fit(name, x, y, args)
            times[name].append(wall)
            cpu[name].append(used)
    base = statistics.median(times["plain fit"])
    cpu_base = statistics.median(cpu["plain fit"])
    steps = -(-args.samples // args.batch_size)
    print(f"device={args.device} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"samples={args.samples} batch={args.batch_size} steps/epoch={steps} "
          f"model=64->{args.depth}x{args.width} (sigmoid/relu)->10, repeats={args.repeats}")
    print(f"| {'configuration':<36} | {'wall s/epoch':>12} | {'wall overhead':>13} | {'CPU s/epoch':>11} | {'CPU overhead':>12} |")
    print(f"|{'-' * 38}|{'-' * 14}|{'-' * 15}|{'-' * 13}|{'-' * 14}|")
    for name in names:
        med, used = statistics.median(times[name]), statistics.median(cpu[name])
        print(f"| {name:<36} | {med:>12.4f} | {100 * (med / base - 1):>12.1f}% | {used:>11.4f} | "
              f"{100 * (used / cpu_base - 1):>11.1f}% |")


if __name__ == "__main__":
    main()
