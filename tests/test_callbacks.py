"""Callbacks: hook order in fit/evaluate/predict, and each callback's contract (Keras semantics)."""

import csv
import os
import warnings

import numpy as np
import pytest
import torch

import easynn
from easynn.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from easynn.layers import Dense, Input


@pytest.fixture(autouse=True)
def seed():
    easynn.utils.set_random_seed(0)


def data(n=8, features=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.1).astype("float32")
    return x, y


def regressor(lr=0.05, optimizer="sgd"):
    model = easynn.Sequential([Input(shape=(3,)), Dense(4, activation="tanh"), Dense(1)])
    opt = easynn.optimizers.SGD(lr) if optimizer == "sgd" else easynn.optimizers.get(optimizer)
    model.compile(optimizer=opt, loss="mse", device="cpu")
    return model


class FakeModel:
    def __init__(self):
        self.stop_training = False


def run_scripted(callback, values, key="val_loss"):
    """Drive on_epoch_end with scripted logs; return the epoch where training stopped (or None)."""
    callback.set_model(FakeModel())
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {key: value})
        if callback.model.stop_training:
            return epoch
    return None


# --------------------------------------------------------------------------- hook sequence

class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def _record(name):  # noqa: N805 - a small factory for the hook methods
        def hook(self, *args):
            logs = args[-1]
            first = args[0] if len(args) == 2 else None
            self.calls.append((name, first, None if logs is None else sorted(logs)))
        return hook

    for _name in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
                  "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
                  "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end"):
        locals()[_name] = _record(_name)
    del _name


def test_fit_evaluate_predict_call_every_hook_in_keras_order():
    # As Keras: every hook receives a logs dict, never None (empty at the begin hooks).
    x, y = data(4)
    xv, yv = data(2, seed=1)
    model = regressor()
    rec = Recorder()
    model.fit(x, y, batch_size=2, epochs=2, validation_data=(xv, yv), callbacks=[rec], verbose=0, shuffle=False)
    epoch_keys = ["loss", "val_loss"]
    expected = [("on_train_begin", None, [])]
    for epoch in range(2):
        expected += [("on_epoch_begin", epoch, [])]
        for batch in range(2):
            expected += [("on_train_batch_begin", batch, []), ("on_train_batch_end", batch, ["loss"])]
        expected += [("on_test_begin", None, []), ("on_test_batch_begin", 0, []),
                     ("on_test_batch_end", 0, ["loss"]), ("on_test_end", None, ["loss"]),
                     ("on_epoch_end", epoch, epoch_keys)]
    expected += [("on_train_end", None, ["loss", "val_loss"])]
    assert rec.calls == expected
    assert rec.params == {"epochs": 2, "steps": 2, "verbose": 0}
    assert rec.model is model

    rec.calls.clear()
    model.evaluate(x, y, batch_size=4, callbacks=[rec], verbose=0)
    assert rec.calls == [("on_test_begin", None, []), ("on_test_batch_begin", 0, []),
                         ("on_test_batch_end", 0, ["loss"]), ("on_test_end", None, ["loss"])]

    rec.calls.clear()
    model.predict(x, batch_size=2, callbacks=[rec], verbose=0)
    assert rec.calls == [("on_predict_begin", None, []), ("on_predict_batch_begin", 0, []),
                         ("on_predict_batch_end", 0, ["outputs"]), ("on_predict_batch_begin", 1, []),
                         ("on_predict_batch_end", 1, ["outputs"]), ("on_predict_end", None, [])]


def test_batch_logs_hold_the_running_loss():
    x, y = data(4)
    model = regressor(lr=0.0)
    seen = []
    cb = LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs["loss"]))
    history = model.fit(x, y, batch_size=2, epochs=1, callbacks=[cb], verbose=0, shuffle=False)
    assert len(seen) == 2
    assert seen[-1] == pytest.approx(history.history["loss"][0], rel=1e-6)
    first = float(((model.predict(x[:2], verbose=0) - y[:2]) ** 2).mean())
    assert seen[0] == pytest.approx(first, rel=1e-5)


# --------------------------------------------------------------------------- EarlyStopping

def test_early_stopping_patience_counts_epochs_without_improvement():
    assert run_scripted(EarlyStopping(patience=0), [1.0, 0.9, 0.95, 0.8]) == 2
    assert run_scripted(EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.96, 0.8]) == 3
    assert run_scripted(EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.85, 0.86, 0.87]) == 5
    assert run_scripted(EarlyStopping(patience=1), [1.0, 0.9, 0.8, 0.7]) is None


def test_early_stopping_never_stops_at_epoch_zero_and_equal_is_not_better():
    # Keras: stop needs epoch > 0; an equal value does not improve (strict comparison).
    assert run_scripted(EarlyStopping(patience=0), [1.0, 1.0]) == 1


def test_early_stopping_min_delta():
    # Improvements smaller than min_delta do not count.
    assert run_scripted(EarlyStopping(patience=1, min_delta=0.1), [1.0, 0.95, 0.92, 0.5]) == 1
    assert run_scripted(EarlyStopping(patience=1, min_delta=-0.1), [1.0, 0.95, 0.92, 0.5]) == 1  # sign ignored
    assert run_scripted(EarlyStopping(patience=2, min_delta=0.1), [1.0, 0.95, 0.85, 0.8, 0.79]) == 4
    assert run_scripted(EarlyStopping(patience=1, min_delta=0.01), [1.0, 0.95, 0.92, 0.5]) is None


def test_early_stopping_baseline_resets_wait_only_when_beaten():
    # Keras 3: improvements that do not beat the baseline update `best` but keep counting `wait`.
    stopper = EarlyStopping(patience=2, baseline=0.5)
    assert run_scripted(stopper, [1.0, 0.9, 0.95]) == 2
    assert stopper.best == 0.9
    # Once the baseline is beaten, patience counts from there.
    assert run_scripted(EarlyStopping(patience=2, baseline=0.5), [1.0, 0.4, 0.45, 0.46, 0.3]) == 3


def test_early_stopping_start_from_epoch_ignores_warmup():
    assert run_scripted(EarlyStopping(patience=0, start_from_epoch=3), [1.0, 2.0, 3.0, 4.0, 5.0]) == 4
    assert run_scripted(EarlyStopping(patience=0), [1.0, 2.0, 3.0, 4.0, 5.0]) == 1


def test_early_stopping_mode_max_and_auto_for_accuracy():
    values = [0.5, 0.6, 0.55, 0.7]
    assert run_scripted(EarlyStopping(monitor="val_accuracy", patience=0), values, "val_accuracy") == 2
    assert run_scripted(EarlyStopping(monitor="val_accuracy", mode="max", patience=0), values, "val_accuracy") == 2
    # Treated as a loss, rising accuracy stops at once.
    assert run_scripted(EarlyStopping(monitor="val_accuracy", mode="min", patience=0), values, "val_accuracy") == 1
    with pytest.raises(ValueError, match="mode='max'"):
        run_scripted(EarlyStopping(monitor="val_widget"), [1.0], "val_widget")
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")


def test_early_stopping_missing_metric_warns_and_does_not_stop():
    stopper = EarlyStopping(monitor="val_loss")
    with pytest.warns(RuntimeWarning, match="val_loss"):
        assert run_scripted(stopper, [1.0, 2.0], key="loss") is None


def test_early_stopping_restore_best_weights_in_real_fit():
    x, y = data(16)
    xv, yv = data(8, seed=1)
    model = regressor(lr=0.05)
    snapshots = []
    monitor = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append([w.copy() for w in model.get_weights()]))
    # Validation loss scripted by a callback placed before EarlyStopping: best at epoch 1.
    scripted = [3.0, 1.0, 2.0, 2.5, 2.7]
    inject = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__("val_loss", scripted[epoch]))
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=5, batch_size=4, validation_data=(xv, yv), callbacks=[monitor, inject, stopper],
                        verbose=0)
    assert history.epoch == [0, 1, 2, 3]
    assert stopper.stopped_epoch == 3 and stopper.best_epoch == 1
    for got, want in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(got, want)
    assert not np.allclose(snapshots[1][0], snapshots[3][0])


def test_restore_best_weights_also_when_training_was_not_stopped():
    x, y = data(8)
    model = regressor(lr=0.05)
    snapshots = []
    scripted = [3.0, 1.0, 2.0]
    cbs = [LambdaCallback(on_epoch_end=lambda e, logs: (snapshots.append(model.get_weights()),
                                                        logs.__setitem__("loss", scripted[e]))),
           EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)]
    model.fit(x, y, epochs=3, batch_size=4, callbacks=cbs, verbose=0)
    np.testing.assert_array_equal(model.get_weights()[0], snapshots[1][0])


# --------------------------------------------------------------------------- learning rate

def torch_lrs(model):
    return [group["lr"] for group in model.optimizer.torch_optimizer.param_groups]


def test_reduce_lr_on_plateau_changes_torch_lr_after_patience():
    x, y = data(8)
    model = regressor(lr=0.1)
    lrs_at_epoch_begin = []
    spy = LambdaCallback(on_epoch_begin=lambda epoch, logs: lrs_at_epoch_begin.append(torch_lrs(model)[0]))
    inject = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__("val_loss", 1.0))
    reducer = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2, min_lr=0.02)
    history = model.fit(x, y, epochs=9, batch_size=4, callbacks=[spy, inject, reducer], verbose=0)
    # Epoch 0 sets best; 1, 2 wait -> reduce at the end of epoch 2. Keras decrements the cooldown
    # before counting: epoch 3 is in cooldown, epoch 4 counts again -> reduce after 5, then after
    # 8, where min_lr clamps 0.0125 to 0.02.
    expected = [0.1] * 3 + [0.05] * 3 + [0.025] * 3
    assert lrs_at_epoch_begin == pytest.approx(expected)
    assert history.history["learning_rate"] == pytest.approx(expected)
    assert torch_lrs(model) == pytest.approx([0.02])
    assert model.optimizer.learning_rate == pytest.approx(0.02)


def test_reduce_lr_on_plateau_rejects_bad_factor():
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.0)


def test_learning_rate_scheduler_sets_torch_lr_each_epoch():
    x, y = data(8)
    model = regressor(lr=0.1)
    seen = []
    spy = LambdaCallback(
        on_train_batch_begin=lambda batch, logs: seen.append(torch_lrs(model)[0]) if batch == 0 else None)
    schedule = LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    history = model.fit(x, y, epochs=3, batch_size=4, callbacks=[schedule, spy], verbose=0)
    assert seen == pytest.approx([0.1, 0.05, 0.025])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    # The Keras 2 one-argument form, and the lr argument is the current rate.
    model2 = regressor(lr=0.1)
    model2.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: 0.3)])
    assert torch_lrs(model2) == pytest.approx([0.3])
    model2.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[LearningRateScheduler(lambda e, lr: lr / 2)])
    assert torch_lrs(model2) == pytest.approx([0.3 / 8])
    with pytest.raises(ValueError, match="schedule"):
        model2.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda e, lr: "fast")])


# --------------------------------------------------------------------------- CSVLogger

def test_csv_logger_matches_history(tmp_path):
    x, y = data(8)
    xv, yv = data(4, seed=1)
    path = tmp_path / "log.csv"
    model = regressor()
    model.compile(optimizer=easynn.optimizers.SGD(0.05), loss="mse", metrics=["mae"], device="cpu")
    rows_after_epoch = []
    spy = LambdaCallback(on_epoch_end=lambda epoch, logs: rows_after_epoch.append(path.read_text().count("\n")))
    history = model.fit(x, y, epochs=3, batch_size=4, validation_data=(xv, yv),
                        callbacks=[CSVLogger(path), spy], verbose=0)
    assert rows_after_epoch == [2, 3, 4]  # written and flushed every epoch
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [int(r["epoch"]) for r in rows] == history.epoch
    for key, values in history.history.items():
        np.testing.assert_allclose([float(r[key]) for r in rows], values, rtol=1e-12)


def test_csv_logger_separator_append_and_na_columns(tmp_path):
    path = tmp_path / "log.tsv"
    for append in (False, True):
        logger = CSVLogger(path, separator="\t", append=append)
        logger.on_train_begin()
        logger.on_epoch_end(0, {"loss": 0.5, "acc": 0.25})
        logger.on_train_end()
    lines = path.read_text().splitlines()
    assert lines == ["epoch\tacc\tloss\tval_acc\tval_loss", "0\t0.25\t0.5\tNA\tNA", "0\t0.25\t0.5\tNA\tNA"]
    logger = CSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0})
    logger.on_train_end()
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,1.0,NA"]


# --------------------------------------------------------------------------- ModelCheckpoint

def test_model_checkpoint_names_files_with_epoch_and_logs(tmp_path):
    x, y = data(8)
    xv, yv = data(4, seed=1)
    model = regressor()
    pattern = str(tmp_path / "sub" / "ckpt-{epoch:02d}-{val_loss:.4f}.weights")
    saved = []
    spy = LambdaCallback(on_epoch_end=lambda e, logs: saved.append([w.copy() for w in model.get_weights()]))
    history = model.fit(x, y, epochs=3, batch_size=4, validation_data=(xv, yv), verbose=0,
                        callbacks=[ModelCheckpoint(pattern, save_weights_only=True), spy])
    expected = sorted(f"ckpt-{e + 1:02d}-{v:.4f}.weights" for e, v in enumerate(history.history["val_loss"]))
    assert sorted(os.listdir(tmp_path / "sub")) == expected
    clone = regressor()
    clone.build((None, 3))
    clone.load_weights(tmp_path / "sub" / expected[1])
    for got, want in zip(clone.get_weights(), saved[1]):
        np.testing.assert_array_equal(got, want)


def test_model_checkpoint_save_best_only(tmp_path):
    model = regressor()
    model.build((None, 3))
    path = tmp_path / "best.keras"
    cb = ModelCheckpoint(path, save_best_only=True)
    cb.set_model(model)
    written = []
    for epoch, val_loss in enumerate([1.0, 0.5, 0.7, 0.5, 0.2, float("nan")]):
        with torch.no_grad():
            model.layers[0].kernel.fill_(float(epoch))
        before = path.stat().st_mtime_ns if path.exists() else None
        cb.on_epoch_end(epoch, {"val_loss": val_loss})
        if path.exists() and path.stat().st_mtime_ns != before:
            written.append(epoch)
        loaded = easynn.models.load_model(path)
        assert float(loaded.layers[0].kernel.detach()[0, 0]) == (written[-1])
    assert written == [0, 1, 4] and cb.best == 0.2
    # mode="max" (auto for accuracy) and initial_value_threshold.
    cb = ModelCheckpoint(tmp_path / "acc.keras", monitor="val_accuracy", save_best_only=True,
                         initial_value_threshold=0.8)
    cb.set_model(model)
    cb.on_epoch_end(0, {"val_accuracy": 0.7})
    assert not (tmp_path / "acc.keras").exists()
    cb.on_epoch_end(1, {"val_accuracy": 0.9})
    assert (tmp_path / "acc.keras").exists()


def test_model_checkpoint_save_freq_in_batches_and_errors(tmp_path):
    x, y = data(8)
    model = regressor()
    model.fit(x, y, epochs=2, batch_size=2, verbose=0,
              callbacks=[ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.w"), save_weights_only=True, save_freq=3)])
    # 4 batches per epoch, a save every 3 batches across epochs: after batches 3, 6 (epoch 2, batch 2).
    assert sorted(os.listdir(tmp_path)) == ["e1-b3.w", "e2-b2.w"]
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint("x", save_freq="batch")
    cb = ModelCheckpoint(str(tmp_path / "{val_acc}.w"))
    cb.set_model(model)
    with pytest.raises(KeyError, match="val_acc"):
        cb.on_epoch_end(0, {"loss": 1.0})


# --------------------------------------------------------------------------- TerminateOnNaN

def nan_at(model, epoch_at, batch_at):
    state = {"epoch": -1}

    def poison(batch, logs):
        if state["epoch"] == epoch_at and batch == batch_at:
            with torch.no_grad():
                model.layers[-1].kernel.fill_(float("nan"))

    return [LambdaCallback(on_epoch_begin=lambda e, logs: state.__setitem__("epoch", e)),
            LambdaCallback(on_train_batch_begin=poison)]


def test_terminate_on_nan_stops_mid_epoch_and_keeps_last_good_checkpoint(tmp_path):
    x, y = data(16)
    model = regressor()
    batches = []
    count = LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    good = []
    keep = LambdaCallback(on_epoch_end=lambda e, logs: good.append([w.copy() for w in model.get_weights()]))
    ckpt = ModelCheckpoint(tmp_path / "best.keras", monitor="loss", save_best_only=True)
    terminate = TerminateOnNaN()
    with pytest.warns(RuntimeWarning, match=r"Epoch 3, batch 1: invalid loss nan"):
        history = model.fit(x, y, epochs=5, batch_size=4, verbose=0, shuffle=False,
                            callbacks=nan_at(model, 2, 1) + [terminate, count, keep, ckpt])
    assert terminate.bad_batch == (2, 1)
    assert history.epoch == [0, 1, 2]
    assert batches == [0, 1, 2, 3] * 2 + [0, 1]  # the rest of epoch 3 was skipped
    assert np.isnan(history.history["loss"][-1])
    restored = easynn.models.load_model(tmp_path / "best.keras")
    for got, want in zip(restored.get_weights(), good[1]):
        np.testing.assert_array_equal(got, want)
    assert np.isfinite(restored.predict(x, verbose=0)).all()


def test_terminate_on_nan_raise_error():
    x, y = data(8)
    model = regressor()
    with pytest.raises(RuntimeError, match=r"Epoch 2, batch 0"):
        model.fit(x, y, epochs=3, batch_size=4, verbose=0,
                  callbacks=nan_at(model, 1, 0) + [TerminateOnNaN(raise_error=True)])


def test_terminate_on_nan_ignores_finite_losses():
    cb = TerminateOnNaN()
    cb.set_model(FakeModel())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cb.on_train_batch_end(0, {"loss": 1e30})
    assert not cb.model.stop_training
    with pytest.warns(RuntimeWarning, match="inf"):
        cb.on_train_batch_end(1, {"loss": float("inf")})
    assert cb.model.stop_training


# --------------------------------------------------------------------------- LambdaCallback

def test_lambda_callback_hooks_fire():
    x, y = data(4)
    events = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin{epoch}"),
        on_batch_end=lambda batch, logs: events.append(f"batch_end{batch}"),  # Keras 2 alias
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end{epoch}:{sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"),
        on_test_begin=lambda logs: events.append("test_begin"),
    )
    model = regressor()
    model.fit(x, y, epochs=1, batch_size=2, verbose=0, callbacks=[cb])
    assert events == ["train_begin", "epoch_begin0", "batch_end0", "batch_end1", "epoch_end0:['loss']", "train_end"]
    model.evaluate(x, y, verbose=0, callbacks=[cb])
    assert events[-1] == "test_begin"
    with pytest.raises(ValueError, match="on_epoch_ends"):
        LambdaCallback(on_epoch_ends=print)
    with pytest.raises(TypeError, match="on_epoch_end"):
        LambdaCallback(on_epoch_end=3)


# --------------------------------------------------------------------------- History.plot

def test_history_plot_writes_png_of_expected_size(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    x, y = data(8)
    xv, yv = data(4, seed=1)
    model = regressor()
    model.compile(optimizer=easynn.optimizers.SGD(0.05), loss="mse", metrics=["mae"], device="cpu")
    history = model.fit(x, y, epochs=3, batch_size=4, validation_data=(xv, yv), verbose=0)
    path = tmp_path / "plots" / "curves.png"
    fig = history.plot(path=path)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "mae"]
    lines = fig.axes[0].get_lines()
    assert [line.get_linestyle() for line in lines] == ["-", "--"]
    np.testing.assert_allclose(lines[1].get_ydata(), history.history["val_loss"])
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    assert path.stat().st_size > 1000
    width, height = fig.get_size_inches() * fig.dpi
    with Image.open(path) as image:
        assert image.size == (round(width), round(height)) == (900, 1050)  # 6 x 7 inches at 150 dpi
    fig = history.plot(metrics=["mae"])
    assert [ax.get_title() for ax in fig.axes] == ["mae"]
    with pytest.raises(ValueError, match="accuracy"):
        history.plot(metrics=["accuracy"])


def test_history_plot_names_the_extra_when_matplotlib_is_missing(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    history = easynn.callbacks.History()
    history.history = {"loss": [1.0]}
    with pytest.raises(ImportError, match=r"pip install matplotlib"):
        history.plot()


def test_early_stopping_example_stops_early_and_writes_plot_and_checkpoint(tmp_path, capsys):
    import importlib.util
    import pathlib

    pytest.importorskip("matplotlib")
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "early_stopping.py"
    spec = importlib.util.spec_from_file_location("easynn_example_early_stopping", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    result = example.main(str(tmp_path))
    assert result["epochs"] < 300
    assert os.path.getsize(result["plot"]) > 1000
    restored = easynn.models.load_model(result["checkpoint"])
    (_, _), (x_val, y_val) = example.make_data()
    assert restored.evaluate(x_val, y_val, verbose=0)[0] == pytest.approx(result["best_val_loss"], rel=1e-5)
    assert str(tmp_path) in capsys.readouterr().out
