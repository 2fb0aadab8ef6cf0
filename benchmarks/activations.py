"""Forward + backward time of easynn's activation Functions against PyTorch's native ops.

For each activation, shape and mode this times ``y = f(x); torch.autograd.grad(y, inputs, g)``
for easynn's hand-written Function and for the native op, interleaving the two so that both see
the same machine state, and prints the medians and their ratio (easynn / native) as a markdown
table. Ratios below 1 mean easynn is faster.

Usage:
    python benchmarks/activations.py                # eager, CPU (2 threads) and CUDA if present
    python benchmarks/activations.py --compile      # also torch.compile (slow to compile on CPU)
    python benchmarks/activations.py --only relu,gelu --repeats 31
    python benchmarks/activations.py --timer cpu --threads 1   # on a busy machine
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from easynn import activations as A  # noqa: E402

# name -> (easynn function, native function, needs a per-feature alpha)
FUNCTIONS = {
    "sigmoid": (A.sigmoid, torch.sigmoid, False),
    "tanh": (A.tanh, torch.tanh, False),
    "relu": (A.relu, torch.relu, False),
    "leaky_relu": (A.leaky_relu, lambda x: F.leaky_relu(x, 0.2), False),
    "prelu": (A.prelu, F.prelu, True),
    "elu": (A.elu, F.elu, False),
    "softplus": (A.softplus, F.softplus, False),
    "softmax": (A.softmax, lambda x: torch.softmax(x, -1), False),
    "silu": (A.silu, F.silu, False),
    "gelu": (A.gelu, F.gelu, False),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _step(fn, inputs, g):
    y = fn(*inputs)
    return torch.autograd.grad(y, inputs, g)


def _time(fn, inputs, g, device, inner, clock=time.perf_counter):
    _sync(device)
    start = clock()
    for _ in range(inner):
        _step(fn, inputs, g)
    _sync(device)
    return (clock() - start) / inner


def bench(name, shape, device, compiled, repeats, clock=time.perf_counter):
    ours, native, has_alpha = FUNCTIONS[name]
    x = torch.randn(shape, device=device).requires_grad_()
    g = torch.randn(shape, device=device)
    inputs = (x,)
    if has_alpha:
        inputs = (x, torch.full((shape[-1],), 0.25, device=device, requires_grad=True))
    if compiled:
        torch._dynamo.reset()
        ours, native = torch.compile(ours), torch.compile(native)
    numel = x.numel()
    inner = max(1, min(200, 2_000_000 // numel)) if device.type == "cpu" else 20
    for fn in (ours, native):  # warm up (and compile)
        for _ in range(3):
            _step(fn, inputs, g)
    t_ours, t_native = [], []
    for _ in range(repeats):  # interleaved repeats
        t_ours.append(_time(ours, inputs, g, device, inner, clock))
        t_native.append(_time(native, inputs, g, device, inner, clock))
    return statistics.median(t_ours), statistics.median(t_native)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--only", default="", help="comma-separated activation names")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    parser.add_argument("--shapes", default="128x256,2048x2048")
    parser.add_argument("--no-cuda", action="store_true")
    parser.add_argument(
        "--timer", choices=["wall", "cpu"], default="wall",
        help="wall: perf_counter (default); cpu: process CPU time, steadier on a busy machine "
        "(use with --threads 1: idle OpenMP threads spin and would be counted)",
    )
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    names = [n for n in args.only.split(",") if n] or list(FUNCTIONS)
    shapes = [tuple(int(s) for s in item.split("x")) for item in args.shapes.split(",")]
    devices = [torch.device("cpu")]
    if torch.cuda.is_available() and not args.no_cuda:
        devices.append(torch.device("cuda"))
    modes = [False, True] if args.compile else [False]
    clock = time.process_time if args.timer == "cpu" else time.perf_counter

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()} "
          f"(machine: {os.cpu_count()} CPUs, 1-min load average {load:.1f}), "
          f"{args.timer} time, median of {args.repeats} interleaved repeats, forward + backward, "
          "float32\n")
    print("| device | mode | shape | activation | easynn (ms) | native (ms) | ratio |")
    print("|---|---|---|---|---:|---:|---:|")
    for device in devices:
        for compiled in modes:
            for shape in shapes:
                for name in names:
                    t_ours, t_native = bench(name, shape, device, compiled, args.repeats, clock)
                    mode = "compile" if compiled else "eager"
                    print(f"| {device.type} | {mode} | {shape[0]}x{shape[1]} | {name} | "
                          f"{t_ours * 1e3:.3f} | {t_native * 1e3:.3f} | {t_ours / t_native:.2f} |",
                          flush=True)


if __name__ == "__main__":
    main()
