"""image_dataset_from_directory / text_dataset_from_directory: Keras's indexing, labels, splits, loading and fit."""

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

import easynn
from easynn import preprocessing
from easynn.utils import image_dataset_from_directory, text_dataset_from_directory

CLASSES = ("ant", "bee", "cow")
HEIGHT, WIDTH = 6, 8


def _colour(label: int, index: int) -> list[int]:
    """The solid colour of image ``index`` of class ``label``: red tells the class, green the image."""
    return [80 * label + 10, 20 * index, 200]


@pytest.fixture
def image_dir(tmp_path):
    """3 classes x 4 solid-colour 6x8 PNGs, plus files and folders Keras ignores."""
    root = tmp_path / "images"
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for index in range(4):
            pixels = np.tile(np.array(_colour(label, index), dtype=np.uint8), (HEIGHT, WIDTH, 1))
            Image.fromarray(pixels).save(root / name / f"{index}.png")
        (root / name / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    Image.fromarray(np.zeros((2, 2, 3), dtype=np.uint8)).save(root / ".hidden" / "x.png")
    return root


def _load(root, **kwargs):
    kwargs.setdefault("image_size", (HEIGHT, WIDTH))
    kwargs.setdefault("verbose", False)
    return image_dataset_from_directory(root, **kwargs)


def _class_of(path: str) -> int:
    return CLASSES.index(os.path.basename(os.path.dirname(path)))


def test_inferred_labels_sorted_files_and_exact_pixels(image_dir, capsys):
    ds = image_dataset_from_directory(image_dir, image_size=(HEIGHT, WIDTH), batch_size=5, shuffle=False)
    assert capsys.readouterr().out == "Found 12 files belonging to 3 classes.\n"
    assert isinstance(ds, DataLoader) and ds.class_names == list(CLASSES)
    assert ds.file_paths == [os.path.join(str(image_dir), c, f"{i}.png") for c in CLASSES for i in range(4)]
    batches = list(ds)
    assert [len(y) for _, y in batches] == [5, 5, 2]
    images = torch.cat([x for x, _ in batches])
    labels = torch.cat([y for _, y in batches])
    assert images.shape == (12, HEIGHT, WIDTH, 3) and images.dtype == torch.float32
    assert labels.dtype == torch.int32 and labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    want = torch.tensor([_colour(label, index) for label in range(3) for index in range(4)], dtype=torch.float32)
    assert torch.equal(images, want[:, None, None, :].expand(12, HEIGHT, WIDTH, 3))


def test_label_modes(image_dir):
    _, cat = next(iter(_load(image_dir, label_mode="categorical", shuffle=False, batch_size=12)))
    assert cat.dtype == torch.float32 and cat.tolist() == F.one_hot(torch.arange(12) // 4, 3).float().tolist()
    ds = _load(image_dir, label_mode="binary", class_names=["cow", "ant"], shuffle=False, batch_size=8)
    _, binary = next(iter(ds))
    assert ds.class_names == ["cow", "ant"]  # the given order numbers the classes
    assert binary.shape == (8, 1) and binary[:, 0].tolist() == [0.0] * 4 + [1.0] * 4
    only_images = next(iter(_load(image_dir, label_mode=None, shuffle=False, batch_size=12)))
    assert isinstance(only_images, torch.Tensor) and only_images.shape == (12, HEIGHT, WIDTH, 3)
    # Without labels Keras walks the whole directory: hidden folders are skipped only as classes.
    unlabeled = _load(image_dir, labels=None, shuffle=False)
    assert unlabeled.class_names is None and len(unlabeled.file_paths) == 13
    assert os.path.join(".hidden", "x.png") in unlabeled.file_paths[0]
    with pytest.raises(ValueError, match="binary"):
        _load(image_dir, label_mode="binary")


def test_explicit_labels_follow_the_sorted_file_order(image_dir):
    labels = [i % 2 for i in range(13)]  # 12 images in the class folders + .hidden/x.png (sorted first)
    ds = _load(image_dir, labels=labels, shuffle=False, batch_size=13)
    x, y = next(iter(ds))
    assert ds.class_names == ["0", "1"] and y.tolist() == labels
    assert x[0].eq(0).all() and x[1, 0, 0].tolist() == _colour(0, 0)  # file order: .hidden, ant/0, ant/1...
    with pytest.raises(ValueError, match="labels"):
        _load(image_dir, labels=[0, 1, 0])
    with pytest.raises(ValueError, match="class_names"):
        _load(image_dir, labels=labels, class_names=["a", "b"])


def test_shuffle_matches_keras_order_and_keeps_labels_with_images(image_dir):
    ds = _load(image_dir, seed=42, batch_size=4)
    expected = [os.path.join(str(image_dir), c, f"{i}.png") for c in CLASSES for i in range(4)]
    np.random.RandomState(42).shuffle(expected)  # Keras's global shuffle, before any split
    assert ds.file_paths == expected
    for x, y in ds:  # red encodes the class: every image is paired with its own label
        assert ((x[:, 0, 0, 0] - 10) / 80).tolist() == y.float().tolist()


def test_split_is_disjoint_complete_and_reproducible(image_dir):
    train = _load(image_dir, validation_split=0.25, subset="training", seed=7)
    val = _load(image_dir, validation_split=0.25, subset="validation", seed=7)
    assert len(train.file_paths) == 9 and len(val.file_paths) == 3  # int(0.25 * 12) for validation
    assert not set(train.file_paths) & set(val.file_paths)
    assert sorted(train.file_paths + val.file_paths) == sorted(_load(image_dir, shuffle=False).file_paths)
    both = _load(image_dir, validation_split=0.25, subset="both", seed=7)
    assert [d.file_paths for d in both] == [train.file_paths, val.file_paths]
    other = _load(image_dir, validation_split=0.25, subset="training", seed=8)
    assert other.file_paths != train.file_paths
    # the same seed gives the same batches; the training batches are reshuffled every epoch
    first = [y.tolist() for _, y in train]
    again = [y.tolist() for _, y in _load(image_dir, validation_split=0.25, subset="training", seed=7)]
    assert first == again
    orders = [torch.cat([x[:, 0, 0, :2] for x, _ in train]).tolist() for _ in range(3)]
    assert orders[0] != orders[1] or orders[1] != orders[2]


def test_color_modes_layouts_and_unbatched(image_dir):
    gray, _ = next(iter(_load(image_dir, color_mode="grayscale", shuffle=False)))
    rgba, _ = next(iter(_load(image_dir, color_mode="rgba", shuffle=False)))
    assert gray.shape == (12, HEIGHT, WIDTH, 1) and rgba.shape == (12, HEIGHT, WIDTH, 4)
    r, g, b = _colour(0, 0)
    assert gray[0, 0, 0, 0].item() == round((r * 299 + g * 587 + b * 114) / 1000)  # Pillow's luma, rounded
    assert rgba[:, :, :, 3].eq(255).all()
    first, _ = next(iter(_load(image_dir, data_format="channels_first", shuffle=False)))
    assert first.shape == (12, 3, HEIGHT, WIDTH)
    single = _load(image_dir, batch_size=None, shuffle=False)
    assert isinstance(single, Dataset) and len(single) == 12 and single.class_names == list(CLASSES)
    x, y = single[5]
    assert x.shape == (HEIGHT, WIDTH, 3) and y.dtype == torch.int32 and int(y) == 1


def test_resizing_crop_and_pad_to_aspect_ratio(tmp_path):
    root = tmp_path / "grad" / "only"
    root.mkdir(parents=True)
    pixels = np.broadcast_to((np.arange(WIDTH) * 30)[None, :, None], (HEIGHT, WIDTH, 3)).astype(np.uint8)
    Image.fromarray(pixels).save(root / "g.png")
    source = torch.from_numpy(pixels.astype(np.float32)).permute(2, 0, 1)[None]

    def first(**kwargs):
        return next(iter(_load(tmp_path / "grad", label_mode=None, **kwargs)))[0]

    plain = first(image_size=(3, 3))
    assert torch.allclose(plain, F.interpolate(source, (3, 3), mode="bilinear")[0].permute(1, 2, 0))
    cropped = first(image_size=(3, 3), crop_to_aspect_ratio=True)
    centre = source[..., 1:7]  # the centred 6x6 box
    assert torch.allclose(cropped, F.interpolate(centre, (3, 3), mode="bilinear")[0].permute(1, 2, 0))
    padded = first(image_size=(8, 8), pad_to_aspect_ratio=True)
    assert padded[0].eq(0).all() and padded[7].eq(0).all()  # one zero row above and below
    assert torch.equal(padded[1:7], source[0].permute(1, 2, 0))
    nearest = first(image_size=(6, 4), interpolation="nearest")
    assert torch.equal(nearest, source[0, :, :, 1::2].permute(1, 2, 0))


def test_allowed_formats_and_follow_links(tmp_path):
    root = tmp_path / "formats"
    (root / "a").mkdir(parents=True)
    pixel = Image.fromarray(np.full((2, 2, 3), 9, dtype=np.uint8))
    for ext in ("bmp", "gif", "jpeg", "jpg", "png", "PNG"):
        pixel.save(root / "a" / f"x_{ext}.{ext}", format={"jpg": "JPEG", "PNG": "PNG"}.get(ext, ext.upper()))
    pixel.save(root / "a" / "x.tiff")
    outside = tmp_path / "outside"
    outside.mkdir()
    pixel.save(outside / "linked.png")
    try:
        os.symlink(outside, root / "a" / "link", target_is_directory=True)
    except OSError:
        pytest.skip("symbolic links are not available here")
    names = sorted(os.path.basename(p) for p in _load(root, image_size=(2, 2)).file_paths)
    assert names == ["x_PNG.PNG", "x_bmp.bmp", "x_gif.gif", "x_jpeg.jpeg", "x_jpg.jpg", "x_png.png"]
    assert len(_load(root, image_size=(2, 2), follow_links=True).file_paths) == 7
    gif, _ = _load(root, image_size=(2, 2), batch_size=None, shuffle=False)[1]
    assert gif.eq(9).all()  # a palette GIF decodes to its RGB colour


def test_bad_arguments_raise_value_errors_naming_them(image_dir, tmp_path):
    cases = [
        ({"directory": tmp_path / "nope"}, "directory"),
        ({"validation_split": 0.2, "subset": "training"}, "seed"),
        ({"subset": "training"}, "validation_split"),
        ({"validation_split": 0.2, "seed": 1}, "subset"),
        ({"validation_split": 1.5, "subset": "training", "seed": 1}, "validation_split"),
        ({"subset": "test", "validation_split": 0.2, "seed": 1}, "subset"),
        ({"image_size": (4, 4, 3)}, "image_size"),
        ({"image_size": "big"}, "image_size"),
        ({"color_mode": "cmyk"}, "color_mode"),
        ({"label_mode": "sparse"}, "label_mode"),
        ({"labels": "folders"}, "labels"),
        ({"class_names": ["ant", "fox"]}, "class_names"),
        ({"batch_size": 0}, "batch_size"),
        ({"interpolation": "cubic"}, "interpolation"),
        ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "pad_to_aspect_ratio"),
        ({"data_format": "nhwc"}, "data_format"),
        ({"validation_split": 0.01, "subset": "validation", "seed": 1}, "No validation images"),
    ]
    for kwargs, match in cases:
        kwargs = {"directory": image_dir, **kwargs}
        with pytest.raises(ValueError, match=match):
            _load(kwargs.pop("directory"), **kwargs)
    with pytest.raises(NotImplementedError, match="lanczos3"):
        _load(image_dir, interpolation="lanczos3")
    empty = tmp_path / "empty" / "a"
    empty.mkdir(parents=True)
    with pytest.raises(ValueError, match="No images found"):
        _load(empty.parent)


def test_fit_evaluate_predict_take_the_dataset(image_dir):
    easynn.utils.set_random_seed(0)
    train, val = _load(image_dir, validation_split=0.25, subset="both", seed=3, batch_size=4)
    model = easynn.Sequential(
        [
            easynn.Input((HEIGHT, WIDTH, 3)),
            easynn.layers.Rescaling(1.0 / 255),
            easynn.layers.Flatten(),
            easynn.layers.Dense(len(train.class_names), activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert all(np.isfinite(history.history[k]).all() for k in ("loss", "val_loss"))
    assert np.isfinite(model.evaluate(val, verbose=0)[0])
    assert model.predict(_load(image_dir, label_mode=None, shuffle=False), verbose=0).shape == (13, 3)


@pytest.fixture
def text_dir(tmp_path):
    root = tmp_path / "texts"
    reviews = {"neg": ["awful plot", "dull", "bad acting"], "pos": ["great fun", "lovely", "superb cast"]}
    for name, texts in reviews.items():
        (root / name).mkdir(parents=True)
        for i, text in enumerate(texts):
            (root / name / f"{i}.txt").write_text(text, encoding="utf-8")
        (root / name / "cover.png").write_bytes(b"not text")
    (root / "pos" / "3.txt").write_bytes(b"caf\xe9 \xc3\xa9")  # a Latin-1 byte, then UTF-8
    return root


def test_text_dataset_batches_of_strings(text_dir):
    ds = text_dataset_from_directory(text_dir, shuffle=False, batch_size=4, verbose=False)
    assert ds.class_names == ["neg", "pos"] and len(ds.file_paths) == 7
    texts, labels = next(iter(ds))
    assert texts == ["awful plot", "dull", "bad acting", "great fun"] and labels.dtype == torch.int32
    assert labels.tolist() == [0, 0, 0, 1]
    texts, labels = list(ds)[1]
    assert texts[-1] == "caf\ufffd \u00e9" and labels.tolist() == [1, 1, 1]
    short = text_dataset_from_directory(text_dir, shuffle=False, max_length=4, label_mode=None, verbose=False)
    assert next(iter(short)) == ["awfu", "dull", "bad ", "grea", "love", "supe", "caf\ufffd"]
    _, onehot = next(
        iter(text_dataset_from_directory(text_dir, label_mode="categorical", shuffle=False, verbose=False))
    )
    assert onehot.tolist() == [[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 4
    single = preprocessing.text_dataset_from_directory(text_dir, batch_size=None, shuffle=False, verbose=False)
    assert single[0][0] == "awful plot" and int(single[0][1]) == 0


def test_text_dataset_split_and_errors(text_dir, capsys):
    train, val = text_dataset_from_directory(text_dir, validation_split=0.3, subset="both", seed=5)
    assert capsys.readouterr().out.splitlines() == [
        "Found 7 files belonging to 2 classes.",
        "Using 5 files for training.",
        "Using 2 files for validation.",
    ]
    assert not set(train.file_paths) & set(val.file_paths) and len(train.file_paths + val.file_paths) == 7
    contents = {path: _read(path) for path in train.file_paths}
    for texts, labels in train:  # every text comes with its own folder's label
        for text, label in zip(texts, labels.tolist()):
            origin = [path for path, content in contents.items() if content == text]
            assert len(origin) == 1 and _label_dir(origin[0]) == ["neg", "pos"][label]
    with pytest.raises(ValueError, match="max_length"):
        text_dataset_from_directory(text_dir, max_length=0)
    with pytest.raises(ValueError, match="seed"):
        text_dataset_from_directory(text_dir, validation_split=0.3, subset="training")
    with pytest.raises(ValueError, match="No text files"):
        text_dataset_from_directory(text_dir / "neg" / "..", class_names=[], verbose=False)
    assert preprocessing.image_dataset_from_directory is image_dataset_from_directory


def _read(path: str) -> str:
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace")


def _label_dir(path: str) -> str:
    return os.path.basename(os.path.dirname(path))
