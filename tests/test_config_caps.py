"""keras.config.set_max_epochs / set_max_steps_per_epoch: Keras's debugging caps on fit."""

import numpy as np
import pytest

import easynn
from easynn import config
from easynn.callbacks import Callback


@pytest.fixture(autouse=True)
def _no_caps(monkeypatch):
    monkeypatch.delenv("KERAS_MAX_EPOCHS", raising=False)
    monkeypatch.delenv("KERAS_MAX_STEPS_PER_EPOCH", raising=False)
    yield
    config.set_max_epochs(None)
    config.set_max_steps_per_epoch(None)


class Counter(Callback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.batches[-1] += 1


def _fit(**kwargs):
    model = easynn.Sequential([easynn.Input((2,)), easynn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    counter = Counter()
    x, y = np.ones((40, 2), "float32"), np.zeros((40, 1), "float32")
    history = model.fit(x, y, batch_size=4, verbose=0, callbacks=[counter], **kwargs)
    return counter.batches, history.history["loss"]


def test_caps_limit_epochs_and_steps():
    assert _fit(epochs=3)[0] == [10, 10, 10]
    config.set_max_epochs(2)
    config.set_max_steps_per_epoch(3)
    batches, losses = _fit(epochs=5)
    assert batches == [3, 3] and len(losses) == 2
    assert _fit(epochs=1, steps_per_epoch=2)[0] == [2]  # the smaller of the two
    config.set_max_steps_per_epoch(50)
    assert _fit(epochs=1)[0] == [10]  # a cap above the data's batches changes nothing


def test_caps_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("KERAS_MAX_EPOCHS", "1")
    monkeypatch.setenv("KERAS_MAX_STEPS_PER_EPOCH", "4")
    assert (config.max_epochs(), config.max_steps_per_epoch()) == (1, 4)
    assert _fit(epochs=3)[0] == [4]
    monkeypatch.setenv("KERAS_MAX_EPOCHS", "zero")
    with pytest.raises(ValueError, match="KERAS_MAX_EPOCHS must be a positive integer. Received: 'zero'"):
        config.max_epochs()


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_bad_caps_raise(bad):
    with pytest.raises(ValueError, match=r"`max_epochs` must be a positive integer or None"):
        config.set_max_epochs(bad)
    with pytest.raises(ValueError, match=r"`max_steps_per_epoch` must be a positive integer or None"):
        config.set_max_steps_per_epoch(bad)
    assert config.max_epochs() is None
