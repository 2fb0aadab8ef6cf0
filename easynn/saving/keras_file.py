"""Loading Keras-3-written files: ``load_model("m.keras")`` and ``model.load_weights("w.weights.h5")``.

``load_model`` hands a ``.keras`` zip written by Keras 3 (``metadata.json`` with
``keras_version``, ``config.json``, ``model.weights.h5``) to ``load_keras_model``, which

    1. translates the config (``keras_format``),
    2. builds the model with easynn's own deserializer, under the same ``custom_objects`` and
       ``safe_mode`` rules as easynn's files (classes found by name only; a ``Lambda`` never
       rebuilt from bytecode),
    3. loads the HDF5 weights (``keras_h5``) by Keras's group names, computed from the
       config's layer order, through each layer's Keras-layout ``set_weights``, and
    4. compiles the model from Keras's compile config when easynn has everything it names
       (otherwise it warns and returns the model uncompiled, as Keras does), and
    5. gives the optimizer the state of Keras's optimizer variables (``keras_optimizer``: Adam,
       AdamW, SGD and RMSprop; their moments, momentum buffers and ``iterations``), so that
       ``fit`` continues where Keras stopped. Other optimizers, EMA and gradient accumulation
       load with a fresh optimizer state and a warning that says so.

Nothing in the file is imported, run or unpickled.

Example:
    >>> from easynn.saving import keras_h5
    >>> keras_h5.container_paths(["InputLayer", "Dense", "Dense"], "layers")
    ['layers/input_layer', 'layers/dense', 'layers/dense_1']
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from easynn.saving import hooks, keras_format, keras_h5, keras_optimizer, registry, serialization

__all__ = ["KERAS_WEIGHTS_MEMBER", "is_keras_archive", "config_plan", "load_keras_model"]

KERAS_WEIGHTS_MEMBER = keras_h5.KERAS_WEIGHTS_MEMBER


def is_keras_archive(names: list[str], metadata: bytes | None) -> bool:
    """Whether a zip's members say Keras 3 wrote it (its weights member, or ``keras_version``)."""
    if KERAS_WEIGHTS_MEMBER in names:
        return True
    try:
        return "keras_version" in json.loads(metadata or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError):
        return False


def config_plan(entry: dict, model: Any, prefix: str = "layers") -> list[tuple[Any, str]]:
    """``[(easynn layer, h5 group)]`` from the Keras config's layer order (Keras's own naming order)."""
    inner = entry["config"]
    specs = [
        s
        for s in inner["layers"]
        if not (entry.get("class_name") == "Sequential" and s.get("class_name") == "InputLayer")
    ]
    by_name = {layer.name: layer for layer in model.layers}
    plan: list[tuple[Any, str]] = []
    for spec, path in zip(specs, keras_h5.container_paths([s.get("class_name", "") for s in specs], prefix)):
        layer = by_name.get(spec.get("name") or (spec.get("config") or {}).get("name"))
        if layer is None:
            continue  # a mask-only node that was not rebuilt
        if spec.get("class_name") in keras_format.MODEL_CLASSES and "layers" in (spec.get("config") or {}):
            plan += config_plan(spec, layer, f"{path}/layers")
        else:
            plan.append((layer, path))
    return plan


def load_keras_model(path: str, members: dict, custom_objects: dict | None, compile: bool, safe_mode: bool) -> Any:
    """The model of a Keras-3-written ``.keras`` file (``members``: its zip members read so far)."""
    source = f"'{path}'"
    for required in ("config.json", KERAS_WEIGHTS_MEMBER):
        if required not in members:
            raise ValueError(f"{source} is incomplete or corrupted: the member {required} is missing.")
    try:
        config = json.loads(members["config.json"])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{source} is corrupted: its config.json is not valid JSON ({error}).") from None
    try:
        version = json.loads(members.get("metadata.json") or b"{}").get("keras_version", "3")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        version = "3"
    weights_source = f"{source} (written by Keras {version}; member {KERAS_WEIGHTS_MEMBER})"
    entry = keras_format.translate_model(config)
    with (
        registry.CustomObjectScope(custom_objects),
        registry.SafeModeScope(serialization._effective_safe_mode(safe_mode)),
    ):
        model = serialization.deserialize_top_level(entry, custom_objects, compile=False)
        with keras_h5.open_h5(members[KERAS_WEIGHTS_MEMBER], weights_source) as root:
            plan = (
                config_plan(config, model)
                if entry["class_name"] in keras_format.MODEL_CLASSES
                else keras_h5.model_plan(model)
            )
            keras_h5.assign(plan, root, weights_source, strict=False)
            optimizer_variables = keras_optimizer.read_variables(root, weights_source) if compile else []
        if compile and config.get("compile_config"):
            try:
                compile_config = keras_format.translate_compile(config["compile_config"])
            except (ValueError, TypeError) as error:
                warnings.warn(
                    f"The model in {source} was loaded uncompiled because {error}. Call "
                    "model.compile(...) before fit().",
                    UserWarning,
                    stacklevel=3,
                )
                compile_config = None
            if compile_config is not None and hooks.compile_from(model, compile_config, custom_objects, source):
                keras_optimizer.restore(
                    model, optimizer_variables, config["compile_config"].get("optimizer"), plan, source
                )
    return model
