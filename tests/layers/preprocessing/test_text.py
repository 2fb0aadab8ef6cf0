"""TextVectorization, StringLookup, IntegerLookup, and strings through fit/evaluate/predict."""

import math
import os

import numpy as np
import pytest
import torch

import easynn
from easynn import layers
from easynn.layers import IntegerLookup, StringLookup, TextVectorization
from easynn.training._batch import to_tensor
from easynn.training._strings import StringBatch
from easynn.utils import text_dataset_from_directory

CORPUS = ["b a b", "c a b", "d"]  # counts: b=3, a=2, c=1, d=1 (tie: descending token -> d, c)


def test_vocabulary_order_oov_and_padding_by_hand():
    layer = TextVectorization()
    layer.adapt(CORPUS)
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "a", "d", "c"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["b", "a", "d", "c"]
    assert layer.vocabulary_size() == 6
    out = layer(["a b zebra", "c"])
    assert out.dtype == torch.int64
    assert out.tolist() == [[3, 2, 1], [5, 0, 0]]  # padded to the longest text with 0


def test_bag_modes_have_no_padding_token():
    layer = TextVectorization(output_mode="multi_hot")
    layer.adapt(CORPUS)
    assert layer.get_vocabulary() == ["[UNK]", "b", "a", "d", "c"]


def test_max_tokens_keeps_the_most_frequent():
    layer = TextVectorization(max_tokens=4)
    layer.adapt(CORPUS)
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "a"]
    assert layer(["d b"]).tolist() == [[1, 2]]
    bag = TextVectorization(max_tokens=3, output_mode="count")
    bag.adapt(CORPUS)
    assert bag.get_vocabulary() == ["[UNK]", "b", "a"]


@pytest.mark.parametrize(
    "standardize, split, expected",
    [
        ("lower_and_strip_punctuation", "whitespace", ["hello", "world", "its", "me"]),
        ("lower", "whitespace", ["hello,", "world!", "it's", "me"]),
        ("strip_punctuation", "whitespace", ["Hello", "WORLD", "Its", "me"]),
        (None, "whitespace", ["Hello,", "WORLD!", "It's", "me"]),
        ("lower", "character", list("hello, world! it's  me")),
        ("lower", None, ["hello, world! it's  me"]),
        (lambda s: s.upper(), lambda s: s.split(","), ["HELLO", " WORLD! IT'S  ME"]),
    ],
)
def test_standardize_and_split(standardize, split, expected):
    layer = TextVectorization(standardize=standardize, split=split)
    assert layer._tokens("Hello, WORLD! It's  me") == expected


def test_ngrams():
    assert TextVectorization(ngrams=2)._tokens("a b c") == ["a", "b", "c", "a b", "b c"]
    assert TextVectorization(ngrams=(2, 3))._tokens("a b c") == ["a b", "b c", "a b c"]


def test_output_sequence_length_pads_and_truncates():
    layer = TextVectorization(output_sequence_length=3, vocabulary=["x", "y"])
    assert layer(["x", "x y y x", ""]).tolist() == [[2, 0, 0], [2, 3, 3], [0, 0, 0]]
    # (batch, 1) arrays of strings, as keras.Input(shape=(1,), dtype="string") gives, work too.
    assert layer(np.array([["y x"], ["q"]])).tolist() == [[3, 2, 0], [1, 0, 0]]


def _bags(texts, vocab):
    counts = np.zeros((len(texts), len(vocab)), np.float32)
    for i, text in enumerate(texts):
        for token in text.split():
            counts[i, vocab.index(token) if token in vocab else 0] += 1
    return counts


def test_multi_hot_count_tf_idf_against_numpy():
    texts = ["b b a zz", "c", "a a a d"]
    expected = _bags(texts, ["[UNK]", "b", "a", "d", "c"])
    for mode, reference in (("count", expected), ("multi_hot", (expected > 0).astype(np.float32))):
        layer = TextVectorization(output_mode=mode)
        layer.adapt(CORPUS)
        out = layer(texts)
        assert out.dtype == torch.float32
        np.testing.assert_array_equal(out.numpy(), reference)
    tfidf = TextVectorization(output_mode="tf_idf")
    tfidf.adapt(CORPUS)
    # document counts: b 2, a 2, d 1, c 1 of 3 documents; OOV gets the mean weight
    idf = np.log1p(3 / (1 + np.array([2, 2, 1, 1], np.float64)))
    idf = np.concatenate([[idf.mean()], idf]).astype(np.float32)
    np.testing.assert_allclose(tfidf(texts).numpy(), expected * idf, rtol=1e-6)
    padded = TextVectorization(max_tokens=8, output_mode="multi_hot", pad_to_max_tokens=True)
    padded.adapt(CORPUS)
    assert tuple(padded(["a"]).shape) == (1, 8)


def test_set_vocabulary_and_file(tmp_path):
    layer = TextVectorization()
    layer.set_vocabulary(["", "[UNK]", "cat", "dog"])  # Keras's get_vocabulary() form is accepted
    assert layer.get_vocabulary() == ["", "[UNK]", "cat", "dog"]
    layer.set_vocabulary(["dog", "cat"])
    assert layer(["cat dog"]).tolist() == [[3, 2]]
    path = tmp_path / "vocab.txt"
    path.write_text("sun\nmoon\n")
    assert TextVectorization(vocabulary=str(path)).get_vocabulary() == ["", "[UNK]", "sun", "moon"]
    with pytest.raises(ValueError, match="unique"):
        layer.set_vocabulary(["a", "a"])
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorization(max_tokens=3, vocabulary=["a", "b"])
    with pytest.raises(ValueError, match="idf_weights"):
        TextVectorization(output_mode="tf_idf", vocabulary=["a"])


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="output_mode"):
        TextVectorization(output_mode="ints")
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorization(max_tokens=1)
    with pytest.raises(ValueError, match="standardize"):
        TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="split"):
        TextVectorization(split="comma")
    with pytest.raises(ValueError, match="output_sequence_length"):
        TextVectorization(output_mode="multi_hot", output_sequence_length=4)
    with pytest.raises(ValueError, match="ngrams"):
        TextVectorization(ngrams=0)
    with pytest.raises(ValueError, match="adapt"):
        TextVectorization()(["no vocabulary yet"])
    with pytest.raises(ValueError, match="no data"):
        TextVectorization().adapt([])


def test_adapt_on_batches_and_label_pairs():
    pairs = [(["b a b"], torch.tensor([0])), (["c a b", "d"], torch.tensor([1, 0]))]
    layer = TextVectorization()
    layer.adapt(pairs)
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "a", "d", "c"]
    first = TextVectorization()
    first.adapt(pairs, steps=1)
    assert first.get_vocabulary() == ["", "[UNK]", "b", "a"]


def test_config_round_trip_keeps_vocabulary():
    layer = TextVectorization(max_tokens=10, output_mode="tf_idf", ngrams=2)
    layer.adapt(CORPUS)
    clone = TextVectorization.from_config(layer.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary()
    assert torch.equal(clone(["a b", "q"]), layer(["a b", "q"]))
    assert clone.get_config() == layer.get_config()


def _write_texts(root):
    words = {"animals": "cat dog bird", "cars": "truck wheel road", "sky": "sun moon star"}
    for label, text in words.items():
        os.makedirs(root / label)
        for i in range(4):
            (root / label / f"{i}.txt").write_text(f"{text} {text.split()[i % 3]}!")


def test_fit_on_text_dataset_from_directory_and_save_load(tmp_path):
    torch.manual_seed(0)
    _write_texts(tmp_path / "data")
    ds = text_dataset_from_directory(tmp_path / "data", batch_size=4, seed=3, verbose=False)
    vectorize = TextVectorization(max_tokens=16, output_sequence_length=6)
    vectorize.adapt(ds)  # (texts, labels) batches: adapt reads the texts
    assert len(vectorize.get_vocabulary()) == 11  # 2 special + 9 words
    model = easynn.models.Sequential(
        [vectorize, layers.Embedding(16, 8), layers.GlobalAveragePooling1D(), layers.Dense(3)])
    model.compile(optimizer=easynn.optimizers.Adam(0.05),
                  loss=easynn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(ds, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
    loss, accuracy = model.evaluate(ds, verbose=0)
    assert math.isfinite(loss) and accuracy == 1.0
    texts = ["the dog and the cat", "a long road", "moon"]
    probs = model.predict(texts, verbose=0)
    assert probs.shape == (3, 3) and probs.argmax(axis=1).tolist() == [0, 1, 2]
    assert model.predict(ds, verbose=0).shape == (12, 3)
    path = tmp_path / "text.keras"
    model.save(path)
    loaded = easynn.models.load_model(path)
    assert loaded.layers[0].get_vocabulary() == vectorize.get_vocabulary()
    np.testing.assert_allclose(loaded.predict(texts, verbose=0), probs, rtol=1e-5, atol=1e-6)


def test_fit_on_numpy_strings():
    torch.manual_seed(0)
    x = np.array(["good great", "bad awful", "great fine", "awful poor"] * 3)
    y = np.array([1, 0, 1, 0] * 3, dtype=np.float32)
    vectorize = TextVectorization(output_mode="multi_hot")
    vectorize.adapt(x)
    model = easynn.models.Sequential([vectorize, layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=easynn.optimizers.Adam(0.1), loss="binary_crossentropy")
    history = model.fit(x, y, batch_size=5, epochs=5, verbose=0, validation_split=0.25)
    assert all(math.isfinite(v) for v in history.history["loss"] + history.history["val_loss"])
    assert history.history["loss"][-1] < history.history["loss"][0]
    pred = model.predict(np.array([["good"], ["poor"]], dtype=object), verbose=0)
    assert pred[0, 0] > 0.5 > pred[1, 0]
    assert math.isfinite(model.evaluate(list(x), y, verbose=0))


def test_string_batches_in_the_data_pipeline():
    batch = to_tensor(np.array(["a", "b", "c"]))
    assert isinstance(batch, StringBatch) and batch == ["a", "b", "c"] and batch.shape == (3,)
    assert batch.index_select(0, torch.tensor([2, 0])) == ["c", "a"]
    assert isinstance(batch[1:], StringBatch) and batch[1:] == ["b", "c"]
    with pytest.raises(TypeError):
        to_tensor(np.array([{"a": 1}], dtype=object))


def test_string_lookup():
    layer = StringLookup(vocabulary=["a", "b", "c"])
    assert layer([["a", "c"], ["d", "b"]]).tolist() == [[1, 3], [0, 2]]
    adapted = StringLookup()
    adapted.adapt(["b", "a", "b", "c", "c", "d"])
    assert adapted.get_vocabulary() == ["[UNK]", "c", "b", "d", "a"]
    masked = StringLookup(vocabulary=["a", "b"], mask_token="")
    assert masked.get_vocabulary() == ["", "[UNK]", "a", "b"]
    assert masked(["", "b", "q"]).tolist() == [0, 3, 1]
    hot = StringLookup(vocabulary=["a", "b"], output_mode="multi_hot")
    assert hot([["a", "b", "z"], ["a", "a", "a"]]).tolist() == [[1, 1, 1], [0, 1, 0]]
    count = StringLookup(vocabulary=["a", "b"], output_mode="count")
    assert count([["a", "b", "a"]]).tolist() == [[0, 2, 1]]
    one = StringLookup(vocabulary=["a", "b"], output_mode="one_hot")
    assert one(["b", "z"]).tolist() == [[0, 0, 1], [1, 0, 0]]
    inverse = StringLookup(vocabulary=["a", "b"], invert=True)
    assert inverse(torch.tensor([[2, 0, 1]])).tolist() == [["b", "[UNK]", "a"]]
    clone = StringLookup.from_config(masked.get_config())
    assert clone.get_vocabulary() == masked.get_vocabulary()
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        StringLookup(vocabulary=["a"], num_oov_indices=0)(["z"])
    with pytest.raises(ValueError, match="invert"):
        StringLookup(invert=True, output_mode="multi_hot")
    with pytest.raises(ValueError, match="output_mode"):
        StringLookup(output_mode="binary")


def test_integer_lookup():
    layer = IntegerLookup(vocabulary=[12, 36, 1138])
    out = layer(torch.tensor([[12, 1138], [42, 36]]))
    assert out.dtype == torch.int64 and out.tolist() == [[1, 3], [0, 2]]
    adapted = IntegerLookup()
    adapted.adapt(np.array([[3, 3, 5], [7, 3, 5]]))
    assert adapted.get_vocabulary() == [-1, 3, 5, 7]
    assert IntegerLookup.from_config(adapted.get_config()).get_vocabulary() == [-1, 3, 5, 7]
    with pytest.raises(ValueError, match="max_tokens"):
        IntegerLookup(max_tokens=0)


def test_a_model_called_on_a_numpy_string_array_directly():
    import numpy as np

    import easynn

    vectorize = easynn.layers.TextVectorization(output_sequence_length=3)
    vectorize.adapt(["a b c", "b c", "c"])
    model = easynn.Sequential([vectorize])
    out = model(np.array(["c b", "zzz"]))
    # c is the most frequent token (index 2), then b (3); zzz is OOV (1); padded with 0.
    assert out.tolist() == [[2, 3, 0], [1, 0, 0]]


def test_string_lookup_buckets_unknown_tokens_as_keras_does():
    # Keras's StringLookup docstring: vocabulary a-d, two OOV slots, "m" -> 0 and "z" -> 1.
    layer = layers.StringLookup(vocabulary=["a", "b", "c", "d"], num_oov_indices=2)
    assert layer([["a", "c", "d"], ["m", "z", "b"]]).tolist() == [[2, 4, 5], [0, 1, 3]]
