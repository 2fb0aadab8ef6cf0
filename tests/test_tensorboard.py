"""TensorBoard callback: event files that TensorBoard itself reads back, with Keras's tags."""

import numpy as np
import pytest

import easynn
from easynn.callbacks.tensorboard import TensorBoard

pytest.importorskip("tensorboard", reason="the `tensorboard` package is not installed (pip install tensorboard)")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def _read(folder):
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    return events


def _fit(tmp_path, **kwargs):
    easynn.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = easynn.Sequential([easynn.Input(shape=(3,)), easynn.layers.Dense(4, activation="relu", name="hidden"),
                               easynn.layers.Dense(2, activation="softmax", name="head")])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=10, validation_split=0.25, verbose=0,
                        callbacks=[TensorBoard(log_dir=tmp_path / "logs", **kwargs)])
    return history


def test_epoch_scalars_histograms_and_graph(tmp_path):
    history = _fit(tmp_path, histogram_freq=1, write_steps_per_second=True)
    train = _read(tmp_path / "logs" / "train")
    tags = set(train.Tags()["scalars"])
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "epoch_steps_per_second"} <= tags
    losses = train.Scalars("epoch_loss")
    assert [e.step for e in losses] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in losses], history.history["loss"], rtol=1e-6)
    assert train.Scalars("epoch_learning_rate")[0].value == pytest.approx(0.05)
    assert {"hidden/kernel", "hidden/bias", "head/kernel"} <= set(train.Tags()["histograms"])
    assert train.Tags()["graph"]
    validation = _read(tmp_path / "logs" / "validation")
    val = validation.Scalars("epoch_loss")
    np.testing.assert_allclose([e.value for e in val], history.history["val_loss"], rtol=1e-6)
    assert "epoch_accuracy" in validation.Tags()["scalars"]


def test_batch_scalars_every_update_freq_batches(tmp_path):
    _fit(tmp_path, update_freq=2, write_graph=False)
    train = _read(tmp_path / "logs" / "train")
    steps = [e.step for e in train.Scalars("batch_loss")]
    assert steps == [2, 4, 6, 8]  # 3 batches per epoch x 3 epochs = 9 steps
    assert not train.Tags()["graph"] and not train.Tags()["histograms"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(update_freq="sometimes")
    with pytest.raises(ValueError, match="histogram_freq"):
        TensorBoard(histogram_freq=-1)
    with pytest.raises(ValueError, match="profile_batch"):
        TensorBoard(profile_batch=(2, 4))
