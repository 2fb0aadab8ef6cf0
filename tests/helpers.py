"""Small data sets and models shared by several test modules."""

import numpy as np
import torch
import torch.nn.functional as F

from easynn.layers import Dense, Input
from easynn.models import Sequential
from easynn.utils import set_random_seed


def two_blobs(n=256, seed=0):
    """Two Gaussian blobs in 8 dimensions, labels 0/1: a task a tiny net learns in a few epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.normal(size=(n, 8)).astype("float32") + (2.0 * y[:, None] - 1.0).astype("float32")
    return x, y.astype("int64")


def small_classifier(seed=0):
    """8 -> 16 relu -> 2 softmax, seeded."""
    set_random_seed(seed)
    return Sequential([Input((8,)), Dense(16, activation="relu"), Dense(2, activation="softmax")])


# easynn's activation names and PyTorch's own functions with Keras's defaults (leaky slope 0.2).
ACTIVATION_REFERENCES = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.2),
    "elu": F.elu,
    "softplus": F.softplus,
    "softmax": lambda t: torch.softmax(t, dim=-1),
    "silu": F.silu,
    "gelu": F.gelu,
}
