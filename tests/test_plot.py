"""easynn.plot diagnostics: each figure is written as a PNG of the expected pixel size."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib.image import imread  # noqa: E402

import easynn  # noqa: E402
from easynn import plot  # noqa: E402
from easynn.layers import Concatenate, Dense  # noqa: E402


def _png(path, height, width):
    assert path.stat().st_size > 1000
    image = imread(path)
    assert image.shape[:2] == (height, width)
    # not a blank canvas
    assert float(image[..., :3].std()) > 0.01


def test_activations_png_and_derivative_curves(tmp_path):
    path = tmp_path / "act.png"
    fig = plot.activations(["sigmoid", "tanh", "relu"], path=path, ncols=2, size=2.0, dpi=50)
    _png(path, 2 * 2 * 50, 2 * 2 * 50)
    sigmoid_ax = fig.axes[0]
    (f_line, d_line) = sigmoid_ax.get_lines()[2:]  # after the two axis lines
    x, d = d_line.get_data()
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(d, s * (1 - s), atol=1e-12)  # σ' = σ(1 - σ), peak 0.25
    assert max(d) == pytest.approx(0.25)
    relu_d = fig.axes[2].get_lines()[3].get_ydata()
    assert set(np.unique(relu_d)) <= {0.0, 1.0}


def test_activations_rejects_softmax_and_unknown():
    with pytest.raises(ValueError, match="softmax"):
        plot.activations(["softmax"])
    with pytest.raises(ValueError, match="Unknown activation"):
        plot.activations(["rleu"])


def test_gradient_flow_from_a_real_fit(tmp_path):
    easynn.utils.set_random_seed(0)
    model = easynn.Sequential([easynn.Input(shape=(4,)), Dense(8, activation="sigmoid"), Dense(8, activation="sigmoid"),
                               Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    history = model.fit(x, x[:, :1], epochs=3, verbose=0, callbacks=[easynn.callbacks.GradientMonitor(warn=False)])
    path = tmp_path / "flow.png"
    fig = plot.gradient_flow(history, path=path, figsize=(6, 3), dpi=60)
    _png(path, 180, 360)
    assert len(fig.axes[0].get_lines()) == 3 and fig.axes[0].get_yscale() == "log"
    heights = [p.get_height() for p in fig.axes[1].patches]
    assert heights == pytest.approx([history.history[k][-1] for k in history.history if k.startswith("grad_norm/")])


def test_gradient_flow_without_monitor_keys_explains():
    with pytest.raises(ValueError, match="GradientMonitor"):
        plot.gradient_flow({"loss": [1.0]})


def test_surface_grid_matches_direct_formula():
    x = np.array([0.5, -1.0, 2.0])
    y = np.array([1.0, 0.0, 1.0])
    w1, w2, L = plot.surface_grid(x, y, w_range=(-3, 3), resolution=7)
    assert L.shape == (7, 7)
    i, j = 2, 5  # row: w2, column: w1
    a, b = float(w1[i, j]), float(w2[i, j])
    assert (a, b) == (2.0, -1.0)
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert float(L[i, j]) == pytest.approx(np.mean((s(b * s(a * x)) - y) ** 2))
    _, _, bce = plot.surface_grid(x, y, w_range=(-3, 3), resolution=7, loss="binary_crossentropy")
    p = s(b * s(a * x))
    assert float(bce[i, j]) == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@pytest.mark.parametrize("kind", ["surface", "contour"])
def test_loss_surface_png(tmp_path, kind):
    path = tmp_path / f"{kind}.png"
    x = np.linspace(-2, 2, 9)
    plot.loss_surface(x, (x > 0).astype(float), path=path, resolution=15, kind=kind, figsize=(4, 3), dpi=50)
    _png(path, 150, 200)


def test_loss_surface_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        plot.loss_surface([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="kind"):
        plot.loss_surface([1.0], [1.0], kind="wire")
    with pytest.raises(ValueError, match="w_range"):
        plot.loss_surface([1.0], [1.0], w_range=(2, 1))


def test_model_graph_sequential_chain(tmp_path):
    net = easynn.Sequential([easynn.Input(shape=(5,)), Dense(3, name="a"), Dense(2, name="b")])
    path = tmp_path / "seq.png"
    fig = plot.model(net, path=path, figsize=(4, 3), dpi=50)
    _png(path, 150, 200)
    texts = [t.get_text() for t in fig.axes[0].texts if t.get_text()]
    assert texts[1:] == ["a\nDense\n(None, 3)", "b\nDense\n(None, 2)"]
    assert len([t for t in fig.axes[0].texts if not t.get_text()]) == 2  # two arrows


def test_model_graph_functional_branches():
    left = easynn.Input(shape=(4,), name="left")
    right = easynn.Input(shape=(2,), name="right")
    joined = Concatenate(name="joined")([Dense(3, name="l1")(left), right])
    net = easynn.Model(inputs=[left, right], outputs=Dense(1, name="out")(joined))
    fig = plot.model(net, dpi=40)
    ax = fig.axes[0]
    boxes = {t.get_text().split("\n")[0]: t.get_position() for t in ax.texts if t.get_text()}
    assert set(boxes) == {"left", "right", "l1", "joined", "out"}
    assert boxes["left"][1] < boxes["l1"][1] < boxes["joined"][1] < boxes["out"][1]  # rows go down
    arrows = [t for t in ax.texts if not t.get_text()]
    assert len(arrows) == 4  # left->l1, l1->joined, right->joined, joined->out


def test_history_plot_method_draws_the_same_figure_as_plot_history(tmp_path):
    history = easynn.callbacks.History()
    history.history = {"loss": [1.0, 0.5], "val_loss": [1.2, 0.7]}
    history.epoch = [0, 1]
    via_method = history.plot(path=tmp_path / "a.png")
    via_function = plot.history(history, path=tmp_path / "b.png")
    assert (tmp_path / "a.png").stat().st_size > 0 and (tmp_path / "b.png").stat().st_size > 0
    lines = lambda fig: [tuple(line.get_ydata()) for ax in fig.axes for line in ax.lines]  # noqa: E731
    assert lines(via_method) == lines(via_function) and (1.0, 0.5) in lines(via_method)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install matplotlib"):  # not easynn[plot]: another project's name
        plot.activations(["relu"])
