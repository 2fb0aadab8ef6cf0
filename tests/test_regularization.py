"""Regularization penalties and sample/class weights in fit's loss, against hand computation.

Keras's rules: weight penalties are added to the loss unscaled (l2(λ) = λ Σ w², no ½); an
activity penalty is divided by the batch size; a weighted batch loss is Σ lᵢ wᵢ / batch_size;
the epoch loss is the mean of the batch losses weighted by batch size.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import easynn
from easynn import regularizers
from easynn.layers import Dense, Input, Layer


@pytest.fixture(autouse=True)
def seed():
    easynn.utils.set_random_seed(0)


def data(n=6, features=3, units=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)).astype("float32"), rng.normal(size=(n, units)).astype("float32")


def frozen(model, loss="mse", metrics=None):
    """Compile with lr=0 so that every batch sees the same weights."""
    model.compile(optimizer=easynn.optimizers.SGD(0.0), loss=loss, metrics=metrics, device="cpu")
    return model


def test_weight_penalties_join_the_reported_loss_unscaled():
    x, y = data()
    dense = Dense(2, kernel_regularizer=regularizers.l2(0.1), bias_regularizer=regularizers.l1(0.05))
    model = frozen(easynn.Sequential([Input(shape=(3,)), dense]))
    kernel, _ = model.get_weights()
    bias = np.array([0.5, -1.5], dtype="float32")
    model.set_weights([kernel, bias])
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)  # batches of 4 and 2
    data_loss = np.mean((x @ kernel + bias - y) ** 2)
    penalty = 0.1 * np.sum(kernel.astype("float64") ** 2) + 0.05 * np.sum(np.abs(bias))
    assert history.history["loss"][0] == pytest.approx(data_loss + penalty, rel=1e-5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(data_loss + penalty, rel=1e-5)
    # The lecture's ½λ‖W‖² is l2(λ/2).
    w = torch.tensor(kernel)
    assert float(regularizers.l2(0.3 / 2)(w)) == pytest.approx(float(0.5 * 0.3 * w.square().sum()), rel=1e-6)


def test_activity_penalty_is_divided_by_batch_size():
    x, y = data(n=6)
    dense = Dense(2, activity_regularizer=regularizers.l2(0.2))
    model = frozen(easynn.Sequential([Input(shape=(3,)), dense]))
    kernel, bias = model.get_weights()
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    out = x @ kernel + bias
    batch_losses, sizes = [], []
    for rows in (slice(0, 4), slice(4, 6)):
        o, t = out[rows], y[rows]
        batch_losses.append(np.mean((o - t) ** 2) + 0.2 * np.sum(o.astype("float64") ** 2) / len(o))
        sizes.append(len(o))
    expected = np.average(batch_losses, weights=sizes)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_add_weight_regularizer_of_a_custom_layer():
    class Scale(Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                         regularizer=regularizers.l1_l2(l1=0.3, l2=0.2), name="scale")

        def call(self, inputs):
            return inputs * self.scale

    x, y = data(units=3)
    model = frozen(easynn.Sequential([Input(shape=(3,)), Scale()]))
    model.set_weights([np.array([1.0, -2.0, 0.5], dtype="float32")])
    s = np.array([1.0, -2.0, 0.5])
    history = model.fit(x, y, batch_size=6, epochs=1, verbose=0)
    expected = np.mean((x * s - y) ** 2) + 0.3 * np.abs(s).sum() + 0.2 * (s**2).sum()
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_sgd_step_with_l2_equals_torch_weight_decay_two_lambda():
    lam, lr = 0.05, 0.1
    x, y = data(n=8)
    model = easynn.Sequential([Input(shape=(3,)), Dense(2, kernel_regularizer=regularizers.l2(lam))])
    model.compile(optimizer=easynn.optimizers.SGD(lr), loss="mse", device="cpu")
    kernel0, bias0 = model.get_weights()
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    kernel1, bias1 = model.get_weights()

    w = torch.nn.Parameter(torch.tensor(kernel0))
    b = torch.nn.Parameter(torch.tensor(bias0))
    opt = torch.optim.SGD([{"params": [w], "weight_decay": 2 * lam}, {"params": [b], "weight_decay": 0.0}], lr=lr)
    F.mse_loss(torch.tensor(x) @ w + b, torch.tensor(y)).backward()  # the unregularized loss
    opt.step()
    np.testing.assert_allclose(kernel1, w.detach().numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(bias1, b.detach().numpy(), rtol=0, atol=1e-6)
    assert not np.allclose(kernel1, kernel0)


def test_sample_weight_in_fit_and_evaluate():
    x, y = data(n=5)
    sw = np.array([1.0, 0.0, 2.0, 0.5, 3.0], dtype="float32")
    model = frozen(easynn.Sequential([Input(shape=(3,)), Dense(2)]))
    kernel, bias = model.get_weights()
    per_sample = np.mean((x @ kernel + bias - y) ** 2, axis=1)
    # batches of 2, 2, 1: each Σ lᵢwᵢ / n_b, then weighted by n_b -> Σ lᵢwᵢ / N.
    batch_losses = [np.sum(per_sample[r] * sw[r]) / len(per_sample[r]) for r in (slice(0, 2), slice(2, 4), slice(4, 5))]
    expected = np.average(batch_losses, weights=[2, 2, 1])
    seen = []
    spy = easynn.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs["loss"]))
    history = model.fit(x, y, sample_weight=sw, batch_size=2, epochs=1, shuffle=False, verbose=0, callbacks=[spy])
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert seen[0] == pytest.approx(batch_losses[0], rel=1e-5)
    assert model.evaluate(x, y, sample_weight=sw, batch_size=2, verbose=0) == pytest.approx(expected, rel=1e-5)
    # Not the same as dividing by the sum of the weights.
    assert expected != pytest.approx(np.sum(per_sample * sw) / sw.sum(), rel=1e-3)


def test_class_weight_weighs_each_sample_by_its_class():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 3)).astype("float32")
    labels = np.array([0, 1, 2, 1, 0, 2])
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    model = frozen(easynn.Sequential([Input(shape=(3,)), Dense(3, activation="softmax")]),
                   loss="sparse_categorical_crossentropy")
    probs = model.predict(x, verbose=0).astype("float64")
    ce = -np.log(probs[np.arange(6), labels])
    weights = np.array([class_weight[c] for c in labels])
    history = model.fit(x, labels, class_weight=class_weight, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.sum(ce * weights) / 6, rel=1e-5)
    # One-hot targets with categorical crossentropy: the class is the argmax.
    model.compile(optimizer=easynn.optimizers.SGD(0.0), loss="categorical_crossentropy", device="cpu")
    history = model.fit(x, np.eye(3, dtype="float32")[labels], class_weight=class_weight, batch_size=4, epochs=1,
                        verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.sum(ce * weights) / 6, rel=1e-5)


# --------------------------------------------------------------------------- OrthogonalRegularizer

def np_orthogonal(w, factor=0.01, mode="rows"):
    """Keras's formula: factor · ½ Σ_{i≠j} |cos(u_i, u_j)| / (n (n - 1) / 2)."""
    v = w if mode == "rows" else w.T
    u = v / np.linalg.norm(v, axis=1, keepdims=True)
    n = len(u)
    return factor * 0.5 * np.abs(u @ u.T * (1 - np.eye(n))).sum() / (n * (n - 1) / 2)


def test_orthogonal_regularizer_against_numpy_both_modes():
    w = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    for mode in ("rows", "columns"):
        for factor in (0.01, 0.5):
            got = float(regularizers.OrthogonalRegularizer(factor=factor, mode=mode)(torch.from_numpy(w)))
            assert got == pytest.approx(np_orthogonal(w, factor, mode), rel=1e-5)
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    # hand: rows (1,0), (1,1), (0,2) have |cos| 1/√2, 0, 1/√2 -> mean √2/3
    w = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    assert float(regularizers.OrthogonalRegularizer(1.0)(w)) == pytest.approx(2 ** 0.5 / 3, rel=1e-6)


def test_orthogonal_regularizer_extremes_and_gradient():
    q = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(0)))[0]
    assert float(regularizers.OrthogonalRegularizer(1.0)(q)) == pytest.approx(0.0, abs=1e-6)
    parallel = torch.tensor([[1.0, 2.0], [-2.0, -4.0], [3.0, 6.0]])  # every pair has |cos| = 1
    assert float(regularizers.OrthogonalRegularizer(0.3)(parallel)) == pytest.approx(0.3)
    assert float(regularizers.OrthogonalRegularizer()(torch.ones(1, 4))) == 0.0  # one row: no pair, not NaN
    assert float(regularizers.OrthogonalRegularizer(mode="columns")(torch.ones(4, 1))) == 0.0
    w = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(regularizers.OrthogonalRegularizer(0.1, mode="columns"), (w,))


def test_orthogonal_regularizer_arguments_config_and_identifiers():
    for bad in (-0.1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="factor"):
            regularizers.OrthogonalRegularizer(factor=bad)
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(torch.ones(2, 2, 2))
    r = regularizers.OrthogonalRegularizer(0.2, mode="columns")
    assert r.get_config() == {"factor": 0.2, "mode": "columns"}
    for name in ("orthogonal_regularizer", "OrthogonalRegularizer"):
        got = regularizers.get(name)
        assert type(got) is regularizers.OrthogonalRegularizer and got.get_config() == {"factor": 0.01, "mode": "rows"}
    clone = regularizers.get(regularizers.serialize(r))
    assert type(clone) is regularizers.OrthogonalRegularizer and clone.get_config() == r.get_config()


def test_regularizers_deserialize_is_the_inverse_of_serialize():
    for r in (regularizers.L1(0.3), regularizers.L2(0.2), regularizers.L1L2(0.1, 0.4),
              regularizers.OrthogonalRegularizer(0.5, "columns")):
        clone = regularizers.deserialize(regularizers.serialize(r))
        assert type(clone) is type(r) and clone.get_config() == r.get_config()
    keras_file = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.05}, "registered_name": None}
    assert regularizers.deserialize(keras_file).get_config() == {"l2": 0.05}
    assert regularizers.deserialize("l1").get_config() == {"l1": 0.01}
    assert regularizers.deserialize(None) is None

    class Scaled(regularizers.Regularizer):
        def __init__(self, k=1.0):
            self.k = k

        def get_config(self):
            return {"k": self.k}

    custom = regularizers.deserialize({"class_name": "Scaled", "config": {"k": 3.0}}, custom_objects={"Scaled": Scaled})
    assert type(custom) is Scaled and custom.k == 3.0
    with pytest.raises(ValueError, match="Unknown regularizer"):
        regularizers.deserialize({"class_name": "L3", "config": {}})
    with pytest.raises(ValueError, match="class_name"):
        regularizers.deserialize({"config": {}})
    with pytest.raises(TypeError):
        regularizers.deserialize(0.1)


def test_orthogonal_regularizer_on_a_dense_kernel_joins_the_loss():
    x, y = data(n=6, features=3, units=4)
    reg = regularizers.OrthogonalRegularizer(0.5)
    model = easynn.Sequential([Input(shape=(3,)), Dense(4, kernel_regularizer=reg)])
    frozen(model)
    kernel = model.layers[-1].kernel.detach().numpy()  # Keras layout (input_dim, units): rows are inputs
    penalty = np_orthogonal(kernel, 0.5, "rows")
    assert float(sum(model.losses).detach()) == pytest.approx(penalty, rel=1e-5)
    with torch.no_grad():
        mse = F.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y)).item()
    assert model.evaluate(x, y, batch_size=6, verbose=0) == pytest.approx(mse + penalty, rel=1e-5)
    config = model.layers[-1].get_config()["kernel_regularizer"]
    assert regularizers.deserialize(config).get_config() == {"factor": 0.5, "mode": "rows"}
