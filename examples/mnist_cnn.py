"""Keras's MNIST convnet on easynn, with throughput per epoch.

Run:
    python examples/mnist_cnn.py                              # synthetic digits, seconds on a CPU
    python examples/mnist_cnn.py --data path/to/mnist.npz --samples 60000 --epochs 12
    python examples/mnist_cnn.py --device cuda --mixed-precision mixed_float16 --jit

The network is the one in Keras's "Simple MNIST convnet" example: Conv2D(32, 3, relu) ->
MaxPooling2D -> Conv2D(64, 3, relu) -> MaxPooling2D -> Flatten -> Dropout(0.5) -> Dense(10,
softmax), on ``(batch, 28, 28, 1)`` images (channels_last, as Keras). With ``--data`` it reads a
local copy of ``mnist.npz`` (no download); otherwise it makes learnable synthetic digits: each
class is a fixed random blot pattern, drawn shifted by up to a pixel, in noise.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import easynn as keras
from easynn.callbacks import Callback
from easynn.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D

NUM_CLASSES = 10


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28x28 images in [0, 1] and their labels 0..9: class templates, shifted, in noise."""
    templates = np.random.default_rng(1234).random((NUM_CLASSES, 28, 28)) < 0.15
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, NUM_CLASSES, size=n)
    images = templates[labels].astype("float32")
    for axis in (1, 2):  # each image shifted by -1..1 pixel along each axis
        shifts = rng.integers(-1, 2, size=n)
        for shift in (-1, 1):
            chosen = shifts == shift
            images[chosen] = np.roll(images[chosen], shift, axis=axis)
    images += rng.normal(scale=0.25, size=images.shape).astype("float32")
    return np.clip(images, 0.0, 1.0)[..., None], labels.astype("int64")


def load(data: str | None, samples: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    if data is None:
        return synthetic_digits(samples, seed=1), synthetic_digits(max(samples // 5, 100), seed=2)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(path=data)
    scale = lambda x: (x.astype("float32") / 255.0)[..., None]  # noqa: E731
    return (scale(x_train[:samples]), y_train[:samples].astype("int64")), (scale(x_test), y_test.astype("int64"))


def build_model() -> keras.Sequential:
    return keras.Sequential([
        Input((28, 28, 1)),
        Conv2D(32, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Conv2D(64, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Flatten(),
        Dropout(0.5),
        Dense(NUM_CLASSES, activation="softmax"),
    ])


class Throughput(Callback):
    """Prints samples/s per epoch. The epoch's logs are read before ``on_epoch_end``, which waits
    for the device, so the time covers all the epoch's work."""

    def __init__(self, num_samples: int):
        super().__init__()
        self.num_samples = num_samples
        self.rates: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        rate = self.num_samples / (time.perf_counter() - self._start)
        self.rates.append(rate)
        print(f"epoch {epoch + 1}: {rate:,.0f} samples/s - loss {logs['loss']:.4f} - accuracy {logs['accuracy']:.4f}")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a local mnist.npz; synthetic digits when omitted")
    parser.add_argument("--samples", type=int, default=2000, help="training samples (default 2000)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--jit", action="store_true", help="compile(jit_compile=True): torch.compile the step")
    parser.add_argument("--mixed-precision", default="float32",
                        choices=["float32", "mixed_float16", "mixed_bfloat16"])
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1... (CUDA when available by default)")
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args(argv)


def main(argv=None) -> float:
    """Train, print throughput per epoch and the test accuracy; returns the test accuracy."""
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.data, args.samples)
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=args.jit, mixed_precision=args.mixed_precision, device=args.device)
    print(f"{len(x_train)} training samples on {model.device}, precision {args.mixed_precision}, "
          f"{'compiled' if model._jit_compile else 'eager'}")
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=0,
              callbacks=[Throughput(len(x_train))])
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    print(f"test loss {loss:.4f} - test accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
