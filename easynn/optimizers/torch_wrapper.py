"""``TorchOptimizer``: any ``torch.optim`` optimizer class or instance behind the easynn interface."""

from __future__ import annotations

import inspect
from typing import Iterable

import torch

from easynn.optimizers.base import Optimizer, _param_ids

__all__ = ["TorchOptimizer"]


class TorchOptimizer(Optimizer):
    """Wraps a ``torch.optim.Optimizer`` class (unbound, built with torch's own defaults plus
    ``torch_kwargs``) or an instance (already bound to the user's parameters).

    Example:
        >>> import torch
        >>> from easynn.optimizers import get
        >>> opt = get(torch.optim.Adam)
        >>> opt.learning_rate, opt.built
        (0.001, False)
    """

    def __init__(self, torch_cls: type, name: str | None = None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **torch_kwargs):
        self._torch_cls = torch_cls
        self.torch_kwargs = dict(torch_kwargs)
        lr = self.torch_kwargs.pop("lr", None)
        if lr is None:
            default = inspect.signature(torch_cls).parameters.get("lr")
            lr = default.default if default is not None and default.default is not inspect.Parameter.empty else 0.001
        super().__init__(float(lr), None, clipnorm, clipvalue, global_clipnorm, name or torch_cls.__name__.lower())

    @classmethod
    def from_instance(cls, optimizer: torch.optim.Optimizer) -> "TorchOptimizer":
        """Wrap an optimizer already bound to parameters; ``build`` then keeps its param groups."""
        self = cls(type(optimizer), lr=optimizer.param_groups[0]["lr"])
        self._torch_opt = optimizer
        self._param_ids = None
        return self

    def build(self, params: Iterable) -> None:
        if self._torch_opt is not None and self._param_ids is None:
            # A user-made torch optimizer: its param groups are the user's. Only check it trains the model.
            params = list(params)
            mine = {id(p) for g in self._torch_opt.param_groups for p in g["params"]}
            if params and not any(i in mine for i in _param_ids(params)):
                raise ValueError(
                    "The torch optimizer passed to compile() was created for other parameters than this "
                    "model's. Create it with torch.optim.X(model.parameters(), ...) after building the model."
                )
            return
        super().build(params)

    def _make_torch_optimizer(self, params):
        return self._torch_cls(params, lr=self._current_lr(), **self.torch_kwargs)

    def get_config(self):
        raise TypeError(f"Cannot serialize the torch optimizer {self._torch_cls.__name__}; pass it again when loading.")
