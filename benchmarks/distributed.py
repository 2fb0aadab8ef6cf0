"""Data-parallel throughput: samples/s of ``fit`` on 1 and N processes, and the scaling efficiency.

Run: python benchmarks/distributed.py [--epochs 3] [--samples 16384] [--global-batch 256]

Trains the same MLP (256-512-256-10, ReLU, softmax cross-entropy, SGD) on synthetic data with a
fixed *global* batch, timing whole epochs after a warm-up epoch (median over epochs):

* CPU, 1 process with 1 thread and with 2 threads (``torch.set_num_threads``);
* CPU, 2 processes with 1 thread each (``torchrun --nproc_per_node=2``, gloo);
* with 2+ GPUs: 1 process on one GPU and one process per GPU (nccl).

Efficiency = (samples/s of N processes) / (N x samples/s of the 1-process, 1-thread run on the
same hardware). On a 2-core machine, 2 processes x 1 thread use the same cores as 1 process x 2
threads, so compare those two rows as well.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker(args) -> None:
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    import easynn
    from easynn import distribute
    from easynn.layers import Dense

    easynn.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.samples, 256)).astype("float32")
    y = rng.integers(0, 10, size=args.samples)
    model = easynn.Sequential([Dense(512, activation="relu"), Dense(256, activation="relu"),
                               Dense(10, activation="softmax")])
    device = "cuda" if args.cuda else "cpu"
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  device=None if distribute.is_distributed() else device)
    workers = distribute.world_size()
    batch = args.global_batch // workers
    times = []
    for epoch in range(args.epochs + 1):  # the first epoch warms up
        distribute.barrier()
        if args.cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        if args.cuda:
            torch.cuda.synchronize()
        distribute.barrier()
        if epoch:
            times.append(time.perf_counter() - start)
    if distribute.is_main_process():
        print("RESULT " + json.dumps({"processes": workers, "threads": args.threads,
                                      "samples_per_s": args.samples / statistics.median(times),
                                      "device": str(model.device)}), flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args, processes: int, threads: int, cuda: bool = False) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = str(threads)
    if not cuda:
        env["CUDA_VISIBLE_DEVICES"] = ""
    script = [os.path.abspath(__file__), "--worker", "--threads", str(threads), "--epochs", str(args.epochs),
              "--samples", str(args.samples), "--global-batch", str(args.global_batch)] + (["--cuda"] if cuda else [])
    if processes == 1:
        command = [sys.executable] + script
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc_per_node={processes}",
                   "--master_addr=127.0.0.1", f"--master_port={_free_port()}"] + script
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"benchmark run failed ({' '.join(command)}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=16384)
    parser.add_argument("--global-batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cuda", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    import torch

    rows = []
    base = run(args, 1, 1)
    rows.append(("CPU", "1 process x 1 thread", base, 1.0))
    rows.append(("CPU", "1 process x 2 threads", run(args, 1, 2), None))
    two = run(args, 2, 1)
    rows.append(("CPU", "2 processes x 1 thread", two, two["samples_per_s"] / (2 * base["samples_per_s"])))
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus >= 2:
        one_gpu = run(args, 1, 1, cuda=True)
        rows.append(("GPU", "1 process, 1 GPU", one_gpu, 1.0))
        many = run(args, gpus, 1, cuda=True)
        rows.append(("GPU", f"{gpus} processes, {gpus} GPUs", many, many["samples_per_s"] / (gpus * one_gpu["samples_per_s"])))

    print(f"MLP 256-512-256-10, {args.samples} samples, global batch {args.global_batch}, "
          f"median of {args.epochs} epochs after a warm-up; {os.cpu_count()} CPU cores, {gpus} GPU(s)")
    print(f"| {'hardware':8} | {'setup':26} | {'samples/s':>10} | {'scaling efficiency':>18} |")
    print(f"|{'-' * 10}|{'-' * 28}|{'-' * 12}|{'-' * 20}|")
    for hardware, setup, result, efficiency in rows:
        eff = "-" if efficiency is None else f"{efficiency:.0%}"
        print(f"| {hardware:8} | {setup:26} | {result['samples_per_s']:>10,.0f} | {eff:>18} |")


if __name__ == "__main__":
    main()
