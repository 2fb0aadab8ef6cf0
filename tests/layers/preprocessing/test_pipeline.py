"""Pipeline: the composition equals the layers applied one by one; training default; config; models."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import (
    CenterCrop,
    Dense,
    Embedding,
    Pipeline,
    RandomFlip,
    RandomRotation,
    Rescaling,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _augmenters(seed=3):
    return [Rescaling(1 / 255.0), RandomFlip("horizontal", seed=seed), RandomRotation(0.2, seed=seed + 1),
            CenterCrop(4, 4)]


def test_composition_equals_the_layers_one_by_one():
    images = torch.rand(8, 6, 6, 3) * 255
    layers = _augmenters()
    want = images
    for layer in layers:
        want = layer(want, training=True) if layer._call_takes_training else layer(want)
    got = Pipeline(_augmenters())(images, training=True)  # same seeds: the same random draws
    torch.testing.assert_close(got, want)
    assert got.shape == (8, 4, 4, 3)
    inference = Pipeline(_augmenters())(images, training=False)
    torch.testing.assert_close(inference, CenterCrop(4, 4)(images / 255.0))
    dense = Dense(5)
    x = torch.randn(4, 3)
    torch.testing.assert_close(Pipeline([Rescaling(2.0, offset=1.0), dense])(x), dense(x * 2.0 + 1.0))


def test_a_pipeline_called_alone_trains_inside_a_model_it_follows_the_model():
    images = torch.rand(16, 5, 5, 1)
    flips = Pipeline([RandomFlip("horizontal", seed=1)])
    alone = flips(images)  # Keras's Pipeline.call(training=True) default: augments
    flipped = [torch.equal(a, i.flip(1)) and not torch.equal(a, i) for a, i in zip(alone, images)]
    kept = [torch.equal(a, i) for a, i in zip(alone, images)]
    assert all(f or k for f, k in zip(flipped, kept)) and 0 < sum(flipped) < 16
    torch.testing.assert_close(flips(images, training=False), images)
    inputs = easynn.Input(shape=(5, 5, 1))
    model = easynn.Model(inputs, Pipeline([RandomFlip("horizontal", seed=1)])(inputs))
    torch.testing.assert_close(model(images), images)  # a model outside fit: inference
    torch.testing.assert_close(torch.as_tensor(model.predict(images, verbose=0)), images)


def test_config_lists_the_layers_and_round_trips():
    pipe = Pipeline([Rescaling(0.5, offset=1.0), CenterCrop(2, 3), RandomFlip("vertical", seed=7)], name="prep")
    config = pipe.get_config()
    assert set(config) == {"layers", "name"} and config["name"] == "prep"
    assert [spec["class_name"] for spec in config["layers"]] == ["Rescaling", "CenterCrop", "RandomFlip"]
    assert config["layers"][1]["config"]["height"] == 2 and config["layers"][2]["config"]["mode"] == "vertical"
    clone = Pipeline.from_config(config)
    assert clone.get_config() == config
    x = torch.rand(2, 4, 4, 3)
    torch.testing.assert_close(clone(x, training=False), pipe(x, training=False))
    with pytest.raises(ValueError, match="`layers` key"):
        Pipeline.from_config({"name": "p"})


def test_weights_masks_and_shapes_of_the_inner_layers():
    embed, dense = Embedding(6, 3, mask_zero=True), Dense(2)
    pipe = Pipeline([embed, dense])
    tokens = torch.tensor([[1, 2, 0], [4, 0, 0]])
    out = pipe(tokens)
    torch.testing.assert_close(out, dense(embed(tokens)))
    assert torch.equal(out._keras_mask, tokens != 0)
    assert pipe.count_params() == 6 * 3 + 3 * 2 + 2
    assert len(pipe.trainable_weights) == 3
    assert pipe.compute_output_shape((None, 7)) == (None, 7, 2)
    assert Pipeline([Rescaling(2.0), CenterCrop(3, 2)]).compute_output_shape((None, 8, 8, 3)) == (None, 3, 2, 3)


def test_bad_arguments():
    with pytest.raises(TypeError, match="`layers` must be a list"):
        Pipeline(Dense(2))
    with pytest.raises(TypeError, match=r"layers\[1\]"):
        Pipeline([Dense(2), torch.nn.ReLU()])
    with pytest.raises(TypeError):
        Pipeline([Dense(2)], trainable=False)  # Keras's Pipeline takes only `layers` and `name`


def test_functional_model_saves_and_loads(tmp_path):
    inputs = easynn.Input(shape=(6, 6, 2))
    features = Pipeline([Rescaling(0.5), CenterCrop(4, 4), easynn.layers.Flatten(), Dense(3)], name="prep")(inputs)
    model = easynn.Model(inputs, Dense(1)(features))
    assert model.get_layer("prep").output.shape == (None, 3)
    x = torch.rand(5, 6, 6, 2)
    want = model.predict(x, verbose=0)
    path = tmp_path / "pipeline.keras"
    model.save(path)
    restored = easynn.models.load_model(path)
    assert type(restored.get_layer("prep")) is Pipeline
    assert [type(layer).__name__ for layer in restored.get_layer("prep").layers] == [
        "Rescaling", "CenterCrop", "Flatten", "Dense"]
    np.testing.assert_allclose(np.asarray(restored.predict(x, verbose=0)), np.asarray(want), rtol=1e-6)
