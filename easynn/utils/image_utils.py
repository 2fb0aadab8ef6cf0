"""Image files and arrays: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``, ``smart_resize``.

Keras's ``keras.utils`` image helpers on Pillow. Pillow is an optional dependency
(``pip install easynn[image]``); it is imported only when a function needs it, and a missing
Pillow raises an ``ImportError`` that says how to install it.

Arrays are ``(height, width, channels)`` (``data_format="channels_last"``, Keras's default, or
``easynn.config.set_image_data_format``) or ``(channels, height, width)``. ``img_to_array`` keeps
the pixel values (0..255 for 8-bit images); ``array_to_img`` maps ``[min, max]`` to ``[0, 255]``
unless ``scale=False``.

Example:
    >>> import numpy as np
    >>> pixels = np.zeros((2, 3, 3), dtype="float32")
    >>> pixels[..., 0] = 200.0
    >>> image = array_to_img(pixels, scale=False)
    >>> image.size, image.mode           # Pillow's size is (width, height)
    ((3, 2), 'RGB')
    >>> img_to_array(image)[0, 0].tolist()
    [200.0, 0.0, 0.0]
"""

from __future__ import annotations

import io
import os
import warnings
from typing import Any

import numpy as np
import torch

from easynn import config
from easynn.ops import image as image_ops
from easynn.saving.files import atomic_write

__all__ = ["load_img", "img_to_array", "array_to_img", "save_img", "smart_resize"]

# Pillow's resampling filters by Keras's names (load_img's `interpolation`).
_PIL_FILTERS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
_COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}


def pil_image():
    """The ``PIL.Image`` module, or an ``ImportError`` that says how to install Pillow."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            "Loading and saving images needs Pillow, which is not installed. "
            "Install it with `pip install easynn[image]` (or `pip install pillow`)."
        ) from error
    return Image


def _data_format(data_format: str | None) -> str:
    value = config.image_data_format() if data_format is None else data_format
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            f"`data_format` must be 'channels_last' or 'channels_first'. Received: data_format={data_format!r}"
        )
    return value


def check_color_mode(color_mode: Any) -> tuple[str, int]:
    """Pillow's mode and the channel count for Keras's ``color_mode``."""
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"`color_mode` must be one of 'rgb', 'rgba', 'grayscale'. Received: color_mode={color_mode!r}")
    return _COLOR_MODES[color_mode]


def _open(path: Any):
    """A Pillow image from a path or a binary file object (the file is read whole, then closed)."""
    Image = pil_image()
    if hasattr(path, "read"):
        return Image.open(path)
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(
            f"`path` must be a path (str, bytes, os.PathLike) or a binary file object. Received: {type(path).__name__}"
        )
    with open(path, "rb") as handle:
        return Image.open(io.BytesIO(handle.read()))


def load_img(
    path: Any,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
):
    """Load an image file as a Pillow image.

    Formula: with ``keep_aspect_ratio`` the largest centred box of the target's aspect ratio,
    ``crop_h = min(h, w * th // tw)``, ``crop_w = min(w, h * tw // th)``, is resized; otherwise the
    whole image is.

    Args:
        path: a file path or a binary file object (``io.BytesIO``).
        color_mode: ``"rgb"``, ``"rgba"`` or ``"grayscale"`` (8-bit ``"L"``; 16/32-bit grayscale
            images are kept as they are).
        target_size: ``(height, width)`` to resize to, or ``None`` to keep the file's size.
        interpolation: Pillow's filter: ``"nearest"``, ``"bilinear"``, ``"bicubic"``, ``"hamming"``,
            ``"box"`` or ``"lanczos"``.
        keep_aspect_ratio: crop to the target's aspect ratio (centred) before resizing.

    Returns:
        A ``PIL.Image.Image``.

    Raises:
        ImportError: when Pillow is not installed.
        ValueError: for an unknown ``color_mode`` or ``interpolation``, or a bad ``target_size``.
        TypeError: when ``path`` is neither a path nor a file object.

    Example:
        >>> import io, numpy as np
        >>> buffer = io.BytesIO()
        >>> array_to_img(np.full((4, 6, 3), 9.0), scale=False).save(buffer, format="PNG")
        >>> load_img(io.BytesIO(buffer.getvalue()), color_mode="grayscale", target_size=(2, 3)).size
        (3, 2)
    """
    mode, _ = check_color_mode(color_mode)
    if interpolation not in _PIL_FILTERS:
        raise ValueError(
            f"`interpolation` must be one of {', '.join(_PIL_FILTERS)}. Received: interpolation={interpolation!r}"
        )
    if target_size is not None:
        if (
            not isinstance(target_size, (list, tuple))
            or len(target_size) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in target_size)
        ):
            raise ValueError(
                f"`target_size` must be (height, width) with two positive integers. Received: target_size={target_size!r}"
            )
    img = _open(path)
    keep = mode == "L" and img.mode in ("I;16", "I")  # Keras keeps 16/32-bit grayscale as it is
    if img.mode != mode and not keep:
        img = img.convert(mode)
    if target_size is None:
        return img
    size = (int(target_size[1]), int(target_size[0]))  # Pillow's (width, height)
    if img.size == size:
        return img
    resample = getattr(pil_image().Resampling, interpolation.upper())
    box = None
    if keep_aspect_ratio:
        width, height = img.size
        crop_h = min(height, width * size[1] // size[0])
        crop_w = min(width, height * size[0] // size[1])
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        box = (left, top, left + crop_w, top + crop_h)
    return img.resize(size, resample, box=box)


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A Pillow image (or anything ``np.asarray`` takes) as a 3-D NumPy array, values unchanged.

    Args:
        img: a Pillow image (or a 2-D/3-D array).
        data_format: ``"channels_last"`` gives ``(height, width, channels)``, ``"channels_first"``
            ``(channels, height, width)``; ``easynn.config.image_data_format()`` by default.
        dtype: the array's dtype; ``easynn.config.floatx()`` by default.

    Returns:
        A NumPy array; a grayscale image gets one channel.

    Raises:
        ValueError: for an image that is not 2-D or 3-D, or a bad ``data_format``.

    Example:
        >>> import numpy as np
        >>> img_to_array(np.zeros((2, 3)), data_format="channels_first").shape
        (1, 2, 3)
    """
    fmt = _data_format(data_format)
    x = np.asarray(img, dtype=config.floatx() if dtype is None else dtype)
    if x.ndim == 2:
        return x[None] if fmt == "channels_first" else x[..., None]
    if x.ndim != 3:
        raise ValueError(f"img_to_array() expects a 2-D or 3-D image. Received an array of shape {x.shape}")
    return x.transpose(2, 0, 1) if fmt == "channels_first" else x


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None):
    """A 3-D array (NumPy or tensor) as a Pillow image.

    Formula: with ``scale``, ``x' = 255 * (x - min(x)) / (max(x) - min(x))`` (only the shift when
    ``max == min``); values are then cast to ``uint8`` (as Keras, out-of-range values wrap).

    Args:
        x: ``(height, width, channels)`` or ``(channels, height, width)`` with 1, 3 or 4 channels.
        data_format: the layout of ``x``; ``easynn.config.image_data_format()`` by default.
        scale: rescale the values to ``[0, 255]`` first.
        dtype: the dtype the values are computed in; ``floatx()`` by default.

    Returns:
        A ``PIL.Image.Image`` of mode ``"L"`` (or ``"I"`` for one channel above 255), ``"RGB"`` or
        ``"RGBA"``.

    Raises:
        ImportError: when Pillow is not installed.
        ValueError: for an array that is not 3-D or whose channel count is not 1, 3 or 4.

    Example:
        >>> import numpy as np
        >>> image = array_to_img(np.array([[[0.0], [0.5], [1.0]]]))
        >>> np.asarray(image).tolist()
        [[0, 127, 255]]
    """
    Image = pil_image()
    fmt = _data_format(data_format)
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=config.floatx() if dtype is None else dtype)
    if x.ndim != 3:
        raise ValueError(f"array_to_img() expects a 3-D array (one image). Received an array of shape {x.shape}")
    if fmt == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)  # a new array: the caller's is never changed
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return Image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return Image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # a 32-bit grayscale image (Pillow's mode "I")
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img() expects 1, 3 or 4 channels. Received {channels} (array of shape {x.shape})")


def _file_format(path: Any, file_format: str | None) -> str:
    """Pillow's format name (``"PNG"``, ``"JPEG"``...) from ``file_format`` or the file's extension."""
    Image = pil_image()
    registered = Image.registered_extensions()  # {".png": "PNG", ".jpg": "JPEG", ...}
    if file_format is None:
        if hasattr(path, "write"):
            raise ValueError("save_img() to a file object needs `file_format` (e.g. file_format='png').")
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        if suffix not in registered:
            raise ValueError(
                f"save_img() cannot tell the image format from the file name {os.fspath(path)!r}. "
                "Use an extension such as .png or .jpg, or pass file_format='png'."
            )
        return registered[suffix]
    name = str(file_format).lower().lstrip(".")
    if "." + name in registered:
        return registered["." + name]
    if name.upper() in set(registered.values()):
        return name.upper()
    raise ValueError(
        f"Unknown `file_format`. Expected an image format such as 'png' or 'jpeg'. Received: file_format={file_format!r}"
    )


def save_img(
    path: Any, x: Any, data_format: str | None = None, file_format: str | None = None, scale: bool = True, **kwargs: Any
) -> None:
    """Save an array as an image file, atomically (a temporary file, then a rename).

    Args:
        path: the file path (or a binary file object, then ``file_format`` is required).
        x: a 3-D array, as ``array_to_img`` takes it.
        data_format: the layout of ``x``; ``easynn.config.image_data_format()`` by default.
        file_format: ``"png"``, ``"jpeg"``/``"jpg"``, ``"bmp"``, ``"gif"``...; the file's extension
            by default.
        scale: rescale the values to ``[0, 255]`` first (see ``array_to_img``).
        **kwargs: passed to Pillow's ``Image.save`` (``quality=95``...).

    Raises:
        ImportError: when Pillow is not installed.
        ValueError: for an unknown format or an array ``array_to_img`` refuses.
        FileNotFoundError: when the destination folder does not exist.

    Warns:
        UserWarning: an RGBA array saved as JPEG (which has no alpha channel) is converted to RGB.

    Example:
        >>> import os, tempfile, numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "red.png")
        >>> save_img(path, np.tile([255.0, 0.0, 0.0], (2, 2, 1)), scale=False)
        >>> img_to_array(load_img(path))[1, 1].tolist()
        [255.0, 0.0, 0.0]
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    fmt = _file_format(path, file_format)
    if img.mode == "RGBA" and fmt == "JPEG":
        warnings.warn("The JPEG format does not support RGBA images: converting to RGB.", UserWarning, stacklevel=2)
        img = img.convert("RGB")
    if hasattr(path, "write"):
        img.save(path, format=fmt, **kwargs)
        return
    atomic_write(path, lambda handle: img.save(handle, format=fmt, **kwargs))


def smart_resize(x: Any, size: tuple[int, int], interpolation: str = "bilinear", data_format: str = "channels_last"):
    """Resize images to ``size`` without distorting them: crop the largest centred box of the
    target's aspect ratio, then resize (Keras's ``smart_resize``).

    Formula: ``crop_h = max(min(h, int(w * th / tw)), 1)``, ``crop_w = max(min(w, int(h * tw / th)), 1)``,
    the box starting at ``((h - crop_h) // 2, (w - crop_w) // 2)``.

    Args:
        x: one image (3-D) or a batch (4-D), NumPy array or tensor.
        size: the output ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"`` or ``"area"``.
        data_format: the layout of ``x``.

    Returns:
        A float array (NumPy when ``x`` is NumPy, else a tensor).

    Raises:
        ValueError: for a bad ``size``, ``interpolation`` or rank.

    Example:
        >>> import numpy as np
        >>> smart_resize(np.ones((6, 8, 3)), (4, 4)).shape
        (4, 4, 3)
    """
    out = image_ops.resize(x, size, interpolation=interpolation, crop_to_aspect_ratio=True, data_format=data_format)
    return out.numpy() if isinstance(x, np.ndarray) else out
