"""Training diagnostics: the lecture's optimisation problems, measured while ``fit`` runs.

* ``GradientMonitor``: per-layer gradient norms and update/weight ratios, with a warning when
  the lower layers' gradients vanish (``y = f5(f4(f3(f2(f1(x)))))``: ``dy/dx`` is a product of
  one factor per layer, and a sigmoid's factor is at most 0.25) or explode.
* ``ActivationMonitor``: per activation layer, the fraction of dead ReLU units (never active on
  an epoch's training batches), of saturated sigmoid/tanh units (derivative below a threshold for
  most of their outputs), and the mean output (non-zero-centred outputs shift the next layer's
  bias).

Both write their numbers into the epoch ``logs`` (so ``History`` records them: ``fit`` calls the
user's callbacks before ``History``) under keys ``"<quantity>/<layer name>"``. Both attach their
hooks in ``on_train_begin`` and remove them in ``on_train_end``: a model that is not being
monitored pays nothing. Per step they only launch a few device kernels; the one host sync is at
the end of the epoch.
"""

from easynn.callbacks._diagnostics import (
    BiasShiftWarning,
    DeadReLUWarning,
    DiagnosticWarning,
    ExplodingGradientWarning,
    SaturationWarning,
    VanishingGradientWarning,
)
from easynn.callbacks.activation_monitor import ActivationMonitor, _ActivationStats
from easynn.callbacks.gradient_monitor import GradientMonitor

__all__ = [
    "ActivationMonitor",
    "BiasShiftWarning",
    "DeadReLUWarning",
    "DiagnosticWarning",
    "ExplodingGradientWarning",
    "GradientMonitor",
    "SaturationWarning",
    "VanishingGradientWarning",
]
_ = _ActivationStats  # re-exported for tests and users of easynn 0.x
