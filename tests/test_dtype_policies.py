"""Dtype policies (easynn.dtype_policies, keras.config.dtype_policy, keras.mixed_precision)."""

import pytest
import torch

import easynn
from easynn import config, dtype_policies, mixed_precision
from easynn.dtype_policies import DTypePolicy


@pytest.fixture(autouse=True)
def _restore_global_policy():
    yield
    dtype_policies.set_dtype_policy("float32")


@pytest.mark.parametrize(
    "name, variable, compute",
    [("float32", "float32", "float32"), ("float64", "float64", "float64"), ("bfloat16", "bfloat16", "bfloat16"),
     ("mixed_float16", "float32", "float16"), ("mixed_bfloat16", "float32", "bfloat16")],
)
def test_policy_dtypes_follow_keras(name, variable, compute):
    policy = DTypePolicy(name)
    assert (policy.name, policy.variable_dtype, policy.compute_dtype) == (name, variable, compute)
    assert policy.is_mixed == name.startswith("mixed_")
    assert dtype_policies.deserialize(dtype_policies.serialize(policy)) == policy
    assert dtype_policies.serialize(policy) == {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}}


def test_policies_equal_their_names_and_hash_like_them():
    policy = DTypePolicy("mixed_float16")
    assert policy == "mixed_float16" and policy != "float32" and policy != DTypePolicy("float32")
    assert {"mixed_float16": 1}[policy] == 1
    assert DTypePolicy() == config.floatx()
    assert easynn.FloatDTypePolicy is DTypePolicy and mixed_precision.Policy is DTypePolicy
    assert dtype_policies.get(torch.float64) == "float64" and dtype_policies.get("float16") == "float16"


@pytest.mark.parametrize("bad", ["mixed_float32", "fp16", "", "int32"])
def test_unknown_policy_names_raise(bad):
    with pytest.raises(ValueError, match=r"Unknown dtype policy.*Received: name="):
        DTypePolicy(bad)
    with pytest.raises(ValueError, match="class_name"):
        dtype_policies.deserialize({"class_name": "QuantizedDTypePolicy", "config": {"name": "int8"}})
    with pytest.raises(ValueError, match="Expected a dtype policy"):
        dtype_policies.get(3.5)


def test_the_global_policy_is_one_setting_under_three_names():
    config.set_dtype_policy("mixed_bfloat16")
    assert mixed_precision.global_policy() is config.dtype_policy() is mixed_precision.dtype_policy()
    assert config.dtype_policy().compute_dtype == "bfloat16"
    mixed_precision.set_global_policy(DTypePolicy("mixed_float16"))
    assert config.dtype_policy() == "mixed_float16"


def test_the_global_policy_refuses_a_non_mixed_half_or_double_and_stays():
    config.set_dtype_policy("mixed_bfloat16")
    for bad in ("float64", "float16"):
        with pytest.raises(ValueError, match=r"set_floatx\('float64'\).*Received: policy="):
            config.set_dtype_policy(bad)
    assert config.dtype_policy() == "mixed_bfloat16"


def test_models_compiled_under_the_global_policy_use_it():
    config.set_dtype_policy("mixed_bfloat16")
    model = easynn.Sequential([easynn.Input((4,)), easynn.layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    assert model._precision is torch.bfloat16


def test_split_layer_dtype():
    assert dtype_policies.split_layer_dtype("mixed_float16") == (torch.float32, torch.float16)
    assert dtype_policies.split_layer_dtype(DTypePolicy("mixed_bfloat16")) == (torch.float32, torch.bfloat16)
    assert dtype_policies.split_layer_dtype(DTypePolicy("float64")) == (torch.float64, None)
    assert dtype_policies.split_layer_dtype({"class_name": "DTypePolicy", "config": {"name": "float16"}}) == (
        torch.float16, None)
    for given in (None, "int32", torch.int64, "float32"):  # not policies: the old dtype resolution
        assert dtype_policies.split_layer_dtype(given) == (given, None)
