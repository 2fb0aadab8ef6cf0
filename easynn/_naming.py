"""Keras's names for classes: ``MaxPooling2D`` -> ``max_pooling2d``."""

from __future__ import annotations

import re

__all__ = ["to_snake_case"]


def to_snake_case(name: str) -> str:
    """``"TopKCategoricalAccuracy"`` -> ``"top_k_categorical_accuracy"``, as Keras names things.

    Example:
        >>> to_snake_case("MaxPooling2D"), to_snake_case("MeanSquaredError")
        ('max_pooling2d', 'mean_squared_error')
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
