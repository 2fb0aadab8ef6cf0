"""Traceback filtering: errors from easynn entry points end at the user's frames."""

import os
import traceback

import numpy as np
import pytest

import easynn
from easynn import _traceback, config
from easynn._traceback import filter_traceback

EASYNN_DIR = os.path.dirname(os.path.abspath(easynn.__file__)) + os.sep


def _frames(error):
    return [(os.path.abspath(f.filename), f.name) for f in traceback.extract_tb(error.__traceback__)]


def _easynn_frames(error):
    return [(path, name) for path, name in _frames(error) if path.startswith(EASYNN_DIR)]


@filter_traceback
def make_dense(units):  # stands for a public entry point (Layer.__init__/fit/...)
    return easynn.layers.Dense(units)


class FailingCallback(easynn.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyError("user bug in a callback")


@filter_traceback
def fit_with(model, callbacks):
    return model.fit(np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"), epochs=1, verbose=0,
                     callbacks=callbacks)


def _model():
    model = easynn.Sequential([easynn.Input(shape=(2,)), easynn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_easynn_frames_are_cut_and_the_message_kept():
    with pytest.raises(ValueError, match="units") as info:
        make_dense(0)
    frames = _easynn_frames(info.value)
    # no easynn frame is left: the traceback ends at the user's call
    assert frames == []
    assert _frames(info.value)[0][1] == "test_easynn_frames_are_cut_and_the_message_kept"


def test_user_frames_inside_easynn_are_kept():
    with pytest.raises(KeyError) as info:
        fit_with(_model(), [FailingCallback()])
    names = [name for _, name in _frames(info.value)]
    assert names[0] == "test_user_frames_inside_easynn_are_kept" and names[-1] == "on_epoch_end"
    assert not any(path.endswith(os.path.join("models", "model.py")) for path, _ in _frames(info.value))


def test_full_traceback_with_config_or_environment(monkeypatch):
    config.disable_traceback_filtering()
    try:
        with pytest.raises(ValueError) as info:
            make_dense(0)
        assert len(_easynn_frames(info.value)) > 1
    finally:
        config.enable_traceback_filtering()
    monkeypatch.setenv("EASYNN_TRACEBACK_FILTERING", "0")
    with pytest.raises(ValueError) as info:
        make_dense(0)
    assert len(_easynn_frames(info.value)) > 1
    monkeypatch.delenv("EASYNN_TRACEBACK_FILTERING")
    assert _traceback.is_filtering_enabled()


def test_nested_entry_points_filter_once_and_run_cleanups_once():
    calls = []
    cleanup = lambda: calls.append("cleanup")  # noqa: E731
    _traceback.register_cleanup(cleanup)
    try:
        @filter_traceback
        def outer():
            return make_dense(-1)

        with pytest.raises(ValueError):
            outer()
        assert calls == ["cleanup"]
        assert make_dense(2).units == 2  # the depth counter is back to zero
        with pytest.raises(ValueError) as info:
            make_dense(0)
        assert _easynn_frames(info.value) == []
    finally:
        _traceback._cleanups.remove(cleanup)


def test_chained_cause_is_filtered_too():
    @filter_traceback
    def load():
        try:
            easynn.layers.Dense(0)
        except ValueError as error:
            raise RuntimeError("could not build") from error

    with pytest.raises(RuntimeError) as info:
        load()
    cause = info.value.__cause__
    assert isinstance(cause, ValueError)
    assert not any(path.startswith(EASYNN_DIR) for path, _ in _frames(cause))
