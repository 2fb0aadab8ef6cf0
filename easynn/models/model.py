"""``Model``: compile, fit, evaluate, predict — Keras's training API on a PyTorch module.

Three ways to make one, as in Keras:
    * ``Sequential([...])`` (``models/sequential.py``);
    * the functional API, ``Model(inputs=..., outputs=...)`` (``models/functional.py``), also for
      subclasses: ``CustomModel(inputs, outputs)`` or ``super().__init__(inputs=..., outputs=...)``;
    * subclassing: create layers in ``__init__`` and write ``call(inputs, training=None)``.

Who owns what: ``compile`` records and validates its arguments; the first fit/evaluate after it
builds one ``Trainer`` (``models/setup.py``), reused until the next ``compile``; ``fit`` reads top
to bottom as orchestration — adapt the data (``training/data.py``), run epochs
(``training/loop.py``) between callback hooks — inside ``preserved_modes``, which restores the
train/eval and grad modes on the way out (exceptions included). The Keras custom-training
surface (``train_step``, ``compute_loss``, ``metrics``...) is in ``models/steps.py``.

Example:
    >>> import numpy as np, easynn
    >>> easynn.utils.set_random_seed(0)
    >>> model = easynn.Sequential([easynn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.ones((8, 2), dtype="float32")
    >>> history = model.fit(x, np.zeros((8, 1)), epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import torch

from easynn import _validation
from easynn import losses as losses_module
from easynn import metrics as metrics_module
from easynn import optimizers as optimizers_module
from easynn._traceback import filter_traceback
from easynn.callbacks.base import CallbackList, History
from easynn.layers.base import Layer
from easynn.models import setup
from easynn.models._arguments import (
    as_callbacks,
    current_strategy,
    debug_caps,
    default_device,
    optional_steps,
    require_targets,
    verbose_level,
)
from easynn.models.evaluation import EvaluationMixin
from easynn.models.introspection import IntrospectionMixin
from easynn.models.saving_api import SavingMixin
from easynn.models.steps import KerasStepsMixin
from easynn.saving.registry import register_builtin
from easynn.training import data as data_module
from easynn.training.loop import Trainer
from easynn.training.modes import preserved_modes
from easynn.training.progress import ProgbarLogger

__all__ = ["Model", "default_device"]

_PRECISIONS = {"float32": None, None: None, "mixed_float16": torch.float16, "mixed_bfloat16": torch.bfloat16,
               "float16": torch.float16, "bfloat16": torch.bfloat16}


# ``models/functional.py`` registers its class here when imported (``easynn.models`` imports it),
# so this module, which it subclasses, never imports it back.
_REGISTERED: dict = {}


def register_functional_class(cls: type) -> type:
    """Called by ``models/functional.py``: the class that ``Model(inputs, outputs)`` builds."""
    _REGISTERED["Functional"] = cls
    return cls


def _functional_class() -> type:
    return _REGISTERED["Functional"]


def _functional_variant(cls: type) -> type:
    """``cls`` combined with ``Functional``: what ``CustomModel(inputs, outputs)`` builds, as Keras."""
    Functional = _functional_class()
    if issubclass(cls, Functional):
        return cls
    if issubclass(Functional, cls):  # Model(inputs, outputs) itself
        return Functional
    variant = _FUNCTIONAL_VARIANTS.get(cls)
    if variant is None:
        variant = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
        _FUNCTIONAL_VARIANTS[cls] = variant
    return variant


_FUNCTIONAL_VARIANTS: dict = {}


def _is_symbolic_structure(value) -> bool:
    """A symbolic tensor, or a non-empty list/tuple/dict of them (what Model(inputs, outputs) takes)."""
    from easynn.layers.symbolic import SymbolicTensor

    if isinstance(value, SymbolicTensor):
        return True
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, (list, tuple)) and bool(value) and all(_is_symbolic_structure(v) for v in value)


def _functional_args(cls, args, kwargs) -> bool:
    """Whether a Model call builds a functional model, as Keras decides: ``inputs=``/``outputs=``
    given by name, or two positional arguments to ``Model`` itself (bad ones then get Functional's
    clear errors); a subclass only with symbolic inputs and outputs (``VAE(encoder, decoder)``, with
    layers as arguments, is a subclassed model)."""
    if "inputs" in kwargs or "outputs" in kwargs:
        return True
    if len(args) < 2:
        return False
    if cls is Model or issubclass(cls, _functional_class()):
        return True
    return _is_symbolic_structure(args[0]) and _is_symbolic_structure(args[1])


@register_builtin
class Model(EvaluationMixin, KerasStepsMixin, IntrospectionMixin, SavingMixin, Layer):
    """A trainable network with Keras's ``compile`` / ``fit`` / ``evaluate`` / ``predict``.

    Subclass it and write ``call`` (the subclassing API), or call it as
    ``Model(inputs=..., outputs=...)`` (the functional API).

    Args:
        name: model name.
        trainable: whether ``fit`` updates the weights.
    """

    def __new__(cls, *args, **kwargs):
        if _functional_args(cls, args, kwargs):
            return super().__new__(_functional_variant(cls))
        return super().__new__(cls)

    def __init__(self, *args, **kwargs) -> None:
        if _functional_args(type(self), args, kwargs):
            # "Functional subclassing": super().__init__(inputs=..., outputs=...) in a subclass's
            # __init__ turns the instance into the functional variant of its class, as in Keras.
            Functional = _functional_class()
            if not isinstance(self, Functional):
                object.__setattr__(self, "__class__", _functional_variant(type(self)))
            Functional.__init__(self, *args, **kwargs)
            return
        super().__init__(*args, **kwargs)
        self.stop_training = False
        self.history: History | None = None
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self._trainer: Trainer | None = None
        self._compile_config: dict = {}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Model":
        """``Model.from_config(functional_model.get_config())`` rebuilds the functional model, as in Keras."""
        if cls is Model and "input_layers" in config and "output_layers" in config:
            return _functional_class().from_config(config, custom_objects=custom_objects)
        return super().from_config(config)

    # ------------------------------------------------------------------ compile
    @filter_traceback
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None, metrics: Any = None,
                weighted_metrics: Any = None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile: Any = "auto", auto_scale_loss: bool = True, device: Any = None,
                mixed_precision: str | None = None) -> None:
        """Configure the model for training.

        Args:
            optimizer: a name (``"sgd"``, ``"adam"``, ``"rmsprop"``...), an easynn optimizer, a
                ``torch.optim.Optimizer`` class, or an optimizer instance already bound to
                ``model.parameters()``.
            loss: a name, an easynn loss, a ``torch.nn`` loss module, or ``fn(y_true, y_pred)``;
                a list or dict gives one loss per output.
            loss_weights: per-output weights of the total loss.
            metrics: names (``"accuracy"``, ``"mae"``...), metric objects or ``fn(y_true, y_pred)``.
            weighted_metrics: like ``metrics``, but weighted by ``sample_weight`` / ``class_weight``
                (as in Keras, ``metrics`` ignore the weights); logged as ``weighted_<name>`` when
                ``metrics`` has a metric of the same name.
            run_eagerly: ``True`` turns ``jit_compile`` off (easynn is eager otherwise anyway).
            steps_per_execution: run the batch-level callbacks (and progress) every this many
                steps, as Keras does; the steps themselves are unchanged.
            jit_compile: ``True`` runs forward and loss through ``torch.compile`` (a static graph);
                ``"cuda_graphs"`` also replays them as CUDA graphs (``mode="reduce-overhead"``: for
                small models whose steps are dominated by kernel launches; static shapes);
                ``"auto"`` and ``False`` stay eager, as Keras does on torch.
            auto_scale_loss: scale the loss with a GradScaler under ``mixed_float16`` (Keras's
                default ``True``); ``False`` trains float16 without loss scaling.
            device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; CUDA when available by default.
            mixed_precision: ``"mixed_float16"``, ``"mixed_bfloat16"`` or ``"float32"``; the
                global policy (``easynn.mixed_precision``) by default.

        Raises:
            ValueError: for an unknown optimizer, loss or metric name, listing the valid ones.
        """
        for arg, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value is not None and not isinstance(value, (list, tuple, dict)):
                raise TypeError(f"`{arg}` must be a list (or a dict per output). Received: {arg}={value!r}")
        for arg, value in (("run_eagerly", run_eagerly), ("auto_scale_loss", auto_scale_loss)):
            if not isinstance(value, bool):
                raise TypeError(f"`{arg}` must be True or False. Received: {arg}={value!r}")
        steps_per_execution = _validation.positive_int("steps_per_execution", steps_per_execution)
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict, int, float)):
            raise TypeError(f"`loss_weights` must be a list or a dict of numbers. Received: loss_weights={loss_weights!r}")
        # Resolve names now, so a typo fails at compile time, not mid-fit.
        resolved_optimizer = optimizers_module.get(optimizer)
        for spec in self._flat_specs(loss):
            losses_module.get(spec)
        for spec in self._flat_specs(metrics) + self._flat_specs(weighted_metrics):
            if isinstance(spec, str):
                metrics_module.get(spec, (2, 1), (2, 1))
        from easynn import mixed_precision as mp

        if mixed_precision is None:
            mixed_precision = mp.global_policy()
        if isinstance(mixed_precision, mp.Policy):
            mixed_precision = mixed_precision.name
        if mixed_precision not in _PRECISIONS:
            raise ValueError(
                "`mixed_precision` must be 'float32', 'mixed_float16' or 'mixed_bfloat16'. "
                f"Received: mixed_precision={mixed_precision!r}"
            )
        jit = False if run_eagerly else self._resolve_jit(jit_compile)
        self._optimizer_spec = optimizer
        self.optimizer = resolved_optimizer
        self.loss = loss
        self._precision = _PRECISIONS[mixed_precision]
        self._jit_compile = jit
        self._device = torch.device(device) if device is not None else default_device()
        self.to(self._device)
        self._trainer = None  # built at the next fit/evaluate, once per compile
        self.compiled = True
        self._compile_config = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                                "weighted_metrics": weighted_metrics, "jit_compile": jit,
                                "mixed_precision": mixed_precision, "run_eagerly": run_eagerly,
                                "steps_per_execution": steps_per_execution, "auto_scale_loss": auto_scale_loss}

    @staticmethod
    def _flat_specs(spec) -> list:
        if spec is None:
            return []
        if isinstance(spec, dict):
            spec = list(spec.values())
        if isinstance(spec, (list, tuple)):
            return [s for item in spec for s in Model._flat_specs(item)]
        return [spec]

    @staticmethod
    def _resolve_jit(jit_compile) -> bool | str:
        if jit_compile in ("auto", False, None):
            return False
        if jit_compile is not True and jit_compile != "cuda_graphs":
            raise ValueError(
                "`jit_compile` must be True, False, 'auto' or 'cuda_graphs'. "
                f"Received: jit_compile={jit_compile!r}"
            )
        if not hasattr(torch, "compile"):
            warnings.warn("torch.compile is not available in this PyTorch; training runs eagerly.", RuntimeWarning, stacklevel=3)
            return False
        try:
            # importlib: a plain `import torch._dynamo` here would make `torch` a local name of this
            # function, and the `hasattr(torch, ...)` above would raise UnboundLocalError.
            importlib.import_module("torch._dynamo")
        except Exception as error:  # pragma: no cover - platform dependent
            warnings.warn(f"torch.compile is unavailable here ({error}); training runs eagerly.", RuntimeWarning, stacklevel=3)
            return False
        return jit_compile

    # ------------------------------------------------------------------ preparing to run
    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(
                f"{what}() was called before compile(). Call model.compile(optimizer=..., loss=...) first."
            )
        custom = self._overrides("train_step") or self._overrides("compute_loss") or self._has_loss_terms()
        if self.loss is None and what != "predict" and not custom and not (what == "evaluate" and self._overrides("test_step")):
            raise ValueError(
                "The model was compiled without a loss. Call model.compile(loss=...) with a loss "
                "such as 'mse' or 'sparse_categorical_crossentropy'."
            )

    @property
    def device(self) -> torch.device:
        """The device the model trains on (set by ``compile``)."""
        return getattr(self, "_device", None) or default_device()

    def _build_trainer_from(self, y, y_pred, strategy=None) -> Trainer:
        """Build the trainer from sample targets and outputs (no probe), e.g. in a custom step."""
        if not self.compiled:
            raise RuntimeError("The model must be compiled before computing losses or metrics: call compile() first.")
        self._trainer = setup.build_trainer(self, y, y_pred, strategy or current_strategy())
        return self._trainer

    def _target_names(self, step: str = "train_step"):
        """Output names that order dict targets, unless the model's own step reads ``y`` as given."""
        return None if self._overrides(step) else getattr(self, "output_names", None)

    def _prepare(self, x, y, sample_weight, batch_size, shuffle, strategy, seed=0, steps=None, steps_name="steps"):
        """Batches for ``x, y`` and the trainer (built, with one probe forward, on first use)."""
        batches = data_module.adapt(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, device=self.device,
                                    rank=strategy.rank, world_size=strategy.world_size, seed=seed, steps=steps,
                                    steps_name=steps_name, target_names=self._target_names())
        trainer = self._trainer
        if trainer is None or trainer.strategy is not strategy:
            x_sample, y_sample = setup.first_samples(batches)
            custom = self._overrides("train_step")
            y_pred = None if custom else setup.probe(self, x_sample, self.device)  # builds the model
            trainer = self._trainer = setup.build_trainer(self, y_sample, y_pred, strategy)
            setup.check_targets(trainer, y_sample)
        elif isinstance(batches, data_module.ArrayBatches):  # cheap: shapes only, no forward
            setup.check_targets(trainer, setup.first_samples(batches)[1])
        setup.check_label_range(trainer, batches)
        return batches, trainer

    # ------------------------------------------------------------------ fit
    @filter_traceback
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            **kwargs) -> History:
        """Train for ``epochs`` epochs; returns a ``History``.

        Args:
            x: inputs: NumPy array, tensor, list (several inputs), or a torch Dataset/DataLoader
                yielding ``(x, y)`` (then ``y=None``).
            y: targets (integer labels for sparse losses, one-hot for categorical ones).
            batch_size: samples per step (32 when ``None``; per process under torchrun).
            epochs: index of the last epoch (training runs ``initial_epoch .. epochs - 1``).
            verbose: 0 silent, 1 (``"auto"``) a live bar per epoch, 2 one line per epoch.
            callbacks: list of ``easynn.callbacks.Callback``.
            validation_split: the last fraction of the arrays (taken before shuffling) held out.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight)``.
            shuffle: reshuffle the training arrays every epoch.
            class_weight: ``{class: weight}`` turned into per-sample weights.
            sample_weight: per-sample weights of the loss and metrics.
            initial_epoch: the epoch to start from (resuming a run).
            steps_per_epoch: run at most this many batches per epoch.
            validation_steps: validate on at most this many batches.
            validation_batch_size: the batch size of validation (``batch_size`` by default).
            validation_freq: validate every this many epochs.
            **kwargs: only the Keras 2 spelling ``nb_epoch`` (deprecated alias of ``epochs``).

        Returns:
            ``History`` whose ``.history`` maps ``loss``, each metric and each ``val_*`` to lists.

        Raises:
            RuntimeError: if the model was not compiled.
            ValueError / TypeError: for bad data or arguments, before any weight changes.
        """
        if "nb_epoch" in kwargs:
            warnings.warn("`nb_epoch` is a Keras 2 argument; use `epochs` instead.", DeprecationWarning, stacklevel=2)
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments: {sorted(kwargs)}")
        self._require_compiled("fit")
        require_targets(self, x, y, "fit")
        batch_size = 32 if batch_size is None else _validation.positive_int("batch_size", batch_size)
        epochs = _validation.positive_int("epochs", epochs)
        verbose = verbose_level(verbose)
        initial_epoch = _validation.non_negative_int("initial_epoch", initial_epoch)
        steps_per_epoch = optional_steps("steps_per_epoch", steps_per_epoch)
        validation_steps = optional_steps("validation_steps", validation_steps)
        validation_freq = _validation.positive_int("validation_freq", validation_freq)
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("Pass either `class_weight` or `sample_weight`, not both.")
            if data_module.is_dataset(x):
                raise ValueError("`class_weight` works with arrays only.")
        if validation_data is None and validation_split:
            (x, y, sample_weight), validation_data = data_module.split_validation(x, y, sample_weight, validation_split)
        if class_weight is not None:  # after the split: as in Keras, validation is not class-weighted
            sample_weight = setup.class_weights_to_sample_weights(y, class_weight)
        strategy = current_strategy()
        seed = torch.initial_seed() % (2**31)
        if hasattr(strategy, "shared_seed"):  # every process must shuffle with rank 0's permutation
            seed = strategy.shared_seed(seed)
        train_batches, trainer = self._prepare(x, y, sample_weight, batch_size, shuffle, strategy, seed=seed,
                                               steps=steps_per_epoch, steps_name="steps_per_epoch")
        val_batches = self._validation_batches(validation_data, validation_batch_size or batch_size, strategy,
                                               validation_steps)

        history = History()
        user_callbacks = as_callbacks(callbacks)
        own_bar = any(isinstance(c, ProgbarLogger) for c in user_callbacks)  # a user's own bar replaces ours
        progress = [ProgbarLogger(verbose)] if verbose and strategy.is_main and not own_bar else []
        epochs, steps_per_epoch = debug_caps(epochs, steps_per_epoch, train_batches.num_batches)
        steps = train_batches.num_batches  # None for a generator without steps_per_epoch: no total shown
        if steps_per_epoch is not None and (steps is None or steps_per_epoch < steps):
            steps = steps_per_epoch
        callback_list = CallbackList(user_callbacks + [history] + progress, model=self,
                                     epochs=epochs, steps=steps, verbose=verbose)
        self.history = history
        self.stop_training = False
        # Resuming: a callback (BackupAndRestore) may set ``_initial_epoch`` in on_train_begin; it
        # finds its peers (whose state it saves) in ``_fit_callbacks``. Both live for this fit only.
        self._initial_epoch = None
        self._fit_callbacks = callback_list.callbacks
        logs: dict = {}
        with preserved_modes(self):
            callback_list.on_train_begin({})
            if self._initial_epoch is not None:
                initial_epoch = self._initial_epoch
            for epoch in range(initial_epoch, epochs):
                callback_list.on_epoch_begin(epoch, {})
                logs = trainer.run_epoch(train_batches, epoch, callback_list, training=True, steps=steps_per_epoch)
                if val_batches is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._run_test(val_batches, trainer, callback_list, validation_steps)
                    logs.update({f"val_{key}": value for key, value in val_logs.items()})
                callback_list.on_epoch_end(epoch, logs)
                if strategy.agree(self.stop_training):
                    break
            finalize = getattr(self.optimizer, "finalize_variable_values", None)
            if finalize is not None:  # Keras: use_ema writes the moving averages into the weights
                finalize(self.trainable_weights)
            callback_list.on_train_end(logs)
        self._fit_callbacks = None
        return history

    def _validation_batches(self, validation_data, batch_size, strategy, steps=None):
        if validation_data is None:
            return None
        names = self._target_names("test_step")
        if data_module.is_dataset(validation_data):
            return data_module.adapt(validation_data, batch_size=batch_size, shuffle=False, device=self.device,
                                     steps=steps, steps_name="validation_steps", target_names=names)
        if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "`validation_data` must be (x_val, y_val), (x_val, y_val, sample_weight) or a Dataset. "
                f"Received a {type(validation_data).__name__} of length {len(validation_data) if hasattr(validation_data, '__len__') else '?'}."
            )
        x_val, y_val = validation_data[0], validation_data[1]
        sw_val = validation_data[2] if len(validation_data) == 3 else None
        batches = data_module.adapt(x_val, y_val, sw_val, batch_size=batch_size, shuffle=False, device=self.device,
                                    rank=strategy.rank, world_size=strategy.world_size, steps=steps,
                                    steps_name="validation_steps", target_names=names)
        if isinstance(batches, data_module.ArrayBatches):  # no forward: the trainer knows the output shapes
            setup.check_targets(self._trainer, setup.first_samples(batches)[1])
        return batches
