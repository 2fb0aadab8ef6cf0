"""The pieces FeatureSpace is made of: feature and cross specifications, column reading, and the
small layer that runs one feature's preprocessor on a column.

A ``Feature`` is ``(dtype, preprocessor, output_mode)``: the column's dtype (``"float32"``,
``"int32"``/``"int64"`` or ``"string"``), the easynn preprocessing layer that turns the column into
numbers (``Normalization``, ``StringLookup``, ``Hashing``...), and how the result is encoded:
``"float"`` (as is), ``"int"`` (the integer ids) or ``"one_hot"`` (ids -> a one-hot vector whose
width is the preprocessor's cardinality). A ``Cross`` hashes the *preprocessed* values of several
features together (``HashedCrossing``).

Every column holds one value per sample: a list, a NumPy array or a tensor of shape ``(batch,)`` or
``(batch, 1)``; it is read as a ``(batch, 1)`` array (strings) or tensor (numbers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from easynn import layers
from easynn.layers.base import Layer
from easynn.saving.serialization import deserialize_keras_object, serialize_keras_object

__all__ = ["Feature", "Cross", "make_feature", "FEATURE_TYPES", "cardinality", "read_column", "to_column",
           "column_to_numpy"]

_FEATURE_MODES = ("int", "one_hot", "float")
_CROSS_MODES = ("int", "one_hot")
_DTYPES = ("float32", "float64", "int32", "int64", "string")

# The string shorthands of FeatureSpace(features={...}), each built with the default arguments.
FEATURE_TYPES = ("float", "float_rescaled", "float_normalized", "float_discretized", "integer_categorical",
                 "string_categorical", "integer_hashed", "string_hashed")


def _check_mode(value: Any, choices: tuple, where: str) -> str:
    if value not in choices:
        raise ValueError(
            f"Invalid value for argument `output_mode` of {where}. Expected one of {list(choices)}. "
            f"Received: output_mode={value!r}")
    return value


class Feature:
    """One feature: its column dtype, its preprocessing layer and its output encoding.

    Args:
        dtype: ``"float32"``, ``"int32"``, ``"int64"`` or ``"string"`` (the raw column's type).
        preprocessor: an easynn layer (or its serialized config dict).
        output_mode: ``"float"``, ``"int"`` or ``"one_hot"``.

    Raises:
        ValueError: for an unknown ``output_mode`` or ``dtype``.
        TypeError: if ``preprocessor`` is not a layer or a layer config.
    """

    def __init__(self, dtype: str, preprocessor: Any, output_mode: str) -> None:
        self.output_mode = _check_mode(output_mode, _FEATURE_MODES, "a FeatureSpace feature")
        if dtype not in _DTYPES:
            raise ValueError(f"Invalid `dtype` for a FeatureSpace feature. Expected one of {list(_DTYPES)}. "
                             f"Received: dtype={dtype!r}")
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            preprocessor = deserialize_keras_object(preprocessor)
        if not callable(preprocessor):
            raise TypeError(f"`preprocessor` must be a layer (or its config). Received: {preprocessor!r}")
        self.preprocessor = preprocessor

    def needs_adapt(self) -> bool:
        """Whether the preprocessor has state still to learn (a vocabulary, bins, statistics)."""
        p = self.preprocessor
        if isinstance(p, (layers.StringLookup, layers.IntegerLookup)):
            return p._vocab.tokens is None
        if isinstance(p, layers.Discretization):
            return p.bin_boundaries is None
        if isinstance(p, layers.Normalization):
            return p.input_mean is None and not getattr(p, "_adapted", False)
        return False

    def get_config(self) -> dict:
        preprocessor = serialize_keras_object(self.preprocessor)
        p = self.preprocessor
        # A learned mean/variance is not part of Normalization's config; it travels as fixed
        # statistics, so the config alone rebuilds an adapted FeatureSpace.
        if isinstance(p, layers.Normalization) and p.input_mean is None and getattr(p, "_adapted", False):
            preprocessor["config"]["mean"] = p.mean.detach().cpu().reshape(-1).tolist()
            preprocessor["config"]["variance"] = p.variance.detach().cpu().reshape(-1).tolist()
        return {"dtype": self.dtype, "preprocessor": preprocessor, "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> "Feature":
        return cls(**config)

    def __repr__(self) -> str:
        return f"Feature(dtype={self.dtype!r}, preprocessor={type(self.preprocessor).__name__}, " \
               f"output_mode={self.output_mode!r})"


class Cross:
    """A feature cross: the preprocessed values of ``feature_names`` hashed into ``crossing_dim`` bins.

    Its name (the key of its output) is ``"_X_".join(feature_names)``, as in Keras.

    Raises:
        ValueError: for fewer than two feature names, a non-positive ``crossing_dim`` or an
            unknown ``output_mode``.
    """

    def __init__(self, feature_names: Any, crossing_dim: int, output_mode: str = "one_hot") -> None:
        self.output_mode = _check_mode(output_mode, _CROSS_MODES, "a FeatureSpace cross")
        if isinstance(feature_names, str) or len(tuple(feature_names)) < 2:
            raise ValueError(f"A cross needs at least two feature names. Received: feature_names={feature_names!r}")
        if isinstance(crossing_dim, bool) or not isinstance(crossing_dim, (int, np.integer)) or crossing_dim < 1:
            raise ValueError(f"`crossing_dim` must be a positive integer. Received: crossing_dim={crossing_dim!r}")
        self.feature_names = tuple(feature_names)
        self.crossing_dim = int(crossing_dim)

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict:
        return {"feature_names": list(self.feature_names), "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> "Cross":
        return cls(**config)

    def __repr__(self) -> str:
        return f"Cross({self.feature_names}, crossing_dim={self.crossing_dim}, output_mode={self.output_mode!r})"


def make_feature(kind: str, name: str, **kwargs: Any) -> Feature:
    """The ``Feature`` of one of ``FEATURE_TYPES``; its preprocessor is named ``{name}_preprocessor``."""
    layer_name = f"{name}_preprocessor"
    mode = kwargs.pop("output_mode", "one_hot")
    if kind == "float":
        return Feature("float32", layers.Identity(name=layer_name), "float")
    if kind == "float_rescaled":
        return Feature("float32", layers.Rescaling(kwargs.get("scale", 1.0), offset=kwargs.get("offset", 0.0),
                                                   name=layer_name), "float")
    if kind == "float_normalized":
        return Feature("float32", layers.Normalization(axis=-1, name=layer_name), "float")
    if kind == "float_discretized":
        boundaries = kwargs.get("bin_boundaries")
        return Feature("float32", layers.Discretization(bin_boundaries=boundaries, num_bins=kwargs["num_bins"],
                                                        name=layer_name), mode)
    if kind in ("integer_categorical", "string_categorical"):
        cls = layers.IntegerLookup if kind == "integer_categorical" else layers.StringLookup
        lookup = cls(max_tokens=kwargs.get("max_tokens"), num_oov_indices=kwargs.get("num_oov_indices", 1),
                     name=layer_name)
        return Feature("int32" if kind == "integer_categorical" else "string", lookup, mode)
    if kind in ("integer_hashed", "string_hashed"):
        return Feature("int32" if kind == "integer_hashed" else "string",
                       layers.Hashing(num_bins=kwargs["num_bins"], name=layer_name), mode)
    raise ValueError(f"Unknown feature type {kind!r} for feature '{name}'. Expected one of: "
                     f"{', '.join(FEATURE_TYPES)}, or a FeatureSpace.<type>(...) object.")


def cardinality(name: str, preprocessor: Any) -> int:
    """Width of the one-hot encoding of ``preprocessor``'s integer output.

    Raises:
        ValueError: for a preprocessor whose number of ids is unknown (use ``output_mode="int"``).
    """
    if isinstance(preprocessor, (layers.StringLookup, layers.IntegerLookup)):
        return preprocessor.vocabulary_size()
    if isinstance(preprocessor, layers.Discretization):
        if preprocessor.bin_boundaries is not None:
            return len(preprocessor.bin_boundaries) + 1
        return preprocessor.num_bins
    if isinstance(preprocessor, (layers.Hashing, layers.HashedCrossing)):
        return preprocessor.num_bins
    if isinstance(preprocessor, layers.CategoryEncoding):
        return preprocessor.num_tokens
    raise ValueError(
        f"Feature '{name}' has output_mode='one_hot', but the number of ids its preprocessor "
        f"({type(preprocessor).__name__}) returns is not known, so it cannot be one-hot encoded. "
        "Use output_mode='int' (or 'float').")


# ---------------------------------------------------------------------- columns
def read_column(data: dict, name: str) -> Any:
    """``data[name]``, or a ValueError naming the missing feature and the columns there are."""
    if name not in data:
        raise ValueError(f"The data has no column for feature '{name}'. Received columns: {sorted(data)}. "
                         "Pass a dict with one entry per feature of the FeatureSpace.")
    return data[name]


def to_column(values: Any, dtype: str, name: str) -> Any:
    """One feature's values as a ``(batch, 1)`` column: an object array of ``str`` for string
    features, an int64 / float32 tensor (on the input's device) for numbers.

    Raises:
        TypeError: for values that do not fit ``dtype`` (text for a number feature, floats with a
            fraction for an integer feature, numbers for a string feature).
    """
    if dtype == "string":
        if isinstance(values, torch.Tensor):
            raise TypeError(f"Feature '{name}' is a string feature; received a tensor of {values.dtype}.")
        array = np.asarray(values if not isinstance(values, str) else [values], dtype=object).reshape(-1)
        items = [v.decode("utf-8") if isinstance(v, bytes) else v for v in array.tolist()]
        bad = next((v for v in items if not isinstance(v, str)), None)
        if bad is not None:
            raise TypeError(f"Feature '{name}' is a string feature; received a value of type "
                            f"{type(bad).__name__}: {bad!r}.")
        column = np.empty((len(items), 1), dtype=object)
        column[:, 0] = items
        return column
    if isinstance(values, torch.Tensor):
        tensor = values
    else:
        array = np.asarray(values)
        if array.dtype.kind in "USO":
            raise TypeError(f"Feature '{name}' has dtype {dtype!r}; received text values.")
        tensor = torch.as_tensor(array)
    tensor = tensor.reshape(-1, 1)
    if dtype.startswith("int"):
        if tensor.is_floating_point():
            if not bool(torch.all(tensor == tensor.round())):
                raise TypeError(f"Feature '{name}' has dtype {dtype!r}; received non-integer values.")
        return tensor.to(torch.int64)
    return tensor.to(torch.float32)


def column_to_numpy(values: Any, dtype: str, name: str) -> np.ndarray:
    """``to_column`` as a NumPy array (what the preprocessors adapt on)."""
    column = to_column(values, dtype, name)
    return column.detach().cpu().numpy() if isinstance(column, torch.Tensor) else column


class _Preprocess(Layer):
    """Runs one feature's preprocessor on its column; the output is ``(batch, width)``.

    It is the node a functional model records for the feature (the preprocessors themselves take
    NumPy text or lists, which a symbolic call cannot always give them), and the step
    ``FeatureSpace.__call__`` runs eagerly.
    """

    def __init__(self, feature_name: str, feature: Feature, **kwargs: Any) -> None:
        super().__init__(name=f"{feature_name}_preprocess", **kwargs)
        self.feature_name = feature_name
        self.column_dtype = feature.dtype
        self.preprocessor = feature.preprocessor
        self.built = True

    def call(self, inputs: Any) -> torch.Tensor:
        column = to_column(inputs, self.column_dtype, self.feature_name)
        out = self.preprocessor(column)
        if not isinstance(out, torch.Tensor):
            out = torch.as_tensor(np.asarray(out))
        return out.reshape(out.shape[0], -1) if out.dim() else out.reshape(1, 1)

    def get_config(self) -> dict:
        raise NotImplementedError(
            "A model built from FeatureSpace.get_encoded_features() cannot be saved whole yet: save the "
            "FeatureSpace (feature_space.save(path)) and the model on its encoded features separately.")
