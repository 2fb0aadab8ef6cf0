"""compile(..., jit_compile=True): forward + loss through torch.compile, same numbers as eager,
no recompilation per step, and a clear fallback where torch.compile is unavailable."""

import importlib

import numpy as np
import pytest
import torch

from tests.helpers import small_classifier, two_blobs


def blobs(n, seed=0):
    return two_blobs(n, seed)


small_model = small_classifier


# ------------------------------------------------------------------------------ argument handling
def test_default_and_auto_are_eager():
    for value in ("auto", False, None):
        model = small_model()
        kwargs = {} if value == "auto" else {"jit_compile": value}
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", device="cpu", **kwargs)
        x, y = blobs(8)
        model.fit(x, y, epochs=1, verbose=0)
        assert model._jit_compile is False
        assert model._trainer._forward_loss_fn == model._trainer._forward_loss  # the plain method


@pytest.mark.parametrize("bad", ["yes", 1, "true"])
def test_bad_jit_compile_value_raises(bad):
    with pytest.raises(ValueError, match="jit_compile"):
        small_model().compile(optimizer="sgd", loss="mse", jit_compile=bad, device="cpu")


def test_falls_back_with_a_warning_without_torch_compile(monkeypatch):
    monkeypatch.delattr(torch, "compile")
    model = small_model()
    with pytest.warns(RuntimeWarning, match="torch.compile is not available.*eagerly"):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=True, device="cpu")
    assert model._jit_compile is False
    x, y = blobs(16)
    losses = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"]
    assert np.isfinite(losses).all()


def test_falls_back_with_a_warning_when_dynamo_cannot_load(monkeypatch):
    real_import = importlib.import_module

    def failing_import(name, *args, **kwargs):
        if name == "torch._dynamo":
            raise ImportError("dynamo is not supported on this platform")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", failing_import)
    model = small_model()
    with pytest.warns(RuntimeWarning, match="unavailable here.*dynamo is not supported.*eagerly"):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=True, device="cpu")
    assert model._jit_compile is False


# ------------------------------------------------------------------------------ compiled training
@pytest.mark.slow
def test_compiled_fit_matches_eager_and_does_not_recompile_per_step():
    """100 samples in batches of 32: three full batches and an uneven last one of 4.

    Dynamo compiles the step for batch 32, then once more (with a dynamic batch axis) for the
    last batch; after the first epoch nothing is compiled again, however many steps follow.
    """
    from torch._dynamo.utils import counters

    x, y = blobs(100)
    histories = {}
    for jit in (False, True):
        model = small_model(seed=7)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      jit_compile=jit, device="cpu")
        if jit:
            torch._dynamo.reset()
            counters.clear()
        first = model.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0).history
        graphs_after_first_epoch = counters["stats"]["unique_graphs"]
        rest = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0).history
        histories[jit] = {k: first[k] + rest[k] for k in first}
        if jit:
            assert model._trainer._forward_loss_fn != model._trainer._forward_loss
            assert graphs_after_first_epoch > 0  # it really went through torch.compile
            assert counters["stats"]["unique_graphs"] == graphs_after_first_epoch  # no recompilation
            compiled_predictions = model.predict(x, verbose=0)
        else:
            eager_predictions = model.predict(x, verbose=0)
    eager, compiled = histories[False], histories[True]
    assert eager["loss"][-1] < eager["loss"][0]
    np.testing.assert_allclose(compiled["loss"], eager["loss"], rtol=1e-4)
    np.testing.assert_allclose(compiled["accuracy"], eager["accuracy"], rtol=1e-6)
    np.testing.assert_allclose(compiled_predictions, eager_predictions, rtol=1e-4, atol=1e-6)
