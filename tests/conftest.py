"""pytest settings shared by every test: say why tests were skipped, grouped by reason.

``pytest -q`` only prints "37 skipped"; this adds, at the end of the run, lines like::

    37 cuda tests skipped: torch.cuda.is_available() is False (torch 2.13.0+cpu, a CPU-only build)
    3 tests skipped: the `tensorboard` package is not installed (pip install tensorboard)
"""

from __future__ import annotations

from collections import Counter


def _cuda_reason() -> str:
    import torch

    if torch.cuda.is_available():
        return "a CUDA device is available, but the tests asked to skip"
    build = f"CUDA {torch.version.cuda} build, no device visible" if torch.version.cuda else "a CPU-only build"
    return f"torch.cuda.is_available() is False (torch {torch.__version__}, {build})"


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2])
    else:
        text = str(longrepr)
    return text[len("Skipped: "):] if text.startswith("Skipped: ") else text


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    groups: Counter = Counter()
    for report in skipped:
        keywords = getattr(report, "keywords", {}) or {}
        if "cuda" in keywords:
            groups[("cuda ", _cuda_reason())] += 1
        else:
            groups[("", _reason(report))] += 1
    terminalreporter.section("why tests were skipped", sep="-")
    for (kind, reason), count in groups.most_common():
        noun = "test" if count == 1 else "tests"
        terminalreporter.write_line(f"{count} {kind}{noun} skipped: {reason}")
