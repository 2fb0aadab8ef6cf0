"""Convert a model between ``"channels_last"`` and ``"channels_first"`` (Keras 3's
``keras.utils.convert_data_format``, ``convert_to_channels_first``, ``convert_to_channels_last``).

The converted model is a clone (``easynn.saving.clone_model``) of a Sequential or functional model
in which

* every input shape (without the batch axis, rank >= 2) is permuted: ``(H, W, C) <-> (C, H, W)``;
* every layer whose config has a ``data_format`` (convolutions, pooling, ``Flatten``,
  ``UpSampling``, padding, cropping...) gets the target format;
* every other layer with an ``axis`` in its config (``BatchNormalization``, ``Concatenate``...)
  has that axis moved: the channel axis ``-1 <-> 1``, a spatial axis ``a <-> a + 1``;

and the weights are copied layer by layer. Keras layers keep their kernels in a layout that does
not depend on ``data_format`` (``(kh, kw, in, out)``) and ``Flatten(data_format="channels_first")``
flattens in channels-last order, so a model of convolutions, pooling, normalization, ``Flatten``
and ``Dense`` computes the same function on the transposed inputs.

Differences from Keras: the ``axis`` conversion takes the rank from the input shape each layer
was built with (Keras: its ``input_spec``, else the model's input rank, else 4); ``axis`` may be
a list of ints; converting to the model's own format still copies the weights (Keras returns a
clone with new weights); inputs keep their dtype. Layers of a nested model are not converted
(nor in Keras).

Example:
    >>> import easynn, torch
    >>> from easynn import layers
    >>> model = easynn.Sequential([easynn.Input(shape=(6, 6, 3)), layers.Conv2D(4, 3), layers.Flatten()])
    >>> first = convert_to_channels_first(model)
    >>> first.input_shape, first.layers[0].data_format
    ((None, 3, 6, 6), 'channels_first')
    >>> x = torch.rand(2, 6, 6, 3)
    >>> torch.allclose(first(x.permute(0, 3, 1, 2)), model(x), atol=1e-6)
    True
"""

from __future__ import annotations

from typing import Any

from easynn import config as _config
from easynn import tree

__all__ = ["convert_data_format", "convert_to_channels_first", "convert_to_channels_last"]

_FORMATS = ("channels_first", "channels_last")


def _permute_shape(shape: tuple | None, source: str, target: str) -> tuple | None:
    """A shape without the batch axis, from ``source`` to ``target`` layout (rank < 2: unchanged)."""
    if shape is None or source == target or len(shape) < 2:
        return shape
    shape = tuple(shape)
    if source == "channels_last":
        return (shape[-1],) + shape[:-1]
    return shape[1:] + (shape[0],)


def _convert_axis(axis: Any, ndim: int, source: str, target: str) -> Any:
    """``axis`` of a rank-``ndim`` tensor (batch included) in the ``target`` layout."""
    if isinstance(axis, (list, tuple)):
        return type(axis)(_convert_axis(a, ndim, source, target) for a in axis)
    if source == target:
        return axis
    axis = axis + ndim if axis < 0 else axis
    if source == "channels_last":
        if axis == ndim - 1:
            return 1
        return axis + 1 if axis >= 1 else axis
    if axis == 1:
        return -1
    return axis - 1 if axis > 1 else axis


def _layer_ndim(layer: Any, default: int | None) -> int:
    """The rank (batch included) of the inputs ``layer`` works on."""
    shape = getattr(layer, "_build_input_shape", None)
    if isinstance(shape, (tuple, list)) and shape and all(s is None or isinstance(s, int) for s in shape):
        return len(shape)
    spec = getattr(layer, "input_spec", None)
    for attribute in ("ndim", "min_ndim"):
        value = getattr(spec, attribute, None) if spec is not None and not isinstance(spec, list) else None
        if value is not None:
            return int(value)
    return default if default is not None else 4


def _model_data_format(model: Any) -> str | None:
    """The ``data_format`` of the first layer that has one (``None`` means the global default)."""
    for layer in model.layers:
        if hasattr(layer, "data_format"):
            return layer.data_format or _config.image_data_format()
    return None


def _check_format(name: str, value: Any) -> str:
    if value not in _FORMATS:
        raise ValueError(f"`{name}` must be one of {_FORMATS}. Received: {name}={value!r}")
    return value


def convert_data_format(model: Any, target_data_format: str, source_data_format: str | None = None) -> Any:
    """A new model like ``model``, with its weights, working in ``target_data_format``.

    See the module docstring for what is converted.

    Args:
        model: an easynn ``Sequential`` (with a known input shape) or functional model.
        target_data_format: ``"channels_first"`` or ``"channels_last"``.
        source_data_format: the model's format; by default the ``data_format`` of its first
            layer that has one.

    Returns:
        The converted model (not compiled), holding copies of ``model``'s weights.

    Raises:
        ValueError: for an invalid ``target_data_format``/``source_data_format``, a source format
            that cannot be inferred (no layer has a ``data_format``: pass it), or a model that is
            not Sequential/functional or has no known input shape.

    Example:
        >>> import easynn
        >>> from easynn import layers
        >>> inputs = easynn.Input(shape=(3, 8, 8))
        >>> x = layers.Conv2D(2, 3, data_format="channels_first")(inputs)
        >>> x = layers.BatchNormalization(axis=1)(x)
        >>> model = easynn.Model(inputs, x)
        >>> last = convert_data_format(model, "channels_last")
        >>> last.input_shape, last.layers[-1].axis
        ((None, 8, 8, 3), -1)
    """
    from easynn.layers.core import Input
    from easynn.saving.cloning import clone_model

    target = _check_format("target_data_format", target_data_format)
    if not hasattr(model, "layers"):
        raise ValueError(f"convert_data_format() expects an easynn Sequential or functional model. Received: {model!r}")
    if source_data_format is None:
        source_data_format = _model_data_format(model)
        if source_data_format is None:
            raise ValueError(
                "Could not infer the source data format from the model (none of its layers has a `data_format`). "
                "Please provide the `source_data_format` argument."
            )
    source = _check_format("source_data_format", source_data_format)
    try:
        flat_inputs = list(model.inputs)
    except (AttributeError, ValueError) as error:
        raise ValueError(
            "convert_data_format() needs a Sequential or functional model with a known input shape (start it "
            f"with easynn.Input). Received a model of type '{type(model).__name__}'."
        ) from error
    try:
        inputs = model.input  # a functional model's inputs in their structure (a tensor, a list)
    except AttributeError:
        inputs = flat_inputs[0] if len(flat_inputs) == 1 else flat_inputs
    input_ndim = len(flat_inputs[0].shape)

    def permuted_input(tensor: Any) -> Any:
        shape = _permute_shape(tuple(tensor.shape[1:]), source, target)
        return Input(shape=shape, dtype=getattr(tensor, "dtype", None))

    def convert(layer: Any) -> Any:
        config = layer.get_config()
        if "data_format" in config:
            config["data_format"] = target
        elif "axis" in config and config["axis"] is not None:
            config["axis"] = _convert_axis(config["axis"], _layer_ndim(layer, input_ndim), source, target)
        return type(layer).from_config(config)

    new_inputs = tree.map_structure(permuted_input, inputs)
    converted = clone_model(model, input_tensors=new_inputs, clone_function=convert)
    for old, new in zip(model.layers, converted.layers):
        if old.weights:
            new.set_weights(old.get_weights())
    return converted


def convert_to_channels_first(model: Any, source_data_format: str | None = None) -> Any:
    """``convert_data_format(model, "channels_first", source_data_format)``.

    Args:
        model: an easynn ``Sequential`` or functional model.
        source_data_format: its format; inferred from its layers by default.

    Returns:
        The channels-first model, with ``model``'s weights.

    Raises:
        ValueError: as ``convert_data_format``.

    Example:
        >>> import easynn
        >>> from easynn import layers
        >>> model = easynn.Sequential([easynn.Input(shape=(8, 8, 3)), layers.MaxPooling2D()])
        >>> tuple(convert_to_channels_first(model).outputs[0].shape)
        (None, 3, 4, 4)
    """
    return convert_data_format(model, "channels_first", source_data_format=source_data_format)


def convert_to_channels_last(model: Any, source_data_format: str | None = None) -> Any:
    """``convert_data_format(model, "channels_last", source_data_format)``.

    Args:
        model: an easynn ``Sequential`` or functional model.
        source_data_format: its format; inferred from its layers by default.

    Returns:
        The channels-last model, with ``model``'s weights.

    Raises:
        ValueError: as ``convert_data_format``.

    Example:
        >>> import easynn
        >>> from easynn import layers
        >>> model = easynn.Sequential([easynn.Input(shape=(3, 8, 8)),
        ...                            layers.MaxPooling2D(data_format="channels_first")])
        >>> tuple(convert_to_channels_last(model).outputs[0].shape)
        (None, 4, 4, 3)
    """
    return convert_data_format(model, "channels_last", source_data_format=source_data_format)
