"""The getting-started examples run and reach their stated results."""

import importlib.util
import pathlib

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quickstart_learns_the_synthetic_task(capsys):
    accuracy = load("quickstart").main(verbose=0)
    out = capsys.readouterr().out
    assert accuracy > 0.8
    assert 'Model: "sequential' in out and "test accuracy" in out


def test_xor_is_learned_to_full_accuracy(capsys):
    accuracy = load("xor").main()
    assert accuracy == 1.0
    assert "1 XOR 1 ->" in capsys.readouterr().out
