"""SwapEMAWeights: evaluation with the optimizer's moving averages, training from the raw weights."""

import numpy as np
import pytest
import torch

import easynn
from easynn.callbacks import Callback, SwapEMAWeights


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.3).astype("float32")
    return x, y


def _model(use_ema=True):
    torch.manual_seed(0)
    model = easynn.Sequential([easynn.Input((3,)), easynn.layers.Dense(1)])
    model.compile(optimizer=easynn.optimizers.SGD(0.1, use_ema=use_ema, ema_momentum=0.5), loss="mse")
    return model


def _weights(model):
    return [w.detach().clone() for w in model.trainable_weights]


class Recorder(Callback):
    """Keeps the model's weights (and the optimizer's averages) at the hooks it is asked about."""

    def __init__(self):
        super().__init__()
        self.seen = {"test": [], "epoch_end": [], "batch_begin": [], "ema_at_epoch_end": []}

    def on_test_begin(self, logs=None):
        self.seen["test"].append(_weights(self.model))

    def on_epoch_end(self, epoch, logs=None):
        self.seen["epoch_end"].append(_weights(self.model))
        self.seen["ema_at_epoch_end"].append([t.clone() for t in self.model.optimizer._ema])

    def on_train_batch_begin(self, batch, logs=None):
        self.seen["batch_begin"].append(_weights(self.model))


def _fit(model, callbacks, epochs=3):
    x, y = _data()
    return model.fit(x, y, batch_size=16, epochs=epochs, validation_data=(x, y), shuffle=False, verbose=0,
                     callbacks=callbacks).history


def _mse(weights, x, y):
    kernel, bias = (w.numpy() for w in weights)
    return float(np.mean((x @ kernel + bias - y) ** 2))


def test_validation_uses_the_averages_and_training_the_raw_weights():
    plain, swapped = Recorder(), Recorder()
    reference = _fit(_model(), [plain])
    history = _fit(_model(), [SwapEMAWeights(), swapped])
    x, y = _data()
    for epoch in range(3):
        averages = plain.seen["ema_at_epoch_end"][epoch]  # what the optimizer averaged by then
        for seen, expected in zip(swapped.seen["test"][epoch], averages):
            torch.testing.assert_close(seen, expected, rtol=0, atol=0)
        assert history["val_loss"][epoch] == pytest.approx(_mse(averages, x, y), rel=1e-5)
        assert history["loss"][epoch] == pytest.approx(reference["loss"][epoch], rel=1e-6)  # raw training
        for a, b in zip(swapped.seen["batch_begin"][epoch], plain.seen["batch_begin"][epoch]):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert history["val_loss"] != reference["val_loss"]  # the raw weights were evaluated there


@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_the_model_ends_with_the_averages_swapped_or_not(swap_on_epoch):
    plain = _model()
    _fit(plain, [])
    model = _model()
    _fit(model, [SwapEMAWeights(swap_on_epoch=swap_on_epoch)])
    for a, b in zip(_weights(model), _weights(plain)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(model.optimizer._ema, plain.optimizer._ema):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert model.optimizer._ema_in_weights is False


def test_swap_on_epoch_shows_the_averages_to_later_callbacks_and_trains_on_raw_weights():
    plain, swapped = Recorder(), Recorder()
    _fit(_model(), [plain])
    _fit(_model(), [SwapEMAWeights(swap_on_epoch=True), swapped])
    for epoch in range(3):
        for a, b in zip(swapped.seen["epoch_end"][epoch], plain.seen["ema_at_epoch_end"][epoch]):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(swapped.seen["batch_begin"][1], plain.seen["batch_begin"][1]):  # raw again next epoch
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_evaluate_alone_swaps_in_and_back():
    model = _model()
    _fit(model, [], epochs=1)  # fit ends with the averages written into the weights
    model.train_on_batch(*_data())  # one more update: the raw weights now differ from the averages
    raw, averages = _weights(model), [t.clone() for t in model.optimizer._ema]
    x, y = _data()
    loss = model.evaluate(x, y, verbose=0, callbacks=[SwapEMAWeights()])
    assert loss == pytest.approx(_mse(averages, x, y), rel=1e-5)
    assert loss != pytest.approx(_mse(raw, x, y), rel=1e-3)
    for a, b in zip(_weights(model), raw):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_without_use_ema_fit_fails_before_any_update():
    model = _model(use_ema=False)
    model.build((None, 3))
    before = _weights(model)
    with pytest.raises(ValueError, match=r"use_ema=True.*Received: optimizer=SGD"):
        _fit(model, [SwapEMAWeights()])
    for a, b in zip(_weights(model), before):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(TypeError, match="swap_on_epoch"):
        SwapEMAWeights(swap_on_epoch="yes")
    with pytest.raises(ValueError, match="use_ema"):
        model.optimizer.swap_ema_weights()
