"""easynn.utils.PyDataset: the main thread, a thread pool, a process pool; epochs, steps, errors."""

import multiprocessing
import os
import threading
import traceback

import numpy as np
import pytest

import easynn
from easynn import layers
from easynn.training.py_dataset import PyDatasetBatches


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _arrays(n=24):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")).astype("float32")


class Batches(easynn.utils.PyDataset):
    """Batches of 4 rows of ``x, y``; records what it was asked for (in this process)."""

    def __init__(self, x, y, fail_at=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.fail_at = x, y, fail_at
        self.seen, self.threads, self.begins, self.ends = [], set(), 0, 0

    def __len__(self):
        return len(self.x) // 4

    def __getitem__(self, index):
        if index == self.fail_at:
            raise ZeroDivisionError(f"bad sample in batch {index}")
        self.seen.append(index)
        self.threads.add(threading.current_thread().name)
        rows = slice(index * 4, (index + 1) * 4)
        return self.x[rows], self.y[rows]

    def on_epoch_begin(self):
        self.begins += 1

    def on_epoch_end(self):
        self.ends += 1


class Pids(easynn.utils.PyDataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        return np.full((2, 1), os.getpid(), dtype="int64"), np.full((2, 1), index, dtype="int64")


def _model(weights=None):
    model = easynn.Sequential([easynn.Input(shape=(3,)), layers.Dense(2, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    if weights is not None:
        model.set_weights(weights)
    return model


def _same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"workers": 0}, {"workers": 3}, {"workers": 2, "use_multiprocessing": True}],
                         ids=["main-thread", "threads", "processes"])
def test_fit_on_a_py_dataset_equals_fit_on_the_arrays(kwargs):
    x, y = _arrays()
    reference = _model()
    start = reference.get_weights()
    reference.fit(x, y, batch_size=4, shuffle=False, epochs=2, validation_data=(x, y), verbose=0)
    train, validation = Batches(x, y, **kwargs), Batches(x, y, **kwargs)
    model = _model(start)
    model.fit(train, shuffle=False, epochs=2, validation_data=validation, verbose=0)
    _same_weights(model, reference)
    assert model.history.history["val_loss"] == pytest.approx(reference.history.history["val_loss"], rel=1e-6)
    # on_epoch_begin / on_epoch_end once per epoch, for training and for each validation run.
    assert (train.begins, train.ends, validation.begins, validation.ends) == (2, 2, 2, 2)
    assert multiprocessing.active_children() == []
    if kwargs.get("use_multiprocessing"):
        assert train.seen == [0]  # the parent only peeked at the first batch; workers loaded the rest
    elif kwargs["workers"] > 1:
        assert train.threads and all(name.startswith("Batches-worker") for name in train.threads - {"MainThread"})
        assert len(train.threads - {"MainThread"}) >= 1
    else:
        assert train.threads == {"MainThread"}


def test_process_workers_load_batches_in_other_processes_in_order():
    batches = PyDatasetBatches(Pids(workers=2, use_multiprocessing=True, max_queue_size=2))
    loaded = list(batches.epoch(0))
    assert [int(y[0, 0]) for _, y, _ in loaded] == [0, 1, 2, 3]
    assert os.getpid() not in {int(x[0, 0]) for x, _, _ in loaded}
    assert multiprocessing.active_children() == []


def test_shuffle_visits_every_batch_once_per_epoch_in_a_new_order():
    x, y = _arrays(40)
    data = Batches(x, y, workers=0)
    batches = PyDatasetBatches(data, shuffle=True, seed=3)
    orders = []
    for epoch in range(3):
        data.seen.clear()
        list(batches.epoch(epoch))
        orders.append(list(data.seen))
    assert all(sorted(order) == list(range(10)) for order in orders)
    assert len({tuple(order) for order in orders}) == 3
    data.seen.clear()
    list(PyDatasetBatches(data, shuffle=False).epoch(0))
    assert data.seen == list(range(10))


def test_steps_continue_across_epochs_and_on_epoch_end_runs_once_per_epoch():
    x, y = _arrays(20)  # 5 batches
    data = Batches(x, y, workers=0)
    history = _model().fit(data, steps_per_epoch=2, epochs=3, shuffle=False, verbose=0)
    assert data.seen == [0, 0, 1, 2, 3, 4, 0]  # a peek at batch 0, then 0..4 and a new pass
    assert data.ends == 3 and len(history.history["loss"]) == 3


def test_endless_py_dataset_needs_steps():
    class Endless(easynn.utils.PyDataset):
        num_batches = None

        def __getitem__(self, index):
            return np.full((2, 3), index, "float32"), np.zeros((2, 1), "float32")

    with pytest.raises(ValueError, match="endless.*steps_per_epoch=N"):
        _model().fit(Endless(), epochs=1, verbose=0)
    batches = PyDatasetBatches(Endless(workers=2), steps=3)
    assert [float(b[0][0, 0]) for e in range(2) for b in batches.epoch(e)] == [0, 1, 2, 3, 4, 5]


def test_steps_larger_than_the_dataset_is_refused_up_front():
    x, y = _arrays()
    with pytest.raises(ValueError, match=r"`steps_per_epoch=7` is larger than the 6 batch\(es\).*len\(Batches\) = 6"):
        _model().fit(Batches(x, y), steps_per_epoch=7, verbose=0)


@pytest.mark.parametrize("kwargs, where", [({"workers": 0}, "main thread"), ({"workers": 3}, "worker thread"),
                                           ({"workers": 2, "use_multiprocessing": True}, "worker process")],
                         ids=["main-thread", "threads", "processes"])
def test_getitem_that_raises_stops_fit_with_the_workers_traceback(kwargs, where):
    x, y = _arrays()
    model = _model()
    with pytest.raises(ZeroDivisionError, match="bad sample in batch 3") as info:
        model.fit(Batches(x, y, fail_at=3, **kwargs), shuffle=False, epochs=1, verbose=0)
    notes = " ".join(info.value.__notes__)
    assert "Batches.__getitem__(3)" in notes and where in notes
    text = "".join(traceback.format_exception(info.value))
    assert "__getitem__" in text and 'raise ZeroDivisionError(f"bad sample' in text  # the worker's own frame
    assert multiprocessing.active_children() == []
    assert not [t for t in threading.enumerate() if t.name.startswith("Batches-worker")]


def test_bad_batch_from_getitem_names_the_batch():
    class Wrong(easynn.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            x = np.ones((4, 3), "float32")
            return (x, np.ones((4, 1), "float32")) if index < 2 else (x, x, x, x)

    with pytest.raises(ValueError, match=r"Batch 2 of PyDataset 'Wrong' must be x, \(x,\), \(x, y\)"):
        _model().fit(Wrong(workers=2), shuffle=False, verbose=0)


def test_bad_arguments_and_a_missing_super_init():
    with pytest.raises(ValueError, match="`workers` must be a non-negative integer"):
        easynn.utils.PyDataset(workers=-1)
    with pytest.raises(ValueError, match="`max_queue_size` must be a positive integer"):
        easynn.utils.PyDataset(max_queue_size=0)

    class NoSuper(easynn.utils.PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert NoSuper().workers == 1
    assert easynn.utils.Sequence is easynn.utils.PyDataset


def test_predict_and_evaluate_on_a_py_dataset():
    x, y = _arrays()
    model = _model()
    np.testing.assert_allclose(model.predict(Batches(x, y, workers=2), verbose=0),
                               model.predict(x, batch_size=4, verbose=0), rtol=1e-6)
    data = Batches(x, y, workers=0)
    assert model.evaluate(data, steps=2, verbose=0) == pytest.approx(
        model.evaluate(x[:8], y[:8], batch_size=4, verbose=0), rel=1e-6)
    assert data.ends == 1
