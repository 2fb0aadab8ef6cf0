"""model.summary(): Keras 3's numbers (counts, byte sizes, shapes) and its options."""

import numpy as np
import pytest

import easynn
from easynn.layers import BatchNormalization, Dense, Flatten
from easynn.models.summary import print_summary, readable_memory_size


def _lines(model, **kwargs):
    lines = []
    print_summary(model, print_fn=lines.append, **kwargs)
    return lines


def _row(lines, name):
    return next(line for line in lines if line.startswith(f"│ {name} "))


def test_dense_64_on_100_inputs_matches_keras():
    model = easynn.Sequential([easynn.Input(shape=(100,)), Dense(64, name="hidden")], name="net")
    lines = _lines(model)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "net"'
    row = _row(lines, "hidden")
    assert "hidden (Dense)" in row and "(None, 64)" in row and row.rstrip("│ ").endswith("6,464")
    assert " Total params: 6,464 (25.25 KB)" in lines
    assert " Trainable params: 6,464 (25.25 KB)" in lines
    assert " Non-trainable params: 0 (0.00 B)" in lines
    assert "Optimizer params" not in text
    # Keras's default layout: 88 columns, header and box drawn with rich's characters
    table = lines[1:-3]
    assert all(len(line) == 88 for line in table), [len(line) for line in table]
    assert table[0].startswith("┏") and table[1].startswith("┃ Layer (type)") and table[-1].startswith("└")
    assert table[1].rstrip(" ┃").endswith("Param #")  # right-aligned, like the counts


def test_optimizer_params_as_keras_counts_them():
    # Keras's own test: Input(2) -> Dense(3), Adam after one fit: 9 + 20 = 29 params.
    inputs = easynn.Input(shape=(2,))
    model = easynn.Model(inputs, Dense(3)(inputs))
    model.compile(optimizer="adam", loss="mse")
    lines = _lines(model)
    assert "Optimizer params" not in "\n".join(lines)  # not built before training
    model.fit(np.zeros((4, 2), "float32"), np.zeros((4, 3), "float32"), verbose=0)
    lines = _lines(model)
    # 9 float32 weights (36 B); Adam: 2 x 9 moments (72 B) + int64 iterations + float32 lr (12 B)
    assert " Total params: 29 (120.00 B)" in lines
    assert " Trainable params: 9 (36.00 B)" in lines
    assert " Optimizer params: 20 (84.00 B)" in lines


def test_non_trainable_weights_and_show_trainable():
    model = easynn.Sequential([easynn.Input(shape=(4,)), Dense(4, name="frozen"), BatchNormalization(name="bn"),
                               Flatten(name="flat")])
    model.layers[0].trainable = False
    lines = _lines(model, show_trainable=True)
    # Dense: 20 frozen; BatchNormalization(4): gamma, beta trainable (8), moving mean/var not (8)
    assert " Total params: 36 (144.00 B)" in lines
    assert " Trainable params: 8 (32.00 B)" in lines
    assert " Non-trainable params: 28 (112.00 B)" in lines
    assert "Trainable" in lines[2]
    assert _row(lines, "frozen").rstrip(" │").endswith("N")
    assert _row(lines, "bn").rstrip(" │").endswith("Y")
    assert _row(lines, "flat").rstrip(" │").endswith("-")
    assert all(len(line) == 100 for line in lines[1:-3])  # 88 + 12 for the extra column


def test_unbuilt_sequential_is_listed_not_refused():
    model = easynn.Sequential([Dense(4, name="first"), Dense(2, name="second")])
    lines = _lines(model)
    for name in ("first", "second"):
        row = _row(lines, name)
        assert "?" in row and "0 (unbuilt)" in row
    assert " Total params: 0 (0.00 B)" in lines


def test_layer_range_line_length_positions_and_expand_nested():
    inner = easynn.Sequential([Dense(4, name="in_a"), Dense(2, name="in_b")], name="inner")
    model = easynn.Sequential([easynn.Input(shape=(3,)), Dense(3, name="first"), inner, Dense(1, name="last")])
    model(np.zeros((1, 3), "float32"))
    lines = _lines(model, layer_range=["inner", "last"], expand_nested=True, line_length=70,
                   positions=[30, 55, 70])
    names = [line.split(" (")[0].strip("│ ") for line in lines if line.startswith("│ ") and "(" in line]
    assert names == ["inner", "└ in_a", "└ in_b", "last"]
    assert "(None, 4)" in _row(lines, "   └ in_a")
    assert _row(lines, "inner").rstrip(" │").endswith("26")  # 3*4+4 + 4*2+2
    assert all(len(line) == 70 for line in lines[1:-3])
    assert " Total params: 41 (164.00 B)" in lines  # the totals still count the whole model
    with pytest.raises(ValueError, match="layer_range"):
        _lines(model, layer_range=["nope", "last"])
    with pytest.raises(ValueError, match="line_length"):
        _lines(model, line_length=8)


def test_functional_branches_get_connected_to_column():
    a = easynn.Input(shape=(4,), name="a")
    left, right = Dense(2, name="left")(a), Dense(2, name="right")(a)
    model = easynn.Model(a, easynn.layers.Concatenate(name="cat")([left, right]))
    lines = _lines(model, line_length=120)
    assert "Connected to" in lines[2]
    assert "left[0][0], right[0][0]" in _row(lines, "cat")
    chain_in = easynn.Input(shape=(4,))
    chain = easynn.Model(chain_in, Dense(2)(Dense(3)(chain_in)))
    assert "Connected to" not in "\n".join(_lines(chain))  # a plain chain reads like Sequential


def test_readable_memory_size_units():
    assert readable_memory_size(1023) == "1023.00 B"
    assert readable_memory_size(1024) == "1.00 KB"
    assert readable_memory_size(3 * 1024**2) == "3.00 MB"
