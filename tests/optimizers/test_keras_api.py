"""Keras's optimizer API (apply, apply_gradients, iterations, variables, EMA, gradient
accumulation, loss scaling), the added optimizers and the schedules, against torch.optim and
values worked out by hand."""

import math

import pytest
import torch

from easynn import optimizers
from easynn.optimizers import schedules


def _grads(seed, shapes):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g) for s in shapes]


def _params():
    g = torch.Generator().manual_seed(0)
    return [torch.nn.Parameter(torch.randn(3, 2, generator=g)), torch.nn.Parameter(torch.randn(2, generator=g))]


def test_apply_in_a_hand_written_loop_matches_torch_adam():
    ours, ref = _params(), _params()
    opt = optimizers.Adam(learning_rate=0.01)
    torch_opt = torch.optim.Adam(ref, lr=0.01, eps=1e-7)
    for step in range(3):
        grads = _grads(step, [(3, 2), (2,)])
        if step == 0:
            opt.apply(grads, ours)  # builds on first use
        else:
            assert opt.apply_gradients(zip(grads, ours)) == step + 1
        for p, g in zip(ref, grads):
            p.grad = g.clone()
        torch_opt.step()
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b)
    assert opt.iterations == 3 and opt.built
    assert len(opt.variables) == 6  # step, exp_avg, exp_avg_sq per parameter


def test_apply_changes_only_the_given_variables():
    a, b = _params()
    opt = optimizers.SGD(learning_rate=1.0)
    opt.build([a, b])
    b.grad = torch.ones_like(b)
    before = b.detach().clone()
    opt.apply([torch.ones_like(a)], [a])
    torch.testing.assert_close(b.detach(), before)
    assert b.grad is not None and float(b.grad.sum()) == 2.0  # restored
    opt.apply([None, torch.ones_like(b)])  # variables=None: the built list; None grads are skipped
    torch.testing.assert_close(b.detach(), before - 1)
    with pytest.raises(ValueError, match="not built with"):
        opt.apply([torch.ones(4)], [torch.nn.Parameter(torch.zeros(4))])
    with pytest.raises(ValueError, match="needs `variables`"):
        optimizers.Adam().apply([torch.ones(1)])


def test_apply_with_the_variables_own_grads_and_in_another_order():
    a, b = _params()
    opt = optimizers.SGD(learning_rate=0.5)
    opt.build([a, b])
    a0, b0 = a.detach().clone(), b.detach().clone()
    a.grad, b.grad = torch.full_like(a, 2.0), torch.full_like(b, 4.0)
    opt.apply([a.grad, b.grad], [a, b])  # keras-io's torch train_step passes ``v.value.grad``
    torch.testing.assert_close(a.detach(), a0 - 1.0)
    torch.testing.assert_close(b.detach(), b0 - 2.0)
    opt.apply([torch.ones_like(b), torch.zeros_like(a)], [b, a])  # reversed: each grad to its own variable
    torch.testing.assert_close(a.detach(), a0 - 1.0)
    torch.testing.assert_close(b.detach(), b0 - 2.5)


def test_schedules_hand_values_and_round_trip():
    cases = [
        (schedules.ExponentialDecay(1.0, 10, 0.5), 5, 0.5 ** 0.5),
        (schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]), 20, 0.5),
        (schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]), 21, 0.1),
        (schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.1, power=1.0), 5, 0.55),
        (schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.0, cycle=True), 15, 0.25),  # decay_steps -> 20
        (schedules.InverseTimeDecay(1.0, 2, 0.5, staircase=True), 3, 1 / 1.5),
        (schedules.CosineDecay(1.0, 10, alpha=0.2), 5, 0.6),
        (schedules.CosineDecay(0.1, 10, warmup_target=1.0, warmup_steps=4), 2, 0.55),
        (schedules.CosineDecayRestarts(1.0, 10, t_mul=1.0, m_mul=0.5), 15, 0.25),
    ]
    for schedule, step, expected in cases:
        assert schedule(step) == pytest.approx(expected), type(schedule).__name__
        clone = schedules.deserialize(schedules.serialize(schedule))
        assert type(clone) is type(schedule) and clone(step) == pytest.approx(expected)
    with pytest.raises(ValueError, match="one more than"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0])


def test_optimizer_follows_a_schedule_and_serialises_it():
    w = torch.nn.Parameter(torch.zeros(1))
    opt = optimizers.SGD(learning_rate=schedules.CosineDecay(1.0, 4))
    moves = []
    for _ in range(4):
        before = float(w.detach())
        opt.apply([torch.ones(1)], [w])
        moves.append(before - float(w.detach()))
    assert moves == pytest.approx([1.0, 0.5 * (1 + math.cos(math.pi / 4)), 0.5, 0.5 * (1 + math.cos(3 * math.pi / 4))])
    back = optimizers.get(optimizers.serialize(opt))
    assert isinstance(back._schedule, schedules.CosineDecay) and back.get_config() == opt.get_config()


def test_lion_by_hand():
    w = torch.nn.Parameter(torch.tensor([1.0, -1.0, 0.5]))
    opt = optimizers.Lion(learning_rate=0.1, beta_1=0.9, beta_2=0.99)
    g1, g2 = torch.tensor([0.5, -3.0, 0.0]), torch.tensor([-1.0, 1.0, 2.0])
    opt.apply([g1], [w])
    m = 0.01 * g1  # m = 0.99 * 0 + 0.01 * g1
    expected = torch.tensor([0.9, -0.9, 0.5])
    torch.testing.assert_close(w.detach(), expected)
    opt.apply([g2], [w])
    c = 0.9 * m + 0.1 * g2
    torch.testing.assert_close(w.detach(), expected - 0.1 * torch.sign(c))


def test_ftrl_with_l1_and_l2_by_hand():
    w = torch.nn.Parameter(torch.tensor([0.0, 0.0]))
    opt = optimizers.Ftrl(learning_rate=0.5, initial_accumulator_value=0.1, l1_regularization_strength=0.3,
                          l2_regularization_strength=0.2)
    g = torch.tensor([1.0, 0.2])
    opt.apply([g], [w])
    n = 0.1 + g ** 2
    z = g - (n.sqrt() - math.sqrt(0.1)) / 0.5 * 0.0
    quadratic = n.sqrt() / 0.5 + 2 * 0.2
    expected = (z.clamp(-0.3, 0.3) - z) / quadratic
    torch.testing.assert_close(w.detach(), expected)
    assert float(w[1].detach()) == 0.0  # |z| <= l1: the coordinate stays exactly 0 (sparsity)


def test_lamb_second_step_by_hand():
    w = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
    opt = optimizers.Lamb(learning_rate=0.1, epsilon=0.0)
    g1, g2 = torch.tensor([1.0, 1.0]), torch.tensor([1.0, -1.0])
    opt.apply([g1], [w])
    opt.apply([g2], [w])
    m = 0.9 * (0.1 * g1) + 0.1 * g2
    v = 0.999 * (0.001 * g1 ** 2) + 0.001 * g2 ** 2
    u = (m / (1 - 0.9 ** 2)) / (v / (1 - 0.999 ** 2)).sqrt()
    w1 = torch.tensor([3.0, 4.0]) - 0.1 * (5.0 / math.sqrt(2)) * torch.ones(2)
    expected = w1 - 0.1 * (w1.norm() / u.norm()) * u
    torch.testing.assert_close(w.detach(), expected)


def test_adafactor_is_torch_adafactor_with_keras_defaults():
    ours, ref = _params(), _params()
    opt = optimizers.get("adafactor")
    torch_opt = torch.optim.Adafactor(ref, lr=0.001, beta2_decay=-0.8, eps=(1e-30, 1e-3), d=1.0)
    for step in range(3):
        grads = _grads(step, [(3, 2), (2,)])
        opt.apply(grads, ours)
        for p, g in zip(ref, grads):
            p.grad = g.clone()
        torch_opt.step()
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="relative_step"):
        optimizers.Adafactor(relative_step=False)


def test_ema_by_hand_finalize_and_overwrite_frequency():
    w = torch.nn.Parameter(torch.tensor([0.0]))
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    for _ in range(3):
        opt.apply([torch.tensor([-1.0])], [w])  # w: 1, 2, 3
    # ema: first update copies (1), then 0.5 * 1 + 0.5 * 2 = 1.5, then 0.5 * 1.5 + 0.5 * 3 = 2.25
    assert float(w.detach()) == 3.0 and float(opt._ema[0]) == 2.25
    state = opt.state_dict()
    opt.finalize_variable_values([w])
    assert float(w.detach()) == 2.25
    w2 = torch.nn.Parameter(torch.tensor([0.0]))
    again = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    again.load_state_dict(state)
    again.build([w2])
    assert float(again._ema[0]) == 2.25 and again.iterations == 3
    w3 = torch.nn.Parameter(torch.tensor([0.0]))
    every2 = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    every2.apply([torch.tensor([-1.0])], [w3])
    every2.apply([torch.tensor([-1.0])], [w3])  # w = 2, ema = 1.5, overwritten at the 2nd update
    assert float(w3.detach()) == 1.5
    assert every2.get_config()["ema_overwrite_frequency"] == 2


def test_gradient_accumulation_applies_the_mean_every_n_steps():
    ours, ref = _params(), _params()
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9, gradient_accumulation_steps=2)
    torch_opt = torch.optim.SGD(ref, lr=0.1, momentum=0.9)
    grads = [_grads(s, [(3, 2), (2,)]) for s in range(4)]
    for step, g in enumerate(grads):
        opt.apply(g, ours)
        assert opt.iterations == (step + 1) // 2
    for pair in ((0, 1), (2, 3)):
        for i, p in enumerate(ref):
            p.grad = (grads[pair[0]][i] + grads[pair[1]][i]) / 2
        torch_opt.step()
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b)


def test_loss_scale_factor_leaves_the_update_unchanged():
    x = torch.tensor([1.0, 2.0])
    plain, scaled = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt_plain, opt_scaled = optimizers.SGD(0.1), optimizers.SGD(0.1, loss_scale_factor=128.0)
    opt_plain.build([plain])
    opt_scaled.build([scaled])
    (plain * x).sum().backward()
    opt_plain.step()
    loss = opt_scaled.scale_loss((scaled * x).sum())
    assert float(loss.detach()) == pytest.approx(128.0 * 3)
    loss.backward()
    opt_scaled.step()
    torch.testing.assert_close(scaled.detach(), plain.detach())


def test_new_names_resolve_with_keras_defaults():
    assert type(optimizers.get("lion")) is optimizers.Lion and optimizers.get("Lion").beta_2 == 0.99
    ftrl = optimizers.get("ftrl")
    assert (ftrl.learning_rate_power, ftrl.initial_accumulator_value) == (-0.5, 0.1)
    assert optimizers.get("lamb").epsilon == 1e-6
    with pytest.raises(ValueError, match="learning_rate_power"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        optimizers.Adam(gradient_accumulation_steps=0)


def test_gradient_accumulation_with_a_grad_scaler_skips_overflowed_steps():
    w = torch.nn.Parameter(torch.zeros(2))
    opt = optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=2, clipnorm=100.0)
    opt.build([w])
    scaler = torch.amp.GradScaler("cpu", init_scale=4.0)

    def step(c):
        opt.zero_grad()
        scaler.scale((w * torch.tensor(c)).sum()).backward()
        opt.step(scaler=scaler)

    step([1.0, 2.0])
    step([float("inf"), 0.0])  # overflow on the update step: scaler.step skips it, the scale halves
    assert torch.equal(w.detach(), torch.zeros(2)) and scaler.get_scale() == 2.0
    step([1.0, 1.0])
    step([1.0, 3.0])
    torch.testing.assert_close(w.detach(), torch.tensor([-1.0, -2.0]))  # the mean of the unscaled gradients
    before = w.detach().clone()
    step([float("inf"), 0.0])  # overflow on an accumulation step: it adds nothing
    step([2.0, 2.0])
    torch.testing.assert_close(w.detach(), before - torch.tensor([1.0, 1.0]))


@pytest.mark.parametrize("make", [lambda: optimizers.Adam(0.1), lambda: optimizers.SGD(0.1, momentum=0.9)])
def test_apply_to_a_channels_last_kernel_with_contiguous_gradients(make):
    # torch.autograd.grad may hand back contiguous gradients for a channels_last conv kernel;
    # the fused update must still pair each gradient entry with its own weight entry.
    start = torch.randn(4, 3, 3, 3, generator=torch.Generator().manual_seed(0))
    kernel = torch.nn.Parameter(start.clone().contiguous(memory_format=torch.channels_last))
    plain = torch.nn.Parameter(start.clone())
    ours, reference = make(), make()
    for step in range(3):
        grad = _grads(step, [(4, 3, 3, 3)])[0]
        ours.apply([grad], [kernel])
        reference.apply([grad], [plain])
    torch.testing.assert_close(kernel.detach(), plain.detach(), rtol=1e-6, atol=1e-6)  # wrong pairing: ~1.0
