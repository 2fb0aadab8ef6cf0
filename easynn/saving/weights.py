"""Weights <-> safetensors bytes, matched by position as Keras does, with shape checks.

The weights file holds tensors keyed ``"0"``, ``"1"``, ... in the order of ``model.weights``
(each layer's own weights, then its sublayers', depth first), in Keras's layout (a ``Dense``
kernel is ``(in, out)``), always as CPU tensors. Its safetensors metadata records, for each
position, the owning layer's name, the weight's name and its shape, so that a mismatch can be
reported by layer.

A file written by ``save_weights`` also holds, as Keras's ``.weights.h5`` does, what layers with a
``save_own_variables`` hook stored: tensors keyed ``"own.0"``, ``"own.1"``, ... and, in the
metadata, ``"own_variables"``: the JSON list of ``[layer path, store key]`` for each (format
version 2). ``load_weights`` gives those stores to the layers' ``load_own_variables`` after the
weights. Files without that section (format version 1) load as before. ``load_weights`` on a
model file (``model.save``) reads its ``model.safetensors`` member and, as Keras does, its
``own_variables.safetensors`` member too.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

import torch
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save

from easynn.saving import files, hooks

__all__ = ["weights_to_bytes", "bytes_to_tensors", "assign_weights", "save_weights", "load_weights", "read_weights_bytes"]

WEIGHTS_FORMAT = "easynn.weights"
WEIGHTS_MEMBER = "model.safetensors"
_OWN_PREFIX = "own."  # keys of the own-variables section (the weights are keyed by bare numbers)
# Members of a model file (model_file.py writes them; model_file imports this module, not the reverse).
_CONFIG_MEMBER, _OWN_VARIABLES_MEMBER = "config.json", "own_variables.safetensors"


def _entries(model) -> list[tuple[Any, str, torch.Tensor]]:
    """``(owner layer, weight name, tensor)`` for each of ``model.weights``, in order."""
    from easynn.layers.base import Layer

    owners: dict[int, tuple[Any, str]] = {}
    for module in model.modules():
        if isinstance(module, Layer):
            for name, tensor in list(module._parameters.items()) + list(module._buffers.items()):
                if tensor is not None:
                    owners.setdefault(id(tensor), (module, name))
    for module in model.modules():
        if isinstance(module, Layer):
            for child_name, child in module.named_children():
                if isinstance(child, Layer):
                    continue
                for name, tensor in list(child.named_parameters()) + list(child.named_buffers()):
                    owners.setdefault(id(tensor), (module, f"{child_name}.{name}"))
    out = []
    for tensor in model.weights:
        owner, name = owners.get(id(tensor), (model, "weight"))
        out.append((owner, name, tensor))
    return out


def weights_to_bytes(model, own_variables: bool = False) -> bytes:
    """The model's weights as safetensors bytes (CPU copies, Keras layout, keyed by position).

    Args:
        model: the model whose weights are written.
        own_variables: also store the layers' ``save_own_variables`` stores (``save_weights``
            does; a model file keeps them in its own member instead).

    Raises:
        TypeError: if a ``save_own_variables`` store has a non-string key or a non-numeric value.
    """
    tensors: dict[str, torch.Tensor] = {}
    described = []
    owner_numbers: dict[int, int] = {}
    for index, (owner, name, tensor) in enumerate(_entries(model)):
        value = owner.keras_layout(tensor.detach()).to("cpu").contiguous()
        if value.data_ptr() == tensor.data_ptr():  # same storage: copy, so later steps do not race
            value = value.clone()
        tensors[str(index)] = value
        # "owner" numbers the layers: two nested layers may share a name (``Sequential(name="a")``
        # and ``Sequential(name="b")`` each holding a ``Dense(name="d")``), so names alone cannot
        # tell where one layer's weights end and the next one's begin.
        number = owner_numbers.setdefault(id(owner), len(owner_numbers))
        described.append({"layer": owner.name, "owner": number, "name": name, "shape": list(value.shape)})
    metadata = {"format": WEIGHTS_FORMAT, "format_version": "1", "model": str(getattr(model, "name", "")),
                "weights": json.dumps(described)}
    if own_variables:
        own_tensors, own_index = hooks.collect_own_variables(model)
        if own_index:  # files without hooks stay exactly as version 1 wrote them
            tensors.update({_OWN_PREFIX + key: value for key, value in own_tensors.items()})
            metadata["own_variables"] = json.dumps(own_index)
            metadata["format_version"] = "2"
    return _st_save(tensors, metadata=metadata)


def _header(data: bytes, source: str) -> dict:
    if len(data) < 8:
        raise ValueError(f"{source} is truncated or not a weights file: it has only {len(data)} bytes.")
    size = int.from_bytes(data[:8], "little")
    if size <= 0 or 8 + size > len(data) or size > files.MAX_JSON_BYTES:
        raise ValueError(f"{source} is truncated or corrupted: its safetensors header is invalid.")
    try:
        header = json.loads(data[8 : 8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{source} is corrupted: its safetensors header is not valid JSON.") from None
    if not isinstance(header, dict):
        raise ValueError(f"{source} is corrupted: its safetensors header is not a JSON object.")
    return header


def bytes_to_tensors(data: bytes, source: str) -> tuple[list[torch.Tensor], list[dict]]:
    """Parse weights bytes into (tensors in position order, per-position descriptions).

    Raises:
        ValueError: for truncated or corrupted data, or a safetensors file not written by easynn.
    """
    values, described, _ = _parse(data, source)
    return values, described


def _parse(data: bytes, source: str) -> tuple[list[torch.Tensor], list[dict], dict[str, dict] | None]:
    """``bytes_to_tensors`` plus the own-variable stores by layer path (None when the file has
    no own-variables section), all checked before anything is assigned."""
    try:
        header = _header(data, source)
    except ValueError:
        if files.looks_like_pickle(data):
            raise ValueError(f"{source} looks like a Python pickle, not a weights file. {files.PICKLE_HINT}") from None
        raise
    metadata = header.get("__metadata__") or {}
    try:
        tensors = _st_load(data)
    except Exception as error:  # safetensors raises its own error type
        raise ValueError(f"{source} is truncated or corrupted: {error}") from None
    if metadata.get("format") != WEIGHTS_FORMAT:
        raise ValueError(
            f"{source} is a safetensors file, but not one written by easynn's save_weights() (no "
            "position metadata). Load such files with safetensors.torch.load_file() and set the "
            "tensors yourself with load_state_dict() or set_weights()."
        )
    own = {key[len(_OWN_PREFIX):]: tensors.pop(key) for key in list(tensors) if key.startswith(_OWN_PREFIX)}
    try:
        described = json.loads(metadata.get("weights", "[]"))
        own_index = json.loads(metadata["own_variables"]) if "own_variables" in metadata else None
        keys = sorted(tensors, key=int)
    except (ValueError, TypeError):
        raise ValueError(f"{source} is corrupted: its weight metadata cannot be read.") from None
    if keys != [str(i) for i in range(len(keys))] or len(described) != len(keys):
        raise ValueError(f"{source} is corrupted: its weights are not numbered 0..{len(keys) - 1} as expected.")
    values = [tensors[k] for k in keys]
    for value, info in zip(values, described):
        if list(value.shape) != list(info.get("shape", [])):
            raise ValueError(f"{source} is corrupted: the shape recorded for weight '{info.get('name')}' does not match its data.")
    if own_index is None:
        if own:
            raise ValueError(f"{source} is corrupted: it holds own variables but no own-variables index.")
        return values, described, None
    return values, described, hooks.own_variable_stores(own, own_index, source)


def _groups(items: list[tuple[str, Any]]) -> list[tuple[str, list[int]]]:
    """Consecutive positions with the same owner: ``[(owner label, [positions])]``."""
    groups: list[tuple[str, list[int]]] = []
    last: Any = None
    for index, (label, key) in enumerate(items):
        if index == 0 or key != last:
            groups.append((label, []))
            last = key
        groups[-1][1].append(index)
    return groups


def assign_weights(model, values: list[torch.Tensor], described: list[dict], source: str,
                   skip_mismatch: bool = False) -> None:
    """Copy ``values`` into ``model.weights`` layer by layer, checking counts and shapes first.

    Nothing is changed unless every layer matches (or is skipped with ``skip_mismatch``).

    Raises:
        ValueError: naming the first layer whose weight count or shapes differ.
    """
    entries = _entries(model)
    model_groups = _groups([(owner.name, id(owner)) for owner, _, _ in entries])
    file_groups = _groups([(info.get("layer", "?"), info.get("owner", info.get("layer", "?"))) for info in described])
    if len(model_groups) != len(file_groups):
        raise ValueError(
            f"{source} holds weights for {len(file_groups)} layers ({len(values)} tensors), but model "
            f"'{model.name}' has {len(model_groups)} layers with weights ({len(entries)} tensors). The file "
            f"was saved from a different architecture. Layers in the file: {[g[0] for g in file_groups]}; "
            f"layers in the model: {[g[0] for g in model_groups]}."
        )
    plan: list[tuple[int, int]] = []
    for (model_layer, model_idx), (file_layer, file_idx) in zip(model_groups, file_groups):
        problem = None
        if len(model_idx) != len(file_idx):
            problem = f"expects {len(model_idx)} weights, but the file has {len(file_idx)} for layer '{file_layer}'"
        else:
            for m, f in zip(model_idx, file_idx):
                owner, name, tensor = entries[m]
                expected = tuple(owner.keras_layout(tensor.detach()).shape)
                if tuple(values[f].shape) != expected:
                    problem = (f"weight '{name}' has shape {expected}, but the file's weight "
                               f"'{described[f].get('name')}' of layer '{file_layer}' has shape {tuple(values[f].shape)}")
                    break
        if problem is not None:
            message = f"Layer '{model_layer}' of model '{model.name}' {problem} ({source})."
            if not skip_mismatch:
                raise ValueError(message + " Pass skip_mismatch=True to skip such layers.")
            warnings.warn("Skipping mismatched weights: " + message, UserWarning, stacklevel=4)
            continue
        plan += list(zip(model_idx, file_idx))
    with torch.no_grad():
        for m, f in plan:
            owner, _, tensor = entries[m]
            value = values[f].to(dtype=tensor.dtype, device=tensor.device)
            tensor.copy_(owner.torch_layout(tensor, value))


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write the model's weights, and its layers' ``save_own_variables`` stores, to ``filepath``
    (safetensors, any extension), atomically."""
    files.check_path(filepath)
    data = weights_to_bytes(model, own_variables=True)
    files.atomic_write(filepath, lambda handle: handle.write(data), overwrite=overwrite)


def _open_for_reading(filepath) -> str:
    path = files.check_path(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No file found at '{path}'. Check the path (the current folder is '{os.getcwd()}').")
    if os.path.isdir(path):
        raise ValueError(f"'{path}' is a folder; easynn model and weights files are single files.")
    return path


def read_weights_bytes(filepath) -> tuple[bytes, str]:
    """The weights bytes of a weights file or of a model file (its model.safetensors member)."""
    data, source, _ = _read(filepath)
    return data, source


def _read(filepath) -> tuple[bytes, str, dict[str, dict] | None]:
    """``read_weights_bytes`` plus, for a model file, its own-variable stores (None if it has none)."""
    path = _open_for_reading(filepath)
    with open(path, "rb") as handle:
        head = handle.read(8)
    source = f"'{path}'"
    if files.is_zip(head):
        wanted = {WEIGHTS_MEMBER: files.MAX_MEMBER_BYTES, _CONFIG_MEMBER: files.MAX_JSON_BYTES,
                  _OWN_VARIABLES_MEMBER: files.MAX_MEMBER_BYTES}
        names, members = files.read_archive(path, wanted)
        if WEIGHTS_MEMBER not in members:
            raise ValueError(_not_easynn_zip(path, names))
        return members[WEIGHTS_MEMBER], f"{source} (member {WEIGHTS_MEMBER})", _model_file_stores(members, source)
    if os.path.getsize(path) > files.MAX_MEMBER_BYTES:
        raise ValueError(f"{source} is larger than the cap of {files.MAX_MEMBER_BYTES} bytes.")
    with open(path, "rb") as handle:
        return handle.read(), source, None


def _model_file_stores(members: dict[str, bytes], source: str) -> dict[str, dict] | None:
    """The own-variable stores of a model file (indexed in its config.json), checked."""
    try:
        config = json.loads(members.get(_CONFIG_MEMBER, b"{}"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{source} is corrupted: its {_CONFIG_MEMBER} is not valid JSON.") from None
    index = config.get("own_variables") if isinstance(config, dict) else None
    if not index:
        return None
    if _OWN_VARIABLES_MEMBER not in members:
        raise ValueError(f"{source} is incomplete or corrupted: the member {_OWN_VARIABLES_MEMBER} is missing.")
    try:
        tensors = _st_load(members[_OWN_VARIABLES_MEMBER])
    except Exception as error:  # safetensors raises its own error type
        raise ValueError(f"{source} is corrupted: {_OWN_VARIABLES_MEMBER} cannot be read ({error}).") from None
    return hooks.own_variable_stores(tensors, index, source)


def _not_easynn_zip(path: str, names: list[str]) -> str:
    if any(n.endswith("data.pkl") for n in names):
        return f"'{path}' is a PyTorch pickle archive (torch.save), not an easynn file. {files.PICKLE_HINT}"
    shown = ", ".join(names[:8]) or "nothing"
    return f"'{path}' is a zip file but not an easynn model file (it holds: {shown})."


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Load weights written by ``save_weights`` (or the weights inside a ``model.save`` file), then
    give layers with a ``load_own_variables`` hook the stores their ``save_own_variables`` wrote.

    Raises:
        FileNotFoundError: if nothing is at ``filepath``.
        ValueError: for a corrupted/truncated file or one from another architecture.
    """
    from easynn.saving import keras_h5

    if keras_h5.is_keras_weights_file(_open_for_reading(filepath)):  # written by Keras 3
        keras_h5.load_weights_h5(model, files.check_path(filepath), skip_mismatch=skip_mismatch)
        return
    data, source, own_stores = _read(filepath)
    values, described, file_stores = _parse(data, source)
    own_stores = file_stores if own_stores is None else own_stores
    _ensure_built(model, described, source)
    assign_weights(model, values, described, source, skip_mismatch=skip_mismatch)
    if own_stores is not None:  # Keras's order: the weights, then load_own_variables
        hooks.restore_own_variables(model, own_stores)


def _ensure_built(model, described: list[dict], source: str) -> None:
    if model.weights or not described:
        return
    raise ValueError(
        f"Model '{model.name}' has no weights yet, so the {len(described)} weights of {source} cannot be "
        "loaded into it. Build the model first: call it on a batch of data, or start it with easynn.Input(shape=...)."
    )
