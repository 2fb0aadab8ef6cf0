"""Keras's saving hooks, called at Keras's moments, with defaults for layers that lack them.

A layer or model may define (as in Keras 3):

    ``get_build_config()`` / ``build_from_config(config)``   how to build it again on load;
        called while the config is serialized / right after ``from_config``.
    ``get_compile_config()`` / ``compile_from_config(config)``   the compile arguments of a
        model; the config goes through ``serialize_keras_object``; called after the build.
    ``save_own_variables(store)`` / ``load_own_variables(store)``   the layer's own state as a
        dict of arrays; saved into ``own_variables.safetensors``, loaded after the weights.
    ``save_assets(dir)`` / ``load_assets(dir)``   files; stored inside the zip under
        ``assets/``, and on load extracted only into a private temporary folder that is
        deleted afterwards.

``easynn.layers.Layer`` itself need not define them: a method counts as the layer's own hook
only when a class outside the easynn package defines it (``overrides``); otherwise easynn's
defaults apply (duck typing, so that ``saving`` needs no import of the models).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import warnings
from typing import Any, Callable

import numpy as np
import torch

__all__ = [
    "overrides", "default_get_build_config", "default_save_own_variables", "default_load_own_variables",
    "build_config_of", "build_from", "compile_config_of", "compile_from", "layer_paths",
    "collect_own_variables", "own_variable_stores", "restore_own_variables", "collect_assets",
    "check_assets_index", "restore_assets",
]

# A hook defined by one of easynn's own classes is a default, not a customization: easynn's
# layers keep their whole state in their weights and config (``Dense`` may define
# ``save_own_variables`` for Keras's ``super()`` calls, but its weights are already in
# ``model.safetensors``).
_EASYNN_PREFIX = "easynn."
ASSETS_PREFIX = "assets/"


def overrides(obj: Any, method: str) -> bool:
    """True if ``method`` of ``obj`` comes from a class outside easynn (a user's customization)."""
    for klass in type(obj).__mro__:
        if method in klass.__dict__:
            return not str(klass.__module__).startswith(_EASYNN_PREFIX)
    return False


def layer_paths(model: Any) -> list[tuple[str, Any]]:
    """``(path, layer)`` for the model and every layer inside it, each once, in a fixed order."""
    from easynn.layers.base import Layer

    return [(name, module) for name, module in model.named_modules() if isinstance(module, Layer)]


# --------------------------------------------------------------------------- build
def _json_shape(shape: Any) -> Any:
    if shape is None:
        return None
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple)) for s in shape):
        return [_json_shape(s) for s in shape]
    return [None if s is None else int(s) for s in shape]


def default_get_build_config(layer: Any) -> dict | None:
    """``{"input_shape", "input_dtype"}`` of a built layer (batch axis included); None if unbuilt."""
    shape = getattr(layer, "_build_input_shape", None)
    if shape is None or not getattr(layer, "built", False):
        return None
    try:
        shape = _json_shape(shape)
    except (TypeError, ValueError):
        return None
    dtype = getattr(layer, "_build_input_dtype", None)
    dtype = [str(d).replace("torch.", "") for d in dtype] if isinstance(dtype, (list, tuple)) else (
        None if dtype is None else str(dtype).replace("torch.", ""))
    return {"input_shape": shape, "input_dtype": dtype}


def build_config_of(layer: Any, top: bool) -> Any:
    """The build config to store: the layer's own hook, else easynn's default for the top object
    (and for layers that customize only ``build_from_config``)."""
    if overrides(layer, "get_build_config"):
        return layer.get_build_config()
    if top or overrides(layer, "build_from_config"):
        return default_get_build_config(layer)
    return None


def _probe_build(layer: Any, build_config: dict) -> None:
    """Build an unbuilt model (subclassed, or a Sequential without Input) by one probe call."""
    shapes, dtypes = build_config["input_shape"], build_config.get("input_dtype")
    several = bool(shapes) and isinstance(shapes[0], list)
    shape_list = shapes if several else [shapes]
    dtype_list = dtypes if isinstance(dtypes, list) else [dtypes] * len(shape_list)
    probes = []
    for shape, dtype in zip(shape_list, dtype_list):
        if dtype == "string":  # a model whose first layer takes strings (TextVectorization)
            probes.append(["x"])
            continue
        torch_dtype = getattr(torch, str(dtype), None) if dtype else torch.get_default_dtype()
        if not isinstance(torch_dtype, torch.dtype) or not isinstance(shape, list):
            raise ValueError(f"Malformed build_config in the model config: {str(build_config)[:200]}")
        size = tuple(2 if (i == 0 or s is None) else int(s) for i, s in enumerate(shape))
        probes.append(torch.zeros(size, dtype=torch_dtype))
    was_training = layer.training
    layer.eval()
    try:
        with torch.no_grad():
            layer(probes if several else probes[0])
    finally:
        layer.train(was_training)
        layer._clear_losses()


def build_from(layer: Any, build_config: Any, top: bool) -> None:
    """Keras's moment: right after ``from_config``, build the layer from its build config."""
    if overrides(layer, "build_from_config"):
        layer.build_from_config(build_config)
        return
    if layer.built or not isinstance(build_config, dict) or build_config.get("input_shape") is None:
        return
    if top or build_config.get("input_dtype") is not None:
        _probe_build(layer, build_config)
    else:
        layer.build_from_shape(tuple(build_config["input_shape"]))


# --------------------------------------------------------------------------- compile
def compile_config_of(model: Any, serialize: Callable[[Any, bool], Any]) -> dict | None:
    """The compile config: ``{"custom": ...}`` from the model's own hook, else easynn's default."""
    from easynn.saving import compile_state

    if overrides(model, "get_compile_config"):
        config = model.get_compile_config()
        return None if config is None else {"custom": serialize(config, False)}
    return compile_state.serialize_compile(model)


def compile_from(model: Any, compile_config: dict, custom_objects: dict | None, where: str) -> bool:
    """Compile ``model`` from its saved compile config; returns whether it is compiled now.

    A compile state that could not be saved (or a custom config without ``compile_from_config``)
    leaves the model uncompiled, with a warning.
    """
    from easynn.saving import compile_state

    if not isinstance(compile_config, dict):
        raise ValueError(f"Malformed compile_config in {where}: {str(compile_config)[:200]}")
    if "custom" in compile_config:
        if not hasattr(model, "compile_from_config"):
            warnings.warn(
                f"The model in {where} was saved with a custom get_compile_config(), but "
                f"{type(model).__name__} has no compile_from_config(); it was loaded uncompiled.",
                UserWarning, stacklevel=4,
            )
            return False
        model.compile_from_config(compile_config["custom"])
        return True
    try:
        kwargs = compile_state.deserialize_compile(compile_config, custom_objects)
    except compile_state.CompileRestoreError as error:
        warnings.warn(
            f"The model in {where} was loaded without its compile state because {error}. "
            "Call model.compile(...) before fit().", UserWarning, stacklevel=4,
        )
        return False
    if overrides(model, "compile_from_config"):
        model.compile_from_config(kwargs)
    else:
        model.compile(**kwargs)
    return True


# --------------------------------------------------------------------------- own variables
def _own_weights(layer: Any) -> list[torch.Tensor]:
    trainable, non_trainable = layer._own_weights()
    return list(trainable) + list(non_trainable)


def default_save_own_variables(layer: Any, store: dict) -> None:
    """Keras's default: the layer's own weights (not its sublayers') as ``store["0"]``, ``"1"``, ...

    Values are NumPy arrays in Keras's layout (a ``Dense`` kernel is ``(in, out)``).
    """
    for index, weight in enumerate(_own_weights(layer)):
        store[str(index)] = layer.keras_layout(weight.detach()).cpu().numpy().copy()


def default_load_own_variables(layer: Any, store: Any) -> None:
    """Inverse of ``default_save_own_variables``; checks the count and the shapes first.

    Raises:
        ValueError: naming the layer when the store does not hold one array per own weight of
            the right shape.
    """
    weights = _own_weights(layer)
    keys = [str(i) for i in range(len(weights))]
    if sorted(store.keys(), key=str) != sorted(keys):
        raise ValueError(
            f"Layer '{layer.name}' expected {len(weights)} variables, but the saved store holds "
            f"{len(store.keys())} ({sorted(store.keys())})."
        )
    values = []
    for key, weight in zip(keys, weights):
        value = torch.as_tensor(np.asarray(store[key]))
        expected = tuple(layer.keras_layout(weight.detach()).shape)
        if tuple(value.shape) != expected:
            raise ValueError(f"Variable {key} of layer '{layer.name}' has shape {expected}, but the store holds {tuple(value.shape)}.")
        values.append(value)
    with torch.no_grad():
        for weight, value in zip(weights, values):
            weight.copy_(layer.torch_layout(weight, value.to(dtype=weight.dtype, device=weight.device)))


def _has_variable_hooks(layer: Any) -> bool:
    return overrides(layer, "save_own_variables") or overrides(layer, "load_own_variables")


def _to_tensor(value: Any, where: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().to("cpu")
    else:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{where} is {value!r}: a variable store holds numeric arrays only.")
        # np.ascontiguousarray makes a 0-d array 1-d; reshape keeps a scalar counter a scalar.
        tensor = torch.from_numpy(np.ascontiguousarray(array).reshape(array.shape))
    return tensor.contiguous().clone()


def collect_own_variables(model: Any) -> tuple[dict[str, torch.Tensor], list[list[str]]]:
    """Call ``save_own_variables`` of every layer that customizes its variables.

    Returns:
        ``(tensors keyed "0", "1"..., [[layer path, store key], ...] in the same order)``.

    Raises:
        TypeError: if a store key is not a string or a value is not a numeric array.
    """
    tensors: dict[str, torch.Tensor] = {}
    index: list[list[str]] = []
    for path, layer in layer_paths(model):
        if not _has_variable_hooks(layer):
            continue
        store: dict[str, Any] = {}
        if overrides(layer, "save_own_variables"):
            layer.save_own_variables(store)
        else:
            default_save_own_variables(layer, store)
        for key, value in store.items():
            if not isinstance(key, str):
                raise TypeError(f"Layer '{layer.name}'.save_own_variables() used the key {key!r}; keys must be strings.")
            tensors[str(len(index))] = _to_tensor(value, f"store[{key!r}] of layer '{layer.name}'")
            index.append([path, key])
    return tensors, index


def own_variable_stores(tensors: dict[str, torch.Tensor], index: Any, source: str) -> dict[str, dict[str, np.ndarray]]:
    """The saved stores by layer path, checked (called before anything is built).

    Raises:
        ValueError: for a malformed index or a missing tensor.
    """
    if not isinstance(index, list) or any(not (isinstance(e, list) and len(e) == 2) for e in index):
        raise ValueError(f"{source} is corrupted: its own-variables index is malformed.")
    if len(index) != len(tensors):
        raise ValueError(f"{source} is corrupted: its own-variables index lists {len(index)} arrays, the member holds {len(tensors)}.")
    stores: dict[str, dict[str, np.ndarray]] = {}
    for position, (path, key) in enumerate(index):
        tensor = tensors.get(str(position))
        if tensor is None:
            raise ValueError(f"{source} is corrupted: own variable {key!r} of layer path {path!r} is missing.")
        stores.setdefault(str(path), {})[str(key)] = tensor.numpy()
    return stores


def restore_own_variables(model: Any, stores: dict[str, dict[str, np.ndarray]]) -> None:
    """Give each layer that customizes ``load_own_variables`` its saved store (NumPy arrays).

    Layers without that hook already got their weights from ``model.safetensors``.
    """
    for path, layer in layer_paths(model):
        if overrides(layer, "load_own_variables"):
            layer.load_own_variables(dict(stores.get(path, {})))


# --------------------------------------------------------------------------- assets
def _private_folder() -> str:
    folder = tempfile.mkdtemp(prefix="easynn-assets-")
    os.chmod(folder, 0o700)
    return folder


def collect_assets(model: Any, max_bytes: int) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """Call ``save_assets(folder)`` of every layer that has it; return the files as zip members.

    Returns:
        ``([(member name, data)], {layer path: member prefix})``.

    Raises:
        ValueError: if a layer writes something other than plain files (links, devices), or
            more than ``max_bytes`` in all.
    """
    members: list[tuple[str, bytes]] = []
    prefixes: dict[str, str] = {}
    total = 0
    for number, (path, layer) in enumerate(layer_paths(model)):
        if not overrides(layer, "save_assets"):
            continue
        prefix = f"{ASSETS_PREFIX}{number}/"
        prefixes[path] = prefix
        folder = _private_folder()
        try:
            layer.save_assets(folder)
            for root, dirs, names in os.walk(folder):
                dirs.sort()
                for name in sorted(names) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                    full = os.path.join(root, name)
                    info = os.lstat(full)
                    if not stat.S_ISREG(info.st_mode):
                        raise ValueError(
                            f"Layer '{layer.name}'.save_assets() created {os.path.relpath(full, folder)!r}, "
                            "which is not a plain file (links and special files are not saved)."
                        )
                    total += info.st_size
                    if total > max_bytes:
                        raise ValueError(f"The assets of model '{model.name}' exceed the cap of {max_bytes} bytes.")
                    with open(full, "rb") as handle:
                        data = handle.read()
                    relative = os.path.relpath(full, folder).replace(os.sep, "/")
                    members.append((prefix + relative, data))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return members, prefixes


def _extract(members: dict[str, bytes], prefix: str, folder: str) -> None:
    """Write the members under ``prefix`` into ``folder``; every path must stay inside it."""
    root = os.path.realpath(folder)
    for name, data in members.items():
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        relative = name[len(prefix):]
        target = os.path.realpath(os.path.join(root, *relative.split("/")))
        if os.path.commonpath([root, target]) != root or target == root:
            raise ValueError(f"The asset member {name!r} points outside its folder; refusing it.")
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(target, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def check_assets_index(prefixes: Any, source: str) -> None:
    """Raise ValueError unless ``prefixes`` maps layer paths to plain ``assets/<n>/`` prefixes."""
    if not isinstance(prefixes, dict) or any(
            not isinstance(p, str) or not p.startswith(ASSETS_PREFIX) or ".." in p.split("/") or "\\" in p
            for p in prefixes.values()):
        raise ValueError(f"{source} is corrupted: its assets index is malformed.")


def restore_assets(model: Any, members: dict[str, bytes], prefixes: Any, source: str) -> None:
    """Call ``load_assets(folder)`` of every layer that has it, each with its own private folder.

    Raises:
        ValueError: for a malformed assets index or a member that would land outside its folder.
    """
    check_assets_index(prefixes, source)
    for path, layer in layer_paths(model):
        if not overrides(layer, "load_assets"):
            continue
        folder = _private_folder()
        try:
            prefix = prefixes.get(path)
            if prefix is not None:
                _extract(members, prefix, folder)
            layer.load_assets(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
