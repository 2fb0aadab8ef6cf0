"""Keras parity of the callback machinery: one mode="auto" rule for every monitoring callback,
logs dicts (never None) at every hook, Keras 2's on_batch_* hooks, and batch logs that a
callback may keep (each keeps its own batch's values)."""

import numpy as np
import pytest
import torch

import easynn
from easynn import metrics
from easynn.callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    ModelCheckpoint,
    MonitorCallback,
    ReduceLROnPlateau,
)
from easynn.callbacks.monitor_callback import resolve_mode
from easynn.layers import Dense, Input


class _Optimizer:
    def __init__(self):
        self.learning_rate = 1.0


class _FakeModel:
    def __init__(self):
        self.stop_training = False
        self.optimizer = _Optimizer()
        self.saved = []

    def save_weights(self, path, overwrite=True):
        self.saved.append(path)


def _drive(callbacks, key, values, model=None):
    model = model or _FakeModel()
    for cb in callbacks:
        cb.set_model(model)
        cb.on_train_begin({})
    for epoch, value in enumerate(values):
        for cb in callbacks:
            cb.on_epoch_end(epoch, {key: value})
    return model


def test_one_auto_rule_for_a_rising_precision():
    # On today's code the three disagreed: the checkpoint kept only epoch 1 and the LR was cut.
    rising = [0.5, 0.6, 0.7, 0.8]
    stopper = EarlyStopping(monitor="val_precision", patience=0)
    checkpoint = ModelCheckpoint("w_{epoch}.weights.pt", monitor="val_precision", save_best_only=True,
                                 save_weights_only=True)
    plateau = ReduceLROnPlateau(monitor="val_precision", patience=1, factor=0.5)
    model = _drive([stopper, checkpoint, plateau], "val_precision", rising)
    assert not model.stop_training
    assert model.saved == [f"w_{e}.weights.pt" for e in (1, 2, 3, 4)]
    assert model.optimizer.learning_rate == 1.0
    assert all(cb.monitor_op.__name__ == "gt" for cb in (stopper, checkpoint, plateau))


def test_one_auto_rule_for_a_falling_error_and_losses():
    rising_error = [0.5, 0.6, 0.7, 0.8]  # no improvement after the first epoch
    model = _drive([ReduceLROnPlateau(monitor="val_mae", patience=1, factor=0.5)], "val_mae", rising_error)
    assert model.optimizer.learning_rate == 0.125  # cut at epochs 1, 2 and 3
    assert resolve_mode("X", "val_my_custom_loss", "auto") == "min"
    assert resolve_mode("X", "false_positives", "auto") == "min"
    assert resolve_mode("X", "val_auc", "auto") == "max"
    assert resolve_mode("X", "val_r2_score", "auto") == "max"


@pytest.mark.parametrize("make", [
    lambda: EarlyStopping(monitor="val_widget"),
    lambda: ModelCheckpoint("w.pt", monitor="val_widget", save_best_only=True, save_weights_only=True),
    lambda: ReduceLROnPlateau(monitor="val_widget"),
])
def test_unknown_metric_in_auto_mode_asks_for_min_or_max(make):
    with pytest.raises(ValueError, match="mode='max'.*mode='min'"):
        _drive([make()], "val_widget", [1.0, 2.0])


class Widget(metrics.Mean):
    """A custom metric that declares larger values better."""

    direction = "up"

    def __init__(self, name="widget", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(torch.ones(y_pred.shape[0], device=y_pred.device))


def test_auto_mode_reads_the_direction_of_the_models_own_metric():
    model = easynn.Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=[Widget()], device="cpu")
    stopper = EarlyStopping(monitor="val_widget", patience=0)
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    model.fit(x, y, epochs=2, validation_data=(x, y), callbacks=[stopper], verbose=0)
    assert stopper.monitor_op.__name__ == "gt"
    assert issubclass(EarlyStopping, MonitorCallback) and issubclass(ReduceLROnPlateau, MonitorCallback)


class LogsSeen(Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def _keep(name):  # noqa: N805 - hook factory
        def hook(self, *args):
            self.seen.append((name, args[-1]))
        return hook

    for _name in ("on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_test_begin",
                  "on_test_batch_begin", "on_predict_begin", "on_predict_batch_begin", "on_predict_end"):
        locals()[_name] = _keep(_name)
    del _name


def test_callback_list_passes_a_dict_never_none():
    cb = LogsSeen()
    callbacks = CallbackList([cb])
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(0)
    callbacks.on_train_batch_begin(0)
    callbacks.on_test_begin(None)
    assert [logs for _, logs in cb.seen] == [{}, {}, {}, {}]


def test_keras2_on_batch_hooks_are_called_in_fit():
    class Keras2(Callback):
        def __init__(self):
            super().__init__()
            self.begins, self.ends = [], []

        def on_batch_begin(self, batch, logs=None):
            self.begins.append(batch)

        def on_batch_end(self, batch, logs=None):
            self.ends.append((batch, logs["loss"]))

    model = easynn.Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    cb = Keras2()
    x, y = np.ones((6, 2), "float32"), np.zeros((6, 1), "float32")
    model.fit(x, y, batch_size=2, epochs=2, callbacks=[cb], verbose=0)
    assert cb.begins == [0, 1, 2, 0, 1, 2] and [b for b, _ in cb.ends] == [0, 1, 2, 0, 1, 2]
    assert all(np.isfinite(loss) for _, loss in cb.ends)
    # the CallbackList itself answers to the Keras 2 names
    calls = []
    cb2 = Keras2()
    cb2.on_batch_end = lambda batch, logs=None: calls.append(batch)
    CallbackList([cb2]).on_batch_end(7, {"loss": 1.0})
    assert calls == [7]


def test_batch_logs_kept_by_a_callback_keep_their_own_values():
    class KeepLogs(Callback):
        def __init__(self):
            super().__init__()
            self.kept, self.read_now = [], []

        def on_train_batch_end(self, batch, logs=None):
            self.kept.append(logs)  # kept, read after fit
            if batch % 2 == 0:
                self.read_now.append(logs["loss"])  # read at once (a host sync)

    torch.manual_seed(0)
    model = easynn.Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer=easynn.optimizers.SGD(0.1), loss="mse", device="cpu")
    x = np.arange(16, dtype="float32").reshape(8, 2) / 8
    y = np.arange(8, dtype="float32").reshape(8, 1)
    cb = KeepLogs()
    history = model.fit(x, y, batch_size=2, epochs=2, validation_data=(x, y), callbacks=[cb], verbose=0,
                        shuffle=False)
    losses = [logs["loss"] for logs in cb.kept]
    assert len(losses) == 8 and len(set(losses)) == 8  # on today's code: all equal to the last val_loss
    assert losses[::2] == pytest.approx(cb.read_now)
    assert losses[3] == pytest.approx(history.history["loss"][0]) and losses[7] == pytest.approx(history.history["loss"][1])
    assert losses[-1] != pytest.approx(history.history["val_loss"][-1])
