"""Stop training when validation loss stops improving, keep the best model, plot the curves.

Run: python examples/early_stopping.py [--out DIR]

A small network over-fits a noisy synthetic regression problem (few samples, many features).
EarlyStopping watches ``val_loss`` and stops a few epochs after its minimum, restoring the best
weights; ModelCheckpoint writes the best model to ``DIR/best.keras``; History.plot draws the
loss curves (train solid, validation dashed) to ``DIR/history.png``. Takes a few seconds.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import easynn as keras
from easynn.callbacks import EarlyStopping, ModelCheckpoint
from easynn.layers import Dense


def make_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(20, 1))
    x = rng.normal(size=(160, 20)).astype("float32")
    y = (x[:, :3] @ w[:3] + 0.5 * rng.normal(size=(160, 1))).astype("float32")  # 3 useful features, noise
    return (x[:60], y[:60]), (x[60:], y[60:])


def main(out: str | None = None, verbose: int = 0) -> dict:
    out = out or tempfile.mkdtemp(prefix="easynn-early-stopping-")
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(0)
    (x, y), (x_val, y_val) = make_data()

    model = keras.Sequential([keras.Input(shape=(20,)), Dense(64, activation="relu"), Dense(64, activation="relu"),
                              Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    checkpoint_path = os.path.join(out, "best.keras")
    callbacks = [
        EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True, verbose=1),
        ModelCheckpoint(checkpoint_path, monitor="val_loss", save_best_only=True),
    ]
    history = model.fit(x, y, epochs=300, batch_size=16, validation_data=(x_val, y_val), callbacks=callbacks,
                        verbose=verbose)

    stopper = callbacks[0]
    best = min(history.history["val_loss"])
    restored = keras.models.load_model(checkpoint_path)
    print(f"trained {len(history.epoch)} of 300 epochs; best val_loss {best:.4f} at epoch {stopper.best_epoch + 1}")
    print(f"val_loss now {model.evaluate(x_val, y_val, verbose=0)[0]:.4f} (best weights restored); "
          f"checkpoint {restored.evaluate(x_val, y_val, verbose=0)[0]:.4f}")
    plot_path = os.path.join(out, "history.png")
    history.plot(path=plot_path)
    print(f"best model: {checkpoint_path}")
    print(f"loss curves: {plot_path}")
    return {"epochs": len(history.epoch), "best_val_loss": best, "plot": plot_path, "checkpoint": checkpoint_path}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder for best.keras and history.png (default: a temp dir)")
    main(parser.parse_args().out)
