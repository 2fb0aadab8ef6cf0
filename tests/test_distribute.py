"""Distributed training: strategy pieces in-process, and real 2-process CPU (gloo) runs via torchrun.

Two launches in all (each ~10 s on two cores): one worker script run under torchrun (compared
with the same script imported and run in this process, single-process), and one script that
raises on rank 1, which must make the whole job fail instead of hanging.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from easynn import distribute
from easynn.training.data import ArrayBatches
from easynn.training.loop import SingleProcess

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 120
_PORT_TAKEN = ("EADDRINUSE", "address already in use", "Address already in use")
# PyTorch 2.13's gloo backend sometimes aborts a process while it exits, after all its work is done
# ("terminate called without an active exception", SIGABRT). A plain DDP script with a barrier and
# destroy_process_group() shows it too (2 in 20 runs on a loaded 2-core machine), so it is not
# easynn's; a launch that ends that way is run once more.
_EXIT_ABORT = "terminate called without an active exception"

WORKER = textwrap.dedent('''
    """Runs unchanged under ``python worker.py OUT`` and ``torchrun --nproc_per_node=2 worker.py OUT``."""
    import json
    import os
    import sys

    import numpy as np

    import easynn
    from easynn import distribute, layers


    class CountSteps(easynn.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps = 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1


    class StopOnRankZero(easynn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if distribute.rank() == 0:  # only rank 0 asks; fit must make every rank agree
                self.model.stop_training = True


    def make_model(optimizer):
        model = easynn.Sequential([layers.Dense(8, activation="tanh"), layers.Dense(3, activation="softmax")])
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model


    def main(out):
        ws, rank = distribute.world_size(), distribute.rank()
        easynn.utils.set_random_seed(0)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(32, 4)).astype("float32")
        y = (x @ rng.normal(size=(4, 3))).argmax(1)
        result = {"rank": rank, "world_size": ws, "is_main": distribute.is_main_process()}

        # 1. Same global batch (8), shuffled with the seed, SGD: must match the 1-process run.
        model = make_model(easynn.optimizers.SGD(learning_rate=0.1))
        history = model.fit(x, y, batch_size=8 // ws, epochs=3, verbose=0, validation_data=(x[:7], y[:7]))
        result["history"] = history.history
        result["evaluate"] = model.evaluate(x[:7], y[:7], batch_size=2, verbose=0)
        result["strategy"] = type(model._trainer.strategy).__name__
        result["runner"] = type(model._trainer.runner).__name__
        predictions = model.predict(x[:7], batch_size=2, verbose=0)
        arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
        arrays["pred"] = predictions

        # 2. Rank 0 writes; the barrier in save_weights lets every rank read the file next.
        model.save_weights(os.path.join(out, f"weights_rank{rank}.safetensors"))
        fresh = make_model("sgd")
        fresh.predict(x[:2], verbose=0)
        fresh.load_weights(os.path.join(out, "weights_rank0.safetensors"))
        arrays["reloaded_pred"] = fresh.predict(x[:7], verbose=0)

        # 3. Uneven data (9 samples, 2 per process): equal steps per rank, stateful optimizer.
        counter = CountSteps()
        uneven = make_model("adam")
        uneven_history = uneven.fit(x[:9], y[:9], batch_size=2, epochs=2, verbose=0, callbacks=[counter])
        result["uneven_history"] = uneven_history.history
        result["uneven_steps"] = counter.steps
        for i, w in enumerate(uneven.get_weights()):
            arrays[f"uneven_w{i}"] = w

        # 4. A stop decided on rank 0 stops every rank after the same epoch.
        stopped = make_model("sgd").fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[StopOnRankZero()])
        result["stopped_epochs"] = len(stopped.history["loss"])

        np.savez(os.path.join(out, f"arrays_rank{rank}_of{ws}.npz"), **arrays)
        with open(os.path.join(out, f"result_rank{rank}_of{ws}.json"), "w") as handle:
            json.dump(result, handle)


    if __name__ == "__main__":
        main(sys.argv[1])
''')

FAILING = textwrap.dedent('''
    import sys

    import numpy as np

    import easynn
    from easynn import distribute, layers


    class Boom(easynn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if distribute.rank() == 1:
                raise RuntimeError("boom on rank 1")


    model = easynn.Sequential([layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 3), dtype="float32")
    model.fit(x, np.zeros((8, 2)), epochs=1000, batch_size=2, verbose=0, callbacks=[Boom()])
''')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _torchrun(script: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
               "--master_addr=127.0.0.1", f"--master_port={_free_port()}", str(script), *args]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=str(script.parent))
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 and (any(s in output for s in _PORT_TAKEN) or _EXIT_ABORT in output):
        # The free port was taken by another program between our probe and torchrun's bind, or
        # torch's exit-time abort (above): retry once.
        command[6] = f"--master_port={_free_port()}"
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=str(script.parent))
    return proc


# ---------------------------------------------------------------------------------------- in-process
@pytest.mark.parametrize("world_size", [2, 3])
@pytest.mark.parametrize("num", [1, 2, 5, 9, 10, 11, 17])
@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_shards_cover_every_sample_once_with_equal_steps(world_size, num, batch_size):
    x = torch.arange(num, dtype=torch.float32).reshape(num, 1)
    shards = [ArrayBatches(x, x, batch_size=batch_size, shuffle=True, rank=r, world_size=world_size, seed=3)
              for r in range(world_size)]
    batches = [[b[0].reshape(-1).long().tolist() for b in s.epoch(4)] for s in shards]
    seen = sorted(i for rank_batches in batches for batch in rank_batches for i in batch)
    assert seen == list(range(num))  # every sample exactly once, no padding
    assert [len(b) for b in batches] == [len(s) for s in shards]
    if num >= world_size:
        assert len({len(b) for b in batches}) == 1  # no process idles while others step
    # Step k of all processes together is one contiguous global batch of the shared permutation.
    perm = torch.randperm(num, generator=torch.Generator().manual_seed(3 * 100_003 + 4)).tolist()
    position = 0
    for step in range(max(len(b) for b in batches)):
        together = [i for b in batches if step < len(b) for i in b[step]]
        assert sorted(together) == sorted(perm[position:position + len(together)])
        position += len(together)


def test_unsharded_order_is_strided():
    x = torch.arange(7, dtype=torch.float32).reshape(7, 1)
    shard = ArrayBatches(x, batch_size=2, shuffle=False, rank=1, world_size=2)
    assert [b[0].reshape(-1).tolist() for b in shard.epoch(0)] == [[1.0, 3.0], [5.0]]


def test_plain_python_is_single_process(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(distribute.current_strategy(), SingleProcess)
    assert isinstance(distribute.init(), SingleProcess)
    assert (distribute.rank(), distribute.world_size(), distribute.local_rank()) == (0, 1, 0)
    assert distribute.is_main_process() and not distribute.is_distributed()
    distribute.barrier()  # a no-op, not a hang


def test_launch_environment_detection(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.setenv("MASTER_PORT", "1234")
    assert not distribute.is_distributed()  # incomplete: no MASTER_ADDR, so not a launch
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert distribute.is_distributed()
    assert (distribute.rank(), distribute.world_size(), distribute.local_rank()) == (3, 4, 1)
    assert not distribute.is_main_process()
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not distribute.is_distributed()


def test_init_rejects_bad_arguments():
    with pytest.raises(TypeError, match="backend"):
        distribute.init(backend=2)
    with pytest.raises(ValueError, match="timeout"):
        distribute.init(timeout=0)


# ---------------------------------------------------------------------------------------- 2 processes
@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    script = out / "worker.py"
    script.write_text(WORKER)
    proc = _torchrun(script, str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # The same file, imported and run here without a launcher: the 1-process reference.
    spec = importlib.util.spec_from_file_location("easynn_ddp_worker", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(str(out))
    results = {key: json.loads((out / f"result_rank{key[0]}_of{key[1]}.json").read_text()) for key in [(0, 1), (0, 2), (1, 2)]}
    arrays = {key: dict(np.load(out / f"arrays_rank{key[0]}_of{key[1]}.npz")) for key in results}
    return out, results, arrays


@pytest.mark.slow
def test_two_processes_match_one_process(two_process_run):
    _, results, arrays = two_process_run
    single, rank0, rank1 = results[(0, 1)], results[(0, 2)], results[(1, 2)]
    assert (rank0["rank"], rank0["world_size"], rank0["is_main"]) == (0, 2, True)
    assert (rank1["rank"], rank1["world_size"], rank1["is_main"]) == (1, 2, False)
    assert rank0["strategy"] == "DataParallel" and rank0["runner"] == "_ReplicaModule"
    assert single["strategy"] == "SingleProcess"
    weights = sorted(k for k in arrays[(0, 1)] if k.startswith("w"))
    assert len(weights) == 4
    for key in weights:  # same global batch and seed: same final weights
        np.testing.assert_allclose(arrays[(0, 2)][key], arrays[(0, 1)][key], atol=1e-5)
        np.testing.assert_array_equal(arrays[(1, 2)][key], arrays[(0, 2)][key])
    # Logged numbers are global: equal to the 1-process run, identical on both ranks.
    assert rank0["history"] == rank1["history"]
    assert set(rank0["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for name, values in single["history"].items():
        np.testing.assert_allclose(rank0["history"][name], values, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(rank0["evaluate"], single["evaluate"], atol=1e-5)  # 7 samples: uneven shards
    assert rank0["evaluate"] == rank1["evaluate"]


@pytest.mark.slow
def test_two_processes_predict_everything_in_order(two_process_run):
    _, _, arrays = two_process_run
    for rank in (0, 1):
        assert arrays[(rank, 2)]["pred"].shape == (7, 3)
        np.testing.assert_allclose(arrays[(rank, 2)]["pred"], arrays[(0, 1)]["pred"], atol=1e-5)


@pytest.mark.slow
def test_only_rank_zero_writes_and_others_read_after_the_barrier(two_process_run):
    out, _, arrays = two_process_run
    assert (out / "weights_rank0.safetensors").exists()
    assert not (out / "weights_rank1.safetensors").exists()  # rank 1's save_weights was a no-op
    for rank in (0, 1):  # rank 1 loaded rank 0's file right after the save: it was complete
        np.testing.assert_allclose(arrays[(rank, 2)]["reloaded_pred"], arrays[(rank, 2)]["pred"], atol=1e-6)


@pytest.mark.slow
def test_uneven_data_and_rank_zero_stop_keep_ranks_in_step(two_process_run):
    _, results, arrays = two_process_run
    rank0, rank1 = results[(0, 2)], results[(1, 2)]
    # 9 samples, 2 per process: the 1-sample tail is folded in, so both ranks take 2 steps/epoch.
    assert rank0["uneven_steps"] == rank1["uneven_steps"] == 4
    assert rank0["uneven_history"] == rank1["uneven_history"]
    for key in (k for k in arrays[(0, 2)] if k.startswith("uneven_w")):  # Adam states stayed equal
        np.testing.assert_array_equal(arrays[(0, 2)][key], arrays[(1, 2)][key])
    assert rank0["stopped_epochs"] == rank1["stopped_epochs"] == 1


@pytest.mark.slow
def test_an_error_on_one_rank_fails_the_job_instead_of_hanging(tmp_path):
    script = tmp_path / "failing.py"
    script.write_text(FAILING)
    proc = _torchrun(script)  # subprocess.TimeoutExpired (a test failure) if it hangs
    assert proc.returncode != 0
    assert "boom on rank 1" in proc.stdout + proc.stderr


def test_example_runs_single_process(monkeypatch, capsys):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    spec = importlib.util.spec_from_file_location("easynn_example_distributed", REPO / "examples" / "distributed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(epochs=1) > 0.8  # 10 separable blobs: well above chance (0.1) after one epoch
    assert "1 process(es), batch 64 each" in capsys.readouterr().out


def test_a_dataset_is_split_between_processes():
    from easynn.training.data import LoaderBatches

    dataset = torch.utils.data.TensorDataset(torch.arange(10.0).reshape(10, 1), torch.arange(10))
    shards = [LoaderBatches(dataset, batch_size=2, shuffle=True, rank=r, world_size=2, seed=1) for r in range(2)]
    seen = [[int(v) for _, y, _ in s.epoch(3) for v in y] for s in shards]
    assert len(seen[0]) == len(seen[1]) == 5
    assert sorted(seen[0] + seen[1]) == list(range(10))  # disjoint, every sample once
    again = [int(v) for _, y, _ in shards[0].epoch(3) for v in y]
    assert again == seen[0]  # the same epoch gives the same shard (set_epoch)
