"""Functional models on string inputs: ``Input(dtype="string")`` -> TextVectorization -> ... (Keras's text pattern)."""

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import Dense, Embedding, GlobalAveragePooling1D, TextVectorization
from easynn.layers.symbolic import STRING

_TEXTS = ["good great fine", "great good nice", "fine nice good", "bad awful poor", "poor bad sad", "awful sad bad"]
_LABELS = np.array([1, 1, 1, 0, 0, 0], dtype="float32")


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _text_model(shape=(1,), sequence_length=4):
    vectorize = TextVectorization(max_tokens=20, output_sequence_length=sequence_length, name="vectorize")
    vectorize.adapt(_TEXTS)
    inputs = easynn.Input(shape=shape, dtype="string", name="text")
    x = vectorize(inputs)
    x = Embedding(20, 8, name="embed")(x)
    x = GlobalAveragePooling1D(name="pool")(x)
    outputs = Dense(1, activation="sigmoid", name="head")(x)
    return easynn.Model(inputs, outputs, name="text_model"), vectorize


def test_string_input_is_symbolic_with_string_dtype():
    for shape, expected in (((1,), (None, 1)), ((), (None,))):
        inputs = easynn.Input(shape=shape, dtype="string")
        assert inputs.dtype == STRING == "string" and inputs.shape == expected
        assert inputs.input_layer.get_config()["dtype"] == "string"


def test_graph_records_text_vectorization_shapes():
    model, _ = _text_model()
    assert model.get_layer("vectorize").output.shape == (None, 4)
    assert model.get_layer("vectorize").output.dtype == torch.int64
    assert model.output_shape == (None, 1)
    # Without output_sequence_length the length follows the text, as in Keras: (None, None).
    free, _ = _text_model(sequence_length=None)
    assert free.get_layer("vectorize").output.shape == (None, None)
    assert free.get_layer("embed").output.shape == (None, None, 8)


def test_model_output_equals_layers_applied_by_hand():
    model, vectorize = _text_model()
    texts = ["good nice", "bad sad awful"]
    tokens = vectorize(texts)
    x = model.get_layer("pool")(model.get_layer("embed")(tokens))
    torch.testing.assert_close(model(texts), model.get_layer("head")(x))


def test_fit_predict_on_lists_and_arrays():
    model, _ = _text_model()
    model.compile(optimizer=easynn.optimizers.Adam(0.05), loss="binary_crossentropy")
    history = model.fit(_TEXTS, _LABELS, epochs=8, batch_size=3, verbose=0)
    losses = history.history["loss"]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0] - 0.05
    assert all(b < a for a, b in zip(losses, losses[1:]))  # full-batch-ish and separable: steady descent
    from_list = model.predict(["good great", "poor sad"], verbose=0)
    from_array = model.predict(np.array([["good great"], ["poor sad"]]), verbose=0)
    np.testing.assert_allclose(from_list, from_array)
    assert from_list.shape == (2, 1) and from_list[0, 0] > 0.5 > from_list[1, 0]
    # fit on a NumPy (n, 1) array of str works the same way.
    again = model.fit(np.array(_TEXTS)[:, None], _LABELS, epochs=1, batch_size=3, verbose=0)
    assert np.isfinite(again.history["loss"][0])


def test_direct_calls_accept_batch_and_batch_by_one_and_reject_others():
    model, _ = _text_model(shape=())
    expected = model(["good", "bad"])
    torch.testing.assert_close(model(np.array(["good", "bad"])), expected)
    torch.testing.assert_close(model(np.array([["good"], ["bad"]], dtype=object)), expected)
    torch.testing.assert_close(model(("good", "bad")), expected)
    with pytest.raises(TypeError, match=r"Input 'text'.*strings.*shape \(1, 2\)"):
        model(np.array([["good", "bad"]]))
    with pytest.raises(TypeError, match="Input 'text'.*Received: Tensor"):
        model(torch.zeros(2, 1))


def test_summary_prints_the_text_layers(capsys):
    model, _ = _text_model()
    model.summary()
    printed = capsys.readouterr().out
    assert "vectorize (TextVectorization)" in printed and "(None, 4)" in printed
    assert "embed (Embedding)" in printed and "160" in printed


def test_save_load_and_json_round_trip_give_equal_predictions(tmp_path):
    model, _ = _text_model()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(_TEXTS, _LABELS, epochs=1, verbose=0)
    texts = ["good nice", "awful", "unseen words here"]
    path = tmp_path / "text.keras"
    model.save(path)
    loaded = easynn.saving.load_model(path)
    assert loaded.inputs[0].dtype == "string"
    assert loaded.get_layer("vectorize").get_vocabulary() == model.get_layer("vectorize").get_vocabulary()
    np.testing.assert_allclose(loaded.predict(texts, verbose=0), model.predict(texts, verbose=0), rtol=1e-6)
    rebuilt = easynn.models.model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    torch.testing.assert_close(rebuilt(texts), model(texts))


def test_numeric_inputs_unchanged():
    inputs = easynn.Input(shape=(3,))
    assert inputs.dtype == torch.float32 and not inputs.has_free_axes
    model = easynn.Model(inputs, Dense(2)(inputs))
    x = np.arange(6, dtype="int64").reshape(2, 3)  # integer arrays are still cast to the float Input
    layer = model.layers[1]
    kernel, bias = (torch.as_tensor(w) for w in layer.get_weights())
    torch.testing.assert_close(model(x), torch.as_tensor(x, dtype=torch.float32) @ kernel + bias)
    with pytest.raises(ValueError, match="expected shape"):
        model(torch.zeros(2, 4))
    ids = easynn.Input(shape=(5,), dtype="int32")
    assert ids.dtype == torch.int32
    two = easynn.Model([inputs, ids], [Dense(1)(inputs), Embedding(10, 2)(ids)])
    out = two([torch.zeros(2, 3), torch.zeros(2, 5, dtype=torch.int32)])
    assert out[0].shape == (2, 1) and out[1].shape == (2, 5, 2)


def test_sequential_starting_with_a_string_input():
    import numpy as np

    import easynn

    vectorize = easynn.layers.TextVectorization(output_sequence_length=3)
    vectorize.adapt(["good film", "bad film", "good"])
    model = easynn.Sequential([easynn.Input(shape=(1,), dtype="string"), vectorize,
                               easynn.layers.Embedding(8, 2), easynn.layers.GlobalAveragePooling1D(),
                               easynn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.array([["good film"], ["bad film"]])
    history = model.fit(x, np.array([1.0, 0.0], "float32"), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(["good film"], verbose=0).shape == (1, 1)
