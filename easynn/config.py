"""Global settings, with Keras 3's ``keras.config`` names.

easynn runs on one backend, PyTorch, so ``backend()`` is always ``"torch"``. The default float
type *is* torch's default dtype: ``set_floatx("float64")`` calls ``torch.set_default_dtype``, so
new weights, ``easynn.ops`` results and plain torch code agree.

Example:
    >>> from easynn import config
    >>> config.backend(), config.floatx(), config.image_data_format()
    ('torch', 'float32', 'channels_last')
    >>> config.epsilon()
    1e-07
"""

from __future__ import annotations

import os

import torch

from easynn.dtype_policies import dtype_policy, set_dtype_policy

__all__ = [
    "backend", "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format", "set_image_data_format",
    "enable_unsafe_deserialization", "disable_unsafe_deserialization", "unsafe_deserialization_enabled",
    "enable_interactive_logging", "disable_interactive_logging", "is_interactive_logging_enabled",
    "enable_traceback_filtering", "disable_traceback_filtering", "is_traceback_filtering_enabled",
    "enable_flash_attention", "disable_flash_attention", "is_flash_attention_enabled",
    "set_lecture_gradients", "lecture_gradients", "dtype_policy", "set_dtype_policy",
    "max_epochs", "set_max_epochs", "max_steps_per_epoch", "set_max_steps_per_epoch",
]

_FLOAT_TYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
                "float64": torch.float64}
_DATA_FORMATS = ("channels_last", "channels_first")

_state = {
    "epsilon": 1e-7,
    "image_data_format": "channels_last",
    "unsafe_deserialization": False,
    "interactive_logging": True,
    "traceback_filtering": True,
    "flash_attention": None,
    "max_epochs": None,
    "max_steps_per_epoch": None,
}

# Who differentiates the lecture's activations: True, False or "auto" (set_lecture_gradients).
_LECTURE_MODE: bool | str = "auto"
# What ``easynn.activations._autograd._apply`` reads on every activation call (a plain module
# global): the mode's answer right now. "auto" is True except inside fit's built-in train step.
_LECTURE_GRADIENTS = True
_LECTURE_MODES = (True, False, "auto")


def backend() -> str:
    """The name of the backend: always ``"torch"``."""
    return "torch"


def floatx() -> str:
    """The default float type as a string (``"float32"`` unless changed): torch's default dtype."""
    return str(torch.get_default_dtype()).replace("torch.", "")


def set_floatx(value: str) -> None:
    """Set the default float type (``"float16"``, ``"bfloat16"``, ``"float32"``, ``"float64"``).

    This is ``torch.set_default_dtype``: it applies to everything created afterwards.

    Raises:
        ValueError: for any other value.
    """
    key = str(value).replace("torch.", "") if isinstance(value, (str, torch.dtype)) else value
    if key not in _FLOAT_TYPES:
        raise ValueError(f"Unknown `floatx` value. Expected one of {sorted(_FLOAT_TYPES)}. Received: value={value!r}")
    torch.set_default_dtype(_FLOAT_TYPES[key])


def epsilon() -> float:
    """The fuzz factor added to denominators (``1e-7`` unless changed)."""
    return _state["epsilon"]


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by ``epsilon()``.

    Raises:
        ValueError: if ``value`` is not a non-negative number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"`epsilon` must be a non-negative number. Received: value={value!r}")
    _state["epsilon"] = float(value)


def image_data_format() -> str:
    """``"channels_last"`` (Keras's default) or ``"channels_first"``: the default of ``data_format``."""
    return _state["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    """Set the default ``data_format`` of image layers and ``easynn.ops.image`` functions.

    Raises:
        ValueError: for anything but ``"channels_last"`` / ``"channels_first"``.
    """
    normalized = data_format.lower() if isinstance(data_format, str) else data_format
    if normalized not in _DATA_FORMATS:
        raise ValueError(
            f"`data_format` must be one of 'channels_last', 'channels_first'. Received: data_format={data_format!r}"
        )
    _state["image_data_format"] = normalized


def enable_unsafe_deserialization() -> None:
    """Allow loading configs that would run code (Keras's ``safe_mode=False`` for the whole process)."""
    _state["unsafe_deserialization"] = True


def disable_unsafe_deserialization() -> None:
    """Undo ``enable_unsafe_deserialization()``."""
    _state["unsafe_deserialization"] = False


def unsafe_deserialization_enabled() -> bool:
    """Whether ``enable_unsafe_deserialization()`` was called (and not undone)."""
    return bool(_state["unsafe_deserialization"])


def enable_interactive_logging() -> None:
    """Let ``fit``/``evaluate``/``predict`` draw progress bars (the default)."""
    _state["interactive_logging"] = True


def disable_interactive_logging() -> None:
    """Print plain lines instead of interactive progress bars."""
    _state["interactive_logging"] = False


def is_interactive_logging_enabled() -> bool:
    """Whether progress bars are interactive."""
    return bool(_state["interactive_logging"])


def enable_traceback_filtering() -> None:
    """Accepted for Keras compatibility; easynn never filters tracebacks."""
    _state["traceback_filtering"] = True


def disable_traceback_filtering() -> None:
    """Accepted for Keras compatibility; easynn never filters tracebacks."""
    _state["traceback_filtering"] = False


def is_traceback_filtering_enabled() -> bool:
    """The last value set by ``enable_/disable_traceback_filtering`` (no effect in easynn)."""
    return bool(_state["traceback_filtering"])


def enable_flash_attention() -> None:
    """Ask ``ops.dot_product_attention`` to prefer the flash kernel (torch picks it when it can)."""
    _state["flash_attention"] = True


def disable_flash_attention() -> None:
    """Ask ``ops.dot_product_attention`` not to use the flash kernel."""
    _state["flash_attention"] = False


def is_flash_attention_enabled() -> bool | None:
    """``True``/``False`` when set, ``None`` (let torch decide) by default."""
    return _state["flash_attention"]


def _cap(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer or None. Received: {name}={value!r}")
    return value


def _cap_from_environment(variable: str) -> int | None:
    text = os.environ.get(variable)
    if not text:
        return None
    try:
        return _cap(variable, int(text))
    except ValueError as error:
        raise ValueError(f"The environment variable {variable} must be a positive integer. Received: {text!r}") from error


def set_max_epochs(max_epochs: int | None) -> None:
    """Cap the epochs of every ``fit`` (a debugging switch, as Keras's; ``None`` removes the cap).

    Also read from the environment variable ``KERAS_MAX_EPOCHS`` when no cap is set here.

    Raises:
        ValueError: for anything but a positive integer or None.
    """
    _state["max_epochs"] = _cap("max_epochs", max_epochs)


def max_epochs() -> int | None:
    """The cap on the epochs of ``fit`` (``set_max_epochs`` or ``KERAS_MAX_EPOCHS``), or None."""
    return _state["max_epochs"] or _cap_from_environment("KERAS_MAX_EPOCHS")


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Cap the training steps of each ``fit`` epoch (a debugging switch, as Keras's; ``None``
    removes it). Also read from ``KERAS_MAX_STEPS_PER_EPOCH`` when no cap is set here.

    Example:
        >>> from easynn import config
        >>> config.set_max_steps_per_epoch(2)
        >>> config.max_steps_per_epoch()
        2
        >>> config.set_max_steps_per_epoch(None)

    Raises:
        ValueError: for anything but a positive integer or None.
    """
    _state["max_steps_per_epoch"] = _cap("max_steps_per_epoch", max_steps_per_epoch)


def max_steps_per_epoch() -> int | None:
    """The cap on the steps of each ``fit`` epoch, or None."""
    return _state["max_steps_per_epoch"] or _cap_from_environment("KERAS_MAX_STEPS_PER_EPOCH")


def set_lecture_gradients(mode: bool | str) -> None:
    """Choose who differentiates the lecture's activations (relu, sigmoid, tanh, softmax, ...).

    Each activation is its own ``torch.autograd.Function`` whose ``backward`` is the lecture's
    derivative table, written in Python (``easynn.activations``). torch has built-in backward
    kernels for the same formulas (the tests check that both give the same gradients). The
    difference is speed: a Python backward node costs more than its arithmetic on small, fast
    steps (on a 2-core CPU, a 784-256-128-10 MLP at batch 32 trains about 8% slower with them).

    * ``"auto"`` (the default): the lecture's Functions wherever you differentiate yourself --
      ``model(x)`` under autograd, a custom ``train_step``, a hand-written loop, ``torch.func``
      -- and torch's kernels inside ``fit``'s built-in train step, where nobody sees the graph
      and the step's speed is the point.
    * ``True``: the lecture's Functions everywhere, ``fit``'s built-in step included.
    * ``False``: torch's kernels everywhere (the same forward kernels, no Python in backward).

    Args:
        mode: ``"auto"``, ``True`` or ``False``.

    Raises:
        ValueError: for any other value.

    Example:
        >>> from easynn import config
        >>> config.set_lecture_gradients(True)
        >>> config.lecture_gradients()
        True
        >>> config.set_lecture_gradients("auto")
    """
    global _LECTURE_MODE, _LECTURE_GRADIENTS
    if not any(mode is choice or (isinstance(mode, str) and mode == choice) for choice in _LECTURE_MODES):
        raise ValueError(f'`mode` must be "auto", True or False. Received: mode={mode!r}')
    _LECTURE_MODE = mode
    _LECTURE_GRADIENTS = mode is not False


def lecture_gradients() -> bool | str:
    """The mode set by ``set_lecture_gradients``: ``"auto"`` (default), ``True`` or ``False``."""
    return _LECTURE_MODE


def _enter_fit_step() -> None:
    """fit's built-in train step starts its forward pass: in "auto" mode, torch's kernels."""
    global _LECTURE_GRADIENTS
    if _LECTURE_MODE == "auto":
        _LECTURE_GRADIENTS = False


def _exit_fit_step() -> None:
    """fit's built-in train step ends its forward pass (also on an exception)."""
    global _LECTURE_GRADIENTS
    _LECTURE_GRADIENTS = _LECTURE_MODE is not False
