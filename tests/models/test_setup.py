"""models/setup.py: targets given only for the outputs with a loss (Keras's ``loss=[fn, None]``)."""

import numpy as np
import pytest
import torch

import easynn
from easynn import layers


def _two_output_model(seed=0):
    torch.manual_seed(seed)
    inp = easynn.Input((4,))
    a = layers.Dense(2, name="a")(inp)
    b = layers.Dense(3, name="b")(inp)
    model = easynn.Model(inp, [a, b])
    model.compile(optimizer=easynn.optimizers.SGD(learning_rate=0.1), loss=["mse", None], metrics=[["mae"], []])
    return model


@pytest.mark.parametrize("as_given", ["array", "list", "list_with_none"])
def test_targets_for_the_outputs_with_a_loss_only(as_given):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    targets = {"array": y, "list": [y], "list_with_none": [y, None]}[as_given]
    model = _two_output_model()
    reference = _two_output_model()
    before = [w.copy() for w in model.get_weights()]
    result = model.evaluate(x, targets, batch_size=16, verbose=0, return_dict=True)
    with torch.no_grad():
        a_out = model(torch.from_numpy(x))[0].numpy()
    assert result["loss"] == pytest.approx(float(((a_out - y) ** 2).mean()), rel=1e-5)
    assert result["a_mae"] == pytest.approx(float(np.abs(a_out - y).mean()), rel=1e-5)
    model.fit(x, targets, batch_size=16, epochs=1, shuffle=False, verbose=0)
    reference.fit(x, [y, None], batch_size=16, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    changed = [not np.allclose(w, o) for w, o in zip(model.get_weights(), before)]
    assert changed == [True, True, False, False]  # output 'b' has no loss: its Dense never moves


def test_too_few_targets_for_outputs_with_losses_names_them():
    inp = easynn.Input((4,))
    model = easynn.Model(inp, [layers.Dense(2, name="a")(inp), layers.Dense(3, name="b")(inp)])
    model.compile(optimizer="sgd", loss=["mse", "mse"])
    x = np.zeros((8, 4), "float32")
    with pytest.raises(ValueError, match=r"2 outputs \(\['a', 'b'\]\) but y provides 1 target.*\['a', 'b'\]"):
        model.fit(x, np.zeros((8, 2), "float32"), verbose=0)
