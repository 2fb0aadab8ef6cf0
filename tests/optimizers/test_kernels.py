"""easynn.optimizers._kernels: torch's fused kernels where they exist, and torch's step without
its profiler / hook layer only while nothing observes that layer."""

from __future__ import annotations

import warnings

import pytest
import torch

from easynn import optimizers
from easynn.optimizers import _kernels


def _weights(seed: int = 0) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(4, 3, generator=g)), torch.nn.Parameter(torch.randn(3, generator=g))]


def _set_grads(weights, seed: int = 1) -> None:
    g = torch.Generator().manual_seed(seed)
    for w in weights:
        w.grad = torch.randn(w.shape, generator=g)


@pytest.mark.parametrize("name,fused", [
    ("sgd", True), ("adam", True), ("adamw", True), ("adagrad", True), ("rmsprop", False), ("adamax", False),
])
def test_easynn_asks_for_torchs_fused_kernels_where_torch_has_them(name, fused):
    opt = optimizers.get(name)
    opt.build(_weights())
    assert bool(opt.torch_optimizer.defaults.get("fused")) is fused


def test_an_optimizer_the_fused_kernels_refuse_keeps_torchs_default():
    # torch refuses fused=True together with differentiable=True when the optimizer is created.
    opt = _kernels.fused_or_default(torch.optim.SGD, _weights(), lr=0.1, differentiable=True)
    assert not opt.defaults.get("fused")
    # An explicit choice of implementation is the caller's.
    opt = _kernels.fused_or_default(torch.optim.SGD, _weights(), lr=0.1, foreach=True)
    assert opt.defaults["foreach"] is True and not opt.defaults.get("fused")


def test_step_equals_torchs_public_step_bit_for_bit():
    mine, theirs = _weights(), _weights()
    opt_mine = torch.optim.Adam(mine, lr=0.1, fused=True)
    opt_theirs = torch.optim.Adam(theirs, lr=0.1, fused=True)
    for seed in range(3):
        _set_grads(mine, seed)
        _set_grads(theirs, seed)
        _kernels.step(opt_mine)
        opt_theirs.step()
    for a, b in zip(mine, theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert opt_mine.state[mine[0]]["step"].item() == 3


def test_step_hooks_still_run():
    weights = _weights()
    opt = torch.optim.SGD(weights, lr=0.1)
    calls = []
    opt.register_step_pre_hook(lambda *args: calls.append("pre"))
    opt.register_step_post_hook(lambda *args: calls.append("post"))
    _set_grads(weights)
    _kernels.step(opt)
    assert calls == ["pre", "post"]


def test_global_step_hooks_still_run():
    weights = _weights()
    opt = torch.optim.SGD(weights, lr=0.1)
    calls = []
    from torch.optim.optimizer import register_optimizer_step_post_hook

    handle = register_optimizer_step_post_hook(lambda *args: calls.append("post"))
    try:
        _set_grads(weights)
        _kernels.step(opt)
    finally:
        handle.remove()
    assert calls == ["post"]


def test_the_profiler_still_sees_the_step_and_zero_grad():
    weights = _weights()
    opt = torch.optim.SGD(weights, lr=0.1)
    _set_grads(weights)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        _kernels.step(opt)
        _kernels.drop_grads(opt)
    names = {event.name for event in prof.events()}
    assert "Optimizer.step#SGD.step" in names
    assert any(name.startswith("Optimizer.zero_grad") for name in names)
    assert all(w.grad is None for w in weights)


def test_a_torch_lr_scheduler_sees_the_step_it_patched():
    weights = _weights()
    opt = optimizers.SGD(learning_rate=1.0)
    opt.build(weights)
    scheduler = torch.optim.lr_scheduler.StepLR(opt.torch_optimizer, step_size=1, gamma=0.5)
    _set_grads(weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "lr_scheduler.step() before optimizer.step()" would raise
        opt.step()
        scheduler.step()
    assert opt.learning_rate == 0.5


def test_drop_grads_sets_every_gradient_to_none():
    weights = _weights()
    opt = optimizers.Adam()
    opt.build(weights)
    _set_grads(weights)
    opt.zero_grad()
    assert [w.grad for w in weights] == [None, None]


def test_fit_trains_the_same_with_the_hooked_and_the_plain_step():
    """A step hook switches to torch's public step; both paths give the same weights."""
    import numpy as np

    import easynn

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 5)).astype("float32"), rng.integers(0, 3, size=64)

    def trained(hooked: bool):
        torch.manual_seed(0)
        model = easynn.Sequential([easynn.Input((5,)), easynn.layers.Dense(8, activation="relu"),
                                   easynn.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=easynn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        calls = []
        if hooked:
            model.optimizer.build(model.parameters())
            model.optimizer.torch_optimizer.register_step_post_hook(lambda *args: calls.append(1))
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        return [w.detach().clone() for w in model.parameters()], len(calls)

    plain, no_calls = trained(False)
    hooked, calls = trained(True)
    assert no_calls == 0 and calls == 8  # 64 / 16 batches x 2 epochs, each through the hook layer
    for a, b in zip(plain, hooked):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
