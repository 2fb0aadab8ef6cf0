"""Keras Variables: layer weights that are real Parameters/buffers and speak Keras's Variable interface."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import BatchNormalization, Dense, Layer
from easynn.variables import NonTrainableVariable, Variable


def _dense():
    layer = Dense(3, name="dense_v")
    layer(torch.zeros(2, 4))
    return layer


def test_add_weight_returns_parameters_with_keras_names_and_paths():
    layer = _dense()
    kernel, bias = layer.kernel, layer.bias
    assert isinstance(kernel, torch.nn.Parameter) and isinstance(kernel, Variable)
    assert (kernel.name, kernel.path, bias.name, bias.path) == ("kernel", "dense_v/kernel", "bias", "dense_v/bias")
    assert kernel.trainable and kernel.numel() == 12
    assert [v.path for v in layer.variables] == ["dense_v/kernel", "dense_v/bias"]
    assert layer.trainable_variables == layer.trainable_weights and layer.non_trainable_variables == []


def test_value_grad_after_backward_as_in_the_keras_io_torch_guides():
    layer = _dense()
    loss = layer(torch.randn(5, 4)).square().sum()
    loss.backward()
    grads = [v.value.grad for v in layer.trainable_weights]
    assert all(g is not None and g.shape == v.shape for g, v in zip(grads, layer.trainable_weights))
    torch.testing.assert_close(layer.bias.value.grad, layer.bias.grad)


def test_assign_family_is_in_place_outside_autograd():
    layer = _dense()
    kernel = layer.kernel
    before = id(kernel)
    kernel.assign(np.ones(tuple(kernel.shape), dtype="float32"))
    assert id(layer.kernel) == before and torch.all(kernel == 1) and kernel.requires_grad
    assert kernel.grad_fn is None
    kernel.assign_add(torch.full(tuple(kernel.shape), 2.0)).assign_sub(0.5)
    np.testing.assert_allclose(kernel.numpy(), np.full(tuple(kernel.shape), 2.5, dtype="float32"))
    with torch.no_grad():
        layer.bias.assign([1.0, 2.0, 3.0])
    assert layer.bias.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="shape"):
        layer.bias.assign([1.0, 2.0])


def test_numpy_works_on_a_weight_that_requires_grad():
    layer = _dense()
    array = layer.kernel.numpy()
    assert isinstance(array, np.ndarray) and layer.kernel.requires_grad
    array[...] = 7  # a copy: the weight is unchanged
    assert not torch.all(layer.kernel == 7)


def test_non_trainable_weights_are_buffers_and_variables():
    bn = BatchNormalization(name="bn_v")
    bn(torch.randn(4, 3))
    moving = bn.moving_mean
    assert isinstance(moving, NonTrainableVariable) and isinstance(moving, Variable)
    assert not isinstance(moving, torch.nn.Parameter) and not moving.requires_grad and not moving.trainable
    assert moving.path == "bn_v/moving_mean"
    assert "moving_mean" in dict(bn.named_buffers()) and all(p is not moving for p in bn.parameters())
    assert any(v is moving for v in bn.non_trainable_variables)
    moving.assign(torch.arange(3.0))
    assert bn.state_dict()["moving_mean"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="trainable"):
        moving.trainable = True


def test_variables_work_with_state_dict_optimizers_deepcopy_and_dtype_changes():
    layer = _dense()
    twin = Dense(3, name="dense_twin")
    twin(torch.zeros(1, 4))
    twin.load_state_dict(layer.state_dict())
    torch.testing.assert_close(twin.kernel, layer.kernel)
    assert isinstance(twin.kernel, Variable)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(torch.randn(2, 4)).sum().backward()
    before = layer.bias.detach().clone()
    optimizer.step()
    torch.testing.assert_close(layer.bias.detach(), before - 0.1 * layer.bias.grad)
    clone = copy.deepcopy(layer)
    assert isinstance(clone.kernel, Variable) and clone.kernel is not layer.kernel
    assert clone.kernel.path == "dense_v/kernel"
    clone.kernel.assign(torch.zeros(tuple(clone.kernel.shape)))
    assert not torch.all(layer.kernel == 0)
    layer.double()
    assert layer.kernel.dtype == torch.float64 and isinstance(layer.kernel, Variable) and layer.kernel.name == "kernel"


def test_auto_named_weight_takes_its_attribute_name():
    class Scale(Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, inputs):
            return inputs * self.w

    layer = Scale(name="scale_v")
    layer(torch.ones(2, 3))
    assert layer.w.name == "w" and layer.w.path == "scale_v/w"
    assert layer.count.name == "count" and isinstance(layer.count, NonTrainableVariable)


def test_easynn_variable_constructor():
    v = easynn.Variable(initializer="ones", shape=(2, 3), name="ones_v")
    assert isinstance(v, torch.nn.Parameter) and v.name == "ones_v" and v.path == "ones_v"
    assert v.dtype == torch.float32 and torch.all(v == 1) and v.trainable
    from_value = easynn.Variable(np.array([1.0, 2.0]), dtype="float32", trainable=False)
    assert isinstance(from_value, NonTrainableVariable) and from_value.tolist() == [1.0, 2.0]
    counter = easynn.Variable(0, dtype="int64", trainable=False)
    counter.assign_add(3)
    assert counter.item() == 3 and counter.dtype == torch.int64
    plain_torch = torch.nn.Linear(2, 2)
    plain_torch.extra = easynn.Variable("zeros", shape=(2,))
    assert "extra" in dict(plain_torch.named_parameters())
    with pytest.raises(ValueError, match="shape"):
        easynn.Variable("zeros")
    with pytest.raises(ValueError, match="shape"):
        easynn.Variable(np.zeros(3), shape=(2,))
    assert "ones_v" in repr(v)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_variables_on_cuda():
    layer = Dense(2, name="dense_cuda")
    layer(torch.zeros(1, 3))
    layer.cuda()
    assert isinstance(layer.kernel, Variable) and layer.kernel.is_cuda
    layer.kernel.assign(np.ones((3, 2), dtype="float32")) if tuple(layer.kernel.shape) == (3, 2) else \
        layer.kernel.assign(np.ones((2, 3), dtype="float32"))
    assert isinstance(layer.kernel.numpy(), np.ndarray) and layer.kernel.numpy().sum() == 6
    layer(torch.randn(4, 3, device="cuda")).sum().backward()
    assert layer.kernel.value.grad.is_cuda


def test_state_dict_holds_plain_tensors_that_load_with_weights_only(tmp_path):
    model = easynn.Sequential([easynn.Input((4,)), Dense(3), BatchNormalization()])
    path = tmp_path / "state.pt"
    torch.save(model.state_dict(), path)
    state = torch.load(path, weights_only=True)
    assert all(type(v) is torch.Tensor for v in state.values()) and len(state) == 6
