"""Mixed precision on the CPU: Keras's policy names, autocast in the forward pass, float32
variables, loss scaling for float16, and easynn's activation Functions under autocast."""

import numpy as np
import pytest
import torch

import easynn
from easynn import activations, mixed_precision
from tests.helpers import ACTIVATION_REFERENCES, small_classifier, two_blobs


def blobs(n=256, seed=0):
    return two_blobs(n, seed)


small_model = small_classifier


@pytest.fixture(autouse=True)
def float32_policy():
    """Every test starts and ends with the default policy, even when it fails."""
    mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        mixed_precision.set_global_policy("float32")


def record_dtypes(layer):
    """Output dtypes of ``layer`` in training steps (fit also runs a float32 probe in eval mode
    on two samples to learn output shapes; that one is not a training step)."""
    seen = []

    def hook(module, inputs, output):
        if module.training:
            seen.append(output.dtype)

    layer.register_forward_hook(hook)
    return seen


# ------------------------------------------------------------------------------ the policy object
def test_policy_names_and_dtypes():
    assert mixed_precision.Policy("mixed_float16").compute_dtype == "float16"
    assert mixed_precision.Policy("mixed_bfloat16").compute_dtype == "bfloat16"
    assert mixed_precision.Policy("float32").compute_dtype == "float32"
    for name in ("float32", "mixed_float16", "mixed_bfloat16"):
        assert mixed_precision.Policy(name).variable_dtype == "float32"
    mixed_precision.set_global_policy(mixed_precision.Policy("mixed_bfloat16"))
    assert mixed_precision.global_policy() == "mixed_bfloat16"


@pytest.mark.parametrize("bad", ["mixed_float32", "fp16", "Mixed_Float16", ""])
def test_unknown_policy_raises(bad):
    with pytest.raises(ValueError, match="policy"):
        mixed_precision.set_global_policy(bad)
    with pytest.raises(ValueError, match="policy"):
        mixed_precision.Policy(bad)
    assert mixed_precision.global_policy() == "float32"  # unchanged by the failed call
    model = small_model()
    with pytest.raises(ValueError, match="mixed_precision"):
        model.compile(optimizer="sgd", loss="mse", mixed_precision=bad, device="cpu")


# ------------------------------------------------------------------------------ mixed_bfloat16
def test_mixed_bfloat16_fit_trains_with_float32_variables():
    x, y = blobs()
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  mixed_precision="mixed_bfloat16", device="cpu")
    seen = record_dtypes(model.layers[0])
    history = model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses
    assert history.history["accuracy"][-1] > 0.9
    # The forward really ran in bfloat16 ...
    assert seen and set(seen) == {torch.bfloat16}
    # ... while the variables (and the optimizer's slots) stayed float32.
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model._trainer.scaler is None  # bfloat16 has float32's range: no loss scaling
    predictions = model.predict(x[:10], verbose=0)
    assert isinstance(predictions, np.ndarray) and predictions.dtype == np.float32
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, atol=1e-2)
    # evaluate runs under the policy too and agrees with the training-time accuracy
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert np.isfinite(loss) and accuracy > 0.9


def test_float32_policy_runs_in_float32():
    x, y = blobs(64)
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", device="cpu")
    seen = record_dtypes(model.layers[0])
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert set(seen) == {torch.float32}


def test_mixed_bfloat16_tracks_float32_training():
    """Same seed, same data: the bfloat16 run follows the float32 one to bfloat16 accuracy."""
    x, y = blobs(128)
    runs = {}
    for policy in ("float32", "mixed_bfloat16"):
        model = small_model(seed=3)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", mixed_precision=policy, device="cpu")
        runs[policy] = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(runs["mixed_bfloat16"], runs["float32"], rtol=3e-2)
    assert runs["mixed_bfloat16"] != runs["float32"]  # and it did not silently run in float32


# ------------------------------------------------------------------------------ the global policy
def test_global_policy_applies_to_models_compiled_after_it_is_set():
    x, y = blobs(64)
    before = small_model()
    before.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", device="cpu")
    mixed_precision.set_global_policy("mixed_bfloat16")
    after = small_model()
    after.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", device="cpu")
    override = small_model()
    override.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", mixed_precision="float32", device="cpu")
    seen = {name: record_dtypes(m.layers[0]) for name, m in (("before", before), ("after", after), ("override", override))}
    for model in (before, after, override):
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert set(seen["before"]) == {torch.float32}
    assert set(seen["after"]) == {torch.bfloat16}
    assert set(seen["override"]) == {torch.float32}


# ------------------------------------------------------------------------------ mixed_float16
def test_mixed_float16_on_cpu_scales_the_loss_and_trains():
    x, y = blobs()
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", mixed_precision="mixed_float16", device="cpu")
    seen = record_dtypes(model.layers[0])
    losses = model.fit(x, y, epochs=6, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses
    assert set(seen) == {torch.float16}
    scaler = model._trainer.scaler
    assert isinstance(scaler, torch.amp.GradScaler) and scaler.is_enabled()
    assert scaler.get_scale() >= 1.0
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert model.predict(x[:4], verbose=0).dtype == np.float32


def test_mixed_float16_gradients_are_unscaled_before_the_step():
    """One SGD step: the update must equal float32's, not be 65536 (the loss scale) times it."""
    x, y = blobs(32)
    weights = {}
    for policy in ("float32", "mixed_float16"):
        model = small_model(seed=5)
        model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy",
                      mixed_precision=policy, device="cpu")
        start = [w.copy() for w in model.get_weights()]
        model.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
        weights[policy] = (start, model.get_weights())
    assert model._trainer.scaler.get_scale() == 65536.0  # no overflow: the scale is unchanged
    start, end16 = weights["mixed_float16"]
    _, end32 = weights["float32"]
    assert len(start) == len(end16) == len(end32) == 4
    for before, w16, w32 in zip(start, end16, end32):
        assert np.abs(w32 - before).max() > 1e-4  # the step moved the weights
        np.testing.assert_allclose(w16, w32, atol=2e-3)


def test_mixed_float16_skips_a_step_with_overflowing_gradients():
    """GradScaler's contract: an inf gradient skips the step and halves the scale."""
    x, y = blobs(32)
    x[0, 0] = 1e30  # float16 overflow in the first matmul -> inf loss and gradients
    model = small_model(seed=1)
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy",
                  mixed_precision="mixed_float16", device="cpu")
    before = [w.copy() for w in model.get_weights()]
    assert len(before) == 4
    model.train_on_batch(x, y)
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    assert model._trainer.scaler.get_scale() == 32768.0


# ------------------------------------------------------------------------------ activations
REFERENCES = ACTIVATION_REFERENCES


@pytest.mark.parametrize("name", sorted(REFERENCES))
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_activation_functions_under_autocast(name, dtype):
    """An activation after a matmul under autocast: value and gradient as torch's op computes them
    on the same low-precision input, gradients reach float32 leaves as float32."""
    torch.manual_seed(0)
    x = torch.randn(6, 5, requires_grad=True)
    w = torch.randn(5, 4, requires_grad=True)
    fn = activations.get(name)
    with torch.autocast("cpu", dtype=dtype):
        h = x @ w
        assert h.dtype == dtype
        out = fn(h, 0.2) if name == "leaky_relu" else fn(h)
    assert out.dtype in (dtype, torch.float32)
    expected = REFERENCES[name](h.detach().float())
    torch.testing.assert_close(out.float(), expected, rtol=2e-2, atol=2e-2)
    upstream = torch.linspace(-1.0, 1.0, out.numel()).reshape(out.shape)
    (out.float() * upstream).sum().backward()
    assert x.grad.dtype == torch.float32 and w.grad.dtype == torch.float32
    ref_h = h.detach().float().requires_grad_()
    (REFERENCES[name](ref_h) * upstream).sum().backward()
    torch.testing.assert_close(x.grad, ref_h.grad @ w.detach().t(), rtol=5e-2, atol=5e-2)
