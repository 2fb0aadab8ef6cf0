"""The warning for a dropped mask (Keras 3's Layer.__call__ warns when a layer that does not
support masking receives a masked input): once per layer, naming the layer and its type."""

import warnings

import pytest
import torch

from easynn import layers
from easynn.layers import Layer
from easynn.layers._layer_utils import warn_if_mask_dropped


def _masked(shape=(2, 3, 4)):
    x = torch.ones(shape)
    x._keras_mask = torch.tensor([[True, True, False], [True, False, False]])
    return x


def _caught(fn) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [w for w in caught if issubclass(w.category, UserWarning)]


def test_warns_once_per_layer_and_names_it():
    flatten = layers.Flatten(name="flat")
    caught = _caught(lambda: [warn_if_mask_dropped(flatten, _masked()) for _ in range(3)])
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "Layer 'flat' (of type Flatten)" in message and "supports_masking = True" in message
    # Another layer warns on its own.
    assert len(_caught(lambda: warn_if_mask_dropped(layers.Flatten(name="flat_2"), _masked()))) == 1


def test_silent_without_a_mask_and_for_opted_out_layers():
    flatten = layers.Flatten()
    assert _caught(lambda: warn_if_mask_dropped(flatten, torch.ones(2, 3, 4))) == []
    assert _caught(lambda: warn_if_mask_dropped(flatten, [torch.ones(2, 3), torch.ones(2, 3)])) == []
    assert _caught(lambda: warn_if_mask_dropped(flatten, None)) == []

    class Quiet(Layer):
        _warns_on_dropped_mask = False

        def call(self, inputs):
            return inputs

    assert _caught(lambda: warn_if_mask_dropped(Quiet(), _masked())) == []
    # The flag is per layer: the silent calls above did not use up flatten's warning.
    assert len(_caught(lambda: warn_if_mask_dropped(flatten, _masked()))) == 1


def test_a_list_input_with_one_masked_tensor_warns():
    caught = _caught(lambda: warn_if_mask_dropped(layers.Flatten(), [torch.ones(2, 3, 4), _masked()]))
    assert len(caught) == 1


def test_layers_that_support_masking_are_not_warned_about():
    # Keras's mask-propagating layers keep the mask, so nothing is dropped.
    x = _masked()
    for layer in (layers.Dense(2), layers.Dropout(0.5), layers.LayerNormalization()):
        caught = _caught(lambda layer=layer: layer(x))
        assert caught == [], type(layer).__name__
        assert getattr(layer(x), "_keras_mask", None) is not None


def test_calling_a_non_masking_layer_on_a_masked_input_warns():
    with pytest.warns(UserWarning, match="Layer 'flat_in_call' \\(of type Flatten\\)"):
        layers.Flatten(name="flat_in_call")(_masked())
