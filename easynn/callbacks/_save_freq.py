"""``save_freq`` for the callbacks that write files (ModelCheckpoint, BackupAndRestore)."""

from __future__ import annotations

__all__ = ["check_save_freq", "BatchCounter"]


def check_save_freq(save_freq):
    """``save_freq`` itself when it is ``"epoch"`` or a positive number of batches.

    Raises:
        ValueError: for anything else.
    """
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq <= 0:
        raise ValueError(
            f"`save_freq` must be 'epoch' or a positive integer (batches). Received: save_freq={save_freq!r}"
        )
    return save_freq


class BatchCounter:
    """Counts training batches across epochs; says when ``save_freq`` batches have passed."""

    def __init__(self, save_freq):
        self.save_freq = save_freq
        self.seen = 0

    def tick(self) -> bool:
        if self.save_freq == "epoch":
            return False
        self.seen += 1
        if self.seen >= self.save_freq:
            self.seen = 0
            return True
        return False
