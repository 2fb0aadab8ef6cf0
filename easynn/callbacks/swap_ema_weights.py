"""SwapEMAWeights: evaluate (and optionally checkpoint) with the optimizer's moving-average weights.

An optimizer built with ``use_ema=True`` keeps, next to each weight ``w``, its exponential moving
average ``ema = m·ema + (1 − m)·w`` ("Polyak averaging"): a smoothed copy of where training has
been, which often generalises better than the last, noisy iterate. This callback exchanges the
two in place — no third copy of the model — around every evaluation and prediction, so the
validation metrics of ``fit`` are those of the averaged weights while training continues from the
raw ones. With ``swap_on_epoch=True`` the averages are also in the model between an epoch's end
and the next epoch's start, so a ``ModelCheckpoint`` placed *after* this callback saves them.

The swap itself is the optimizer's (``optimizer.swap_ema_weights()``), which remembers whether the
averages are in the weights: at the end of ``fit`` the model holds the averages either way (Keras's
``use_ema`` writes them in), swapped or not.
"""

from __future__ import annotations

from easynn.training.callbacks_base import Callback

__all__ = ["SwapEMAWeights"]


class SwapEMAWeights(Callback):
    """Swap the model's weights with the optimizer's EMA weights around evaluation (Keras 3).

    Args:
        swap_on_epoch: also swap at ``on_epoch_end`` (averages in) and ``on_epoch_begin`` (raw
            weights back), so that later callbacks such as ``ModelCheckpoint`` see the averages.

    Raises:
        ValueError: when the model's optimizer does not use EMA (``use_ema=True``).

    Example:
        >>> import numpy as np, easynn
        >>> model = easynn.Sequential([easynn.Input((2,)), easynn.layers.Dense(1)])
        >>> model.compile(optimizer=easynn.optimizers.SGD(0.1, use_ema=True), loss="mse")
        >>> x, y = np.ones((8, 2), "float32"), np.zeros((8, 1), "float32")
        >>> _ = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[SwapEMAWeights()])
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        if not isinstance(swap_on_epoch, bool):
            raise TypeError(f"`swap_on_epoch` must be True or False. Received: swap_on_epoch={swap_on_epoch!r}")
        self.swap_on_epoch = swap_on_epoch

    # ---------------------------------------------------------------- the swap
    def _optimizer(self):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not getattr(optimizer, "use_ema", False):
            raise ValueError(
                "SwapEMAWeights must be used with an optimizer that keeps moving averages: compile the "
                "model with e.g. optimizers.SGD(use_ema=True). Received: optimizer="
                f"{type(optimizer).__name__ if optimizer is not None else None} with use_ema=False"
            )
        return optimizer

    def _swap_in(self) -> None:
        optimizer = self._optimizer()
        if not optimizer._ema_in_weights:
            optimizer.swap_ema_weights()

    def _swap_out(self) -> None:
        optimizer = self._optimizer()
        if optimizer._ema_in_weights:
            optimizer.swap_ema_weights()

    # ---------------------------------------------------------------- the hooks
    def on_train_begin(self, logs=None):
        self._optimizer()  # fail before the first step, not at the first evaluation

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_in()

    def on_test_begin(self, logs=None):
        self._swap_in()

    def on_test_end(self, logs=None):
        self._swap_out()

    def on_predict_begin(self, logs=None):
        self._swap_in()

    def on_predict_end(self, logs=None):
        self._swap_out()
