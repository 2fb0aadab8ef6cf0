"""FeatureSpace: one-stop preprocessing of structured (tabular) data, as Keras 3's
``keras.utils.FeatureSpace``.

Formula: for each feature ``f`` (a column of the data dict), ``p_f = preprocessor_f(column_f)``
(identity, rescaling, normalization ``(x - mean) / sqrt(var)``, discretization, vocabulary lookup
or hashing); for each cross ``c = (f_1, .., f_k)``, ``p_c = HashedCrossing(p_f1, .., p_fk)``. Each
``p`` with ``output_mode="one_hot"`` becomes a one-hot vector of its cardinality (vocabulary size,
number of bins). ``output_mode="concat"`` returns ``concat([features sorted by name] + [crosses
sorted by name], axis=-1)`` (Keras's order); ``"dict"`` returns ``{name: encoding}``.

Data are a dict of columns (column name -> list / NumPy array / tensor, one value per sample);
``adapt`` also takes an iterable of such dicts (batches), or of ``(x, y)`` pairs with ``x`` a dict.

Example:
    >>> fs = FeatureSpace({"age": "float_normalized", "city": "string_categorical"})
    >>> fs.adapt({"age": [20.0, 40.0], "city": ["Paris", "Rome"]})
    >>> fs({"age": [30.0, 40.0], "city": ["Rome", "Oslo"]})
    tensor([[0., 0., 1., 0.],
            [1., 1., 0., 0.]])
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import torch

from easynn import layers
from easynn.layers.base import Layer, unique_name
from easynn.layers.core import Input
from easynn.utils._feature_space_specs import (
    FEATURE_TYPES,
    Cross,
    Feature,
    _Preprocess,
    cardinality,
    column_to_numpy,
    make_feature,
    read_column,
)

__all__ = ["FeatureSpace"]


def _auto(name: str | None, kind: str) -> str:
    return name or unique_name(kind)


def _batches_of(dataset: Any) -> list[dict]:
    """The dict batches of ``dataset``: one dict of columns, or an iterable of dicts / ``(x, y)``."""
    if isinstance(dataset, dict):
        return [dataset]
    if isinstance(dataset, (str, bytes, np.ndarray, torch.Tensor)) or not hasattr(dataset, "__iter__"):
        raise TypeError("FeatureSpace.adapt() expects a dict of columns (name -> array/list) or an iterable of "
                        f"such dicts. Received: dataset of type {type(dataset).__name__}")
    batches = []
    for batch in dataset:
        if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], dict):
            batch = batch[0]  # (x, y) pairs: adapt on x
        if not isinstance(batch, dict):
            raise TypeError("FeatureSpace.adapt() expects every batch to be a dict of columns. "
                            f"Received a batch of type {type(batch).__name__}")
        batches.append(batch)
    if not batches:
        raise ValueError("FeatureSpace.adapt() received no data: the dataset yielded no batches.")
    return batches


class FeatureSpace(Layer):
    """One-stop utility for preprocessing and encoding structured data (Keras's ``FeatureSpace``).

    See the module docstring for the formula and the accepted data.

    Args:
        features: dict of feature name -> type: a string (one of ``"float"``, ``"float_rescaled"``,
            ``"float_normalized"``, ``"float_discretized"``, ``"integer_categorical"``,
            ``"string_categorical"``, ``"integer_hashed"``, ``"string_hashed"``, built with default
            arguments) or an object from ``FeatureSpace.float_normalized()``, ``.feature(...)`` etc.
        output_mode: ``"concat"`` (one float32 matrix) or ``"dict"`` (one encoding per feature/cross).
        crosses: list of feature-name tuples (crossed with ``crossing_dim`` bins) or
            ``FeatureSpace.cross(...)`` objects.
        crossing_dim: default number of bins of a cross.
        hashing_dim: number of bins of the ``"integer_hashed"``/``"string_hashed"`` shorthands.
        num_discretization_bins: number of bins of the ``"float_discretized"`` shorthand.
        name: the name of the FeatureSpace.

    Returns:
        ``fs(data)``: a ``(batch, width)`` float32 tensor (concat) or a dict of ``(batch, k)`` tensors.

    Raises:
        ValueError: for empty ``features``, an unknown feature type, a cross naming an unknown
            feature, an unknown ``output_mode``, a call before ``adapt`` when a feature needs it, a
            missing column, or concatenating an integer (``output_mode="int"``) feature.

    Example:
        >>> fs = FeatureSpace({"n": FeatureSpace.integer_categorical()}, output_mode="dict")
        >>> fs.adapt({"n": [3, 3, 5]})
        >>> fs({"n": [5, 7]})["n"]
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """

    # ------------------------------------------------------------------ feature constructors
    @classmethod
    def cross(cls, feature_names: Iterable[str], crossing_dim: int, output_mode: str = "one_hot") -> Cross:
        """A cross of ``feature_names`` hashed into ``crossing_dim`` bins (``HashedCrossing``)."""
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype: str, preprocessor: Any, output_mode: str) -> Feature:
        """A custom feature: ``preprocessor`` (any easynn layer) applied to a ``dtype`` column."""
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name: str | None = None) -> Feature:
        """Float values, passed through (``Identity``)."""
        return make_feature("float", _auto(name, "float"))

    @classmethod
    def float_rescaled(cls, scale: float = 1.0, offset: float = 0.0, name: str | None = None) -> Feature:
        """Float values rescaled by ``Rescaling``: ``x * scale + offset``."""
        return make_feature("float_rescaled", _auto(name, "float_rescaled"), scale=scale, offset=offset)

    @classmethod
    def float_normalized(cls, name: str | None = None) -> Feature:
        """Float values standardized by ``Normalization`` (mean and variance learned by ``adapt``)."""
        return make_feature("float_normalized", _auto(name, "float_normalized"))

    @classmethod
    def float_discretized(cls, num_bins: int, bin_boundaries: Any = None, output_mode: str = "one_hot",
                          name: str | None = None) -> Feature:
        """Float values bucketed by ``Discretization`` (quantile boundaries learned by ``adapt``
        unless ``bin_boundaries`` are given)."""
        return make_feature("float_discretized", _auto(name, "float_discretized"), num_bins=num_bins,
                            bin_boundaries=bin_boundaries, output_mode=output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens: int | None = None, num_oov_indices: int = 1,
                            output_mode: str = "one_hot", name: str | None = None) -> Feature:
        """Integer values indexed by ``IntegerLookup`` (vocabulary learned by ``adapt``)."""
        return make_feature("integer_categorical", _auto(name, "integer_categorical"), max_tokens=max_tokens,
                            num_oov_indices=num_oov_indices, output_mode=output_mode)

    @classmethod
    def string_categorical(cls, max_tokens: int | None = None, num_oov_indices: int = 1,
                           output_mode: str = "one_hot", name: str | None = None) -> Feature:
        """String values indexed by ``StringLookup`` (vocabulary learned by ``adapt``)."""
        return make_feature("string_categorical", _auto(name, "string_categorical"), max_tokens=max_tokens,
                            num_oov_indices=num_oov_indices, output_mode=output_mode)

    @classmethod
    def string_hashed(cls, num_bins: int, output_mode: str = "one_hot", name: str | None = None) -> Feature:
        """String values hashed into ``num_bins`` bins (``Hashing``, Keras's bins)."""
        return make_feature("string_hashed", _auto(name, "string_hashed"), num_bins=num_bins,
                            output_mode=output_mode)

    @classmethod
    def integer_hashed(cls, num_bins: int, output_mode: str = "one_hot", name: str | None = None) -> Feature:
        """Integer values hashed into ``num_bins`` bins (``Hashing``, Keras's bins)."""
        return make_feature("integer_hashed", _auto(name, "integer_hashed"), num_bins=num_bins,
                            output_mode=output_mode)

    # ------------------------------------------------------------------ construction
    def __init__(self, features: dict, output_mode: str = "concat", crosses: Any = None, crossing_dim: int = 32,
                 hashing_dim: int = 32, num_discretization_bins: int = 32, name: str | None = None) -> None:
        super().__init__(name=name)
        if not isinstance(features, dict) or not features:
            raise ValueError(f"The `features` argument must be a non-empty dict. Received: features={features!r}")
        if output_mode not in ("concat", "dict"):
            raise ValueError("Invalid value for argument `output_mode`. Expected one of ['concat', 'dict']. "
                             f"Received: output_mode={output_mode!r}")
        self.output_mode = output_mode
        self.crossing_dim, self.hashing_dim = crossing_dim, hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {str(key): self._standardize_feature(str(key), value) for key, value in features.items()}
        self.crosses = [self._standardize_cross(cross) for cross in (crosses or [])]
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        # Untracked plain dicts: the FeatureSpace has no weights of its own. Its state (vocabularies,
        # bins, statistics) is the preprocessors', and get_config() carries it, so a saved file is its
        # config alone (Keras's FeatureSpace also saves no variables of its own).
        self._untracked("preprocessors", {key: feature.preprocessor for key, feature in self.features.items()})
        self._untracked("crossers", {cross.name: layers.HashedCrossing(cross.crossing_dim, name=cross.name)
                                     for cross in self.crosses})
        self._untracked("_steps", {key: _Preprocess(key, feature) for key, feature in self.features.items()})
        self._to_adapt = [key for key, feature in self.features.items() if feature.needs_adapt()]
        self._is_adapted = not self._to_adapt
        self._untracked("one_hot_encoders", {})
        self._untracked("concat", None)
        self.inputs = None
        self.encoded_features = None
        self.built = True

    def _untracked(self, name: str, value: Any) -> None:
        """Set an attribute that nn.Module/Layer do not register as a sublayer."""
        self.__dict__[name] = value

    def _standardize_feature(self, name: str, value: Any) -> Feature:
        if isinstance(value, Feature):
            return value
        if isinstance(value, dict) and value.get("class_name") == "Feature":
            return Feature.from_config(value["config"])
        if not isinstance(value, str):
            raise ValueError(f"Feature '{name}' must be a feature type name ({', '.join(FEATURE_TYPES)}) or a "
                             f"FeatureSpace.<type>(...) object. Received: {value!r}")
        if value == "float_discretized":
            return make_feature(value, name, num_bins=self.num_discretization_bins)
        if value in ("integer_hashed", "string_hashed"):
            return make_feature(value, name, num_bins=self.hashing_dim)
        return make_feature(value, name)

    def _standardize_cross(self, cross: Any) -> Cross:
        if isinstance(cross, dict) and cross.get("class_name") == "Cross":
            cross = Cross.from_config(cross["config"])
        if not isinstance(cross, Cross):
            if not self.crossing_dim:
                raise ValueError("When specifying `crosses`, the argument `crossing_dim` (the number of bins of "
                                 f"a cross) must be set as well. Received: crossing_dim={self.crossing_dim!r}")
            cross = Cross(cross, self.crossing_dim)
        unknown = [key for key in cross.feature_names if key not in self.features]
        if unknown:
            raise ValueError(f"All features named in `crosses` must be in the `features` dict. Cross "
                             f"{cross.feature_names} names unknown features: {unknown}. Known: {sorted(self.features)}")
        return cross

    # ------------------------------------------------------------------ adapt
    def adapt(self, dataset: Any) -> None:
        """Learn the vocabularies, bin boundaries and statistics of the features that need them.

        Args:
            dataset: a dict of columns, or an iterable of such dicts (batches) or of ``(x, y)``
                pairs. Each feature's batches are joined and adapted on at once, so the result does
                not depend on how the data are batched.

        Raises:
            ValueError: for a missing column or an empty dataset.
            TypeError: for data that are not dicts of columns.
        """
        batches = _batches_of(dataset)
        for key in self._to_adapt:
            feature = self.features[key]
            column = np.concatenate([column_to_numpy(read_column(b, key), feature.dtype, key) for b in batches])
            feature.preprocessor.adapt(column)
        self._is_adapted = True
        self._reset_encoders()

    def _reset_encoders(self) -> None:
        """(Re)create the one-hot encoders: their widths follow the learned vocabularies."""
        self._untracked("one_hot_encoders", {})
        specs = [(key, f.output_mode, f.preprocessor) for key, f in self.features.items()]
        specs += [(c.name, c.output_mode, self.crossers[c.name]) for c in self.crosses]
        for key, mode, preprocessor in specs:
            if mode == "one_hot":
                self.one_hot_encoders[key] = layers.CategoryEncoding(
                    cardinality(key, preprocessor), output_mode="multi_hot", name=f"{key}_one_hot")
        self._untracked("concat", layers.Concatenate(axis=-1, name=f"{self.name}_concat"))
        self.encoded_features = None

    def _check_if_adapted(self) -> None:
        if not self._is_adapted:
            raise ValueError(
                "You need to call `.adapt(dataset)` on the FeatureSpace before you can use it: the features "
                f"{self._to_adapt} learn their vocabulary, bins or statistics from the data.")
        if self.concat is None:
            self._reset_encoders()

    # ------------------------------------------------------------------ encoding
    def _preprocess(self, columns: dict) -> dict:
        return {key: self._steps[key](columns[key]) for key in self.features}

    def _cross(self, preprocessed: dict) -> dict:
        return {c.name: self.crossers[c.name]([preprocessed[key] for key in c.feature_names]) for c in self.crosses}

    def _merge(self, preprocessed: dict, crossed: dict) -> Any:
        ordered = [(key, preprocessed[key]) for key in sorted(preprocessed)]
        ordered += [(key, crossed[key]) for key in sorted(crossed)]
        encoded = {}
        for key, value in ordered:
            encoder = self.one_hot_encoders.get(key)
            if encoder is not None:
                if value.dtype.is_floating_point:
                    raise ValueError(f"Feature '{key}' has output_mode='one_hot', so its preprocessor must return "
                                     f"integer ids. It returns {value.dtype}.")
                value = encoder(value)
            elif self.output_mode == "concat" and not value.dtype.is_floating_point:
                raise ValueError(f"Cannot concatenate features because feature '{key}' has not been encoded (it "
                                 f"has dtype {value.dtype}). Use output_mode='one_hot' for it, or "
                                 "FeatureSpace(output_mode='dict').")
            encoded[key] = value
        if self.output_mode == "dict":
            return encoded
        values = [v.to(torch.float32) if isinstance(v, torch.Tensor) else v for v in encoded.values()]
        return values[0] if len(values) == 1 else self.concat(values)

    def __call__(self, data: dict) -> Any:
        """Encode ``data`` (a dict of columns; extra columns are ignored).

        A dict of scalars (one sample) gives an output without the batch axis, as in Keras.

        Raises:
            ValueError: if ``data`` is not a dict, a feature's column is missing, or a feature still
                needs ``adapt``.
        """
        if not isinstance(data, dict):
            raise ValueError(f"A FeatureSpace can only be called with a dict of columns. Received: data of "
                             f"type {type(data).__name__}")
        self._check_if_adapted()
        columns = {key: read_column(data, key) for key in self.features}
        single = all(np.ndim(v) == 0 and not isinstance(v, (list, tuple)) for v in columns.values())
        if single:
            columns = {key: [v.item() if isinstance(v, (np.ndarray, np.generic, torch.Tensor)) else v]
                       for key, v in columns.items()}
        with torch.no_grad():
            preprocessed = self._preprocess(columns)
            merged = self._merge(preprocessed, self._cross(preprocessed))
        if single:
            return {k: v[0] for k, v in merged.items()} if isinstance(merged, dict) else merged[0]
        return merged

    # ------------------------------------------------------------------ functional API
    def get_inputs(self) -> dict:
        """One ``easynn.Input(shape=(1,))`` per feature, by name (dtype ``"string"`` for text)."""
        if self.inputs is None:
            self.inputs = {key: Input(shape=(1,), name=key,
                                      dtype="string" if f.dtype == "string" else
                                      ("int64" if f.dtype.startswith("int") else f.dtype))
                           for key, f in self.features.items()}
        return self.inputs

    def get_encoded_features(self) -> Any:
        """The symbolic encoding of ``get_inputs()``: one tensor (concat) or a dict of tensors.

        Raises:
            ValueError: if a feature still needs ``adapt``.
        """
        self._check_if_adapted()
        if self.encoded_features is None:
            preprocessed = self._preprocess(self.get_inputs())
            self.encoded_features = self._merge(preprocessed, self._cross(preprocessed))
        return self.encoded_features

    # ------------------------------------------------------------------ config and saving
    def get_config(self) -> dict:
        return {
            "name": self.name,
            "features": {key: {"class_name": "Feature", "config": f.get_config()} for key, f in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [{"class_name": "Cross", "config": c.get_config()} for c in self.crosses],
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config: dict) -> "FeatureSpace":
        return cls(**config)

    def get_build_config(self) -> None:
        return None

    def save(self, filepath: str) -> None:
        """Save the FeatureSpace (its config, learned state included) to one file;
        ``easynn.saving.load_model(filepath)`` reloads it."""
        from easynn.saving import save_model

        save_model(self, filepath)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, features={list(self.features)}, output_mode={self.output_mode!r}"
