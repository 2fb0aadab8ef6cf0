"""Masks: Embedding(mask_zero), Masking, the masked reductions, and masks consumed by RNNs."""

import pytest
import torch

import easynn
from easynn.layers import LSTM, Dense, Embedding, GlobalAveragePooling1D, Masking
from easynn.layers.masking import call_with_mask, masked_max, masked_mean, masked_sum


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_embedding_mask_zero():
    layer = Embedding(10, 4, mask_zero=True)
    ids = torch.tensor([[3, 5, 0, 0], [1, 0, 2, 0]])
    assert layer.supports_masking
    assert layer.compute_mask(ids).tolist() == [[True, True, False, False], [True, False, True, False]]
    assert layer(ids).shape == (2, 4, 4)
    assert Embedding(10, 4).compute_mask(ids) is None
    config = layer.get_config()
    assert config["mask_zero"] is True and Embedding.from_config(config).mask_zero


def test_masking_layer():
    x = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]], [[0.0, 0.0], [5.0, 5.0], [-1.0, -1.0]]])
    layer = Masking()
    assert layer.compute_mask(x).tolist() == [[True, False, True], [False, True, True]]
    torch.testing.assert_close(layer(x), x)  # the masked steps were zeros already
    custom = Masking(mask_value=-1.0)
    assert custom.compute_mask(x).tolist() == [[True, True, True], [True, True, False]]
    assert custom(x)[1, 2].abs().sum() == 0
    assert Masking.from_config(custom.get_config()).mask_value == -1.0
    with pytest.raises(ValueError, match="mask_value"):
        Masking(mask_value="pad")


def test_masked_reductions_by_hand():
    x = torch.tensor([[[1.0], [2.0], [6.0]], [[4.0], [-2.0], [9.0]]])
    mask = torch.tensor([[True, True, False], [False, True, False]])
    assert masked_sum(x, mask).tolist() == [[3.0], [-2.0]]
    assert masked_mean(x, mask).tolist() == [[1.5], [-2.0]]
    assert masked_max(x, mask).tolist() == [[2.0], [-2.0]]
    torch.testing.assert_close(masked_mean(x, None), torch.tensor([[3.0], [11 / 3]]))
    empty = torch.zeros(2, 3, dtype=torch.bool)
    assert masked_mean(x, empty).tolist() == [[0.0], [0.0]]
    with pytest.raises(ValueError, match=r"mask of shape"):
        masked_mean(x, torch.ones(2, 4, dtype=torch.bool))


def test_embedding_mask_into_lstm_skips_padding():
    embed, lstm = Embedding(10, 4, mask_zero=True), LSTM(3)
    padded = torch.tensor([[3, 5, 2, 0, 0], [1, 4, 6, 7, 8]])
    out = lstm(embed(padded), mask=embed.compute_mask(padded))
    alone = lstm(embed(padded[:1, :3]))
    torch.testing.assert_close(out[:1], alone)  # the padding changed nothing
    assert lstm(embed(padded)).allclose(out)  # the embedding's output carries its mask along
    unmasked = lstm(embed(padded) * 1.0)  # a new tensor: no `_keras_mask`, so no mask
    assert not torch.allclose(out[:1], unmasked[:1])


def test_masked_lstm_classifier_fits():
    torch.manual_seed(0)
    lengths = torch.randint(1, 8, (96,))
    ids = torch.randint(1, 10, (96, 8))
    ids[torch.arange(8)[None, :] >= lengths[:, None]] = 0
    y = (lengths > 4).float()[:, None]  # the label depends on the real length only

    class Classifier(easynn.Model):
        def __init__(self):
            super().__init__()
            self.embed = Embedding(10, 8, mask_zero=True)
            self.lstm = LSTM(8)
            self.out = Dense(1, activation="sigmoid")

        def call(self, inputs):
            return self.out(self.lstm(self.embed(inputs), mask=self.embed.compute_mask(inputs)))

    model = Classifier()
    model.compile(optimizer=easynn.optimizers.Adam(0.03), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(ids, y, epochs=20, batch_size=96, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_call_with_mask_threads_masks_as_keras():
    from easynn.layers import Bidirectional, TimeDistributed

    ids = torch.tensor([[3, 5, 2, 0, 0], [1, 4, 6, 7, 8]])
    stack = [Embedding(10, 4, mask_zero=True), Bidirectional(LSTM(3, return_sequences=True)),
             TimeDistributed(Dense(2)), LSTM(2)]
    x, mask = ids, None
    masks = []
    for layer in stack:
        x, mask = call_with_mask(layer, x, mask)
        masks.append(mask)
    assert masks[0].tolist() == [[True, True, True, False, False], [True] * 5]
    assert masks[1] is masks[0] and masks[2] is masks[0] and masks[3] is None
    embed, bi, td, last = stack
    m = embed.compute_mask(ids)
    torch.testing.assert_close(x, last(td(bi(embed(ids), mask=m)), mask=m))
    assert call_with_mask(torch.nn.Identity(), x, m)[1] is None  # plain torch modules drop masks


def test_sequential_propagates_the_embedding_mask():
    model = easynn.Sequential([Embedding(10, 4, mask_zero=True), LSTM(3)])
    padded = torch.tensor([[3, 5, 2, 0, 0], [1, 4, 6, 7, 8]])
    embed, lstm = model.layers
    want = lstm(embed(padded), mask=embed.compute_mask(padded))
    torch.testing.assert_close(model(padded), want)


def test_global_average_pooling_takes_the_mask():
    x = torch.randn(2, 4, 3)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0]]).bool()
    torch.testing.assert_close(GlobalAveragePooling1D()(x, mask=mask), masked_mean(x, mask))
