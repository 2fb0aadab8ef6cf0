"""plot_model: the layer graph drawn by graphviz (when installed) or easynn's matplotlib renderer."""

import shutil

import pytest

import easynn
from easynn.layers import Concatenate, Dense
from easynn.utils import model_to_dot, plot_model

pytest.importorskip("matplotlib", reason="matplotlib is not installed (pip install matplotlib)")
from matplotlib.image import imread  # noqa: E402


def _two_branch():
    features = easynn.Input(shape=(4,), name="features")
    left = Dense(8, activation="relu", name="left")(features)
    right = Dense(8, name="right")(features)
    merged = Concatenate(name="merge")([left, right])
    return easynn.Model(features, Dense(3, activation="softmax", name="head")(merged), name="two_branch")


def _nested():
    inner = easynn.Sequential([Dense(4, name="in_a"), Dense(2, name="in_b")], name="inner")
    return easynn.Sequential([easynn.Input(shape=(3,), name="x"), Dense(3, name="first"), inner, Dense(1, name="last")])


def test_dot_source_has_every_layer_edge_and_label():
    source = model_to_dot(_two_branch(), show_shapes=True, show_dtype=True, show_layer_activations=True,
                          show_trainable=True)
    for text in ("features (InputLayer)", "left (Dense)", "merge (Concatenate)", "Output shape: (None, 16)",
                 "Input shape: (None, 8), (None, 8)", "Activation: relu", "dtype: float32", "Trainable: Y"):
        assert text in source, text
    assert source.count("->") == 5  # features->left, features->right, left->merge, right->merge, merge->head
    assert "rankdir=TB" in source
    names_only = model_to_dot(_two_branch(), show_layer_names=False, rankdir="LR")
    assert "left (Dense)" not in names_only and "Dense" in names_only and "rankdir=LR" in names_only


def test_expand_nested_draws_the_inner_chain():
    collapsed = model_to_dot(_nested())
    expanded = model_to_dot(_nested(), expand_nested=True)
    assert "inner (Sequential)" in collapsed and "inner/in_a (Dense)" not in collapsed
    assert "inner/in_a (Dense)" in expanded and "inner/in_b (Dense)" in expanded
    assert expanded.count("->") == 4  # x -> first -> in_a -> in_b -> last


def test_matplotlib_renderer_writes_the_image(tmp_path):
    shapes = {}
    for rankdir in ("TB", "LR"):
        path = tmp_path / f"model_{rankdir}.png"
        plot_model(_two_branch(), to_file=path, show_shapes=True, rankdir=rankdir, dpi=60, renderer="matplotlib")
        image = imread(path)
        assert float(image[..., :3].std()) > 0.01  # not a blank canvas
        shapes[rankdir] = image.shape[:2]
    # 4 levels, at most 2 boxes side by side: TB is taller than wide relative to LR
    (tb_h, tb_w), (lr_h, lr_w) = shapes["TB"], shapes["LR"]
    assert tb_h / tb_w > 1.5 * lr_h / lr_w
    svg = tmp_path / "model.svg"
    plot_model(_nested(), to_file=svg, renderer="matplotlib", expand_nested=True)
    assert svg.read_text().lstrip().startswith("<?xml")


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's `dot` program is not installed")
def test_graphviz_renderer_writes_the_image(tmp_path):
    path = tmp_path / "model.png"
    plot_model(_two_branch(), to_file=path, show_shapes=True, dpi=60, renderer="graphviz")
    assert imread(path).shape[0] > 100


def test_bad_arguments():
    with pytest.raises(ValueError, match="rankdir"):
        model_to_dot(_two_branch(), rankdir="BT")
    with pytest.raises(ValueError, match="renderer"):
        plot_model(_two_branch(), renderer="ascii")
