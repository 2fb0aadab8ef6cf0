"""trace_graph: the lecture's computation graph, local derivatives and the multi-path chain rule."""

import math

import pytest
import torch

from easynn import activations
from easynn.utils import trace_graph


def lecture_f(x, w, b):
    h1 = x * w
    h2 = h1 + b
    h3 = -h2
    h4 = torch.exp(h3)
    h5 = h4 + 1
    return 1 / h5


def test_lecture_example_steps_and_local_derivatives():
    graph = trace_graph(lecture_f, 1.0, 0.0, 0.0)
    assert [s.name for s in graph.steps] == ["h1", "h2", "h3", "h4", "h5", "h6"]
    assert [s.expression for s in graph.steps] == ["x * w", "h1 + b", "-h2", "exp(h3)", "h4 + 1", "1 / h5"]
    assert [s.value for s in graph.steps] == pytest.approx([0.0, 0.0, 0.0, 1.0, 2.0, 0.5])
    assert graph.steps[0].local == {"x": 0.0, "w": 1.0}  # ∂h1/∂x = w, ∂h1/∂w = x
    assert graph.steps[5].local == {"h5": pytest.approx(-0.25)}  # -1 / h5^2
    assert graph.output == "h6" and graph.value == 0.5
    (path,) = graph.paths("w")
    assert [v for _, _, v in path] == pytest.approx([1, -0.25, 1, 1, -1, 1, 1])
    assert graph.gradient("w") == pytest.approx(0.25)
    assert graph.gradient("w") == pytest.approx(graph.autograd["w"])


def test_lecture_example_prints_the_chain():
    text = str(graph := trace_graph(lecture_f, 1.0, 0.0, 0.0))
    assert "h6 = 1 / h5" in text
    assert "= 1 × -0.25 × 1 × 1 × -1 × 1 × 1" in graph.chain("w")
    assert graph.chain("w").splitlines()[-1].strip() == "= 0.25"
    assert repr(graph) == text


def test_easynn_sigmoid_is_one_step_with_its_own_derivative():
    graph = trace_graph(lambda z: activations.sigmoid(z), 0.0)
    assert len(graph.steps) == 1
    assert graph.steps[0].expression == "sigmoid(z)"
    assert graph.steps[0].local == {"z": pytest.approx(0.25)}  # σ(0)(1 - σ(0))
    graph = trace_graph(lambda x, w, b: activations.sigmoid(w * x + b), 1.0, 0.0, 0.0)
    assert graph.gradient("w") == pytest.approx(0.25)


def _multi(x, w, b):
    # w reaches f along three paths, x along three, b along two
    u = torch.sin(x * w) * w
    v = activations.tanh(u + b) * torch.exp(w * b)
    return u * v + x * x


@pytest.mark.parametrize("seed", range(5))
def test_random_multi_path_expression_matches_autograd(seed):
    gen = torch.Generator().manual_seed(seed)
    values = torch.randn(3, generator=gen, dtype=torch.float64)
    graph = trace_graph(_multi, *values)
    x, w, b = (v.clone().requires_grad_(True) for v in values)
    expected = torch.autograd.grad(_multi(x, w, b), (x, w, b))
    for name, grad in zip("xwb", expected):
        assert graph.gradient(name) == pytest.approx(float(grad), rel=1e-9, abs=1e-12)
        paths = graph.paths(name)
        by_paths = sum(math.prod(v for _, _, v in path) for path in paths)
        assert by_paths == pytest.approx(float(grad), rel=1e-9, abs=1e-12)
    assert len(graph.paths("w")) >= 3


def test_repeated_operand_sums_both_edges():
    graph = trace_graph(lambda x: x * x, 3.0)
    assert graph.steps[0].local == {"x": 6.0}
    assert graph.gradient("x") == 6.0


def test_input_not_reached_has_zero_gradient():
    graph = trace_graph(lambda x, y: x * 2, 1.0, 5.0)
    assert graph.gradient("y") == 0.0 and graph.paths("y") == []
    assert "does not depend on y" in graph.chain("y")


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="scalar"):
        trace_graph(lambda x: x.sum(), torch.ones(3))
    with pytest.raises(TypeError, match="must be a number"):
        trace_graph(lambda x: x, "1")
    with pytest.raises(TypeError, match="return a tensor"):
        trace_graph(lambda x: 1.0, 1.0)
    with pytest.raises(ValueError, match="wrt"):
        trace_graph(lecture_f, 1.0, 0.0, 0.0).gradient("q")
    with pytest.raises(ValueError, match="scalar"):
        trace_graph(lambda x: (x * torch.ones(3)).sum(), 1.0)


def test_custom_names():
    graph = trace_graph(lambda *a: a[0] * a[1], 2.0, 3.0, names=["a", "b"])
    assert graph.steps[0].expression == "a * b"
    assert graph.gradient("b") == 2.0
