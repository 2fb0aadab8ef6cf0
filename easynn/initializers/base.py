"""The initializer contract: ``init(shape, dtype=None, device=None) -> torch.Tensor``, with
Keras's fan convention (``compute_fans``) and the helpers every initializer shares."""

from __future__ import annotations

import math

import torch

__all__ = ["Initializer", "compute_fans"]


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight in Keras's layout."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``__call__(shape, dtype=None, device=None)`` returns a new tensor."""

    def __call__(self, shape, dtype=None, device=None) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _empty(shape, dtype, device) -> torch.Tensor:
    return torch.empty(tuple(shape), dtype=dtype or torch.get_default_dtype(), device=device)


def _gen(seed: int | None, device) -> torch.Generator | None:
    if seed is None:
        return None
    gen = torch.Generator(device=device or "cpu")
    gen.manual_seed(int(seed))
    return gen
