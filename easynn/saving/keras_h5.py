"""Keras 3's HDF5 weights (``model.weights.h5``, ``*.weights.h5``) -> an easynn model's weights.

Keras 3 writes one HDF5 group per layer and stores the layer's own variables as datasets
``vars/0``, ``vars/1``, ... (creation order); a layer's sublayers are subgroups named after
the attribute that holds them (``query_dense``, ``cell``). Inside a model, the layers are
``layers/<name>`` where ``<name>`` is the snake-case class name with a counter per class, in
the order of ``model.layers``: ``layers/dense``, ``layers/dense_1``, ``layers/conv2d``... (so
that weights load by position into a model whose layer names differ, as Keras does).

A layer's arrays are gathered in Keras's ``layer.weights`` order and handed to the easynn
layer's ``set_weights``, which takes Keras's layouts (a ``Dense`` kernel ``(in, out)``, a
``Conv2D`` kernel ``(kh, kw, in, out)``). Every layer is checked before any weight changes.

The file is read with h5py (``pip install "easynn[keras-files]"``); only numeric datasets are
read, and nothing is ever unpickled. The optimizer's variables in a Keras file are not read
here (``keras_optimizer`` reads them when ``load_model`` loads a ``.keras`` file).
"""

from __future__ import annotations

import io
import re
import warnings
from typing import Any

import numpy as np

from easynn.saving import files

__all__ = [
    "HDF5_SIGNATURE",
    "KERAS_WEIGHTS_MEMBER",
    "is_hdf5",
    "is_keras_weights_file",
    "open_h5",
    "snake_case",
    "container_paths",
    "model_plan",
    "layer_arrays",
    "assign",
    "load_weights_h5",
]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
KERAS_WEIGHTS_MEMBER = "model.weights.h5"
# Sublayers in Keras's weight order, for layers whose attribute names do not sort that way.
_CHILD_ORDER = {
    "MultiHeadAttention": ("query_dense", "key_dense", "value_dense", "output_dense"),
    "Bidirectional": ("forward_layer", "backward_layer"),
}
_CONTAINERS = ("Sequential", "Functional", "Model")


def is_hdf5(head: bytes) -> bool:
    """Whether bytes start with the HDF5 signature."""
    return head[:8] == HDF5_SIGNATURE


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "Reading files written by Keras (.keras, .weights.h5) needs h5py, an optional dependency of "
            'easynn: pip install "easynn[keras-files]" (or pip install h5py).'
        ) from None
    return h5py


def open_h5(source_data: bytes | str, source: str) -> Any:
    """An open, read-only ``h5py.File`` for a path or for the bytes of an archive member.

    Raises:
        ImportError: without h5py.
        ValueError: for a truncated or corrupted file.
    """
    h5py = _h5py()
    target = io.BytesIO(source_data) if isinstance(source_data, bytes) else source_data
    try:
        return h5py.File(target, "r")
    except (OSError, ValueError) as error:
        raise ValueError(f"{source} is truncated or corrupted: it is not a readable HDF5 file ({error}).") from None


def snake_case(name: str) -> str:
    """Keras's snake case of a class name: ``Conv2DTranspose`` -> ``conv2d_transpose``.

    Example:
        >>> snake_case("MultiHeadAttention"), snake_case("Conv2D"), snake_case("GRU")
        ('multi_head_attention', 'conv2d', 'gru')
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def container_paths(class_names: list[str], prefix: str) -> list[str]:
    """The group of each layer of a model, given the layers' class names in ``model.layers`` order.

    Example:
        >>> container_paths(["Dense", "Dropout", "Dense"], "layers")
        ['layers/dense', 'layers/dropout', 'layers/dense_1']
    """
    used: dict[str, int] = {}
    out = []
    for class_name in class_names:
        name = snake_case(class_name)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        out.append(f"{prefix}/{name}")
    return out


def _is_container(layer: Any) -> bool:
    return type(layer).__name__ in _CONTAINERS or (hasattr(layer, "layers") and hasattr(layer, "_layers"))


def _keras_layer_order(model: Any) -> list | None:
    """A functional model's layers in the order Keras gives them (None for other models).

    Keras orders a functional model's layers by depth (the longest path to an output, deepest
    first), and within one depth by when a depth-first walk from the outputs first meets them.
    The file's group names count layers of a class in that order, so an easynn model must list
    its layers the same way to read them (its own topological order can differ between
    parallel branches).
    """
    from easynn.layers.symbolic import SymbolicTensor, _flatten

    inputs, outputs = getattr(model, "inputs", None), getattr(model, "outputs", None)
    if not isinstance(inputs, list) or not isinstance(outputs, list) or not hasattr(model, "_input_layers"):
        return None
    input_layer = {id(t): layer for t, layer in zip(inputs, model._input_layers)}

    def key_of(tensor: Any) -> Any:
        return id(tensor.node) if tensor.node is not None else ("input", id(tensor))

    def parents(tensor: Any) -> list:
        if tensor.node is None:
            return []
        return [t for t in _flatten(tensor.node.inputs) if isinstance(t, SymbolicTensor)]

    finished: set = set()
    ordered: list[tuple[Any, Any, list]] = []  # (node key, layer, parent keys), inputs first
    first_seen: dict[int, int] = {}

    def visit(tensor: Any) -> None:
        key = key_of(tensor)
        layer = tensor.node.layer if tensor.node is not None else input_layer.get(id(tensor))
        if key in finished or layer is None:
            return
        first_seen.setdefault(id(layer), len(first_seen))
        for parent in parents(tensor):
            visit(parent)
        finished.add(key)
        ordered.append((key, layer, [key_of(parent) for parent in parents(tensor)]))

    for tensor in _flatten(outputs):
        visit(tensor)
    node_depth: dict = {}
    layer_depth: dict[int, tuple[int, Any]] = {}
    for key, layer, parent_keys in reversed(ordered):
        depth = max(node_depth.setdefault(key, 0), layer_depth.get(id(layer), (0, None))[0])
        layer_depth[id(layer)] = (depth, layer)
        node_depth[key] = depth
        for parent in parent_keys:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for layer in model._input_layers:  # inputs no output depends on
        if id(layer) not in layer_depth:
            layer_depth[id(layer)], first_seen[id(layer)] = (0, layer), -1
    ranked = sorted(layer_depth.items(), key=lambda item: (-item[1][0], first_seen[item[0]]))
    return [layer for _, (_, layer) in ranked]


def model_plan(model: Any, prefix: str = "layers") -> list[tuple[Any, str]]:
    """``[(layer, h5 group path)]`` for every layer of an easynn model, nested models flattened.

    The paths follow Keras's naming over Keras's layer order (see ``_keras_layer_order``; a
    ``Sequential``'s input layer is not one of its layers, as in Keras).
    """
    from easynn.layers.core import InputLayer

    layers = _keras_layer_order(model)
    if layers is None:
        layers = [
            layer
            for layer in getattr(model, "layers", [])
            if not (type(model).__name__ == "Sequential" and isinstance(layer, InputLayer))
        ]
    plan: list[tuple[Any, str]] = []
    for layer, path in zip(layers, container_paths([type(layer).__name__ for layer in layers], prefix)):
        if _is_container(layer):
            plan += model_plan(layer, f"{path}/layers")
        else:
            plan.append((layer, path))
    return plan


def _numeric(dataset: Any, where: str) -> np.ndarray:
    if dataset.dtype.kind not in "biuf":
        raise ValueError(f"{where} holds a {dataset.dtype} dataset; Keras weights are numeric arrays.")
    return np.asarray(dataset[()])


def _own_arrays(group: Any, where: str) -> list[np.ndarray]:
    variables = group.get("vars")
    if variables is None:
        return []
    keys = sorted(variables.keys(), key=lambda key: int(key) if key.isdigit() else -1)
    if keys != [str(index) for index in range(len(keys))]:
        raise ValueError(f"{where} is corrupted: the variables of '{group.name}' are not numbered 0..{len(keys) - 1}.")
    return [_numeric(variables[key], where) for key in keys]


def layer_arrays(group: Any, class_name: str | None, where: str) -> list[np.ndarray]:
    """The arrays of a layer's group in Keras's ``layer.weights`` order: its own, then its sublayers'."""
    arrays = _own_arrays(group, where)
    children = [name for name in group.keys() if name != "vars" and hasattr(group[name], "keys")]
    first = [name for name in _CHILD_ORDER.get(class_name or "", ()) if name in children]
    for name in first + sorted(name for name in children if name not in first):
        arrays += layer_arrays(group[name], None, where)
    return arrays


def _weighted_groups(root: Any, prefix: str = "layers") -> dict[str, int]:
    """``{layer group path: number of arrays}`` for the layer groups that hold arrays."""
    found: dict[str, int] = {}
    group = root.get(prefix)
    if group is None:
        return found
    for name in group.keys():
        path = f"{prefix}/{name}"
        if "layers" in group[name] and hasattr(group[name]["layers"], "keys"):
            found.update(_weighted_groups(root, f"{path}/layers"))
            continue
        count = _array_count(group[name])
        if count:
            found[path] = count
    return found


def _array_count(group: Any) -> int:
    """How many arrays a layer's group holds (without reading them)."""
    own = len(group["vars"].keys()) if "vars" in group else 0
    return own + sum(
        _array_count(group[name]) for name in group.keys() if name != "vars" and hasattr(group[name], "keys")
    )


def assign(
    plan: list[tuple[Any, str]], root: Any, source: str, skip_mismatch: bool = False, strict: bool = True
) -> None:
    """Set each planned layer's weights from its group of ``root``; all checked before any is set.

    Args:
        plan: ``[(easynn layer, group path)]``.
        root: the open HDF5 file.
        source: how errors name the file.
        skip_mismatch: skip (with a warning) layers whose count or shapes differ, instead of
            raising.
        strict: also refuse a file that holds weights for layers the plan does not name.

    Raises:
        ValueError: naming the first layer whose weights are missing or do not fit.
    """
    if "layer_names" in root.attrs or "model_weights" in root:
        raise ValueError(
            f"{source} is a Keras 2 (legacy HDF5) file; easynn reads the Keras 3 formats (.keras and "
            ".weights.h5). Re-save it from Keras 3 with model.save('model.keras')."
        )
    work: list[tuple[Any, list[np.ndarray]]] = []
    for layer, path in plan:
        expected = [tuple(w.shape) for w in layer.get_weights()]
        try:
            group = root.get(path)
            arrays = layer_arrays(group, type(layer).__name__, source) if group is not None else []
        except (OSError, KeyError, RuntimeError) as error:  # h5py's errors for damaged data
            raise ValueError(f"{source} is corrupted: the weights of '{path}' cannot be read ({error}).") from None
        problem = None
        if len(arrays) != len(expected):
            where = f"in its group '{path}'" if group is not None else f"(no group '{path}')"
            problem = f"expects {len(expected)} weights, but {source} has {len(arrays)} {where}"
            if arrays and not expected:
                problem += "; the layer is not built yet: build the model first"
        else:
            for index, (shape, array) in enumerate(zip(expected, arrays)):
                if tuple(array.shape) != shape:
                    problem = (
                        f"weight {index} has shape {shape}, but '{path}' in {source} has shape {tuple(array.shape)}"
                    )
                    break
        if problem is not None:
            message = f"Layer '{layer.name}' ({type(layer).__name__}) {problem}."
            if not skip_mismatch:
                raise ValueError(
                    message + " The file was saved from a different architecture "
                    "(pass skip_mismatch=True to skip such layers)."
                )
            warnings.warn("Skipping mismatched weights: " + message, UserWarning, stacklevel=3)
            continue
        if expected:
            work.append((layer, arrays))
    if strict:
        used = {path for _, path in plan}
        extra = sorted(path for path in _weighted_groups(root) if path not in used)
        message = f"{source} holds weights for layers that the model does not have: {extra}."
        if extra and not skip_mismatch:
            raise ValueError(
                message + " The file was saved from a different architecture (pass skip_mismatch=True to ignore them)."
            )
        if extra:
            warnings.warn("Skipping mismatched weights: " + message, UserWarning, stacklevel=3)
    for layer, arrays in work:
        layer.set_weights(arrays)


def _keras_zip_member(path: str) -> bytes | None:
    """The ``model.weights.h5`` member of a Keras-written ``.keras`` zip (None for other zips)."""
    names, members = files.read_archive(path, {KERAS_WEIGHTS_MEMBER: files.MAX_MEMBER_BYTES})
    if "model.safetensors" in names:  # an easynn model file
        return None
    return members.get(KERAS_WEIGHTS_MEMBER)


def is_keras_weights_file(path: str) -> bool:
    """Whether ``path`` is a Keras 3 weights file (HDF5) or a Keras-written ``.keras`` zip."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if is_hdf5(head):
        return True
    return files.is_zip(head) and _keras_zip_member(path) is not None


def load_weights_h5(model: Any, path: str, skip_mismatch: bool = False) -> None:
    """``model.load_weights(path)`` for a Keras 3 ``.weights.h5`` file or a Keras ``.keras`` file.

    Layers are matched by position, as Keras does: the n-th ``Dense`` of the model takes the
    weights of the n-th ``Dense`` of the file, whatever the layers' names.

    Raises:
        ImportError: without h5py.
        ValueError: for a corrupted file or one from another architecture.
    """
    source = f"'{path}'"
    if not getattr(model, "weights", None):
        raise ValueError(
            f"Model '{getattr(model, 'name', '?')}' has no weights yet, so the weights of {source} cannot be "
            "loaded into it. Build the model first: call it on a batch of data, or start it with easynn.Input(shape=...)."
        )
    with open(path, "rb") as handle:
        hdf5 = is_hdf5(handle.read(8))
    if not hdf5:
        source = f"{source} (member {KERAS_WEIGHTS_MEMBER})"
    with open_h5(path if hdf5 else _keras_zip_member(path), source) as root:
        assign(model_plan(model), root, source, skip_mismatch=skip_mismatch)
