"""How long does one optimizer update take: easynn's optimizers against ``torch.optim``'s defaults?

Run: python benchmarks/optimizer_step.py [--repeats 9] [--steps 300] [--device cpu|cuda]

For each optimizer (SGD, SGD with momentum, Adam, AdamW, RMSprop), both contestants update the same
weights (the 784-256-128-10 MLP of ``fit_overhead.py``, 235k weights) from the same gradients:

* ``torch.optim default``: ``torch.optim.X(params, ...)`` as a hand-written loop creates it, then
  ``opt.step()`` (torch's default implementation for the device: a Python loop over the weights on
  CPU, ``foreach`` on CUDA);
* ``easynn``: the easynn optimizer built on the same weights, then ``opt.step()`` (torch's fused
  kernels where torch has them, called beneath torch's profiler / hook layer).

Each timing runs ``--steps`` updates; the contestants take turns (A, B, A, B, ...) for
``--repeats`` rounds after a warm-up, and the table reports the median time per update and the
speed-up (torch time / easynn time).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import easynn

SHAPES = [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)]

CASES = {
    "SGD": (lambda: easynn.optimizers.SGD(0.01), lambda p: torch.optim.SGD(p, lr=0.01)),
    "SGD momentum 0.9": (lambda: easynn.optimizers.SGD(0.01, momentum=0.9),
                         lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
    "Adam": (lambda: easynn.optimizers.Adam(), lambda p: torch.optim.Adam(p, lr=0.001, eps=1e-7)),
    "AdamW": (lambda: easynn.optimizers.AdamW(),
              lambda p: torch.optim.AdamW(p, lr=0.001, eps=1e-7, weight_decay=0.004)),
    "RMSprop": (lambda: easynn.optimizers.RMSprop(),
                lambda p: torch.optim.RMSprop(p, lr=0.001, alpha=0.9, eps=1e-7)),
}


def weights(device: str) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(0)
    params = [torch.nn.Parameter((torch.randn(s, generator=g) * 0.01).to(device)) for s in SHAPES]
    for p in params:
        p.grad = (torch.randn(p.shape, generator=g) * 0.01).to(device)
    return params


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_steps(step, steps: int, device: str) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return (time.perf_counter() - start) / steps


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    print(f"optimizer_step: MLP 784-256-128-10 weights; torch {torch.__version__}, {args.device}, "
          f"{torch.get_num_threads()} threads, {args.steps} updates per timing, {args.repeats} interleaved repeats")
    print()
    print("| optimizer | torch.optim default (µs/update) | easynn (µs/update) | speed-up |")
    print("|---|---:|---:|---:|")
    rows = []
    for name, (make_easy, make_torch) in CASES.items():
        easy_params, torch_params = weights(args.device), weights(args.device)
        easy = make_easy()
        easy.build(easy_params)
        reference = make_torch(torch_params)
        contestants = {"torch": reference.step, "easynn": easy.step}
        for step in contestants.values():
            time_steps(step, 5, args.device)  # warm-up: state buffers, first-call imports
        times = {key: [] for key in contestants}
        for _ in range(args.repeats):
            for key, step in contestants.items():
                times[key].append(time_steps(step, args.steps, args.device))
        t_torch, t_easy = statistics.median(times["torch"]), statistics.median(times["easynn"])
        rows.append({"optimizer": name, "torch_us": t_torch * 1e6, "easynn_us": t_easy * 1e6})
        print(f"| {name} | {t_torch * 1e6:,.0f} | {t_easy * 1e6:,.0f} | {t_torch / t_easy:.2f}x |")
    return rows


if __name__ == "__main__":
    main()
