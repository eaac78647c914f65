"""The synthetic tones set and its NumPy features: shapes, seeds, waveform facts, accuracy."""

import numpy as np
import pytest

from numnet import MLP, datasets, fit
from numnet.datasets import _oscillator
from numnet.features import FEATURE_NAMES, clip_features


def test_shapes_labels_and_registry():
    X, y = datasets.tones(50, random_state=0)
    assert X.shape == (50, len(FEATURE_NAMES)) and X.dtype == np.float64
    assert y.shape == (50,) and np.isfinite(X).all()
    assert np.bincount(y).tolist() == [13, 13, 12, 12]          # as even as 50 allows
    clips, y, sr = datasets.tones(6, classes=("noise", "sine"), duration=0.1, sample_rate=8000,
                                  return_audio=True, random_state=0)
    assert clips.shape == (6, 800) and sr == 8000 and set(y.tolist()) == {0, 1}
    X, y = datasets.get_dataset("tones", n_samples=8, random_state=0)
    assert X.shape == (8, len(FEATURE_NAMES))


def test_seeded_and_deterministic():
    a, ya = datasets.tones(20, random_state=3)
    b, yb = datasets.tones(20, random_state=3)
    c, _ = datasets.tones(20, random_state=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, c)
    # More clips than one block of generation and of feature computation (256): the
    # features of the returned clips are the features returned.
    clips, y, _ = datasets.tones(300, random_state=3, return_audio=True)
    X, y_again = datasets.tones(300, random_state=3)
    np.testing.assert_array_equal(clip_features(clips, 16000), X)
    np.testing.assert_array_equal(y, y_again)


def test_waveforms_have_their_textbook_shape():
    # Without background noise each oscillator has known level-free statistics:
    # crest factor sqrt(2), 1, sqrt(3); kurtosis 1.5, 1, 1.8 (3 for Gaussian noise);
    # a sine's power sits in one spectral peak, a square wave's 8 / pi^2 of it, a
    # sawtooth's 6 / pi^2 (less at high pitch, where the band limit cuts harmonics).
    X, y = datasets.tones(200, noise=0.0, random_state=0)
    f = {name: X[:, i] for i, name in enumerate(FEATURE_NAMES)}
    sine, square, saw, noise = (y == k for k in range(4))
    np.testing.assert_allclose(f["crest_factor"][sine], np.sqrt(2), rtol=0.01)
    np.testing.assert_allclose(f["kurtosis"][sine], 1.5, rtol=0.01)
    np.testing.assert_allclose(f["peak_power_ratio"][sine], 1.0, atol=0.01)
    np.testing.assert_allclose(f["crest_factor"][square], 1.0, atol=0.06)
    np.testing.assert_allclose(f["kurtosis"][square], 1.0, atol=0.08)
    np.testing.assert_allclose(f["peak_power_ratio"][square], 8 / np.pi ** 2, atol=0.08)
    np.testing.assert_allclose(f["crest_factor"][saw], np.sqrt(3), rtol=0.04)
    np.testing.assert_allclose(f["kurtosis"][saw], 1.8, rtol=0.03)
    np.testing.assert_allclose(f["peak_power_ratio"][saw], 6 / np.pi ** 2, atol=0.1)
    np.testing.assert_allclose(f["kurtosis"][noise], 3.0, atol=0.4)
    assert (f["spectral_flatness_db"][noise] > -4).all()          # white: about -2.5 dB
    assert (f["spectral_flatness_db"][~noise] < -20).all()
    # The pitch is drawn from 110-880 Hz: a sine's centroid is its frequency.
    assert (f["spectral_centroid"][sine] > 100).all() and (f["spectral_centroid"][sine] < 900).all()


def test_levels_and_background_noise():
    clips, y, sr = datasets.tones(200, classes=("sine", "square", "sawtooth"), noise=0.0,
                                  return_audio=True, random_state=0)
    peak_db = 20 * np.log10(np.abs(clips).max(axis=1))
    assert peak_db.min() > -31 and peak_db.max() < -3 + 1e-9     # drawn from [-30, -3] dB
    noisy, _, _ = datasets.tones(200, classes=("sine", "square", "sawtooth"), noise=0.1,
                                 return_audio=True, random_state=0)
    rms = np.sqrt(np.mean(clips ** 2, axis=1))
    residual = np.sqrt(np.mean((noisy - clips) ** 2, axis=1))
    np.testing.assert_allclose(residual / rms, 0.1, rtol=0.1)     # noise is relative to RMS


@pytest.mark.parametrize("name", ["square", "sawtooth"])
def test_band_limited_oscillators_alias_less_than_naive_ones(name):
    # 1234.5 Hz at 8 kHz: only the first three harmonics fit below 4 kHz. A naive
    # oscillator folds the rest back between them (measured: 90 % of a square wave's
    # power on its harmonics, 83 % of a sawtooth's); PolyBLEP keeps 99.97 % and 99.6 %.
    sr, f0 = 8000, 1234.5
    phase = ((0.3 + f0 * np.arange(sr) / sr) % 1.0)[None]
    band_limited = _oscillator(name, phase, np.array([[f0 / sr]]), np.random.default_rng(0))[0]
    naive = np.where(phase[0] < 0.5, 1.0, -1.0) if name == "square" else 2 * phase[0] - 1
    harmonic = np.zeros(sr // 2 + 1, dtype=bool)                   # 1 Hz bins
    for k in range(1, int(sr / 2 / f0) + 1):
        harmonic[round(k * f0) - 4:round(k * f0) + 5] = True

    def share(x):
        power = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
        return power[harmonic].sum() / power.sum()

    assert share(band_limited) > 0.99 > 0.95 > share(naive)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tones_are_learnable(seed):
    # Measured: held-out accuracy 1.0 on every one of 20 seeds with this set-up (and 0.995
    # at noise=1.0, a 0 dB signal-to-noise ratio); 0.95 leaves a wide margin.
    X, y = datasets.tones(400, random_state=seed)
    mean, std = X[:300].mean(axis=0), X[:300].std(axis=0)
    net = MLP(X.shape[1], [16], 4, activation="relu", output_activation="softmax",
              random_state=seed)
    fit(net, (X[:300] - mean) / std, y[:300], optimizer="adam", learning_rate=0.01, epochs=30,
        verbose=False, random_state=seed)
    accuracy = np.mean(net.predict((X[300:] - mean) / std) == y[300:])
    assert accuracy >= 0.95


def test_bad_arguments():
    with pytest.raises(ValueError, match="classes"):
        datasets.tones(10, classes=("sine", "violin"))
    with pytest.raises(ValueError, match="classes"):
        datasets.tones(10, classes=("sine", "sine"))
    with pytest.raises(ValueError, match="duration"):
        datasets.tones(10, duration=0.01)
    with pytest.raises(ValueError, match="sample_rate"):
        datasets.tones(10, sample_rate=4000)
    with pytest.raises(ValueError, match="n_samples"):
        datasets.tones(0)
    with pytest.raises(ValueError, match="noise"):
        datasets.tones(10, noise=-1.0)


def test_clip_features_checks_its_input():
    rng = np.random.default_rng(0)
    clip = rng.standard_normal(2048)
    assert clip_features(clip, 16000).shape == (len(FEATURE_NAMES),)
    np.testing.assert_array_equal(clip_features(clip, 16000),
                                  clip_features(clip[None], 16000)[0])
    np.testing.assert_allclose(clip_features(0.5 * clip, 16000)[1:],     # only rms_db moves
                               clip_features(clip, 16000)[1:], rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="fewer than n_fft"):
        clip_features(clip[:100], 16000)
    with pytest.raises(ValueError, match="clip 1 is silent"):
        clip_features(np.stack([clip, np.zeros(2048)]), 16000)
    with pytest.raises(ValueError, match="clip 0 holds NaN"):
        clip_features(np.full(2048, np.nan), 16000)
