"""keras.name_scope, keras.device, keras.version, keras.KerasTensor."""

import pytest
import torch

import easynn
from easynn import scopes
from easynn.variables import Variable


def test_name_scopes_nest_prefix_standalone_variables_and_unwind_on_errors():
    with easynn.name_scope("encoder") as scope:
        assert scope.name == "encoder"
        outer = Variable(initializer="zeros", shape=(1,), name="w")
        with pytest.raises(RuntimeError):
            with easynn.name_scope("block"):
                assert scopes.current_name_scope() == "encoder/block"
                inner = Variable(initializer="ones", shape=(1,), name="b")
                raise RuntimeError("boom")
        assert scopes.current_name_scope() == "encoder"
    assert scopes.current_name_scope() == ""
    assert (outer.path, inner.path) == ("encoder/w", "encoder/block/b")
    assert Variable(initializer="zeros", shape=(1,), name="free").path == "free"


def test_layer_weights_keep_their_layer_path_inside_a_scope():
    with easynn.name_scope("outer"):
        layer = easynn.layers.Dense(2, name="proj")
        layer(torch.ones(1, 3))
    assert [w.path for w in layer.weights] == ["proj/kernel", "proj/bias"]


@pytest.mark.parametrize("bad", ["", "a/b", 3])
def test_bad_scope_names(bad):
    with pytest.raises(ValueError, match="`name` must be a non-empty string"):
        easynn.name_scope(bad)


def test_device_places_new_tensors_and_accepts_keras_names():
    with easynn.device("meta") as where:
        created = torch.zeros(2)
        variable = Variable(initializer="zeros", shape=(2,))
    assert where == torch.device("meta") and created.device.type == "meta" and variable.device.type == "meta"
    assert torch.zeros(1).device.type == "cpu"  # restored
    assert scopes._torch_device_name("GPU:1") == "cuda:1"
    with pytest.raises(ValueError, match="Unknown device 'tpu:0'"):
        with easynn.device("tpu:0"):
            pass
    with pytest.raises(ValueError, match="`device_name` must be a string"):
        with easynn.device(0.5):
            pass


def test_version_and_keras_tensor():
    assert easynn.version() == easynn.__version__
    assert isinstance(easynn.Input((3,)), easynn.KerasTensor)
    assert not isinstance(torch.ones(1), easynn.KerasTensor)
