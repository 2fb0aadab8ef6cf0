"""``save_model`` / ``load_model``: one zip file with architecture, weights and compile state.

Members of the zip (the file name and extension are the user's choice, e.g. ``model.keras``):

    ``metadata.json``         format name and version, easynn and torch versions, date
    ``config.json``           ``{"model": {class_name, registered_name, config, build_config},
                              "compile_config": ..., "optimizer_state": ...}``
    ``model.safetensors``     the weights, by position (see ``weights.py``)
    ``optimizer.safetensors`` the optimizer's tensors (moments, step counts); its scalars and
                              param-group values are in ``config.json["optimizer_state"]``
"""

from __future__ import annotations

import datetime
import json
import warnings
from typing import Any

import torch
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save

from easynn.saving import compile_state, files, registry, weights

__all__ = ["save_model", "load_model", "FORMAT", "FORMAT_VERSION"]

FORMAT = "easynn.model"
FORMAT_VERSION = "1.0"
_CONFIG, _METADATA, _OPTIMIZER = "config.json", "metadata.json", "optimizer.safetensors"


def _json_shape(shape: Any) -> Any:
    if shape is None:
        return None
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple)) for s in shape):
        return [_json_shape(s) for s in shape]
    return [None if s is None else int(s) for s in shape]


def _build_config(model) -> dict | None:
    shape = getattr(model, "_build_input_shape", None)
    if shape is None:
        return None
    try:
        shape = _json_shape(shape)
    except (TypeError, ValueError):
        return None
    dtype = getattr(model, "_build_input_dtype", None)
    dtype = [str(d).replace("torch.", "") for d in dtype] if isinstance(dtype, (list, tuple)) else (
        None if dtype is None else str(dtype).replace("torch.", ""))
    return {"input_shape": shape, "input_dtype": dtype}


def _metadata() -> dict:
    import easynn

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "easynn_version": getattr(easynn, "__version__", "unknown"),
        "torch_version": torch.__version__,
        "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _optimizer_payload(model) -> tuple[Any, bytes | None]:
    optimizer = getattr(model, "optimizer", None)
    if not getattr(model, "compiled", False) or optimizer is None or not getattr(optimizer, "built", False):
        return None, None
    tensors: dict[str, torch.Tensor] = {}
    try:
        tree = compile_state.encode_state(optimizer.state_dict(), tensors)
    except TypeError as error:
        return {"unsupported": str(error)}, None
    return {"state": tree}, _st_save(tensors, metadata={"format": "easynn.optimizer"})


def save_model(model, filepath, overwrite: bool = True, zipped: bool | None = None, **kwargs: Any) -> None:
    """Save architecture, weights, compile arguments and optimizer state to one file, atomically.

    Args:
        model: an easynn model (Sequential, functional or subclassed).
        filepath: destination; any name (``model.keras`` as in Keras scripts).
        overwrite: when False, an existing file is an error.
        zipped: Keras's option; only the single-file form (``None`` or ``True``) exists here.

    Raises:
        TypeError / NotImplementedError: when a layer cannot describe itself in JSON (its
            class is named; implement ``get_config``).
        FileNotFoundError: when the destination folder does not exist.
    """
    from easynn.layers.base import Layer

    if kwargs:
        raise TypeError(f"save() got unexpected keyword arguments: {sorted(kwargs)}")
    if zipped is False:
        raise ValueError("easynn saves a model as one zip file; zipped=False (a folder) is not supported.")
    if not isinstance(model, Layer):
        raise TypeError(f"save_model() expects an easynn model. Received: {model!r}")
    files.check_path(filepath)
    model_entry = registry.serialize_layer(model)
    model_entry["build_config"] = _build_config(model)
    optimizer_state, optimizer_bytes = _optimizer_payload(model)
    config = {"model": model_entry, "compile_config": compile_state.serialize_compile(model),
              "optimizer_state": optimizer_state}
    members = [
        (_METADATA, json.dumps(_metadata(), indent=2).encode(), True),
        (_CONFIG, json.dumps(config, indent=1).encode(), True),
        (weights.WEIGHTS_MEMBER, weights.weights_to_bytes(model), False),
    ]
    if optimizer_bytes is not None:
        members.append((_OPTIMIZER, optimizer_bytes, False))
    files.atomic_write(filepath, lambda handle: files.write_archive(handle, members), overwrite=overwrite)


def _json_member(members: dict, name: str, path: str) -> dict:
    try:
        value = json.loads(members[name])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"'{path}' is corrupted: its {name} is not valid JSON ({error}).") from None
    if not isinstance(value, dict):
        raise ValueError(f"'{path}' is corrupted: its {name} is not a JSON object.")
    return value


def _read_model_file(path: str) -> tuple[dict, dict, dict]:
    with open(path, "rb") as handle:
        head = handle.read(9)
    if not files.is_zip(head):
        if head[8:9] != b"{" and files.looks_like_pickle(head):
            raise ValueError(f"'{path}' is a Python pickle, not an easynn model file. {files.PICKLE_HINT}")
        if head[8:9] == b"{":  # a safetensors header
            hint = " If it was written by save_weights(), build the model in code and call model.load_weights()."
        else:
            hint = ""
        raise ValueError(f"'{path}' is not an easynn model file (not a zip archive; it may be truncated or corrupted).{hint}")
    wanted = {_CONFIG: files.MAX_JSON_BYTES, _METADATA: files.MAX_JSON_BYTES,
              weights.WEIGHTS_MEMBER: files.MAX_MEMBER_BYTES, _OPTIMIZER: files.MAX_MEMBER_BYTES}
    names, members = files.read_archive(path, wanted)
    if _CONFIG not in members and _METADATA not in members:
        raise ValueError(weights._not_easynn_zip(path, names))
    for required in (_METADATA, _CONFIG, weights.WEIGHTS_MEMBER):
        if required not in members:
            raise ValueError(f"'{path}' is incomplete or corrupted: the member {required} is missing.")
    metadata = _json_member(members, _METADATA, path)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"'{path}' is not an easynn model file (format {metadata.get('format')!r}).")
    major = str(metadata.get("format_version", "")).split(".")[0]
    if major != FORMAT_VERSION.split(".")[0]:
        raise ValueError(
            f"'{path}' uses model file format {metadata.get('format_version')!r}, which this easynn "
            f"(format {FORMAT_VERSION}) cannot read. Upgrade easynn."
        )
    return metadata, _json_member(members, _CONFIG, path), members


def _rebuild(model, build_config: dict | None) -> None:
    """Build an unbuilt model (subclassed, or a Sequential without Input) by one probe call."""
    if model.built or not build_config or build_config.get("input_shape") is None:
        return
    shapes, dtypes = build_config["input_shape"], build_config.get("input_dtype")
    several = bool(shapes) and isinstance(shapes[0], list)
    shape_list = shapes if several else [shapes]
    dtype_list = dtypes if isinstance(dtypes, list) else [dtypes] * len(shape_list)
    probes = []
    for shape, dtype in zip(shape_list, dtype_list):
        torch_dtype = getattr(torch, str(dtype), None) if dtype else torch.get_default_dtype()
        if not isinstance(torch_dtype, torch.dtype):
            raise ValueError(f"Malformed build_config in the model config: unknown dtype {dtype!r}.")
        size = tuple(2 if (i == 0 or s is None) else int(s) for i, s in enumerate(shape))
        probes.append(torch.zeros(size, dtype=torch_dtype))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(probes if several else probes[0])
    finally:
        model.train(was_training)
        model._clear_losses()


def _restore_compile(model, config: dict, members: dict, custom_objects: dict | None, path: str) -> None:
    compile_config = config.get("compile_config")
    if not compile_config:
        return
    try:
        kwargs = compile_state.deserialize_compile(compile_config, custom_objects)
    except compile_state.CompileRestoreError as error:
        warnings.warn(
            f"The model in '{path}' was loaded without its compile state because {error}. "
            "Call model.compile(...) before fit().", UserWarning, stacklevel=3,
        )
        return
    model.compile(**kwargs)
    saved = config.get("optimizer_state")
    if not saved:
        return
    if "unsupported" in saved:
        warnings.warn(
            f"The optimizer state in '{path}' was not saved ({saved['unsupported']}); training resumes "
            "with a fresh optimizer state.", UserWarning, stacklevel=3,
        )
        return
    if _OPTIMIZER not in members:
        raise ValueError(f"'{path}' is incomplete or corrupted: the member {_OPTIMIZER} is missing.")
    try:
        tensors = _st_load(members[_OPTIMIZER])
    except Exception as error:  # safetensors raises its own error type
        raise ValueError(f"'{path}' is corrupted: {_OPTIMIZER} cannot be read ({error}).") from None
    state = compile_state.decode_state(saved.get("state"), tensors)
    try:
        model.optimizer.load_state_dict(state)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"'{path}' holds an optimizer state that does not fit this model: {error}") from None


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """Load a model saved by ``model.save`` / ``save_model``.

    The file cannot run code: classes are found only among easynn's own, registered ones and
    ``custom_objects``; tensors are read with safetensors; nothing is unpickled. Tensors are read
    to the CPU and then moved to the model's device, so files saved on a GPU load without one.

    Args:
        filepath: the saved file (any extension).
        custom_objects: ``{"Name": class_or_function}`` for custom layers, losses and metrics.
        compile: restore the compile arguments and the optimizer state (so ``fit`` continues
            where it stopped); False returns an uncompiled model.
        safe_mode: accepted for Keras compatibility; loading is always safe here.

    Returns:
        The model, built, with its weights (and compiled, when it was saved compiled).

    Raises:
        FileNotFoundError: if nothing is at ``filepath``.
        ValueError: for corrupted, truncated or foreign files, unknown classes, or weights that
            do not fit the architecture.
    """
    if safe_mode is not True:
        raise ValueError(
            "easynn has no unsafe loading mode: model files never contain code. Remove `safe_mode=False`; "
            "rebuild Lambda layers as registered Layer subclasses."
        )
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"`custom_objects` must be a dict of name -> class. Received: {custom_objects!r}")
    path = weights._open_for_reading(filepath)
    _metadata_, config, members = _read_model_file(path)
    entry = config.get("model")
    if not isinstance(entry, dict):
        raise ValueError(f"'{path}' is corrupted: config.json has no model entry.")
    with registry.custom_object_scope(custom_objects):
        model = registry.deserialize_layer(entry, custom_objects)
        _rebuild(model, entry.get("build_config"))
        source = f"'{path}' (member {weights.WEIGHTS_MEMBER})"
        values, described = weights.bytes_to_tensors(members[weights.WEIGHTS_MEMBER], source)
        weights._ensure_built(model, described, source)
        weights.assign_weights(model, values, described, source)
        if compile:
            _restore_compile(model, config, members, custom_objects, path)
    return model
