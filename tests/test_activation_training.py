"""Activations inside real training: PReLU learns its slope; tiny networks learn with each one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import easynn
from easynn import layers


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)


def test_prelu_learns_its_slope():
    # targets made by a PReLU with slopes 0.25 and -0.5; the layer starts at 0 (a ReLU)
    x = torch.randn(512, 2)
    true_alpha = torch.tensor([0.25, -0.5])
    y = torch.where(x > 0, x, true_alpha * x)
    prelu = layers.PReLU()
    model = easynn.Sequential([easynn.Input(shape=(2,)), prelu])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.5), loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=64, verbose=0)
    torch.testing.assert_close(prelu.alpha.detach(), true_alpha, atol=1e-3, rtol=0)
    assert history.history["loss"][-1] < 1e-4


def _regression_data(n=128):
    x = torch.rand(n, 2) * 4 - 2
    y = torch.sin(x[:, :1]) * torch.cos(x[:, 1:])
    return x, y


@pytest.mark.parametrize(
    "hidden",
    ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu", "gelu",
     "ReLU", "LeakyReLU", "PReLU", "ELU", "Maxout"],
)
def test_tiny_network_trains_with_each_activation(hidden):
    x, y = _regression_data()
    if hidden[0].isupper():
        block = [layers.Maxout(16, pieces=2)] if hidden == "Maxout" else [
            layers.Dense(16), getattr(layers, hidden)()]
    else:
        block = [layers.Dense(16, activation=hidden)]
    model = easynn.Sequential([easynn.Input(shape=(2,)), *block, layers.Dense(1)])
    model.compile(optimizer=easynn.optimizers.Adam(learning_rate=0.05), loss="mse")
    before = model.evaluate(x, y, batch_size=128, verbose=0)
    model.fit(x, y, epochs=60, batch_size=64, verbose=0)
    after = model.evaluate(x, y, batch_size=128, verbose=0)
    assert after < 0.35 * before, (before, after)


def test_softmax_layer_classifier_trains_through_fused_loss():
    x = torch.randn(200, 2)
    labels = (x[:, 0] > x[:, 1]).long() + (x[:, 0] + x[:, 1] > 1).long()
    model = easynn.Sequential([easynn.Input(shape=(2,)), layers.Dense(16, activation="tanh"),
                               layers.Dense(3), layers.Softmax()])
    assert model.final_activation() == "softmax"
    model.compile(optimizer=easynn.optimizers.Adam(learning_rate=0.05),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, labels, epochs=30, batch_size=100, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(np.asarray(probs).sum(-1), 1.0, rtol=1e-5)
