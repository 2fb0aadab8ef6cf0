"""Integer encodings: ``CategoryEncoding`` (token ids -> one-hot / multi-hot / count vectors) and
``Discretization`` (real values -> bucket ids, with bucket boundaries given or learned by ``adapt``).

Both are Keras 3's preprocessing layers; neither has weights. ``Discretization`` keeps its
boundaries in its config (as Keras does), so a saved model reloads them without ``adapt``.

Example:
    >>> import torch
    >>> CategoryEncoding(num_tokens=4, output_mode="one_hot")(torch.tensor([3, 0]))
    tensor([[0., 0., 0., 1.],
            [1., 0., 0., 0.]])
    >>> Discretization(bin_boundaries=[0.0, 1.0])(torch.tensor([[-0.5, 0.0, 1.5]]))
    tensor([[0, 1, 2]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from easynn import _validation
from easynn.layers._layer_utils import _is_symbolic
from easynn.layers.base import Layer
from easynn.layers.preprocessing.numeric import _batches

__all__ = ["CategoryEncoding", "Discretization"]

_ENCODE_MODES = ("multi_hot", "one_hot", "count")


def _encode(ids: torch.Tensor, depth: int, mode: str, dtype: torch.dtype, sparse: bool,
            count_weights: torch.Tensor | None = None) -> torch.Tensor:
    """``ids`` (integers in ``[0, depth)``) as one-hot / multi-hot / count vectors of length ``depth``.

    ``one_hot``: a trailing axis of size 1 is replaced by the encoding, otherwise one is appended.
    ``multi_hot`` / ``count``: the last axis is reduced (a rank-1 input is one sample).
    """
    ids = ids.long()
    if ids.dim() == 0:
        ids = ids.reshape(1)
    if mode == "one_hot":
        if ids.dim() > 1 and ids.shape[-1] == 1:
            ids = ids.squeeze(-1)
        out = torch.nn.functional.one_hot(ids, depth).to(dtype)
    else:
        out = torch.zeros(*ids.shape[:-1], depth, dtype=dtype, device=ids.device)
        if mode == "multi_hot":
            out.scatter_(-1, ids, torch.ones(ids.shape, dtype=dtype, device=ids.device))
        else:
            weights = torch.ones(ids.shape, dtype=dtype, device=ids.device) if count_weights is None else count_weights.to(dtype)
            out.scatter_add_(-1, ids, weights)
    return out.to_sparse() if sparse else out


def _check_range(layer: Layer, ids: torch.Tensor, depth: int, argument: str) -> None:
    if ids.numel() and not torch.compiler.is_compiling():
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= depth:
            raise ValueError(
                f"Layer '{layer.name}' expects integer inputs in [0, {argument}) = [0, {depth}). "
                f"Received inputs with min={low} and max={high}."
            )


class CategoryEncoding(Layer):
    """Encode integer token ids as fixed-length vectors of ``num_tokens`` entries.

    ``one_hot``: ``out[..., j] = 1 if x == j`` (one vector per id);
    ``multi_hot``: ``out[i, j] = 1 if j occurs in x[i]``;
    ``count``: ``out[i, j] = sum_k [x[i, k] == j] * w[i, k]`` (``w`` = ``count_weights``, default 1).

    Args:
        num_tokens: the number of tokens (ids must lie in ``[0, num_tokens)``). Required.
        output_mode: ``"multi_hot"`` (default), ``"one_hot"`` or ``"count"``.
        sparse: return a torch sparse COO tensor instead of a dense one (default ``False``).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: an integer tensor of token ids.
        count_weights: weights of the same shape as ``inputs``, only with ``output_mode="count"``.

    Shape:
        ``one_hot``: ``(batch,)`` or ``(batch, 1)`` -> ``(batch, num_tokens)``; ``(batch, n)`` ->
        ``(batch, n, num_tokens)``. ``multi_hot`` / ``count``: ``(batch, n)`` -> ``(batch, num_tokens)``.

    Returns:
        A float tensor (``torch.get_default_dtype()``, or the layer's ``dtype``).

    Raises:
        ValueError: for a missing or non-positive ``num_tokens``, an unknown ``output_mode``, ids
            outside ``[0, num_tokens)``, or ``count_weights`` with another output mode.
        TypeError: for a non-bool ``sparse``.

    Example:
        >>> import torch
        >>> layer = CategoryEncoding(num_tokens=4, output_mode="count")
        >>> layer(torch.tensor([[0, 1], [0, 0], [1, 2], [3, 1]]))
        tensor([[1., 1., 0., 0.],
                [2., 0., 0., 0.],
                [0., 1., 1., 0.],
                [0., 1., 0., 1.]])
    """

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot", sparse: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if num_tokens is None:
            raise ValueError("`num_tokens` must be set for a CategoryEncoding layer. Received: num_tokens=None")
        self.num_tokens = _validation.positive_int("num_tokens", num_tokens)
        self.output_mode = _validation.one_of("output_mode", output_mode, _ENCODE_MODES)
        if not isinstance(sparse, bool):
            raise TypeError(f"`sparse` must be a bool. Received: sparse={sparse!r}")
        self.sparse = sparse

    def call(self, inputs, count_weights=None) -> torch.Tensor:
        ids = torch.as_tensor(inputs)
        if ids.is_floating_point():
            ids = ids.round()
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    "`count_weights` is only used when `output_mode='count'`. "
                    f"Received: output_mode={self.output_mode!r} and count_weights given."
                )
            count_weights = torch.as_tensor(count_weights, device=ids.device)
            if count_weights.shape != ids.shape:
                raise ValueError(
                    f"`count_weights` must have the shape of the inputs {tuple(ids.shape)}. "
                    f"Received: count_weights of shape {tuple(count_weights.shape)}."
                )
        _check_range(self, ids, self.num_tokens, "num_tokens")
        dtype = self.dtype if self.dtype is not None and self.dtype.is_floating_point else torch.get_default_dtype()
        return _encode(ids, self.num_tokens, self.output_mode, dtype, self.sparse, count_weights)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if not shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (len(shape) == 1 or shape[-1] != 1):
            return shape + (self.num_tokens,)
        return shape[:-1] + (self.num_tokens,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode, "sparse": self.sparse})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_tokens={self.num_tokens}, output_mode={self.output_mode!r}"


# ---------------------------------------------------------------- Discretization's quantile sketch
# Keras's approximate quantiles: a summary is a (2, n) array of sorted values and their weights
# (how many samples each stands for). Batches are summarised, merged, and compressed to about
# 1/epsilon points; the boundaries are the summary compressed to num_bins quantiles.
def _summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    values = np.sort(np.reshape(values, [-1]))
    increment = values.size * epsilon  # samples per target bucket (1/epsilon buckets)
    step = max(increment, 1)
    picked = values[int(increment)::int(step)]
    return np.stack([picked, np.full_like(picked, step)])


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_fraction = cum_weights / cum_weights[-1]
    new_values = np.interp(percents, cum_fraction, summary[0])
    new_cum = np.interp(percents, cum_fraction, cum_weights)
    new_weights = new_cum - np.concatenate(([0.0], new_cum[:-1]))
    return np.stack([new_values, new_weights]).astype("float32")


def _merge(a: np.ndarray, b: np.ndarray, epsilon: float) -> np.ndarray:
    merged = np.concatenate([a, b], axis=1)
    merged = merged[:, np.argsort(merged[0], kind="stable")]
    return _compress(merged, epsilon)


class Discretization(Layer):
    """Bucket real values by boundaries: ``out = i`` where ``b[i-1] <= x < b[i]`` (``np.digitize``).

    With boundaries ``[b0, ..., bk]`` the buckets are ``(-inf, b0), [b0, b1), ..., [bk, inf)``:
    ``k + 2`` buckets, ids ``0 .. k + 1``. Give ``bin_boundaries``, or ``num_bins`` and call
    ``adapt(data)`` to place the boundaries at approximate quantiles of ``data`` (Keras's sketch,
    accurate to about ``epsilon``).

    Args:
        bin_boundaries: a sorted list of boundaries, or ``None`` to learn them with ``adapt``.
        num_bins: the number of buckets ``adapt`` makes (``num_bins - 1`` boundaries).
        epsilon: the quantile sketch's error tolerance, in ``(0, 1)`` (default ``0.01``).
        output_mode: ``"int"`` (bucket ids, the default), ``"one_hot"``, ``"multi_hot"`` or ``"count"``
            (encoded as ``CategoryEncoding`` does, with ``len(bin_boundaries) + 1`` tokens).
        sparse: return a torch sparse tensor in the encoded modes (default ``False``).
        **kwargs: base layer arguments.

    Shape:
        ``"int"``: any shape -> the same shape (int64). Encoded modes: as ``CategoryEncoding``.

    Raises:
        ValueError: for a negative ``num_bins``, ``num_bins`` disagreeing with ``bin_boundaries``,
            unsorted boundaries, ``epsilon`` outside ``(0, 1)``, an unknown ``output_mode``,
            ``adapt`` on a layer built from ``bin_boundaries``, or a call with no boundaries.

    Example:
        >>> import torch
        >>> layer = Discretization(num_bins=4, epsilon=0.01)
        >>> data = torch.tensor([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
        >>> layer.adapt(data)
        >>> layer(data)  # Keras's documented result
        tensor([[0, 2, 3, 2],
                [1, 3, 3, 1]])
    """

    def __init__(self, bin_boundaries: list[float] | None = None, num_bins: int | None = None,
                 epsilon: float = 0.01, output_mode: str = "int", sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if num_bins is not None:
            num_bins = _validation.non_negative_int("num_bins", num_bins)
        if bin_boundaries is not None:
            try:
                bin_boundaries = [float(b) for b in np.asarray(bin_boundaries, dtype=np.float64).reshape(-1)]
            except (TypeError, ValueError):
                raise TypeError(f"`bin_boundaries` must be a list of numbers. Received: bin_boundaries={bin_boundaries!r}") from None
            if any(b2 < b1 for b1, b2 in zip(bin_boundaries, bin_boundaries[1:])):
                raise ValueError(f"`bin_boundaries` must be sorted in increasing order. Received: bin_boundaries={bin_boundaries}")
            if num_bins is not None and len(bin_boundaries) != num_bins - 1:
                raise ValueError(
                    "`num_bins` must be len(bin_boundaries) + 1 when both are given (or pass only one). "
                    f"Received: num_bins={num_bins} and {len(bin_boundaries)} bin_boundaries."
                )
        epsilon = _validation.positive_float("epsilon", epsilon)
        if epsilon >= 1:
            raise ValueError(f"`epsilon` must be in (0, 1). Received: epsilon={epsilon!r}")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = _validation.one_of("output_mode", output_mode, ("int",) + _ENCODE_MODES)
        if not isinstance(sparse, bool):
            raise TypeError(f"`sparse` must be a bool. Received: sparse={sparse!r}")
        self.sparse = sparse
        self._summary = None
        self._from_boundaries = bin_boundaries is not None and num_bins is None
        self._checking_symbolically = False

    # ---------------------------------------------------------------- adapt
    def reset_state(self) -> None:
        """Forget the data seen by ``update_state``."""
        self._summary = np.zeros((2, 0), dtype="float32")

    def update_state(self, data: Any) -> None:
        """Add one batch of values to the quantile sketch."""
        values = np.asarray(data.detach().cpu() if isinstance(data, torch.Tensor) else data, dtype="float32")
        if self._summary is None:
            self.reset_state()
        self._summary = _merge(_summarize(values, self.epsilon), self._summary, self.epsilon)

    def finalize_state(self) -> None:
        """Set ``bin_boundaries`` to the sketch's ``num_bins`` quantiles."""
        if self._summary is None or self._summary.shape[1] == 0:
            raise ValueError(f"Layer '{self.name}' (Discretization): adapt() received no data.")
        boundaries = _compress(self._summary, 1.0 / self.num_bins)[0, :-1]
        self.bin_boundaries = [float(b) for b in boundaries]

    def adapt(self, data: Any, batch_size: int = 256, steps: int | None = None) -> None:
        """Learn ``num_bins - 1`` boundaries at approximate quantiles of ``data``.

        Args:
            data: an array, a tensor, a torch ``Dataset``/``DataLoader`` or an iterable of batches.
            batch_size: batch size used to read a ``Dataset``.
            steps: read at most this many batches.

        Raises:
            ValueError: if the layer was built from ``bin_boundaries`` (no ``num_bins``), or
                ``data`` is empty.
        """
        if self.num_bins is None:
            raise ValueError(
                f"Layer '{self.name}' was built with `bin_boundaries` and cannot adapt(). "
                "Create it with `num_bins=...` instead."
            )
        self.reset_state()
        for step, batch in enumerate(_batches(data, batch_size)):
            if steps is not None and step >= steps:
                break
            self.update_state(batch)
        self.finalize_state()

    # ---------------------------------------------------------------- calling
    def __call__(self, *args, **kwargs):
        if args and _is_symbolic(args[0]):  # a functional model may be written before adapt()
            self._checking_symbolically = True
            try:
                return super().__call__(*args, **kwargs)
            finally:
                self._checking_symbolically = False
        return super().__call__(*args, **kwargs)

    def call(self, inputs) -> torch.Tensor:
        x = torch.as_tensor(inputs)
        boundaries = self.bin_boundaries
        if boundaries is None:
            if not self._checking_symbolically:
                raise ValueError(
                    f"Layer '{self.name}' (Discretization) has no bin boundaries. Pass `bin_boundaries` "
                    "when creating it, or create it with `num_bins` and call adapt(data) first."
                )
            boundaries = [0.0] * max((self.num_bins or 1) - 1, 0)
        dtype = x.dtype if x.is_floating_point() else torch.float64
        table = torch.as_tensor(boundaries, dtype=dtype, device=x.device)
        ids = torch.bucketize(x.to(dtype), table, right=True)  # b[i-1] <= x < b[i], as np.digitize
        if self.output_mode == "int":
            return ids
        out_dtype = self.dtype if self.dtype is not None and self.dtype.is_floating_point else torch.get_default_dtype()
        return _encode(ids, len(boundaries) + 1, self.output_mode, out_dtype, self.sparse)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        if self.output_mode == "one_hot" and (len(shape) <= 1 or shape[-1] != 1):
            return shape + (depth,)
        return shape[:-1] + (depth,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "bin_boundaries": None if self.bin_boundaries is None else list(self.bin_boundaries),
                "num_bins": self.num_bins,
                "epsilon": self.epsilon,
                "output_mode": self.output_mode,
                "sparse": self.sparse,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, bin_boundaries={self.bin_boundaries}, output_mode={self.output_mode!r}"
