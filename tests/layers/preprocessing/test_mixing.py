"""MixUp and CutMix: convex mixes of batch pairs, labels mixed by the same weights, seeds."""

import pytest
import torch

from easynn.layers import CutMix, MixUp


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_mixup_is_a_per_sample_convex_mix_with_matching_labels():
    n = 16
    images = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1, 1).expand(n, 2, 2, 3).contiguous()
    labels = torch.eye(n)
    out = MixUp(alpha=1.0, seed=5)({"images": images, "labels": labels}, training=True)
    # image i = w * i + (1 - w) * j and its label puts w on i and 1 - w on j
    for i in range(n):
        value = out["images"][i, 0, 0, 0]
        w, rest = out["labels"][i, i], out["labels"][i].clone()
        rest[i] = 0
        j = int(rest.argmax()) if rest.sum() > 0 else i
        torch.testing.assert_close(value, w * i + (1 - w) * j)
    torch.testing.assert_close(out["labels"].sum(1), torch.ones(n))
    assert len({round(float(out["labels"][i].max()), 4) for i in range(n)}) > 1  # one weight per sample
    again = MixUp(alpha=1.0, seed=5)({"images": images, "labels": labels}, training=True)
    torch.testing.assert_close(again["images"], out["images"])
    assert MixUp()(images) is images  # inference: unchanged
    with pytest.raises(ValueError, match="alpha"):
        MixUp(alpha=0)


def test_cutmix_pastes_boxes_and_mixes_labels_by_area():
    n, size = 12, 8
    images = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1, 1).expand(n, size, size, 1).contiguous()
    labels = torch.nn.functional.one_hot(torch.arange(n), n).float()
    out = CutMix(seed=2)({"images": images, "labels": labels}, training=True)
    for i in range(n):
        values = out["images"][i, :, :, 0]
        own = (values == i).float().mean()
        torch.testing.assert_close(out["labels"][i, i], own if own < 1 else torch.tensor(1.0))
        assert len(values.unique()) <= 2  # the image and one pasted box
    torch.testing.assert_close(out["labels"].sum(1), torch.ones(n))
    plain = CutMix(seed=2)(images, training=True)
    torch.testing.assert_close(plain, out["images"])
    assert CutMix().get_config()["factor"] == 1.0


def test_rand_augment_identity_at_inference_seeded_and_configurable():
    from easynn.layers import RandAugment

    x = torch.rand(8, 6, 6, 3) * 255
    layer = RandAugment(seed=3)
    assert torch.equal(layer(x), x)
    outs = [RandAugment(seed=3)(x, training=True) for _ in range(2)]
    torch.testing.assert_close(outs[0], outs[1])
    assert not torch.allclose(outs[0], x)
    assert outs[0].min() >= 0 and outs[0].max() <= 255
    config = layer.get_config()
    assert config["num_ops"] == 2 and config["factor"] == 0.5
    assert RandAugment.from_config(config).get_config() == config
    assert torch.equal(RandAugment(num_ops=0)(x, training=True), x)
    with pytest.raises(ValueError, match="factor"):
        RandAugment(factor=2.0)
