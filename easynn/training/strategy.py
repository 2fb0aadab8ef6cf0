"""The strategy interface between the training loop and the processes it runs on.

``SingleProcess`` is the default: one process, nothing to synchronise. ``easynn.distribute``
supplies the multi-process strategy (torchrun) with the same methods; the loop only ever talks
to this interface, so it never imports ``easynn.distribute``.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["SingleProcess", "SINGLE_PROCESS"]


class SingleProcess:
    """The default strategy: one process, nothing to synchronise.

    One instance (``SINGLE_PROCESS``) serves every model, so a model's trainer, built once per
    ``compile``, is found again by later ``fit``/``evaluate`` calls.
    """

    rank = 0
    world_size = 1
    is_main = True

    def wrap(self, model):
        """The module the training step calls (DDP wraps it; here, the model itself)."""
        return model

    def reduce_sum(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """Element-wise sums over all processes (one process: unchanged)."""
        return tensors

    def barrier(self) -> None:
        """Wait for every process (one process: nothing to wait for)."""

    def agree(self, flag: bool) -> bool:
        """Rank 0's value of ``flag`` on every process (used for ``stop_training``)."""
        return flag

    def gather_predictions(self, outputs, num_samples: int):
        """Every process's predictions, in input order (one process: its own)."""
        return outputs

    def join(self, model):
        """A context for uneven inputs across processes (one process: nothing to do)."""
        return contextlib.nullcontext()


SINGLE_PROCESS = SingleProcess()
