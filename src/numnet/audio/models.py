"""Model files that keep their feature settings, so a model always sees the features it
was trained on. Writing and reading them needs the ``io`` extra (safetensors) as well."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from numnet import MLP, load, save
from numnet.terminal import printable

from .settings import FeatureSettings, SettingsLike, as_settings

__all__ = ["load_model", "save_model"]

_KEY = "audio"          # the metadata key that holds the settings


def save_model(net: MLP, path: str | os.PathLike, settings: SettingsLike = None,
               metadata: dict[str, Any] | None = None) -> Path:
    """:func:`numnet.save` with the feature settings in the metadata, under ``"audio"``.

    Parameters
    ----------
    net : MLP
        Trained on features computed with ``settings``; its ``num_inputs``
        must be ``settings.n_features``.
    path : str or path-like
    settings : FeatureSettings, its dict, or None (defaults)
    metadata : dict, optional
        More JSON-safe metadata; the key ``"audio"`` is reserved.

    Returns
    -------
    pathlib.Path
    """
    s = as_settings(settings)
    if not isinstance(net, MLP):
        raise TypeError(f"expected a numnet MLP, got {type(net).__name__}")
    if net.num_inputs != s.n_features:
        raise ValueError(f"the network takes {net.num_inputs} inputs but these feature settings "
                         f"give {s.n_features} features; save it with the settings it was "
                         f"trained with")
    metadata = dict(metadata or {})
    if _KEY in metadata:
        raise ValueError(f"metadata[{_KEY!r}] is reserved for the feature settings; "
                         f"pass them as settings")
    return save(net, path, metadata={**metadata, _KEY: s.to_dict()})


def load_model(path: str | os.PathLike) -> tuple[Any, FeatureSettings]:
    """Load a model saved by :func:`save_model` or ``numnet train audio:``: ``(model, settings)``.

    ``model`` is what :func:`numnet.load` gives: the :class:`~numnet.MLP`, or,
    for a model trained by ``numnet train`` (which standardises the features),
    a :class:`~numnet.preprocessing.PreprocessedModel` that applies the
    standardisation. Either way, predict on new files with
    ``model.predict(features_for_files(files, settings))``.

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
                         f"it was not saved with nummodel.audio.save_model")
    try:
        settings = FeatureSettings.from_dict(stored)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: invalid audio feature settings: {exc}") from exc
    if model.num_inputs != settings.n_features:
        raise ValueError(f"{where}: the network takes {model.num_inputs} inputs but its "
                         f"feature settings give {settings.n_features} features")
    return model, settings
