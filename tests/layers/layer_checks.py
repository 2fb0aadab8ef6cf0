"""Shared checks for layer tests: output shape, Keras parameter count, get_config round trip."""

from __future__ import annotations

import torch


def check_layer(layer, inputs: torch.Tensor, expected_shape, expected_params: int, **call_kwargs):
    """Call ``layer`` on ``inputs`` and assert Keras's output shape and parameter count.

    Also checks ``compute_output_shape`` (batch axis ``None``) and that ``from_config(get_config())``
    gives a layer with the same config, output shape and parameter count. Returns the output.
    """
    out = layer(inputs, **call_kwargs)
    assert tuple(out.shape) == tuple(expected_shape), (tuple(out.shape), expected_shape)
    assert layer.count_params() == expected_params, (layer.count_params(), expected_params)
    assert sum(w.size for w in layer.get_weights()) == expected_params
    symbolic = layer.compute_output_shape((None, *inputs.shape[1:]))
    assert tuple(symbolic) == (None, *tuple(expected_shape)[1:]), symbolic
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone_out = clone(inputs, **call_kwargs)
    assert tuple(clone_out.shape) == tuple(expected_shape)
    assert clone.count_params() == expected_params
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in layer.get_weights()]
    return out


def seed_all(seed: int = 0) -> None:
    torch.manual_seed(seed)


cuda = torch.cuda.is_available()
