import math
import warnings

import pytest
import torch

from easynn import optimizers


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _param(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.nn.Parameter(torch.randn(3, 4, generator=g))


def _grad(p, seed=1):
    g = torch.Generator().manual_seed(seed)
    p.grad = torch.randn(p.shape, generator=g)


def _run(opt_step, p, steps=3):
    for s in range(steps):
        _grad(p, seed=s + 1)
        opt_step()


# ----------------------------------------------------------------- defaults reach torch

@pytest.mark.parametrize("ident,torch_cls,expected", [
    ("sgd", torch.optim.SGD, {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0}),
    ("adam", torch.optim.Adam, {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7, "amsgrad": False, "weight_decay": 0.0}),
    ("adamw", torch.optim.AdamW, {"lr": 0.001, "weight_decay": 0.004, "eps": 1e-7, "betas": (0.9, 0.999)}),
    ("rmsprop", torch.optim.RMSprop, {"lr": 0.001, "alpha": 0.9, "eps": 1e-7, "momentum": 0.0, "centered": False}),
    ("adagrad", torch.optim.Adagrad, {"lr": 0.001, "initial_accumulator_value": 0.1, "eps": 1e-7}),
    ("adadelta", torch.optim.Adadelta, {"lr": 0.001, "rho": 0.95, "eps": 1e-7}),
    ("nadam", torch.optim.NAdam, {"lr": 0.001, "eps": 1e-7, "momentum_decay": 1.0}),
    ("adamax", torch.optim.Adamax, {"lr": 0.001, "eps": 1e-7}),
])
def test_keras_defaults_in_param_groups(ident, torch_cls, expected):
    for name in (ident, ident.upper()):
        opt = optimizers.get(name)
        assert not opt.built and opt.torch_optimizer is None
        opt.build([_param()])
        assert opt.built and type(opt.torch_optimizer) is torch_cls
        group = opt.torch_optimizer.param_groups[0]
        for key, value in expected.items():
            assert group[key] == value, key


def test_camelcase_names():
    assert type(optimizers.get("RMSprop")) is optimizers.RMSprop
    assert type(optimizers.get("AdamW")) is optimizers.AdamW
    assert type(optimizers.get("SGD")) is optimizers.SGD


# ----------------------------------------------------------------- one step equals torch

@pytest.mark.parametrize("make_easy,make_torch", [
    (lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
     lambda p, **kw: torch.optim.SGD(p, 0.1, 0.9, nesterov=True, **kw)),
    (lambda: optimizers.Adam(0.01), lambda p, **kw: torch.optim.Adam(p, 0.01, eps=1e-7, **kw)),
    (lambda: optimizers.Adam(0.01, amsgrad=True),
     lambda p, **kw: torch.optim.Adam(p, 0.01, eps=1e-7, amsgrad=True, **kw)),
    (lambda: optimizers.AdamW(0.01), lambda p, **kw: torch.optim.AdamW(p, 0.01, eps=1e-7, weight_decay=0.004, **kw)),
    (lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
     lambda p, **kw: torch.optim.RMSprop(p, 0.01, alpha=0.9, eps=1e-7, momentum=0.5, centered=True, **kw)),
    (lambda: optimizers.Adagrad(0.1),
     lambda p, **kw: torch.optim.Adagrad(p, 0.1, initial_accumulator_value=0.1, eps=1e-7, **kw)),
])
def test_steps_equal_torch(make_easy, make_torch):
    p1, p2, p3 = _param(), _param(), _param()
    easy = make_easy()
    easy.build([p1])
    fused = bool(easy.torch_optimizer.defaults.get("fused"))
    same_kernel = make_torch([p2], fused=True) if fused else make_torch([p2])
    _run(easy.step, p1)
    _run(same_kernel.step, p2)
    # Bit for bit against torch's optimizer running the same kernels ...
    torch.testing.assert_close(p1.detach(), p2.detach(), rtol=0, atol=0)
    # ... and, to float32 rounding, against torch's default (for-loop) implementation.
    default = make_torch([p3])
    _run(default.step, p3)
    torch.testing.assert_close(p1.detach(), p3.detach(), rtol=1e-6, atol=1e-7)
    assert easy.iterations == 3


def test_rmsprop_keras_documented_example():
    w = torch.nn.Parameter(torch.tensor(10.0))
    opt = optimizers.RMSprop(learning_rate=0.1)
    opt.build([w])
    (w ** 2 / 2).backward()
    opt.step()
    assert w.item() == pytest.approx(9.683772, abs=1e-5)


def test_adam_keras_update_first_step():
    # Keras: w -= lr*sqrt(1-b2)/(1-b1) * m/(sqrt(v)+eps), m=(1-b1)g, v=(1-b2)g^2 -> lr*g/|g| (approx.)
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = optimizers.Adam(learning_rate=0.1)
    opt.build([w])
    w.grad = torch.tensor([0.5, -3.0])
    opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor([0.9, -1.9]), atol=1e-5, rtol=0)


def test_nadam_matches_keras_formula_two_steps():
    b1, b2, eps, lr = 0.9, 0.999, 1e-7, 0.01
    w = torch.nn.Parameter(torch.tensor([1.0, -1.0], dtype=torch.float64))
    opt = optimizers.Nadam(learning_rate=lr)
    opt.build([w])
    ref = w.detach().clone()
    m = torch.zeros(2, dtype=torch.float64)
    v = torch.zeros(2, dtype=torch.float64)
    u_prod = 1.0
    for t, g in enumerate([torch.tensor([0.3, -0.2]), torch.tensor([-0.1, 0.4])], start=1):
        g = g.double()
        w.grad = g.clone()
        opt.step()
        u_t = b1 * (1 - 0.5 * 0.96 ** t)
        u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_prod *= u_t
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        m_hat = u_t1 * m / (1 - u_prod * u_t1) + (1 - u_t) * g / (1 - u_prod)
        v_hat = v / (1 - b2 ** t)
        ref = ref - lr * m_hat / (v_hat.sqrt() + eps)
    torch.testing.assert_close(w.detach(), ref)


def test_decoupled_weight_decay_like_keras():
    # Keras: w -= lr*wd*w, then the plain SGD update.
    w = torch.nn.Parameter(torch.tensor([2.0]))
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=0.5)
    opt.build([w])
    w.grad = torch.tensor([1.0])
    opt.step()
    assert w.item() == pytest.approx(2.0 * (1 - 0.05) - 0.1)
    # Adam with weight_decay == torch AdamW
    p1, p2 = _param(), _param()
    easy = optimizers.Adam(0.01, weight_decay=0.1)
    easy.build([p1])
    assert type(easy.torch_optimizer) is torch.optim.AdamW
    ref = torch.optim.AdamW([p2], 0.01, eps=1e-7, weight_decay=0.1)
    _run(easy.step, p1)
    _run(ref.step, p2)
    torch.testing.assert_close(p1.detach(), p2.detach())


# ----------------------------------------------------------------- clipping

def test_clipvalue():
    w = torch.nn.Parameter(torch.zeros(3))
    opt = optimizers.SGD(learning_rate=1.0, clipvalue=0.5)
    opt.build([w])
    w.grad = torch.tensor([2.0, -0.1, -3.0])
    opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor([-0.5, 0.1, 0.5]))


def test_clipnorm_per_tensor():
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    opt = optimizers.SGD(learning_rate=1.0, clipnorm=1.0)
    opt.build([a, b])
    a.grad, b.grad = torch.tensor([3.0, 4.0]), torch.tensor([0.3, 0.4])  # norms 5 and 0.5
    opt.step()
    torch.testing.assert_close(a.detach(), torch.tensor([-0.6, -0.8]))
    torch.testing.assert_close(b.detach(), torch.tensor([-0.3, -0.4]))  # unchanged below the norm


def test_global_clipnorm():
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = optimizers.SGD(learning_rate=1.0, global_clipnorm=1.0)
    opt.build([a, b])
    a.grad, b.grad = torch.tensor([3.0]), torch.tensor([4.0])  # global norm 5
    opt.step()
    torch.testing.assert_close(torch.cat([a.detach(), b.detach()]), torch.tensor([-0.6, -0.8]))
    with pytest.raises(ValueError, match="Only one of `clipnorm` and `global_clipnorm`"):
        optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="`clipnorm` must be a positive number"):
        optimizers.Adam(clipnorm=-1)


# ----------------------------------------------------------------- learning rate, kwargs

def test_learning_rate_get_set():
    opt = optimizers.Adam(learning_rate=0.01)
    assert opt.learning_rate == 0.01
    opt.learning_rate = 0.02  # before build: stored
    p = _param()
    opt.build([{"params": [p]}, {"params": [_param(1)], "lr": 0.5}])
    assert [g["lr"] for g in opt.torch_optimizer.param_groups] == [0.02, 0.5]
    opt.learning_rate = 0.003  # after build: every group
    assert [g["lr"] for g in opt.torch_optimizer.param_groups] == [0.003, 0.003]
    assert opt.learning_rate == 0.003 and opt.lr == 0.003
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0
    with pytest.raises(TypeError, match="learning_rate"):
        optimizers.SGD(learning_rate="fast")


def test_legacy_lr_and_decay_and_unknown_kwargs():
    with pytest.warns(DeprecationWarning, match="`lr` argument is deprecated") as rec:
        opt = optimizers.SGD(lr=0.1)
    assert opt.learning_rate == 0.1
    assert rec[0].filename == __file__  # the warning points at the caller
    with pytest.warns(DeprecationWarning):
        assert optimizers.RMSprop(lr=0.5).learning_rate == 0.5
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        opt = optimizers.Adam(decay=1e-6)
    assert opt.learning_rate == 0.001
    with pytest.raises(ValueError, match=r"Argument\(s\) not recognized: \{'momentumm': 0.9\}"):
        optimizers.SGD(momentumm=0.9)
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.Adam(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="`momentum` must be a float between"):
        optimizers.SGD(momentum=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="only one of `lr` and `learning_rate`"):
            optimizers.SGD(learning_rate=0.5, lr=0.1)


def test_schedule():
    sched = optimizers.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    assert sched(2) == pytest.approx(0.05) and sched(1) == pytest.approx(0.1 * 0.5 ** 0.5)
    w = torch.nn.Parameter(torch.zeros(1))
    opt = optimizers.SGD(learning_rate=optimizers.ExponentialDecay(1.0, 1, 0.5, staircase=True))
    opt.build([w])
    moves = []
    for _ in range(3):
        w.grad = torch.ones(1)
        before = w.item()
        opt.step()
        moves.append(before - w.item())
    assert moves == pytest.approx([1.0, 0.5, 0.25])  # lr = schedule(iterations) before each step
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.1
    config = opt.get_config()
    back = optimizers.get(optimizers.serialize(opt))
    assert back.get_config() == config and isinstance(back._schedule, optimizers.ExponentialDecay)


# ----------------------------------------------------------------- build / state

def test_build_twice_same_params_is_noop_and_step_before_build():
    opt = optimizers.Adam()
    with pytest.raises(RuntimeError, match="before build"):
        opt.step()
    opt.zero_grad()  # no-op before build
    p = _param()
    opt.build([p])
    torch_opt = opt.torch_optimizer
    opt.build([p])
    assert opt.torch_optimizer is torch_opt
    opt.build([p, _param(1)])
    assert opt.torch_optimizer is not torch_opt and len(opt.torch_optimizer.param_groups[0]["params"]) == 2
    with pytest.raises(ValueError, match="empty parameter list"):
        optimizers.Adam().build([])


def test_zero_grad_sets_none():
    p = _param()
    opt = optimizers.SGD()
    opt.build([p])
    _grad(p)
    opt.zero_grad()
    assert p.grad is None


def test_state_dict_round_trip_continues_identically():
    p1 = _param()
    opt1 = optimizers.Adam(0.01)
    opt1.build([p1])
    _run(opt1.step, p1, steps=2)
    state = opt1.state_dict()
    assert state["iterations"] == 2
    p2 = torch.nn.Parameter(p1.detach().clone())
    opt2 = optimizers.Adam(0.5)
    opt2.load_state_dict(state)  # before build: applied at build
    opt2.build([p2])
    assert opt2.iterations == 2 and opt2.learning_rate == 0.01
    for s in (7, 8):
        _grad(p1, s)
        _grad(p2, s)
        opt1.step()
        opt2.step()
    torch.testing.assert_close(p1.detach(), p2.detach(), rtol=0, atol=0)
    assert opt2.iterations == 4
    with pytest.raises(ValueError, match="state_dict"):
        opt2.load_state_dict({"foo": 1})


def test_get_config_round_trip():
    for opt in (optimizers.SGD(0.1, momentum=0.9, nesterov=True, clipnorm=2.0), optimizers.RMSprop(rho=0.8),
                optimizers.AdamW(weight_decay=0.01), optimizers.Adagrad(initial_accumulator_value=0.2)):
        back = type(opt).from_config(opt.get_config())
        assert back.get_config() == opt.get_config()
        back = optimizers.get(optimizers.serialize(opt))
        assert type(back) is type(opt) and back.get_config() == opt.get_config()


# ----------------------------------------------------------------- torch.optim wrapping

def test_wrap_torch_class_uses_torch_defaults():
    opt = optimizers.get(torch.optim.Adam)
    assert not opt.built and opt.learning_rate == 0.001
    p1, p2 = _param(), _param()
    opt.build([p1])
    assert opt.torch_optimizer.param_groups[0]["eps"] == 1e-8  # torch's default, not Keras's
    ref = torch.optim.Adam([p2])
    _run(opt.step, p1)
    _run(ref.step, p2)
    torch.testing.assert_close(p1.detach(), p2.detach(), rtol=0, atol=0)
    opt.learning_rate = 0.1
    assert opt.torch_optimizer.param_groups[0]["lr"] == 0.1


def test_wrap_torch_instance_keeps_user_groups():
    p = _param()
    torch_opt = torch.optim.SGD([{"params": [p], "lr": 0.3}], momentum=0.9)
    opt = optimizers.get(torch_opt)
    assert opt.built and opt.torch_optimizer is torch_opt and opt.learning_rate == 0.3
    opt.build([p])  # keeps the user's optimizer
    assert opt.torch_optimizer is torch_opt
    _grad(p)
    opt.step()
    assert opt.iterations == 1
    with pytest.raises(ValueError, match="other parameters"):
        opt.build([_param(1)])
    with pytest.raises(TypeError, match="Cannot serialize"):
        optimizers.serialize(opt)


def test_get_errors():
    with pytest.raises(ValueError, match="Unknown optimizer 'adamm'. Expected one of: sgd, adam, adamw, rmsprop"):
        optimizers.get("adamm")
    with pytest.raises(TypeError, match="Could not interpret optimizer"):
        optimizers.get(42)
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt and type(optimizers.get(optimizers.Adam)) is optimizers.Adam


def test_no_python_loop_without_clipping(monkeypatch):
    # step() must not touch individual parameters when no clipping/decay is asked for.
    opt = optimizers.Adam()
    p = _param()
    opt.build([p])
    monkeypatch.setattr(opt, "_clip", lambda: pytest.fail("clipping ran"))
    monkeypatch.setattr(opt, "_decay", lambda: pytest.fail("weight decay ran"))
    _grad(p)
    opt.step()
    assert opt.iterations == 1 and math.isfinite(p.sum().item())


def test_step_with_grad_scaler_unscales_before_clipping():
    w = torch.nn.Parameter(torch.zeros(2))
    opt = optimizers.SGD(learning_rate=1.0, clipvalue=0.5)
    opt.build([w])
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    scaler.scale((w * torch.tensor([0.25, -3.0])).sum()).backward()
    opt.step(scaler=scaler)
    torch.testing.assert_close(w.detach(), torch.tensor([-0.25, 0.5]))  # unscaled, then clipped
    assert opt.iterations == 1 and scaler.get_scale() == 1024.0
    w.grad = torch.tensor([float("inf"), 1.0])  # an overflowing step is skipped, the scale drops
    opt.step(scaler=scaler)
    torch.testing.assert_close(w.detach(), torch.tensor([-0.25, 0.5]))
    assert scaler.get_scale() == 512.0
