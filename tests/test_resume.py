"""Crash-safe training: BackupAndRestore resumes exactly, even after SIGKILL."""

import os
import runpy
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import easynn
from easynn.callbacks import BackupAndRestore, Callback, CSVLogger, EarlyStopping, ReduceLROnPlateau
from easynn.layers import Dense, Dropout, Input

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 4)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    return x, y


def make_model():
    # Dropout and shuffling draw random numbers; Adam keeps state: all must be restored.
    model = easynn.Sequential([Input(shape=(4,)), Dense(8, activation="relu"), Dropout(0.3),
                               Dense(1, activation="sigmoid")])
    model.compile(optimizer=easynn.optimizers.Adam(0.01), loss="binary_crossentropy", device="cpu")
    return model


class Crash(Callback):
    """Raise in the middle of ``epoch`` (an in-process stand-in for a crash)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = -1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("simulated crash")


def test_resume_after_a_crash_equals_an_uninterrupted_run(tmp_path):
    x, y = make_data()
    easynn.utils.set_random_seed(3)
    reference = make_model()
    ref_history = reference.fit(x, y, epochs=5, batch_size=8, verbose=0,
                                callbacks=[EarlyStopping(monitor="loss", patience=10),
                                           ReduceLROnPlateau(monitor="loss")])

    backup = tmp_path / "backup"
    easynn.utils.set_random_seed(3)
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, batch_size=8, verbose=0,
                  callbacks=[EarlyStopping(monitor="loss", patience=10), BackupAndRestore(backup), Crash(2, 1)])
    assert os.listdir(backup) == ["latest.pt"]

    easynn.utils.set_random_seed(3)
    model = make_model()  # fresh weights: everything comes from the backup
    stopper = EarlyStopping(monitor="loss", patience=10)
    restore = BackupAndRestore(backup)
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[stopper, restore])
    assert restore.restored_epoch == 2
    assert history.epoch == [2, 3, 4]
    np.testing.assert_array_equal(history.history["loss"], ref_history.history["loss"][2:])
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert model.optimizer.iterations == reference.optimizer.iterations == 15
    # EarlyStopping's state came back: its best is the best over all five epochs.
    assert stopper.best == min(ref_history.history["loss"])
    assert not backup.exists()  # deleted after a successful end


def test_csv_logger_continues_its_file_after_resume(tmp_path):
    x, y = make_data()
    path = tmp_path / "log.csv"
    easynn.utils.set_random_seed(1)
    model = make_model()
    logger = CSVLogger(path)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=4, batch_size=8, verbose=0,
                  callbacks=[logger, BackupAndRestore(tmp_path / "b"), Crash(2, 0)])
    logger.on_train_end()  # the crash skipped it; close the file as the dying process would
    assert len(path.read_text().splitlines()) == 3  # header + epochs 0, 1
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[CSVLogger(path), BackupAndRestore(tmp_path / "b")])
    lines = path.read_text().splitlines()
    assert [line.split(",")[0] for line in lines] == ["epoch", "0", "1", "2", "3"]


def test_double_checkpoint_falls_back_when_latest_is_corrupt(tmp_path):
    x, y = make_data()
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=4, batch_size=8, verbose=0,
                  callbacks=[BackupAndRestore(tmp_path, double_checkpoint=True), Crash(2, 0)])
    assert sorted(os.listdir(tmp_path)) == ["latest.pt", "latest.pt.bkp"]
    (tmp_path / "latest.pt").write_bytes(b"garbage")
    cb = BackupAndRestore(tmp_path, double_checkpoint=True, delete_checkpoint=False)
    with pytest.warns(RuntimeWarning, match="previous"):
        history = model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[cb])
    assert cb.restored_epoch == 1 and history.epoch == [1, 2, 3]
    # Without a previous backup the error says what is wrong.
    (tmp_path / "latest.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot be read"):
        model.fit(x, y, epochs=4, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_backup_warns_when_listed_before_stateful_callbacks(tmp_path):
    x, y = make_data()
    model = make_model()
    with pytest.warns(RuntimeWarning, match="EarlyStopping"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path), EarlyStopping(monitor="loss")])
    with pytest.raises(ValueError, match="backup_dir"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore(tmp_path, save_freq=0)


SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {repo!r})
    import easynn
    from easynn.callbacks import BackupAndRestore, Callback, EarlyStopping

    class KillSwitch(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if os.environ.get("KILL_AT") == f"{{self.epoch}},{{batch}}":
                os.kill(os.getpid(), signal.SIGKILL)

    easynn.utils.set_random_seed(7)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 4)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    model = easynn.Sequential([easynn.Input(shape=(4,)), easynn.layers.Dense(8, activation="relu"),
                               easynn.layers.Dropout(0.3), easynn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=easynn.optimizers.Adam(0.01), loss="binary_crossentropy", device="cpu")
    callbacks = [EarlyStopping(monitor="loss", patience=10), KillSwitch()]
    if sys.argv[1] != "-":
        callbacks.insert(1, BackupAndRestore(sys.argv[1]))
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=callbacks)
    print("first epoch", history.epoch[0], flush=True)
    np.savez(sys.argv[2], *model.get_weights())
""")


def run_script(script, backup, out, kill_at=None):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("KILL_AT", None)
    if kill_at:
        env["KILL_AT"] = kill_at
    return subprocess.run([sys.executable, str(script), str(backup), str(out)], env=env, capture_output=True,
                          text=True, timeout=120)


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path, monkeypatch, capsys):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(repo=REPO))
    backup = tmp_path / "backup"

    killed = run_script(script, backup, tmp_path / "never.npz", kill_at="2,1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "never.npz").exists()
    assert os.listdir(backup) == ["latest.pt"]  # epochs 0 and 1 completed and backed up

    resumed = run_script(script, backup, tmp_path / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr
    assert "first epoch 2" in resumed.stdout
    assert not backup.exists()

    # The uninterrupted reference runs the same script in this process (one torch import less).
    monkeypatch.setattr(sys, "argv", [str(script), "-", str(tmp_path / "reference.npz")])
    monkeypatch.delenv("KILL_AT", raising=False)
    runpy.run_path(str(script), run_name="__main__")
    assert "first epoch 0" in capsys.readouterr().out
    with np.load(tmp_path / "resumed.npz") as got, np.load(tmp_path / "reference.npz") as want:
        assert len(got.files) == 4
        for key in want.files:
            np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-6)
