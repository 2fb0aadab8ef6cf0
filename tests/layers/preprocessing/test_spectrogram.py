"""STFTSpectrogram and MelSpectrogram against NumPy (np.fft.rfft of framed, windowed signals)."""

import math

import numpy as np
import pytest
import torch

import easynn
from easynn.layers import Dense, Flatten, MelSpectrogram, STFTSpectrogram


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ---------------------------------------------------------------------------------------- STFT
def _np_window(name, length, periodic):
    """Hann/Hamming from NumPy (symmetric), or the periodic one (the symmetric of length + 1, cut)."""
    make = {"hann": np.hanning, "hamming": np.hamming}[name]
    return make(length + 1)[:-1] if periodic else make(length)


def _np_stft(x, frame_length, step, fft_length, window, scaling, padding):
    """Per channel, rfft(w * frame / s, n=fft_length) of each frame: (batch, channels, bins, frames)."""
    batch, length, channels = x.shape
    if padding == "same":
        frames = math.ceil(length / step)
        total = max((frames - 1) * step + frame_length - length, 0)
        x = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    else:
        frames = (length - frame_length) // step + 1
    w = np.ones(frame_length) if window is None else window
    scale = 1.0 if window is None or scaling is None else (
        np.sqrt(np.sum(w**2)) if scaling == "density" else np.sum(np.abs(w)))
    framed = np.stack([x[:, t * step: t * step + frame_length, :] for t in range(frames)], axis=1)  # b,T,L,c
    spec = np.fft.rfft(framed * w[None, None, :, None] / scale, n=fft_length, axis=2)  # b,T,F,c
    return spec.transpose(0, 3, 2, 1)  # b, c, F, T


def _np_mode(spec, mode):
    power = spec.real**2 + spec.imag**2
    if mode == "real":
        return spec.real
    if mode == "imag":
        return spec.imag
    if mode == "angle":
        return np.arctan2(spec.imag, spec.real)
    if mode == "stft":
        return np.concatenate([spec.real, spec.imag], axis=2)
    if mode == "psd":
        out = power.copy()
        out[:, :, 1:-1] *= 2
        return out
    magnitude = np.sqrt(np.maximum(power, 1e-7))
    return magnitude if mode == "magnitude" else np.log(np.maximum(magnitude, 1e-7))


def _channels_last(out):  # (b, c, F, T) -> (b, T, c * F), channel-major
    b, c, f, t = out.shape
    return out.reshape(b, c * f, t).transpose(0, 2, 1)


@pytest.mark.parametrize("mode", ["log", "magnitude", "psd", "real", "imag", "angle", "stft"])
def test_stft_modes_match_numpy_rfft(mode):
    x = np.random.RandomState(1).randn(2, 50, 2)
    layer = STFTSpectrogram(mode=mode, frame_length=12, frame_step=5, fft_length=16, dtype="float64")
    got = layer(torch.as_tensor(x)).detach().numpy()
    want = _channels_last(_np_mode(_np_stft(x, 12, 5, 16, np.hanning(12), "density", "valid"), mode))
    if mode == "angle":  # +-pi are the same angle (the DC and Nyquist bins have an imaginary part of +-0)
        got = want + (got - want + np.pi) % (2 * np.pi) - np.pi
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    assert got.shape == (2, 8, 2 * (18 if mode == "stft" else 9))
    assert layer.compute_output_shape((None, 50, 2)) == (None, 8, got.shape[-1])


@pytest.mark.parametrize("window,periodic,scaling,padding", [
    ("hann", True, "spectrum", "same"), ("hamming", False, None, "valid"), (None, False, "density", "same")])
def test_stft_windows_scaling_padding(window, periodic, scaling, padding):
    x = np.random.RandomState(2).randn(3, 37, 1)
    layer = STFTSpectrogram(mode="stft", frame_length=8, frame_step=3, fft_length=8, window=window,
                            periodic=periodic, scaling=scaling, padding=padding, dtype="float64")
    got = layer(torch.as_tensor(x)).detach().numpy()
    w = None if window is None else _np_window(window, 8, periodic)
    want = _channels_last(_np_mode(_np_stft(x, 8, 3, 8, w, scaling, padding), "stft"))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    frames = math.ceil(37 / 3) if padding == "same" else (37 - 8) // 3 + 1
    assert got.shape == (3, frames, 10)


def test_stft_layouts_custom_window_and_defaults():
    x = np.random.RandomState(3).randn(2, 40, 3)
    w = np.linspace(0.1, 1.0, 16)
    spec = _np_mode(_np_stft(x, 16, 8, 16, w, "density", "valid"), "magnitude")  # b, c, F, T
    expand = STFTSpectrogram(mode="magnitude", frame_length=16, window=w, expand_dims=True, dtype="float64")
    np.testing.assert_allclose(expand(torch.as_tensor(x)).detach().numpy(), spec.transpose(0, 3, 2, 1), atol=1e-9)
    first = STFTSpectrogram(mode="magnitude", frame_length=16, window=list(w), data_format="channels_first",
                            dtype="float64")
    xf = torch.as_tensor(x.transpose(0, 2, 1).copy())
    np.testing.assert_allclose(first(xf).detach().numpy(), spec.reshape(2, 3 * 9, -1), atol=1e-9)
    first_expand = STFTSpectrogram(mode="magnitude", frame_length=16, window=w, data_format="channels_first",
                                   expand_dims=True, dtype="float64")
    np.testing.assert_allclose(first_expand(xf).detach().numpy(), spec.transpose(0, 1, 3, 2), atol=1e-9)
    # frame_step defaults to frame_length // 2, fft_length to the next power of two
    default = STFTSpectrogram(frame_length=12)
    assert default(torch.randn(1, 30, 1)).shape == (1, (30 - 12) // 6 + 1, 16 // 2 + 1)


def test_stft_keras_documented_shapes_and_weights():
    # Keras's docstring: 3 tracks of 160000 samples (shapes only: compute_output_shape).
    layer = STFTSpectrogram(mode="log", frame_length=256, frame_step=128, fft_length=512, trainable=False)
    assert layer.compute_output_shape((3, 160000, 1)) == (3, 1249, 257)
    same = STFTSpectrogram(mode="log", frame_length=256, frame_step=128, fft_length=512, window="hamming",
                           padding="same")
    assert same.compute_output_shape((3, 160000, 2)) == (3, 1250, 514)
    image = STFTSpectrogram(mode="log", frame_length=256, frame_step=128, fft_length=512, padding="same",
                            expand_dims=True)
    assert image.compute_output_shape((3, 160000, 3)) == (3, 1250, 257, 3)
    assert tuple(image(torch.rand(3, 1000, 3)).shape) == image.compute_output_shape((3, 1000, 3)) == (3, 8, 257, 3)
    layer(torch.rand(1, 512, 1))
    assert layer.count_params() == 2 * 256 * 257 and layer.trainable_weights == []
    assert [w.shape for w in layer.get_weights()] == [(256, 1, 257), (256, 1, 257)]
    real = STFTSpectrogram(mode="real", frame_length=8)
    real(torch.rand(1, 16, 1))
    assert real.count_params() == 8 * 5


def test_stft_kernels_train():
    layer = STFTSpectrogram(mode="magnitude", frame_length=8, frame_step=4)
    out = layer(torch.randn(2, 32, 1))
    out.sum().backward()
    assert layer.real_kernel.grad.abs().sum() > 0 and layer.imag_kernel.grad.abs().sum() > 0


def test_stft_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        STFTSpectrogram(mode="power")
    with pytest.raises(ValueError, match="frame_step"):
        STFTSpectrogram(frame_length=8, frame_step=9)
    with pytest.raises(ValueError, match="fft_length"):
        STFTSpectrogram(frame_length=8, fft_length=4)
    with pytest.warns(UserWarning, match="power of two"):
        STFTSpectrogram(frame_length=8, fft_length=12)
    with pytest.raises(ValueError, match="window"):
        STFTSpectrogram(window="kaiser")
    with pytest.raises(ValueError, match="window"):
        STFTSpectrogram(frame_length=8, window=np.ones(7))
    with pytest.raises(ValueError, match="scaling"):
        STFTSpectrogram(scaling="l2")
    with pytest.raises(ValueError, match="padding"):
        STFTSpectrogram(padding="causal")
    with pytest.raises(ValueError, match="data_format"):
        STFTSpectrogram(data_format="nchw")
    layer = STFTSpectrogram(frame_length=8)
    with pytest.raises(ValueError, match="rank 3"):
        layer(torch.randn(2, 32))
    with pytest.raises(TypeError, match="float"):
        layer(torch.ones(2, 32, 1, dtype=torch.int64))
    with pytest.raises(ValueError, match="frame_length=8"):
        layer(torch.randn(2, 5, 1))


def test_stft_config_round_trip_and_functional_model(tmp_path):
    layer = STFTSpectrogram(mode="psd", frame_length=8, frame_step=4, fft_length=16, window=np.hanning(8),
                            periodic=True, scaling="spectrum", padding="same", name="stft_cfg")
    config = layer.get_config()
    assert config["window"] == pytest.approx(list(np.hanning(8))) and config["frame_step"] == 4
    clone = STFTSpectrogram.from_config(config)
    assert clone.get_config() == config
    x = torch.randn(2, 30, 1)
    torch.testing.assert_close(clone(x), layer(x))
    inputs = easynn.Input(shape=(64, 1))
    spec = STFTSpectrogram(mode="log", frame_length=16, frame_step=8, name="stft")(inputs)
    assert tuple(spec.shape) == (None, 7, 9)
    model = easynn.Model(inputs, Dense(2)(Flatten()(spec)))
    signals = torch.randn(4, 64, 1)
    want = model.predict(signals, verbose=0)
    model.save(tmp_path / "stft.keras")
    restored = easynn.models.load_model(tmp_path / "stft.keras")
    np.testing.assert_allclose(np.asarray(restored.predict(signals, verbose=0)), np.asarray(want), rtol=1e-5,
                               atol=1e-6)


# ----------------------------------------------------------------------------------------- Mel
def _np_mel_matrix(num_mel_bins, num_bins, sampling_rate, low, high):
    """The HTK triangles, written bin by bin from the documented formula mel(f) = 1127 ln(1 + f / 700)."""
    def mel(f):
        return 1127.0 * math.log(1.0 + f / 700.0)

    edges = [mel(low) + (mel(high) - mel(low)) * i / (num_mel_bins + 1) for i in range(num_mel_bins + 2)]
    matrix = np.zeros((num_bins, num_mel_bins))
    for k in range(1, num_bins):  # bin 0 (DC) stays zero
        m_k = mel(k * (sampling_rate / 2.0) / (num_bins - 1))
        for m in range(num_mel_bins):
            lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
            matrix[k, m] = max(0.0, min((m_k - lo) / (mid - lo), (hi - m_k) / (hi - mid)))
    return matrix


def _np_mel(x, fft_length, stride, seq_len, window, sampling_rate, num_mel_bins, min_freq, max_freq, mag_exp):
    """(batch, samples) -> (batch, num_mel_bins, frames) before decibels."""
    half = fft_length // 2
    padded = np.pad(x, ((0, 0), (half, half)), mode="reflect")
    frames = 1 + (padded.shape[1] - fft_length) // stride
    left = (fft_length - seq_len) // 2
    w = np.zeros(fft_length)
    w[left:left + seq_len] = window  # the window centred in the FFT frame, as torch.stft / keras.ops.stft
    framed = np.stack([padded[:, t * stride: t * stride + fft_length] for t in range(frames)], axis=1)
    power = np.abs(np.fft.rfft(framed * w, axis=-1)) ** mag_exp  # (b, T, bins)
    mel = power @ _np_mel_matrix(num_mel_bins, fft_length // 2 + 1, sampling_rate, min_freq, max_freq)
    return mel.transpose(0, 2, 1)


def _np_db(mel, min_power=1e-10, ref_power=1.0, top_db=80.0):
    db = 10 * np.log10(np.maximum(mel, min_power)) - 10 * np.log10(max(abs(ref_power), min_power))
    return np.maximum(db, db.max() - top_db)


def test_mel_matches_numpy_power_and_db():
    x = np.random.RandomState(4).randn(2, 300)
    kwargs = dict(fft_length=64, sequence_stride=16, sampling_rate=8000, num_mel_bins=12, min_freq=50.0,
                  max_freq=3500.0)
    want = _np_mel(x, 64, 16, 64, _np_window("hann", 64, True), 8000, 12, 50.0, 3500.0, 2.0)
    raw = MelSpectrogram(power_to_db=False, **kwargs)(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(raw, want, rtol=1e-9, atol=1e-12)
    assert raw.shape == (2, 12, 1 + 300 // 16)
    db = MelSpectrogram(ref_power=2.0, top_db=6.0, **kwargs)(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(db, _np_db(want, ref_power=2.0, top_db=6.0), rtol=1e-9, atol=1e-9)
    assert db.min() == pytest.approx(db.max() - 6.0)  # the floor bites on this signal
    unclipped = MelSpectrogram(**kwargs)(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(unclipped, 10 * np.log10(want), rtol=1e-9, atol=1e-9)


def test_mel_short_window_hamming_magnitude_and_float32():
    x = np.random.RandomState(5).randn(1, 200)
    layer = MelSpectrogram(fft_length=32, sequence_stride=10, sequence_length=20, window="hamming", mag_exp=1.0,
                           sampling_rate=1000, num_mel_bins=6, min_freq=0.0, power_to_db=False)
    want = _np_mel(x, 32, 10, 20, _np_window("hamming", 20, True), 1000, 6, 0.0, 500.0, 1.0)
    np.testing.assert_allclose(layer(torch.as_tensor(x)).numpy(), want, rtol=1e-9, atol=1e-12)
    single = layer(torch.as_tensor(x[0], dtype=torch.float32))  # unbatched, float32
    assert single.dtype == torch.float32 and single.shape == (6, 21)
    np.testing.assert_allclose(single.numpy(), want[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        MelSpectrogram(fft_length=32, sequence_stride=10, window=None, sampling_rate=1000, num_mel_bins=6,
                       power_to_db=False)(torch.as_tensor(x)).numpy(),
        _np_mel(x, 32, 10, 32, np.ones(32), 1000, 6, 20.0, 500.0, 2.0), rtol=1e-9, atol=1e-12)


def test_mel_keras_documented_shapes_and_batch_wide_top_db():
    audio = torch.rand(16000)
    layer = MelSpectrogram(num_mel_bins=64, sampling_rate=8000, sequence_stride=256, fft_length=2048)
    assert layer(audio).shape == (64, 63) and layer.compute_output_shape((16000,)) == (64, 63)
    batched = MelSpectrogram(num_mel_bins=80, sampling_rate=8000, sequence_stride=128, fft_length=2048)
    # Keras's docstring prints (2, 80, 125), but its compute_output_shape ((16000 + 128 + 1) // 128) and
    # every backend's centred STFT (1 + 16000 // 128 frames) give 126.
    assert batched(torch.rand(2, 16000)).shape == (2, 80, 126)
    assert batched.compute_output_shape((None, 16000)) == (None, 80, 126)
    loud, quiet = torch.randn(400), 1e-6 * torch.randn(400)
    out = MelSpectrogram(fft_length=64, sequence_stride=32, num_mel_bins=8)(torch.stack([loud, quiet]))
    assert out.max() == out[0].max()  # the clipping floor is the batch's max - top_db, as Keras
    assert torch.all(out[1] == out.max() - 80.0)
    assert MelSpectrogram().max_freq == 8000 and MelSpectrogram().sequence_length == 2048


def test_mel_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="fft_length"):
        MelSpectrogram(fft_length=256, sequence_length=512)
    with pytest.raises(ValueError, match="sequence_stride"):
        MelSpectrogram(sequence_stride=0)
    with pytest.raises(ValueError, match="window"):
        MelSpectrogram(window="blackman")
    with pytest.raises(ValueError, match="window"):
        MelSpectrogram(fft_length=16, window=np.ones(8))
    with pytest.raises(ValueError, match="num_mel_bins"):
        MelSpectrogram(num_mel_bins=0)
    with pytest.raises(ValueError, match="max_freq"):
        MelSpectrogram(min_freq=5000.0, max_freq=4000.0)
    layer = MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=4)
    with pytest.raises(ValueError, match="rank|shape"):
        layer(torch.randn(2, 3, 100))
    with pytest.raises(ValueError, match="fft_length // 2 = 32"):
        layer(torch.randn(2, 20))


def test_mel_config_round_trip_and_functional_model(tmp_path):
    layer = MelSpectrogram(fft_length=64, sequence_stride=16, sequence_length=48, window=np.hanning(48),
                           sampling_rate=8000, num_mel_bins=10, min_freq=30.0, max_freq=3000.0, top_db=60.0,
                           mag_exp=1.0, min_power=1e-8, ref_power=0.5, name="mel_cfg")
    config = layer.get_config()
    clone = MelSpectrogram.from_config(config)
    assert clone.get_config() == config and config["sequence_length"] == 48 and config["max_freq"] == 3000.0
    x = torch.randn(2, 256)
    torch.testing.assert_close(clone(x), layer(x))
    inputs = easynn.Input(shape=(256,))
    mel = MelSpectrogram(fft_length=64, sequence_stride=32, num_mel_bins=8, name="mel")(inputs)
    assert tuple(mel.shape) == (None, 8, 9)
    model = easynn.Model(inputs, Dense(1)(Flatten()(mel)))
    want = model.predict(x, verbose=0)
    model.save(tmp_path / "mel.keras")
    restored = easynn.models.load_model(tmp_path / "mel.keras")
    np.testing.assert_allclose(np.asarray(restored.predict(x, verbose=0)), np.asarray(want), rtol=1e-5, atol=1e-5)
