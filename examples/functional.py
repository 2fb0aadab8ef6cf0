"""The functional API: a two-input, two-branch model, on synthetic data.

Run: python examples/functional.py

Each sample has a 20-dimensional "signal" and 3 "metadata" values. The class (one of 4) needs
both: the signal says which of two Gaussian blobs it came from, the sign of the first metadata
value picks one of two sub-classes. Each input gets its own branch; ``Concatenate`` joins them.
Trains in a few seconds on a CPU.
"""

import numpy as np

import easynn as keras
from easynn.layers import Concatenate, Dense, Dropout


def make_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(0).normal(size=(2, 20)).astype("float32")
    blob = rng.integers(0, 2, size=n)
    signal = centers[blob] + rng.normal(scale=1.5, size=(n, 20)).astype("float32")
    meta = rng.normal(size=(n, 3)).astype("float32")
    labels = 2 * blob + (meta[:, 0] > 0)
    return [signal, meta], labels


def build_model() -> keras.Model:
    signal = keras.Input(shape=(20,), name="signal")
    meta = keras.Input(shape=(3,), name="meta")
    s = Dense(32, activation="relu", name="signal_dense")(signal)
    s = Dropout(0.1, name="signal_dropout")(s)
    m = Dense(8, activation="relu", name="meta_dense")(meta)
    joined = Concatenate(name="joined")([s, m])
    hidden = Dense(16, activation="relu", name="hidden")(joined)
    outputs = Dense(4, activation="softmax", name="class")(hidden)
    return keras.Model(inputs=[signal, meta], outputs=outputs, name="two_branch")


def main(verbose: int = 2, samples: int = 4000, epochs: int = 8) -> float:
    keras.utils.set_random_seed(42)
    x_train, y_train = make_data(samples, seed=1)
    x_test, y_test = make_data(1000, seed=2)

    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, validation_split=0.1, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    print(f"test loss {loss:.4f} - test accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
