"""Crash-safe training: BackupAndRestore resumes exactly, even after SIGKILL."""

import os
import runpy
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import easynn
from easynn.callbacks import BackupAndRestore, Callback, CSVLogger, EarlyStopping, ReduceLROnPlateau
from easynn.layers import Dense, Dropout, Input, Layer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 4)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    return x, y


def make_model():
    # Dropout and shuffling draw random numbers; Adam keeps state: all must be restored.
    model = easynn.Sequential(
        [Input(shape=(4,)), Dense(8, activation="relu"), Dropout(0.3), Dense(1, activation="sigmoid")]
    )
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
    ref_history = reference.fit(
        x,
        y,
        epochs=5,
        batch_size=8,
        verbose=0,
        callbacks=[EarlyStopping(monitor="loss", patience=10), ReduceLROnPlateau(monitor="loss")],
    )

    backup = tmp_path / "backup"
    easynn.utils.set_random_seed(3)
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            x,
            y,
            epochs=5,
            batch_size=8,
            verbose=0,
            callbacks=[EarlyStopping(monitor="loss", patience=10), BackupAndRestore(backup), Crash(2, 1)],
        )
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
        model.fit(
            x, y, epochs=4, batch_size=8, verbose=0, callbacks=[logger, BackupAndRestore(tmp_path / "b"), Crash(2, 0)]
        )
    logger.on_train_end()  # the crash skipped it; close the file as the dying process would
    assert len(path.read_text().splitlines()) == 3  # header + epochs 0, 1
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[CSVLogger(path), BackupAndRestore(tmp_path / "b")])
    lines = path.read_text().splitlines()
    assert [line.split(",")[0] for line in lines] == ["epoch", "0", "1", "2", "3"]


def test_double_checkpoint_falls_back_when_latest_is_corrupt(tmp_path):
    x, y = make_data()
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            x,
            y,
            epochs=4,
            batch_size=8,
            verbose=0,
            callbacks=[BackupAndRestore(tmp_path, double_checkpoint=True), Crash(2, 0)],
        )
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


class Tally(Layer):
    """State outside nn.Parameters/buffers: a NumPy batch counter (own variables) that scales the
    output, and a notes file (assets) that grows by one line per training batch."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.count = np.zeros(1, dtype=np.int64)
        self.notes = []
        self.asset_folders = []

    def call(self, inputs, training=None):
        if training or (training is None and self.training and torch.is_grad_enabled()):
            self.count = self.count + 1
            self.notes.append(f"batch {int(self.count[0])}")
        return inputs * (1.0 + 0.05 * float(self.count[0]))

    def save_own_variables(self, store):
        store["count"] = self.count.copy()

    def load_own_variables(self, store):
        self.count = np.array(store["count"], dtype=np.int64)

    def save_assets(self, folder):
        with open(os.path.join(folder, "notes.txt"), "w") as handle:
            handle.write("\n".join(self.notes))

    def load_assets(self, folder):
        self.asset_folders.append(folder)
        with open(os.path.join(folder, "notes.txt")) as handle:
            self.notes = [line for line in handle.read().split("\n") if line]


def make_tally_model():
    model = easynn.Sequential(
        [
            Input(shape=(4,)),
            Dense(8, activation="relu"),
            Tally(name="tally"),
            Dropout(0.3),
            Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=easynn.optimizers.Adam(0.01), loss="binary_crossentropy", device="cpu")
    return model


def test_resume_restores_layer_state_kept_by_the_saving_hooks(tmp_path):
    x, y = make_data()
    easynn.utils.set_random_seed(5)
    reference = make_tally_model()
    reference.fit(x, y, epochs=4, batch_size=8, verbose=0)
    assert int(reference.get_layer("tally").count[0]) == 12  # 4 epochs x 3 batches

    backup = tmp_path / "backup"
    easynn.utils.set_random_seed(5)
    model = make_tally_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[BackupAndRestore(backup), Crash(2, 1)])

    easynn.utils.set_random_seed(5)
    model = make_tally_model()  # fresh state: the count and notes come back from the backup
    restore = BackupAndRestore(backup)
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[restore])
    tally = model.get_layer("tally")
    assert restore.restored_epoch == 2
    assert int(tally.count[0]) == 12 and tally.notes == reference.get_layer("tally").notes
    assert len(tally.asset_folders) == 1 and not os.path.exists(tally.asset_folders[0])  # private, removed
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_model_checkpoint_files_carry_the_layer_hooks(tmp_path):
    x, y = make_data()
    model = make_tally_model()
    model.fit(
        x,
        y,
        epochs=2,
        batch_size=8,
        verbose=0,
        callbacks=[easynn.callbacks.ModelCheckpoint(tmp_path / "ckpt-{epoch}.keras", monitor="loss")],
    )
    assert sorted(os.listdir(tmp_path)) == ["ckpt-1.keras", "ckpt-2.keras"]  # no temporary file left
    first = easynn.saving.load_model(tmp_path / "ckpt-1.keras", custom_objects={"Tally": Tally})
    last = easynn.saving.load_model(tmp_path / "ckpt-2.keras", custom_objects={"Tally": Tally})
    assert first.get_layer("tally").count.tolist() == [3] and len(first.get_layer("tally").notes) == 3
    assert last.get_layer("tally").notes == model.get_layer("tally").notes == [f"batch {i}" for i in range(1, 7)]
    np.testing.assert_array_equal(last.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_malformed_or_newer_backup_is_refused_before_anything_is_restored(tmp_path):
    x, y = make_data()
    model = make_tally_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[BackupAndRestore(tmp_path / "b"), Crash(1, 0)])
    state = torch.load(tmp_path / "b" / "latest.pt", weights_only=True)  # plain tensors and containers
    ((path, key),) = state["own_variables"]["index"]
    assert key == "count" and state["own_variables"]["tensors"]["0"].tolist() == [3]
    assert sorted(state["assets"]["members"]) == [state["assets"]["index"][path] + "notes.txt"]

    def tamper(name, edit):
        broken = torch.load(tmp_path / "b" / "latest.pt", weights_only=True)
        edit(broken)
        (tmp_path / name).mkdir()
        torch.save(broken, tmp_path / name / "latest.pt")
        return tmp_path / name

    fresh = make_tally_model()
    before = fresh.get_weights()
    cases = [
        (
            tamper("escape", lambda s: s["assets"]["index"].update({path: "assets/../../x/"})),
            "assets index is malformed",
        ),
        (tamper("extra", lambda s: s["own_variables"]["index"].append([path, "extra"])), "own-variables index"),
        (tamper("newer", lambda s: s.update(format=99)), "newer easynn"),
    ]
    for folder, message in cases:
        with pytest.raises(ValueError, match=message):
            fresh.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[BackupAndRestore(folder)])
        for got, want in zip(fresh.get_weights(), before):
            np.testing.assert_array_equal(got, want)
        assert int(fresh.get_layer("tally").count[0]) == 0 and fresh.get_layer("tally").asset_folders == []


SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import torch
    sys.path.insert(0, {repo!r})
    import easynn
    from easynn.callbacks import BackupAndRestore, Callback, EarlyStopping

    class KillSwitch(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if os.environ.get("KILL_AT") == f"{{self.epoch}},{{batch}}":
                os.kill(os.getpid(), signal.SIGKILL)

    class Tally(easynn.layers.Layer):  # own variables (a NumPy counter) and assets (a notes file)
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.count, self.notes = np.zeros(1, dtype=np.int64), []
        def call(self, inputs, training=None):
            if training or (training is None and self.training and torch.is_grad_enabled()):
                self.count = self.count + 1
                self.notes.append(f"batch {{int(self.count[0])}}")
            return inputs * (1.0 + 0.05 * float(self.count[0]))
        def save_own_variables(self, store):
            store["count"] = self.count.copy()
        def load_own_variables(self, store):
            self.count = np.array(store["count"], dtype=np.int64)
        def save_assets(self, folder):
            with open(os.path.join(folder, "notes.txt"), "w") as handle:
                handle.write("\\n".join(self.notes))
        def load_assets(self, folder):
            with open(os.path.join(folder, "notes.txt")) as handle:
                self.notes = [line for line in handle.read().split("\\n") if line]

    easynn.utils.set_random_seed(7)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 4)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    model = easynn.Sequential([easynn.Input(shape=(4,)), easynn.layers.Dense(8, activation="relu"),
                               Tally(name="tally"), easynn.layers.Dropout(0.3),
                               easynn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=easynn.optimizers.Adam(0.01), loss="binary_crossentropy", device="cpu")
    callbacks = [EarlyStopping(monitor="loss", patience=10), KillSwitch()]
    if sys.argv[1] != "-":
        callbacks.insert(1, BackupAndRestore(sys.argv[1]))
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=callbacks)
    print("first epoch", history.epoch[0], flush=True)
    tally = model.get_layer("tally")
    np.savez(sys.argv[2], *model.get_weights(), count=tally.count, notes=np.array(tally.notes))
""")


def run_script(script, backup, out, kill_at=None):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("KILL_AT", None)
    if kill_at:
        env["KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, str(script), str(backup), str(out)], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow  # subprocesses
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
        assert len(got.files) == 6
        for key in want.files:
            if key.startswith("arr_"):
                np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-6)
        # The custom layer's own state (a counter and an assets file, no tensor) resumed exactly.
        assert got["count"].tolist() == want["count"].tolist() == [15]  # 5 epochs x 3 batches
        assert got["notes"].tolist() == want["notes"].tolist() == [f"batch {i}" for i in range(1, 16)]


def test_save_load_and_continue_a_channels_last_convnet_with_adam_equals_an_uninterrupted_run(tmp_path):
    # Conv kernels are channels_last; a loaded Adam state must share their layout, or torch's
    # fused update pairs the wrong moments with the wrong weights.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6, 6, 2)).astype("float32")
    y = rng.integers(0, 3, size=32)

    def fresh():
        torch.manual_seed(0)
        model = easynn.Sequential([easynn.Input((6, 6, 2)), easynn.layers.Conv2D(4, 3, activation="relu"),
                                   easynn.layers.Flatten(), easynn.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=easynn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        return model

    straight = fresh()
    straight.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    first = fresh()
    first.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    first.save(tmp_path / "mid.keras")
    resumed = easynn.models.load_model(tmp_path / "mid.keras")
    resumed.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
