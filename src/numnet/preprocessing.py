"""Preprocessing that travels with a model: standardised features, encoded labels.

A network learns best from features of similar scale, and predicts class
*indices*; a person has raw columns and label names. :class:`Preprocessing`
holds what maps one to the other, fitted on the training rows:

- features: ``(x - mean) / scale`` per column (``scale`` is the standard
  deviation, 1 for a constant column), or nothing with ``scale=False``; finite
  data near float64's limit (1e300) gives a finite mean and scale, and a
  column whose standardised values would still overflow is refused, by name;
- classification: the sorted class labels; output ``k`` is ``classes[k]``;
- regression: the same standardisation of each target, undone on prediction.

:class:`PreprocessedModel` is a network with its preprocessing: it takes raw
features and gives labels or values in the data's units.
:meth:`PreprocessedModel.save` stores the preprocessing as plain JSON (float64
values as JSON numbers, which round-trip exactly) in the model file's
metadata under ``"preprocessing"``, so loading never runs code; the record's
layout and checks are part of the file format (:mod:`numnet._files.format`).
:func:`numnet.load` of such a file gives the :class:`PreprocessedModel` back.

How ``task="auto"`` decides (:func:`infer_task`): a single target column of
strings or booleans is a classification target; so is one of integers with
at most :data:`MAX_AUTO_CLASSES` (20) distinct values and at most one
distinct value per two rows; anything else (floats, many distinct integers,
several target columns) is regression.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._files import PREPROCESSING_KEY, TASKS, FormatError, check_preprocessing
from ._files import load as load_file
from ._files import save as save_file
from ._files.format import PREPROCESSING_VERSION
from .mlp import MLP
from .network import Network
from .validation import column_exponents

__all__ = ["Preprocessing", "PreprocessedModel", "infer_task", "MAX_AUTO_CLASSES", "TASKS"]

MAX_AUTO_CLASSES = 20
_KEY = PREPROCESSING_KEY
_VERSION = PREPROCESSING_VERSION


def infer_task(y: np.ndarray, target_names: Sequence[str]) -> tuple[str, str]:
    """``("classification" | "regression", why)`` for targets ``y`` (see the module docstring).

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        The training targets, as read (numbers, strings or booleans).
    target_names : list of str
        The target columns' names, for the explanation.

    Returns
    -------
    task : str
        ``"classification"`` or ``"regression"``.
    why : str
        One sentence saying why, e.g. ``"target 'y' holds real numbers"``.
    """
    y = np.asarray(y)
    names = ", ".join(repr(n) for n in target_names)
    if y.ndim == 2 and y.shape[1] > 1:
        return "regression", f"{y.shape[1]} target columns ({names}) are regression targets"
    y = y.reshape(-1)
    if y.dtype.kind in "USO":
        return "classification", f"target {names} holds text labels"
    if y.dtype.kind == "b":
        return "classification", f"target {names} holds true/false values"
    n_distinct, n = len(np.unique(y)), len(y)
    if y.dtype.kind in "iu":
        if n_distinct <= MAX_AUTO_CLASSES and 2 * n_distinct <= n:
            return "classification", (
                f"target {names} holds {n_distinct} distinct integers in {n} rows (integers "
                f"with at most {MAX_AUTO_CLASSES} distinct values, and at most one per two "
                f"rows, are classes)")
        return "regression", (f"target {names} holds {n_distinct} distinct integers in {n} "
                              f"rows, too many to be classes")
    return "regression", f"target {names} holds real numbers"


def _standardiser(A: np.ndarray, names: Sequence[str], what: str
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Means and standard deviations ``(k,)`` of the columns of ``A: (n, k)`` (scale 1 where
    a column is constant), finite for finite data.

    Each column is divided by a power of two near its largest magnitude first
    (exact), so squares cannot overflow: ``std`` of values near 1e300 is finite.
    A column that holds non-finite values, or whose ``(x - mean) / scale``
    still overflows, is refused with a ``ValueError`` that names it.
    """
    A = np.asarray(A, dtype=np.float64).reshape(len(A), -1)
    finite = np.isfinite(A).all(axis=0)
    if not finite.all():
        name = names[int(np.argmin(finite))]
        raise ValueError(f"{what} column {name!r} holds infinite or NaN values, which cannot "
                         f"be standardised; remove or fix those rows before training")
    exponent = column_exponents(A)                  # max|x| < 2**exponent, per column
    U = np.ldexp(A, -exponent)
    mean = np.ldexp(U.mean(axis=0), exponent)
    scale = np.ldexp(U.std(axis=0), exponent)
    scale[~(scale > np.finfo(np.float64).tiny)] = 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        ok = np.isfinite((A - mean) / scale).all(axis=0)
    if not ok.all():
        j = int(np.argmin(ok))
        raise ValueError(f"{what} column {names[j]!r} cannot be standardised: its values, "
                         f"from {A[:, j].min():.3g} to {A[:, j].max():.3g}, are too far apart "
                         f"for (x - mean) / scale in float64; rescale the column (divide it "
                         f"by a power of ten) before training")
    return mean, scale


@dataclass(frozen=True)
class Preprocessing:
    """What turns raw rows into network inputs, and network outputs into answers.

    Usually made by :meth:`fit` on the training rows, or read from a model
    file by :meth:`from_dict`. The fields are also its attributes.

    Parameters
    ----------
    feature_names : list of str
        Feature column names, in the network's input order.
    target_names : list of str
        Target column names (one for classification).
    task : {"regression", "classification"}
        What the network predicts.
    mean : ndarray of shape (n_features,) or None, default None
        Feature means subtracted by :meth:`transform`; None for no scaling.
    scale : ndarray of shape (n_features,) or None, default None
        Feature standard deviations (1 for a constant column) divided by;
        None for no scaling.
    classes : list or None, default None
        Class labels in output order (output ``k`` is ``classes[k]``);
        None for regression.
    target_mean : ndarray of shape (n_targets,) or None, default None
        Means of the regression targets, added back by :meth:`decode_outputs`.
    target_scale : ndarray of shape (n_targets,) or None, default None
        Standard deviations of the regression targets; None (with
        ``target_mean``) leaves targets unscaled.
    """

    feature_names: list[str]
    target_names: list[str]
    task: str
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    classes: list | None = None
    target_mean: np.ndarray | None = None
    target_scale: np.ndarray | None = None

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, feature_names: Sequence[str],
            target_names: Sequence[str], task: str, scale: bool = True) -> Preprocessing:
        """Fit on the training rows: feature statistics, and classes or target statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features; finite.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Training targets: one column of labels (any type, at least two
            classes) for classification, numbers for regression.
        feature_names : sequence of str
            Names of the columns of ``X``, for messages and the model file.
        target_names : sequence of str
            Names of the target columns.
        task : {"regression", "classification"}
            See :func:`infer_task` to pick it from the data.
        scale : bool, default True
            Standardise features (and regression targets); False keeps them raw.

        Returns
        -------
        Preprocessing

        Raises
        ------
        ValueError
            For an unknown task, a non-finite column, a column too wide to
            standardise, several label columns, or a single class.
        """
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        X = np.asarray(X, dtype=np.float64)
        mean, sd = _standardiser(X, feature_names, "feature") if scale else (None, None)
        classes = target_mean = target_scale = None
        if task == "classification":
            y = np.asarray(y)
            if y.ndim != 1:
                raise ValueError(f"classification needs one label column, got "
                                 f"{len(target_names)} target columns {list(target_names)}")
            found = np.unique(y)
            if len(found) < 2:
                raise ValueError(f"target {target_names[0]!r} has only one class "
                                 f"({found[0]!r}) in the training rows; a classifier needs "
                                 f"at least two")
            classes = found.tolist()
        else:
            Y = _regression_targets(y, target_names)
            if scale:
                target_mean, target_scale = _standardiser(Y, target_names, "target")
        return cls(list(feature_names), list(target_names), task, mean, sd, classes,
                   target_mean, target_scale)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def scaled(self) -> bool:
        return self.mean is not None

    def transform(self, X: Any) -> np.ndarray:
        """Raw features -> network inputs: ``(X - mean) / scale``, or ``X`` unscaled.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Raw features, columns in :attr:`feature_names` order.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            float64.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            got = X.shape[1] if X.ndim == 2 else f"shape {X.shape}"
            raise ValueError(f"the model takes {self.n_features} feature(s) "
                             f"({', '.join(self.feature_names[:10])}), got {got}")
        if self.mean is None or self.scale is None:
            return X
        return (X - self.mean) / self.scale

    def encode_targets(self, y: Any) -> np.ndarray:
        """Targets as the network is trained on them.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Class labels (each one of :attr:`classes`, ValueError otherwise),
            or regression targets in the data's units.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            Class indices ``(n_samples,)``, or the targets ``(n_samples,
            n_targets)`` standardised (float64; unscaled without ``target_mean``).
        """
        if self.task == "classification":
            assert self.classes is not None
            labels = np.asarray(y).reshape(-1)
            lookup = {c: i for i, c in enumerate(self.classes)}
            index = [lookup.get(v) for v in labels.tolist()]
            unknown = sorted({str(v) for v, i in zip(labels.tolist(), index, strict=True)
                              if i is None})
            if unknown:
                raise ValueError(f"target {self.target_names[0]!r} has label(s) "
                                 f"{', '.join(unknown[:5])} that the model does not know; "
                                 f"its classes are {', '.join(map(str, self.classes))}")
            return np.asarray(index, dtype=np.intp)
        Y = _regression_targets(y, self.target_names)
        if self.target_mean is None or self.target_scale is None:
            return Y
        return (Y - self.target_mean) / self.target_scale

    def decode_outputs(self, Y: np.ndarray) -> np.ndarray:
        """Regression outputs back in the data's units: ``Y * target_scale + target_mean``.

        Parameters
        ----------
        Y : ndarray of shape (n_samples, n_targets)
            The network's outputs.

        Returns
        -------
        ndarray of shape (n_samples, n_targets)
            float64; ``Y`` unchanged when the targets were not scaled.
        """
        Y = np.asarray(Y, dtype=np.float64)
        if self.target_mean is None or self.target_scale is None:
            return Y
        return Y * self.target_scale + self.target_mean

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: lists of float64 values as JSON numbers (exact round trip)."""
        def floats(a: np.ndarray | None) -> list[float] | None:
            return None if a is None else [float(v) for v in a]
        return {"version": _VERSION, "task": self.task, "features": list(self.feature_names),
                "targets": list(self.target_names),
                "scaling": None if self.mean is None else {
                    "method": "standardise", "mean": floats(self.mean),
                    "scale": floats(self.scale)},
                "classes": None if self.classes is None else [
                    c.item() if isinstance(c, np.generic) else c for c in self.classes],
                "target_scaling": None if self.target_mean is None else {
                    "method": "standardise", "mean": floats(self.target_mean),
                    "scale": floats(self.target_scale)}}

    @classmethod
    def from_dict(cls, doc: Any) -> Preprocessing:
        """Inverse of :meth:`to_dict`, checking every field (it comes from a file).

        Raises :class:`numnet.io.FormatError` (a ValueError) for a bad record.
        """
        check_preprocessing(doc)

        def scaling(key: str) -> tuple[np.ndarray | None, np.ndarray | None]:
            rec = doc.get(key)
            if rec is None:
                return None, None
            return (np.asarray(rec["mean"], dtype=np.float64),
                    np.asarray(rec["scale"], dtype=np.float64))

        mean, scale = scaling("scaling")
        target_mean, target_scale = scaling("target_scaling")
        task = doc["task"]
        return cls(list(doc["features"]), list(doc["targets"]), task, mean, scale,
                   list(doc["classes"]) if task == "classification" else None,
                   target_mean, target_scale)


def _regression_targets(y: Any, names: Sequence[str]) -> np.ndarray:
    Y = np.asarray(y)
    if Y.dtype.kind not in "fiub":
        raise ValueError(f"regression targets must be numbers; target {', '.join(names)} holds "
                         f"{Y.dtype.name} values (use --task classification for labels)")
    Y = Y.astype(np.float64)
    return Y.reshape(-1, 1) if Y.ndim == 1 else Y


class PreprocessedModel:
    """A network and its :class:`Preprocessing`: raw features in, answers out.

    :func:`numnet.load` gives one for a file that holds preprocessing (what
    ``numnet train`` writes, or :meth:`save`); the bare network, which expects
    standardised inputs, is its :attr:`net`.

    Parameters
    ----------
    net : MLP
        Trained on ``preprocessing.transform(X)`` and ``encode_targets(y)``.
    preprocessing : Preprocessing
        Its features must be the network's inputs, its classes (or targets)
        its outputs.
    metadata : dict, optional
        Everything else stored with the model (training record, audio settings).

    Attributes
    ----------
    columns_known : bool
        Whether the feature and target names are the data's (False for a file
        written by :func:`numnet.save` without preprocessing: its features are
        then named ``x0, x1, ...`` and taken by position).
    """

    def __init__(self, net: Any, preprocessing: Preprocessing,
                 metadata: dict[str, Any] | None = None) -> None:
        if net.num_inputs != preprocessing.n_features:
            raise ValueError(f"the network takes {net.num_inputs} inputs but the preprocessing "
                             f"has {preprocessing.n_features} features")
        check_preprocessing(preprocessing.to_dict(), net.num_inputs, net.num_outputs)
        self.net = net
        self.preprocessing = preprocessing
        self.metadata = dict(metadata or {})
        self.columns_known = True       # False for a plain numnet.save file (see load)

    @property
    def classes(self) -> list | None:
        return self.preprocessing.classes

    @property
    def is_classifier(self) -> bool:
        return self.preprocessing.task == "classification"

    @property
    def num_inputs(self) -> int:
        """Raw features the model takes (the network's inputs)."""
        return int(self.net.num_inputs)

    @property
    def num_outputs(self) -> int:
        """The network's outputs."""
        return int(self.net.num_outputs)

    def __repr__(self) -> str:
        prep = self.preprocessing
        if self.is_classifier:
            labels = prep.classes or []
            shown = ", ".join(repr(c) for c in labels[:5]) + (", ..." if len(labels) > 5 else "")
            what = f"classification into {len(labels)} classes [{shown}]"
        else:
            what = f"regression of {len(prep.target_names)} target(s)" + (
                ", standardised" if prep.target_mean is not None else "")
        features = f"{prep.n_features} {'standardised' if prep.scaled else 'raw'} feature(s)"
        return f"PreprocessedModel({self.net!r}, {what}, {features})"

    def outputs(self, X: Any) -> np.ndarray:
        """The network's raw outputs on raw features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Raw features; :meth:`Preprocessing.transform` standardises them.

        Returns
        -------
        ndarray of shape (n_samples, num_outputs)
            float64.
        """
        return np.asarray(self.net.forward(self.preprocessing.transform(X)), dtype=np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in :attr:`classes` order.

        A network with one sigmoid output gives ``[1 - p, p]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Raw features.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)

        Raises
        ------
        ValueError
            For a regression model.
        """
        if not self.is_classifier:
            raise ValueError("probabilities need a classification model; this one is regression")
        P = self.outputs(X)
        return np.column_stack([1.0 - P[:, 0], P[:, 0]]) if P.shape[1] == 1 else P

    def predict(self, X: Any) -> np.ndarray:
        """Labels for a classifier; values in the data's units for regression.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Raw features.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            Class labels ``(n_samples,)`` (the most probable of :attr:`classes`),
            or regression values ``(n_samples, n_targets)``.
        """
        if self.is_classifier:
            assert self.classes is not None
            return np.asarray(self.classes)[np.argmax(self.predict_proba(X), axis=1)]
        return self.preprocessing.decode_outputs(self.outputs(X))

    def save(self, path: str | os.PathLike, metadata: dict[str, Any] | None = None) -> Path:
        """Write the model file: weights, and the preprocessing as JSON metadata.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (conventionally ``*.safetensors``), replaced atomically.
        metadata : dict or None, default None
            JSON-safe entries stored beside this model's :attr:`metadata`,
            replacing those of the same key.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        meta = {**self.metadata, **(metadata or {}), _KEY: self.preprocessing.to_dict()}
        return save_file(self.net, path, metadata=meta)

    @classmethod
    def from_network(cls, net: Network, path: str | os.PathLike | None = None
                     ) -> PreprocessedModel:
        """``net`` with the preprocessing in its ``metadata`` (identity if it has none).

        Parameters
        ----------
        net : Network
            A loaded network; its ``metadata["preprocessing"]`` record, if any,
            becomes the preprocessing and is removed from the model's metadata.
        path : str, os.PathLike or None, default None
            The file it came from, named in errors.

        Returns
        -------
        PreprocessedModel
            With ``columns_known`` False when the network had no record.

        Raises
        ------
        numnet.io.FormatError
            For a bad record, or one that does not fit the network.
        """
        metadata = dict(getattr(net, "metadata", {}))
        record = metadata.pop(_KEY, None)
        where = f"cannot load '{path}': " if path is not None else ""
        if record is None:          # a plain numnet model: identity preprocessing
            task = "classification" if net.classes_ is not None else "regression"
            prep = Preprocessing([f"x{j}" for j in range(net.num_inputs)],
                                 ["y"] if net.num_outputs == 1 or task == "classification"
                                 else [f"y{j}" for j in range(net.num_outputs)],
                                 task, classes=net.classes_)
        else:
            try:
                prep = Preprocessing.from_dict(record)
            except ValueError as exc:
                raise FormatError(f"{where}{exc}") from None
        try:
            model = cls(net, prep, metadata)
        except ValueError as exc:
            raise FormatError(f"{where}{exc}") from None
        model.columns_known = record is not None
        return model

    @classmethod
    def load(cls, path: str | os.PathLike) -> PreprocessedModel:
        """Read a model file written by :meth:`save` (or a plain :func:`numnet.save` file).

        Parameters
        ----------
        path : str or os.PathLike
            The model file.

        Returns
        -------
        PreprocessedModel

        Raises
        ------
        numnet.io.FormatError
            For a file holding a fitted estimator of :mod:`numnet.estimators`,
            or a bad preprocessing record.
        """
        def refuse(net: Network, spec: dict[str, Any]) -> Any:   # a fitted estimator's file
            raise FormatError(
                f"'{path}' holds a fitted {spec.get('class')} (numnet.estimators), which the "
                f"command line does not read; use it from Python: numnet.load('{path}')"
                f".predict(X), or export it with numnet.onnx.export(numnet.load('{path}'), "
                f"'model.onnx')")

        loaded = load_file(path, MLP, estimator_loader=refuse)
        return cls.from_network(loaded, path)
