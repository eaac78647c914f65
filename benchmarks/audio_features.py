"""Audio features that hold up: held-out "speakers", clean and perturbed, old and new features.

``python -m benchmarks.audio_features [--grid]`` synthesises spoken-word-like
clips with NumPy alone (:func:`corpus`): ten "words", each a sequence of
segments (vowels as harmonic series shaped by three formants, nasals, noise
fricatives, stops), said by "speakers" who differ in pitch, vocal-tract length
(formant scale), speed and level, each utterance jittered and framed by digital
silence as text-to-speech output is. Some speakers are held out. Then, for each
feature setting, a numnet MLP is trained on the standardised features of the
training speakers and scored on the held-out ones: clean, and perturbed the
ways a recording changes without changing its word (:data:`PERTURBATIONS`):
white noise at -90 dBFS, 40 dB quieter, 2 s of digital silence (1 s each side).
A baseline of librosa MFCC means and standard deviations + scikit-learn SVC
(RBF), without and with ``librosa.effects.trim``, runs on the same split.

``--grid`` also tries the variations the defaults of
:class:`numnet.audio.FeatureSettings` were chosen from; ``--seed 1 --held-out 8``
(four training speakers) is the split that tells them apart. Last, the time
:func:`numnet.audio.load_folder` takes over the clips as WAV files, first and
again with the feature cache. Runs in about a minute (``--grid``: two or three).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

RATE = 22050            # numnet.audio's default rate: no resampling in the benchmark

# Formants (Hz) of the vowels and nasals; centre and width (Hz) of the fricatives' noise.
VOWELS = {"a": (730, 1090, 2440), "i": (270, 2290, 3010), "u": (300, 870, 2240),
          "e": (530, 1840, 2480), "o": (570, 840, 2410), "ae": (660, 1720, 2410),
          "m": (250, 1000, 2200), "n": (250, 1500, 2500)}
NOISES = {"s": (6000, 2500), "sh": (3000, 1200), "f": (4500, 5000), "t": (4000, 3000),
          "k": (2000, 1500)}
# Each word: (sound, duration in s); "-" is a closure (silence inside the word).
WORDS = {
    "sai": [("s", 0.12), ("a", 0.14), ("i", 0.14)],
    "sia": [("s", 0.12), ("i", 0.14), ("a", 0.14)],
    "kai": [("-", 0.05), ("k", 0.04), ("a", 0.14), ("i", 0.14)],
    "mo": [("m", 0.10), ("o", 0.22)],
    "nu": [("n", 0.10), ("u", 0.22)],
    "feo": [("f", 0.12), ("e", 0.12), ("o", 0.14)],
    "shu": [("sh", 0.14), ("u", 0.20)],
    "tae": [("-", 0.05), ("t", 0.04), ("ae", 0.22)],
    "ia": [("i", 0.15), ("a", 0.17)],
    "au": [("a", 0.15), ("u", 0.17)],
}


def speaker(rng: np.random.Generator) -> dict[str, float]:
    """One voice: pitch (Hz), formant scale, speed, peak level (dBFS), breathiness."""
    return {"f0": rng.uniform(85, 260), "formants": rng.uniform(0.85, 1.2),
            "speed": rng.uniform(0.75, 1.3), "level_db": rng.uniform(-30, -6),
            "breath": rng.uniform(0.005, 0.03)}


def utter(word: str, voice: dict[str, float], rng: np.random.Generator,
          sr: int = RATE) -> np.ndarray:
    """One utterance of ``word`` by ``voice``, jittered: ``(n_samples,)`` float64, framed by
    0.1 to 0.5 s of digital silence on each side."""
    segments = WORDS[word]
    speed = voice["speed"] * rng.uniform(0.9, 1.1)
    durations = np.array([d for _, d in segments]) / speed * rng.uniform(0.9, 1.1, len(segments))
    bounds = np.concatenate([[0.0], np.cumsum(durations)])
    n = int(bounds[-1] * sr)
    t = np.arange(n) / sr
    scale = voice["formants"] * rng.uniform(0.97, 1.03)
    # Parameter tracks: targets held in each segment's middle, 30 ms glides between them.
    knots, f_tracks, voiced = [], [], []
    for (sound, _), a, b in zip(segments, bounds[:-1], bounds[1:], strict=True):
        glide = min(0.015, (b - a) / 4)
        formants = VOWELS.get(sound, (500, 1500, 2500))
        amp = 1.0 if sound in VOWELS and sound not in "mn" else 0.35 if sound in VOWELS else 0.0
        for x in (a + glide, b - glide):
            knots.append(x)
            f_tracks.append([f * scale for f in formants])
            voiced.append(amp)
    knots_a, tracks = np.array(knots), np.array(f_tracks)
    F = np.stack([np.interp(t, knots_a, tracks[:, j]) for j in range(3)])      # (3, n)
    amp = np.interp(t, knots_a, voiced)
    f0 = voice["f0"] * rng.uniform(0.95, 1.05) * np.linspace(1.1, 0.9, n) * (
        1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = np.zeros(n)
    widths = np.array([90.0, 110.0, 160.0])[:, None]
    gains = np.array([1.0, 0.6, 0.3])[:, None]
    for k in range(1, int(5000 / f0.min()) + 1):
        fk = k * f0
        envelope = (gains / (1 + ((fk - F) / widths) ** 2)).sum(axis=0) / np.sqrt(k)
        y += np.where(fk < 5000, envelope, 0.0) * np.sin(k * phase)
    y *= amp
    y += voice["breath"] * amp * rng.standard_normal(n)
    for (sound, _), a, b in zip(segments, bounds[:-1], bounds[1:], strict=True):
        if sound in NOISES:
            i, j = int(a * sr), int(b * sr)
            y[i:j] += 0.25 * _band_noise(j - i, *NOISES[sound], rng, sr) * np.hanning(j - i)
    fade = np.minimum(1.0, np.minimum(t / 0.02, (t[-1] - t) / 0.04))
    y *= fade
    peak = 10 ** ((voice["level_db"] + rng.uniform(-3, 3)) / 20)
    y *= peak / np.abs(y).max()
    before, after = (np.zeros(int(rng.uniform(0.1, 0.5) * sr)) for _ in range(2))
    return np.concatenate([before, y, after])


def _band_noise(n: int, centre: float, width: float, rng: np.random.Generator,
                sr: int) -> np.ndarray:
    """White noise shaped by a Gaussian band around ``centre`` Hz: ``(n,)``, RMS 1."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    x = np.fft.irfft(spectrum * np.exp(-0.5 * ((f - centre) / (width / 2)) ** 2), n)
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-12)


def corpus(n_speakers: int = 12, repeats: int = 3, seed: int = 0
           ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """``(clips, words (n,), speaker ids (n,))``: every speaker says every word ``repeats``
    times, at :data:`RATE`."""
    rng = np.random.default_rng(seed)
    clips, words, speakers = [], [], []
    for s in range(n_speakers):
        voice = speaker(rng)
        for word in WORDS:
            for _ in range(repeats):
                clips.append(utter(word, voice, rng))
                words.append(word)
                speakers.append(s)
    return clips, np.array(words), np.array(speakers)


def add_noise(y: np.ndarray, seed: int) -> np.ndarray:
    """White noise at -90 dBFS RMS added everywhere (the silence included)."""
    return y + 10 ** (-90 / 20) * np.random.default_rng(seed).standard_normal(len(y))


PERTURBATIONS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "clean": lambda y, seed: y,
    "noise -90 dBFS": add_noise,
    "40 dB quieter": lambda y, seed: y * 0.01,
    "2 s silence": lambda y, seed: np.concatenate([np.zeros(RATE), y, np.zeros(RATE)]),
}


def numnet_accuracy(Xtr: np.ndarray, ytr: np.ndarray, tests: dict[str, tuple[np.ndarray,
                    np.ndarray]], seed: int = 0) -> dict[str, float]:
    """A numnet MLP (one hidden layer of 64 ReLU units, Adam) on standardised features."""
    from numnet import MLP, fit
    mean, std = Xtr.mean(axis=0), Xtr.std(axis=0)
    std[std == 0] = 1.0
    classes = np.unique(ytr)
    net = MLP(Xtr.shape[1], [64], len(classes), activation="relu",
              output_activation="softmax", random_state=seed)
    fit(net, (Xtr - mean) / std, ytr, optimizer="adam", learning_rate=0.003, epochs=80,
        batch_size=32, verbose=False, random_state=seed)
    return {name: float(np.mean(net.predict((X - mean) / std) == y)) if len(y) else 0.0
            for name, (X, y) in tests.items()}


def librosa_mfcc(y: np.ndarray, trim: bool) -> np.ndarray:
    """The usual baseline: 13 MFCCs' means and standard deviations (librosa defaults)."""
    import librosa
    y = y.astype(np.float32)
    if trim:
        y, _ = librosa.effects.trim(y, top_db=40)
    m = librosa.feature.mfcc(y=y, sr=RATE, n_mfcc=13)
    return np.concatenate([m.mean(axis=1), m.std(axis=1)])


def svc_accuracy(Xtr: np.ndarray, ytr: np.ndarray, tests: dict[str, tuple[np.ndarray,
                 np.ndarray]]) -> dict[str, float]:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    model = make_pipeline(StandardScaler(), SVC(C=10.0)).fit(Xtr, ytr)
    return {name: float(np.mean(model.predict(X) == y)) if len(y) else 0.0
            for name, (X, y) in tests.items()}


def split(n_speakers: int, held_out: int, seed: int) -> tuple[list[np.ndarray], np.ndarray,
                                                              np.ndarray]:
    clips, words, speakers = corpus(n_speakers, seed=seed)
    test = speakers >= n_speakers - held_out
    return clips, words, test


def evaluate(features: Callable[[np.ndarray], np.ndarray], clips: list[np.ndarray],
             words: np.ndarray, test: np.ndarray, model: str = "numnet"
             ) -> tuple[dict[str, float], float]:
    """Accuracy on the held-out speakers per perturbation, and seconds of extraction."""
    from numnet.audio import AudioError
    started = time.perf_counter()
    train = [i for i in range(len(clips)) if not test[i]]
    held = [i for i in range(len(clips)) if test[i]]
    Xtr = np.array([features(clips[i]) for i in train])
    tests, refused = {}, {}
    for name, f in PERTURBATIONS.items():
        rows, labels, refused[name] = [], [], 0
        for i in held:
            try:
                rows.append(features(f(clips[i], i)))
                labels.append(words[i])
            except AudioError:              # refused (silent): counted as a miss
                refused[name] += 1
        tests[name] = (np.array(rows).reshape(len(rows), Xtr.shape[1]), np.array(labels))
    seconds = time.perf_counter() - started
    fit_score = numnet_accuracy if model == "numnet" else svc_accuracy
    scores = fit_score(Xtr, words[train], tests)
    return {name: scores[name] * len(tests[name][1]) / len(held) for name in scores}, seconds


def robustness(settings: Any, clips: list[np.ndarray], words: np.ndarray) -> float:
    """Worst, over the perturbations, of the median ratio (standardised distance between a
    clip and its perturbed self) / (median distance between clips of different words)."""
    from numnet import audio
    some = clips[::7]
    X = np.array([audio.features(y, RATE, settings) for y in some])
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-12
    Z = (X - mean) / std
    labels = words[::7]
    between = np.median([np.linalg.norm(Z[i] - Z[j]) for i in range(len(Z))
                         for j in range(i) if labels[i] != labels[j]])
    worst = 0.0
    for name, f in PERTURBATIONS.items():
        if name == "clean":
            continue
        distances = []
        for i, y in enumerate(some):
            try:
                p = (audio.features(f(y, i), RATE, settings) - mean) / std
            except audio.AudioError:          # refused as silent: as far as can be
                distances.append(np.inf)
            else:
                distances.append(float(np.linalg.norm(p - Z[i])))
        worst = max(worst, float(np.median(distances)) / between)
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="store_true", help="also try the variations")
    parser.add_argument("--speakers", type=int, default=12)
    parser.add_argument("--held-out", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from numnet import audio
    clips, words, test = split(args.speakers, args.held_out, args.seed)
    print(f"{len(clips)} clips, {len(set(words))} words, {args.speakers} speakers "
          f"({args.held_out} held out: {int(test.sum())} clips); "
          f"{np.mean([np.mean(c == 0) for c in clips]):.0%} of the samples are digital zeros")
    rows: dict[str, Any] = {
        "before (version 1 settings)": audio.FeatureSettings.from_dict({"version": 1}),
        "after (defaults)": audio.FeatureSettings(),
    }
    if args.grid:
        d = audio.FeatureSettings()
        rows.update({
            "no deltas": audio.FeatureSettings(deltas=0),
            "no mel_stats": audio.FeatureSettings(mel_stats=False),
            "no deltas, no mel_stats": audio.FeatureSettings(deltas=0, mel_stats=False),
            "segments=1": audio.FeatureSettings(segments=1),
            "segments=4": audio.FeatureSettings(segments=4),
            "trim_db=30": audio.FeatureSettings(trim_db=30.0),
            "trim_db=50": audio.FeatureSettings(trim_db=50.0),
            "top_db=60": audio.FeatureSettings(top_db=60.0),
            "normalize=False": audio.FeatureSettings(normalize=False),
            "trim_db=None": audio.FeatureSettings(trim_db=None),
        })
        assert d == audio.FeatureSettings()
    names = list(PERTURBATIONS)
    print(f"{'features':34s} {'model':7s} " + " ".join(f"{n:>15s}" for n in names)
          + "  robustness  extract s")
    for label, settings in rows.items():
        scores, seconds = evaluate(lambda y, s=settings: audio.features(y, RATE, s),
                                   clips, words, test)
        ratio = robustness(settings, clips, words)
        print(f"{label:34s} {'numnet':7s} " + " ".join(f"{scores[n]:15.3f}" for n in names)
              + f"  {ratio:10.3f}  {seconds:9.1f}", flush=True)
    for trim in (False, True):
        label = f"librosa MFCC{' + trim' if trim else ''}"
        scores, seconds = evaluate(lambda y, t=trim: librosa_mfcc(y, t), clips, words, test,
                                   model="svc")
        print(f"{label:34s} {'SVC':7s} " + " ".join(f"{scores[n]:15.3f}" for n in names)
              + f"  {'':10s}  {seconds:9.1f}", flush=True)
    print("robustness: worst over the perturbations of median |features(clip) - "
          "features(perturbed clip)| / median distance between different words "
          "(standardised features)")
    first, cached = cache_timing(clips, words)
    print(f"numnet.audio.load_folder of the {len(clips)} clips as 16-bit WAV files: "
          f"{first:.2f} s, again with the feature cache: {cached:.2f} s")


def cache_timing(clips: list[np.ndarray], words: np.ndarray) -> tuple[float, float]:
    """Seconds of :func:`numnet.audio.load_folder` over the clips written as WAV files: the
    first run (features computed and cached), then the second (read from the cache)."""
    import tempfile
    from pathlib import Path

    import soundfile as sf

    from numnet import audio
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "words"
        for i, (y, word) in enumerate(zip(clips, words, strict=True)):
            (root / word).mkdir(parents=True, exist_ok=True)
            sf.write(root / word / f"{i}.wav", y, RATE, subtype="PCM_16")
        times = []
        for _ in range(2):
            started = time.perf_counter()
            audio.load_folder(root, cache=Path(tmp) / "cache", progress=False)
            times.append(time.perf_counter() - started)
    return times[0], times[1]


if __name__ == "__main__":
    main()
