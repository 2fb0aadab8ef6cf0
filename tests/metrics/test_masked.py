"""Masked metrics: a prediction that carries ``_keras_mask`` (Embedding(mask_zero=True)/Masking
through the model) leaves its masked timesteps out of every mean metric, as Keras 3's
MeanMetricWrapper does; the expected values are hand counts over the unmasked timesteps."""

import pytest
import torch

import easynn
from easynn import layers, metrics


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _masked(y_pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    y_pred._keras_mask = mask
    return y_pred


def _padded_batch(batch=4, steps=5, classes=3):
    y_true = torch.randint(0, classes, (batch, steps))
    y_pred = torch.rand(batch, steps, classes)
    lengths = torch.tensor([5, 3, 1, 4])[:batch]
    mask = torch.arange(steps) < lengths[:, None]
    return y_true, y_pred, mask


def test_sparse_categorical_accuracy_counts_only_unmasked_timesteps_over_batches():
    m = metrics.SparseCategoricalAccuracy()
    hits = total = 0
    for _ in range(2):  # the state accumulates over batches with different masks
        y_true, y_pred, mask = _padded_batch()
        mask = mask[torch.randperm(4)]
        m.update_state(y_true, _masked(y_pred, mask))
        correct = y_pred.argmax(-1) == y_true
        hits += int((correct & mask).sum())
        total += int(mask.sum())
    assert total < 2 * 4 * 5  # some timesteps were masked
    assert float(m.result()) == pytest.approx(hits / total)


def test_mask_and_sample_weight_multiply():
    y_true, y_pred, mask = _padded_batch()
    w = torch.tensor([1.0, 2.0, 0.5, 3.0])
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(y_true, _masked(y_pred, mask), sample_weight=w)
    hits = (y_pred.argmax(-1) == y_true).float()
    weights = w[:, None] * mask.float()
    assert float(m.result()) == pytest.approx(float((hits * weights).sum() / weights.sum()))
    # Temporal (batch, timesteps) weights combine the same way.
    tw = torch.rand(4, 5)
    m.reset_state()
    m.update_state(y_true, _masked(y_pred, mask), sample_weight=tw)
    weights = tw * mask.float()
    assert float(m.result()) == pytest.approx(float((hits * weights).sum() / weights.sum()))


def test_mean_error_metrics_average_over_unmasked_timesteps():
    y_true = torch.randn(3, 4, 2)
    y_pred = torch.randn(3, 4, 2)
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    per_step = ((y_true - y_pred) ** 2).mean(-1)
    expected = float(per_step[mask].mean())
    m = metrics.MeanSquaredError()
    m.update_state(y_true, _masked(y_pred.clone(), mask))
    assert float(m.result()) == pytest.approx(expected, rel=1e-6)
    mae = metrics.MeanAbsoluteError()
    mae.update_state(y_true, _masked(y_pred.clone(), mask))
    assert float(mae.result()) == pytest.approx(float((y_true - y_pred).abs().mean(-1)[mask].mean()), rel=1e-6)
    unmasked = metrics.MeanSquaredError()
    unmasked.update_state(y_true, y_pred)
    assert float(unmasked.result()) != pytest.approx(expected)  # the mask changed the value


def test_binary_and_elementwise_accuracy_with_a_trailing_axis_of_one():
    y_true = torch.tensor([[[1.0], [0.0], [1.0]], [[0.0], [0.0], [1.0]]])
    y_pred = torch.tensor([[[0.9], [0.8], [0.2]], [[0.1], [0.7], [0.6]]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    m = metrics.BinaryAccuracy()
    m.update_state(y_true, _masked(y_pred.clone(), mask))
    # Unmasked: (1, hit), (0 vs 0.8, miss), (0 vs 0.1, hit) -> 2 / 3.
    assert float(m.result()) == pytest.approx(2 / 3)
    a = metrics.Accuracy()
    a.update_state(torch.tensor([[[1], [2], [3]]]), _masked(torch.tensor([[[1], [0], [0]]]), mask[:1]))
    assert float(a.result()) == pytest.approx(1 / 2)


def test_accuracy_resolved_by_name_and_custom_function_metrics_use_the_mask():
    y_true, y_pred, mask = _padded_batch()
    expected = float((y_pred.argmax(-1) == y_true)[mask].float().mean())
    by_name = metrics.get("accuracy")
    by_name.update_state(y_true, _masked(y_pred, mask))
    assert float(by_name.result()) == pytest.approx(expected)
    custom = metrics.MeanMetricWrapper(lambda t, p: (p.argmax(-1) == t).float(), name="hits")
    custom.update_state(y_true, _masked(y_pred, mask))
    assert float(custom.result()) == pytest.approx(expected)


def test_a_mask_that_does_not_index_the_values_is_left_out():
    # A per-sample function (one value per sequence) with a (batch, timesteps) mask: as the
    # losses, the mask is not applied (it does not index the values).
    y_true, y_pred, mask = _padded_batch()
    per_sequence = metrics.MeanMetricWrapper(lambda t, p: (p.argmax(-1) == t).float().mean(-1), name="seq")
    per_sequence.update_state(y_true, _masked(y_pred, mask))
    assert float(per_sequence.result()) == pytest.approx(float((y_pred.argmax(-1) == y_true).float().mean()))


def test_an_all_masked_batch_adds_nothing():
    y_true, y_pred, mask = _padded_batch()
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(y_true, y_pred)  # unmasked batch: 20 timesteps
    before = float(m.result())
    m.update_state(y_true, _masked(y_pred.clone(), torch.zeros_like(mask)))
    assert float(m.result()) == pytest.approx(before)


def test_confusion_metrics_ignore_the_mask_as_keras():
    # Keras 3 reads the mask only in MeanMetricWrapper; Precision counts every entry.
    y_true = torch.tensor([[1, 0, 1]])
    y_pred = torch.tensor([[0.9, 0.8, 0.7]])
    p = metrics.Precision()
    p.update_state(y_true, _masked(y_pred.clone(), torch.tensor([[True, False, False]])))
    assert float(p.result()) == pytest.approx(2 / 3)


def _padded_model_and_data():
    batch, steps, vocab, classes = 12, 6, 10, 4
    x = torch.randint(1, vocab, (batch, steps))
    lengths = torch.randint(2, steps + 1, (batch,))
    lengths[0] = 2
    x[torch.arange(steps) >= lengths[:, None]] = 0
    y = torch.randint(0, classes, (batch, steps))
    inputs = easynn.Input(shape=(steps,), dtype="int64")
    h = layers.Embedding(vocab, 8, mask_zero=True)(inputs)
    h = layers.LSTM(8, return_sequences=True)(h)
    outputs = layers.Dense(classes, activation="softmax")(h)
    model = easynn.Model(inputs, outputs)
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", "sparse_categorical_crossentropy"],
    )
    return model, x, y


def test_the_padded_model_output_carries_the_mask_the_metrics_read():
    model, x, y = _padded_model_and_data()
    out = model(x)
    assert torch.equal(out._keras_mask, x != 0)
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(y, out)
    real = x != 0
    assert float(m.result()) == pytest.approx(float((out.argmax(-1) == y)[real].float().mean()))


def test_evaluate_on_a_padded_model_reports_accuracy_over_real_tokens():
    model, x, y = _padded_model_and_data()
    result = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    with torch.no_grad():
        probs = model(x)
    pred, real = probs.argmax(-1), x != 0
    assert float((pred == y)[real].float().mean()) != pytest.approx(float((pred == y).float().mean()))
    assert result["accuracy"] == pytest.approx(float((pred == y)[real].float().mean()), rel=1e-5)
    nll = -probs.gather(-1, y.unsqueeze(-1)).squeeze(-1).log()
    assert result["sparse_categorical_crossentropy"] == pytest.approx(float(nll[real].mean()), rel=1e-4)
