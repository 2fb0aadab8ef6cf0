"""Embedding: integer ids -> dense vectors, by looking rows up in a trainable table.

``output[..., :] = embeddings[inputs[...], :]``: the same as a one-hot vector times a
``(input_dim, output_dim)`` matrix, without building the one-hot vector.

Example:
    >>> import torch
    >>> layer = Embedding(input_dim=10, output_dim=4)
    >>> layer(torch.tensor([[1, 2, 3]])).shape
    torch.Size([1, 3, 4])
    >>> layer.count_params()
    40
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F

from easynn import _validation, constraints, initializers, regularizers
from easynn.layers.base import Layer

__all__ = ["Embedding"]


class Embedding(Layer):
    """Turn non-negative integer ids into dense vectors of size ``output_dim``.

    Formula: ``output[b, t] = embeddings[inputs[b, t]]``.

    Args:
        input_dim: size of the vocabulary (ids are in ``[0, input_dim)``).
        output_dim: size of each vector.
        embeddings_initializer: initializer of the ``(input_dim, output_dim)`` table; Keras's
            ``"uniform"`` is U(-0.05, 0.05) (torch's ``nn.Embedding`` uses N(0, 1)).
        embeddings_regularizer: optional penalty on the table.
        embeddings_constraint: projection of the table after each update (e.g.
            ``easynn.constraints.UnitNorm(axis=1)`` keeps every vector at norm 1).
        mask_zero: treat id 0 as padding: ``compute_mask(inputs)`` returns ``inputs != 0`` for
            the layers after it (RNNs skip those steps). Id 0 then should not be a real token.
        weights: optional initial table ``(input_dim, output_dim)`` (or a list holding it), as
            Keras's ``weights=`` (e.g. pretrained word vectors).
        input_length: Keras 2 argument, ignored (with a ``DeprecationWarning``).
        **kwargs: base layer arguments.

    Shape:
        ``(batch, ...)`` integer tensor -> ``(batch, ..., output_dim)``. Float tensors holding
        whole numbers (e.g. from NumPy arrays of floats) are cast to ``int64``.

    Raises:
        ValueError: for non-positive sizes.
        IndexError: (from torch) for ids outside ``[0, input_dim)``; easynn does not check the
            ids itself, because the check would wait for the GPU on every step.

    Example:
        >>> import torch
        >>> layer = Embedding(5, 2, embeddings_initializer="ones")
        >>> layer(torch.tensor([0, 4])).tolist()
        [[1.0, 1.0], [1.0, 1.0]]
        >>> Embedding(5, 2, mask_zero=True).compute_mask(torch.tensor([[3, 1, 0]])).tolist()
        [[True, True, False]]
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        input_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.embeddings_constraint = constraints.get(embeddings_constraint, argument="embeddings_constraint")
        self._initial_weights = None if weights is None else [weights] if not isinstance(weights, list) else weights
        self.input_dim = _validation.positive_int("input_dim", input_dim)
        self.output_dim = _validation.positive_int("output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if input_length is not None:
            warnings.warn(
                "`input_length` is a Keras 2 argument of Embedding and is ignored; the sequence "
                "length is read from the inputs.",
                DeprecationWarning,
                stacklevel=2,
            )

    def build(self, input_shape) -> None:
        self.embeddings = self.add_weight(
            (self.input_dim, self.output_dim), self.embeddings_initializer,
            regularizer=self.embeddings_regularizer, name="embeddings", constraint=self.embeddings_constraint,
        )
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.is_floating_point():
            inputs = inputs.long()
        elif inputs.dtype not in (torch.int64, torch.int32):
            inputs = inputs.long()
        return F.embedding(inputs, self.embeddings)

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor | None:
        """``inputs != 0`` with ``mask_zero=True`` (Keras), else ``None``."""
        if not self.mask_zero:
            return None
        return torch.as_tensor(inputs) != 0

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer),
            embeddings_constraint=constraints.serialize(self.embeddings_constraint),
            mask_zero=self.mask_zero,
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, input_dim={self.input_dim}, output_dim={self.output_dim}"
