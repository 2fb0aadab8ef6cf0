"""Python generators and iterators in fit/evaluate/predict, steps semantics, dict inputs/targets.

Each fit on a generator is compared with fit on the same arrays (shuffle=False): equal weights mean
the same batches reached the model in the same order, none lost or repeated.
"""

import itertools

import numpy as np
import pytest
import torch

import easynn
from easynn import layers
from easynn.callbacks import Callback
from easynn.training import data as data_module
from easynn.training.generators import IteratorBatches


@pytest.fixture(autouse=True)
def _seed():
    easynn.utils.set_random_seed(0)


def _data(n=24, features=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x @ np.arange(1, features + 1, dtype="float32")[:, None]).astype("float32")
    w = rng.uniform(0.5, 2.0, size=(n,)).astype("float32")
    return x, y, w


def _model(weights=None):
    model = easynn.Sequential([easynn.Input(shape=(3,)), layers.Dense(2, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    if weights is not None:
        model.set_weights(weights)
    return model


class _Counted:
    """An iterator over ``items`` that counts how many were taken."""

    def __init__(self, items):
        self._items = iter(items)
        self.taken = 0

    def __iter__(self):
        return self

    def __next__(self):
        item = next(self._items)
        self.taken += 1
        return item


def _batches(x, *rest, size=4):
    for start in range(0, len(x), size):
        parts = tuple(a[start:start + size] for a in (x, *rest))
        yield parts if rest else parts[0]


def _same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ generators train like arrays
@pytest.mark.parametrize("arity", [2, 3])
def test_finite_generator_trains_like_the_same_arrays(arity):
    x, y, w = _data()
    reference = _model()
    start = reference.get_weights()
    sw = w if arity == 3 else None
    reference.fit(x, y, sample_weight=sw, batch_size=4, shuffle=False, epochs=1, verbose=0)
    model = _model(start)
    parts = (x, y, w) if arity == 3 else (x, y)
    source = _Counted(_batches(*parts))
    history = model.fit(source, epochs=1, verbose=0)
    assert source.taken == 6
    _same_weights(model, reference)
    assert history.history["loss"] == pytest.approx(reference.history.history["loss"], rel=1e-6)


def test_generator_of_x_alone_predicts_like_arrays():
    x, _, _ = _data()
    model = _model()
    expected = model.predict(x, batch_size=4, verbose=0)
    np.testing.assert_allclose(model.predict(_batches(x), verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model.predict(((b,) for b in _batches(x)), verbose=0), expected, rtol=1e-6)


def test_evaluate_on_a_generator_equals_evaluate_on_arrays_and_steps_limit_it():
    x, y, _ = _data()
    model = _model()
    expected = model.evaluate(x, y, batch_size=4, verbose=0)
    assert model.evaluate(_batches(x, y), verbose=0) == pytest.approx(expected, rel=1e-6)
    source = _Counted(_batches(x, y))
    first_two = model.evaluate(source, steps=2, verbose=0)
    assert source.taken == 2
    assert first_two == pytest.approx(model.evaluate(x[:8], y[:8], batch_size=4, verbose=0), rel=1e-6)


def test_endless_generator_with_steps_continues_across_epochs():
    x, y, _ = _data()
    reference = _model()
    start = reference.get_weights()
    # 3 epochs x 2 steps of 4 samples walk through the 24 samples once, in order.
    reference.fit(x, y, batch_size=4, shuffle=False, epochs=1, verbose=0)
    model = _model(start)
    source = _Counted(itertools.cycle(list(_batches(x, y))))
    history = model.fit(source, steps_per_epoch=2, epochs=3, verbose=0)
    assert source.taken == 6  # no batch read ahead and dropped
    assert len(history.history["loss"]) == 3
    _same_weights(model, reference)


def test_generator_without_steps_has_no_length_and_progress_has_no_total():
    seen = []

    class Params(Callback):
        def on_train_begin(self, logs=None):
            seen.append(self.params["steps"])

    x, y, _ = _data()
    batches = IteratorBatches(_batches(x, y))
    assert batches.num_batches is None
    with pytest.raises(TypeError, match="no length"):
        len(batches)
    assert len(IteratorBatches(_batches(x, y), steps=3)) == 3
    _model().fit(_batches(x, y), epochs=1, verbose=0, callbacks=[Params()])
    _model().fit(itertools.cycle(list(_batches(x, y))), steps_per_epoch=5, epochs=1, verbose=0, callbacks=[Params()])
    assert seen == [None, 5]


def test_validation_generator_with_validation_steps_continues_across_epochs():
    x, y, _ = _data()
    validation = _Counted(itertools.cycle(list(_batches(x, y))))
    history = _model().fit(x, y, epochs=3, verbose=0, validation_data=validation, validation_steps=2)
    assert validation.taken == 6
    assert len(history.history["val_loss"]) == 3


# ------------------------------------------------------------------ bad input
def test_finite_generator_running_out_before_steps_names_the_batch():
    x, y, _ = _data()
    with pytest.raises(ValueError, match=r"ran out of data after 6 batches: epoch 2 got 2 of the 4 .*steps_per_epoch=4"):
        _model().fit(_batches(x, y), steps_per_epoch=4, epochs=3, verbose=0)


def test_finite_generator_for_several_epochs_without_steps_says_it_is_exhausted():
    x, y, _ = _data()
    with pytest.raises(ValueError, match="exhausted: it yielded 6 batches.*steps_per_epoch"):
        _model().fit(_batches(x, y), epochs=2, verbose=0)


def test_endless_iterator_without_steps_is_refused_before_training():
    x, y, _ = _data()
    model = _model()
    start = model.get_weights()
    with pytest.raises(ValueError, match="endless iterator.*steps_per_epoch"):
        model.fit(itertools.cycle(list(_batches(x, y))), epochs=1, verbose=0)
    _same_weights(model, _model(start))


def test_empty_generator_is_an_error():
    with pytest.raises(ValueError, match="yielded no batches"):
        _model().fit(iter([]), epochs=1, verbose=0)


@pytest.mark.parametrize("items, match", [
    ([(np.ones((4, 3)), np.ones((4, 1)), np.ones(4), np.ones(4))],
     r"Batch 0 of the generator must be x, \(x,\), \(x, y\) or \(x, y, sample_weight\)\. Received a tuple of 4"),
    ([(np.ones((4, 3)), np.ones((4, 1)))] * 2 + [(np.ones((4, 3, 1)), np.ones((4, 1)))],
     r"Batch 2 of the generator has `x` of shape \(4, 3, 1\) \(rank 3\), but the first batch's was \(4, 3\)"),
    ([(np.ones((4, 3)), np.ones((4, 1))), (np.ones((4, 3)),)],
     r"Batch 1 of the generator has the parts \['x'\], but the first batch had \['x', 'y'\]"),
    ([(np.ones((4, 3)), np.ones((3, 1)))], r"Batch 0 of the generator is inconsistent: x has 4, y has 3 samples"),
    ([(np.array([["a", "b", "c"]]), np.ones((1, 1)))], r"Batch 0 of the generator: `x` must hold numbers"),
])
def test_bad_batches_name_the_batch_and_what_was_expected(items, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _model().fit(iter(items), epochs=1, verbose=0)


def test_generator_that_raises_keeps_its_exception_with_the_batch_named():
    def broken():
        yield np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
        yield np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
        raise KeyError("missing file")

    with pytest.raises(KeyError) as info:
        _model().fit(broken(), epochs=1, verbose=0)
    assert any("producing batch 2" in note for note in info.value.__notes__)


def test_generator_with_y_argument_is_refused():
    x, y, _ = _data()
    with pytest.raises(ValueError, match="a generator, it must yield .*pass y=None"):
        _model().fit(_batches(x), y, epochs=1, verbose=0)


# ------------------------------------------------------------------ steps on arrays
def test_steps_on_arrays_continue_across_epochs_and_wrap_to_a_new_pass():
    x = np.arange(10, dtype="float32")[:, None]
    batches = data_module.adapt(x, x, batch_size=2, shuffle=False, steps=2)
    seen = [[b[0][:, 0].tolist() for b in batches.epoch(e)] for e in range(3)]
    assert seen == [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9], [0, 1]]]
    assert batches.num_batches == 2 and len(batches) == 5


def test_steps_larger_than_the_arrays_is_refused_before_any_weight_changes():
    x, y, _ = _data()
    model = _model()
    start = model.get_weights()
    with pytest.raises(ValueError, match=r"`steps_per_epoch=7` is larger than the 6 batch\(es\).*24 samples with batch_size=4"):
        model.fit(x, y, batch_size=4, steps_per_epoch=7, verbose=0)
    _same_weights(model, _model(start))
    with pytest.raises(ValueError, match="`validation_steps=9` is larger"):
        model.fit(x, y, batch_size=4, validation_data=(x, y), validation_steps=9, verbose=0)
    with pytest.raises(ValueError, match="`steps=7` is larger"):
        model.evaluate(x, y, batch_size=4, steps=7, verbose=0)


# ------------------------------------------------------------------ dict inputs and targets
def _two_input_model():
    a = easynn.Input(shape=(3,), name="image")
    b = easynn.Input(shape=(2,), name="meta")
    joined = layers.Concatenate()([layers.Dense(4, name="da")(a), layers.Dense(4, name="db")(b)])
    score = layers.Dense(1, name="score")(joined)
    label = layers.Dense(3, activation="softmax", name="label")(joined)
    model = easynn.Model(inputs=[a, b], outputs=[score, label])
    model.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"], device="cpu")
    return model


def _two_input_data(n=16):
    rng = np.random.default_rng(1)
    return (rng.normal(size=(n, 3)).astype("float32"), rng.normal(size=(n, 2)).astype("float32"),
            rng.normal(size=(n, 1)).astype("float32"), rng.integers(0, 3, size=(n,)))


def test_dict_inputs_and_targets_match_inputs_and_outputs_by_name():
    image, meta, score, label = _two_input_data()
    by_list = _two_input_model()
    start = by_list.get_weights()
    by_list.fit([image, meta], [score, label], batch_size=4, shuffle=False, epochs=2, verbose=0)
    by_dict = _two_input_model()
    by_dict.set_weights(start)
    # Keys in another order than the model's: matched by name, not position.
    by_dict.fit({"meta": meta, "image": image}, {"label": label, "score": score}, batch_size=4, shuffle=False,
                epochs=2, verbose=0)
    _same_weights(by_dict, by_list)
    assert by_dict.history.history["loss"] == pytest.approx(by_list.history.history["loss"], rel=1e-6)


def test_dict_batches_from_a_generator_train_like_dict_arrays():
    image, meta, score, label = _two_input_data()
    reference = _two_input_model()
    start = reference.get_weights()
    reference.fit({"image": image, "meta": meta}, {"score": score, "label": label}, batch_size=4, shuffle=False,
                  epochs=1, verbose=0)
    model = _two_input_model()
    model.set_weights(start)
    source = (({"image": i, "meta": m}, {"label": lab, "score": s}) for i, m, s, lab in _batches(image, meta, score, label))
    model.fit(source, epochs=1, verbose=0)
    _same_weights(model, reference)


def test_dict_targets_with_an_unknown_output_name_are_refused():
    image, meta, score, label = _two_input_data()
    with pytest.raises(ValueError, match=r"`y` has keys \['scores'\] that name no output.*\['score', 'label'\]"):
        _two_input_model().fit({"image": image, "meta": meta}, {"scores": score, "label": label}, verbose=0)


def test_tensors_from_a_generator_stay_tensors():
    x, y, _ = _data()
    batches = IteratorBatches(((torch.from_numpy(a), torch.from_numpy(b).double()) for a, b in _batches(x, y)))
    first = batches.first_batch()
    assert first[1].dtype == torch.float32  # float64 becomes float32, as for arrays
    assert [b[0].shape[0] for b in batches.epoch(0)] == [4] * 6  # the peeked batch is not lost


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_streamed_batches_land_on_the_gpu_and_train_like_arrays():
    x, y, _ = _data()
    batches = IteratorBatches(_batches(x, y), device="cuda")
    assert all(t.device.type == "cuda" for b in batches.epoch(0) for t in b[:2])
    reference = easynn.Sequential([easynn.Input(shape=(3,)), layers.Dense(1)])
    reference.compile(optimizer="sgd", loss="mse", device="cuda")
    start = reference.get_weights()
    reference.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    model = easynn.Sequential([easynn.Input(shape=(3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", device="cuda")
    model.set_weights(start)
    model.fit(_batches(x, y), verbose=0)
    _same_weights(model, reference)
