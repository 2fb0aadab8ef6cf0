"""easynn.utils.set_random_seed: every generator restarts, the first call included."""

import random

import numpy as np
import torch

import easynn.random as easynn_random
from easynn.utils import set_random_seed


def _draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1)), easynn_random.global_seed_generator().next()


def test_the_first_call_seeds_like_every_later_one(monkeypatch):
    monkeypatch.setattr(easynn_random, "_GLOBAL", None)  # as in a fresh process
    set_random_seed(7)
    first = _draws()
    set_random_seed(7)
    assert _draws() == first
    random.seed(7)
    assert first[0] == random.random()  # Python's sequence is not shifted by easynn's generator
