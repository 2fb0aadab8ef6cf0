"""Circle loss (keras.losses.Circle / circle): per-sample values against a NumPy transcription of the
formula and Keras's own test numbers, Keras's masked reductions, gradients, configs, get/deserialize,
and compile/fit/save."""

import json

import numpy as np
import pytest
import torch

import easynn
from easynn import losses

T = torch.tensor


def np_circle(labels, emb, ref_labels=None, ref_emb=None, remove_diagonal=True, gamma=80.0, margin=0.4):
    """The formula written out in NumPy, one sample and one pair at a time."""
    ref_labels = labels if ref_labels is None else ref_labels
    ref_emb = emb if ref_emb is None else ref_emb
    out = []
    for i in range(len(labels)):
        pos, neg = [], []
        for j in range(len(ref_labels)):
            d = max(1.0 - float(np.dot(emb[i], ref_emb[j])), 0.0)
            if labels[i] == ref_labels[j]:
                if not (remove_diagonal and i == j):
                    pos.append(-gamma * max(margin + d, 0.0) * (margin - d))
            else:
                neg.append(gamma * max(1 + margin - d, 0.0) * (1 - margin - d))
        if not pos or not neg:
            out.append(0.0)
            continue
        total = np.logaddexp.reduce(pos) + np.logaddexp.reduce(neg)
        out.append(float(np.logaddexp(0.0, total)))
    return np.array(out)


# Keras's CircleTest data (keras/src/losses/losses_test.py)
Y_TRUE = np.array([1, 1, 2, 2, 3])
Y_PRED = np.array([
    [0.70014004, -0.42008403, 0.14002801, 0.56011203],
    [0.17609018, 0.70436073, -0.52827054, 0.44022545],
    [-0.34050261, 0.25537696, -0.68100522, 0.59587957],
    [0.32163376, -0.75047877, 0.53605627, -0.21442251],
    [0.51261459, -0.34174306, 0.17087153, 0.76892189],
], dtype="float32")
REF_LABELS = np.array([1, 1, 2, 2, 3, 4])
REF_EMB = np.array([
    [0.40824829, -0.54433105, 0.27216553, 0.68041382],
    [0.76376261, 0.10910895, -0.54554473, 0.32732684],
    [-0.74420841, 0.24806947, 0.49613894, -0.3721042],
    [0.52981294, -0.13245324, 0.79471941, -0.26490647],
    [0.54554473, -0.32732684, 0.10910895, 0.76376261],
    [-0.27216553, 0.68041382, 0.40824829, -0.54433105],
], dtype="float32")


def test_tiny_batch_worked_out_by_hand():
    # e0 = (1, 0), e1 = (0.6, 0.8), e2 = (0.8, 0.6); labels 0, 0, 1.
    # Sample 0: positive e1 at distance 0.4 = margin -> score 0 -> logsumexp 0; negative e2 at
    # distance 0.2: 80 * (1.4 - 0.2) * (0.6 - 0.2) = 38.4; softplus(38.4) = 38.4 (to 1e-16).
    # Sample 2 has no positive pair -> 0.
    emb = T([[1.0, 0.0], [0.6, 0.8], [0.8, 0.6]], dtype=torch.float64)
    out = losses.circle(T([0, 0, 1]), emb)
    assert out[0].item() == pytest.approx(38.4) and out[2].item() == 0.0
    np.testing.assert_allclose(out.numpy(), np_circle([0, 0, 1], emb.numpy()), rtol=1e-12)


def test_per_sample_values_against_numpy_on_random_batches():
    rng = np.random.default_rng(0)
    for _ in range(3):
        emb = rng.normal(size=(6, 3))
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        labels = rng.integers(0, 3, size=6)
        for kwargs in ({}, {"gamma": 16.0, "margin": 0.25}, {"remove_diagonal": False}):
            got = losses.circle(T(labels), T(emb), **kwargs).numpy()
            np.testing.assert_allclose(got, np_circle(labels, emb, **kwargs), rtol=1e-10, atol=1e-12)


def test_keras_test_numbers():
    circle = losses.Circle(gamma=80.0, margin=0.4)
    assert float(circle(T(Y_TRUE), T(Y_PRED))) == pytest.approx(188.3883, abs=1e-3)
    assert float(losses.Circle(gamma=256, margin=0.25)(T(Y_TRUE), T(Y_PRED))) == pytest.approx(652.7617, abs=1e-3)
    with_refs = losses.circle(T(Y_TRUE), T(Y_PRED), ref_labels=T(REF_LABELS), ref_embeddings=T(REF_EMB),
                              remove_diagonal=False)
    np.testing.assert_allclose(with_refs.numpy(), [61.5844, 94.3465, 276.9344, 90.9873, 48.8963], atol=1e-3)
    none = losses.Circle(reduction=None)(T(REF_LABELS), T(REF_EMB))
    np.testing.assert_allclose(none.numpy(), [82.9116, 36.7942, 92.4590, 52.6798, 0.0, 0.0], atol=1e-3)
    assert float(losses.Circle(reduction="sum")(T(REF_LABELS), T(REF_EMB))) == pytest.approx(264.845, abs=1e-3)


def test_reductions_average_over_samples_with_a_positive_loss():
    per_sample = np_circle(Y_TRUE, Y_PRED)  # the last sample (label 3) has no positive -> 0
    assert per_sample[-1] == 0.0 and (per_sample[:-1] > 0).all()
    w = np.array([2.0, 2.0, 1.0, 1.0, 0.5], dtype="float32")
    kept = per_sample > 0
    cases = {
        "sum_over_batch_size": (None, per_sample.sum() / kept.sum()),  # / 4, not / 5
        "mean": (None, per_sample.sum() / kept.sum()),
        "sum": (None, per_sample.sum()),
        "sum_over_batch_size_w": (w, (per_sample * w).sum() / kept.sum()),  # Keras: 244.91918
        "mean_with_sample_weight": (w, (per_sample * w).sum() / (w * kept).sum()),  # Keras: 163.27948
    }
    for reduction, (weights, expected) in cases.items():
        loss = losses.Circle(reduction=reduction.removesuffix("_w"))
        sample_weight = None if weights is None else T(weights)
        assert float(loss(T(Y_TRUE), T(Y_PRED), sample_weight=sample_weight)) == pytest.approx(expected, rel=1e-5)
    assert float(losses.Circle()(T(Y_TRUE), T(Y_PRED), sample_weight=T(w))) == pytest.approx(244.91918, abs=1e-3)
    # every sample without a pair: 0, not NaN
    assert float(losses.Circle()(T([0, 1]), T([[1.0, 0.0], [0.0, 1.0]]))) == 0.0
    # the function wrapped by get() is reduced the same way (Keras reads the mask circle() sets)
    assert float(losses.get(losses.circle)(T(Y_TRUE), T(Y_PRED))) == pytest.approx(188.3883, abs=1e-3)


def test_gradients_are_finite_and_match_finite_differences():
    emb = torch.nn.functional.normalize(torch.randn(5, 3, generator=torch.Generator().manual_seed(3),
                                                    dtype=torch.float64), dim=1)
    labels = T([0, 0, 1, 1, 2])  # label 2 has no positive pair: its row must give a 0 gradient, not NaN
    x = emb.clone().requires_grad_()
    losses.Circle(gamma=4.0)(labels, x).backward()
    assert torch.isfinite(x.grad).all() and x.grad[4].abs().sum() > 0  # row 4 still acts as a negative
    torch.autograd.gradcheck(lambda e: losses.circle(labels, e, gamma=4.0, margin=0.25), (emb.clone().requires_grad_(),))


def test_config_get_deserialize_and_bad_arguments():
    loss = losses.Circle(gamma=32.0, margin=0.3, remove_diagonal=False, reduction="sum", name="c")
    config = loss.get_config()
    assert config == {"name": "c", "reduction": "sum", "gamma": 32.0, "margin": 0.3, "remove_diagonal": False}
    clone = losses.deserialize(json.loads(json.dumps(losses.serialize(loss))))
    assert type(clone) is losses.Circle and clone.get_config() == config
    assert float(clone(T(Y_TRUE), T(Y_PRED))) == pytest.approx(float(loss(T(Y_TRUE), T(Y_PRED))))
    assert losses.Circle().get_config() == {"name": "circle", "reduction": "sum_over_batch_size", "gamma": 80.0,
                                            "margin": 0.4, "remove_diagonal": True}
    assert type(losses.get("circle")) is losses.Circle and type(losses.get("Circle")) is losses.Circle
    assert losses.serialize(losses.circle) == "circle"
    with pytest.raises(ValueError, match="gamma"):
        losses.Circle(gamma=-1.0)
    with pytest.raises(ValueError, match="margin"):
        losses.Circle(margin=float("nan"))
    with pytest.raises(ValueError, match="remove_diagonal"):
        losses.circle(T(Y_TRUE), T(Y_PRED), remove_diagonal="yes")
    with pytest.raises(ValueError, match="reduction"):
        losses.Circle(reduction="avg")
    with pytest.raises(ValueError, match="circle"):
        losses.Circle().check((8,), (8, 2, 3))
    with pytest.raises(ValueError, match="circle"):
        losses.circle(T([0, 1, 0]), T(Y_PRED))


def test_compile_fit_and_save_with_circle(tmp_path):
    easynn.utils.set_random_seed(0)
    x = torch.randn(24, 5)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    model = easynn.Sequential([easynn.Input(shape=(5,)), easynn.layers.Dense(4),
                               easynn.layers.UnitNormalization()])
    model.compile(optimizer=easynn.optimizers.SGD(0.0), loss="circle")
    logged = model.evaluate(x, y, batch_size=24, verbose=0)
    with torch.no_grad():
        assert logged == pytest.approx(float(losses.Circle()(y, model(x))), rel=1e-5)
    trained = easynn.Sequential([easynn.Input(shape=(5,)), easynn.layers.Dense(4), easynn.layers.UnitNormalization()])
    trained.compile(optimizer=easynn.optimizers.Adam(0.05), loss=losses.Circle(gamma=16.0))
    history = trained.fit(x, y, batch_size=24, epochs=15, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "c.keras"
    trained.save(path)
    loaded = easynn.load_model(path)
    assert loaded.loss.get_config() == trained.loss.get_config()
    assert loaded.evaluate(x, y, batch_size=24, verbose=0) == pytest.approx(trained.evaluate(x, y, batch_size=24, verbose=0))
