"""Masks flowing between layers by themselves (``_keras_mask``), as in Keras 3 and keras-io's
"Understanding masking & padding" guide: Layer.__call__, Sequential, the functional graph,
pooling, merges, attention, plus ``Model.reset_states``."""

import pytest
import torch

import easynn
from easynn.layers import (
    LSTM,
    Add,
    Concatenate,
    Dense,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    Masking,
    MultiHeadAttention,
)
from easynn.layers.masking import masked_max, masked_mean

PADDED = torch.tensor([[3, 5, 2, 0, 0], [1, 4, 6, 7, 8]])
PADDED_MASK = [[True, True, True, False, False], [True] * 5]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_sequential_embedding_lstm_equals_the_explicit_mask():
    model = easynn.Sequential([Embedding(10, 4, mask_zero=True), LSTM(3)])
    embed, lstm = model.layers
    out = model(PADDED)
    torch.testing.assert_close(out, lstm(embed(PADDED) * 1.0, mask=embed.compute_mask(PADDED)))
    torch.testing.assert_close(out[:1], lstm(embed(PADDED[:1, :3]) * 1.0))  # padding ignored
    assert not torch.allclose(out[:1], lstm(embed(PADDED) * 1.0)[:1])  # unmasked differs
    assert getattr(out, "_keras_mask", None) is None  # LSTM without return_sequences: no mask


def test_keras_mask_values_printed_by_the_guide():
    raw = [[711, 632, 71, 0, 0, 0], [73, 8, 3215, 55, 927, 0], [83, 91, 1, 645, 1253, 927]]
    padded = torch.tensor(raw)
    want = (padded != 0).tolist()
    assert Embedding(5000, 16, mask_zero=True)(padded)._keras_mask.tolist() == want
    tiled = padded[..., None].repeat(1, 1, 10).float()
    assert Masking()(tiled)._keras_mask.tolist() == want

    class TemporalSplit(Layer):  # the guide's: compute_mask overridden, so masks propagate
        def call(self, inputs):
            return list(torch.chunk(inputs, 2, dim=1))

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else list(torch.chunk(mask, 2, dim=1))

    first, second = TemporalSplit()(Masking()(tiled))
    assert first._keras_mask.tolist() == [[True] * 3] * 3
    assert second._keras_mask.tolist() == [[False] * 3, [True, True, False], [True] * 3]


def test_opt_in_consumer_and_non_supporting_layers():
    class Passive(Layer):  # Keras 3's default: no masking support, the mask stops here
        def call(self, inputs):
            return inputs * 2.0

    class OptIn(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return torch.relu(inputs)

    seen = {}

    class Consumer(Layer):  # declares `mask`: receives it, but does not pass it on
        def call(self, inputs, mask=None):
            seen["mask"] = mask
            return inputs

    x = Embedding(10, 4, mask_zero=True)(PADDED)
    assert not Passive().supports_masking and OptIn().supports_masking
    with pytest.warns(UserWarning, match="does not support masking"):
        assert getattr(Passive()(x), "_keras_mask", None) is None
    y = OptIn()(x)
    assert y._keras_mask.tolist() == PADDED_MASK
    Consumer()(y * 1.0)
    assert seen["mask"] is None  # a plain tensor carries no mask
    with pytest.warns(UserWarning, match="does not support masking"):
        Consumer()(y)
    assert seen["mask"].tolist() == PADDED_MASK
    explicit = torch.zeros(2, 5, dtype=torch.bool)
    with pytest.warns(UserWarning, match="does not support masking"):
        Consumer()(y, mask=explicit)
    assert seen["mask"] is explicit  # an explicit mask wins
    assert Dense(2)(y)._keras_mask.tolist() == PADDED_MASK  # built-in per-step layers pass it on
    with pytest.warns(UserWarning, match="does not support masking"):
        assert getattr(Flatten()(y), "_keras_mask", None) is None  # Flatten does not (as Keras)


def test_global_pooling_1d_reads_the_carried_mask():
    x = Embedding(10, 3, mask_zero=True)(PADDED)
    mask = torch.tensor(PADDED_MASK)
    avg = GlobalAveragePooling1D()(x)
    torch.testing.assert_close(avg, masked_mean(x, mask))
    torch.testing.assert_close(avg[0], x[0, :3].mean(dim=0))
    assert not torch.allclose(avg[0], x[0].mean(dim=0))
    torch.testing.assert_close(GlobalMaxPooling1D()(x), masked_max(x, mask))
    torch.testing.assert_close(GlobalAveragePooling1D(keepdims=True)(x), masked_mean(x, mask)[:, None])
    assert getattr(avg, "_keras_mask", None) is None  # no time axis left, no mask
    torch.testing.assert_close(GlobalAveragePooling1D()(x * 1.0), x.mean(dim=1))  # unmasked


def test_merges_combine_masks_as_keras():
    embed = Embedding(10, 2, mask_zero=True)
    a = embed(PADDED)
    b = embed(torch.tensor([[3, 0, 2, 4, 0], [1, 4, 0, 7, 8]]))
    plain = torch.ones(2, 5, 3)
    # Concatenate on features: a step is kept when any input keeps it (unmasked inputs keep all).
    assert Concatenate()([a, b])._keras_mask.tolist() == [[True, True, True, True, False], [True] * 5]
    assert Concatenate()([a, plain])._keras_mask.tolist() == [[True] * 5] * 2
    # Concatenate on time: the masks are joined.
    assert Concatenate(axis=1)([a, b])._keras_mask.tolist() == [
        PADDED_MASK[0] + [True, False, True, True, False], PADDED_MASK[1] + [True, True, False, True, True]]
    # Add: a step is kept when every masked input keeps it.
    assert Add()([a, b])._keras_mask.tolist() == [[True, False, True, False, False], [True, True, False, True, True]]
    assert Add()([a, torch.ones(2, 5, 2)])._keras_mask.tolist() == PADDED_MASK
    assert getattr(Add()([plain, plain]), "_keras_mask", None) is None


def test_functional_model_threads_masks():
    inputs = easynn.Input(shape=(None,), dtype="int64")
    h = Embedding(10, 4, mask_zero=True)(inputs)
    assert h._keras_mask is not None and h._keras_mask.shape == (None, None)
    h = Dense(4, activation="tanh")(h)
    assert h._keras_mask is not None  # known while the graph is written
    seq = LSTM(3, return_sequences=True)(h)
    outputs = GlobalAveragePooling1D()(seq)
    assert outputs._keras_mask is None
    model = easynn.Model(inputs, outputs)
    embed, dense, lstm, pool = model.layers[1:]
    mask = embed.compute_mask(PADDED)
    hand = masked_mean(lstm(dense(embed(PADDED) * 1.0), mask=mask), mask)
    result = model(PADDED)
    torch.testing.assert_close(result, hand)
    torch.testing.assert_close(result[:1], model(PADDED[:1, :3]))
    assert getattr(result, "_keras_mask", None) is None


def test_multi_head_attention_takes_the_masks_of_its_inputs():
    embed, mha = Embedding(10, 8, mask_zero=True), MultiHeadAttention(num_heads=2, key_dim=4)
    inputs = easynn.Input(shape=(None,), dtype="int64")
    h = embed(inputs)
    model = easynn.Model(inputs, mha(h, h))  # builds both layers
    x = embed(PADDED)
    mask = embed.compute_mask(PADDED)
    out = mha(x, x)
    torch.testing.assert_close(out, mha(x * 1.0, x * 1.0, query_mask=mask, value_mask=mask))
    assert not torch.allclose(out, mha(x * 1.0, x * 1.0))
    assert out._keras_mask.tolist() == PADDED_MASK  # the query's mask
    torch.testing.assert_close(model(PADDED), out)


def test_plain_models_never_carry_a_mask():
    x = torch.randn(4, 5, 3)
    seq = easynn.Sequential([easynn.Input(shape=(5, 3)), Dense(4), LSTM(2, return_sequences=True), Dense(1)])
    inputs = easynn.Input(shape=(5, 3))
    func = easynn.Model(inputs, Dense(2)(Add()([Dense(3)(inputs), inputs])))
    assert inputs._keras_mask is None
    for model in (seq, func):
        assert getattr(model(x), "_keras_mask", None) is None


def test_model_reset_states_resets_stateful_layers():
    inputs = easynn.Input(shape=(3, 2))
    func = easynn.Model(inputs, Dense(1)(LSTM(4, stateful=True)(inputs)))
    seq = easynn.Sequential([LSTM(4, stateful=True), Dense(1)])
    x = torch.randn(2, 3, 2)
    for model in (seq, func):
        first = model(x)
        assert not torch.allclose(model(x), first)  # the states were carried over
        model.reset_states()
        torch.testing.assert_close(model(x), first)


def test_losses_leave_out_masked_timesteps():
    model = easynn.Sequential([Embedding(10, 4, mask_zero=True), LSTM(3, return_sequences=True),
                               Dense(3, activation="softmax")])
    labels = torch.tensor([[0, 2, 1, 1, 1], [2, 1, 0, 0, 2]])
    y_pred = model(PADDED)
    mask = torch.tensor(PADDED_MASK)
    assert y_pred._keras_mask.tolist() == PADDED_MASK
    nll = -y_pred.detach().gather(-1, labels[..., None]).squeeze(-1).log()
    sce = easynn.losses.SparseCategoricalCrossentropy()
    torch.testing.assert_close(sce(labels, y_pred), nll[mask].mean())
    assert not torch.allclose(sce(labels, y_pred * 1.0), nll[mask].mean())  # no mask: every step
    weights = torch.tensor([1.0, 3.0])
    by_hand = (nll * weights[:, None] * mask).sum() / mask.sum()
    torch.testing.assert_close(sce(labels, y_pred, sample_weight=weights), by_hand)
    target = torch.rand(2, 5, 3)
    squared = ((target - y_pred.detach()) ** 2).mean(dim=-1)
    torch.testing.assert_close(easynn.losses.MeanSquaredError()(target, y_pred), squared[mask].mean())
    torch.testing.assert_close(easynn.losses.get("mse")(target, y_pred), squared[mask].mean())
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    evaluated = model.evaluate(PADDED, labels, batch_size=2, verbose=0)
    assert abs(evaluated - float(nll[mask].mean())) < 1e-5


def test_maximum_minimum_multiply_skip_masked_entries_as_keras():
    from easynn.layers import Maximum, Minimum, Multiply

    a = torch.tensor([[[1.0], [5.0], [2.0]]])
    b = torch.tensor([[[4.0], [3.0], [-7.0]]])
    a._keras_mask = torch.tensor([[True, True, False]])
    b._keras_mask = torch.tensor([[False, True, False]])
    top = Maximum()([a, b])
    assert top.flatten().tolist() == [1.0, 5.0, 2.0]  # a masked entry takes the other's value
    assert top._keras_mask.tolist() == [[True, True, False]]  # OR of the masks
    assert Minimum()([a, b]).flatten().tolist() == [1.0, 3.0, 2.0]  # all masked: the first input
    product = Multiply()([a, b])
    assert product.flatten().tolist() == [1.0, 15.0, 0.0]  # masked = 1; all-masked steps give 0
    assert product._keras_mask.tolist() == [[True, True, False]]
    plain = torch.tensor([[[2.0], [2.0], [2.0]]])
    half = Maximum()([a, plain])
    assert half.flatten().tolist() == [2.0, 5.0, 2.0]
    assert half._keras_mask.tolist() == [[True, True, False]]  # one unmasked input: the AND rule
