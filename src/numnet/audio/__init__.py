"""Audio files to feature vectors, and models that remember how (the ``audio`` extra).

A folder of labelled clips, one subfolder per class::

    sounds/
        dog/    bark1.wav  bark2.flac ...
        cat/    meow1.mp3  ...

becomes a feature matrix with :func:`load_folder`; the same features for new
files come from :func:`features_for_files` (or, file by file with the reason
for each bad one, :func:`features_by_file`), and :func:`save_model` /
:func:`load_model` keep the :class:`FeatureSettings` and the standardisation
inside the model file, so a model always sees the features it was trained on
and takes them raw.

The features hold up on real recordings: silence (leading, trailing, pauses)
is cut or left out, the level is normalised, and the MFCCs come with their
deltas, log-mel statistics and the MFCC means of each third of the clip
(:mod:`~numnet.audio.extract`). A clip, the same clip 40 dB quieter, padded
with seconds of digital silence or under a -90 dBFS noise floor give nearly
the same features. Features are cached per file (:mod:`~numnet.audio.cache`),
and many files are computed on every core (:mod:`~numnet.audio.parallel`).

The parts, one module each:

- :mod:`~numnet.audio.settings`: :class:`FeatureSettings`, what decides the features;
- :mod:`~numnet.audio.clips`: one file (or array) read, checked, mixed to mono
  and resampled (soundfile, librosa's ``soxr_hq``): :func:`load_clip`;
- :mod:`~numnet.audio.extract`: a clip's features: :func:`features`, :func:`feature_names`;
- :mod:`~numnet.audio.cache`: features cached per file, verified on reading;
- :mod:`~numnet.audio.parallel`: the uncached files of a folder or list computed in
  worker processes when they are many, bit for bit as one at a time, in order;
- :mod:`~numnet.audio.folders`: a class folder or a list of files:
  :func:`load_folder`, :func:`features_for_files`, :func:`features_by_file`; a
  folder of ``train/``, ``test/`` (and ``valid/``) class folders: :func:`load_split`;
- :mod:`~numnet.audio.augment`: :class:`Augment`, seeded augmented copies of
  training clips (noise, gain, shift, pitch, tempo), never cached;
- :mod:`~numnet.audio.models`: :func:`save_model`, :func:`load_model` (also
  need the ``io`` extra).

Notes
-----
**Bad audio**

Each of these raises an :class:`AudioError` (a ``ValueError``) whose message
names the file and says what to do (the modules' docstrings give the details):

- a file soundfile cannot decode (not audio, an unknown format, corrupted);
- an empty file (0 bytes), a file with no samples, a truncated file (whatever
  frame count its header declares: memory follows the samples read);
- what is not a regular file (a named pipe or a device is refused, not waited
  on) and, in a folder, a file the system cannot read or a subfolder it cannot list;
- a sample rate outside 1 kHz to 1 MHz (other than the settings' own);
- NaN or infinite samples (possible in float files);
- a clip shorter than the analysis window (``n_fft`` samples after resampling);
- a **silent** clip: its loudest frame's RMS level below ``settings.silence_db``
  (default -80 dB);
- a folder with no audio files in class subfolders, or with only one class.

:func:`load_folder` with ``skip_bad=True`` (``--skip-bad`` for ``numnet
train``; messages name the one their caller uses) skips bad files instead,
logs each and lists them in the result's ``skipped``; errors about the folder
itself still raise. Without it, the first bad file stops the load with an error
that names it and its position in the folder.

File and folder names may hold any bytes (not valid UTF-8, escape sequences,
newlines): files are read whatever their names, and every message shows a
name with its control characters and undecodable bytes escaped, while
``AudioError.path`` and the returned paths keep it as it is.
"""

from __future__ import annotations

try:        # first, so that a missing extra is named before any part of the package loads
    import librosa  # noqa: F401  (numnet.audio.librosa is the module the parts use)
    import soundfile  # type: ignore[import-untyped]  # noqa: F401
except ImportError as exc:
    raise ImportError(
        f"numnet.audio needs soundfile and librosa ({exc.name or exc} is missing); "
        "install them with: pip install 'numnet[audio]'"
    ) from exc

from .augment import Augment
from .cache import default_cache_dir
from .clips import load_clip
from .errors import AudioError
from .extract import feature_names, features
from .folders import (
    AUDIO_EXTENSIONS,
    FileFeatures,
    FolderFeatures,
    features_by_file,
    features_for_files,
    load_folder,
    load_split,
    split_folders,
)
from .models import load_model, save_model
from .settings import FeatureSettings

__all__ = ["AUDIO_EXTENSIONS", "Augment", "AudioError", "FeatureSettings", "FileFeatures",
           "FolderFeatures",
           "default_cache_dir", "feature_names", "features", "features_by_file",
           "features_for_files", "load_clip", "load_folder", "load_model", "load_split",
           "save_model", "split_folders"]
