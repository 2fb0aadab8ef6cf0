import numpy as np
import pytest
import torch
import torch.nn.functional as F

from easynn.layers.normalization import BatchNormalization, LayerNormalization
from tests.layers.layer_checks import check_layer

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomize(layer):
    layer.set_weights([np.random.RandomState(i).uniform(0.5, 1.5, w.shape).astype(np.float32)
                       for i, w in enumerate(layer.get_weights())])


@pytest.mark.parametrize(
    "make, in_shape, params",
    [
        (lambda: BatchNormalization(), (4, 5), 4 * 5),
        (lambda: BatchNormalization(), (4, 3, 3, 6), 4 * 6),
        (lambda: BatchNormalization(axis=1), (4, 6, 3, 3), 4 * 6),
        (lambda: BatchNormalization(center=False), (4, 5), 3 * 5),
        (lambda: BatchNormalization(scale=False, center=False), (4, 5), 2 * 5),
        (lambda: LayerNormalization(), (4, 3, 5), 2 * 5),
        (lambda: LayerNormalization(axis=[1, 2]), (4, 3, 5), 2 * 15),
        (lambda: LayerNormalization(axis=1, scale=False), (4, 3, 5), 3),
    ],
)
def test_shapes_params_config(make, in_shape, params):
    check_layer(make(), torch.randn(in_shape), in_shape, params, training=False)


def test_batchnorm_weights_order_and_trainability():
    bn = BatchNormalization()
    bn(torch.randn(4, 3), training=False)
    assert [w.shape for w in bn.get_weights()] == [(3,)] * 4
    assert [w is bn.gamma for w in bn.trainable_weights] == [True, False]
    assert bn.trainable_weights[1] is bn.beta
    assert [w is bn.moving_mean for w in bn.non_trainable_weights] == [True, False]
    np.testing.assert_array_equal(np.stack(bn.get_weights()), [[1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]])


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 3, 5), (4, 6, 5)])
def test_batchnorm_training_and_moving_stats_follow_keras(shape):
    bn = BatchNormalization(momentum=0.9)
    x = torch.randn(shape) * 3 + 1
    bn(x, training=False)
    _randomize(bn)
    gamma, beta, mean0, var0 = (torch.as_tensor(w) for w in bn.get_weights())
    y = bn(x, training=True)
    axes = tuple(range(x.dim() - 1))
    batch_mean = x.mean(dim=axes)
    batch_var = x.var(dim=axes, unbiased=False)  # Keras: biased
    expected = (x - batch_mean) / torch.sqrt(batch_var + 1e-3) * gamma + beta
    torch.testing.assert_close(y, expected, rtol=1e-4, atol=1e-4)
    _, _, mean1, var1 = (torch.as_tensor(w) for w in bn.get_weights())
    torch.testing.assert_close(mean1, 0.9 * mean0 + 0.1 * batch_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(var1, 0.9 * var0 + 0.1 * batch_var, rtol=1e-5, atol=1e-6)


def test_batchnorm_inference_uses_moving_stats_and_differs_from_training():
    bn = BatchNormalization()
    x = torch.randn(6, 4) * 2 + 3
    y_inf = bn(x, training=False)
    torch.testing.assert_close(y_inf, x / np.sqrt(1 + 1e-3))  # moving mean 0, var 1, gamma 1, beta 0
    before = [w.copy() for w in bn.get_weights()]
    y_train = bn(x, training=True)
    assert not torch.allclose(y_inf, y_train)
    assert abs(float(y_train.detach().mean())) < 1e-5
    bn(x, training=False)
    assert not np.allclose(before[2], bn.get_weights()[2])  # training updated the moving mean...
    after = bn.get_weights()
    bn(x, training=False)
    np.testing.assert_array_equal(after[2], bn.get_weights()[2])  # ...inference does not


def test_batchnorm_follows_module_mode_and_frozen_layer_runs_inference():
    bn = BatchNormalization()
    x = torch.randn(6, 4) + 2
    bn(x)
    bn.train()
    y_train = bn(x)
    torch.testing.assert_close(y_train.detach().mean(0), torch.zeros(4), atol=1e-5, rtol=0)
    bn.eval()
    torch.testing.assert_close(bn(x), F.batch_norm(x, bn.moving_mean, bn.moving_variance, bn.gamma, bn.beta, eps=1e-3))
    bn.trainable = False
    moving = bn.get_weights()[2].copy()
    y_frozen = bn(x, training=True)
    np.testing.assert_array_equal(bn.get_weights()[2], moving)
    torch.testing.assert_close(y_frozen, bn(x, training=False))


def test_batchnorm_gradients_match_manual_formula():
    bn = BatchNormalization()
    x = torch.randn(5, 2, 2, 3, requires_grad=True)
    bn(x.detach())
    _randomize(bn)
    bn(x, training=True).pow(3).sum().backward()
    x2 = x.detach().clone().requires_grad_(True)
    gamma = torch.as_tensor(bn.get_weights()[0]).requires_grad_(True)
    mean = x2.mean(dim=(0, 1, 2))
    var = x2.var(dim=(0, 1, 2), unbiased=False)
    ((x2 - mean) / torch.sqrt(var + 1e-3) * gamma + torch.as_tensor(bn.get_weights()[1])).pow(3).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(bn.gamma.grad, gamma.grad, rtol=1e-4, atol=1e-4)


def test_batchnorm_channels_first_agrees_with_channels_last():
    x = torch.randn(4, 3, 3, 5)
    last, first = BatchNormalization(), BatchNormalization(axis=1)
    last(x, training=False)
    first(x.permute(0, 3, 1, 2), training=False)
    _randomize(last)
    first.set_weights(last.get_weights())
    y_last = last(x, training=True)
    y_first = first(x.permute(0, 3, 1, 2), training=True)
    torch.testing.assert_close(y_first.permute(0, 2, 3, 1), y_last, rtol=1e-5, atol=1e-5)
    for a, b in zip(first.get_weights(), last.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_batchnorm_bad_arguments():
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="epsilon"):
        BatchNormalization(epsilon=0)
    with pytest.raises(ValueError, match="axis"):
        BatchNormalization(axis=0)(torch.zeros(2, 3))
    bn = BatchNormalization()
    bn(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="received shape"):
        bn(torch.zeros(2, 4))


def test_layernorm_matches_f_layer_norm_with_keras_epsilon():
    ln = LayerNormalization()
    x = torch.randn(4, 3, 6) * 2 + 1
    ln(x)
    _randomize(ln)
    gamma, beta = (torch.as_tensor(w) for w in ln.get_weights())
    torch.testing.assert_close(ln(x), F.layer_norm(x, (6,), gamma, beta, eps=1e-3))
    assert not torch.allclose(ln(x), F.layer_norm(x, (6,), gamma, beta, eps=1e-5), atol=1e-6, rtol=0)


def test_layernorm_non_trailing_axis():
    ln = LayerNormalization(axis=1)
    x = torch.randn(4, 3, 5)
    ln(x)
    _randomize(ln)
    gamma, beta = (torch.as_tensor(w) for w in ln.get_weights())
    mean = x.mean(dim=1, keepdim=True)
    var = x.var(dim=1, unbiased=False, keepdim=True)
    expected = (x - mean) / torch.sqrt(var + 1e-3) * gamma[:, None] + beta[:, None]
    torch.testing.assert_close(ln(x), expected, rtol=1e-5, atol=1e-5)


def test_layernorm_bad_axis():
    with pytest.raises(ValueError, match="axis"):
        LayerNormalization(axis=3)(torch.zeros(2, 3))
    with pytest.raises(TypeError, match="axis"):
        LayerNormalization(axis="last")


@pytest.mark.cuda
@requires_cuda
def test_cuda_batchnorm_channels_last_matches_cpu():
    x = torch.randn(4, 5, 5, 3)
    cpu, gpu = BatchNormalization(), BatchNormalization()
    y_cpu = cpu(x, training=True)
    gpu.to("cuda")
    y_gpu = gpu(x.cuda(), training=True)
    torch.testing.assert_close(y_gpu.cpu(), y_cpu, rtol=1e-4, atol=1e-4)
    for a, b in zip(gpu.get_weights(), cpu.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", [(1, 3), (1, 1, 1, 3)])
def test_batchnorm_trains_on_one_value_per_feature_like_keras(shape):
    # A last batch of one sample: Keras normalizes with mean x and variance 0 (output beta) and
    # updates the moving averages; torch's kernel raises "Expected more than 1 value per channel".
    torch.manual_seed(0)
    layer = BatchNormalization(beta_initializer="ones")
    layer(torch.zeros(2, *shape[1:]))
    layer.train()
    x = torch.randn(shape, requires_grad=True)
    y = layer(x)
    torch.testing.assert_close(y, torch.ones(shape))
    torch.testing.assert_close(layer.moving_mean, 0.01 * x.detach().reshape(-1))
    torch.testing.assert_close(layer.moving_variance, torch.full((3,), 0.99))
    y.sum().backward()
    torch.testing.assert_close(layer.beta.grad, torch.ones(3))
