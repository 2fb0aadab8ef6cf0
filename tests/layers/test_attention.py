"""MultiHeadAttention against softmax(QK^T/sqrt(d))V written by hand; Attention, AdditiveAttention."""

import math

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import AdditiveAttention, Attention, MultiHeadAttention


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _mha_reference(weights, query, value, key=None, mask=None, use_bias=True):
    """softmax(Q K^T / sqrt(d_k) + mask) V, head by head, from Keras-layout arrays (float64)."""
    key = value if key is None else key
    w = [torch.as_tensor(a, dtype=torch.float64) for a in weights]
    if use_bias:
        wq, bq, wk, bk, wv, bv, wo, bo = w
    else:
        wq, wk, wv, wo = w
        bq = bk = bv = bo = 0
    query, value, key = query.double(), value.double(), key.double()
    heads, key_dim = wq.shape[1], wq.shape[2]
    out = 0
    all_scores = []
    for h in range(heads):
        q = query @ wq[:, h] + (bq[h] if use_bias else 0)
        k = key @ wk[:, h] + (bk[h] if use_bias else 0)
        v = value @ wv[:, h] + (bv[h] if use_bias else 0)
        logits = q @ k.transpose(1, 2) / math.sqrt(key_dim)
        if mask is not None:
            logits = logits.masked_fill(~mask, -1e9)
        scores = torch.softmax(logits, -1)
        all_scores.append(scores)
        out = out + (scores @ v) @ wo[h]
    return out + bo, torch.stack(all_scores, 1)


def _randomize(layer, seed=0):
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()])
    return layer.get_weights()


def test_weight_shapes_and_parameter_counts():
    mha = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, output_shape=7)
    q, v, k = torch.randn(2, 4, 6), torch.randn(2, 9, 8), torch.randn(2, 9, 10)
    assert mha(q, v, k).shape == (2, 4, 7)
    assert [w.shape for w in mha.get_weights()] == [
        (6, 2, 3), (2, 3), (10, 2, 3), (2, 3), (8, 2, 5), (2, 5), (2, 5, 7), (7,)]
    assert mha.count_params() == (6 * 6 + 6) + (10 * 6 + 6) + (8 * 10 + 10) + (10 * 7 + 7)
    no_bias = MultiHeadAttention(num_heads=4, key_dim=2, use_bias=False)
    x = torch.randn(1, 3, 8)
    no_bias(x, x)
    assert no_bias.count_params() == 3 * 8 * 8 + 8 * 8


@pytest.mark.parametrize("use_bias", [True, False])
def test_matches_the_hand_written_reference(use_bias):
    mha = MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2, use_bias=use_bias)
    q, v, k = torch.randn(2, 5, 6), torch.randn(2, 7, 6), torch.randn(2, 7, 3)
    mha(q, v, k)
    weights = _randomize(mha)
    out, scores = mha(q, v, k, return_attention_scores=True)
    want, want_scores = _mha_reference(weights, q, v, k, use_bias=use_bias)
    torch.testing.assert_close(out.double(), want, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(scores.double(), want_scores, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(mha(q, v, k).double(), want, rtol=1e-5, atol=1e-5)  # the SDPA path


def test_masks_combine_as_keras():
    mha = MultiHeadAttention(num_heads=2, key_dim=3)
    x = torch.randn(2, 4, 6)
    mha(x, x)
    weights = _randomize(mha, seed=1)
    value_mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]]).bool()
    query_mask = torch.tensor([[1, 1, 0, 1], [1, 1, 1, 1]]).bool()
    attention_mask = (torch.rand(2, 4, 4) > 0.3) | torch.eye(4, dtype=torch.bool)
    causal = torch.tril(torch.ones(4, 4)).bool()
    combined = query_mask[:, :, None] & value_mask[:, None, :] & attention_mask & causal
    out, scores = mha(x, x, query_mask=query_mask, value_mask=value_mask, attention_mask=attention_mask,
                      use_causal_mask=True, return_attention_scores=True)
    want, want_scores = _mha_reference(weights, x, x, mask=combined)
    torch.testing.assert_close(scores.double(), want_scores, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.double(), want, rtol=1e-5, atol=1e-5)
    fast = mha(x, x, query_mask=query_mask, value_mask=value_mask, attention_mask=attention_mask, use_causal_mask=True)
    torch.testing.assert_close(fast.double(), want, rtol=1e-5, atol=1e-5)
    # causal: the first query step sees only the first value step
    torch.testing.assert_close(scores[:, :, 0, 1:], torch.zeros(2, 2, 3))
    # a fully masked query row attends uniformly (Keras's -1e9), not NaN
    _, uniform = mha(x, x, attention_mask=torch.zeros(2, 4, 4, dtype=torch.bool), return_attention_scores=True)
    torch.testing.assert_close(uniform, torch.full((2, 2, 4, 4), 0.25))


def test_dropout_only_while_training():
    mha = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5)
    x = torch.randn(2, 6, 8)
    a, b = mha(x, x), mha(x, x)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(mha(x, x, training=True), a)


def test_bad_inputs():
    with pytest.raises(ValueError, match="key_dim"):
        MultiHeadAttention(num_heads=2, key_dim=0)
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(num_heads=-1, key_dim=2)
    mha = MultiHeadAttention(num_heads=2, key_dim=2)
    with pytest.raises(ValueError, match="same batch size"):
        mha(torch.randn(2, 3, 4), torch.randn(3, 3, 4))
    with pytest.raises(ValueError, match="use_causal_mask.*3.*5"):
        mha(torch.randn(2, 3, 4), torch.randn(2, 5, 4), use_causal_mask=True)
    with pytest.raises(ValueError, match="value_mask"):
        mha(torch.randn(2, 3, 4), torch.randn(2, 5, 4), value_mask=torch.ones(2, 4, dtype=torch.bool))


def test_config_round_trip_and_rank_4_inputs():
    mha = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, dropout=0.1, output_shape=5, name="mha_cfg")
    config = mha.get_config()
    assert MultiHeadAttention.from_config(config).get_config() == config
    images = torch.randn(2, 3, 4, 6)  # attend over the 12 positions
    out = mha(images, images)
    assert out.shape == (2, 3, 4, 5)
    flat = images.reshape(2, 12, 6)
    torch.testing.assert_close(mha(flat, flat).reshape(2, 3, 4, 5), out)


def test_gradients_reach_every_weight():
    mha = MultiHeadAttention(num_heads=2, key_dim=4)
    x = torch.randn(3, 6, 4, requires_grad=True)
    mha(x, x, use_causal_mask=True).square().sum().backward()
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in mha.trainable_weights)
    assert x.grad.abs().sum() > 0


def test_dot_attention_matches_the_formula():
    q, v, k = torch.randn(2, 3, 4), torch.randn(2, 5, 6), torch.randn(2, 5, 4)
    value_mask = torch.tensor([[1, 1, 0, 0, 1], [1, 1, 1, 1, 1]]).bool()
    query_mask = torch.tensor([[1, 0, 1], [1, 1, 1]]).bool()
    layer = Attention(use_scale=True)
    layer([q, v, k])
    with torch.no_grad():
        layer.scale.fill_(0.5)
    out, weights = layer([q, v, k], mask=[query_mask, value_mask], return_attention_scores=True)
    scores = 0.5 * q @ k.transpose(1, 2) - 1e9 * (~value_mask[:, None, :]).float()
    want_w = torch.softmax(scores, -1)
    torch.testing.assert_close(weights, want_w)
    torch.testing.assert_close(out, (want_w @ v) * query_mask[..., None])
    assert layer.count_params() == 1
    assert layer.compute_mask([q, v], [query_mask, value_mask]) is query_mask
    causal = Attention()([q, q], use_causal_mask=True, return_attention_scores=True)[1]
    torch.testing.assert_close(causal[:, 0, 1:], torch.zeros(2, 2))
    concat = Attention(score_mode="concat")
    _, w = concat([q, v, k], return_attention_scores=True)
    torch.testing.assert_close(w, torch.softmax(torch.tanh(q[:, :, None] + k[:, None]).sum(-1), -1))
    assert concat.count_params() == 1
    with pytest.raises(ValueError, match="score_mode"):
        Attention(score_mode="dots")
    with pytest.raises(ValueError, match=r"\[query, value\]"):
        Attention()(q)


def test_additive_attention_matches_the_formula():
    q, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    layer = AdditiveAttention()
    out, w = layer([q, v], return_attention_scores=True)
    scale = layer.scale.detach()
    want = torch.softmax((scale * torch.tanh(q[:, :, None] + v[:, None])).sum(-1), -1)
    torch.testing.assert_close(w, want)
    torch.testing.assert_close(out, want @ v)
    config = layer.get_config()
    assert AdditiveAttention.from_config(config).get_config() == config
    assert layer.count_params() == 4


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_cuda_sdpa_matches_the_reference(dtype):
    mha = MultiHeadAttention(num_heads=2, key_dim=8)
    x = torch.randn(2, 16, 8)
    value_mask = torch.ones(2, 16, dtype=torch.bool)
    value_mask[0, 10:] = False
    want = mha(x, x, value_mask=value_mask, use_causal_mask=True)
    mha.to("cuda", dtype)
    got = mha(x.to("cuda", dtype), x.to("cuda", dtype), value_mask=value_mask.cuda(), use_causal_mask=True)
    tol = 1e-5 if dtype == torch.float32 else 3e-2
    torch.testing.assert_close(got.float().cpu(), want, rtol=tol, atol=tol)


def test_functional_api_and_keyword_calls():
    inputs = easynn.Input(shape=(5, 8))
    mha = MultiHeadAttention(num_heads=2, key_dim=4, name="mha_fn")
    cross = MultiHeadAttention(num_heads=1, key_dim=3, name="mha_kw")
    hidden = mha(inputs, inputs, use_causal_mask=True)
    outputs = cross(query=hidden, value=inputs, key=hidden)
    model = easynn.Model(inputs, outputs)
    x = torch.randn(2, 5, 8)
    h = mha(x, x, use_causal_mask=True)
    torch.testing.assert_close(model(x), cross(query=h, value=x, key=h))
    assert model.count_params() == mha.count_params() + cross.count_params()
    with pytest.raises(ValueError, match="query"):
        mha()
