"""Who differentiates the activations inside fit (easynn.config.set_lecture_gradients).

"auto" (the default): the lecture's autograd Functions wherever the user differentiates, torch's
kernels for the same derivatives inside fit's built-in train step only; True: the lecture's
Functions everywhere; False: torch's kernels everywhere. The weights fit produces do not depend on
the choice.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import easynn
from easynn import config


@pytest.fixture(autouse=True)
def _restore_mode():
    yield
    config.set_lecture_gradients("auto")


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(48, 6)).astype("float32"), rng.integers(0, 3, size=48)


def _model(cls=easynn.Sequential):
    torch.manual_seed(0)
    model = cls([easynn.Input((6,)), easynn.layers.Dense(8, activation="relu"),
                 easynn.layers.Dense(8, activation="tanh"), easynn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=easynn.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def _nodes_seen_in_fit(model) -> set[str]:
    """The autograd node types of the hidden activations' outputs during fit's steps."""
    seen: set[str] = set()
    for layer in model.layers[:2]:
        layer.register_forward_hook(
            lambda m, args, out: seen.add(type(out.grad_fn).__name__) if torch.is_grad_enabled() else None)
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    return seen


def test_the_default_is_auto():
    assert config.lecture_gradients() == "auto"


def test_auto_keeps_the_lectures_functions_outside_fit():
    model = _model()
    out = model.layers[0](torch.randn(2, 6))
    assert type(out.grad_fn).__name__ == "_ReLUFunctionBackward"


def test_auto_uses_torchs_kernels_in_fits_builtin_step():
    seen = _nodes_seen_in_fit(_model())
    assert seen and not any(name.endswith("FunctionBackward") for name in seen)
    assert config._LECTURE_GRADIENTS is True  # restored after the step


def test_true_uses_the_lectures_functions_in_fit_too():
    config.set_lecture_gradients(True)
    assert _nodes_seen_in_fit(_model()) == {"_ReLUFunctionBackward", "_TanhFunctionBackward"}


def test_false_uses_torchs_kernels_everywhere():
    config.set_lecture_gradients(False)
    out = _model().layers[0](torch.randn(2, 6))
    assert not type(out.grad_fn).__name__.endswith("FunctionBackward")


class _GuideStep(easynn.Sequential):
    """A custom train_step (keras-io's torch guide): the user's own graph."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        weights = self.trainable_weights
        with torch.no_grad():
            self.optimizer.apply([w.value.grad for w in weights], weights)
        return {"loss": loss.detach()}


def test_auto_keeps_the_lectures_functions_in_a_custom_train_step():
    seen = _nodes_seen_in_fit(_model(_GuideStep))
    assert seen == {"_ReLUFunctionBackward", "_TanhFunctionBackward"}


def test_fit_trains_to_the_same_weights_whoever_differentiates():
    x, y = _data()
    trained = {}
    for mode in ("auto", True, False):
        config.set_lecture_gradients(mode)
        model = _model()
        model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
        trained[mode] = [w.detach().clone() for w in model.parameters()]
    for mode in (True, False):
        for a, b in zip(trained["auto"], trained[mode]):
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_the_mode_is_restored_when_a_step_raises():
    class Boom(easynn.layers.Layer):
        def call(self, inputs):
            if self.training:
                raise RuntimeError("boom")
            return inputs

    model = easynn.Sequential([easynn.Input((6,)), easynn.layers.Dense(3, activation="softmax"), Boom()])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = _data()
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(x, y, epochs=1, verbose=0)
    assert config._LECTURE_GRADIENTS is True
    out = easynn.activations.relu(torch.randn(3, requires_grad=True))
    assert type(out.grad_fn).__name__ == "_ReLUFunctionBackward"


@pytest.mark.parametrize("bad", ["yes", 1, None, "Auto"])
def test_a_bad_mode_is_refused_and_nothing_changes(bad):
    with pytest.raises(ValueError, match=r"`mode` must be \"auto\", True or False\. Received: mode="):
        config.set_lecture_gradients(bad)
    assert config.lecture_gradients() == "auto"
