"""Data-parallel training with torchrun: the same script on one process or many.

Run:
    python examples/distributed.py                              # one process, as usual
    torchrun --nproc_per_node=2 examples/distributed.py         # 2 processes on this machine
    # several machines (run on each; HOST is the first machine's address):
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d --rdzv-endpoint=HOST:29400 examples/distributed.py

Nothing in the script is distributed-specific except two choices a multi-process script should
make: ``batch_size`` is per process (so the global batch stays 64 whatever the process count),
and only rank 0 prints. ``fit`` notices torchrun's environment, creates the process group (nccl
on GPUs, gloo on CPUs), puts each process on its own GPU, wraps the model in
DistributedDataParallel and gives each process its shard of every epoch. The numbers it reports
(History, progress bar at epoch end, evaluate) are global; predict returns every row on every
process; ``model.save`` writes once (rank 0).
"""

import os
import tempfile

import numpy as np

import easynn as keras
from easynn import distribute
from easynn.layers import Dense

GLOBAL_BATCH = 64


def make_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(0).normal(size=(10, 32)).astype("float32")
    labels = rng.integers(0, 10, size=n)
    x = centers[labels] + rng.normal(scale=1.5, size=(n, 32)).astype("float32")
    return x, labels


def main(epochs: int = 3) -> float:
    keras.utils.set_random_seed(42)  # same seed on every process: same data, same shuffles
    x_train, y_train = make_data(4096, seed=1)
    x_test, y_test = make_data(1000, seed=2)

    model = keras.Sequential([Dense(64, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # compile() has joined the process group when launched by torchrun.
    workers = distribute.world_size()
    batch_size = max(GLOBAL_BATCH // workers, 1)  # per process
    verbose = 2 if distribute.is_main_process() else 0
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, validation_split=0.1,
                        verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)  # global numbers
    classes = model.predict(x_test[:5], verbose=0).argmax(axis=1)  # every row, on every process

    path = os.path.join(tempfile.gettempdir(), "easynn_distributed_example.weights.safetensors")
    model.save_weights(path)  # rank 0 writes; all processes wait until the file is complete
    if distribute.is_main_process():
        print(f"{workers} process(es), batch {batch_size} each - final loss {history.history['loss'][-1]:.4f} - "
              f"test loss {loss:.4f} - test accuracy {accuracy:.4f} - first predictions {classes.tolist()}")
    return accuracy


if __name__ == "__main__":
    main()
