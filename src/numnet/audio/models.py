"""Model files that keep their feature settings, so a model always sees the features it
was trained on. Writing and reading them needs the ``io`` extra (safetensors) as well."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from numnet import MLP, load, save
from numnet.preprocessing import PreprocessedModel, Preprocessing
from numnet.terminal import printable

from .extract import feature_names
from .settings import FeatureSettings, SettingsLike, as_settings

__all__ = ["load_model", "save_model"]

_KEY = "audio"          # the metadata key that holds the settings
PREPROCESSING = "preprocessing"     # numnet.preprocessing's key: the standardisation


def save_model(net: Any, path: str | os.PathLike, settings: SettingsLike = None,
               metadata: dict[str, Any] | None = None, *,
               standardize: tuple[Any, Any] | None = None) -> Path:
    """Write a model file that holds the feature settings (metadata ``"audio"``) and the
    standardisation, so that the loaded model takes raw features.

    Parameters
    ----------
    net : MLP or PreprocessedModel
        Trained on features computed with ``settings``: an :class:`~numnet.MLP` (on
        ``(X - mean) / std`` when ``standardize=(mean, std)`` is given, else on raw
        features), or a :class:`~numnet.preprocessing.PreprocessedModel`, whose own
        preprocessing is kept. Its input count must be ``settings.n_features``.
    path : str or path-like
        The file to write (conventionally ``*.safetensors``).
    settings : FeatureSettings, its dict, or None (defaults)
        The feature settings the network was trained with.
    metadata : dict, optional
        More JSON-safe metadata; the keys ``"audio"`` and ``"preprocessing"`` are reserved.
    standardize : (mean, std), each of shape (n_features,), optional
        What the training features were standardised with; stored, and applied by the
        loaded model before the network. A std of 0 (a constant feature) is stored as 1.

    Returns
    -------
    pathlib.Path
    """
    s = as_settings(settings)
    if not isinstance(net, (MLP, PreprocessedModel)):
        raise TypeError(f"expected a numnet MLP or PreprocessedModel, got {type(net).__name__}")
    if net.num_inputs != s.n_features:
        raise ValueError(f"the network takes {net.num_inputs} inputs but these feature settings "
                         f"give {s.n_features} features; save it with the settings it was "
                         f"trained with")
    metadata = dict(metadata or {})
    for key in (_KEY, PREPROCESSING):
        if key in metadata:
            raise ValueError(f"metadata[{key!r}] is reserved; pass the feature settings as "
                             f"settings and the standardisation as standardize")
    metadata[_KEY] = s.to_dict()
    if isinstance(net, PreprocessedModel):
        if standardize is not None:
            raise ValueError("a PreprocessedModel keeps its own standardisation; leave out "
                             "standardize")
        return net.save(path, metadata)
    if standardize is None:
        return save(net, path, metadata=metadata)
    return PreprocessedModel(net, _preprocessing(net, s, standardize)).save(path, metadata)


def _preprocessing(net: MLP, s: FeatureSettings, standardize: tuple[Any, Any]) -> Preprocessing:
    """The :class:`Preprocessing` of a network trained on ``(X - mean) / std`` of audio
    features: their names, its classes (or its outputs as targets)."""
    try:
        mean, std = (np.asarray(a, dtype=np.float64) for a in standardize)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"standardize must be (mean, std), two arrays of shape "
                        f"({s.n_features},): {exc}") from None
    for name, a in (("mean", mean), ("std", std)):
        if a.shape != (s.n_features,) or not np.isfinite(a).all():
            raise ValueError(f"standardize's {name} must be {s.n_features} finite numbers "
                             f"(one per feature), got shape {a.shape}")
    std = np.where(std > 0, std, 1.0)
    names = feature_names(s)
    if net.classes_ is not None:
        return Preprocessing(names, ["label"], "classification", mean, std,
                             classes=list(net.classes_))
    return Preprocessing(names, [f"y{j}" for j in range(net.num_outputs)], "regression",
                         mean, std)


def load_model(path: str | os.PathLike) -> tuple[Any, FeatureSettings]:
    """Load a model saved by :func:`save_model` or ``numnet train audio:``: ``(model, settings)``.

    ``model`` is what :func:`numnet.load` gives: for a model trained by ``numnet
    train`` or saved with its standardisation (``standardize=`` or a
    PreprocessedModel), a :class:`~numnet.preprocessing.PreprocessedModel` that
    applies it; else the :class:`~numnet.MLP`. Either way it takes raw features:
    ``model.predict(features_for_files(files, settings))``. Settings written by
    an earlier numnet (version 1) give the features they gave then.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    model : PreprocessedModel or MLP
        The model, taking raw features.
    settings : FeatureSettings
        The feature settings it was trained with.

    Raises
    ------
    ValueError
        If the file holds no (or invalid) feature settings, or they do not
        match the network's input size; the message names the file. Errors
        of :func:`numnet.load` for a file that is not a model.
    """
    model = load(path)
    stored = model.metadata.get(_KEY)
    where = printable(path)
    if stored is None:
        raise ValueError(f"{where}: holds no audio feature settings (metadata {_KEY!r}); "
                         f"it was not saved with numnet.audio.save_model or numnet train "
                         f"audio:FOLDER")
    try:
        settings = FeatureSettings.from_dict(stored)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: invalid audio feature settings: {exc}") from exc
    if model.num_inputs != settings.n_features:
        raise ValueError(f"{where}: the network takes {model.num_inputs} inputs but its "
                         f"feature settings give {settings.n_features} features")
    return model, settings
