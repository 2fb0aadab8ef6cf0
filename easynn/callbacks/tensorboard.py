"""``TensorBoard``: Keras's callback, written with ``torch.utils.tensorboard``.

Needs the ``tensorboard`` package (``pip install tensorboard``; it is an optional extra). Files go
where Keras puts them, so ``tensorboard --logdir logs`` shows the same runs:

* ``<log_dir>/train``: ``epoch_loss``, ``epoch_<metric>``, ``epoch_learning_rate`` (and
  ``epoch_steps_per_second``) per epoch; ``batch_loss``, ``batch_<metric>`` every
  ``update_freq`` batches; weight histograms every ``histogram_freq`` epochs; the model graph;
* ``<log_dir>/validation``: ``epoch_loss``, ``epoch_<metric>`` of the ``val_*`` logs.

Under torchrun only rank 0 writes.
"""

from __future__ import annotations

import os
import time
import warnings

import torch

from easynn.callbacks.base import Callback

__all__ = ["TensorBoard"]


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError(
            "The TensorBoard callback needs the `tensorboard` package, which is not installed. "
            "Install it with `pip install tensorboard`."
        ) from error
    return SummaryWriter


class TensorBoard(Callback):
    """Log scalars, histograms and the graph for TensorBoard, as ``keras.callbacks.TensorBoard``.

    Args:
        log_dir: folder of the run; ``train`` and ``validation`` sub-folders are written in it.
        histogram_freq: write a histogram of every weight every this many epochs (0: never).
        write_graph: write the model graph (traced by ``torch.jit.trace`` on a zero input of the
            shape the model was built with; skipped with a warning where torch cannot trace it).
        write_images: accepted for Keras compatibility; must be ``False`` (not supported).
        write_steps_per_second: also log ``steps_per_second`` per epoch.
        update_freq: ``"epoch"``, ``"batch"`` (every batch) or an integer N (every N batches) for
            the ``batch_*`` scalars. Reading batch logs syncs with the device, so a large N costs
            least.
        profile_batch: accepted for Keras compatibility; must be 0 (profiling is not supported).
        embeddings_freq: accepted for Keras compatibility; must be 0.
        embeddings_metadata: accepted for Keras compatibility; ignored.

    Raises:
        ValueError: for a bad ``update_freq`` or ``histogram_freq``, or an unsupported option.
        ImportError: at the start of training when ``tensorboard`` is not installed.

    Example:
        >>> callback = TensorBoard(log_dir="logs", histogram_freq=1)
        >>> callback.update_freq
        'epoch'
    """

    def __init__(self, log_dir="logs", histogram_freq: int = 0, write_graph: bool = True, write_images: bool = False,
                 write_steps_per_second: bool = False, update_freq="epoch", profile_batch=0, embeddings_freq: int = 0,
                 embeddings_metadata=None):
        super().__init__()
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"`histogram_freq` must be a non-negative integer. Received: histogram_freq={histogram_freq!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(
                f"`update_freq` must be 'epoch', 'batch' or a positive integer. Received: update_freq={update_freq!r}")
        for name, value in (("write_images", write_images), ("profile_batch", profile_batch),
                            ("embeddings_freq", embeddings_freq)):
            if value:
                raise ValueError(f"`{name}` is not supported by easynn's TensorBoard callback yet. "
                                 f"Received: {name}={value!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self._writers: dict = {}
        self._train_step = 0
        self._epoch_start = 0.0
        self._epoch_steps = 0

    # ------------------------------------------------------------------ writers
    def _writer(self, name: str):
        if name not in self._writers:
            writer_class = _summary_writer_class()
            self._writers[name] = writer_class(log_dir=os.path.join(self.log_dir, name))
        return self._writers[name]

    def _active(self) -> bool:
        from easynn import distribute

        return distribute.is_main_process()

    def _implements(self, hook: str) -> bool:  # batch logs are read only when asked for
        if hook == "on_train_batch_end":
            return True
        return super()._implements(hook)

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        if not self._active():
            return
        self._train_step = 0
        writer = self._writer("train")
        if self.write_graph:
            self._write_graph(writer)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self._train_step += 1
        self._epoch_steps += 1
        if self.update_freq == "epoch" or logs is None or self._train_step % self.update_freq or not self._active():
            return
        writer = self._writer("train")
        for key, value in dict(logs).items():  # reading the lazy logs: one device sync
            if "/" not in key and _is_number(value):
                writer.add_scalar(f"batch_{key}", float(value), self._train_step)

    def on_epoch_end(self, epoch, logs=None):
        if not self._active():
            return
        logs = dict(logs or {})
        train = self._writer("train")
        for key, value in logs.items():
            if key.startswith("val_") or "/" in key or not _is_number(value):
                continue
            train.add_scalar(f"epoch_{key}", float(value), epoch)
        learning_rate = self._learning_rate()
        if learning_rate is not None and "learning_rate" not in logs:
            train.add_scalar("epoch_learning_rate", learning_rate, epoch)
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._epoch_start
            train.add_scalar("epoch_steps_per_second", self._epoch_steps / elapsed if elapsed > 0 else 0.0, epoch)
        validation = {key[4:]: value for key, value in logs.items() if key.startswith("val_") and _is_number(value)}
        if validation:
            writer = self._writer("validation")
            for key, value in validation.items():
                writer.add_scalar(f"epoch_{key}", float(value), epoch)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            self._write_histograms(train, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # ------------------------------------------------------------------ pieces
    def _learning_rate(self) -> float | None:
        optimizer = getattr(self.model, "optimizer", None)
        try:
            value = getattr(optimizer, "learning_rate", None)
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    def _write_histograms(self, writer, epoch: int) -> None:
        for layer in getattr(self.model, "layers", []):
            layer_name = getattr(layer, "name", type(layer).__name__)
            for param_name, tensor in list(layer.named_parameters()) + list(layer.named_buffers()):
                if not tensor.is_floating_point() or tensor.numel() == 0:
                    continue
                writer.add_histogram(f"{layer_name}/{param_name.replace('.', '/')}",
                                     tensor.detach().float().cpu(), epoch)

    def _write_graph(self, writer) -> None:
        shape = getattr(self.model, "_build_input_shape", None)
        if not isinstance(shape, (tuple, list, torch.Size)) or not shape or not all(
                isinstance(s, int) or s is None for s in shape):
            return
        try:
            device = next(self.model.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
        example = torch.zeros((1,) + tuple(s or 1 for s in shape[1:]), device=device)
        was_training = self.model.training
        self.model.eval()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer warnings about Python control flow
                writer.add_graph(self.model, example)
        except Exception as error:  # torch cannot trace every model (dict inputs, data-dependent flow)
            warnings.warn(f"TensorBoard: the model graph was not written (torch.jit.trace failed: {error}).",
                          RuntimeWarning, stacklevel=2)
        finally:
            self.model.train(was_training)
            clear = getattr(self.model, "_clear_losses", None)
            if callable(clear):
                clear()


def _is_number(value) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
