"""Shared pieces of the fit-vs-hand-written benchmarks: options, the two loops, interleaved timing,
the table and the JSON rows.

Each benchmark (``fit_overhead.py``, ``cnn.py``, ``lstm.py``, ``transformer.py``) supplies its data
and its network twice (a ``torch.nn`` module for the hand-written loop, an easynn model for
``fit``); this module times them the same way:

* **hand-written loop**: the NumPy arrays become tensors on the device, then per epoch one
  ``randperm`` and whole-batch index slices, ``F.cross_entropy`` on the logits, a ``torch.optim``
  step; ``torch.autocast`` around forward + loss for ``--precision bfloat16``; forward + loss in one
  ``torch.compile``'d function for ``--modes jit`` (the scope easynn compiles), compiled with
  ``mode="reduce-overhead"`` (CUDA graphs) for ``--modes cudagraphs``;
* **easynn fit**: ``model.fit(x, y, epochs=E, verbose=0)`` on the same NumPy arrays, compiled with
  ``mixed_precision="mixed_bfloat16"`` / ``jit_compile=True`` / ``jit_compile="cuda_graphs"`` for
  the same rows (an easynn that does not accept ``"cuda_graphs"`` yet gets a "not supported" row).

Both timed runs start from the NumPy arrays (so both pay the one copy to the device) and train
``--epochs`` epochs. Every runner first trains one warm-up run (its time, which includes
compilation, is the "first run" column), then the runners of a (batch, precision) group take turns
for ``--repeats`` rounds, so a noisy machine slows them alike; the table shows medians.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import statistics
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

import easynn

PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}
EASYNN_POLICY = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
HAND = "hand-written loop"
EASYNN = "easynn fit"


# ----------------------------------------------------------------------------- options
def add_arguments(parser: argparse.ArgumentParser, *, samples: int, batch_sizes: list[int], repeats: int,
                  modes: tuple[str, ...] = ("eager",), device: str = "cpu") -> None:
    """The options every benchmark shares."""
    parser.add_argument("--device", default=device, help="cpu, cuda, cuda:1... (default %(default)s)")
    parser.add_argument("--samples", type=int, default=samples, help="training samples (default %(default)s)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(batch_sizes))
    parser.add_argument("--repeats", type=int, default=repeats, help="timed runs per loop (median reported)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed run (default 1)")
    parser.add_argument("--precision", nargs="+", default=["float32"], choices=list(PRECISIONS), dest="precisions",
                        help="float32 and/or bfloat16 (autocast; easynn's mixed_bfloat16)")
    parser.add_argument("--modes", nargs="+", default=list(modes), choices=["eager", "jit", "compiled", "cudagraphs"],
                        help="eager, jit (torch.compile; 'compiled' is an alias) and/or cudagraphs "
                             "(torch.compile mode='reduce-overhead'; easynn jit_compile='cuda_graphs')")
    parser.add_argument("--jit", action="store_true", help="shortcut for --modes jit")
    parser.add_argument("--jit-backend", default="inductor",
                        help="torch.compile backend for the jit rows ('eager' only checks tracing: CPU dry runs)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--json", help="also write the rows to this JSON file (rewritten after each group)")


def modes_of(args: argparse.Namespace) -> list[str]:
    if args.jit:
        return ["jit"]
    return list(dict.fromkeys("jit" if m == "compiled" else m for m in args.modes))


JIT_COMPILE = {"eager": False, "jit": True, "cudagraphs": "cuda_graphs"}  # easynn's compile(jit_compile=...)
_backend = ["inductor"]


def use_jit_backend(backend: str) -> None:
    """Make every ``torch.compile`` call (easynn's too) use ``backend``; ``inductor`` is the default."""
    _backend[0] = backend
    if backend != "inductor":
        torch.compile = functools.partial(torch.compile, backend=backend)


def compiled(fn: Callable, mode: str) -> Callable:
    """``fn`` for the hand-written loop in ``mode``: as is, ``torch.compile``'d, or with CUDA graphs."""
    if mode == "eager":
        return fn
    if mode == "cudagraphs" and _backend[0] == "inductor":  # another backend takes no mode (dry runs)
        return torch.compile(fn, mode="reduce-overhead")
    return torch.compile(fn)


def device_name(device: str) -> str:
    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return platform.processor() or platform.machine()


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


# ----------------------------------------------------------------------------- the two loops
class HandWritten:
    """The loop a PyTorch user writes: data on the device once per run, randperm, index slices."""

    name = HAND

    def __init__(self, module: torch.nn.Module, make_optimizer: Callable, x: np.ndarray, y: np.ndarray,
                 batch_size: int, device: str, precision: str, mode: str, to_torch: Callable | None = None):
        self.device = torch.device(device)
        self.model = module.to(self.device)
        self.opt = make_optimizer(self.model.parameters())
        self.x_np, self.y_np = x, y
        self.to_torch = to_torch or torch.from_numpy  # e.g. NHWC -> NCHW for convnets
        self.batch_size = batch_size
        self.dtype = PRECISIONS[precision]
        self.forward_loss = compiled(self._forward_loss, mode)

    def _forward_loss(self, xb, yb):
        return F.cross_entropy(self.model(xb), yb)

    def _autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def run(self, epochs: int) -> None:
        self.model.train()
        x = self.to_torch(self.x_np).to(self.device)
        y = torch.from_numpy(self.y_np).to(self.device)
        n = x.shape[0]
        for _ in range(epochs):
            perm = torch.randperm(n, device=self.device)
            for start in range(0, n, self.batch_size):
                idx = perm[start : start + self.batch_size]
                self.opt.zero_grad(set_to_none=True)
                with self._autocast():
                    loss = self.forward_loss(x[idx], y[idx])
                loss.backward()
                self.opt.step()


class EasynnFit:
    """``model.fit`` on the NumPy arrays, with the row's precision and jit mode.

    ``unsupported`` holds compile's error when this easynn rejects the mode's ``jit_compile`` value
    (``"cuda_graphs"`` before easynn implements it); such a runner is reported, not timed.
    """

    name = EASYNN

    def __init__(self, model: easynn.Model, optimizer, x: np.ndarray, y: np.ndarray, batch_size: int, device: str,
                 precision: str, mode: str):
        self.model = model
        self.unsupported = None
        try:
            self.model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                               jit_compile=JIT_COMPILE[mode], mixed_precision=EASYNN_POLICY[precision], device=device)
        except (ValueError, TypeError) as error:
            if mode != "cudagraphs":
                raise
            self.unsupported = f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
        self.x, self.y, self.batch_size = x, y, batch_size

    def run(self, epochs: int) -> None:
        self.model.fit(self.x, self.y, batch_size=self.batch_size, epochs=epochs, verbose=0)


# ----------------------------------------------------------------------------- timing
def time_group(runners: list, device: str, repeats: int, epochs: int) -> tuple[dict, dict]:
    """Warm-up run each (timed: includes compilation), then ``repeats`` interleaved rounds."""
    first, times = {}, {key: [] for key, _ in runners}
    for key, runner in runners:
        sync(device)
        start = time.perf_counter()
        runner.run(epochs)
        sync(device)
        first[key] = time.perf_counter() - start
    for _ in range(repeats):
        for key, runner in runners:
            sync(device)
            start = time.perf_counter()
            runner.run(epochs)
            sync(device)
            times[key].append(time.perf_counter() - start)
    return first, times


def run_benchmark(name: str, model_name: str, args: argparse.Namespace, make_data: Callable,
                  make_runners: Callable) -> list[dict]:
    """Time every (batch size, precision) group; print the table; return (and write) the rows.

    ``make_runners(x, y, batch_size, device, precision, mode)`` returns the runners of one mode,
    the hand-written loop first. A group that raises gets an ``error`` row and the others still
    run; the process then exits with status 1 (after writing every row).
    """
    torch.set_num_threads(args.threads)
    use_jit_backend(args.jit_backend)
    modes = modes_of(args)
    x, y = make_data(args.samples)
    n_train = len(x)
    gpu = device_name(args.device)
    print(f"{name}: {model_name}; torch {torch.__version__}, {args.device} ({gpu}), {args.threads} CPU threads, "
          f"N={n_train}, {args.epochs} epoch(s) per run, {args.repeats} interleaved repeats "
          f"(median; min-max in brackets)\n")
    print("| batch | precision | mode | loop | samples/s | vs hand-written | first run (s) |")
    print("|---:|---|---|---|---:|---:|---:|")
    rows: list[dict] = []
    failed = False
    for batch_size in args.batch_sizes:
        for precision in args.precisions:
            if hasattr(torch, "_dynamo"):
                torch._dynamo.reset()  # a fresh compile cache per group: no recompile limit is hit
            runners, unsupported = [], []
            try:
                for mode in modes:
                    for runner in make_runners(x, y, batch_size, args.device, precision, mode):
                        if getattr(runner, "unsupported", None):
                            unsupported.append((mode, runner))
                        else:
                            runners.append(((mode, runner.name), runner))
                first, times = time_group(runners, args.device, args.repeats, args.epochs)
            except Exception as error:  # one failing group (e.g. no bf16 kernel here) must not hide the rest
                message = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
                print(f"| {batch_size} | {precision} | {'+'.join(modes)} | (group failed) | {message} | - | - |",
                      flush=True)
                rows.append({"benchmark": name, "model": model_name, "device": str(args.device), "device_name": gpu,
                             "torch": torch.__version__, "precision": precision, "mode": "+".join(modes),
                             "batch_size": batch_size, "loop": None, "error": message})
                failed = True
                del runners
                continue
            for mode, runner in unsupported:
                print(f"| {batch_size} | {precision} | {mode} | {runner.name} | not supported: {runner.unsupported} "
                      "| - | - |", flush=True)
                rows.append({"benchmark": name, "model": model_name, "device": str(args.device), "device_name": gpu,
                             "torch": torch.__version__, "precision": precision, "mode": mode,
                             "batch_size": batch_size, "loop": runner.name, "unsupported": runner.unsupported})
            runs = {key: times[key] or [first[key]] for key in first}  # --repeats 0: the warm-up run
            for mode in modes:
                base = statistics.median(runs[(mode, HAND)]) if (mode, HAND) in runs else None
                for (row_mode, loop), _ in runners:
                    if row_mode != mode:
                        continue
                    samples = runs[(mode, loop)]
                    median = statistics.median(samples)
                    rate = n_train * args.epochs / median
                    row = {
                        "benchmark": name, "model": model_name, "device": str(args.device), "device_name": gpu,
                        "torch": torch.__version__, "precision": precision, "mode": mode, "batch_size": batch_size,
                        "loop": loop, "samples": n_train, "epochs_per_run": args.epochs, "repeats": args.repeats,
                        "samples_per_s": rate, "min_samples_per_s": n_train * args.epochs / max(samples),
                        "max_samples_per_s": n_train * args.epochs / min(samples),
                        "vs_hand_written": (base / median) if base else None,
                        "first_run_s": first[(mode, loop)],
                    }
                    rows.append(row)
                    ratio = f"{row['vs_hand_written']:.2f}x" if base else "-"
                    print(f"| {batch_size} | {precision} | {mode} | {loop} | {rate:,.0f} "
                          f"[{row['min_samples_per_s']:,.0f}-{row['max_samples_per_s']:,.0f}] | {ratio} | "
                          f"{row['first_run_s']:.1f} |", flush=True)
            if args.json:
                write_json(args.json, rows)
            del runners
    if args.json:
        write_json(args.json, rows)
    if failed:
        raise SystemExit(1)
    return rows


def write_json(path: str, rows: list[dict]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(rows, f, indent=1)
    os.replace(tmp, path)
