"""Data-parallel training: the same script on N processes, launched by ``torchrun``.

Launch a script unchanged with ``torchrun --nproc_per_node=2 train.py`` and ``fit`` trains one
model replica per process with ``DistributedDataParallel`` (DDP). Run it with ``python train.py``
and nothing changes: ``current_strategy()`` is then the single-process strategy.

Who owns what:
    * this module: detecting a launcher, the process group (created once, destroyed at exit if
      easynn created it), each process's device, the DDP wrapper and the few collectives the
      training loop needs, bundled as a *strategy* (``DataParallel``);
    * ``training/data.py``: each process's shard of an epoch, ``perm[rank::world_size]`` of one
      permutation drawn from a seed shared by every process;
    * ``training/loop.py``: runs epochs on the wrapped model and all-reduces the epoch's sums;
    * ``models/model.py``: asks ``current_strategy()`` in compile/fit/evaluate/predict, shares
      rank 0's shuffle seed, gathers predictions, and saves on rank 0 only.

Semantics:
    * ``batch_size`` is **per process** (as in Lightning and accelerate): N processes with
      ``batch_size=B`` take optimisation steps on global batches of ``N * B`` samples. Because the
      shards are strided, step ``k`` of the N processes together covers exactly samples
      ``k*N*B .. (k+1)*N*B - 1`` of the shared permutation: the same global batch a single process
      with ``batch_size=N*B`` would use. DDP averages the processes' mean gradients, which equals
      the global mean whenever the local batches have equal sizes.
    * Uneven data: every sample is used exactly once per epoch and no sample is repeated. When the
      last global batch would leave some process without a sample, its few samples are folded into
      the previous step, so every process runs the same number of steps (and every optimizer sees
      the same updates). ``DDP.join()`` is still entered as a safety net for data that cannot be
      balanced (fewer samples than processes, or a user DataLoader).
    * Reported numbers are global: epoch loss and metrics are all-reduced as sums of per-sample
      totals and counts (not a mean of means); validation and ``evaluate`` shard without padding.
      ``predict`` returns every output, in input order, on every process. The live numbers a
      progress bar shows *during* an epoch are rank 0's; the end-of-epoch numbers are global.
    * Rank 0 alone prints and writes files; ``model.save``/``save_weights`` are collective calls
      (call them on every process: rank 0 writes, then all meet at a barrier).

Example:
    >>> from easynn import distribute
    >>> distribute.world_size(), distribute.rank(), distribute.is_main_process()  # plain python
    (1, 0, True)
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from easynn.training.strategy import SINGLE_PROCESS, SingleProcess

__all__ = [
    "DataParallel", "SingleProcess", "barrier", "current_strategy", "init", "is_distributed", "is_main_process",
    "local_rank", "rank", "world_size",
]

_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
_STATE: dict = {"strategy": None, "owns_group": False, "atexit": False, "find_unused_parameters": False}


def _env_int(name: str, default: int | None = None) -> int | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Environment variable {name} must be an integer. Received: {name}={value!r}") from None


def _launched() -> bool:
    """True when a launcher (torchrun, SLURM scripts...) asked for more than one process."""
    return all(os.environ.get(name) for name in _ENV) and (_env_int("WORLD_SIZE", 1) or 1) > 1


def _local_rank() -> int:
    local = _env_int("LOCAL_RANK")
    if local is not None:
        return local
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return (_env_int("RANK", 0) or 0) % max(count, 1)


def is_distributed() -> bool:
    """True when this process is one of several (a process group exists or a launcher set one up)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size() > 1
    return _launched()


def rank() -> int:
    """This process's global rank: 0 .. world_size() - 1 (0 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return _env_int("RANK", 0) if _launched() else 0


def world_size() -> int:
    """How many processes train together (1 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return _env_int("WORLD_SIZE", 1) if _launched() else 1


def local_rank() -> int:
    """This process's rank on its machine (its GPU index); 0 when not distributed."""
    return _local_rank() if is_distributed() else 0


def is_main_process() -> bool:
    """True on rank 0, the process that prints and writes files (and always when not distributed).

    Example:
        >>> from easynn import distribute
        >>> distribute.is_main_process()
        True
    """
    return rank() == 0


def barrier() -> None:
    """Wait until every process gets here; does nothing when not distributed.

    Use it after rank 0 writes a file that other processes read next.
    """
    strategy = current_strategy()
    strategy.barrier()


def init(backend: str | None = None, timeout: float | None = None, find_unused_parameters: bool = False):
    """Join the process group a launcher described; returns the current strategy.

    ``fit``/``compile`` call this on their own under torchrun; call it yourself to choose the
    backend or to create the group before building the model. Under a plain ``python script.py``
    (no ``RANK``/``WORLD_SIZE``/``MASTER_ADDR``/``MASTER_PORT`` describing 2+ processes) it
    returns the single-process strategy and creates nothing. Calling it again is harmless.

    Args:
        backend: ``"nccl"``, ``"gloo"`` or another torch.distributed backend; ``None`` picks
            ``"nccl"`` when CUDA is available, else ``"gloo"``.
        timeout: seconds a collective may wait before failing (torch's default when ``None``).
        find_unused_parameters: passed to ``DistributedDataParallel``; set it for models whose
            forward pass leaves some trainable weights unused.

    Returns:
        A ``DataParallel`` strategy, or ``SingleProcess()`` when not launched distributed.

    Raises:
        TypeError: if ``backend`` is not a string or ``None``.
        ValueError: if ``backend="nccl"`` is requested without CUDA, or ``timeout`` is not positive.
    """
    if backend is not None and not isinstance(backend, str):
        raise TypeError(f"`backend` must be a string such as 'nccl' or 'gloo', or None. Received: backend={backend!r}")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"`timeout` must be a positive number of seconds or None. Received: timeout={timeout!r}")
    _STATE["find_unused_parameters"] = bool(find_unused_parameters)
    if not dist.is_available():
        return SINGLE_PROCESS
    if not dist.is_initialized():
        if not _launched():
            return SINGLE_PROCESS
        cuda = torch.cuda.is_available()
        if backend is None:
            backend = "nccl" if cuda else "gloo"
        if "nccl" in backend and not cuda:
            raise ValueError(f"backend={backend!r} needs CUDA, which is not available here. Use backend='gloo'.")
        local = _local_rank()
        if cuda and "nccl" in backend:
            torch.cuda.set_device(local)
        kwargs = {} if timeout is None else {"timeout": datetime.timedelta(seconds=timeout)}
        dist.init_process_group(backend=backend, init_method="env://", **kwargs)
        _STATE["owns_group"] = True
        if not _STATE["atexit"]:
            atexit.register(_shutdown)
            _STATE["atexit"] = True
            _watch_for_crash()
    _STATE["strategy"] = None
    return current_strategy()


def _watch_for_crash() -> None:
    """Remember an uncaught exception, so that exiting does not wait for the other processes."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        _STATE["crashed"] = True
        previous(exc_type, exc, tb)

    sys.excepthook = hook


def _shutdown() -> None:
    if _STATE["owns_group"] and dist.is_available() and dist.is_initialized():
        if not _STATE.get("crashed"):
            # Tearing a group down while another process is still in its last collective (or
            # still talking to rank 0's store) can abort that process; meet first. After a crash
            # we do not wait: torchrun stops the others.
            try:
                dist.barrier()
            except Exception:  # noqa: BLE001 - a peer already gone: nothing left to wait for
                pass
        dist.destroy_process_group()
    _STATE["owns_group"] = False
    _STATE["strategy"] = None


def current_strategy():
    """The strategy fit/evaluate/predict use now.

    ``DataParallel`` when a process group of 2+ processes exists (creating it first when a
    launcher such as torchrun set the environment up), else ``SingleProcess()``.
    """
    if not dist.is_available():
        return SINGLE_PROCESS
    if not dist.is_initialized():
        if not _launched():
            return SINGLE_PROCESS
        return init()
    if dist.get_world_size() <= 1:
        return SINGLE_PROCESS
    strategy = _STATE["strategy"]
    if strategy is None:
        strategy = DataParallel(find_unused_parameters=_STATE["find_unused_parameters"])
        _STATE["strategy"] = strategy
    return strategy


class _ReplicaModule(DistributedDataParallel):
    """DDP for training steps; without gradients (validation, evaluate) it runs the plain model.

    A no-grad forward needs no gradient sync, and skipping DDP there also skips its per-forward
    buffer broadcast, a collective that would hang when processes run different numbers of
    validation batches (validation shards are uneven by design: no padding).
    """

    def forward(self, *args, **kwargs):
        if not torch.is_grad_enabled():
            return self.module(*args, **kwargs)
        return super().forward(*args, **kwargs)


class DataParallel:
    """The multi-process strategy: the same methods as ``SingleProcess``, backed by collectives.

    Created by ``current_strategy()``; one per process group.

    Attributes:
        rank, world_size, local_rank: this process's place in the group.
        is_main: ``rank == 0``.
        device: ``cuda:LOCAL_RANK`` with the nccl backend, else the CPU.
    """

    def __init__(self, find_unused_parameters: bool = False):
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.local_rank = _local_rank()
        self.is_main = self.rank == 0
        self.backend = str(dist.get_backend())
        if torch.cuda.is_available() and "nccl" in self.backend:
            self.device = torch.device("cuda", self.local_rank)
        else:
            self.device = torch.device("cpu")
        self.find_unused_parameters = find_unused_parameters

    def __repr__(self) -> str:
        return f"DataParallel(rank={self.rank}, world_size={self.world_size}, device={self.device}, backend={self.backend!r})"

    # -- the model
    def wrap(self, model):
        """``DistributedDataParallel(model)``; DDP's constructor copies rank 0's weights everywhere.

        The model must already be built (``fit`` builds it on a first batch). A model without
        trainable weights is returned as is: there are no gradients to synchronise.
        """
        if not any(p.requires_grad for p in model.parameters()):
            return model
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return _ReplicaModule(model, device_ids=device_ids, find_unused_parameters=self.find_unused_parameters)

    def join(self, model):
        """DDP's uneven-input context: a process that runs out of batches early shadows the others."""
        if isinstance(model, DistributedDataParallel):
            from torch.distributed.algorithms import Join

            # Divide by the processes still training, so a step some processes sit out is a
            # mean over the samples actually present.
            return Join([model], divide_by_initial_world_size=False)
        return contextlib.nullcontext()

    # -- collectives
    def _comm(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.to(self.device) if self.device.type == "cuda" else tensor.cpu()

    def reduce_sum(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """Element-wise sums over processes (in float64, one all-reduce for the whole list)."""
        if not tensors:
            return []
        flat = torch.cat([self._comm(t.detach()).reshape(-1).to(torch.float64) for t in tensors])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        out, offset = [], 0
        for t in tensors:
            n = t.numel()
            out.append(flat[offset:offset + n].reshape(t.shape).to(t.device))
            offset += n
        return out

    def barrier(self) -> None:
        if self.device.type == "cuda":
            dist.barrier(device_ids=[self.device.index])
        else:
            dist.barrier()

    def agree(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every process (e.g. ``stop_training``)."""
        tensor = self._comm(torch.tensor([1 if flag else 0], dtype=torch.int64))
        dist.broadcast(tensor, src=0)
        return bool(tensor.item())

    def shared_seed(self, seed: int) -> int:
        """Rank 0's ``seed`` on every process, so all shuffle with the same permutation."""
        tensor = self._comm(torch.tensor([int(seed)], dtype=torch.int64))
        dist.broadcast(tensor, src=0)
        return int(tensor.item())

    def gather_predictions(self, outputs, num_samples: int):
        """Reassemble strided shards (``x[rank::world_size]`` on each process) in input order.

        Args:
            outputs: this process's outputs (a CPU tensor, or a list of them for several outputs).
            num_samples: how many samples the whole input has.

        Returns:
            The full outputs, in input order, on every process.
        """
        if isinstance(outputs, (list, tuple)):
            return [self._gather_one(o, num_samples) for o in outputs]
        return self._gather_one(outputs, num_samples)

    def _gather_one(self, local: torch.Tensor, num_samples: int) -> torch.Tensor:
        ws = self.world_size
        sizes = [len(range(r, num_samples, ws)) for r in range(ws)]
        if local.shape[0] != sizes[self.rank]:
            raise RuntimeError(
                f"Process {self.rank} predicted {local.shape[0]} samples but its shard has {sizes[self.rank]}."
            )
        padded = local.new_zeros((sizes[0],) + tuple(local.shape[1:]))
        padded[: local.shape[0]] = local
        padded = self._comm(padded)
        parts = [torch.empty_like(padded) for _ in range(ws)]
        dist.all_gather(parts, padded)
        full = local.new_empty((num_samples,) + tuple(local.shape[1:]))
        for r, (part, size) in enumerate(zip(parts, sizes)):
            full[r::ws] = part[:size].to(full.device)
        return full
