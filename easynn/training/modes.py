"""One owner for the train/eval mode and the grad mode around fit, evaluate and predict.

``fit`` switches the model to training mode for its epochs and to inference mode for
validation; whatever happens inside (an exception included), ``preserved_modes`` puts every
module back in the mode it had before, as Keras users expect: after ``fit``, ``model(x)`` runs
Dropout as the identity and BatchNormalization on its moving statistics.

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Dropout(0.5))
    >>> net.eval()  # doctest: +ELLIPSIS
    Sequential(...)
    >>> with preserved_modes(net):
    ...     _ = net.train()
    >>> net.training
    False
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

__all__ = ["preserved_modes"]


@contextlib.contextmanager
def preserved_modes(model: torch.nn.Module) -> Iterator[None]:
    """Restore each module's ``training`` flag and the grad mode on exit."""
    saved = [(module, module.training) for module in model.modules()]
    grad_enabled = torch.is_grad_enabled()
    try:
        yield
    finally:
        for module, flag in saved:
            module.training = flag
        torch.set_grad_enabled(grad_enabled)
