"""The Sound of AI, end to end: a folder of labelled clips -> a classifier -> a new clip.

1. Synthesise a small labelled folder of WAV files: sine, square and sawtooth
   tones and major chords at random pitches and levels, half of them 16 kHz
   mono 16-bit, half 22.05 kHz stereo float (``numnet.audio`` resamples and
   mixes them down).
2. Turn the folder into features (``numnet.audio.load_folder``: MFCC
   statistics, spectral shape, zero crossings, RMS).
3. Train an MLP with a softmax output (``numnet.fit``), evaluate it on held-out
   clips and print the confusion matrix.
4. Save the model with its feature settings, load it back, and classify a
   clip it has never heard.

Run ``python examples/sound_of_ai.py`` (``--quick``: 8 clips per class and 20 epochs;
``--folder DIR`` keeps the WAV files). Needs the ``audio`` and ``io``
extras: ``pip install 'numnet[audio,io]'``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from numnet import MLP, audio, datasets, fit

CLASSES = ("sine", "square", "sawtooth", "chord")
FORMATS = ((16000, 1, "PCM_16"), (22050, 2, "FLOAT"))   # (sample rate, channels, subtype)


def chord(rng: np.random.Generator, duration: float, sample_rate: int) -> np.ndarray:
    """A major triad (root, major third, fifth: frequency ratios 4:5:6) of soft sawtooth-like
    partials at a random root and level: (n_samples,)."""
    t = np.arange(round(duration * sample_rate)) / sample_rate
    root = np.exp(rng.uniform(np.log(110.0), np.log(440.0)))
    clip = np.zeros_like(t)
    for ratio in (1.0, 1.25, 1.5):
        f0 = root * ratio
        for k in range(1, 6):                                # a few harmonics, 1/k amplitude
            if k * f0 < sample_rate / 2:
                clip += np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi)) / k
    level = 10 ** (rng.uniform(-30, -3) / 20)
    return level * clip / np.abs(clip).max()


def clips_of(label: str, n: int, sample_rate: int, rng: np.random.Generator,
             duration: float) -> np.ndarray:
    """``n`` clips of one class at ``sample_rate``: (n, n_samples)."""
    if label == "chord":
        return np.stack([chord(rng, duration, sample_rate) for _ in range(n)])
    clips, _, _ = datasets.tones(n, classes=(label,), duration=duration, sample_rate=sample_rate,
                                 random_state=rng, return_audio=True)
    return clips


def write_folder(root: Path, per_class: int, duration: float, rng: np.random.Generator) -> None:
    """``root/<class>/<class>_<i>.wav`` for every class, in both formats of FORMATS."""
    for label in CLASSES:
        (root / label).mkdir(parents=True, exist_ok=True)
        for j, (rate, channels, subtype) in enumerate(FORMATS):
            n = per_class // 2 + (per_class % 2 if j == 0 else 0)
            for i, clip in enumerate(clips_of(label, n, rate, rng, duration)):
                data = np.repeat(clip[:, None], channels, axis=1)
                sf.write(root / label / f"{label}_{rate}_{i:03d}.wav", data, rate, subtype=subtype)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> np.ndarray:
    """Counts ``C[i, j]`` of clips of class ``labels[i]`` predicted as ``labels[j]``."""
    index = {label: i for i, label in enumerate(labels)}
    C = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        C[index[t], index[p]] += 1
    return C


def fold_standardization(net: MLP, mean: np.ndarray, scale: np.ndarray) -> None:
    """Make ``net`` take raw features: ``((X - mean) / scale) @ W + b == X @ W' + b'``."""
    if net.biases is None:
        raise ValueError("folding a standardization needs a network with biases")
    W, b = net.weights[0], net.biases[0]          # views into the network's parameters
    W /= scale[:, None]
    b -= mean @ W


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips-per-class", type=int, default=40)
    parser.add_argument("--duration", type=float, default=0.5, help="seconds per clip")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folder", type=Path, help="write the clips here (default: a temp dir)")
    parser.add_argument("--quick", action="store_true",
                        help="a small run: 8 clips per class, 20 epochs")
    args = parser.parse_args(argv)
    if args.quick:
        args.clips_per_class, args.epochs = 8, 20
    rng = np.random.default_rng(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        root = args.folder or Path(tmp) / "sounds"
        write_folder(root, args.clips_per_class, args.duration, rng)
        settings = audio.FeatureSettings()
        X, y, files = audio.load_folder(root, settings)
        print(f"{len(files)} clips in {len(set(y))} classes from {root}: "
              f"{X.shape[1]} features each")

        order = rng.permutation(len(y))                       # 75 % train, 25 % test
        cut = int(0.75 * len(y))
        train, test = order[:cut], order[cut:]
        mean, scale = X[train].mean(axis=0), X[train].std(axis=0)
        scale[scale == 0] = 1.0
        net = MLP(X.shape[1], [32], len(CLASSES), activation="relu", output_activation="softmax",
                  random_state=args.seed)
        fit(net, (X[train] - mean) / scale, y[train], optimizer="adam", learning_rate=0.01,
            epochs=args.epochs, verbose=False, random_state=args.seed)
        predicted = net.predict((X[test] - mean) / scale)
        accuracy = float(np.mean(predicted == y[test]))
        print(f"held-out accuracy: {accuracy:.3f} on {len(test)} clips")
        labels = list(net.classes_)
        C = confusion_matrix(y[test], predicted, labels)
        width = max(len(label) for label in labels)
        print("confusion matrix (rows: true class, columns: predicted)")
        print(" " * width + "".join(f"{label:>{width + 2}}" for label in labels))
        for label, row in zip(labels, C, strict=True):
            print(f"{label:>{width}}" + "".join(f"{c:>{width + 2}}" for c in row))

        fold_standardization(net, mean, scale)                # the saved model takes raw features
        model = Path(tmp) / "sounds.safetensors"
        audio.save_model(net, model, settings, metadata={"accuracy": accuracy})
        net, settings = audio.load_model(model)
        same = np.mean(net.predict(X[test]) == predicted)
        print(f"reloaded {model.name}: same predictions on {same:.0%} of the held-out clips")

        new_clip = Path(tmp) / "new_clip.wav"
        sf.write(new_clip, chord(rng, args.duration, 44100), 44100)
        proba = net.predict_proba(audio.features_for_files([new_clip], settings))[0]
        best = int(np.argmax(proba))
        print(f"{new_clip.name} (a chord at 44.1 kHz): {net.classes_[best]} "
              f"(p = {proba[best]:.2f})")
    return accuracy


if __name__ == "__main__":
    main()
