"""``save_model`` / ``load_model``: one zip file with architecture, weights and compile state.

Members of the zip (the file name and extension are the user's choice, e.g. ``model.keras``):

    ``metadata.json``         format name and version, easynn and torch versions, date
    ``config.json``           ``{"model": {class_name, registered_name, config, build_config},
                              "compile_config": ..., "optimizer_state": ...}``
    ``model.safetensors``     the weights, by position (see ``weights.py``)
    ``optimizer.safetensors`` the optimizer's tensors (moments, step counts); its scalars and
                              param-group values are in ``config.json["optimizer_state"]``
    ``own_variables.safetensors``  what layers with a ``save_own_variables`` hook stored
                              (index in ``config.json["own_variables"]``), when any does
    ``assets/<n>/...``        files written by layers' ``save_assets`` hooks (index in
                              ``config.json["assets"]``), when any does

The hooks (``hooks.py``) run at Keras's moments: on load, ``build_from_config`` right after
``from_config``, then ``compile_from_config``, then the weights, ``load_own_variables`` and
``load_assets``, and last the optimizer's state.
"""

from __future__ import annotations

import datetime
import json
import sys
import warnings
from typing import Any

import torch
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save

from easynn.saving import compile_state, files, hooks, keras_file, registry, serialization, weights

__all__ = ["save_model", "load_model", "FORMAT", "FORMAT_VERSION"]

FORMAT = "easynn.model"
FORMAT_VERSION = "1.0"
_CONFIG, _METADATA, _OPTIMIZER = "config.json", "metadata.json", "optimizer.safetensors"
_OWN_VARIABLES = "own_variables.safetensors"


def _metadata() -> dict:
    # The package is always imported by now (saving is part of it); reading it from sys.modules
    # keeps saving from importing the top-level package, which imports the models above it.
    easynn = sys.modules.get("easynn")
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
    # Everything is gathered (and every hook has run) before the file is touched.
    model_entry = serialization.serialize_top_level(model)
    compile_config = (hooks.compile_config_of(model, serialization._serialize)
                      if getattr(model, "compiled", False) else None)
    if compile_config is not None:
        registry.check_json(compile_config, "The compile config")
    optimizer_state, optimizer_bytes = _optimizer_payload(model)
    own_tensors, own_index = hooks.collect_own_variables(model)
    asset_members, asset_index = hooks.collect_assets(model, files.MAX_TOTAL_BYTES)
    config = {"model": model_entry, "compile_config": compile_config, "optimizer_state": optimizer_state}
    if own_index:
        config["own_variables"] = own_index
    if asset_index:
        config["assets"] = asset_index
    members = [
        (_METADATA, json.dumps(_metadata(), indent=2).encode(), True),
        (_CONFIG, json.dumps(config, indent=1).encode(), True),
        (weights.WEIGHTS_MEMBER, weights.weights_to_bytes(model), False),
    ]
    if optimizer_bytes is not None:
        members.append((_OPTIMIZER, optimizer_bytes, False))
    if own_index:
        members.append((_OWN_VARIABLES, _st_save(own_tensors, metadata={"format": "easynn.own_variables"}), False))
    members += [(name, data, True) for name, data in asset_members]
    files.atomic_write(filepath, lambda handle: files.write_archive(handle, members), overwrite=overwrite)


def _json_member(members: dict, name: str, path: str) -> dict:
    try:
        value = json.loads(members[name])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"'{path}' is corrupted: its {name} is not valid JSON ({error}).") from None
    if not isinstance(value, dict):
        raise ValueError(f"'{path}' is corrupted: its {name} is not a JSON object.")
    return value


def _read_model_file(path: str) -> tuple[dict | None, dict, dict]:
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
              weights.WEIGHTS_MEMBER: files.MAX_MEMBER_BYTES, _OPTIMIZER: files.MAX_MEMBER_BYTES,
              _OWN_VARIABLES: files.MAX_MEMBER_BYTES}
    wanted[keras_file.KERAS_WEIGHTS_MEMBER] = files.MAX_MEMBER_BYTES
    names, members = files.read_archive(path, wanted, prefixes={hooks.ASSETS_PREFIX: files.MAX_MEMBER_BYTES})
    if _CONFIG not in members and _METADATA not in members:
        raise ValueError(weights._not_easynn_zip(path, names))
    if weights.WEIGHTS_MEMBER not in names and keras_file.is_keras_archive(names, members.get(_METADATA)):
        return None, {}, members  # written by Keras 3: keras_file reads it
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


def _restore_compile(model, config: dict, custom_objects: dict | None, path: str) -> bool:
    """Keras's moment for ``compile_from_config``: after the build, before the variables."""
    compile_config = config.get("compile_config")
    if not compile_config:
        return False
    return hooks.compile_from(model, compile_config, custom_objects, f"'{path}'")


def _restore_optimizer_state(model, config: dict, members: dict, path: str) -> None:
    if getattr(model, "optimizer", None) is None:
        return
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
        safe_mode: True (the default) refuses a ``Lambda`` layer whose function is not a
            registered object; False (or ``easynn.config.enable_unsafe_deserialization()``)
            looks such a function up by name in the modules the program already imported.
            Nothing from the file is ever imported, compiled or unpickled, in either mode.

    Returns:
        The model, built, with its weights (and compiled, when it was saved compiled).

    Raises:
        FileNotFoundError: if nothing is at ``filepath``.
        ValueError: for corrupted, truncated or foreign files, unknown classes, refused Lambda
            layers, or weights that do not fit the architecture.
    """
    if not isinstance(safe_mode, bool):
        raise TypeError(f"`safe_mode` must be True or False. Received: safe_mode={safe_mode!r}")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"`custom_objects` must be a dict of name -> class. Received: {custom_objects!r}")
    path = weights._open_for_reading(filepath)
    _metadata_, config, members = _read_model_file(path)
    if _metadata_ is None:
        return keras_file.load_keras_model(path, members, custom_objects, compile, safe_mode)
    entry = config.get("model")
    if not isinstance(entry, dict):
        raise ValueError(f"'{path}' is corrupted: config.json has no model entry.")
    if "build_config" in entry and entry["build_config"] is None:
        del entry["build_config"]
    # Every part of the file is checked before any object is built or any hook runs.
    own_stores = None
    if config.get("own_variables"):
        if _OWN_VARIABLES not in members:
            raise ValueError(f"'{path}' is incomplete or corrupted: the member {_OWN_VARIABLES} is missing.")
        try:
            own_tensors = _st_load(members[_OWN_VARIABLES])
        except Exception as error:  # safetensors raises its own error type
            raise ValueError(f"'{path}' is corrupted: {_OWN_VARIABLES} cannot be read ({error}).") from None
        own_stores = hooks.own_variable_stores(own_tensors, config["own_variables"], f"'{path}'")
    assets_index = config.get("assets") or {}
    hooks.check_assets_index(assets_index, f"'{path}'")
    with registry.CustomObjectScope(custom_objects), \
            registry.SafeModeScope(serialization._effective_safe_mode(safe_mode)):
        model = serialization.deserialize_top_level(entry, custom_objects, compile=False)
        compiled = compile and _restore_compile(model, config, custom_objects, path)
        source = f"'{path}' (member {weights.WEIGHTS_MEMBER})"
        values, described = weights.bytes_to_tensors(members[weights.WEIGHTS_MEMBER], source)
        weights._ensure_built(model, described, source)
        weights.assign_weights(model, values, described, source)
        if own_stores is not None:
            hooks.restore_own_variables(model, own_stores)
        assets = {name: data for name, data in members.items() if name.startswith(hooks.ASSETS_PREFIX)}
        hooks.restore_assets(model, assets, assets_index, f"'{path}'")
        if compiled:
            _restore_optimizer_state(model, config, members, path)
    return model
