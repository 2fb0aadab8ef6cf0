"""LossScaleOptimizer: Keras's dynamic loss scaling (scale_loss, unscaled updates, skipped steps,
halving and growth of the scale), in a hand-written loop, in fit (float32 and mixed_float16),
with the learning-rate callbacks, in configs and in saved models."""

import json
import math

import numpy as np
import pytest
import torch

import easynn
from easynn import mixed_precision, optimizers
from easynn.callbacks import LearningRateScheduler, ReduceLROnPlateau
from easynn.optimizers import LossScaleOptimizer
from easynn.optimizers._registry import _CLASSES
from tests.helpers import small_classifier, two_blobs


@pytest.fixture(autouse=True)
def float32_policy():
    mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        mixed_precision.set_global_policy("float32")


def _params():
    g = torch.Generator().manual_seed(0)
    return [torch.nn.Parameter(torch.randn(3, 2, generator=g)), torch.nn.Parameter(torch.randn(2, generator=g))]


def _loss(params, step):
    g = torch.Generator().manual_seed(step)
    x = torch.randn(4, 3, generator=g)
    return ((x @ params[0] + params[1]) ** 2).mean()


# ------------------------------------------------------------------------------ hand-written loop
@pytest.mark.parametrize("make_inner", [
    lambda: optimizers.Adam(learning_rate=0.01),
    lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, clipnorm=0.05, weight_decay=0.01),
])
def test_scale_loss_and_apply_match_the_inner_optimizer_on_unscaled_gradients(make_inner):
    ours, ref = _params(), _params()
    opt, plain = LossScaleOptimizer(make_inner(), initial_scale=1024.0), make_inner()
    for step in range(4):
        loss = _loss(ours, step)
        scaled = opt.scale_loss(loss)
        torch.testing.assert_close(scaled, loss * 1024.0)
        grads = torch.autograd.grad(scaled, ours)
        opt.apply(grads, ours)
        plain.apply(torch.autograd.grad(_loss(ref, step), ref), ref)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)  # clipping saw the unscaled gradients
    assert opt.iterations == plain.iterations == 4
    assert opt.dynamic_scale == 1024.0 and opt.step_counter == 4


def test_an_inf_gradient_skips_the_update_and_halves_the_scale():
    params = _params()
    opt = LossScaleOptimizer(optimizers.Adam(learning_rate=0.1, weight_decay=0.5), initial_scale=64.0,
                             dynamic_growth_steps=5)
    opt.apply(torch.autograd.grad(opt.scale_loss(_loss(params, 0)), params), params)
    assert opt.iterations == 1 and opt.step_counter == 1
    before = [p.detach().clone() for p in params]
    moments = [v.clone() for v in opt.inner_optimizer.variables]
    grads = [torch.full((3, 2), math.inf), torch.ones(2)]
    opt.apply(grads, params)
    for a, b in zip(params, before):
        torch.testing.assert_close(a.detach(), b, rtol=0, atol=0)  # no update, no weight decay
    for a, b in zip(opt.inner_optimizer.variables, moments):
        torch.testing.assert_close(a, b, rtol=0, atol=0)  # Adam's state untouched
    assert opt.iterations == 1
    assert opt.dynamic_scale == 32.0 and opt.step_counter == 0
    opt.apply_gradients(zip([torch.full((3, 2), math.nan), torch.ones(2)], params))
    assert opt.dynamic_scale == 16.0 and opt.iterations == 1


def test_the_scale_doubles_after_dynamic_growth_steps_finite_steps():
    params = _params()
    opt = LossScaleOptimizer(optimizers.SGD(learning_rate=0.01), initial_scale=8.0, dynamic_growth_steps=2)
    seen = []
    for step, bad in enumerate([False, True, False, False, False, False, False]):
        grads = list(torch.autograd.grad(opt.scale_loss(_loss(params, step)), params))
        if bad:
            grads[1] = torch.full((2,), math.inf)
        opt.apply(grads, params)
        seen.append((opt.dynamic_scale, opt.step_counter))
    # finite: count; inf: halve and reset; every 2nd consecutive finite step: double and reset
    assert seen == [(8.0, 1), (4.0, 0), (4.0, 1), (8.0, 0), (8.0, 1), (16.0, 0), (16.0, 1)]
    assert opt.iterations == 6


def test_properties_forward_to_the_inner_optimizer():
    inner = optimizers.Adam(learning_rate=0.01, use_ema=True, loss_scale_factor=4.0)
    opt = LossScaleOptimizer(inner)
    assert inner.loss_scale_factor is None  # Keras: the inner optimizer must not scale a second time
    assert opt.inner_optimizer is inner and opt.initial_scale == 32768.0 and opt.dynamic_growth_steps == 2000
    assert opt.dynamic_scale == 32768.0 and opt.use_ema and opt.name == "loss_scale_optimizer"
    opt.learning_rate = 0.05
    assert inner.learning_rate == 0.05 and opt.lr == 0.05
    params = _params()
    opt.build(params)
    assert opt.built and opt.torch_optimizer is inner.torch_optimizer
    opt.learning_rate = 0.02
    assert all(group["lr"] == 0.02 for group in inner.torch_optimizer.param_groups)
    opt.apply(torch.autograd.grad(opt.scale_loss(_loss(params, 0)), params))
    # the counter and the scale, then Adam's step/m/v per weight and the two EMA copies
    assert len(opt.variables) == 2 + len(inner.variables) == 2 + 3 * 2 + 2
    assert float(opt.variables[1]) == 32768.0
    opt.iterations = 7
    assert inner.iterations == 7


def test_scale_loss_before_any_tensor_and_on_a_number():
    opt = LossScaleOptimizer(optimizers.SGD(), initial_scale=2.0)
    assert opt.scale_loss(3.0) == 6.0
    with pytest.raises(RuntimeError, match="before build"):
        opt.step()
    with pytest.raises(TypeError, match="scaler"):
        opt.step(scaler=torch.amp.GradScaler("cpu"))


# ------------------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize("kwargs, error, match", [
    ({"initial_scale": 0.0}, ValueError, "initial_scale"),
    ({"initial_scale": -2.0}, ValueError, "initial_scale"),
    ({"initial_scale": math.inf}, ValueError, "initial_scale"),
    ({"initial_scale": "big"}, ValueError, "initial_scale"),
    ({"dynamic_growth_steps": 0}, ValueError, "dynamic_growth_steps"),
    ({"dynamic_growth_steps": 1.5}, ValueError, "dynamic_growth_steps"),
    ({"clipnorm": 1.0}, ValueError, "clipnorm"),
    ({"dynamic": False}, ValueError, "dynamic"),
    ({"momentum": 0.9}, ValueError, "momentum"),
])
def test_bad_arguments_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        LossScaleOptimizer(optimizers.SGD(), **kwargs)


@pytest.mark.parametrize("inner", ["adam", torch.optim.SGD, None])
def test_inner_optimizer_must_be_an_easynn_optimizer(inner):
    with pytest.raises(TypeError, match="inner_optimizer"):
        LossScaleOptimizer(inner)
    with pytest.raises(TypeError, match="inner_optimizer"):
        LossScaleOptimizer(LossScaleOptimizer(optimizers.SGD()))


def test_base_arguments_at_their_defaults_are_accepted():
    opt = LossScaleOptimizer(optimizers.SGD(), clipnorm=None, use_ema=False, ema_momentum=0.99)
    assert opt.clipnorm is None


# ------------------------------------------------------------------------------ config
def test_get_config_from_config_and_deserialize_round_trip():
    opt = LossScaleOptimizer(optimizers.Adam(learning_rate=0.003, beta_1=0.8), initial_scale=256.0,
                             dynamic_growth_steps=7, name="lso")
    config = opt.get_config()
    assert set(config) == {"name", "inner_optimizer", "initial_scale", "dynamic_growth_steps"}  # Keras's keys
    assert config["inner_optimizer"]["class_name"] == "Adam"
    for copy in (LossScaleOptimizer.from_config(config), optimizers.deserialize(optimizers.serialize(opt)),
                 optimizers.get({"class_name": "LossScaleOptimizer", "config": config})):
        assert isinstance(copy, LossScaleOptimizer) and copy.get_config() == config
        assert isinstance(copy.inner_optimizer, optimizers.Adam) and copy.inner_optimizer.beta_1 == 0.8
        assert copy.inner_optimizer is not opt.inner_optimizer
    assert mixed_precision.LossScaleOptimizer is LossScaleOptimizer
    assert easynn.optimizers.LossScaleOptimizer is LossScaleOptimizer
    with pytest.raises(ValueError, match="inner_optimizer"):
        LossScaleOptimizer.from_config({"initial_scale": 2.0})


@pytest.mark.parametrize("cls", list(_CLASSES.values()), ids=lambda c: c.__name__)
def test_json_round_trip_around_every_optimizer(cls):
    opt = LossScaleOptimizer(cls(learning_rate=0.0123, clipnorm=1.5), initial_scale=8.0)
    clone = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(clone.inner_optimizer) is cls and clone.get_config() == opt.get_config()


def test_deserialize_finds_a_custom_inner_optimizer():
    class MySGD(optimizers.SGD):
        pass

    config = optimizers.serialize(LossScaleOptimizer(MySGD(learning_rate=0.2)))
    opt = optimizers.deserialize(config, custom_objects={"MySGD": MySGD})
    assert type(opt.inner_optimizer) is MySGD and opt.learning_rate == 0.2


# ------------------------------------------------------------------------------ fit
def _fit(optimizer, epochs=2, callbacks=None, **compile_kwargs):
    x, y = two_blobs(64)
    model = small_classifier(seed=3)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", device="cpu", **compile_kwargs)
    history = model.fit(x, y, epochs=epochs, batch_size=16, shuffle=False, verbose=0, callbacks=callbacks)
    return model, history.history


@pytest.mark.parametrize("make_inner", [
    lambda: optimizers.Adam(learning_rate=0.01),
    lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, clipnorm=0.5, use_ema=True),
])
def test_fit_with_a_loss_scale_optimizer_equals_fit_with_the_inner_one(make_inner):
    opt = LossScaleOptimizer(make_inner(), dynamic_growth_steps=3)
    scaled, scaled_history = _fit(opt)
    plain, plain_history = _fit(make_inner())
    assert scaled._trainer.scaler is None and scaled._trainer._optimizer_scales_loss
    for a, b in zip(scaled.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    np.testing.assert_allclose(scaled_history["loss"], plain_history["loss"], rtol=1e-6)
    assert opt.iterations == plain.optimizer.iterations == 8
    assert opt.dynamic_scale == 32768.0 * 4 and opt.step_counter == 2  # 8 finite steps: grew twice


def test_mixed_float16_uses_the_optimizers_scale_and_no_second_gradscaler():
    opt = LossScaleOptimizer(optimizers.SGD(learning_rate=0.1), initial_scale=1.0, dynamic_growth_steps=1)
    model, history = _fit(opt, epochs=1, mixed_precision="mixed_float16")
    assert model._trainer.scaler is None  # the automatic float16 GradScaler is not added on top
    assert opt.dynamic_scale == 16.0 and opt.iterations == 4  # 4 finite steps, each one doubled
    plain, _ = _fit(optimizers.SGD(learning_rate=0.1), epochs=1, mixed_precision="mixed_float16")
    assert isinstance(plain._trainer.scaler, torch.amp.GradScaler)
    for a, b in zip(model.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-3)


def test_mixed_float16_overflow_skips_the_step_and_halves_the_optimizers_scale():
    x, y = two_blobs(32)
    x[0, 0] = 1e30  # float16 overflow in the first matmul: inf loss and gradients
    model = small_classifier(seed=1)
    opt = LossScaleOptimizer(optimizers.SGD(learning_rate=0.1), initial_scale=1024.0)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", mixed_precision="mixed_float16", device="cpu")
    before = model.get_weights()
    model.train_on_batch(x, y)
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    assert opt.dynamic_scale == 512.0 and opt.iterations == 0 and model._trainer.scaler is None


def test_learning_rate_callbacks_change_the_inner_optimizers_rate():
    inner = optimizers.SGD(learning_rate=0.1)
    _fit(LossScaleOptimizer(inner), epochs=2, callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    assert inner.learning_rate == pytest.approx(0.05)
    assert inner.torch_optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
    inner = optimizers.SGD(learning_rate=0.1)
    plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0)  # never "improves"
    _, history = _fit(LossScaleOptimizer(inner), epochs=2, callbacks=[plateau])
    assert history["learning_rate"][0] == pytest.approx(0.1)  # epoch 0 sets the best loss; epoch 1 halves
    assert inner.learning_rate == pytest.approx(0.05)
    assert inner.torch_optimizer.param_groups[0]["lr"] == pytest.approx(0.05)


# ------------------------------------------------------------------------------ saving and resume
def test_save_and_load_keep_the_optimizer_its_scale_and_resume_exactly(tmp_path):
    opt = LossScaleOptimizer(optimizers.Adam(learning_rate=0.01), initial_scale=64.0, dynamic_growth_steps=3)
    model, _ = _fit(opt, epochs=1)
    assert (opt.dynamic_scale, opt.step_counter) == (128.0, 1)  # 4 finite steps: doubled at the 3rd
    path = tmp_path / "lso.keras"
    model.save(path)
    loaded = easynn.models.load_model(path)
    restored = loaded.optimizer
    assert isinstance(restored, LossScaleOptimizer) and isinstance(restored.inner_optimizer, optimizers.Adam)
    assert restored.get_config() == opt.get_config()
    assert restored.iterations == 4
    x, y = two_blobs(64)
    for m in (model, loaded):
        m.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    # the counter was restored: the 2nd step of the new epoch doubles the scale in both
    assert restored.dynamic_scale == opt.dynamic_scale == 256.0 and restored.step_counter == opt.step_counter == 2
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_state_dict_round_trip_before_and_after_build():
    params = _params()
    opt = LossScaleOptimizer(optimizers.Adam(learning_rate=0.01), initial_scale=16.0, dynamic_growth_steps=4)
    for step in range(2):
        opt.apply(torch.autograd.grad(opt.scale_loss(_loss(params, step)), params), params)
    opt.apply([torch.full((3, 2), math.nan), torch.ones(2)], params)
    opt.apply(torch.autograd.grad(opt.scale_loss(_loss(params, 3)), params), params)
    state = opt.state_dict()
    assert state["loss_scale"] == {"dynamic_scale": 8.0, "step_counter": 1} and state["iterations"] == 3
    fresh = LossScaleOptimizer(optimizers.Adam(learning_rate=0.01), initial_scale=16.0, dynamic_growth_steps=4)
    fresh.load_state_dict(state)  # before build: kept until build
    assert fresh.dynamic_scale == 8.0 and fresh.step_counter == 1
    copies = [p.detach().clone().requires_grad_() for p in params]
    fresh.build(copies)
    assert fresh.iterations == 3
    for step in range(4, 8):
        opt.apply(torch.autograd.grad(opt.scale_loss(_loss(params, step)), params), params)
        fresh.apply(torch.autograd.grad(fresh.scale_loss(_loss(copies, step)), copies), copies)
    for a, b in zip(params, copies):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert fresh.dynamic_scale == opt.dynamic_scale == 16.0 and fresh.step_counter == opt.step_counter == 1
    with pytest.raises(ValueError, match="loss_scale"):
        fresh.load_state_dict({**state, "loss_scale": {"dynamic_scale": "x"}})
