"""The lecture's XOR question: can a feedforward network learn XOR? (A perceptron cannot.)

Run: python examples/xor.py

Two inputs, one hidden layer of tanh units, a sigmoid output: the network learns XOR to 100%
accuracy in a second, because the hidden layer makes the four points linearly separable.
"""

import numpy as np

import easynn as keras
from easynn.layers import Dense


def main(verbose: int = 0) -> float:
    keras.utils.set_random_seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    y = np.array([[0], [1], [1], [0]], dtype="float32")

    model = keras.Sequential([keras.Input(shape=(2,)), Dense(8, activation="tanh"), Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=300, batch_size=4, verbose=verbose)

    loss, accuracy = model.evaluate(x, y, verbose=0)
    predictions = model.predict(x, verbose=0).ravel()
    for inputs, p in zip(x, predictions):
        print(f"{int(inputs[0])} XOR {int(inputs[1])} -> {p:.3f}")
    print(f"loss {loss:.4f} - accuracy {accuracy:.2f}")
    return accuracy


if __name__ == "__main__":
    main()
