"""Progress output: every metric visible at 80 columns in a terminal, plain lines elsewhere."""

import io
import json
import os
import re
import select
import subprocess
import sys
import textwrap

import pytest

from easynn import _traceback
from easynn.callbacks.base import LazyLogs
from easynn.training import progress
from easynn.training.progress import ProgbarLogger, _wrap, format_logs, format_value

pty = pytest.importorskip("pty", reason="pseudo-terminals need a POSIX system")
import fcntl  # noqa: E402
import struct  # noqa: E402
import termios  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTROL = re.compile(r"[\r\x1b\x08]")


def _open_pty(columns=80):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    return master, slave


def _drain(master) -> str:
    chunks = []
    while select.select([master], [], [], 0.05)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def _screen(raw: str, columns=80) -> list[str]:
    """What a terminal shows after ``raw``: handles \\r, \\n, cursor-up and line wrapping."""
    lines, row, col = [[]], 0, 0
    i = 0
    while i < len(raw):
        ch = raw[i]
        if raw.startswith("\x1b[A", i):
            row, i = max(row - 1, 0), i + 3
            continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
        else:
            if col >= columns:
                row, col = row + 1, 0
            while len(lines) <= row:
                lines.append([])
            line = lines[row]
            line.extend(" " * (col + 1 - len(line)))
            line[col] = ch
            col += 1
        while len(lines) <= row:
            lines.append([])
        i += 1
    return ["".join(line).rstrip() for line in lines]


# --------------------------------------------------------------------------- formatting
def test_values_are_formatted_as_keras_does():
    assert format_value(0.123456) == "0.1235"
    assert format_value(2e-05) == "2.0000e-05"
    assert format_value(7) == "7"
    assert format_logs({"val_loss": 1.0, "loss": 0.5, "accuracy": 0.25, "grad_norm/dense": 3.0}) == (
        "accuracy: 0.2500 - loss: 0.5000 - val_loss: 1.0000")


def test_wrap_never_splits_a_metric_and_respects_the_width():
    parts = [f"metric_{i}: 0.{i}000" for i in range(8)]
    lines = _wrap("22/22 ━━━━ 0s 3ms/step", parts, width=40)
    assert all(len(line) <= 40 for line in lines)
    assert " - ".join(line.strip() for line in lines).replace(" -  - ", " - ").count("metric_") == 8
    for part in parts:
        assert any(part in line for line in lines)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="verbose"):
        ProgbarLogger(verbose=0)
    with pytest.raises(ValueError, match="mode"):
        ProgbarLogger(mode="training")


# --------------------------------------------------------------------------- plain output
def _run_epochs(bar, epochs=2, steps=5, logs=None):
    logs = logs or {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "val_accuracy": 0.5}
    bar.set_params({"epochs": epochs, "steps": steps, "verbose": bar.verbose})
    bar.on_train_begin()
    for epoch in range(epochs):
        bar.on_epoch_begin(epoch)
        for step in range(steps):
            bar.on_train_batch_end(step, LazyLogs(lambda: {"loss": 0.5, "accuracy": 0.75}))
        bar.on_epoch_end(epoch, dict(logs))
    bar.on_train_end()


def test_plain_stream_gets_complete_lines_without_control_characters():
    out = io.StringIO()
    _run_epochs(ProgbarLogger(verbose=1, file=out))
    text = out.getvalue()
    assert not CONTROL.search(text)
    lines = text.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(r"5/5 ━{20} \d+s \d+(us|ms|s)/step - accuracy: 0\.7500 - loss: 0\.5000"
                        r" - val_accuracy: 0\.5000 - val_loss: 0\.6250", lines[1]), lines[1]


def test_verbose_2_is_keras_epoch_line():
    out = io.StringIO()
    _run_epochs(ProgbarLogger(verbose=2, file=out), epochs=1, steps=22)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Epoch 1/1"
    assert re.fullmatch(r"22/22 - \d+s - \d+(us|ms|s)/step - accuracy: 0\.7500 - loss: 0\.5000 - "
                        r"val_accuracy: 0\.5000 - val_loss: 0\.6250", lines[1]), lines[1]


def test_ascii_only_stream_falls_back_to_ascii_bar():
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    bar = ProgbarLogger(verbose=1, mode="test", file=out)
    bar.set_params({"steps": 4})
    bar.on_test_begin()
    for step in range(4):
        bar.on_test_batch_end(step, {"loss": 1.0})
    bar.on_test_end({"loss": 0.25})
    out.flush()
    line = raw.getvalue().decode("ascii").strip()
    assert re.fullmatch(r"4/4 ={20} \d+s \d+(us|ms|s)/step - loss: 0\.2500", line), line


def test_predict_line_has_no_metrics_and_test_mode_ignores_fit_hooks():
    out = io.StringIO()
    bar = ProgbarLogger(verbose=1, mode="predict", file=out)
    bar.set_params({"steps": 3})
    assert bar._implements("on_predict_batch_end") and not bar._implements("on_train_batch_end")
    bar.on_epoch_begin(0)  # not a fit: no header
    bar.on_predict_begin()
    for step in range(3):
        bar.on_predict_batch_end(step, {"outputs": None})
    bar.on_predict_end()
    assert re.fullmatch(r"3/3 ━{20} \d+s \d+(us|ms|s)/step\n", out.getvalue())


# --------------------------------------------------------------------------- a terminal
def test_terminal_keeps_every_metric_and_routes_prints_above_the_bar(monkeypatch):
    master, slave = _open_pty(80)
    term = os.fdopen(slave, "w", encoding="utf-8", buffering=1)
    try:
        monkeypatch.setattr(sys, "stdout", term)
        monkeypatch.setattr(sys, "stderr", term)
        logs = {f"{prefix}{name}": value for prefix in ("", "val_")
                for name, value in (("loss", 0.4321), ("accuracy", 0.875), ("precision", 0.8125), ("recall", 0.6875))}
        bar = ProgbarLogger(verbose=1, refresh_seconds=0.0)
        bar.set_params({"epochs": 1, "steps": 4})
        bar.on_epoch_begin(0)
        for step in range(4):
            bar.on_train_batch_end(step, LazyLogs(lambda: {k: v for k, v in logs.items() if "val_" not in k}))
            if step == 1:
                print("a message from a callback")
                assert sys.stdout is not term  # routed while the bar is live
        bar.on_epoch_end(0, logs)
        assert sys.stdout is term and sys.stderr is term  # given back
        raw = _drain(master)
    finally:
        term.close()
        os.close(master)
    assert "\r" in raw  # drawn in place
    screen = [line for line in _screen(raw) if line]
    assert screen[0] == "Epoch 1/1"
    assert screen[1] == "a message from a callback"
    assert screen[2].startswith("4/4 ━━━━━━━━━━━━━━━━━━━━ ")
    assert all(len(line) <= 80 for line in screen)
    final = " ".join(screen[2:])
    for name, value in logs.items():
        assert f"{name}: {format_value(value)}" in final
    assert not any("─" in line for line in screen), screen  # no stale, unfinished bar


def test_an_error_leaving_an_entry_point_closes_the_bar(monkeypatch):
    master, slave = _open_pty(80)
    term = os.fdopen(slave, "w", encoding="utf-8", buffering=1)
    try:
        monkeypatch.setattr(sys, "stdout", term)

        @_traceback.filter_traceback
        def fit():
            bar = ProgbarLogger(verbose=1)
            bar.set_params({"epochs": 1, "steps": 4})
            bar.on_epoch_begin(0)
            bar.on_train_batch_end(0, {"loss": 1.0})
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fit()
        assert sys.stdout is term
        assert not list(progress._LIVE) or not any(d.live for d in progress._LIVE)
    finally:
        term.close()
        os.close(master)


_SCRIPT = textwrap.dedent("""
    import json, sys, numpy as np, easynn as keras
    keras.utils.set_random_seed(0)
    x = np.random.rand(96, 6).astype("float32"); y = np.random.randint(0, 3, 96)
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_top_k_categorical_accuracy"])
    class Talk(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(f"callback line {epoch}")
    h = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, callbacks=[Talk()], verbose=1)
    with open(sys.argv[1], "w") as f:
        json.dump({k: v[-1] for k, v in h.history.items()}, f)
""")


@pytest.mark.slow  # a subprocess
def test_real_fit_in_an_80_column_terminal_shows_every_metric(tmp_path):
    master, slave = _open_pty(80)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), TERM="xterm")
    env.pop("COLUMNS", None)
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT, str(tmp_path / "history.json")], stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True, cwd=ROOT)
    os.close(slave)
    chunks = []
    try:
        while True:
            ready = select.select([master], [], [], 120)[0]
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        proc.wait(timeout=120)
        os.close(master)
    raw = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, raw[-2000:]
    screen = [line for line in _screen(raw) if line]
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history) == 6  # loss, 2 metrics, and their val_ twins
    epoch2 = screen.index("Epoch 2/2")
    assert screen[epoch2 + 1] == "callback line 1"
    final = " ".join(screen[epoch2 + 2:])
    for name, value in history.items():
        assert f"{name}: {format_value(value)}" in final, (name, screen)
    assert all(len(line) <= 80 for line in screen)
    assert not any("─" in line for line in screen), screen


# --------------------------------------------------------------------------- utils.Progbar
def test_progbar_averages_values_over_steps_and_keeps_stateful_ones():
    from easynn.utils import Progbar

    out = io.StringIO()
    bar = Progbar(4, verbose=1, stateful_metrics=["lr"], file=out)
    bar.update(1, values=[("loss", 4.0), ("lr", 0.1)])
    bar.add(3, values=[("loss", 0.0), ("lr", 0.05)])  # covers 3 steps: (4*1 + 0*3) / 4 = 1
    text = out.getvalue()
    assert not CONTROL.search(text)
    assert re.fullmatch(r"4/4 ━{20} \d+s \d+(us|ms|s)/step - loss: 1\.0000 - lr: 0\.0500\n", text), text
    silent = io.StringIO()
    Progbar(2, verbose=0, file=silent).update(2, [("loss", 1.0)])
    assert silent.getvalue() == ""
