"""fit's NaN/inf check of in-memory data, and when a repeated fit skips it (training/_finite.py)."""

import numpy as np
import pytest
import torch

import easynn
from easynn.training import _finite


def _model():
    model = easynn.Sequential([easynn.Input((3,)), easynn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _reads(monkeypatch):
    calls = []
    original = _finite._count_non_finite
    monkeypatch.setattr(_finite, "_count_non_finite", lambda value: calls.append(1) or original(value))
    return calls


def test_a_numpy_array_is_read_once_a_new_or_reshaped_one_again(monkeypatch):
    calls = _reads(monkeypatch)
    model = _model()
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    model.fit(x, y, epochs=1, verbose=0)
    model.fit(x, y, epochs=1, verbose=0)
    assert len(calls) == 2  # x and y, the first fit only
    model.fit(x.copy(), y, epochs=1, verbose=0)  # another array object
    model.fit(x.reshape(8, 3), y, epochs=1, verbose=0)  # a view is another object too
    assert len(calls) == 4


def test_a_tensor_changed_in_place_is_checked_again(monkeypatch):
    model = _model()
    x, y = torch.ones(8, 3), torch.zeros(8, 1)
    model.fit(x, y, epochs=1, verbose=0)
    calls = _reads(monkeypatch)
    model.fit(x, y, epochs=1, verbose=0)
    assert calls == []  # unchanged: not read again
    before = [w.detach().clone() for w in model.weights]
    x[2, 1] = float("nan")  # bumps the version counter
    with pytest.raises(ValueError, match=r"`x` contains 1 NaN or infinite value\(s\)"):
        model.fit(x, y, epochs=1, verbose=0)
    assert all(torch.equal(a, b) for a, b in zip(before, model.weights))  # refused before any update


def test_bad_arrays_are_never_remembered_and_lists_are_always_checked():
    model = _model()
    x = np.ones((8, 3), "float32")
    x[0, 0] = np.inf
    y = np.zeros((8, 1), "float32")
    for _ in range(2):  # refused every time, not only the first
        with pytest.raises(ValueError, match="`x` contains 1 NaN"):
            model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`y` contains 1 NaN"):
        model.fit(np.ones((8, 3), "float32"), [[0.0]] * 7 + [[float("nan")]], epochs=1, verbose=0)


def test_memory_reused_by_a_new_array_is_checked():
    model = _model()
    y = np.zeros((8, 1), "float32")
    model.fit(np.ones((8, 3), "float32"), y, epochs=1, verbose=0)  # freed right after: entry dropped
    bad = np.ones((8, 3), "float32")
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="`x` contains 1 NaN"):
        model.fit(bad, y, epochs=1, verbose=0)
