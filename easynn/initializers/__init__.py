"""Weight initializers with Keras's names and fan conventions.

Keras lays a Dense kernel out as ``(in, out)`` and a convolution kernel as
``(*spatial, in, out)``, so ``fan_in = shape[-2] * prod(spatial)`` and
``fan_out = shape[-1] * prod(spatial)``. Every initializer is a callable
``init(shape, dtype=None, device=None) -> torch.Tensor``.

Example:
    >>> w = get("glorot_uniform")((784, 256))
    >>> tuple(w.shape), bool(w.abs().max() <= (6 / (784 + 256)) ** 0.5)
    ((784, 256), True)
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from easynn.initializers.base import Initializer, _empty, _gen, compute_fans
from easynn.initializers.stft import STFT

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
    "LecunNormal", "Orthogonal", "Identity", "get", "serialize",
    # Keras 3's other spellings of the same classes, and deserialize
    "IdentityInitializer", "OrthogonalInitializer", "constant", "glorot_normal", "glorot_uniform",
    "he_normal", "he_uniform", "identity", "lecun_normal", "lecun_uniform", "ones", "orthogonal",
    "random_normal", "random_uniform", "truncated_normal", "variance_scaling", "zeros", "deserialize",
    "STFT", "STFTInitializer", "stft",
]


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None, device=None):
        return _empty(shape, dtype, device).zero_()


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None, device=None):
        return _empty(shape, dtype, device).fill_(1.0)


class Constant(Initializer):
    """Every entry equal to ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None, device=None):
        return _empty(shape, dtype, device).fill_(self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal(mean, stddev); Keras's default stddev is 0.05."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, shape, dtype=None, device=None):
        return _empty(shape, dtype, device).normal_(self.mean, self.stddev, generator=_gen(self.seed, device))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform(minval, maxval); Keras's default range is ±0.05."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval, self.maxval, self.seed = float(minval), float(maxval), seed

    def __call__(self, shape, dtype=None, device=None):
        return _empty(shape, dtype, device).uniform_(self.minval, self.maxval, generator=_gen(self.seed, device))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal(mean, stddev) redrawn beyond two standard deviations."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, shape, dtype=None, device=None):
        out = _empty(shape, dtype, device)
        torch.nn.init.trunc_normal_(
            out, self.mean, self.stddev, self.mean - 2 * self.stddev, self.mean + 2 * self.stddev,
            generator=_gen(self.seed, device),
        )
        return out

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Samples with variance ``scale / n``, n = fan_in, fan_out or their mean (``mode``).

    Args:
        scale: the variance multiplier.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
        seed: optional seed for reproducible draws.
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal", seed: int | None = None):
        if scale <= 0:
            raise ValueError(f"`scale` must be positive. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"`mode` must be 'fan_in', 'fan_out' or 'fan_avg'. Received: mode={mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "normal", "uniform"):
            raise ValueError(
                "`distribution` must be 'truncated_normal', 'untruncated_normal' or 'uniform'. "
                f"Received: distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution, self.seed = float(scale), mode, distribution, seed

    def __call__(self, shape, dtype=None, device=None):
        fan_in, fan_out = compute_fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        out = _empty(shape, dtype, device)
        gen = _gen(self.seed, device)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return out.uniform_(-limit, limit, generator=gen)
        if self.distribution == "truncated_normal":
            # 0.8796... is the stddev of a unit normal truncated to [-2, 2].
            std = math.sqrt(variance) / 0.87962566103423978
            torch.nn.init.trunc_normal_(out, 0.0, std, -2 * std, 2 * std, generator=gen)
            return out
        return out.normal_(0.0, math.sqrt(variance), generator=gen)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class GlorotUniform(VarianceScaling):
    """Uniform(±sqrt(6 / (fan_in + fan_out))): Keras's default kernel initializer."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_avg", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeUniform(VarianceScaling):
    """Uniform(±sqrt(6 / fan_in)), suited to ReLU networks."""

    def __init__(self, seed: int | None = None):
        super().__init__(2.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(2 / fan_in)."""

    def __init__(self, seed: int | None = None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunUniform(VarianceScaling):
    """Uniform(±sqrt(3 / fan_in))."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(1 / fan_in)."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, over the last axis vs the rest."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain, self.seed = float(gain), seed

    def __call__(self, shape, dtype=None, device=None):
        out = _empty(shape, dtype, device)
        if out.dim() < 2:
            raise ValueError(f"Orthogonal needs a shape of rank 2 or more. Received: shape={tuple(shape)}")
        flat = out.view(-1, out.shape[-1])
        torch.nn.init.orthogonal_(flat, gain=self.gain, generator=_gen(self.seed, device))
        return out

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype=None, device=None):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape. Received: shape={tuple(shape)}")
        return torch.eye(*shape, dtype=dtype or torch.get_default_dtype(), device=device) * self.gain

    def get_config(self):
        return {"gain": self.gain}


_ALIASES: dict[str, type] = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal, "random_uniform": RandomUniform,
    "uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "identity": Identity, "stft": STFT,
}
_CLASSES = {cls.__name__: cls for cls in set(_ALIASES.values())}
# Keras 3 names these two classes IdentityInitializer and OrthogonalInitializer (the class_name in
# its saved configs); Identity and Orthogonal are its aliases.
_CLASSES.update({"IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal, "STFTInitializer": STFT})

# Keras 3 exports every class under its snake_case name too (keras.initializers.glorot_uniform is
# the class GlorotUniform): the same objects here.
IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal
constant, zeros, ones = Constant, Zeros, Ones
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_normal, glorot_uniform, he_normal, he_uniform = GlorotNormal, GlorotUniform, HeNormal, HeUniform
lecun_normal, lecun_uniform = LecunNormal, LecunUniform
STFTInitializer = stft = STFT  # Keras 3 exports all three names


def get(identifier: Any) -> Callable:
    """Resolve a name, a config dict, an Initializer or a callable into an initializer.

    Names are Keras's snake_case names (in any case) or class names (``"glorot_uniform"``,
    ``"GlorotUniform"``, ``"IdentityInitializer"``...); an ``Initializer`` class is instantiated
    with its defaults.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
        TypeError: for anything that is not a name, dict or callable.

    Example:
        >>> type(get("he_normal")).__name__, type(get(HeNormal)).__name__, get(None)((2,)).tolist()
        ('HeNormal', 'HeNormal', [0.0, 0.0])
    """
    if identifier is None:
        return Zeros()
    if isinstance(identifier, str):
        key = identifier if identifier in _CLASSES else identifier.lower()
        cls = _CLASSES.get(key) or _ALIASES.get(key)
        if cls is None:
            raise ValueError(
                f"Unknown initializer '{identifier}'. Expected one of: "
                f"{', '.join(sorted(_ALIASES))}, an Initializer or a callable."
            )
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"Unknown initializer class '{identifier['class_name']}'.")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()  # a class, e.g. initializers.HeNormal: Keras instantiates it
    if callable(identifier):
        return identifier
    raise TypeError(
        f"Could not interpret initializer identifier: {identifier!r}. "
        "Expected a name such as 'glorot_uniform', an Initializer or a callable."
    )


def serialize(initializer: Any) -> Any:
    """A JSON-able description of ``initializer`` that ``get`` turns back into it."""
    if isinstance(initializer, str) or initializer is None:
        return initializer
    if isinstance(initializer, Initializer):
        return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
    raise TypeError(
        f"Cannot serialize initializer {initializer!r}: only names and easynn initializers are "
        "saved. Register a custom one or pass a name."
    )


def deserialize(config: Any, custom_objects: dict | None = None) -> Callable:
    """Keras's ``initializers.deserialize``: what ``serialize`` returned back to an initializer.

    Args:
        config: a name or a ``{"class_name", "config"}`` dict.
        custom_objects: optional ``{class_name: Initializer class}`` looked up first.

    Returns:
        The initializer.

    Raises:
        ValueError: for an unknown name or class.

    Example:
        >>> deserialize(serialize(RandomNormal(stddev=0.1))).stddev
        0.1
    """
    key = config.get("class_name") if isinstance(config, dict) else config
    if custom_objects and isinstance(key, str) and key in custom_objects:
        found = custom_objects[key]
        if isinstance(found, type) and isinstance(config, dict):
            return found.from_config(config.get("config", {}))
        return get(found)
    return get(config)
