"""The CUDA path: training on the GPU, data moved once (or pinned when too big), float16 mixed
precision with loss scaling, channels_last convolutions and activations equal to the CPU/torch.

Every test here needs a CUDA GPU and is skipped without one.
"""

import numpy as np
import pytest
import torch

from easynn import activations
from easynn.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from easynn.models import Sequential
from easynn.training import data as data_module
from easynn.utils import set_random_seed
from tests.helpers import ACTIVATION_REFERENCES, small_classifier, two_blobs


def blobs(n=512, seed=0):
    return two_blobs(n, seed)


small_model = small_classifier


pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.fixture(autouse=True)
def exact_float32(monkeypatch):
    """TF32 would make GPU results differ from the CPU's by ~1e-3; compare in true float32."""
    if torch.cuda.is_available():
        monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
        monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)


def capture_batches(monkeypatch):
    """Record every batches object fit/evaluate/predict builds."""
    made = []
    real_adapt = data_module.adapt

    def adapt(*args, **kwargs):
        batches = real_adapt(*args, **kwargs)
        made.append(batches)
        return batches

    monkeypatch.setattr(data_module, "adapt", adapt)
    return made


# ------------------------------------------------------------------------------ fit / predict
def test_fit_on_cuda_trains_and_predict_returns_cpu_numpy(monkeypatch):
    x, y = blobs()
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], device="cuda")
    assert all(p.is_cuda for p in model.parameters())
    made = capture_batches(monkeypatch)
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    # In-memory data went to the GPU once, as whole tensors, and every batch is a GPU slice.
    (batches,) = made
    assert isinstance(batches, data_module.ArrayBatches) and batches.on_device
    assert batches.x.is_cuda and batches.y.is_cuda
    x_batch, y_batch, _ = next(iter(batches.epoch(0)))
    assert x_batch.is_cuda and y_batch.is_cuda
    predictions = model.predict(x[:50], verbose=0)
    assert isinstance(predictions, np.ndarray) and predictions.dtype == np.float32
    assert predictions.shape == (50, 2)
    # The same weights on the CPU give the same predictions.
    cpu_model = small_model()
    cpu_model.set_weights(model.get_weights())
    np.testing.assert_allclose(cpu_model.predict(x[:50], verbose=0), predictions, rtol=1e-4, atol=1e-5)


def test_pinned_host_path_gives_the_same_training(monkeypatch):
    """Data too big for the GPU stay pinned on the host and are copied per batch (non_blocking);
    the numbers must be those of the on-device path."""
    x, y = blobs(200)
    results = {}
    for forced in (False, True):
        if forced:
            monkeypatch.setattr(data_module.ArrayBatches, "_fits_on_device", lambda self, *values: False)
        made = capture_batches(monkeypatch)
        model = small_model(seed=4)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", device="cuda")
        history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)  # shuffled: same seed, same order
        batches = made[0]
        assert batches.on_device is (not forced)
        if forced:
            assert batches.x.device.type == "cpu" and batches.x.is_pinned()
            x_batch, y_batch, _ = next(iter(batches.epoch(0)))
            assert x_batch.is_cuda and y_batch.is_cuda
        results[forced] = (history.history["loss"], model.get_weights(), model.predict(x, verbose=0))
    np.testing.assert_allclose(results[True][0], results[False][0], rtol=1e-6)
    for pinned, on_device in zip(results[True][1], results[False][1]):
        np.testing.assert_allclose(pinned, on_device, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(results[True][2], results[False][2], rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------ mixed precision
def test_mixed_float16_on_cuda_with_loss_scaling_trains():
    x, y = blobs()
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  mixed_precision="mixed_float16", device="cuda")
    seen = []
    model.layers[0].register_forward_hook(lambda m, i, o: seen.append(o.dtype) if m.training else None)
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    assert seen and set(seen) == {torch.float16}
    scaler = model._trainer.scaler
    assert isinstance(scaler, torch.amp.GradScaler) and scaler.is_enabled()
    assert all(p.dtype == torch.float32 and p.is_cuda for p in model.parameters())
    predictions = model.predict(x[:8], verbose=0)
    assert predictions.dtype == np.float32 and np.isfinite(predictions).all()


def test_mixed_bfloat16_on_cuda_trains():
    x, y = blobs()
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", mixed_precision="mixed_bfloat16",
                  device="cuda")
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    assert model._trainer.scaler is None
    assert all(p.dtype == torch.float32 for p in model.parameters())


# ------------------------------------------------------------------------------ convolutions
def test_conv2d_channels_last_on_cuda_equals_cpu():
    set_random_seed(0)
    conv = Conv2D(8, 3, padding="same", activation="relu")
    pool = MaxPooling2D()
    x = torch.randn(4, 12, 12, 3)
    conv(x)  # build on the CPU
    cpu_x = x.clone().requires_grad_()
    cpu_out = pool(conv(cpu_x))
    cpu_out.sum().backward()
    cpu_grads = [p.grad.clone() for p in conv.parameters()]
    conv.zero_grad()
    conv.to("cuda")
    cuda_x = x.cuda().requires_grad_()
    cuda_out = pool(conv(cuda_x))
    assert cuda_out.shape == cpu_out.shape == (4, 6, 6, 8)
    torch.testing.assert_close(cuda_out.cpu(), cpu_out, rtol=1e-4, atol=1e-5)
    cuda_out.sum().backward()
    torch.testing.assert_close(cuda_x.grad.cpu(), cpu_x.grad, rtol=1e-4, atol=1e-5)
    for cuda_grad, cpu_grad in zip((p.grad for p in conv.parameters()), cpu_grads):
        torch.testing.assert_close(cuda_grad.cpu(), cpu_grad, rtol=1e-4, atol=1e-4)


def test_convnet_fit_on_cuda_matches_cpu():
    """A small Keras-style convnet: same seed, same data, a few SGD steps on each device."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 10, 10, 1)).astype("float32")
    y = rng.integers(0, 3, size=64).astype("int64")
    weights = {}
    for device in ("cpu", "cuda"):
        set_random_seed(2)
        model = Sequential([Input((10, 10, 1)), Conv2D(4, 3, activation="relu"), MaxPooling2D(), Flatten(),
                            Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", device=device)
        model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        weights[device] = model.get_weights()
    for w_cpu, w_cuda in zip(weights["cpu"], weights["cuda"]):
        np.testing.assert_allclose(w_cuda, w_cpu, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------ activations
REFERENCES = ACTIVATION_REFERENCES


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activations_on_cuda_equal_torch(name):
    fn = activations.get(name)
    torch.manual_seed(0)
    x = (torch.randn(64, 16, device="cuda") * 3).requires_grad_()
    ref_x = x.detach().clone().requires_grad_()
    upstream = torch.randn(64, 16, device="cuda")
    out = fn(x)
    expected = REFERENCES[name](ref_x)
    assert out.is_cuda and out.dtype == torch.float32
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
    (out * upstream).sum().backward()
    (expected * upstream).sum().backward()
    torch.testing.assert_close(x.grad, ref_x.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activations_on_cuda_under_float16_autocast(name):
    fn = activations.get(name)
    torch.manual_seed(0)
    x = torch.randn(32, 16, device="cuda", requires_grad=True)
    w = torch.randn(16, 16, device="cuda", requires_grad=True)
    with torch.autocast("cuda", dtype=torch.float16):
        h = x @ w
        out = fn(h)
    assert h.dtype == torch.float16
    expected = REFERENCES[name](h.detach().float())
    torch.testing.assert_close(out.float(), expected, rtol=1e-2, atol=1e-2)
    out.float().sum().backward()
    assert x.grad.dtype == torch.float32 and torch.isfinite(x.grad).all()
    ref_h = h.detach().float().requires_grad_()
    REFERENCES[name](ref_h).sum().backward()
    torch.testing.assert_close(x.grad, ref_h.grad @ w.detach().t(), rtol=3e-2, atol=3e-2)


# ------------------------------------------------------------------------------ compiled on CUDA
@pytest.mark.slow
def test_jit_compile_on_cuda_matches_eager():
    x, y = blobs(256)
    losses = {}
    for jit in (False, True):
        model = small_model(seed=9)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit, device="cuda")
        losses[jit] = model.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)
