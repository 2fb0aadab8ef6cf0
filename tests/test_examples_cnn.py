"""examples/mnist_cnn.py runs quickly, learns, and prints throughput per epoch."""

import importlib.util
import pathlib
import re

import numpy as np
import pytest

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "mnist_cnn.py"


def load():
    spec = importlib.util.spec_from_file_location("example_mnist_cnn", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_digits_are_learned_and_throughput_is_printed(capsys):
    accuracy = load().main(["--samples", "768", "--epochs", "2", "--batch-size", "32", "--device", "cpu"])
    out = capsys.readouterr().out
    assert accuracy > 0.7
    rates = re.findall(r"epoch (\d): ([\d,]+) samples/s", out)
    assert [epoch for epoch, _ in rates] == ["1", "2"]
    assert all(float(rate.replace(",", "")) > 0 for _, rate in rates)
    assert "768 training samples on cpu, precision float32, eager" in out
    assert f"test accuracy {accuracy:.4f}" in out


def test_real_mnist_file_and_bfloat16(tmp_path, capsys):
    """--data reads a local mnist.npz (here a tiny one in MNIST's format: uint8 0..255)."""
    example = load()
    x_train, y_train = example.synthetic_digits(300, seed=5)
    x_test, y_test = example.synthetic_digits(50, seed=6)
    as_uint8 = lambda x: np.round(x[..., 0] * 255).astype(np.uint8)  # noqa: E731
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=as_uint8(x_train), y_train=y_train.astype(np.uint8),
             x_test=as_uint8(x_test), y_test=y_test.astype(np.uint8))
    accuracy = example.main(["--data", str(path), "--samples", "256", "--epochs", "1", "--batch-size", "64",
                             "--device", "cpu", "--mixed-precision", "mixed_bfloat16"])
    out = capsys.readouterr().out
    assert "256 training samples on cpu, precision mixed_bfloat16" in out  # --samples cut the 300
    assert f"test accuracy {accuracy:.4f}" in out
    assert round(accuracy * 50) == pytest.approx(accuracy * 50, abs=1e-6)  # a count of the 50 test digits
    assert len(re.findall(r"samples/s", out)) == 1
