"""Per-call overhead of ``easynn.ops`` against the raw torch call (CPU, eager).

For each case this times ``--calls`` calls of the easynn op and of the torch function on the same
inputs, interleaving the two ``--repeats`` times so both see the same machine state, and prints the
median time per call and the ratio (easynn / torch) as a Markdown table. The issue's target is a
ratio <= 1.2 at 128x128. The "symbolic type registered" rows show the cost of the dispatch check
once the functional API has registered its symbolic-tensor class (see easynn/ops/_dispatch.py).

Usage:
    python benchmarks/ops.py                       # 128x128, 1 thread
    python benchmarks/ops.py --size 512 --threads 2
    python benchmarks/ops.py --timer cpu           # process CPU time, steadier on a busy machine
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from easynn import ops  # noqa: E402
from easynn.ops import _dispatch  # noqa: E402


class _Symbolic:
    """Stands in for the functional API's symbolic tensor class."""


def _time(fn, args, calls: int, clock) -> float:
    start = clock()
    for _ in range(calls):
        fn(*args)
    return (clock() - start) / calls


def _cases(size: int) -> list[tuple[str, object, object, tuple]]:
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen)
    b = torch.randn(size, size, generator=gen)
    return [
        (f"add {size}x{size}", ops.add, torch.add, (a, b)),
        (f"add {size}x{size} + Python float", ops.add, torch.add, (a, 2.0)),
        (f"matmul {size}x{size}", ops.matmul, torch.matmul, (a, b)),
        (f"sum {size}x{size}, axis=-1", lambda x: ops.sum(x, axis=-1), lambda x: torch.sum(x, dim=-1), (a,)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--timer", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.timer == "wall" else time.process_time

    rows = []
    for registered in (False, True):
        if registered:
            _dispatch.register_symbolic_type(_Symbolic, lambda *a: None)
        try:
            for name, mine, native, inputs in _cases(args.size):
                for fn in (mine, native):  # warm up
                    _time(fn, inputs, 50, clock)
                times_mine, times_native = [], []
                for _ in range(args.repeats):
                    times_mine.append(_time(mine, inputs, args.calls, clock))
                    times_native.append(_time(native, inputs, args.calls, clock))
                m, n = statistics.median(times_mine), statistics.median(times_native)
                label = name + (" (symbolic type registered)" if registered else "")
                rows.append((label, m, n))
        finally:
            _dispatch.unregister_symbolic_type(_Symbolic)

    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.timer} timer, median of {args.repeats} "
          f"interleaved repeats x {args.calls} calls\n")
    print("| op | easynn.ops (us) | torch (us) | ratio |")
    print("|---|---:|---:|---:|")
    for label, m, n in rows:
        print(f"| {label} | {m * 1e6:.2f} | {n * 1e6:.2f} | {m / n:.2f}x |")


if __name__ == "__main__":
    main()
