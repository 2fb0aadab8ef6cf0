"""The "30 seconds to Keras" flow, on easynn, with synthetic data.

Run: python examples/quickstart.py

A Keras user's script: only the import changes (``import easynn as keras``). The data are a
learnable synthetic 10-class problem (each class a Gaussian blob in 100 dimensions), so the script
runs in seconds on a CPU with no download.
"""

import numpy as np

import easynn as keras
from easynn.layers import Dense, Dropout


def make_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(0).normal(size=(10, 100)).astype("float32")
    labels = rng.integers(0, 10, size=n)
    x = centers[labels] + rng.normal(scale=3.0, size=(n, 100)).astype("float32")
    return x, keras.utils.to_categorical(labels, num_classes=10)


def main(verbose: int = 2) -> float:
    keras.utils.set_random_seed(42)
    x_train, y_train = make_data(5000, seed=1)
    x_test, y_test = make_data(1000, seed=2)

    model = keras.Sequential()
    model.add(Dense(units=64, activation="relu", input_shape=(100,)))
    model.add(Dropout(0.2))
    model.add(Dense(units=10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  metrics=["accuracy"])
    model.summary()

    model.fit(x_train, y_train, epochs=5, batch_size=32, validation_split=0.1, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    classes = model.predict(x_test[:5], batch_size=128).argmax(axis=1)
    print(f"test loss {loss:.4f} - test accuracy {accuracy:.4f} - first predictions {classes.tolist()}")
    return accuracy


if __name__ == "__main__":
    main()
