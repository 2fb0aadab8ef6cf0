"""Dot / dot against torch.einsum, Keras's documented numbers, shape errors and save/load."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import Dense, Dot, dot


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_keras_documented_example():
    x = torch.arange(10.0).reshape(1, 5, 2)
    y = torch.arange(10.0, 20.0).reshape(1, 2, 5)
    out = Dot(axes=(1, 2))([x, y])
    torch.testing.assert_close(out, torch.tensor([[[260.0, 360.0], [320.0, 445.0]]]))


def test_rank2_inputs_give_batch_by_one():
    a, b = torch.randn(4, 3), torch.randn(4, 3)
    out = Dot(axes=1)([a, b])
    assert out.shape == (4, 1)
    torch.testing.assert_close(out, (a * b).sum(-1, keepdim=True))
    torch.testing.assert_close(Dot(axes=-1)([a, b]), out)


@pytest.mark.parametrize(
    "shape1, shape2, axes, equation",
    [
        ((2, 3, 5), (2, 10, 3), (1, 2), "bkx,byk->bxy"),
        ((2, 3, 5), (2, 3, 4), 1, "bkx,bky->bxy"),
        ((2, 3, 5), (2, 4, 5), -1, "bxk,byk->bxy"),
        ((2, 3, 4, 5), (2, 4, 6), (2, -2), "bxky,bkz->bxyz"),
        ((2, 5), (2, 7, 5), (1, 2), "bk,byk->by"),
    ],
)
def test_matches_einsum(shape1, shape2, axes, equation):
    x, y = torch.randn(shape1, dtype=torch.float64), torch.randn(shape2, dtype=torch.float64)
    torch.testing.assert_close(Dot(axes=axes)([x, y]), torch.einsum(equation, x, y))
    layer = Dot(axes=axes)
    symbolic = layer.compute_output_shape([(None, *shape1[1:]), (None, *shape2[1:])])
    assert symbolic == (None, *torch.einsum(equation, x, y).shape[1:])


def test_normalize_gives_cosine_similarity_and_gradients():
    a = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    out = dot([a, b], axes=1, normalize=True)
    torch.testing.assert_close(out, torch.nn.functional.cosine_similarity(a, b, dim=1).unsqueeze(-1))
    # hand-worked: (3, 4) . (4, 3) / 25
    out2 = Dot(axes=1, normalize=True)([torch.tensor([[3.0, 4.0]]), torch.tensor([[4.0, 3.0]])])
    torch.testing.assert_close(out2, torch.tensor([[24.0 / 25.0]]))
    # normalize along the dot axis only (here axis 1 of (batch, 2, 3))
    x, y = torch.randn(2, 2, 3), torch.randn(2, 2, 3)
    ref = torch.einsum("bkx,bky->bxy", x / x.norm(dim=1, keepdim=True), y / y.norm(dim=1, keepdim=True))
    torch.testing.assert_close(Dot(axes=1, normalize=True)([x, y]), ref)
    assert torch.autograd.gradcheck(lambda p, q: Dot(axes=1, normalize=True)([p, q]), (a, b))
    # an all-zero sample stays finite (the norm is floored at 1e-7)
    zero = Dot(axes=1, normalize=True)([torch.zeros(1, 2), torch.ones(1, 2)])
    torch.testing.assert_close(zero, torch.zeros(1, 1))


def test_bad_arguments_and_inputs():
    with pytest.raises(TypeError, match="axes"):
        Dot(axes="1")
    with pytest.raises(TypeError, match="axes"):
        Dot(axes=(1, 2, 3))
    with pytest.raises(TypeError, match="axes"):
        Dot(axes=1.0)
    with pytest.raises(TypeError, match="normalize"):
        Dot(axes=1, normalize="yes")
    with pytest.raises(ValueError, match="exactly 2"):
        Dot(axes=1)([torch.ones(2, 3)] * 3)
    with pytest.raises(ValueError, match="list"):
        Dot(axes=1)(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 4\)"):
        Dot(axes=1)([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(ValueError, match="batch axis"):
        Dot(axes=0)([torch.ones(2, 3), torch.ones(2, 3)])
    with pytest.raises(ValueError, match="out of range"):
        Dot(axes=(1, 3))([torch.ones(2, 3), torch.ones(2, 3)])


def test_config_round_trip():
    layer = Dot(axes=(1, 2), normalize=True, name="d")
    config = layer.get_config()
    assert config["axes"] == [1, 2] and config["normalize"] is True
    clone = Dot.from_config(config)
    assert clone.get_config() == config
    assert Dot.from_config(Dot(axes=-1).get_config()).axes == -1
    layer([torch.ones(2, 3, 4), torch.ones(2, 5, 3)])
    assert layer.count_params() == 0


def test_functional_model_save_and_load(tmp_path):
    a, b = easynn.Input(shape=(4,)), easynn.Input(shape=(4,))
    out = Dot(axes=1, normalize=True)([Dense(3)(a), Dense(3)(b)])
    assert tuple(out.shape) == (None, 1)
    model = easynn.Model([a, b], Dense(1)(out))
    xa, xb = torch.randn(5, 4), torch.randn(5, 4)
    path = tmp_path / "dot.keras"
    model.save(path)
    restored = easynn.models.load_model(path)
    assert any(type(layer).__name__ == "Dot" for layer in restored.layers)
    np.testing.assert_allclose(
        restored.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0), rtol=1e-6, atol=1e-6
    )
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit([xa, xb], torch.randn(5, 1), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
