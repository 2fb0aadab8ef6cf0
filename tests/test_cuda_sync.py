"""No hidden host syncs: on CUDA the training step loop never waits for the GPU.

``torch.cuda.set_sync_debug_mode("error")`` makes every call that synchronises the host with the
device raise: ``.item()``, ``float(t)``, ``bool(t)``, ``.cpu()``, a blocking copy in either
direction. A callback turns it on from the end of the first step (which builds the optimizer state)
to the end of each epoch's last step, and from the start of each later epoch, so every step and the
batch slicing between steps run under it; the epoch-end read of the logs (the one sync per epoch,
by design) does not. Progress is off (``verbose=0``): the bar reads the logs on its refresh.

Every test here needs a CUDA GPU and is skipped without one.
"""

import numpy as np
import pytest
import torch

from easynn.callbacks import Callback
from easynn.layers import Dense, Dropout, Input
from easynn.models import Sequential
from easynn.training import data as data_module
from easynn.utils import set_random_seed

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(),
                       reason="needs a CUDA GPU (checks host syncs with torch.cuda.set_sync_debug_mode)"),
]

SAMPLES, BATCH, EPOCHS = 512, 32, 2
STEPS = SAMPLES // BATCH


class SyncGuard(Callback):
    """Raises on any host-device synchronisation inside the step loop (see the module docstring)."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps, self.epoch, self.armed, self.checked = steps, 0, False, 0

    def _arm(self, on: bool) -> None:
        torch.cuda.set_sync_debug_mode("error" if on else "default")
        self.armed = on

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0 and self.epoch > 0:
            self._arm(True)

    def on_train_batch_end(self, batch, logs=None):
        if self.armed:
            self.checked += 1
        if batch == self.steps - 1:
            self._arm(False)
        elif not self.armed:  # the end of epoch 0's first step
            self._arm(True)


def data(seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=SAMPLES)
    x = rng.normal(size=(SAMPLES, 16)).astype("float32") + y[:, None].astype("float32")
    return x, y.astype("int64")


def model():
    set_random_seed(0)
    return Sequential([Input((16,)), Dense(32, activation="relu"), Dropout(0.1), Dense(4, activation="softmax")])


def fit_guarded(net, x, y=None, epochs=EPOCHS, **kwargs):
    guard = SyncGuard(STEPS)
    try:
        history = net.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[guard], **kwargs)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert guard.checked == epochs * STEPS - 1  # every step but the very first ran under the guard
    return history


def capture_batches(monkeypatch):
    made = []
    real_adapt = data_module.adapt

    def adapt(*args, **kwargs):
        batches = real_adapt(*args, **kwargs)
        made.append(batches)
        return batches

    monkeypatch.setattr(data_module, "adapt", adapt)
    return made


def test_the_guard_catches_a_sync():
    """The check itself works: an ``.item()`` inside a batch hook fails the fit."""

    class ReadsLoss(SyncGuard):
        def on_train_batch_end(self, batch, logs=None):
            super().on_train_batch_end(batch, logs)
            if batch == 3:
                float(logs["loss"])  # the lazy logs read the device: a sync

    net = model()
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cuda")
    x, y = data()
    try:
        with pytest.raises(RuntimeError, match="synchroniz"):
            net.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[ReadsLoss(STEPS)])
    finally:
        torch.cuda.set_sync_debug_mode("default")


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_array_data_epoch_has_no_sync_in_the_step_loop(precision, optimizer):
    net = model()
    net.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                mixed_precision=precision, device="cuda")
    x, y = data()
    history = fit_guarded(net, x, y)
    assert history.history["loss"][-1] < history.history["loss"][0]  # it trained
    assert history.history["accuracy"][-1] > 0.5  # the blobs are separable: it learned, not just ran


def test_validation_and_sample_weights_add_no_sync_to_the_step_loop():
    net = model()
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                weighted_metrics=["accuracy"], device="cuda")
    x, y = data()
    weights = np.linspace(0.5, 1.5, SAMPLES).astype("float32")
    history = fit_guarded(net, x, y, sample_weight=weights, validation_data=data(seed=1))
    assert len(history.history["val_loss"]) == EPOCHS


def test_compiled_step_has_no_sync_in_the_step_loop():
    net = model()
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True, device="cuda")
    x, y = data()
    net.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)  # compile outside the guard
    fit_guarded(net, x, y)


def test_host_data_too_big_for_the_gpu_streams_through_pinned_memory(monkeypatch):
    """Arrays that would not fit stay in pinned host memory; each batch is gathered into a pinned
    buffer and copied with ``non_blocking=True`` (a blocking copy would trip the guard)."""
    monkeypatch.setattr(data_module.ArrayBatches, "_fits_on_device", lambda self, *values: False)
    made = capture_batches(monkeypatch)
    net = model()
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cuda")
    x, y = data()
    fit_guarded(net, x, y)
    batches = made[0]
    assert not batches.on_device
    assert batches.x.device.type == "cpu" and batches.x.is_pinned()
    xb, yb, _ = next(iter(batches.epoch(0)))
    assert xb.is_cuda and yb.is_cuda


def test_data_already_on_the_gpu_is_used_in_place(monkeypatch):
    """CUDA tensors are neither copied back to the host nor duplicated on the device, even when the
    size check says they would not fit (they are already there)."""
    monkeypatch.setattr(data_module.ArrayBatches, "_fits_on_device", lambda self, *values: False)
    made = capture_batches(monkeypatch)
    x, y = (torch.from_numpy(a).cuda() for a in data())
    net = model()
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cuda")
    fit_guarded(net, x, y)
    batches = made[0]
    assert batches.on_device
    assert batches.x.data_ptr() == x.data_ptr() and batches.y.data_ptr() == y.data_ptr()


def test_a_dataset_streams_through_pinned_non_blocking_copies():
    x, y = data()
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    net = model()
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cuda")
    history = fit_guarded(net, dataset)  # batched by fit's batch_size, pinned by the DataLoader
    assert len(history.history["loss"]) == EPOCHS


@pytest.mark.xfail(reason="float16 loss scaling: torch's GradScaler.step reads found_inf with .item() every "
                          "step unless the optimizer is fused (fused=True skips it)", raises=RuntimeError,
                   strict=False)
def test_mixed_float16_step_loop_sync():
    net = model()
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", mixed_precision="mixed_float16",
                device="cuda")
    x, y = data()
    fit_guarded(net, x, y)
