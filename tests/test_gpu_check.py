"""benchmarks/gpu_check.sh: without CUDA it runs its CPU dry run of every step and writes the
summary, so the GPU check cannot rot between the sessions that have a GPU."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tarfile

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
BENCHMARKS = ("fit_overhead", "cnn", "lstm", "transformer")
EXAMPLES = ("quickstart", "xor", "custom_layer", "functional", "early_stopping", "diagnose", "distributed",
            "mnist_cnn", "mnist_cnn-bf16", "mnist_cnn-jit")
# An example added later still gets a step (run as a script with its defaults on the GPU).
EXAMPLES += tuple(sorted(p.stem for p in (REPO / "examples").glob("*.py")
                         if p.stem not in EXAMPLES and not p.stem.startswith("_")))
STEPS = (["env", "pytest-cuda"] + [f"example-{name}" for name in EXAMPLES]
         + [f"bench-{name}-{mode}" for mode in ("eager", "jit") for name in BENCHMARKS]
         + ["bench-fit_overhead-cudagraphs", "bench-cnn-cudagraphs"])


def load_gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_dry_run_without_cuda_runs_every_step_and_writes_the_summary(tmp_path):
    out = tmp_path / "check"
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")  # a dry run even on a GPU machine
    proc = subprocess.run(["bash", str(REPO / "benchmarks" / "gpu_check.sh"), str(out), "--pack"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "No CUDA device" in proc.stdout

    summary = json.loads((out / "summary.json").read_text())
    assert summary["cuda"] is False and summary["dry_run"] is True
    assert sorted(s["step"] for s in summary["steps"]) == sorted(STEPS)
    assert {s["step"]: s["status"] for s in summary["steps"]} == dict.fromkeys(STEPS, "ok")
    pytest_step = next(s for s in summary["steps"] if s["step"] == "pytest-cuda")
    assert "skipped" in pytest_step["details"] and "passed" not in pytest_step["details"]

    rows = summary["benchmarks"]
    keys = {(r["benchmark"], r["precision"], r["mode"], r["loop"]) for r in rows}
    # CUDA graphs: the hand-written loop always has a row; easynn's is timed, or "not supported"
    # while compile() rejects jit_compile="cuda_graphs".
    for name in ("fit_overhead", "cnn"):
        assert {(name, "float32", "cudagraphs", loop) for loop in ("hand-written loop", "easynn fit")} <= keys
    timed = [r for r in rows if not r.get("unsupported")]
    assert all(r["mode"] == "cudagraphs" and r["loop"] == "easynn fit" for r in rows if r.get("unsupported"))
    for name in BENCHMARKS:
        for loop in ("hand-written loop", "easynn fit"):
            assert (name, "float32", "eager", loop) in keys
            assert (name, "float32", "jit", loop) in keys
            if name != "lstm":  # CPU oneDNN has no bf16 LSTM; the GPU run has it
                assert (name, "bfloat16", "eager", loop) in keys
    assert ("fit_overhead", "float32", "eager", "DataLoader loop") in keys
    assert ("cnn", "bfloat16", "eager", "hand-written channels_last") in keys
    assert all(r["samples_per_s"] > 0 and r["device"] == "cpu" and "error" not in r for r in timed)
    assert all(r["vs_hand_written"] == 1.0 for r in rows if r["loop"] == "hand-written loop")

    markdown = (out / "summary.md").read_text()
    assert "No CUDA device" in markdown and "No step failed." in markdown
    for step in STEPS:
        assert f"| {step} | ok |" in markdown
    assert "| transformer | 32 | float32 | jit | easynn fit |" in markdown

    assert not (out / "logs").exists()  # --pack: three files in all
    with tarfile.open(out / "logs.tar.gz") as tar:
        names = set(tar.getnames())
    assert all(f"logs/{step}.log" in names for step in STEPS)
    assert "logs/bench-cnn-jit.json" in names


def test_a_hanging_step_is_killed_at_its_timeout(tmp_path):
    gpu_check = load_gpu_check()
    log = tmp_path / "hang.log"
    code, _ = gpu_check.run_process([sys.executable, "-c", "import time; print('started', flush=True); time.sleep(600)"],
                                    log, timeout=3, env=dict(os.environ))
    assert code is None  # a timeout, reported as such
    assert "started" in log.read_text()


def test_a_benchmark_killed_at_its_timeout_keeps_its_finished_rows(tmp_path):
    gpu_check = load_gpu_check()
    rows = tmp_path / "rows.json"
    script = tmp_path / "hanging_bench.py"
    script.write_text(
        "import json, sys, time\n"
        f"json.dump([{{'benchmark': 'fake', 'batch_size': 8, 'precision': 'float32', 'mode': 'jit', "
        f"'loop': 'easynn fit', 'samples_per_s': 10.0, 'vs_hand_written': 1.0, 'first_run_s': 0.1}}], "
        f"open({str(rows)!r}, 'w'))\n"
        "print('group 1 done', flush=True)\n"
        "time.sleep(600)\n"
    )
    check = gpu_check.Check(tmp_path / "out", cuda=False, budget=300, isolate=True, only=None)
    check.run_items([{"kind": "script", "name": "bench-fake-jit", "path": str(script), "argv": [], "rows": str(rows),
                      "timeout": 5}])
    (step,) = check.steps
    assert step["status"] == "timeout" and "1 rows were written" in step["details"]
    assert [r["loop"] for r in step["rows"]] == ["easynn fit"]
    assert "group 1 done" in (tmp_path / "out" / "logs" / "bench-fake-jit.log").read_text()
    assert check.write_summary() == 1


def test_steps_past_the_budget_are_skipped_and_failures_are_marked(tmp_path):
    gpu_check = load_gpu_check()
    check = gpu_check.Check(tmp_path, cuda=False, budget=0, isolate=True, only=None)
    check.run_items([{"kind": "env", "name": "env", "timeout": 60, "cuda": False}])
    check.run_pytest()
    check.record("bench-x-eager", "fail", 1.5, "RuntimeError: boom")
    status = check.write_summary()
    assert status == 1
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [(s["step"], s["status"]) for s in summary["steps"]] == [
        ("env", "skipped"), ("pytest-cuda", "skipped"), ("bench-x-eager", "fail")]
    assert summary["failed"] == ["bench-x-eager"]
    markdown = (tmp_path / "summary.md").read_text()
    assert "| bench-x-eager | fail | 1.5 | RuntimeError: boom |" in markdown
    assert "Failed or timed out: bench-x-eager." in markdown


def test_summary_table_shows_benchmark_rows_and_failed_groups():
    gpu_check = load_gpu_check()
    summary = {"cuda": True, "device": "NVIDIA H200", "torch": "2.11.0", "cuda_version": "13.0", "python": "3.12.3",
               "date": "2026-12-02 12:00 UTC", "wall_s": 300.0, "budget_s": 450.0, "failed": [], "steps": [],
               "benchmarks": [
                   {"benchmark": "cnn", "batch_size": 128, "precision": "bfloat16", "mode": "jit",
                    "loop": "easynn fit", "samples_per_s": 123456.7, "vs_hand_written": 0.987, "first_run_s": 21.04},
                   {"benchmark": "lstm", "batch_size": 256, "precision": "bfloat16", "mode": "eager", "loop": None,
                    "error": "RuntimeError: no kernel"}]}
    markdown = gpu_check.render_markdown(summary)
    assert "GPU: **NVIDIA H200**, torch 2.11.0 (CUDA 13.0)" in markdown
    assert "| cnn | 128 | bfloat16 | jit | easynn fit | 123,457 | 0.99x | 21.0 |" in markdown
    assert "| lstm | 256 | bfloat16 | eager | (failed) | RuntimeError: no kernel | - | - |" in markdown
    assert "No step failed." in markdown
