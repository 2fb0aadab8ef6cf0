"""One-command GPU check: the CUDA tests, every example on the GPU, and the GPU benchmark rows.

Run (repository root; PyTorch, NumPy, tqdm, safetensors, pytest installed; no network needed):

    bash benchmarks/gpu_check.sh OUT_DIR [--budget 450] [--pack] [--only STEP ...] [--dry-run]

Steps, in priority order, each time-boxed (a hang costs its own timeout, never the whole run):

1. ``env``: Python, PyTorch, CUDA and the GPU's name;
2. ``pytest-cuda``: ``pytest -m cuda tests`` (the CUDA tests, including the no-host-sync test);
3. ``example-*``: every script in ``examples/`` with the small sizes the CPU tests use, on the GPU
   (``examples/mnist_cnn.py`` also with mixed_bfloat16 and with ``--jit``); a step fails if the
   example did not allocate GPU memory;
4. ``bench-*-eager`` then ``bench-*-jit``: ``benchmarks/fit_overhead.py``, ``cnn.py``, ``lstm.py``,
   ``transformer.py`` with ``--device cuda --precision float32 bfloat16``: easynn's ``fit`` against
   a hand-written PyTorch loop, eager and ``jit_compile=True`` (the convnet's eager rows also have a
   channels_last hand-written loop);
5. ``bench-fit_overhead-cudagraphs``, ``bench-cnn-cudagraphs``: CUDA graphs (hand-written:
   ``torch.compile(mode="reduce-overhead")``; easynn: ``jit_compile="cuda_graphs"``, a "not
   supported" row until easynn has it), float32, last because least urgent.

OUT_DIR receives ``summary.md`` and ``summary.json`` (one row per step: ok / fail / timeout /
skipped, seconds, details; and every benchmark row) and ``logs/`` (one log per step, plus each
benchmark's JSON rows); ``--pack`` replaces ``logs/`` by ``logs.tar.gz`` (three files in all).
Steps stop being started when the ``--budget`` (seconds, default 450) is spent; those left are
marked ``skipped``. A failing step is marked, and the run goes on.

Without CUDA (or with ``--dry-run``) the script says so and runs the same steps on the CPU with
tiny sizes (the jit rows with torch.compile's ``eager`` backend, to skip the C++ compiler), grouped
into a few processes; ``tests/test_gpu_check.py`` runs this dry run. The exit status is 0 when no
step failed or timed out, else 1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import importlib.util
import inspect
import json
import os
import pathlib
import platform
import re
import runpy
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
DISTRIBUTED_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


# ============================================================================ the plan
def example_items(cuda: bool, scratch: str) -> list[dict]:
    """Every example, with the small sizes its CPU test uses.

    In the dry run the examples' CPU tests already train them, so only ``mnist_cnn`` (whose
    ``--samples`` makes it tiny) runs; the others are loaded and their ``main`` is checked to accept
    the GPU run's arguments.
    """
    mnist = ["--samples", "768", "--epochs", "2", "--batch-size", "32"] if cuda else \
        ["--samples", "64", "--epochs", "1", "--batch-size", "32"]
    mnist += ["--device", "cuda" if cuda else "cpu"]
    items = [
        ("quickstart", {"kwargs": {"verbose": 0}}),
        ("xor", {"kwargs": {}}),
        ("custom_layer", {"kwargs": {}}),
        ("functional", {"kwargs": {"verbose": 0, "samples": 1500, "epochs": 6}}),
        ("early_stopping", {"kwargs": {"out": os.path.join(scratch, "early_stopping")}}),
        ("diagnose", {"kwargs": {"out": os.path.join(scratch, "diagnose"), "epochs": 1}}),
        ("distributed", {"kwargs": {"epochs": 1}}),
        ("mnist_cnn", {"argv": mnist}),
        ("mnist_cnn", {"argv": mnist + ["--mixed-precision", "mixed_bfloat16"], "tag": "bf16"}),
        ("mnist_cnn", {"argv": mnist + ["--jit"], "tag": "jit", "timeout": 150}),
    ]
    known = {name for name, _ in items}
    for path in sorted((REPO / "examples").glob("*.py")):  # an example added later runs as a script
        if path.stem not in known and not path.stem.startswith("_"):
            items.append((path.stem, {"script": True}))
    out = []
    for name, spec in items:
        tag = spec.pop("tag", None)
        item = {"kind": "example", "name": f"example-{name}" + (f"-{tag}" if tag else ""), "example": name,
                "timeout": spec.pop("timeout", 60), "cuda": cuda, **spec}
        if not cuda:
            item["bind_only"] = name != "mnist_cnn" or tag == "jit"  # the bench-*-jit steps trace in the dry run
            item["jit_backend"] = "eager"  # no C++ compile in the dry run
        out.append(item)
    return out


# Benchmark sizes: on the GPU big enough that a run is well past launch overhead, small enough that
# eight of them fit the budget; in the dry run as small as the scripts allow.
BENCHMARKS = {
    "fit_overhead": (["--samples", "65536", "--batch-sizes", "256", "4096", "--epochs", "2", "--repeats", "5"],
                     ["--samples", "64", "--batch-sizes", "64", "--repeats", "0"]),
    "cnn": (["--samples", "16384", "--batch-sizes", "128", "1024", "--repeats", "5"],
            ["--samples", "32", "--batch-sizes", "32", "--repeats", "0"]),
    "lstm": (["--samples", "16384", "--seq-len", "100", "--vocab", "20000", "--units", "128", "--batch-sizes", "256",
              "--repeats", "5"],
             ["--samples", "32", "--seq-len", "8", "--vocab", "100", "--units", "16", "--batch-sizes", "32",
              "--repeats", "0"]),
    "transformer": (["--samples", "8192", "--seq-len", "128", "--vocab", "20000", "--dim", "256", "--heads", "8",
                     "--ff-dim", "1024", "--blocks", "2", "--batch-sizes", "128", "--repeats", "5"],
                    ["--samples", "32", "--seq-len", "8", "--vocab", "100", "--dim", "16", "--heads", "2",
                     "--ff-dim", "32", "--blocks", "1", "--batch-sizes", "32", "--repeats", "0"]),
}


# The jit rows pay one compilation per (batch size, precision, loop): on the GPU they use the batch
# size where launch overhead matters most, so the eight jit steps fit the budget.
JIT_BATCH_SIZES = {"fit_overhead": "256", "cnn": "128"}


def benchmark_items(cuda: bool, logs: pathlib.Path) -> list[dict]:
    items = []
    for mode in ("eager", "jit", "cudagraphs"):
        for name, (gpu_args, cpu_args) in BENCHMARKS.items():
            if mode == "cudagraphs" and name not in JIT_BATCH_SIZES:
                continue  # CUDA graphs pay off where launches dominate: the MLP and the small convnet
            if cuda and mode != "eager" and name in JIT_BATCH_SIZES:
                cut = gpu_args.index("--batch-sizes")
                rest = next((i for i in range(cut + 1, len(gpu_args)) if gpu_args[i].startswith("--")), len(gpu_args))
                gpu_args = gpu_args[: cut + 1] + [JIT_BATCH_SIZES[name]] + gpu_args[rest:]
            precisions = ["float32", "bfloat16"] if mode != "cudagraphs" else ["float32"]
            if not cuda and (name == "lstm" or mode == "jit"):
                # Dry run: oneDNN has no bf16 LSTM on many CPUs, and each jit row costs a trace.
                precisions = ["float32"]
            argv = (gpu_args if cuda else cpu_args) + ["--device", "cuda" if cuda else "cpu", "--precision",
                                                      *precisions, "--modes", mode]
            if not cuda:
                argv += ["--threads", "1"] + (["--jit-backend", "eager"] if mode != "eager" else [])
            if name == "cnn" and mode == "eager":
                argv.append("--channels-last")
            step = f"bench-{name}-{mode}"
            rows = logs / f"{step}.json"
            items.append({"kind": "script", "name": step, "path": f"benchmarks/{name}.py", "argv": argv + ["--json", str(rows)],
                          "rows": str(rows), "timeout": (120 if mode == "eager" else 150) if cuda else 90})
    return items


def pytest_command(cuda: bool, logs: pathlib.Path) -> list[str]:
    command = [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-rfEs", "-p", "no:cacheprovider",
               f"--junitxml={logs / 'pytest-cuda.xml'}"]
    if importlib.util.find_spec("pytest_timeout") is not None:
        command += ["--timeout", "120"]  # one hanging test fails alone (the step's timeout is the backstop)
    # The dry run collects only the CUDA test modules (all skipped without a GPU), to stay quick.
    return command + (["tests"] if cuda else ["tests/test_cuda_sync.py", "tests/test_cuda.py"])


# ============================================================================ the driver
def child_env(cuda: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in DISTRIBUTED_ENV}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    if not cuda:
        env["CUDA_VISIBLE_DEVICES"] = ""  # the dry run stays on the CPU even on a GPU machine
    return env


def run_process(command: list[str], log: pathlib.Path, timeout: float, env: dict) -> tuple[int | None, float]:
    """Run ``command`` with output to ``log``; kill its whole process group at ``timeout``.

    Returns ``(returncode, seconds)``; the return code is ``None`` on a timeout.
    """
    start = time.perf_counter()
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = proc.wait(timeout=max(timeout, 1))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
        # Leftovers of a finished step (compile workers, DataLoader workers) must not outlive it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    return code, time.perf_counter() - start


class Check:
    def __init__(self, out: pathlib.Path, cuda: bool, budget: float, isolate: bool, only: list[str] | None,
                 start: float | None = None):
        self.out, self.cuda, self.budget, self.isolate, self.only = out, cuda, budget, isolate, only
        self.logs = out / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.start = time.perf_counter() if start is None else start
        self.steps: list[dict] = []
        self.env = child_env(cuda)
        self.info: dict = {}

    def left(self) -> float:
        return self.budget - (time.perf_counter() - self.start)

    def wanted(self, name: str) -> bool:
        """``--only`` filter (by substring); ``env`` always runs: the summary names the GPU from it."""
        return not self.only or name == "env" or any(o in name for o in self.only)

    def record(self, name, status, seconds, details="", log=None, **extra):
        step = {"step": name, "status": status, "seconds": round(seconds, 1), "details": details,
                "log": os.path.relpath(log, self.out) if log else None, **extra}
        self.steps.append(step)
        print(f"[{time.perf_counter() - self.start:6.0f}s] {name}: {status} ({seconds:.1f}s) {details}", flush=True)

    # ------------------------------------------------------------------ pytest
    def run_pytest(self):
        name = "pytest-cuda"
        if not self.wanted(name):
            return
        if self.left() < 20:
            return self.record(name, "skipped", 0, "budget spent")
        log = self.logs / f"{name}.log"
        code, seconds = run_process(pytest_command(self.cuda, self.logs), log, min(200, self.left()), self.env)
        tail = log.read_text(errors="replace")[-4000:]
        counts = re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected|xfailed|xpassed)", tail)
        details = ", ".join(f"{n} {what}" for n, what in counts)
        status = "timeout" if code is None else ("ok" if code in (0, 5) else "fail")
        self.record(name, status, seconds, details or f"exit {code}", log)

    # ------------------------------------------------------------------ workers
    def run_items(self, items: list[dict]):
        items = [item for item in items if self.wanted(item["name"])]
        groups = [[item] for item in items] if self.isolate else ([items] if items else [])
        for group in groups:
            if self.left() < 15:
                for item in group:
                    self.record(item["name"], "skipped", 0, "budget spent")
                continue
            spec = self.logs / f"_worker_{group[0]['name']}.json"
            results = self.logs / f"_worker_{group[0]['name']}.results.jsonl"
            results.unlink(missing_ok=True)
            spec.write_text(json.dumps({"items": group, "results": str(results), "logs": str(self.logs)}))
            timeout = min(sum(item["timeout"] for item in group), self.left())
            code, seconds = run_process([sys.executable, str(pathlib.Path(__file__).resolve()), "--worker", str(spec)],
                                        self.logs / f"_worker_{group[0]['name']}.log", timeout, self.env)
            done = {}
            if results.exists():
                for line in results.read_text().splitlines():
                    if line.strip():
                        result = json.loads(line)
                        done[result["name"]] = result
            for item in group:
                log = self.logs / f"{item['name']}.log"
                extra = {}
                if item.get("rows") and os.path.exists(item["rows"]):  # a killed benchmark keeps its finished groups
                    extra["rows"] = json.loads(pathlib.Path(item["rows"]).read_text())
                result = done.get(item["name"])
                if result is None:
                    status = "timeout" if code is None else "fail"
                    why = f"no result: the worker was killed at its {timeout:.0f}s timeout" if code is None else \
                        f"no result: the worker exited with status {code}"
                    if extra:
                        why += f" ({len(extra['rows'])} rows were written before)"
                    self.record(item["name"], status, seconds if len(group) == 1 else 0, why, log, **extra)
                    continue
                self.record(item["name"], result["status"], result["seconds"], result["details"], log, **extra)
                if item["kind"] == "env" and result.get("value"):
                    self.info = result["value"]

    # ------------------------------------------------------------------ all of it
    def run(self):
        scratch = tempfile.mkdtemp(prefix="easynn-gpu-check-")
        try:
            env = [{"kind": "env", "name": "env", "timeout": 60, "cuda": self.cuda}]
            examples = example_items(self.cuda, scratch)
            benches = benchmark_items(self.cuda, self.logs)
            if self.isolate:  # one process per step
                self.run_items(env)
                self.run_pytest()
                self.run_items(examples)
                self.run_items(benches)
            else:  # dry run: two processes (each pays PyTorch's import)
                self.run_items(env + examples + benches)
                self.run_pytest()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return self.write_summary()

    def write_summary(self) -> int:
        wall = time.perf_counter() - self.start
        rows = [row for step in self.steps for row in step.get("rows", [])]
        failed = [s["step"] for s in self.steps if s["status"] in ("fail", "timeout")]
        summary = {
            "cuda": self.cuda, "dry_run": not self.cuda, "device": self.info.get("device"),
            "torch": self.info.get("torch"), "cuda_version": self.info.get("cuda"), "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "wall_s": round(wall, 1), "budget_s": self.budget, "failed": failed,
            "steps": [{k: v for k, v in s.items() if k != "rows"} for s in self.steps], "benchmarks": rows,
        }
        (self.out / "summary.json").write_text(json.dumps(summary, indent=1))
        markdown = render_markdown(summary)
        (self.out / "summary.md").write_text(markdown)
        print("\n" + markdown, flush=True)
        return 1 if failed else 0


def render_markdown(summary: dict) -> str:
    if summary["cuda"]:
        head = (f"GPU: **{summary['device']}**, torch {summary['torch']} (CUDA {summary['cuda_version']}), "
                f"Python {summary['python']}")
    else:
        head = ("**No CUDA device: dry run on the CPU with tiny sizes** (checks the steps run; measures nothing "
                f"about GPUs). torch {summary['torch']}, Python {summary['python']}")
    lines = ["# easynn GPU check", "", f"{summary['date']}. {head}. Wall time {summary['wall_s']:.0f} s "
             f"(budget {summary['budget_s']:.0f} s).", "", "| step | status | seconds | details |", "|---|---|---:|---|"]
    for s in summary["steps"]:
        details = str(s["details"]).replace("|", "/").replace("\n", " ")[:200]
        lines.append(f"| {s['step']} | {s['status']} | {s['seconds']:.1f} | {details} |")
    if summary["benchmarks"]:
        lines += ["", "| benchmark | batch | precision | mode | loop | samples/s | vs hand-written | first run (s) |",
                  "|---|---:|---|---|---|---:|---:|---:|"]
        for r in summary["benchmarks"]:
            if r.get("error"):
                lines.append(f"| {r['benchmark']} | {r['batch_size']} | {r['precision']} | {r['mode']} | "
                             f"(failed) | {r['error'][:80].replace('|', '/')} | - | - |")
                continue
            if r.get("unsupported"):
                lines.append(f"| {r['benchmark']} | {r['batch_size']} | {r['precision']} | {r['mode']} | {r['loop']} | "
                             f"not supported: {r['unsupported'][:80].replace('|', '/')} | - | - |")
                continue
            ratio = f"{r['vs_hand_written']:.2f}x" if r.get("vs_hand_written") else "-"
            lines.append(f"| {r['benchmark']} | {r['batch_size']} | {r['precision']} | {r['mode']} | {r['loop']} | "
                         f"{r['samples_per_s']:,.0f} | {ratio} | {r['first_run_s']:.1f} |")
    failed = summary["failed"]
    lines += ["", f"Failed or timed out: {', '.join(failed)}." if failed else "No step failed.",
              "Logs: `logs/` (or `logs.tar.gz`), one file per step."]
    return "\n".join(lines) + "\n"


# ============================================================================ the worker
@contextlib.contextmanager
def output_to(path: pathlib.Path):
    """Send this process's stdout and stderr (file descriptors too, for C++ output) to ``path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def env_info(item):
    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
            "cuda_available": torch.cuda.is_available(), "device": platform.processor() or platform.machine()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(device=torch.cuda.get_device_name(0), capability=".".join(map(str, torch.cuda.get_device_capability(0))),
                    memory_gib=round(props.total_memory / 2**30, 1), cudnn=torch.backends.cudnn.version(),
                    bf16=torch.cuda.is_bf16_supported())
    print(json.dumps(info, indent=1))
    if item["cuda"] and not info["cuda_available"]:
        raise RuntimeError("CUDA was expected but torch.cuda.is_available() is False")
    details = f"{info['device']}, torch {info['torch']}, CUDA {info['cuda']}" if info["cuda_available"] else \
        f"no CUDA; torch {info['torch']}"
    return info, details


def run_example(item):
    import torch

    path = REPO / "examples" / f"{item['example']}.py"
    spec = importlib.util.spec_from_file_location(f"gpu_check_example_{item['example']}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if item.get("script"):  # an example without a known small-size call: `python examples/NAME.py`
        if item.get("bind_only"):
            return None, "dry run: loads (on the GPU it runs as a script with its default arguments)"
        call = functools.partial(run_as_main, str(path), [])
    else:
        args, kwargs = ([item["argv"]], {}) if "argv" in item else ([], item["kwargs"])
        if item.get("bind_only"):
            inspect.signature(module.main).bind(*args, **kwargs)  # TypeError if the GPU run's call would fail
            if args and hasattr(module, "parse_args"):
                module.parse_args(*args)  # argparse exits on an unknown option
            return None, "dry run: loads, and main() accepts the GPU run's arguments (its CPU test trains it)"
        call = functools.partial(module.main, *args, **kwargs)
    if item.get("jit_backend"):
        torch.compile = functools.partial(torch.compile, backend=item["jit_backend"])
    if item["cuda"]:
        torch.cuda.reset_peak_memory_stats()
    value = call()
    details = f"returned {summarise(value)}"
    if item["cuda"]:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
        if peak == 0:
            raise RuntimeError(f"the example ran but allocated no GPU memory ({details})")
        details += f"; peak GPU memory {peak:.1f} MiB"
    return value, details


def run_as_main(path: str, argv: list[str]) -> None:
    """``python PATH ARGV...`` in this process (its folder first on sys.path, as Python does)."""
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [path, *argv]
    sys.path.insert(0, os.path.dirname(path))
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exit_:
        if exit_.code not in (None, 0):
            raise RuntimeError(f"{os.path.relpath(path, REPO)} exited with status {exit_.code}") from None
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


def run_script(item):
    run_as_main(str(REPO / item["path"]), item["argv"])
    rows = json.loads(pathlib.Path(item["rows"]).read_text()) if os.path.exists(item["rows"]) else []
    errors = [r for r in rows if r.get("error")]
    unsupported = [r for r in rows if r.get("unsupported")]
    timed = len(rows) - len(errors) - len(unsupported)
    details = f"{timed} row{'' if timed == 1 else 's'}"
    if unsupported:
        details += f"; not supported: {unsupported[0]['loop']} ({unsupported[0]['unsupported'][:120]})"
    if errors:
        raise RuntimeError(f"{details}, {len(errors)} failed group(s): {errors[0]['error']}")
    if not rows:
        raise RuntimeError("no benchmark rows were written")
    return None, details


def summarise(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {summarise(v)}" for k, v in value.items() if not isinstance(v, str)) + "}"
    return repr(value)[:80]


def worker(spec_path: str) -> int:
    spec = json.loads(pathlib.Path(spec_path).read_text())
    logs = pathlib.Path(spec["logs"])
    runners = {"env": env_info, "example": run_example, "script": run_script}
    for item in spec["items"]:
        start = time.perf_counter()
        value = None
        try:
            with output_to(logs / f"{item['name']}.log"):
                value, details = runners[item["kind"]](item)
            status = "ok"
        except BaseException as error:  # noqa: BLE001 - the item fails, the next one still runs
            if isinstance(error, KeyboardInterrupt):
                raise
            import traceback

            with open(logs / f"{item['name']}.log", "a") as log:
                traceback.print_exc(file=log)
            status, details = "fail", f"{type(error).__name__}: {str(error).strip()[:300]}"
        result = {"name": item["name"], "status": status, "seconds": time.perf_counter() - start, "details": details}
        if isinstance(value, dict) and item["kind"] == "env":
            result["value"] = value
        with open(spec["results"], "a") as out:
            out.write(json.dumps(result) + "\n")
    return 0


# ============================================================================ command line
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", help="folder for summary.md, summary.json and logs/")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds after which no step is started (default 450 on a GPU, 600 in the dry run)")
    parser.add_argument("--dry-run", action="store_true", help="the CPU dry run even where CUDA is available")
    parser.add_argument("--only", nargs="+", help="run only steps whose name contains one of these")
    parser.add_argument("--pack", action="store_true", help="end with logs.tar.gz instead of a logs/ folder")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    if not args.out:
        parser.error("the output folder is required: bash benchmarks/gpu_check.sh OUT_DIR")
    start = time.perf_counter()
    cuda = not args.dry_run and cuda_available()
    if cuda:
        print("CUDA found: running the GPU check.", flush=True)
    else:
        print("No CUDA device found (or --dry-run): running a dry run of every step on the CPU with tiny sizes. "
              "Its numbers say nothing about GPU speed.", flush=True)
    out = pathlib.Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    budget = args.budget if args.budget is not None else (450.0 if cuda else 600.0)
    check = Check(out, cuda, budget, isolate=cuda, only=args.only, start=start)
    status = check.run()
    if args.pack:
        with tarfile.open(out / "logs.tar.gz", "w:gz") as tar:
            tar.add(check.logs, arcname="logs")
        shutil.rmtree(check.logs)
    return status


def cuda_available() -> bool:
    """Ask a child process (a CUDA driver that hangs must not hang the driver script)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") == "":
        return False
    if sys.platform == "linux" and not any(pathlib.Path("/dev").glob("nvidia*")) and not os.path.exists("/dev/dxg"):
        return False  # no NVIDIA device node: no need to import PyTorch to know
    try:
        proc = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                              capture_output=True, text=True, timeout=120, env=child_env(True), cwd=REPO)
    except subprocess.TimeoutExpired:
        return False
    return proc.stdout.strip().endswith("True")


if __name__ == "__main__":
    sys.exit(main())
