"""A custom layer written by subclassing, trained, saved as model.keras, and reloaded.

The layer follows Keras's contract: ``__init__`` stores arguments, ``build`` creates weights
with ``add_weight`` once the input size is known, ``call`` computes, ``get_config`` returns the
arguments so the saved model can be rebuilt. Registering it lets ``load_model`` find the class
by name (the file itself never contains code).

Run: python examples/custom_layer.py
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import torch

import easynn


@easynn.saving.register_serializable(package="Examples")
class GatedDense(easynn.layers.Layer):
    """``output = (x @ W + b) * sigmoid(x @ V + c)``: a dense layer with a learned gate."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        features = input_shape[-1]
        self.w = self.add_weight(shape=(features, self.units), initializer="glorot_uniform", name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")
        self.v = self.add_weight(shape=(features, self.units), initializer="glorot_uniform", name="v")
        self.c = self.add_weight(shape=(self.units,), initializer="zeros", name="c")

    def call(self, inputs):
        return (inputs @ self.w + self.b) * torch.sigmoid(inputs @ self.v + self.c)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def main() -> float:
    easynn.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype("float32")
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]).astype("float32")

    model = easynn.Sequential([
        easynn.Input(shape=(8,)),
        GatedDense(32),
        easynn.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    print(f"loss: {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}")

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        restored = easynn.models.load_model(path)

    before = model.predict(x, verbose=0)
    after = restored.predict(x, verbose=0)
    max_difference = float(np.abs(before - after).max())
    print(f"restored layer types: {[type(layer).__name__ for layer in restored.layers]}")
    print(f"max |prediction difference| after reload: {max_difference}")
    assert np.array_equal(before, after), "the reloaded model must predict exactly the same values"
    return max_difference


if __name__ == "__main__":
    main()
