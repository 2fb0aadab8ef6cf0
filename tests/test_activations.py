"""easynn.activations against PyTorch's own functions, plus the autograd machinery checks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from easynn import activations as A


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _prelu_ref(x, alpha):
    return torch.where(x > 0, x, alpha * x)


# name -> (easynn call, torch reference, has a kink at 0)
CASES = {
    "sigmoid": (A.sigmoid, torch.sigmoid, False),
    "tanh": (A.tanh, torch.tanh, False),
    "relu": (A.relu, F.relu, True),
    "leaky_relu": (A.leaky_relu, lambda x: F.leaky_relu(x, 0.2), True),
    "leaky_relu_1.5": (lambda x: A.leaky_relu(x, 1.5), lambda x: F.leaky_relu(x, 1.5), True),
    "leaky_relu_neg": (lambda x: A.leaky_relu(x, -0.1), lambda x: F.leaky_relu(x, -0.1), True),
    "elu": (A.elu, F.elu, True),
    "elu_0.5": (lambda x: A.elu(x, 0.5), lambda x: F.elu(x, 0.5), True),
    "elu_2": (lambda x: A.elu(x, 2.0), lambda x: F.elu(x, 2.0), True),
    "elu_neg": (lambda x: A.elu(x, -0.5), lambda x: F.elu(x, -0.5), True),
    "softplus": (A.softplus, F.softplus, False),
    "softmax": (A.softmax, lambda x: torch.softmax(x, -1), False),
    "softmax_axis0": (lambda x: A.softmax(x, 0), lambda x: torch.softmax(x, 0), False),
    "silu": (A.silu, F.silu, False),
    "gelu": (A.gelu, F.gelu, False),
    "gelu_tanh": (
        lambda x: A.gelu(x, approximate=True), lambda x: F.gelu(x, approximate="tanh"), False
    ),
    "prelu": (
        lambda x: A.prelu(x, torch.linspace(-0.5, 1.5, x.shape[-1], dtype=x.dtype)),
        lambda x: F.prelu(x, torch.linspace(-0.5, 1.5, x.shape[-1], dtype=x.dtype)),
        True,
    ),
}
IDS = list(CASES)


def _input(shape=(6, 5), dtype=torch.float64, kink=True):
    x = torch.randn(shape, dtype=torch.float64) * 2
    if kink:  # keep finite differences away from the kink at 0
        x = torch.where(x.abs() < 0.1, x.sign() * 0.1 + x, x)
    return x.to(dtype)


def _value_and_grad(fn, x, g):
    x = x.detach().clone().requires_grad_()
    y = fn(x)
    (dx,) = torch.autograd.grad(y, x, g)
    return y.detach(), dx


@pytest.mark.parametrize("name", IDS)
def test_forward_and_gradient_match_torch(name):
    fn, ref, kink = CASES[name]
    x = _input(dtype=torch.float32, kink=kink)
    g = torch.randn_like(x)
    y, dx = _value_and_grad(fn, x, g)
    y_ref, dx_ref = _value_and_grad(ref, x, g)
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(dx, dx_ref)


@pytest.mark.parametrize("name", IDS)
def test_extreme_inputs_finite_and_match_torch(name):
    fn, ref, _ = CASES[name]
    row = torch.tensor([-1e4, -100.0, -30.0, -1.0, 0.5, 30.0, 100.0, 1e4])
    x = torch.stack([row, row.flip(0)])
    g = torch.randn_like(x)
    y, dx = _value_and_grad(fn, x, g)
    y_ref, dx_ref = _value_and_grad(ref, x, g)
    assert torch.isfinite(y).all() and torch.isfinite(dx).all()
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(dx, dx_ref)


def test_extreme_values_exact():
    big = torch.tensor([1e4])
    assert A.sigmoid(-big).item() == 0.0
    assert A.sigmoid(big).item() == 1.0
    assert A.softplus(big).item() == 1e4
    assert A.elu(-big).item() == -1.0
    x = big.clone().requires_grad_()
    A.softplus(x).sum().backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("name", IDS)
def test_gradcheck_and_gradgradcheck_float64(name):
    fn, _, kink = CASES[name]
    x = _input((4, 3), kink=kink).requires_grad_()
    assert torch.autograd.gradcheck(fn, (x,))
    assert torch.autograd.gradgradcheck(fn, (x,))


def test_prelu_gradcheck_in_x_and_alpha_with_broadcast():
    x = _input((2, 3, 4)).requires_grad_()
    alpha = torch.tensor([[0.1, -0.3, 0.7, 1.2]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(A.prelu, (x, alpha))
    assert torch.autograd.gradgradcheck(A.prelu, (x, alpha))
    g = torch.randn(2, 3, 4, dtype=torch.float64)
    grads = torch.autograd.grad(A.prelu(x, alpha), (x, alpha), g)
    grads_ref = torch.autograd.grad(_prelu_ref(x, alpha), (x, alpha), g)
    assert grads[1].shape == (1, 4)
    for got, want in zip(grads, grads_ref):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("name", IDS)
def test_create_graph_gives_same_first_gradient(name):
    # the in-place (plain backward) and out-of-place (create_graph) spellings agree
    fn, _, kink = CASES[name]
    x = _input(dtype=torch.float32, kink=kink).requires_grad_()
    g = torch.randn_like(x).requires_grad_()
    (fast,) = torch.autograd.grad(fn(x), x, g)
    (plain,) = torch.autograd.grad(fn(x), x, g, create_graph=True)
    assert plain.requires_grad
    torch.testing.assert_close(fast, plain.detach())


def test_gradient_at_zero_follows_torch_convention():
    x = torch.zeros(3, requires_grad=True)
    pairs = [(A.relu, F.relu), (A.leaky_relu, lambda t: F.leaky_relu(t, 0.2)), (A.elu, F.elu),
             (A.gelu, F.gelu),
             (lambda t: A.prelu(t, torch.tensor([0.3])), lambda t: F.prelu(t, torch.tensor([0.3])))]
    for fn, ref in pairs:
        (got,) = torch.autograd.grad(fn(x).sum(), x)
        (want,) = torch.autograd.grad(ref(x).sum(), x)
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", IDS)
def test_half_precision_keeps_dtype(name, dtype):
    fn, ref, kink = CASES[name]
    x32 = _input(dtype=torch.float32, kink=kink)
    x = x32.to(dtype)
    g = torch.randn_like(x32).to(dtype)
    y, dx = _value_and_grad(fn, x, g)
    y_ref, dx_ref = _value_and_grad(ref, x.float(), g.float())
    assert y.dtype == dtype and dx.dtype == dtype
    tol = 2e-2 if dtype == torch.bfloat16 else 2e-3
    torch.testing.assert_close(y.float(), y_ref, atol=tol, rtol=tol)
    torch.testing.assert_close(dx.float(), dx_ref, atol=tol, rtol=tol)


@pytest.mark.parametrize("name", IDS)
def test_vmap_equals_plain_call(name):
    fn, _, kink = CASES[name]
    x = _input((3, 4, 5), dtype=torch.float32, kink=kink)
    batched = torch.vmap(fn)(x)
    torch.testing.assert_close(batched, torch.stack([fn(row) for row in x]))


@pytest.mark.parametrize("name", IDS)
def test_vmap_of_grad_equals_autograd(name):
    fn, _, kink = CASES[name]
    x = _input((3, 4, 5), dtype=torch.float32, kink=kink)
    per_sample = torch.func.vmap(torch.func.grad(lambda row: fn(row).pow(2).sum()))(x)
    xr = x.clone().requires_grad_()
    sum(fn(row).pow(2).sum() for row in xr).backward()
    torch.testing.assert_close(per_sample, xr.grad)


@pytest.mark.parametrize("name", IDS)
def test_batched_grad_outputs(name):
    # autograd.grad(is_grads_batched=True) runs backward under vmap with the grads batched
    fn, _, kink = CASES[name]
    x = _input((4, 5), dtype=torch.float32, kink=kink).requires_grad_()
    y = fn(x)
    gs = torch.randn(3, *y.shape)
    (batched,) = torch.autograd.grad(y, x, gs, is_grads_batched=True, retain_graph=True)
    looped = torch.stack([torch.autograd.grad(y, x, g, retain_graph=True)[0] for g in gs])
    torch.testing.assert_close(batched, looped)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus",
                                  "softmax", "silu", "gelu", "prelu"])
def test_backward_is_the_custom_function(name):
    fn = CASES[name][0]
    x = torch.randn(3, 4, requires_grad=True)
    node = fn(x).grad_fn
    # a torch.autograd.Function's node knows its Function class; native ops' nodes do not
    assert issubclass(node._forward_cls, torch.autograd.Function)
    assert node._forward_cls.__module__.startswith("easynn.activations.")
    assert type(node).__name__.endswith("FunctionBackward")


def test_lecture_computation_graph_example():
    # f(x; w, b) = sigmoid(w x + b) at x = 1, w = 0, b = 0: df/dw = df/db = 0.25
    x = torch.tensor(1.0)
    w = torch.tensor(0.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    f = A.sigmoid(w * x + b)
    f.backward()
    assert f.item() == 0.5
    assert w.grad.item() == 0.25
    assert b.grad.item() == 0.25


def test_autocast_bfloat16_cpu_region():
    x = torch.randn(4, 6)
    w = torch.randn(6, 5, requires_grad=True)
    grads = {}
    for label, act in [("easynn", A.sigmoid), ("torch", torch.sigmoid)]:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            h = x @ w
            y = act(h)
            loss = (y.float() * torch.arange(5.0)).sum()
        assert h.dtype == torch.bfloat16 and y.dtype == torch.bfloat16
        (grads[label],) = torch.autograd.grad(loss, w)
    assert grads["easynn"].dtype == torch.float32
    torch.testing.assert_close(grads["easynn"], grads["torch"], atol=2e-2, rtol=2e-2)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # plain float32 inputs stay float32
        assert A.softmax(x).dtype == torch.float32


def test_softmax_rows_sum_to_one_on_any_axis():
    x = torch.randn(2, 3, 4)
    for axis in (0, 1, -1):
        sums = A.softmax(x, axis).sum(axis)
        torch.testing.assert_close(sums, torch.ones_like(sums))


@pytest.mark.slow
def test_compile_equals_eager_without_graph_breaks():
    alpha = torch.full((5,), 0.25)

    def chain(x):
        h = A.elu(A.leaky_relu(A.relu(A.tanh(A.sigmoid(x)) - 0.3)) - 0.1)
        h = A.gelu(A.silu(A.softplus(h)) - 0.5) + A.prelu(h - 0.2, alpha)
        return A.softmax(h)

    x = torch.randn(3, 5)
    explanation = torch._dynamo.explain(chain)(x)
    assert explanation.graph_break_count == 0
    compiled = torch.compile(chain, backend="inductor")
    xe = x.clone().requires_grad_()
    xc = x.clone().requires_grad_()
    g = torch.randn(3, 5)
    ye, yc = chain(xe), compiled(xc)
    ye.backward(g)
    yc.backward(g)
    torch.testing.assert_close(yc, ye)
    torch.testing.assert_close(xc.grad, xe.grad)


# ------------------------------------------------------------------------- get / serialize
def test_get_returns_registered_functions():
    assert A.get("relu") is A.relu
    assert A.get("swish") is A.silu
    assert A.get(None) is A.linear and A.get("linear") is A.linear
    fn = lambda t: t * 2  # noqa: E731
    assert A.get(fn) is fn
    x = torch.tensor([-1.0, 3.0])
    assert torch.equal(A.linear(x), x)


def test_get_unknown_name_lists_valid_names():
    expected = (r"Unknown activation 'rleu'\. Expected one of: celu, elu, exponential, gelu, glu, hard_shrink, "
                r"hard_sigmoid, hard_silu, hard_swish, hard_tanh, leaky_relu, linear, log_sigmoid, log_softmax, "
                r"mish, relu, relu6, selu, sigmoid, silu, soft_shrink, softmax, softplus, softsign, sparse_plus, "
                r"sparse_sigmoid, sparsemax, squareplus, swish, tanh, tanh_shrink, threshold, or a callable\.")
    with pytest.raises(ValueError, match=expected):
        A.get("rleu")
    with pytest.raises(TypeError, match="activation"):
        A.get(3)


@pytest.mark.parametrize("name", ["elu", "gelu", "leaky_relu", "linear", "relu", "sigmoid",
                                  "silu", "softmax", "softplus", "tanh"])
def test_serialize_round_trip(name):
    assert A.serialize(A.get(name)) == name
    assert A.get(A.serialize(A.get(name))) is A.get(name)


def test_serialize_swish_none_and_custom():
    assert A.serialize(A.swish) == "silu"
    assert A.serialize(None) == "linear"
    fn = lambda t: t  # noqa: E731
    assert A.serialize(fn) is fn


@pytest.mark.parametrize("alpha_shape", [(), (1,), (3,), (1, 3), (3, 1), (1, 1)])
def test_prelu_alpha_shapes_broadcast_like_numpy(alpha_shape):
    x = _input((3, 3)).requires_grad_()
    alpha = torch.rand(alpha_shape, dtype=torch.float64, requires_grad=True)
    g = torch.randn(3, 3, dtype=torch.float64)
    y = A.prelu(x, alpha)
    torch.testing.assert_close(y, _prelu_ref(x, alpha))
    grads = torch.autograd.grad(y, (x, alpha), g)
    grads_ref = torch.autograd.grad(_prelu_ref(x, alpha), (x, alpha), g)
    for got, want in zip(grads, grads_ref):
        torch.testing.assert_close(got, want)


def test_bad_arguments_raise():
    x = torch.randn(2, 3)
    with pytest.raises(TypeError, match="negative_slope"):
        A.leaky_relu(x, "0.2")
    with pytest.raises(TypeError, match="alpha"):
        A.elu(x, None)
    with pytest.raises(TypeError, match="axis"):
        A.softmax(x, 1.0)
    with pytest.raises(TypeError, match="approximate"):
        A.gelu(x, approximate="tanh")
    with pytest.raises(TypeError, match="alpha"):
        A.prelu(x, 0.1)
    with pytest.raises(ValueError, match=r"alpha.shape=\(4,\)"):
        A.prelu(x, torch.zeros(4))


def test_fast_eager_apply_matches_documented_apply_and_keeps_custom_backward():
    # The eager path skips Function.apply's per-call signature binding; it must be the same call.
    from easynn.activations._autograd import _apply
    from easynn.activations.rectifiers import _ELUFunction

    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    fast = _apply(_ELUFunction, x, 0.7)
    slow = _ELUFunction.apply(x, 0.7)
    assert type(fast.grad_fn) is type(slow.grad_fn)
    (g_fast,) = torch.autograd.grad(fast.sum(), x)
    (g_slow,) = torch.autograd.grad(slow.sum(), x)
    assert torch.equal(fast, slow) and torch.equal(g_fast, g_slow)


def test_relu_keras_arguments_match_the_relu_layer_and_formula():
    x = torch.linspace(-4, 8, 25)
    expected = torch.where(x >= 1.0, x, 0.1 * (x - 1.0)).clamp(max=6.0)
    assert torch.allclose(A.relu(x, negative_slope=0.1, max_value=6.0, threshold=1.0), expected)
    assert torch.equal(A.relu(x, max_value=6.0), torch.clamp(torch.relu(x), max=6.0))
    assert torch.allclose(A.relu(x, negative_slope=0.2), torch.nn.functional.leaky_relu(x, 0.2))
    with pytest.raises(ValueError, match="max_value"):
        A.relu(x, max_value=-1.0)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "softplus", "elu", "leaky_relu", "gelu", "silu"])
def test_lecture_gradients_switch_gives_the_same_gradients(name):
    """config.set_lecture_gradients: the lecture's Functions and torch's kernels agree."""
    from easynn import activations, config

    fn = activations.get(name)
    x = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(6, 5, dtype=torch.float64)
    grads, nodes = [], []
    try:
        for lecture in (True, False):
            config.set_lecture_gradients(lecture)
            y = fn(x)
            nodes.append(type(y.grad_fn).__name__)
            (grad,) = torch.autograd.grad((y * weights).sum(), x)
            grads.append(grad)
    finally:
        config.set_lecture_gradients("auto")
    assert nodes[0].endswith("FunctionBackward") and not nodes[1].endswith("FunctionBackward")  # ours, then torch's
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="mode"):
        config.set_lecture_gradients("yes")
