"""Muon: Keras 3's update rules (a NumPy float64 reference of keras/src/optimizers/muon.py), which weights take
Muon vs AdamW, torch.optim.Muon cross-check, fit, config/registry, state round trip, errors."""

import math

import numpy as np
import pytest
import torch

import easynn
from easynn import optimizers
from easynn.optimizers import Muon
from easynn.optimizers.muon import newton_schulz
from easynn.variables import Variable


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ------------------------------------------------------------------ a NumPy reference of Keras's formulas
def _np_newton_schulz(x, steps, a=3.4445, b=-4.7750, c=2.0315):
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


class _KerasMuonReference:
    """keras.optimizers.Muon's apply(): weight decay, then Muon (2-D, not excluded) or AdamW per variable."""

    def __init__(self, lr, wd, adam_wd, beta_1, beta_2, eps, adam_lr_ratio, momentum, ns_steps, nesterov, rms_rate):
        self.__dict__.update(locals())
        self.m, self.v, self.iterations = {}, {}, 0

    def apply(self, weights, grads, use_muon):
        for i, (w, g) in enumerate(zip(weights, grads)):
            decay = self.wd if use_muon[i] else self.adam_wd
            if decay:
                w -= w * decay * self.lr
            m = self.m.setdefault(i, np.zeros_like(w))
            if use_muon[i]:
                m += g + m * (self.momentum - 1)
                u = g + self.momentum * m if self.nesterov else m
                update = self.lr * _np_newton_schulz(u, self.ns_steps)
                if self.rms_rate is not None:
                    update = update * math.sqrt(max(w.shape[0], w.shape[1])) * self.rms_rate
                w -= update
            else:
                v = self.v.setdefault(i, np.zeros_like(w))
                t = self.iterations + 1
                alpha = self.lr * self.adam_lr_ratio * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
                m += (g - m) * (1 - self.beta_1)
                v += (g * g - v) * (1 - self.beta_2)
                w -= m * alpha / (np.sqrt(v) + self.eps)
        self.iterations += 1


def _variables():
    """A dense kernel (Muon), a tall and a wide 2-D weight, a bias, a conv kernel, an embedding, an excluded layer."""
    shapes = {"dense/kernel": (5, 3), "tall/kernel": (7, 2), "wide/kernel": (2, 6), "dense/bias": (3,),
              "conv/kernel": (2, 2, 3, 4), "embedding/embeddings": (6, 4), "output_dense/kernel": (3, 2)}
    out = []
    for i, (path, shape) in enumerate(shapes.items()):
        g = torch.Generator().manual_seed(i)
        layer, name = path.split("/")
        with easynn.name_scope(layer):
            out.append(Variable(torch.randn(shape, generator=g, dtype=torch.float64), name=name))
    return out


@pytest.mark.parametrize("nesterov,rms_rate,adam_lr_ratio,wd,adam_wd", [
    (True, 0.2, 1.0, 0.004, 0.004),  # Keras's defaults
    (False, None, 0.1, 0.1, None),
    (True, 0.5, 2.0, None, 0.01),
])
def test_updates_match_keras_formulas(nesterov, rms_rate, adam_lr_ratio, wd, adam_wd):
    variables = _variables()
    assert [v.path for v in variables][-2:] == ["embedding/embeddings", "output_dense/kernel"]
    opt = Muon(learning_rate=0.05, weight_decay=wd, adam_weight_decay=adam_wd, adam_lr_ratio=adam_lr_ratio,
               nesterov=nesterov, rms_rate=rms_rate, exclude_layers=["^output_"], ns_steps=4)
    use_muon = [True, True, True, False, False, False, False]
    ref = _KerasMuonReference(0.05, wd, adam_wd, 0.9, 0.999, 1e-7, adam_lr_ratio, 0.95, 4, nesterov, rms_rate)
    weights = [v.detach().numpy().copy() for v in variables]
    rng = np.random.default_rng(0)
    for _ in range(4):
        grads = [rng.standard_normal(w.shape) for w in weights]
        opt.apply([torch.tensor(g) for g in grads], variables)
        ref.apply(weights, grads, use_muon)
    for v, w in zip(variables, weights):
        np.testing.assert_allclose(v.detach().numpy(), w, rtol=1e-9, atol=1e-9, err_msg=v.path)
    assert opt.torch_optimizer.param_groups[0]["use_muon"] == use_muon
    assert opt.iterations == 4


def test_newton_schulz_against_numpy_and_orthogonalizes():
    x = torch.randn(6, 4, dtype=torch.float64)
    np.testing.assert_allclose(newton_schulz(x, 5).numpy(), _np_newton_schulz(x.numpy(), 5), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(newton_schulz(x.T, 5).numpy(), _np_newton_schulz(x.numpy().T, 5), atol=1e-12)
    s = torch.linalg.svdvals(newton_schulz(x, 5))
    assert bool(((s > 0.6) & (s < 1.25)).all())  # Keras's quintic: singular values near 1, not exactly
    u, _, vh = torch.linalg.svd(x, full_matrices=False)
    # the same singular vectors: U^T NS(x) V is diagonal
    core = u.T @ newton_schulz(x, 5) @ vh.T
    assert torch.allclose(core, torch.diag(core.diagonal()), atol=1e-10)
    half = newton_schulz(x.to(torch.bfloat16), 5)
    assert half.dtype == torch.bfloat16


def test_agrees_with_torch_muon_up_to_its_bfloat16_iteration():
    """torch.optim.Muon (average momentum, bfloat16 Newton-Schulz, 0.2 sqrt(max(A, B)) with match_rms_adamw)."""
    g = torch.Generator().manual_seed(3)
    start = torch.randn(8, 5, generator=g)
    ours = torch.nn.Parameter(start.clone())
    theirs = torch.nn.Parameter(start.clone())
    opt = Muon(learning_rate=0.02, weight_decay=0.1, rms_rate=0.2)
    opt.build([ours])
    reference = torch.optim.Muon([theirs], lr=0.02, weight_decay=0.1, adjust_lr_fn="match_rms_adamw")
    for _ in range(3):
        grad = torch.randn(8, 5, generator=g)
        ours.grad, theirs.grad = grad.clone(), grad.clone()
        opt.step()
        reference.step()
    ours, theirs = ours.detach(), theirs.detach()
    moved = (theirs - start).norm()
    assert float((ours - theirs).norm() / moved) < 0.03  # bfloat16 has 8 bits of mantissa
    assert float((ours - start).norm() / moved) == pytest.approx(1.0, rel=0.03)


def test_model_weights_are_split_by_keras_rules_and_fit_learns():
    model = easynn.Sequential([
        easynn.Input(shape=(3,), dtype="int64"),
        easynn.layers.Embedding(10, 4, name="embedding"),
        easynn.layers.Flatten(),
        easynn.layers.Dense(8, activation="relu", name="hidden"),
        easynn.layers.Dense(1, name="output_dense"),
    ])
    opt = Muon(learning_rate=0.01, exclude_layers=["output_dense"])
    model.compile(optimizer=opt, loss="mse")
    x = torch.randint(0, 10, (64, 3))
    y = x.float().mean(dim=1, keepdim=True) / 10
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    flags = {p.path: f for p, f in zip(opt.torch_optimizer.param_groups[0]["params"],
                                        opt.torch_optimizer.param_groups[0]["use_muon"])}
    assert flags == {"embedding/embeddings": False, "hidden/kernel": True, "hidden/bias": False,
                     "output_dense/kernel": False, "output_dense/bias": False}
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]


def test_config_registry_schedule_and_state_round_trip():
    opt = optimizers.get("muon")
    assert isinstance(opt, Muon)
    config = opt.get_config()
    keras_keys = {"adam_beta_1", "adam_beta_2", "epsilon", "exclude_layers", "muon_a", "muon_b", "muon_c",
                  "adam_lr_ratio", "momentum", "ns_steps", "nesterov", "exclude_embeddings", "adam_weight_decay",
                  "rms_rate", "weight_decay", "learning_rate", "name"}
    assert keras_keys <= set(config)
    assert (config["ns_steps"], config["adam_lr_ratio"], config["rms_rate"], config["weight_decay"],
            config["adam_weight_decay"], config["name"]) == (5, 1.0, 0.2, 0.004, 0.004, "muon")
    custom = Muon(learning_rate=optimizers.ExponentialDecay(0.1, 2, 0.5), exclude_layers="head", momentum=0.9,
                  rms_rate=None)
    back = optimizers.deserialize(optimizers.serialize(custom))
    assert isinstance(back, Muon) and back.get_config() == custom.get_config()
    assert back.exclude_layers == ["head"]
    # resuming from a state_dict continues exactly
    variables = _variables()
    copies = [Variable(v.detach().clone(), name=v.name) for v in variables]
    first, second = Muon(learning_rate=0.1), Muon(learning_rate=0.1)
    grads = [[torch.randn(v.shape, dtype=torch.float64) for v in variables] for _ in range(3)]
    first.apply(grads[0], variables)
    first.apply(grads[1], variables)
    second.apply(grads[0], copies)
    third = Muon(learning_rate=0.1)
    third.build(copies)
    third.load_state_dict(first.state_dict())
    for c, v in zip(copies, variables):
        c.data.copy_(v.detach())
    first.apply(grads[2], variables)
    third.apply(grads[2], copies)
    for c, v in zip(copies, variables):
        assert torch.equal(c.detach(), v.detach())


def test_bad_arguments():
    with pytest.raises(ValueError, match="adam_beta_1"):
        Muon(adam_beta_1=1.0)
    with pytest.raises(ValueError, match="momentum"):
        Muon(momentum=-0.1)
    with pytest.raises(ValueError, match="ns_steps"):
        Muon(ns_steps=0)
    with pytest.raises(ValueError, match="rms_rate"):
        Muon(rms_rate=0)
    with pytest.raises(ValueError, match="epsilon"):
        Muon(epsilon=-1e-7)
    with pytest.raises(ValueError, match="adam_weight_decay"):
        Muon(adam_weight_decay=-0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        Muon(weight_decay=-0.1)
    with pytest.raises(ValueError, match="muon_a"):
        Muon(muon_a=float("nan"))
    with pytest.raises(TypeError, match="exclude_layers"):
        Muon(exclude_layers=[1])
    with pytest.raises(ValueError, match="exclude_layers"):
        Muon(exclude_layers=["("])
    with pytest.raises(TypeError, match="nesterov"):
        Muon(nesterov="yes")
    with pytest.raises(ValueError, match="not recognized"):
        Muon(beta_1=0.9)
