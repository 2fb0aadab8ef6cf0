"""easynn.ops conversion (convert_to_tensor/convert_to_numpy), dtype rules, namespaces and the dispatch hook."""

import numpy as np
import pytest
import torch

from easynn import ops
from easynn.ops import _convert, _dispatch
from tests.ops._reference import assert_matches


@pytest.mark.parametrize("value, dtype", [
    (1, "int32"), (1.5, "float32"), (True, "bool"), ([1, 2], "int32"), ([1, 2.5], "float32"),
    ([[True], [False]], "bool"), (np.zeros(2), "float64"), (np.zeros(2, dtype="int64"), "int64"),
    (np.zeros(2, dtype="uint32"), "int64"), (np.float32(2.0), "float32"), ([np.float64(1.0), 2], "float64"),
    ((1, 2), "int32"), (range(3), "int64"),
])
def test_convert_to_tensor_infers_keras_dtypes(value, dtype):
    assert ops.convert_to_tensor(value).dtype == getattr(torch, dtype)


def test_convert_to_tensor_passes_tensors_through_and_casts():
    t = torch.ones(2, requires_grad=True)
    assert ops.convert_to_tensor(t) is t
    assert ops.convert_to_tensor(t, dtype="float64").dtype == torch.float64
    assert ops.convert_to_tensor(np.ones(2), dtype=np.float16).dtype == torch.float16
    assert ops.convert_to_tensor([torch.tensor(1.0), torch.tensor(2.0)]).shape == (2,)
    read_only = np.ones(3)
    read_only.flags.writeable = False
    assert_matches(ops.convert_to_tensor(read_only), np.ones(3))


def test_convert_errors():
    with pytest.raises(ValueError, match="sparse"):
        ops.convert_to_tensor([1], sparse=True)
    with pytest.raises(TypeError, match="convert_to_tensor"):
        ops.convert_to_tensor("text")
    with pytest.raises(ValueError, match="Unknown dtype 'float31'"):
        ops.convert_to_tensor([1], dtype="float31")


def test_convert_to_numpy():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    out = ops.convert_to_numpy(t * 2)
    assert isinstance(out, np.ndarray) and out.tolist() == [2.0, 4.0]
    assert ops.convert_to_numpy(torch.ones(2, dtype=torch.bfloat16)).dtype == np.float32
    assert ops.convert_to_numpy([torch.ones(2), torch.zeros(2)]).shape == (2, 2)


def test_result_type():
    assert _convert.result_type("int8", "uint8") == "int16"
    assert _convert.result_type("float16", float) == "float16"
    assert _convert.result_type("bool", int) == "int32"
    assert _convert.result_type(int, float) == "float32"


def test_namespaces_expose_keras_names():
    assert ops.numpy.sum is ops.sum and ops.numpy.matmul is ops.matmul
    for name in ("abs", "arange", "argmax", "concatenate", "einsum", "expand_dims", "mean", "reshape", "where",
                 "take_along_axis", "quantile", "tensordot", "divide_no_nan", "get_item", "linspace"):
        assert callable(getattr(ops, name)), name
        assert getattr(ops, name).__name__ == name


class _Symbolic:
    """A stand-in for a functional-API symbolic tensor."""


def test_dispatch_routes_symbolic_arguments_to_the_handler():
    calls = []

    def handler(name, fn, args, kwargs):
        calls.append((name, fn.__name__, len(args), sorted(kwargs)))
        return "node"

    _dispatch.register_symbolic_type(_Symbolic, handler)
    try:
        assert ops.add(_Symbolic(), 1) == "node"
        assert ops.concatenate([torch.ones(1), _Symbolic()], axis=0) == "node"
        assert ops.sum(torch.ones(2), axis=_Symbolic()) == "node"
        assert_matches(ops.add(torch.ones(2), 1), [2.0, 2.0])  # plain tensors still compute
    finally:
        _dispatch.unregister_symbolic_type(_Symbolic)
    assert calls == [("add", "add", 2, []), ("concatenate", "concatenate", 1, ["axis"]), ("sum", "sum", 1, ["axis"])]
    with pytest.raises(TypeError, match="convert_to_tensor"):
        ops.add(_Symbolic(), 1)
    with pytest.raises(TypeError, match="cls"):
        _dispatch.register_symbolic_type("not a class", handler)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_inputs_stay_on_cuda():
    x = torch.ones(2, 3, device="cuda")
    for out in (ops.add(x, np.ones(3, dtype="float32")), ops.matmul(x, np.ones((3, 2), dtype="float32")),
                ops.where(x > 0, x, 0.0), ops.sum(x, axis=0), ops.concatenate([x, np.zeros((1, 3))], axis=0),
                ops.take(x, [0, 1], axis=1), ops.pad(x, 1, mode="reflect"), ops.histogram(x)[0]):
        assert out.device.type == "cuda"


def test_torch_errors_escaping_an_op_name_it():
    with pytest.raises(ValueError, match=r"tril\(\).*shape=\(3,\)"):
        ops.tril(torch.ones(3))
    with pytest.raises(_dispatch.AxisError, match=r"moveaxis\(\).*\(2, 3\)") as caught:
        ops.moveaxis(torch.ones(2, 3), 0, 5)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, IndexError)
    with pytest.raises(IndexError, match=r"get_item\(\).*out of bounds"):
        ops.get_item(torch.ones(2), 5)
    with pytest.raises(TypeError, match=r"reshape\(\).*newshape"):
        ops.reshape(torch.ones(2), "a")
    with pytest.raises(TypeError, match=r"sum\(\).*axis"):
        ops.sum(torch.ones(2), axis="a")
    with pytest.raises(TypeError, match=r"add\(\).*str"):
        ops.add(torch.ones(2), "a")


def test_fast_path_takes_parameters_but_yields_to_a_registered_tensor_subclass():
    weight = torch.nn.Parameter(torch.ones(2, 2))
    assert_matches(ops.matmul(torch.ones(1, 2), weight), [[2.0, 2.0]])
    assert_matches(ops.add(weight, 1.0), np.full((2, 2), 2.0))

    class SymbolicTensorSubclass(torch.Tensor):
        pass

    _dispatch.register_symbolic_type(SymbolicTensorSubclass, lambda name, fn, args, kwargs: name)
    try:
        symbolic = torch.Tensor._make_subclass(SymbolicTensorSubclass, torch.ones(2))
        assert ops.add(symbolic, torch.ones(2)) == "add"
        assert ops.matmul(torch.ones(2), symbolic) == "matmul"
    finally:
        _dispatch.unregister_symbolic_type(SymbolicTensorSubclass)
    assert_matches(ops.add(torch.ones(2), 1.0), [2.0, 2.0])


def test_defaults_follow_floatx():
    from easynn import config

    previous = config.floatx()
    config.set_floatx("float64")
    try:
        assert ops.ones(2).dtype == torch.float64
        assert ops.convert_to_tensor(1.5).dtype == torch.float64
        assert ops.mean(np.arange(3, dtype="int32")).dtype == torch.float64
        assert ops.sqrt(np.arange(3, dtype="int32")).dtype == torch.float64
    finally:
        config.set_floatx(previous)
    assert ops.ones(2).dtype == torch.float32
