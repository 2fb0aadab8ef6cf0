"""initializers.STFT (Keras's STFT / STFTInitializer / stft): kernels against np.fft.rfft, names, config, errors."""

import numpy as np
import pytest
import torch

from easynn import initializers
from easynn.initializers import STFT
from easynn.layers import STFTSpectrogram

NP_WINDOWS = {"hann": np.hanning, "hamming": np.hamming, "blackman": np.blackman, "bartlett": np.bartlett}


def _np_window(name, length, periodic):
    make = NP_WINDOWS[name]
    return make(length + 1)[:-1] if periodic else make(length)


@pytest.mark.parametrize("window", ["hann", "hamming", "blackman", "bartlett", None, "array"])
@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("scaling", ["density", "spectrum", None])
def test_kernels_compute_rfft_of_the_windowed_frame(window, periodic, scaling):
    frame_length, fft_length = 10, 16
    rng = np.random.default_rng(1)
    frame = rng.standard_normal(frame_length)
    if window == "array":
        window = rng.uniform(0.1, 1.0, frame_length).tolist()
        w = np.asarray(window)
    else:
        w = None if window is None else _np_window(window, frame_length, periodic)
    shape = (frame_length, 1, fft_length // 2 + 1)
    real = STFT("real", window, scaling, periodic)(shape, dtype=torch.float64)
    imag = STFT("imag", window, scaling, periodic)(shape, dtype=torch.float64)
    assert real.shape == imag.shape == shape and real.dtype == torch.float64
    if w is None:
        expected = np.fft.rfft(frame, n=fft_length)
    else:
        s = 1.0 if scaling is None else (np.sqrt(np.sum(w**2)) if scaling == "density" else np.sum(np.abs(w)))
        expected = np.fft.rfft(w * frame / s, n=fft_length)
    x = torch.tensor(frame)[:, None]
    np.testing.assert_allclose((x * real[:, 0, :]).sum(0).numpy(), expected.real, atol=1e-12)
    np.testing.assert_allclose((x * imag[:, 0, :]).sum(0).numpy(), expected.imag, atol=1e-12)


def test_hand_values_and_keras_docstring_shape():
    real = STFT("real", window=None)((4, 1, 3))[:, 0, :]
    assert torch.allclose(real, torch.tensor([[1.0, 1, 1], [1, 0, -1], [1, -1, 1], [1, 0, -1]]), atol=1e-7)
    imag = STFT("imag", window=None)((4, 1, 3))[:, 0, :]
    assert torch.allclose(imag, torch.tensor([[0.0, 0, 0], [0, -1, 0], [0, 0, 0], [0, 1, 0]]), atol=1e-7)
    values = initializers.STFTInitializer("real", "hann", "density", False)(shape=(128, 1, 513))
    assert values.shape == (128, 1, 513) and values.dtype == torch.float32
    # density scaling: the DC column is the window over its L2 norm, so its squares sum to 1
    assert torch.isclose(values[:, 0, 0].double().square().sum(), torch.tensor(1.0, dtype=torch.float64))
    assert STFT(window=None)((1, 1, 1)).tolist() == [[[1.0]]]  # one bin (N = 1): the DC term, no NaN


def test_names_registry_and_config():
    assert initializers.STFTInitializer is STFT and initializers.stft is STFT
    for name in ("stft", "STFT", "STFTInitializer"):
        init = initializers.get(name)
        assert isinstance(init, STFT) and init.get_config() == {
            "side": "real", "window": "hann", "periodic": False, "scaling": "density"}
    init = STFT("imag", window=[0.5, 1.0, 0.5], scaling="spectrum", periodic=True)
    back = initializers.deserialize(initializers.serialize(init))
    assert isinstance(back, STFT) and back.get_config() == init.get_config()
    assert torch.equal(back((3, 1, 3)), init((3, 1, 3)))
    keras_style = initializers.get({"class_name": "STFTInitializer", "config": {"side": "imag", "window": None}})
    assert keras_style.side == "imag" and keras_style.window is None


def test_stft_spectrogram_weights_are_the_initializer():
    layer = STFTSpectrogram(mode="stft", frame_length=12, fft_length=16, window="hamming", periodic=True,
                            scaling="spectrum")
    layer(torch.zeros(1, 40, 1))
    shape = (12, 1, 9)
    assert torch.equal(layer.real_kernel.detach(), STFT("real", "hamming", "spectrum", True)(shape))
    assert torch.equal(layer.imag_kernel.detach(), STFT("imag", "hamming", "spectrum", True)(shape))


def test_bad_arguments():
    with pytest.raises(ValueError, match="side"):
        STFT("complex")
    with pytest.raises(ValueError, match="window"):
        STFT(window="kaiser")
    with pytest.raises(ValueError, match="window"):
        STFT(window=[[1.0, 2.0]])
    with pytest.raises(ValueError, match="scaling"):
        STFT(scaling="power")
    with pytest.raises(TypeError, match="periodic"):
        STFT(periodic="yes")
    with pytest.raises(ValueError, match="shape"):
        STFT()((8, 5))
    with pytest.raises(ValueError, match="frame_length"):
        STFT(window=[1.0, 1.0, 1.0])((4, 1, 3))
    with pytest.raises(ValueError, match="window"):
        STFTSpectrogram(window="kaiser")
