"""Random tensors with Keras 3's ``keras.random`` names and seed semantics, on torch generators.

The ``seed`` argument of every function means what it means in Keras:

    * an ``int``: a fixed draw: the same seed gives the same values, call after call;
    * a ``SeedGenerator``: a reproducible *sequence*: each call advances the generator's state,
      so two calls differ, and a generator made with the same seed replays the same sequence;
    * ``None``: draws from the global ``SeedGenerator``, which ``easynn.utils.set_random_seed``
      reseeds (so a seeded script is reproducible end to end).

A ``SeedGenerator`` is a small ``torch.nn.Module`` whose state (``[seed, counter]``, int64) is a
buffer: stored as an attribute of a layer, it is saved and restored with the layer's
``state_dict`` and moved with ``.to(device)``.

Example:
    >>> from easynn import random
    >>> a = random.normal((2, 3), seed=1)
    >>> bool((a == random.normal((2, 3), seed=1)).all())
    True
    >>> gen = random.SeedGenerator(42)
    >>> bool((random.uniform((3,), seed=gen) == random.uniform((3,), seed=gen)).all())
    False
"""

from __future__ import annotations

import random as _py_random
from typing import Any

import numpy as np
import torch
from torch import nn

from easynn import _validation
from easynn.variables import _as_dtype as to_torch_dtype

__all__ = [
    "SeedGenerator", "normal", "uniform", "truncated_normal", "randint", "categorical", "dropout", "shuffle",
    "gamma", "binomial", "beta", "global_seed_generator",
]

_MIX = 0x9E3779B97F4A7C15  # an odd 64-bit constant: spreads (seed, counter) over the generator's seeds
_MASK = (1 << 63) - 1


class SeedGenerator(nn.Module):
    """A reproducible stream of seeds: pass it as ``seed=`` to ``easynn.random`` functions.

    Args:
        seed: the initial seed (int). ``None`` draws one from Python's ``random``, which
            ``easynn.utils.set_random_seed`` seeds.
        name: a name, for Keras compatibility.

    Raises:
        ValueError: if ``seed`` is not a non-negative integer.

    Example:
        >>> g1, g2 = SeedGenerator(7), SeedGenerator(7)
        >>> [g1.next() == g2.next() for _ in range(2)]
        [True, True]
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        super().__init__()
        if seed is None:
            seed = _py_random.randint(1, 2**31 - 1)
        seed = _validation.non_negative_int("seed", seed)
        self.name = name or "seed_generator"
        self.initial_seed = seed
        self.register_buffer("state", torch.tensor([seed, 0], dtype=torch.int64))

    def next(self, ordered: bool = True) -> int:
        """An int seed derived from the state; advances the state by one."""
        seed, counter = self.state.tolist()
        with torch.no_grad():
            self.state[1] += 1
        return ((seed + 1) * _MIX + counter * 0x632BE59BD9B4E019) & _MASK

    def reseed(self, seed: int) -> None:
        """Restart the stream from ``seed`` (what ``set_random_seed`` does to the global one)."""
        seed = _validation.non_negative_int("seed", seed)
        self.initial_seed = seed
        with torch.no_grad():
            self.state.copy_(torch.tensor([seed, 0], dtype=torch.int64))

    def get_config(self) -> dict:
        return {"seed": self.initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "SeedGenerator":
        return cls(**config)

    def extra_repr(self) -> str:
        return f"seed={self.initial_seed}"


_GLOBAL: SeedGenerator | None = None


def global_seed_generator() -> SeedGenerator:
    """The generator used when ``seed=None`` (created on first use)."""
    global _GLOBAL
    if _GLOBAL is None:
        _GLOBAL = SeedGenerator()
    return _GLOBAL


def _reseed_global(seed: int) -> None:
    """Called by ``easynn.utils.set_random_seed``. The first time, the global generator is made
    from ``seed`` directly: made unseeded it would draw its seed from Python's ``random``, which
    ``set_random_seed`` has just seeded, and shift that sequence."""
    global _GLOBAL
    if _GLOBAL is None:
        _GLOBAL = SeedGenerator(seed)
    else:
        _GLOBAL.reseed(seed)


def _generator(seed: Any, device: Any = None) -> torch.Generator:
    if isinstance(seed, SeedGenerator):
        value = seed.next()
    elif seed is None:
        value = global_seed_generator().next()
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        value = int(seed) & _MASK
    elif isinstance(seed, torch.Tensor) and seed.numel() <= 2 and not seed.is_floating_point():
        value = int(seed.reshape(-1)[0])
    else:
        raise ValueError(
            f"`seed` must be None, an integer or an easynn.random.SeedGenerator. Received: seed={seed!r}"
        )
    device = torch.device(device) if device is not None else torch.empty(0).device
    generator = torch.Generator(device=device)
    generator.manual_seed(value)
    return generator


def _tensor(x: Any) -> torch.Tensor:
    # easynn.ops sits beside this module (no imports between them): a small local conversion.
    if isinstance(x, torch.Tensor):
        return x
    array = np.asarray(x)
    if array.dtype == np.float64 and not isinstance(x, np.ndarray):
        array = array.astype(np.float32)
    return torch.as_tensor(array)


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        out = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        out = None
    if out is None or any(s < 0 for s in out):
        raise ValueError(f"`shape` must be a tuple of non-negative integers. Received: shape={shape!r}")
    return out


def _float_dtype(dtype: Any) -> torch.dtype:
    result = to_torch_dtype(dtype) if dtype is not None else torch.get_default_dtype()
    if not result.is_floating_point:
        raise ValueError(f"`dtype` must be a floating type for this distribution. Received: dtype={dtype!r}")
    return result


def normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples of a normal distribution: ``mean + stddev * N(0, 1)``.

    Args:
        shape: the output shape.
        mean: the mean.
        stddev: the standard deviation.
        dtype: a float dtype (``floatx()`` by default).
        seed: an int, a ``SeedGenerator`` or ``None`` (see the module docstring).

    Returns:
        A tensor of ``shape``.

    Example:
        >>> normal((2,), seed=0).shape
        torch.Size([2])
    """
    dtype = _float_dtype(dtype)
    out = torch.randn(_shape(shape), dtype=dtype, generator=_generator(seed))
    return out * stddev + mean


def uniform(shape, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples of the uniform distribution on ``[minval, maxval)``.

    Example:
        >>> bool(((u := uniform((100,), 2.0, 3.0, seed=0)) >= 2).all() and (u < 3).all())
        True
    """
    target = to_torch_dtype(dtype) if dtype is not None else torch.get_default_dtype()
    if not target.is_floating_point:  # Keras allows integer dtypes here: floor of a float draw
        return randint(shape, minval, maxval, dtype=dtype, seed=seed)
    out = torch.rand(_shape(shape), dtype=target, generator=_generator(seed))
    return out * (maxval - minval) + minval


def truncated_normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Normal samples with values more than two standard deviations from the mean redrawn.

    Example:
        >>> bool((truncated_normal((1000,), seed=0).abs() <= 2).all())
        True
    """
    dtype = _float_dtype(dtype)
    out = torch.empty(_shape(shape), dtype=dtype)
    torch.nn.init.trunc_normal_(out, 0.0, 1.0, -2.0, 2.0, generator=_generator(seed))
    return out * stddev + mean


def randint(shape, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> torch.Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``.

    Raises:
        ValueError: if ``maxval <= minval``.

    Example:
        >>> r = randint((50,), 3, 5, seed=0)
        >>> r.dtype, sorted(set(r.tolist()))
        (torch.int32, [3, 4])
    """
    if int(maxval) <= int(minval):
        raise ValueError(f"randint() needs minval < maxval. Received: minval={minval}, maxval={maxval}")
    return torch.randint(int(minval), int(maxval), _shape(shape), generator=_generator(seed)).to(to_torch_dtype(dtype))


def categorical(logits, num_samples: int, dtype: Any = "int32", seed: Any = None) -> torch.Tensor:
    """Draw class indices from unnormalised log-probabilities.

    Args:
        logits: ``(batch, num_classes)`` log-probabilities (unnormalised).
        num_samples: samples per row.

    Returns:
        ``(batch, num_samples)`` indices.

    Raises:
        ValueError: if ``logits`` is not 2-D.

    Example:
        >>> categorical(torch.tensor([[0.0, -1e9]]), 3, seed=0).tolist()
        [[0, 0, 0]]
    """
    logits = _tensor(logits)
    if logits.dim() != 2:
        raise ValueError(f"categorical(): `logits` must be 2-D (batch, num_classes). Received shape {tuple(logits.shape)}")
    num_samples = _validation.positive_int("num_samples", num_samples)
    probs = torch.softmax(logits.float(), dim=-1)
    out = torch.multinomial(probs, num_samples, replacement=True, generator=_generator(seed, logits.device))
    return out.to(to_torch_dtype(dtype))


def dropout(inputs, rate: float, noise_shape: Any = None, seed: Any = None) -> torch.Tensor:
    """Zero each entry with probability ``rate`` and scale the others by ``1 / (1 - rate)``.

    Args:
        inputs: the tensor.
        rate: the drop probability, in ``[0, 1)``.
        noise_shape: the shape of the keep mask, broadcast to ``inputs`` (``None``: inputs' shape).
        seed: as in the module docstring.

    Example:
        >>> out = dropout(torch.ones(1000), 0.5, seed=0)
        >>> sorted(set(out.tolist()))
        [0.0, 2.0]
    """
    inputs = _tensor(inputs)
    rate = _validation.probability("rate", rate)
    if rate == 0:
        return inputs
    shape = tuple(inputs.shape) if noise_shape is None else tuple(
        inputs.shape[i] if s is None else int(s) for i, s in enumerate(noise_shape))
    keep = torch.rand(shape, generator=_generator(seed, inputs.device), device=inputs.device) >= rate
    return inputs * keep.to(inputs.dtype) / (1.0 - rate)


def shuffle(x, axis: int = 0, seed: Any = None) -> torch.Tensor:
    """``x`` with its entries along ``axis`` in a random order.

    Example:
        >>> sorted(shuffle(torch.arange(5), seed=0).tolist())
        [0, 1, 2, 3, 4]
    """
    x = _tensor(x)
    order = torch.randperm(x.shape[axis], generator=_generator(seed, x.device), device=x.device)
    return x.index_select(axis, order)


def gamma(shape, alpha, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples of the Gamma distribution with concentration ``alpha`` (scale 1).

    Example:
        >>> gamma((3,), 2.0, seed=0).shape
        torch.Size([3])
    """
    dtype = _float_dtype(dtype)
    concentration = torch.as_tensor(alpha, dtype=dtype).expand(_shape(shape))
    return torch._standard_gamma(concentration.contiguous(), generator=_generator(seed))


def binomial(shape, counts, probabilities, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples of the Binomial distribution: successes in ``counts`` trials of probability ``probabilities``.

    Example:
        >>> binomial((4,), 10.0, 1.0, seed=0).tolist()
        [10.0, 10.0, 10.0, 10.0]
    """
    dtype = _float_dtype(dtype)
    shape = _shape(shape)
    count = torch.as_tensor(counts, dtype=dtype).expand(shape).contiguous()
    prob = torch.as_tensor(probabilities, dtype=dtype).expand(shape).contiguous()
    return torch.binomial(count, prob, generator=_generator(seed))


def beta(shape, alpha, beta, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples of the Beta distribution, as ``X / (X + Y)`` for Gamma samples ``X`` (``alpha``), ``Y`` (``beta``).

    Example:
        >>> b = beta((100,), 2.0, 3.0, seed=0)
        >>> bool(((b > 0) & (b < 1)).all())
        True
    """
    dtype = _float_dtype(dtype)
    shape = _shape(shape)
    generator = _generator(seed)
    a = torch._standard_gamma(torch.as_tensor(alpha, dtype=dtype).expand(shape).contiguous(), generator=generator)
    b = torch._standard_gamma(torch.as_tensor(beta, dtype=dtype).expand(shape).contiguous(), generator=generator)
    return a / (a + b)
