"""docs/coming_from_keras.md must be what scripts/coming_from_keras.py writes for the current easynn.

The page is regenerated in a fresh interpreter (one import of easynn) rather than in this process:
whether ``easynn.<sub-package>`` is an attribute depends on which sub-modules earlier tests imported,
and the page must describe what a user sees right after ``import easynn as keras``.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "coming_from_keras.py"
PAGE = ROOT / "docs" / "coming_from_keras.md"


def _load_script():
    # Importing the script does not import easynn (only render() does).
    spec = importlib.util.spec_from_file_location("coming_from_keras", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated() -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _section(text: str, namespace: str) -> tuple[list[str], list[str], int, int]:
    """(supported, missing, n_supported, n_total) parsed from one '## namespace' section."""
    match = re.search(rf"^## {re.escape(namespace)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no section for {namespace}"
    body = match.group(1)
    counts = re.search(r"\*\*(\d+) of (\d+) supported\*\*", body)
    supported = re.search(r"^Supported: (.*)\.$", body, re.M).group(1)
    missing = re.search(r"^\*\*Not yet\*\* \(\d+\): (.*)\.$", body, re.M).group(1)
    return re.findall(r"`([^`]+)`", supported), re.findall(r"`([^`]+)`", missing), int(counts[1]), int(counts[2])


def test_committed_page_is_up_to_date(generated):
    committed = PAGE.read_text(encoding="utf-8")
    if committed != generated:
        import difflib

        diff = "".join(
            difflib.unified_diff(committed.splitlines(True), generated.splitlines(True), "committed", "generated", n=0)
        )
        pytest.fail(
            "docs/coming_from_keras.md is stale: a public name was added to or removed from easynn.\n"
            f"Regenerate it with: python scripts/coming_from_keras.py --write\n{diff[:4000]}"
        )


@pytest.mark.parametrize(
    "namespace, name",
    [
        ("keras", "Sequential"),
        ("keras", "Model"),
        ("keras.layers", "Dense"),
        ("keras.layers", "Conv2D"),
        ("keras.ops", "matmul"),
        ("keras.ops.numpy", "matmul"),
        ("keras.callbacks", "EarlyStopping"),
        ("keras.optimizers", "Adam"),
        ("keras.losses", "SparseCategoricalCrossentropy"),
    ],
)
def test_known_names_are_listed_as_supported(generated, namespace, name):
    supported, missing, _, _ = _section(generated, namespace)
    assert name in supported and name not in missing


def test_every_reference_name_appears_exactly_once_per_section(generated):
    script = _load_script()
    for namespace, names in script.KERAS_API.items():
        supported, missing, n_supported, n_total = _section(generated, namespace)
        not_applicable = set(script.NOT_APPLICABLE.get(namespace, ()))
        assert len(supported) == n_supported and len(supported) + len(missing) == n_total, namespace
        assert sorted(supported + missing) == sorted(set(names) - not_applicable), namespace


def test_not_applicable_names_are_keras_names():
    script = _load_script()
    for namespace, names in script.NOT_APPLICABLE.items():
        assert set(names) <= set(script.KERAS_API[namespace]), namespace


def test_a_name_that_raises_not_implemented_counts_as_missing():
    # easynn.ops.nn/image raise NotImplementedError from __getattr__ for Keras names they lack.
    script = _load_script()
    module = types.ModuleType("fake")
    module.present = 1

    def __getattr__(name):
        if name == "known_missing":
            raise NotImplementedError(name)
        raise AttributeError(name)

    module.__getattr__ = __getattr__
    assert script._has(module, "present")
    assert not script._has(module, "known_missing")
    assert not script._has(module, "absent")
