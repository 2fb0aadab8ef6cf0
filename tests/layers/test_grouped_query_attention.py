"""GroupQueryAttention against hand-written attention (NumPy), MultiHeadAttention and Keras's numbers."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import Embedding, GroupedQueryAttention, GroupQueryAttention, MultiHeadAttention


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomize(layer, seed=0):
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()])
    return layer.get_weights()


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _gqa_reference(weights, query, value, key=None, mask=None, use_bias=True, pairing=lambda h, r, hkv: h // r):
    """Grouped-query attention in float64 NumPy, head by head: query head h reads kv head h // r."""
    key = value if key is None else key
    query, value, key = (np.asarray(t, dtype=np.float64) for t in (query, value, key))
    w = [np.asarray(a, dtype=np.float64) for a in weights]
    if use_bias:
        wq, bq, wk, bk, wv, bv, wo, bo = w
    else:
        (wq, wk, wv, wo), bq, bk, bv, bo = w, 0.0, 0.0, 0.0, 0.0
    hq, hkv, head_dim = wq.shape[1], wk.shape[1], wq.shape[2]
    r = hq // hkv
    out, all_scores = 0.0, []
    for h in range(hq):
        g = pairing(h, r, hkv)
        q = query @ wq[:, h] + (bq[h] if use_bias else 0.0)
        k = key @ wk[:, g] + (bk[g] if use_bias else 0.0)
        v = value @ wv[:, g] + (bv[g] if use_bias else 0.0)
        logits = q @ k.transpose(0, 2, 1) / np.sqrt(head_dim)
        if mask is not None:
            logits = np.where(mask, logits, -1e9)
        scores = _softmax(logits)
        all_scores.append(scores)
        out = out + (scores @ v) @ wo[h]
    return out + bo, np.stack(all_scores, 1)


def _close(got, want, tol=1e-5):
    np.testing.assert_allclose(got.detach().double().numpy(), want, rtol=tol, atol=tol)


@pytest.mark.parametrize("heads,kv_heads", [(4, 2), (4, 1), (6, 3)])
@pytest.mark.parametrize("use_bias", [True, False])
def test_each_kv_head_serves_consecutive_query_heads(heads, kv_heads, use_bias):
    gqa = GroupQueryAttention(head_dim=3, num_query_heads=heads, num_key_value_heads=kv_heads, use_bias=use_bias)
    q, v, k = torch.randn(2, 5, 6), torch.randn(2, 7, 4), torch.randn(2, 7, 3)
    gqa(q, v, k)
    weights = _randomize(gqa)
    want, want_scores = _gqa_reference(weights, q, v, k, use_bias=use_bias)
    out, scores = gqa(q, v, k, return_attention_scores=True)
    _close(out, want)
    _close(scores, want_scores)
    _close(gqa(q, v, k), want)  # the scaled_dot_product_attention path (torch's own grouping)
    if 1 < kv_heads < heads:  # the other pairing (kv head h % Hkv) is a different layer
        other = _gqa_reference(weights, q, v, k, use_bias=use_bias, pairing=lambda h, r, hkv: h % hkv)[0]
        assert not np.allclose(other, want, atol=1e-3)


def test_weight_shapes_and_parameter_count():
    gqa = GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    q, v, k = torch.randn(2, 4, 6), torch.randn(2, 9, 8), torch.randn(2, 9, 10)
    assert gqa(q, v, k).shape == (2, 4, 6)
    assert [w.shape for w in gqa.get_weights()] == [
        (6, 4, 2), (4, 2), (10, 2, 2), (2, 2), (8, 2, 2), (2, 2), (4, 2, 6), (6,)]
    assert gqa.count_params() == (6 * 8 + 8) + (10 * 4 + 4) + (8 * 4 + 4) + (8 * 6 + 6)
    assert len(gqa.trainable_weights) == 8  # Keras: expected_num_trainable_weights=8
    no_bias = GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=2, use_bias=False, dropout=0.5)
    no_bias(torch.randn(2, 8, 16), torch.randn(2, 4, 16))
    assert len(no_bias.trainable_weights) == 4


def test_equals_multi_head_attention_when_kv_heads_equal_query_heads():
    gqa = GroupQueryAttention(head_dim=4, num_query_heads=3, num_key_value_heads=3)
    mha = MultiHeadAttention(num_heads=3, key_dim=4)
    q, v = torch.randn(2, 5, 6), torch.randn(2, 4, 6)
    gqa(q, v)
    mha(q, v)
    mha.set_weights(_randomize(gqa, seed=3))  # the same Keras layout, weight for weight
    mask = torch.rand(2, 5, 4) > 0.3
    out, scores = gqa(q, v, attention_mask=mask, return_attention_scores=True)
    want, want_scores = mha(q, v, attention_mask=mask, return_attention_scores=True)
    torch.testing.assert_close(out, want, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(scores, want_scores, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(gqa(q, v, attention_mask=mask), want, rtol=1e-5, atol=1e-5)


def test_keras_correctness_numbers():
    # keras/src/layers/attention/grouped_query_attention_test.py::test_correctness: identity kernels.
    head_dim = heads = 8
    query = key = np.identity(head_dim, dtype=np.float32)[None]
    value = (np.arange(head_dim * head_dim, dtype=np.float32).reshape(1, head_dim, head_dim)) / 100.0
    layer = GroupQueryAttention(head_dim=head_dim, num_query_heads=heads, num_key_value_heads=heads,
                                flash_attention=False)
    layer(query, value, key)
    kernel = np.repeat(np.identity(head_dim)[:, None, :], heads, axis=1)
    layer.set_weights([kernel, np.zeros((heads, head_dim))] * 3 + [kernel, np.zeros(head_dim)])
    out, scores = layer(query=query, value=value, key=key, return_attention_scores=True)
    want = np.array([2.406, 2.440, 2.473, 2.504, 2.535, 2.568, 2.602, 2.633])
    np.testing.assert_allclose(out[0].detach().numpy(), np.tile(want[:, None], (1, head_dim)), atol=1e-2)
    want_scores = np.full((head_dim, head_dim), 0.1187) + np.eye(head_dim) * (0.1691 - 0.1187)
    np.testing.assert_allclose(scores[0].detach().numpy(), np.tile(want_scores, (heads, 1, 1)), atol=1e-3)


def test_causal_mask_and_combined_masks():
    gqa = GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    x = torch.randn(2, 5, 6)
    gqa(x, x)
    weights = _randomize(gqa, seed=1)
    out, scores = gqa(x, x, use_causal_mask=True, return_attention_scores=True)
    causal = np.tril(np.ones((5, 5), dtype=bool))[None]
    want, want_scores = _gqa_reference(weights, x, x, mask=causal)
    _close(out, want)
    _close(scores, want_scores)
    assert torch.all(scores[..., 0, 1:] == 0) and torch.all(scores[..., 2, 3:] == 0)
    _close(gqa(x, x, use_causal_mask=True), want)
    # value/query masks and an explicit attention mask, all ANDed (Keras's rule)
    value_mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]).bool()
    query_mask = torch.tensor([[1, 1, 0, 1, 1], [1, 1, 1, 1, 1]]).bool()
    extra = (torch.rand(5, 5) > 0.4) | torch.eye(5, dtype=torch.bool)
    combined = (query_mask[:, :, None] & value_mask[:, None, :] & extra[None]).numpy() & causal
    got = gqa(x, x, query_mask=query_mask, value_mask=value_mask, attention_mask=extra, use_causal_mask=True)
    _close(got, _gqa_reference(weights, x, x, mask=combined)[0])
    # causal with T != S: row i sees columns j <= i (Keras's cumsum rule)
    _, rect = gqa(torch.randn(2, 3, 6), torch.randn(2, 5, 6), use_causal_mask=True, return_attention_scores=True)
    assert torch.all(rect[..., 0, 1:] == 0) and torch.all(rect[..., 2, 3:] == 0) and torch.all(rect[..., 2, :3] > 0)


def test_keras_masks_of_embeddings_are_used_and_the_query_mask_propagates():
    layer = GroupQueryAttention(num_query_heads=2, num_key_value_heads=1, head_dim=2)
    query = torch.tensor([[1, 2, 3, 0, 0], [3, 3, 1, 1, 2], [1, 0, 0, 0, 0]])
    value = torch.tensor([[5, 4, 0], [3, 0, 0], [2, 1, 1]])
    masked_query = Embedding(4, 8, mask_zero=True)(query)
    masked_value = Embedding(6, 8, mask_zero=True)(value)
    out = layer(query=masked_query, value=masked_value, use_causal_mask=True)
    assert torch.equal(out._keras_mask, query != 0)
    mask = np.array([[[1, 1, 0]] * 3 + [[0, 0, 0]] * 2] + [[[1, 0, 0]] * 5]
                    + [[[1, 1, 1]] + [[0, 0, 0]] * 4]).astype(bool)
    mask &= np.array([[[1, 0, 0], [1, 1, 0]] + [[1, 1, 1]] * 3]).astype(bool)
    plain_q, plain_v = masked_query.detach().clone(), masked_value.detach().clone()
    torch.testing.assert_close(out, layer(query=plain_q, value=plain_v, attention_mask=torch.as_tensor(mask)))
    assert not torch.allclose(out, layer(query=plain_q, value=plain_v))


def test_dropout_only_while_training():
    gqa = GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2, dropout=0.5)
    x = torch.randn(2, 6, 8)
    torch.testing.assert_close(gqa(x, x), gqa(x, x))
    assert not torch.allclose(gqa(x, x, training=True), gqa(x, x))


def test_bad_arguments_raise_before_any_weight():
    with pytest.raises(ValueError, match="`num_query_heads` must be divisible by `num_key_value_heads`.*=4.*=3"):
        GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=3)
    with pytest.raises(ValueError, match="head_dim"):
        GroupQueryAttention(head_dim=0, num_query_heads=2, num_key_value_heads=1)
    with pytest.raises(ValueError, match="num_key_value_heads"):
        GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=0)
    with pytest.raises(ValueError, match="dropout"):
        GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1, dropout=1.5)
    with pytest.raises(ValueError, match="Dropout is not supported when flash attention"):
        GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=2, flash_attention=True, dropout=0.1)
    with pytest.raises(TypeError, match="flash_attention"):
        GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=2, flash_attention="yes")
    flash = GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=2, flash_attention=True)
    x = torch.randn(2, 4, 8)
    with pytest.raises(ValueError, match="Returning attention scores is not supported"):
        flash(x, x, return_attention_scores=True)
    assert flash.weights == []
    gqa = GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1)
    with pytest.raises(ValueError, match="rank 3"):
        gqa(torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="same batch size"):
        gqa(torch.randn(2, 3, 4), torch.randn(3, 3, 4))
    with pytest.raises(ValueError, match="value_mask"):
        gqa(torch.randn(2, 3, 4), torch.randn(2, 5, 4), value_mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="attention_mask"):
        gqa(torch.randn(2, 3, 4), torch.randn(2, 5, 4), attention_mask=torch.ones(2, 5, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="query"):
        gqa()


@pytest.mark.parametrize("query_dims,value_dims,key_dims,heads,kv_heads", [
    ((4, 8), (2, 8), None, 2, 2), ((4, 8), (2, 8), (2, 3), 4, 2), ((4, 8), (2, 8), (2, 3), 4, 1)])
def test_compute_output_shape(query_dims, value_dims, key_dims, heads, kv_heads):
    layer = GroupQueryAttention(num_query_heads=heads, num_key_value_heads=kv_heads, head_dim=2)
    q, v = np.ones((7, *query_dims), np.float32), np.ones((7, *value_dims), np.float32)
    k = np.ones((7, *key_dims), np.float32) if key_dims else None
    out = layer(query=q, value=v, key=k)
    assert tuple(out.shape) == layer.compute_output_shape(q.shape, v.shape, None if k is None else k.shape)
    with pytest.raises(ValueError, match="must be equal"):
        layer.compute_output_shape((2, 4, 8), (2, 2, 7))
    with pytest.raises(ValueError, match="must be equal"):
        layer.compute_output_shape((2, 4, 8), (2, 2, 8), (2, 1, 7))


def test_config_round_trip():
    layer = GroupQueryAttention(head_dim=3, num_query_heads=6, num_key_value_heads=2, dropout=0.1, use_bias=False,
                                kernel_initializer="he_normal", kernel_regularizer="l2", name="gqa_cfg")
    config = layer.get_config()
    assert {k: config[k] for k in ("head_dim", "num_query_heads", "num_key_value_heads", "dropout", "use_bias")} == {
        "head_dim": 3, "num_query_heads": 6, "num_key_value_heads": 2, "dropout": 0.1, "use_bias": False}
    clone = GroupQueryAttention.from_config(config)
    assert clone.get_config() == config
    assert type(clone) is GroupedQueryAttention and clone.name == "gqa_cfg"
    x = torch.randn(2, 4, 5)
    clone(x, x)
    assert clone.count_params() == (5 * 18) + 2 * (5 * 6) + (18 * 5)
    assert GroupQueryAttention(head_dim=1, num_query_heads=1, num_key_value_heads=1).name.startswith(
        "grouped_query_attention")


def test_functional_model_trains_and_saves(tmp_path):
    torch.manual_seed(1)
    inputs = easynn.Input(shape=(6, 8))
    context = easynn.Input(shape=(4, 8))
    hidden = GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2, name="gqa_self")(
        inputs, inputs, use_causal_mask=True)
    hidden = GroupQueryAttention(head_dim=4, num_query_heads=2, num_key_value_heads=1, name="gqa_cross")(
        query=hidden, value=context)
    outputs = easynn.layers.Dense(1)(easynn.layers.GlobalAveragePooling1D()(hidden))
    model = easynn.Model([inputs, context], outputs)
    x, c = torch.randn(64, 6, 8), torch.randn(64, 4, 8)
    y = x[:, :, :2].sum(dim=(1, 2))[:, None] * 0.3 + c[:, 0, :1]
    model.compile(optimizer=easynn.optimizers.Adam(1e-2), loss="mse")
    history = model.fit([x, c], y, epochs=12, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0], losses
    self_attn = model.get_layer("gqa_self")
    h = self_attn(x[:3], x[:3], use_causal_mask=True)
    eager = model.get_layer("gqa_cross")(h, c[:3])
    assert eager.shape == (3, 6, 8)
    path = tmp_path / "gqa.keras"
    model.save(path)
    restored = easynn.models.load_model(path)
    assert type(restored.get_layer("gqa_self")) is GroupedQueryAttention
    torch.testing.assert_close(restored.predict([x, c], verbose=0), model.predict([x, c], verbose=0))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_cuda_matches_cpu(dtype):
    gqa = GroupQueryAttention(head_dim=8, num_query_heads=4, num_key_value_heads=2)
    x = torch.randn(2, 16, 8)
    value_mask = torch.ones(2, 16, dtype=torch.bool)
    value_mask[0, 10:] = False
    want = gqa(x, x, value_mask=value_mask, use_causal_mask=True)
    gqa.to("cuda", dtype)
    got = gqa(x.to("cuda", dtype), x.to("cuda", dtype), value_mask=value_mask.cuda(), use_causal_mask=True)
    tol = 1e-5 if dtype == torch.float32 else 3e-2
    torch.testing.assert_close(got.float().cpu(), want, rtol=tol, atol=tol)
