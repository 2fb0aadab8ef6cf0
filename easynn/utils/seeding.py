"""Reproducibility: one call seeds every random number generator training uses."""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["set_random_seed"]


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy, torch (CPU), every CUDA device and ``easynn.random``.

    Two runs of the same script with the same seed then start from the same weights, shuffle the
    same way and drop the same units, so they end with the same weights (on the CPU; CUDA kernels
    may add non-determinism of their own).

    Args:
        seed: a non-negative integer.

    Raises:
        ValueError: if ``seed`` is not a non-negative integer.

    Example:
        >>> set_random_seed(0); a = torch.rand(1)
        >>> set_random_seed(0); bool(torch.equal(a, torch.rand(1)))
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    from easynn import random as easynn_random  # the global SeedGenerator behind seed=None

    easynn_random._reseed_global(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
