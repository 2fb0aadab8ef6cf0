"""``Model``: compile, fit, evaluate, predict — Keras's training API on a PyTorch module.

Three ways to make one, as in Keras:
    * ``Sequential([...])`` (``models/sequential.py``);
    * the functional API, ``Model(inputs=..., outputs=...)`` (``models/functional.py``);
    * subclassing: create layers in ``__init__`` and write ``call(inputs, training=None)``.

``fit`` reads top to bottom as orchestration: adapt the data (``training/data.py``), build the
model and its optimizer on a first small batch, then run epochs (``training/loop.py``) between
callback hooks (``callbacks``).

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

import numpy as np
import torch

from easynn import losses as losses_module
from easynn import metrics as metrics_module
from easynn import optimizers as optimizers_module
from easynn.callbacks.base import Callback, CallbackList, History
from easynn.layers.base import Layer
from easynn.training import data as data_module
from easynn.training.loop import SingleProcess, Trainer
from easynn.training.progress import ProgbarLogger

__all__ = ["Model", "default_device"]

_PRECISIONS = {"float32": None, None: None, "mixed_float16": torch.float16, "mixed_bfloat16": torch.bfloat16,
               "float16": torch.float16, "bfloat16": torch.bfloat16}


def default_device() -> torch.device:
    """CUDA when available (this process's local GPU under torchrun), else the CPU."""
    strategy = _current_strategy()
    if hasattr(strategy, "device"):
        return strategy.device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _current_strategy():
    try:
        from easynn import distribute
    except ImportError:
        return SingleProcess()
    return distribute.current_strategy()


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _verbose(value: Any) -> int:
    if value == "auto":
        return 1
    if value not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={value!r}")
    return int(value)


def _class_weights_to_sample_weights(y, class_weight: dict) -> torch.Tensor:
    y = data_module.to_tensor(y, "y")
    if y.dim() > 1 and y.shape[-1] > 1:
        labels = y.argmax(dim=-1)
    else:
        labels = y.reshape(y.shape[0], -1)[:, 0]
        labels = (labels > 0.5).long() if labels.is_floating_point() and labels.max() <= 1 else labels.long()
    table = torch.ones(int(max(int(labels.max()) + 1, max(class_weight) + 1)))
    for cls, weight in class_weight.items():
        table[int(cls)] = float(weight)
    return table[labels]


def _as_callbacks(callbacks) -> list:
    """``callbacks`` as a list; a single callback is accepted, as Keras 3 does."""
    if isinstance(callbacks, Callback):
        return [callbacks]
    return list(callbacks or [])


def _require_targets(x, y, what: str) -> None:
    if y is None and not data_module.is_dataset(x):
        raise ValueError(
            f"{what}() needs targets: pass y=... with one target per sample of x (or give x as a "
            "Dataset/DataLoader that yields (x, y) pairs)."
        )


class Model(Layer):
    """A trainable network with Keras's ``compile`` / ``fit`` / ``evaluate`` / ``predict``.

    Subclass it and write ``call`` (the subclassing API), or call it as
    ``Model(inputs=..., outputs=...)`` (the functional API).

    Args:
        name: model name.
        trainable: whether ``fit`` updates the weights.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs):
            from easynn.models.functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stop_training = False
        self.history: History | None = None
        self.compiled = False
        self.optimizer = None
        self._trainer: Trainer | None = None
        self._compile_config: dict = {}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Model":
        """``Model.from_config(functional_model.get_config())`` rebuilds the functional model, as in Keras."""
        if cls is Model and "input_layers" in config and "output_layers" in config:
            from easynn.models.functional import Functional

            return Functional.from_config(config, custom_objects=custom_objects)
        return super().from_config(config)

    # ------------------------------------------------------------------ forward
    def forward(self, inputs, *args, return_logits: bool = False, **kwargs):
        if return_logits:
            return self.call_logits(inputs)
        return super().forward(inputs, *args, **kwargs)

    # ------------------------------------------------------------------ compile
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
            jit_compile: ``True`` runs forward and loss through ``torch.compile`` (a static graph);
                ``"auto"`` and ``False`` stay eager, as Keras does on torch.
            device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; CUDA when available by default.
            mixed_precision: ``"mixed_float16"``, ``"mixed_bfloat16"`` or ``"float32"``; the
                global policy (``easynn.mixed_precision``) by default.

        Raises:
            ValueError: for an unknown optimizer, loss or metric name, listing the valid ones.
        """
        self._optimizer_spec = optimizer
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self._loss_weights = loss_weights
        self._metric_specs = metrics
        self._weighted_metric_specs = weighted_metrics
        for arg, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value is not None and not isinstance(value, (list, tuple, dict)):
                raise TypeError(f"`{arg}` must be a list (or a dict per output). Received: {arg}={value!r}")
        # Resolve names now, so a typo fails at compile time, not mid-fit.
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
        self._precision = _PRECISIONS[mixed_precision]
        self._jit_compile = self._resolve_jit(jit_compile)
        self._device = torch.device(device) if device is not None else default_device()
        self.to(self._device)
        self._trainer = None
        self.compiled = True
        self._compile_config = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                                "weighted_metrics": weighted_metrics,
                                "jit_compile": self._jit_compile, "mixed_precision": mixed_precision}

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
    def _resolve_jit(jit_compile) -> bool:
        if jit_compile in ("auto", False, None):
            return False
        if jit_compile is not True:
            raise ValueError(f"`jit_compile` must be True, False or 'auto'. Received: jit_compile={jit_compile!r}")
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
        return True

    # ------------------------------------------------------------------ preparing to run
    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(
                f"{what}() was called before compile(). Call model.compile(optimizer=..., loss=...) first."
            )
        if self.loss is None and what != "predict":
            raise ValueError(
                "The model was compiled without a loss. Call model.compile(loss=...) with a loss "
                "such as 'mse' or 'sparse_categorical_crossentropy'."
            )

    @property
    def device(self) -> torch.device:
        """The device the model trains on (set by ``compile``)."""
        return getattr(self, "_device", None) or default_device()

    def _output_names(self, count: int) -> list[str]:
        names = getattr(self, "output_names", None)
        if names and len(names) == count:
            return list(names)
        return [f"output_{i}" for i in range(count)] if count > 1 else ["output"]

    def _per_output(self, spec, names: list[str], what: str) -> list:
        if isinstance(spec, dict):
            unknown = set(spec) - set(names)
            if unknown:
                raise ValueError(f"`{what}` names unknown outputs {sorted(unknown)}. The outputs are {names}.")
            return [spec.get(name) for name in names]
        if isinstance(spec, (list, tuple)) and len(names) > 1 and (what != "metrics" or any(isinstance(s, (list, tuple)) for s in spec)):
            if len(spec) != len(names):
                raise ValueError(f"The model has {len(names)} outputs but `{what}` has {len(spec)} entries.")
            return list(spec)
        return [spec] * len(names)

    def _probe(self, x) -> Any:
        """Run the model on the first two samples (building it if needed) to learn output shapes."""
        take = lambda t: t[:2].to(self.device)  # noqa: E731
        x_probe = data_module.tree_map(take, x)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                y_pred = self(x_probe)
        finally:
            self.train(was_training)
            self._clear_losses()
        return y_pred

    def _ensure_trainer(self, y_sample, y_pred, strategy) -> Trainer:
        """Build the optimizer, losses and metrics for targets like ``y_sample`` (model outputs
        like ``y_pred``); reuse the current trainer when nothing changed."""
        outputs = y_pred if isinstance(y_pred, (list, tuple)) else [y_pred]
        targets = y_sample if isinstance(y_sample, (list, tuple)) else [y_sample]
        if y_sample is not None and len(targets) != len(outputs):
            raise ValueError(f"The model has {len(outputs)} outputs but y provides {len(targets)} target arrays.")
        names = self._output_names(len(outputs))
        params = [p for p in self.parameters()]
        trainer = self._trainer
        if trainer is not None and trainer.strategy is strategy and getattr(self, "_trainer_params", None) == [id(p) for p in params]:
            return trainer
        if not self.optimizer.built or getattr(self, "_trainer_params", None) not in (None, [id(p) for p in params]):
            self.optimizer.build(params)
        losses = [losses_module.get(spec) for spec in self._per_output(self.loss, names, "loss")] if self.loss is not None else []
        weights = self._per_output(self._loss_weights, names, "loss_weights") if self._loss_weights is not None else [1.0] * len(names)
        metric_lists = []
        weighted_specs = self._per_output(getattr(self, "_weighted_metric_specs", None), names, "weighted_metrics")
        for spec, w_spec, target, output in zip(self._per_output(self._metric_specs, names, "metrics"), weighted_specs,
                                                targets, outputs):
            shape_t = tuple(target.shape) if target is not None else tuple(output.shape)
            metric_list = []
            # As in Keras: `metrics` ignore sample/class weights, `weighted_metrics` use them.
            for weighted, group in ((False, spec), (True, w_spec)):
                specs = [] if group is None else (list(group) if isinstance(group, (list, tuple)) else [group])
                for s in specs:
                    metric = metrics_module.get(s, shape_t, tuple(output.shape))
                    if weighted and any(m.name == metric.name for m in metric_list):
                        metric.name = f"weighted_{metric.name}"
                    metric._weighted = weighted
                    metric_list.append(metric)
            metric_lists.append(metric_list)
        self._trainer = Trainer(self, self.optimizer, losses, [float(w) for w in weights], metric_lists, names, self.device,
                                jit_compile=self._jit_compile, precision=self._precision, strategy=strategy)
        self._trainer_params = [id(p) for p in params]
        for metric_list in metric_lists:
            for metric in metric_list:
                if hasattr(metric, "to"):
                    metric.to(self.device)
        return self._trainer

    def _check_targets(self, trainer: Trainer, y_sample, y_pred) -> None:
        """Each loss checks the targets' shape against the outputs' (label format errors)."""
        if y_sample is None:
            return
        outputs = y_pred if isinstance(y_pred, (list, tuple)) else [y_pred]
        targets = y_sample if isinstance(y_sample, (list, tuple)) else [y_sample]
        for loss, target, output in zip(trainer.losses, targets, outputs):
            if hasattr(loss, "check"):
                loss.check(tuple(target.shape), tuple(output.shape))

    def _check_label_range(self, trainer: Trainer, batches, y_pred) -> None:
        """Integer labels of a sparse crossentropy must lie in ``[0, classes)`` (one pass per fit)."""
        if not isinstance(batches, data_module.ArrayBatches) or batches.y is None:
            return
        outputs = y_pred if isinstance(y_pred, (list, tuple)) else [y_pred]
        targets = batches.y if isinstance(batches.y, (list, tuple)) else [batches.y]
        for loss, target, output in zip(trainer.losses, targets, outputs):
            if getattr(loss, "fused_kind", None) != "sparse_categorical" or output.dim() < 2:
                continue
            ignore = getattr(loss, "options", {}).get("ignore_class")
            labels = target if ignore is None else target[target != ignore]
            if labels.numel() == 0:
                continue
            low, high = float(labels.min()), float(labels.max())
            classes = int(output.shape[-1])
            if low < 0 or high >= classes:
                raise ValueError(
                    f"`y` holds class labels from {low:g} to {high:g}, but the model outputs {classes} classes, "
                    f"so labels must lie in [0, {classes - 1}]. Check the labels or the last layer's units."
                )

    def _first_samples(self, batches):
        head = lambda t: t[:2]  # noqa: E731
        if isinstance(batches, data_module.ArrayBatches):
            return data_module.tree_map(head, batches.x), data_module.tree_map(head, batches.y)
        for x, y, _ in batches.epoch(0):
            return data_module.tree_map(head, x), data_module.tree_map(head, y)
        raise ValueError("The dataset is empty: it produced no batches.")

    def _prepare(self, x, y, sample_weight, batch_size, shuffle, strategy, seed=0):
        batches = data_module.adapt(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, device=self.device,
                                    rank=strategy.rank, world_size=strategy.world_size, seed=seed)
        x_sample, y_sample = self._first_samples(batches)
        y_pred = self._probe(x_sample)  # builds the model on first use
        trainer = self._ensure_trainer(y_sample, y_pred, strategy)
        self._check_targets(trainer, y_sample, y_pred)
        self._check_label_range(trainer, batches, y_pred)
        return batches, trainer

    # ------------------------------------------------------------------ fit
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
        _require_targets(x, y, "fit")
        batch_size = 32 if batch_size is None else _positive_int("batch_size", batch_size)
        epochs = _positive_int("epochs", epochs)
        verbose = _verbose(verbose)
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
            raise ValueError(f"`initial_epoch` must be a non-negative integer. Received: initial_epoch={initial_epoch!r}")
        if steps_per_epoch is not None or validation_steps is not None:
            raise NotImplementedError("steps_per_epoch/validation_steps are not supported yet; pass the data to use.")
        validation_freq = _positive_int("validation_freq", validation_freq)
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("Pass either `class_weight` or `sample_weight`, not both.")
            if data_module.is_dataset(x):
                raise ValueError("`class_weight` works with arrays only.")
        if validation_data is None and validation_split:
            (x, y, sample_weight), validation_data = data_module.split_validation(x, y, sample_weight, validation_split)
        if class_weight is not None:  # after the split: as in Keras, validation is not class-weighted
            sample_weight = _class_weights_to_sample_weights(y, class_weight)
        strategy = _current_strategy()
        seed = torch.initial_seed() % (2**31)
        if hasattr(strategy, "shared_seed"):  # every process must shuffle with rank 0's permutation
            seed = strategy.shared_seed(seed)
        train_batches, trainer = self._prepare(x, y, sample_weight, batch_size, shuffle, strategy, seed=seed)
        val_batches = self._validation_batches(validation_data, validation_batch_size or batch_size, strategy)

        history = History()
        user_callbacks = _as_callbacks(callbacks)
        progress = [ProgbarLogger(verbose)] if verbose and strategy.is_main else []
        callback_list = CallbackList(user_callbacks + [history] + progress, model=self,
                                     epochs=epochs, steps=len(train_batches), verbose=verbose)
        self.history = history
        self.stop_training = False
        # Resuming: a callback (BackupAndRestore) may set ``_initial_epoch`` in on_train_begin; it
        # finds its peers (whose state it saves) in ``_fit_callbacks``. Both live for this fit only.
        self._initial_epoch = None
        self._fit_callbacks = callback_list.callbacks
        callback_list.on_train_begin()
        if self._initial_epoch is not None:
            initial_epoch = self._initial_epoch
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch)
            logs = trainer.run_epoch(train_batches, epoch, callback_list, training=True)
            if val_batches is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._run_test(val_batches, trainer, callback_list)
                logs.update({f"val_{key}": value for key, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if strategy.agree(self.stop_training):
                break
        callback_list.on_train_end(logs)
        self._fit_callbacks = None
        return history

    def _validation_batches(self, validation_data, batch_size, strategy):
        if validation_data is None:
            return None
        if data_module.is_dataset(validation_data):
            return data_module.adapt(validation_data, batch_size=batch_size, shuffle=False, device=self.device)
        if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "`validation_data` must be (x_val, y_val), (x_val, y_val, sample_weight) or a Dataset. "
                f"Received a {type(validation_data).__name__} of length {len(validation_data) if hasattr(validation_data, '__len__') else '?'}."
            )
        x_val, y_val = validation_data[0], validation_data[1]
        sw_val = validation_data[2] if len(validation_data) == 3 else None
        batches = data_module.adapt(x_val, y_val, sw_val, batch_size=batch_size, shuffle=False, device=self.device,
                                    rank=strategy.rank, world_size=strategy.world_size)
        x_sample, y_sample = self._first_samples(batches)
        self._check_targets(self._trainer, y_sample, self._probe(x_sample))
        return batches

    def _run_test(self, batches, trainer: Trainer, callback_list: CallbackList | None) -> dict:
        if callback_list is not None:
            callback_list.on_test_begin()
        logs = trainer.run_epoch(batches, 0, callback_list, training=False)
        if callback_list is not None:
            callback_list.on_test_end(logs)
        return logs

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Loss (and metrics) on the given data.

        Returns:
            The loss as a float when no metrics were compiled; else ``[loss, *metrics]`` in
            ``metrics_names`` order; or a dict with ``return_dict=True``.
        """
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments: {sorted(kwargs)}")
        self._require_compiled("evaluate")
        _require_targets(x, y, "evaluate")
        batch_size = 32 if batch_size is None else _positive_int("batch_size", batch_size)
        verbose = _verbose(verbose)
        strategy = _current_strategy()
        batches, trainer = self._prepare(x, y, sample_weight, batch_size, False, strategy)
        callback_list = CallbackList(_as_callbacks(callbacks), model=self, steps=len(batches), verbose=verbose)
        logs = self._run_test(batches, trainer, callback_list)
        if verbose and strategy.is_main:
            from easynn.training.progress import format_logs

            print(format_logs(logs), flush=True)
        if return_dict:
            return logs
        values = [logs[name] for name in trainer.metric_names()]
        return values[0] if len(values) == 1 else values

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metric names]`` once the model has run ``fit`` or ``evaluate``."""
        return self._trainer.metric_names() if self._trainer is not None else ["loss"]

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for ``x`` as a NumPy array (a list of arrays for several outputs).

        Runs in inference mode (dropout off, batch norm on moving statistics) without gradients;
        the result is on the CPU whatever the device.
        """
        batch_size = 32 if batch_size is None else _positive_int("batch_size", batch_size)
        _verbose(verbose)
        device = self.device if self.compiled else _first_param_device(self)
        strategy = _current_strategy() if self.compiled else SingleProcess()
        batches = data_module.adapt(x, None, None, batch_size=batch_size, shuffle=False, device=device,
                                    rank=strategy.rank, world_size=strategy.world_size)
        # Distributed: each process predicts its strided shard, then all gather (input order).
        # Fewer samples than processes, or a Dataset (not sharded): every process predicts it all.
        sharded = isinstance(batches, data_module.ArrayBatches) and batches.world_size > 1
        if sharded and batches.num_samples < batches.world_size:
            batches = data_module.adapt(x, None, None, batch_size=batch_size, shuffle=False, device=device)
            sharded = False
        trainer = self._trainer or Trainer(self, None, [], [], [[]], ["output"], device,
                                           precision=getattr(self, "_precision", None), strategy=strategy)
        callback_list = CallbackList(_as_callbacks(callbacks), model=self, steps=len(batches))
        callback_list.on_predict_begin()
        outputs = trainer.predict(batches, callback_list)
        if sharded:
            outputs = strategy.gather_predictions(outputs, batches.num_samples)
        callback_list.on_predict_end()
        if isinstance(outputs, list):
            return [o.numpy() for o in outputs]
        return outputs.numpy()

    # ------------------------------------------------------------------ *_on_batch
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on one batch; returns its loss (and metrics) like ``evaluate``."""
        self._require_compiled("train_on_batch")
        _require_targets(x, y, "train_on_batch")
        if class_weight is not None:
            sample_weight = _class_weights_to_sample_weights(y, class_weight)
        return self._on_batch(x, y, sample_weight, return_dict, training=True)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) of one batch, without a gradient step."""
        self._require_compiled("test_on_batch")
        _require_targets(x, y, "test_on_batch")
        return self._on_batch(x, y, sample_weight, return_dict, training=False)

    def predict_on_batch(self, x):
        """Outputs of one batch as NumPy."""
        n = data_module.num_samples(data_module._convert(x, "x"))
        return self.predict(x, batch_size=max(n, 1), verbose=0)

    def _on_batch(self, x, y, sample_weight, return_dict, training):
        strategy = SingleProcess()
        batches, trainer = self._prepare(x, y, sample_weight, 2**31 - 1, False, strategy)
        self.train(training)
        trainer.reset_state()
        with torch.enable_grad() if training else torch.no_grad():
            for xb, yb, swb in batches.epoch(0):
                (trainer.train_step if training else trainer.test_step)(xb, yb, swb)
        logs = trainer.results()
        if return_dict:
            return logs
        values = [logs[name] for name in trainer.metric_names()]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ introspection
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None) -> None:
        """Print a table of layers (name and type), output shapes and parameter counts."""
        from easynn.models.summary import print_summary

        print_summary(self, line_length=line_length, print_fn=print_fn)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or index."""
        layers = list(getattr(self, "layers", []))
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Index {index} is out of range: the model has {len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if getattr(layer, "name", None) == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: {[getattr(item, 'name', item) for item in layers]}.")

    @property
    def layers(self) -> list:
        """The model's direct sublayers, in the order they were created.

        Layers kept in a list or dict attribute (held in a ``ModuleList`` / ``ModuleDict``) are listed
        themselves, as Keras tracks them, not their container.
        """
        out: list = []
        pending = list(self.children())
        while pending:
            module = pending.pop(0)
            if isinstance(module, (torch.nn.ModuleList, torch.nn.ModuleDict)):
                pending[:0] = list(module.children())
            else:
                out.append(module)
        return out

    # ------------------------------------------------------------------ saving
    def save(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Save architecture, weights and compile state (see ``easynn.saving``).

        Under torchrun, call it on every process: rank 0 writes, then all wait at a barrier, so
        the file is complete when any process goes on (to ``load_weights`` it, say).
        """
        from easynn import distribute, saving

        if distribute.is_main_process():
            saving.save_model(self, filepath, overwrite=overwrite, **kwargs)
        if distribute.is_distributed():
            distribute.barrier()

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights alone (safetensors; no code in the file).

        Under torchrun, call it on every process: rank 0 writes, then all wait at a barrier.
        """
        from easynn import distribute, saving

        if distribute.is_main_process():
            saving.save_weights(self, filepath, overwrite=overwrite)
        if distribute.is_distributed():
            distribute.barrier()

    def load_weights(self, filepath, skip_mismatch: bool = False) -> None:
        """Load weights saved by ``save_weights`` (or ``save``) into this model.

        Every process reads the file itself (onto its own device); files written by ``save`` or
        ``save_weights`` under torchrun are complete by then (those end in a barrier).
        """
        from easynn import saving

        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)


def _first_param_device(model) -> torch.device:
    for param in model.parameters():
        return param.device
    return default_device()
