"""Out to the PyTorch ecosystem: a model as a ``torch.export.ExportedProgram`` or an ONNX file.

``export_model(model, format="torch")`` traces the model in inference mode (``training=False``)
into an ``ExportedProgram`` whose batch axis is dynamic; ``format="onnx"`` writes an ONNX file
through ``torch.onnx``'s exporter (needs the optional ``onnx`` and ``onnxscript`` packages:
``pip install "easynn[onnx]"``, which adds ``onnxruntime`` to run the file). The ONNX graph's
inputs and outputs carry the model's input and output names. ``Model.export`` calls this.

An easynn model is also a plain ``torch.nn.Module``: ``model.state_dict()`` is a normal torch
state dict and a model or layer can be a submodule of any ``nn.Module``.

Example:
    >>> import torch, easynn
    >>> model = easynn.Sequential([easynn.Input(shape=(4,)), easynn.layers.Dense(2)])
    >>> program = export_model(model)
    >>> x = torch.ones(3, 4)
    >>> bool(torch.allclose(program.module()(x), model(x)))
    True
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from typing import Any

import torch

from easynn.saving import files, hooks

__all__ = ["export_model"]

_FORMATS = ("torch", "onnx")
# Deprecation notices that torch's own exporter code triggers while tracing (torch 2.9+); the
# user can do nothing about them, and the test run treats warnings as errors.
_TORCH_INTERNAL_WARNINGS = (
    r"_check_is_size will be removed",
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
)


class _Inference(torch.nn.Module):
    """``model(inputs, training=False)`` as a plain module (what gets traced)."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor) -> Any:
        return self.model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)


def _example_inputs(model: Any, example_inputs: Any) -> tuple[torch.Tensor, ...]:
    if example_inputs is not None:
        items = example_inputs if isinstance(example_inputs, (list, tuple)) else [example_inputs]
        return tuple(torch.as_tensor(item) for item in items)
    config = hooks.default_get_build_config(model)
    if config is None:
        raise ValueError(
            f"Model '{getattr(model, 'name', '?')}' is not built, so its input shape is unknown. Call it "
            "on data first, start it with easynn.Input(shape=...), or pass example_inputs=..."
        )
    shapes, dtypes = config["input_shape"], config.get("input_dtype")
    several = bool(shapes) and isinstance(shapes[0], list)
    shape_list = shapes if several else [shapes]
    dtype_list = dtypes if isinstance(dtypes, list) else [dtypes] * len(shape_list)
    out = []
    for shape, dtype in zip(shape_list, dtype_list):
        if any(s is None for s in shape[1:]):
            raise ValueError(
                f"The input shape {tuple(shape)} has unknown axes besides the batch axis; pass "
                "example_inputs=... with the sizes to export for."
            )
        torch_dtype = getattr(torch, str(dtype), None) if dtype else torch.get_default_dtype()
        out.append(torch.zeros((2,) + tuple(int(s) for s in shape[1:]), dtype=torch_dtype))
    return tuple(out)


def _names(model: Any, attribute: str, count: int, default: str) -> list[str]:
    """The model's input or output names when it has ``count`` distinct ones, else numbered names."""
    names = getattr(model, attribute, None)
    if isinstance(names, (list, tuple)) and len(names) == count and len(set(map(str, names))) == count:
        return [str(name) for name in names]
    return [default] if count == 1 else [f"{default}_{i}" for i in range(count)]


@contextlib.contextmanager
def _quiet_exporter():
    with warnings.catch_warnings():
        for message in _TORCH_INTERNAL_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=FutureWarning)
        yield


def _missing_onnx_packages() -> list[str]:
    return [name for name in ("onnx", "onnxscript") if importlib.util.find_spec(name) is None]


def _leaf_count(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_leaf_count(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_leaf_count(v) for v in value)
    return 1


def _output_count(module: torch.nn.Module, inputs: tuple) -> int:
    """How many tensors the model returns (the ONNX graph's outputs, flattened)."""
    with torch.no_grad():
        return _leaf_count(module(*inputs))


def export_model(
    model: Any, filepath: Any = None, format: str = "torch", example_inputs: Any = None, dynamic_batch: bool = True
) -> Any:
    """Export ``model`` for inference, to ``torch.export`` or ONNX.

    Args:
        model: a built easynn model (or layer).
        filepath: where to write the result; required for ``"onnx"``. For ``"torch"`` the
            program is returned and, with a path, also written with ``torch.export.save`` (PyTorch's
            own ``.pt2`` format, read with ``torch.export.load``; easynn never reads it back).
        format: ``"torch"`` or ``"onnx"``.
        example_inputs: a tensor (or list of tensors) to trace with; zeros of the model's build
            shape by default.
        dynamic_batch: export the first axis as dynamic (any batch size).

    Returns:
        The ``torch.export.ExportedProgram`` for ``"torch"``; the ``filepath`` for ``"onnx"``.

    Raises:
        ValueError: for an unknown ``format``, a missing ``filepath`` for ONNX, or an unbuilt model
            without ``example_inputs``.
        ImportError: for ``"onnx"`` when the ``onnx`` or ``onnxscript`` package is not installed.
    """
    from easynn.layers.base import Layer

    if not isinstance(model, Layer):
        raise TypeError(f"export_model() expects an easynn model. Received: {model!r}")
    if format not in _FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(_FORMATS)}. Received: format={format!r}")
    if format == "onnx" and filepath is None:
        raise ValueError("format='onnx' writes a file: pass filepath=..., e.g. 'model.onnx'.")
    missing = _missing_onnx_packages() if format == "onnx" else []
    if missing:
        raise ImportError(
            f"format='onnx' needs the optional package(s) {', '.join(missing)} (torch.onnx's exporter): "
            'pip install onnx onnxscript, or pip install "easynn[onnx]" (adds onnxruntime to run the file).'
        )
    inputs = _example_inputs(model, example_inputs)
    dynamic = None
    if dynamic_batch:  # forward(*inputs): one spec per input, under the name of the varargs
        batch = torch.export.Dim("batch", min=1)
        dynamic = {"inputs": tuple({0: batch} for _ in inputs)}
    was_training = model.training
    module = _Inference(model).eval()  # the wrapper too: torch.onnx warns about a module in training mode
    try:
        if format == "torch":
            program = torch.export.export(module, inputs, dynamic_shapes=dynamic)
            if filepath is not None:
                files.check_path(filepath)
                files.atomic_write(filepath, lambda handle: torch.export.save(program, handle))
            return program
        files.check_path(filepath)
        input_names = _names(model, "input_names", len(inputs), "input")
        output_names = _names(model, "output_names", _output_count(module, inputs), "output")
        with _quiet_exporter():
            onnx_program = torch.onnx.export(
                module,
                inputs,
                dynamo=True,
                dynamic_shapes=dynamic,
                verbose=False,
                input_names=input_names,
                output_names=output_names,
            )
        files.atomic_write(filepath, lambda handle: handle.write(onnx_program.model_proto.SerializeToString()))
        return filepath
    finally:
        model.train(was_training)
