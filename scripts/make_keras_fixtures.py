"""Write the Keras-3 fixtures that tests/test_saving_keras_files.py loads with easynn.

Run it only to regenerate the fixtures (it needs Keras 3, which easynn itself never imports):

    KERAS_BACKEND=torch python scripts/make_keras_fixtures.py

For each small model it writes, into tests/fixtures/keras3/:

    <name>.keras           model.save()        (config.json + metadata.json + model.weights.h5)
    <name>.weights.h5      model.save_weights()
    <name>.inputs.npz      the inputs, as x0, x1, ... (one per model input)
    <name>.predictions.npy Keras's predict() on those inputs

Weights are moved away from their initial values (biases, BatchNormalization statistics) so
that a loader that forgets one of them gives different predictions.

The training fixtures (``resume_<optimizer>``, for tests/test_saving_keras_optimizer.py) are
models that Keras trained for a few steps, saved with their optimizer's variables:

    resume_<name>.keras    model.save() after PRETRAIN_EPOCHS epochs of fit() (shuffle=False)
    resume_<name>.npz      x, y, batch_size; iterations (the saved optimizer's); then Keras's
                           weights after RESUME_EPOCHS more epochs of fit() on the same data:
                           ``after/<layer name>/<i>`` (layer.get_weights() order) and
                           iterations_after -- the reference for "continue training"

    python scripts/make_keras_fixtures.py --training    # writes only these
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "keras3")


def mlp() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=(6,)),
            layers.Dense(8, activation="relu"),
            layers.Dropout(0.3),
            layers.BatchNormalization(),
            layers.Dense(3, activation="softmax"),
        ],
        name="mlp",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def cnn() -> keras.Model:
    inputs = keras.Input(shape=(8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(6, (3, 2), strides=(1, 2), activation="tanh")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(5)(x)
    return keras.Model(inputs, outputs, name="cnn")


def rnn() -> keras.Model:
    inputs = keras.Input(shape=(5,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 6, mask_zero=True)(inputs)
    x = layers.LSTM(7, return_sequences=True)(x)
    x = layers.GRU(5)(x)
    outputs = layers.Dense(2, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="rnn")


def attention() -> keras.Model:
    inputs = keras.Input(shape=(4, 8))
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([inputs, attended]))
    x = layers.Dense(8, activation="gelu")(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(3)(x)
    return keras.Model(inputs, outputs, name="attention")


def two_branches() -> keras.Model:
    sequence = keras.Input(shape=(10, 3), name="sequence")
    image = keras.Input(shape=(6, 6, 2), name="image")
    a = layers.Conv1D(4, 3, activation="relu")(sequence)
    a = layers.AveragePooling1D(2)(a)
    a = layers.GlobalMaxPooling1D()(a)
    b = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")(image)
    b = layers.Conv2DTranspose(3, 3, strides=2, activation="relu")(b)
    b = layers.SeparableConv2D(4, 3)(b)
    b = layers.GlobalAveragePooling2D()(b)
    head = keras.Sequential([layers.Dense(6, activation="elu"), layers.Dense(2)], name="head")
    outputs = head(layers.Concatenate()([a, b]))
    return keras.Model([sequence, image], outputs, name="two_branches")


def sequence_zoo() -> keras.Model:
    inputs = keras.Input(shape=(6, 4), name="steps")
    x = layers.Masking(mask_value=0.0)(inputs)
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(x)
    x = layers.SimpleRNN(4, return_sequences=True, go_backwards=True)(x)
    x = layers.GRU(4, return_sequences=True, reset_after=False)(x)
    x = layers.TimeDistributed(layers.Dense(5))(x)
    q = layers.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d")(x)
    x = layers.Attention()([q, x])
    x = layers.AdditiveAttention()([x, q])
    x = layers.Conv1DTranspose(3, 2, strides=1)(x)
    x = layers.SeparableConv1D(4, 3, padding="same", depth_multiplier=2)(x)
    x = layers.DepthwiseConv1D(2)(x)
    x = layers.ZeroPadding1D(1)(x)
    x = layers.UpSampling1D(2)(x)
    x = layers.Cropping1D((1, 2))(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Flatten()(x)
    x = layers.RepeatVector(2)(x)
    outputs = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, outputs, name="sequence_zoo")


def image_zoo() -> keras.Model:
    inputs = keras.Input(shape=(8, 8, 3), name="pixels")
    x = layers.Rescaling(0.5, offset=0.1)(inputs)
    x = layers.Normalization(axis=-1, mean=[0.1, 0.2, 0.3], variance=[1.0, 2.0, 0.5])(x)
    x = layers.ZeroPadding2D(1)(x)
    x = layers.Conv2D(4, 3, groups=1, dilation_rate=1)(x)
    x = layers.GroupNormalization(groups=2)(x)
    x = layers.PReLU()(x)
    a = layers.LeakyReLU(negative_slope=0.2)(x)
    b = layers.ELU()(x)
    c = layers.ReLU(max_value=6.0)(x)
    d = layers.Activation("swish")(x)
    x = layers.Add()([layers.Multiply()([a, b]), layers.Subtract()([c, d])])
    x = layers.Average()([x, layers.Maximum()([a, c]), layers.Minimum()([b, d])])
    x = layers.UpSampling2D(2)(x)
    x = layers.Cropping2D(((1, 1), (2, 0)))(x)
    x = layers.AveragePooling2D(2)(x)
    x = layers.SpatialDropout2D(0.2)(x)
    x = layers.UnitNormalization()(x)
    x = layers.Permute((2, 1, 3))(x)
    x = layers.Reshape((7, 7, 2, 2))(x)
    x = layers.Conv3D(3, 2)(x)
    x = layers.MaxPooling3D((2, 2, 1))(x)
    x = layers.GlobalAveragePooling3D()(x)
    x = layers.GaussianNoise(0.1)(x)
    x = layers.GaussianDropout(0.1)(x)
    x = layers.AlphaDropout(0.1)(x)
    x = layers.ActivityRegularization(l1=0.01)(x)
    x = layers.Identity()(x)
    x = layers.Dense(4, kernel_regularizer=keras.regularizers.L2(0.01))(x)
    outputs = layers.Softmax()(x)
    return keras.Model(inputs, outputs, name="image_zoo")


@keras.saving.register_keras_serializable(package="Fixtures")
class Scale(layers.Layer):
    """A custom layer: easynn loads it only when given an easynn class of that name."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        return inputs * self.scale


def custom() -> keras.Model:
    return keras.Sequential([keras.Input(shape=(3,)), Scale(), layers.Dense(2)], name="custom")


def lambda_layer() -> keras.Model:
    return keras.Sequential(
        [keras.Input(shape=(3,)), layers.Lambda(lambda x: x * 2.0), layers.Dense(2)], name="lambda_layer"
    )


def unsupported() -> keras.Model:
    # A Keras layer easynn does not have.
    return keras.Sequential(
        [keras.Input(shape=(3,)), layers.SpectralNormalization(layers.Dense(2))], name="unsupported"
    )


def branches() -> keras.Model:
    # Parallel Dense layers of equal shapes: their weights load right only in Keras's layer order.
    inputs = keras.Input(shape=(4,))
    a = layers.Dense(4)(inputs)
    b = layers.Dense(4)(inputs)
    c = layers.Dense(4)(b)
    d = layers.Dense(4)(a)
    e = layers.Dense(4)(layers.Add()([d, c]))
    f = layers.Dense(4)(inputs)
    return keras.Model(inputs, [layers.Add()([e, f]), c], name="branches")


def _perturb(model: keras.Model, rng: np.random.Generator) -> None:
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            _perturb(layer, rng)
            continue
        values = []
        for variable, value in zip(layer.weights, layer.get_weights()):
            noise = rng.normal(0.0, 0.2, size=value.shape)
            if "variance" in variable.path:
                values.append((np.abs(value + noise) + 0.5).astype(value.dtype))
            else:
                values.append((value + noise).astype(value.dtype))
        layer.set_weights(values)


def _inputs(model: keras.Model, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for tensor in model.inputs:
        shape = (3,) + tuple(tensor.shape[1:])
        if "int" in str(tensor.dtype):
            value = rng.integers(1, 20, size=shape).astype("int32")
            value[0, -2:] = 0  # padding, so that the mask matters
            out.append(value)
        else:
            value = rng.normal(size=shape).astype("float32")
            if tensor.name == "steps":
                value[0, -2:] = 0.0  # masked by Masking(mask_value=0.0)
            out.append(value)
    return out


# --------------------------------------------------------------------------- training fixtures
# Small models trained by Keras, saved with their optimizer's variables. No layer with a bias feeds
# a BatchNormalization (that bias's gradient is zero up to rounding, which Adam would amplify), and
# no Dropout: easynn must be able to replay Keras's steps to float32 precision.
PRETRAIN_EPOCHS, RESUME_EPOCHS, BATCH_SIZE, SAMPLES = 2, 1, 4, 16


def resume_adam() -> keras.Model:
    inputs = keras.Input(shape=(5, 5, 2), name="image")
    x = layers.Conv2D(3, 3, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(4, activation="tanh")(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="resume_adam")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy")
    return model


def resume_adamw() -> keras.Model:
    model = keras.Sequential([keras.Input(shape=(4, 3)), layers.LSTM(3), layers.Dense(2)], name="resume_adamw")
    optimizer = keras.optimizers.AdamW(learning_rate=0.01, weight_decay=0.05, amsgrad=True)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def resume_sgd() -> keras.Model:
    # Parallel Dense layers of equal shapes: their slots are right only in Keras's variable order.
    inputs = keras.Input(shape=(4,))
    a = layers.Dense(4, activation="tanh")(inputs)
    b = layers.Dense(4, activation="tanh")(inputs)
    c = layers.Dense(4)(b)
    d = layers.Dense(4)(a)
    outputs = layers.Dense(2)(layers.Add()([d, c]))
    model = keras.Model(inputs, outputs, name="resume_sgd")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse")
    return model


def resume_rmsprop() -> keras.Model:
    model = keras.Sequential(
        [keras.Input(shape=(4,)), layers.Dense(5, activation="tanh"), layers.Dense(2)], name="resume_rmsprop"
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=0.005, momentum=0.5, centered=True)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def resume_schedule() -> keras.Model:
    # A learning-rate schedule: the file then has no learning_rate variable before the slots.
    model = keras.Sequential(
        [keras.Input(shape=(4,)), layers.Dense(3, activation="tanh"), layers.Dense(2)], name="resume_schedule"
    )
    schedule = keras.optimizers.schedules.ExponentialDecay(0.02, decay_steps=3, decay_rate=0.5)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule), loss="mse")
    return model


def resume_nadam() -> keras.Model:
    # An optimizer whose variables easynn does not map: it must say so and start fresh.
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)], name="resume_nadam")
    model.compile(optimizer=keras.optimizers.Nadam(learning_rate=0.01), loss="mse")
    return model


def resume_ema() -> keras.Model:
    # Adam with an exponential moving average of the weights: not mapped either.
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)], name="resume_ema")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01, use_ema=True), loss="mse")
    return model


def _training_data(model: keras.Model, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(SAMPLES,) + tuple(model.inputs[0].shape[1:])).astype("float32")
    if model.loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, model.outputs[0].shape[-1], size=(SAMPLES,)).astype("int32")
    else:
        y = rng.normal(size=(SAMPLES,) + tuple(model.outputs[0].shape[1:])).astype("float32")
    return x, y


def write_training_fixtures() -> None:
    for build in (resume_adam, resume_adamw, resume_sgd, resume_rmsprop, resume_schedule, resume_nadam, resume_ema):
        keras.backend.clear_session()  # layer names start again at dense, dense_1, ...
        keras.utils.set_random_seed(0)
        rng = np.random.default_rng(0)
        model = build()
        x, y = _training_data(model, rng)
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=PRETRAIN_EPOCHS, shuffle=False, verbose=0)
        base = os.path.join(OUT, build.__name__)
        model.save(base + ".keras")
        iterations = int(model.optimizer.iterations.numpy())
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=RESUME_EPOCHS, shuffle=False, verbose=0)
        after = {
            f"after/{layer.name}/{i}": value for layer in model.layers for i, value in enumerate(layer.get_weights())
        }
        np.savez(
            base + ".npz",
            x=x,
            y=y,
            batch_size=np.int64(BATCH_SIZE),
            epochs=np.int64(RESUME_EPOCHS),
            iterations=np.int64(iterations),
            iterations_after=np.int64(int(model.optimizer.iterations.numpy())),
            **after,
        )
        variables = [v.path for v in model.optimizer.variables]
        print(f"{build.__name__}: {len(variables)} optimizer variables, iterations {iterations}")


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    if "--training" in sys.argv[1:]:
        write_training_fixtures()
        print(f"Keras {keras.__version__} (backend {keras.backend.backend()}) -> {os.path.normpath(OUT)}")
        return 0
    for build in (
        mlp,
        cnn,
        rnn,
        attention,
        two_branches,
        sequence_zoo,
        image_zoo,
        custom,
        lambda_layer,
        unsupported,
        branches,
    ):
        keras.utils.set_random_seed(0)
        rng = np.random.default_rng(0)
        model = build()
        _perturb(model, rng)
        inputs = _inputs(model, rng)
        predictions = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        base = os.path.join(OUT, build.__name__)
        model.save(base + ".keras")
        if build in (mlp, cnn, rnn, attention, two_branches, branches):  # the others: the .keras file is enough
            model.save_weights(base + ".weights.h5")
        np.savez(base + ".inputs.npz", **{f"x{i}": x for i, x in enumerate(inputs)})
        if isinstance(predictions, list):  # several outputs: the first one is compared
            predictions = predictions[0]
        np.save(base + ".predictions.npy", np.asarray(predictions))
        print(f"{build.__name__}: {model.count_params()} parameters, predictions {np.asarray(predictions).shape}")
    write_training_fixtures()
    print(f"Keras {keras.__version__} (backend {keras.backend.backend()}) -> {os.path.normpath(OUT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
