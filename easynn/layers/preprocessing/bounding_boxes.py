"""Bounding-box preprocessing: ``MaxNumBoundingBoxes`` (pad or cut every image's boxes to one count).

Keras's bounding-box-aware image layers take a dict
``{"images": x, "bounding_boxes": {"boxes": b, "labels": l}}`` with ``b`` of shape
``(batch, num_boxes, 4)`` and ``l`` of shape ``(batch, num_boxes)``; extra keys (``"labels"``,
``"segmentation_masks"``) travel along. Detection models need the same number of boxes in every
image of a batch: this layer gives exactly ``max_number``, padding with ``fill_value``.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch

from easynn import _validation
from easynn.layers.base import Layer

__all__ = ["MaxNumBoundingBoxes"]


def _fit_rows(x: torch.Tensor, count: int, fill_value: int) -> torch.Tensor:
    """The first ``count`` rows of ``x`` along axis 1, padded at the end with ``fill_value``."""
    x = x[:, :count]
    if x.shape[1] < count:
        pad = x.new_full((x.shape[0], count - x.shape[1], *x.shape[2:]), fill_value)
        x = torch.cat([x, pad], dim=1)
    return x


def _per_image(values: Any, trailing: tuple[int, ...], name: str) -> list[torch.Tensor]:
    """A list of per-image arrays (their own box counts) as tensors of shape ``(n_i, *trailing)``."""
    out = []
    for item in values:
        t = torch.as_tensor(item)
        if t.numel() == 0:
            t = t.reshape(0, *trailing)
        if tuple(t.shape[1:]) != trailing or t.dim() != 1 + len(trailing):
            raise ValueError(
                f"Each image's `{name}` must have shape (num_boxes{', 4' if trailing else ''}). "
                f"Received one of shape {tuple(t.shape)}."
            )
        out.append(t)
    return out


class MaxNumBoundingBoxes(Layer):
    """Pads or truncates the bounding boxes of every image to exactly ``max_number``.

    Formula: ``boxes_out[i, j] = boxes[i, j]`` for ``j < min(n, max_number)``, else
    ``[fill_value] * 4``; ``labels_out`` likewise (``n``: the boxes in the input).

    Args:
        max_number: the number of boxes (and labels) per image in the output (a positive integer).
        fill_value: the value of the padding boxes and labels (an integer, Keras's default ``-1``).
        bounding_box_format: accepted and kept in the config for Keras compatibility (``"xyxy"``...);
            the layer does not look at the coordinates, so any format works and none is required.

    Call arguments:
        inputs: a dict ``{"images": x, "bounding_boxes": {"boxes": b, "labels": l}, ...}`` (other
            keys pass through unchanged), or images alone (returned as they are).
            ``b``: ``(batch, num_boxes, 4)`` and ``l``: ``(batch, num_boxes)``, or, for one image
            (``x`` of rank 3), ``(num_boxes, 4)`` and ``(num_boxes,)``. ``b`` and ``l`` may also be lists
            of per-image arrays with their own numbers of boxes (Keras's ragged boxes).
        training: ignored (the layer acts the same way in training and inference).

    Shape:
        ``boxes``: ``(batch, num_boxes, 4)`` -> ``(batch, max_number, 4)``;
        ``labels``: ``(batch, num_boxes)`` -> ``(batch, max_number)``. Dtypes are kept.

    Returns:
        A new dict (the input dict is not modified) with ``bounding_boxes`` replaced, or the images.

    Raises:
        ValueError: for a ``max_number`` that is not a positive integer, a non-integer
            ``fill_value``, images of rank other than 3 or 4, or boxes/labels of the wrong shape.

    Example:
        >>> import torch
        >>> layer = MaxNumBoundingBoxes(max_number=3)
        >>> data = {"images": torch.zeros(1, 8, 8, 3),
        ...         "bounding_boxes": {"boxes": torch.tensor([[[0., 0., 4., 4.], [2., 2., 6., 8.]]]),
        ...                            "labels": torch.tensor([[1, 2]])}}
        >>> out = layer(data)["bounding_boxes"]
        >>> out["boxes"].tolist()
        [[[0.0, 0.0, 4.0, 4.0], [2.0, 2.0, 6.0, 8.0], [-1.0, -1.0, -1.0, -1.0]]]
        >>> out["labels"].tolist()
        [[1, 2, -1]]
    """

    def __init__(
        self, max_number: int, fill_value: int = -1, bounding_box_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.max_number = _validation.positive_int("max_number", max_number)
        if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Integral):
            raise ValueError(f"`fill_value` must be an integer. Received: fill_value={fill_value!r}")
        self.fill_value = int(fill_value)
        self.bounding_box_format = bounding_box_format

    def _batched(self, images: Any) -> bool:
        rank = torch.as_tensor(images).dim() if not isinstance(images, torch.Tensor) else images.dim()
        if rank not in (3, 4):
            raise ValueError(
                f"Layer '{self.name}' expects images of rank 3 (one image) or 4 (a batch). "
                f"Received images of rank {rank}."
            )
        return rank == 4

    def _fit(self, values: Any, trailing: tuple[int, ...], name: str, batched: bool) -> torch.Tensor:
        if isinstance(values, (list, tuple)) and batched:
            parts = _per_image(values, trailing, name)
            if not parts:
                raise ValueError(f"`{name}` holds no image. Received: {name}={values!r}")
            return torch.stack([_fit_rows(p[None], self.max_number, self.fill_value)[0] for p in parts])
        t = torch.as_tensor(values)
        if not batched:
            return self._fit(t[None], trailing, name, True)[0]
        if t.numel() == 0 and t.dim() < 2 + len(trailing):  # e.g. an empty (batch, 0) array without the 4
            t = t.reshape(t.shape[0], 0, *trailing)
        if t.dim() != 2 + len(trailing) or tuple(t.shape[2:]) != trailing:
            expected = "(batch, num_boxes, 4)" if trailing else "(batch, num_boxes)"
            raise ValueError(f"`{name}` must have shape {expected}. Received shape {tuple(t.shape)}.")
        return _fit_rows(t, self.max_number, self.fill_value)

    def transform_bounding_boxes(self, bounding_boxes: dict, batched: bool = True) -> dict:
        """``bounding_boxes`` with ``boxes`` and ``labels`` padded or cut to ``max_number`` per image."""
        if not isinstance(bounding_boxes, dict) or "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
            raise ValueError(
                "`bounding_boxes` must be a dict with 'boxes' and 'labels'. Received: "
                f"{list(bounding_boxes) if isinstance(bounding_boxes, dict) else type(bounding_boxes).__name__}"
            )
        result = dict(bounding_boxes)
        result["boxes"] = self._fit(bounding_boxes["boxes"], (4,), "boxes", batched)
        result["labels"] = self._fit(bounding_boxes["labels"], (), "labels", batched)
        if result["boxes"].shape[:-1] != result["labels"].shape:
            raise ValueError(
                "`boxes` and `labels` must describe the same images: got "
                f"{tuple(result['boxes'].shape)} boxes and {tuple(result['labels'].shape)} labels."
            )
        return result

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not isinstance(inputs, dict):
            self._batched(inputs)
            return inputs
        if "images" not in inputs:
            raise ValueError(f"Layer '{self.name}' expects a dict with an 'images' key. Received keys: {list(inputs)}")
        batched = self._batched(inputs["images"])
        result = dict(inputs)
        if "bounding_boxes" in inputs:
            result["bounding_boxes"] = self.transform_bounding_boxes(inputs["bounding_boxes"], batched)
        return result

    def compute_output_shape(self, input_shape: Any) -> Any:
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            shapes = dict(input_shape)
            boxes = dict(shapes["bounding_boxes"])
            boxes["boxes"] = (*tuple(boxes["boxes"])[:-2], self.max_number, 4)
            boxes["labels"] = (*tuple(boxes["labels"])[:-1], self.max_number)
            shapes["bounding_boxes"] = boxes
            return shapes
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"max_number": self.max_number, "fill_value": self.fill_value})
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config

    def extra_repr(self) -> str:
        return f"max_number={self.max_number}, fill_value={self.fill_value}"
