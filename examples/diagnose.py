"""Diagnose training: the vanishing gradient of a deep sigmoid network next to a ReLU one.

Run: python examples/diagnose.py [--out DIR]

Both networks have 10 hidden Dense layers of 32 units and learn the same synthetic problem. The
sigmoid one (glorot init) multiplies the gradient by at most σ' = 0.25 per layer on the way down,
so its first layers barely move; the ReLU one (he_normal init) keeps the gradient's size. The
per-layer gradient norms come from ``GradientMonitor``, dead/saturated units from
``ActivationMonitor``. Then the lecture's pictures are written to ``--out``: the activations
with their derivatives, both gradient flows, the loss surface of y = σ(w2 σ(w1 x)) (figure 4.9)
and the ReLU model's layer graph. Takes a few seconds on a CPU.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import warnings

import numpy as np

import easynn as keras
from easynn.callbacks import ActivationMonitor, DiagnosticWarning, GradientMonitor
from easynn.layers import Dense


def make_data(n: int = 1024, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 16)).astype("float32")
    y = (np.sin(x[:, :4].sum(1)) + 0.5 * x[:, 4] > 0).astype("float32")[:, None]
    return x, y


def build(activation: str, initializer: str, depth: int = 10) -> keras.Sequential:
    layers = [keras.Input(shape=(16,))]
    layers += [Dense(32, activation=activation, kernel_initializer=initializer, name=f"{activation}_{i + 1}")
               for i in range(depth)]
    layers.append(Dense(1, activation="sigmoid", name="output"))
    model = keras.Sequential(layers, name=f"deep_{activation}")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def train(model, x, y, epochs: int):
    """Fit with both monitors; their warnings are collected and printed rather than raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DiagnosticWarning)
        history = model.fit(x, y, epochs=epochs, batch_size=64, verbose=0,
                            callbacks=[GradientMonitor(), ActivationMonitor()])
    return history, [w for w in caught if issubclass(w.category, DiagnosticWarning)]


def main(out: str | None = None, epochs: int = 5) -> dict[str, str]:
    keras.utils.set_random_seed(0)
    x, y = make_data()
    runs = {"sigmoid": build("sigmoid", "glorot_uniform"), "relu": build("relu", "he_normal")}
    histories = {}
    for name, model in runs.items():
        history, caught = train(model, x, y, epochs)
        histories[name] = history
        logs = history.history
        print(f"\n== {model.name}: loss {logs['loss'][0]:.3f} -> {logs['loss'][-1]:.3f}, "
              f"accuracy {logs['accuracy'][-1]:.3f}")
        print(f"{'layer':<12}{'grad norm':>12}{'update/weight':>15}{'dead':>8}{'saturated':>11}{'mean out':>10}")
        for key in [k for k in logs if k.startswith("grad_norm/")]:
            layer = key.split("/", 1)[1]
            dead = logs.get(f"dead_fraction/{layer}", [None])[-1]
            sat = logs.get(f"saturated_fraction/{layer}", [None])[-1]
            mean = logs.get(f"mean_activation/{layer}", [None])[-1]
            fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
            print(f"{layer:<12}{logs[key][-1]:>12.2e}{logs[f'update_ratio/{layer}'][-1]:>15.2e}"
                  f"{fmt(dead, '.0%'):>8}{fmt(sat, '.0%'):>11}{fmt(mean, '.3f'):>10}")
        first, last = logs[f"grad_norm/{name}_1"][-1], logs["grad_norm/output"][-1]
        print(f"first hidden layer / output layer gradient norm: {first / last:.1e}")
        for w in caught:
            print(f"warning ({w.category.__name__}): {str(w.message)[:160]}...")

    out = out or tempfile.mkdtemp(prefix="easynn_diagnose_")
    os.makedirs(out, exist_ok=True)
    paths = {
        "activations": os.path.join(out, "activations.png"),
        "gradient_flow_sigmoid": os.path.join(out, "gradient_flow_sigmoid.png"),
        "gradient_flow_relu": os.path.join(out, "gradient_flow_relu.png"),
        "loss_surface": os.path.join(out, "loss_surface.png"),
        "model": os.path.join(out, "model_relu.png"),
    }
    keras.plot.activations(path=paths["activations"])
    keras.plot.gradient_flow(histories["sigmoid"], path=paths["gradient_flow_sigmoid"], title="10 sigmoid layers")
    keras.plot.gradient_flow(histories["relu"], path=paths["gradient_flow_relu"], title="10 ReLU layers (he_normal)")
    rng = np.random.default_rng(1)
    toy_x = rng.normal(size=40)
    keras.plot.loss_surface(toy_x, (toy_x > 0.5).astype(float), path=paths["loss_surface"])
    keras.plot.model(runs["relu"], path=paths["model"])
    print("\nfigures:")
    for path in paths.values():
        print(" ", path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder for the figures (default: a new temporary folder)")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    main(args.out, args.epochs)
