"""MaxNumBoundingBoxes: padding/truncating hand-made boxes to a fixed count, like Keras."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import MaxNumBoundingBoxes
from tests.layers.layer_checks import check_layer

BOXES = torch.tensor(
    [
        [[10.0, 20.0, 100.0, 150.0], [50.0, 60.0, 200.0, 250.0], [0.0, 0.0, 50.0, 50.0]],
        [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [-1.0, -1.0, -1.0, -1.0]],  # already padded by the user
    ]
)
LABELS = torch.tensor([[1, 2, 3], [4, 5, -1]])


def _data(boxes=BOXES, labels=LABELS, images=None):
    images = torch.zeros(2, 8, 8, 3) if images is None else images
    return {"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}}


def test_pads_with_fill_value_and_keeps_everything_else():
    data = _data()
    data["labels"] = torch.tensor([0, 1])
    out = MaxNumBoundingBoxes(max_number=5, fill_value=-7)(data)
    boxes, labels = out["bounding_boxes"]["boxes"], out["bounding_boxes"]["labels"]
    assert boxes.shape == (2, 5, 4) and boxes.dtype == torch.float32
    assert labels.shape == (2, 5) and labels.dtype == torch.int64
    assert torch.equal(boxes[:, :3], BOXES) and (boxes[:, 3:] == -7).all()
    assert labels.tolist() == [[1, 2, 3, -7, -7], [4, 5, -1, -7, -7]]
    assert out["images"] is data["images"] and out["labels"] is data["labels"]  # passed through
    assert data["bounding_boxes"]["boxes"] is BOXES and out is not data  # the input dict is not modified


def test_truncates_to_the_first_max_number_boxes():
    out = MaxNumBoundingBoxes(2)(_data())["bounding_boxes"]
    assert torch.equal(out["boxes"], BOXES[:, :2]) and out["labels"].tolist() == [[1, 2], [4, 5]]
    same = MaxNumBoundingBoxes(3)(_data())["bounding_boxes"]
    assert torch.equal(same["boxes"], BOXES) and torch.equal(same["labels"], LABELS)


def test_numpy_inputs_single_image_ragged_lists_and_no_boxes():
    data = _data(BOXES.numpy(), LABELS.numpy().astype(np.int32), torch.zeros(2, 8, 8, 3).numpy())
    out = MaxNumBoundingBoxes(4)(data)["bounding_boxes"]
    assert out["labels"].dtype == torch.int32 and out["labels"][:, 3].tolist() == [-1, -1]
    single = MaxNumBoundingBoxes(4)(_data(BOXES[0], LABELS[0], torch.zeros(8, 8, 3)))["bounding_boxes"]
    assert single["boxes"].shape == (4, 4) and single["labels"].tolist() == [1, 2, 3, -1]
    ragged = {"boxes": [BOXES[0, :1].tolist(), BOXES[1].tolist(), []], "labels": [[9], [4, 5, -1], []]}
    out = MaxNumBoundingBoxes(2)(_data(images=torch.zeros(3, 8, 8, 3), **ragged))["bounding_boxes"]
    assert out["labels"].tolist() == [[9, -1], [4, 5], [-1, -1]]
    assert out["boxes"][0].tolist() == [[10.0, 20.0, 100.0, 150.0], [-1.0] * 4] and (out["boxes"][2] == -1).all()
    empty = MaxNumBoundingBoxes(2)(_data(torch.zeros(2, 0, 4), torch.zeros(2, 0, dtype=torch.int64)))
    assert (empty["bounding_boxes"]["boxes"] == -1).all() and empty["bounding_boxes"]["boxes"].shape == (2, 2, 4)


def test_images_alone_are_returned_and_config_round_trips():
    images = torch.rand(2, 4, 4, 3)
    out = check_layer(MaxNumBoundingBoxes(3, bounding_box_format="xyxy"), images, (2, 4, 4, 3), 0)
    assert out is images
    layer = MaxNumBoundingBoxes(6, fill_value=0)
    assert layer.get_config()["max_number"] == 6 and layer.get_config()["fill_value"] == 0
    shapes = layer.compute_output_shape(
        {"images": (None, 8, 8, 3), "bounding_boxes": {"boxes": (None, 2, 4), "labels": (None, 2)}}
    )
    assert shapes["bounding_boxes"] == {"boxes": (None, 6, 4), "labels": (None, 6)}
    assert easynn.layers.preprocessing.MaxNumBoundingBoxes is MaxNumBoundingBoxes


def test_bad_arguments_and_inputs_raise_errors_naming_them():
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match="max_number"):
            MaxNumBoundingBoxes(bad)
    with pytest.raises(ValueError, match="fill_value"):
        MaxNumBoundingBoxes(3, fill_value=0.5)
    layer = MaxNumBoundingBoxes(3)
    with pytest.raises(ValueError, match="rank"):
        layer(torch.zeros(8, 8))
    with pytest.raises(ValueError, match="'images'"):
        layer({"bounding_boxes": {"boxes": BOXES, "labels": LABELS}})
    with pytest.raises(ValueError, match="'boxes' and 'labels'"):
        layer({"images": torch.zeros(2, 8, 8, 3), "bounding_boxes": {"boxes": BOXES}})
    with pytest.raises(ValueError, match=r"`boxes` must have shape \(batch, num_boxes, 4\)"):
        layer(_data(boxes=torch.zeros(2, 3, 5)))
    with pytest.raises(ValueError, match="same images"):
        layer(_data(labels=LABELS[:1]))
