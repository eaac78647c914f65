"""Pictures of what a network learned: loss curves, fitted functions, decision regions.

Every function returns a :class:`matplotlib.figure.Figure` and, given
``path``, saves it as a PNG. Figures are built directly on the Agg backend
(``matplotlib.figure.Figure``, never ``pyplot``), so nothing opens a window,
needs a display, or leaks into pyplot's global state. Each function also
takes ``ax`` to draw into an existing axes (the figure returned is then that
axes' figure, not saved unless ``path`` is given).

A *model* is anything with ``predict(X)`` (and ``predict_proba(X)`` for
probability shading): a :class:`numnet.MLP`, a
:class:`numnet.preprocessing.PreprocessedModel`, a scikit-learn estimator.

Needs matplotlib (the ``plots`` extra).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from numnet._files.atomic import atomic_write

__all__ = ["loss_curve", "fitted_function", "decision_regions", "confusion_matrix",
           "predicted_vs_true", "save_png"]

_DPI = 100


def _figure(ax: Any, size: tuple[float, float] = (6.0, 4.0)) -> tuple[Any, Any]:
    """``(figure, axes)``: a new Agg figure, or ``ax`` and its figure."""
    if ax is not None:
        return ax.figure, ax
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("numnet.plots needs matplotlib: pip install 'numnet[plots]'") from exc
    fig = Figure(figsize=size, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def save_png(fig: Any, path: str | os.PathLike, **options: Any) -> Path:
    """Write ``fig`` to ``path`` as a PNG, whole or not at all; return the path.

    The image is drawn in memory and written atomically, as
    :func:`numnet.io.save` writes a model: a crash leaves the old file or the
    new one, and a device or pipe is refused rather than replaced.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, as the functions of this module return it.
    path : str or os.PathLike
        The PNG file to write (replaced whole if it exists).
    **options : Any
        Passed to ``Figure.savefig``, e.g. ``dpi`` or ``bbox_inches``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **options)
    return atomic_write(path, buffer.getvalue())


def _save(fig: Any, path: str | os.PathLike | None) -> Any:
    if path is not None:
        save_png(fig, path, dpi=_DPI)
    return fig


def _finish_chart(fig: Any, ax: Any, path: str | os.PathLike | None, xlabel: str,
                  ylabel: str, title: str) -> Any:
    """Label a line or scatter chart, add its grid and legend, then :func:`_save` it."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(fig, path)


def loss_curve(history: Any, path: str | os.PathLike | None = None, *, ax: Any = None,
               log_scale: bool | None = None) -> Any:
    """Training (and validation) loss per epoch.

    Parameters
    ----------
    history : numnet.History, dict or sequence of float
        A :class:`numnet.History` (``loss``, ``val_loss``), its ``to_dict()``,
        or the losses themselves.
    path : str or path, optional
        Save the figure here as PNG.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    log_scale : bool, optional
        Logarithmic loss axis; default: when the loss spans more than a factor 20.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(history, dict):
        loss, val = list(history.get("loss", [])), list(history.get("val_loss", []))
    elif hasattr(history, "loss"):
        loss, val = list(history.loss), list(getattr(history, "val_loss", []))
    else:
        loss, val = [float(v) for v in history], []
    if not loss:
        raise ValueError("the history has no epochs to draw")
    fig, ax = _figure(ax)
    epochs = np.arange(1, len(loss) + 1)
    ax.plot(epochs, loss, marker="o" if len(loss) < 30 else None, label="training loss")
    if val:
        ax.plot(np.arange(1, len(val) + 1), val, marker="o" if len(val) < 30 else None,
                label="validation loss")
    values = np.asarray(loss + val, dtype=np.float64)
    positive = values[values > 0]
    if log_scale is None:
        log_scale = positive.size == values.size and positive.max() > 20 * positive.min()
    if log_scale:
        ax.set_yscale("log")
    return _finish_chart(fig, ax, path, "epoch", "loss", "Loss per epoch")


def fitted_function(model: Any, X: Any, y: Any, path: str | os.PathLike | None = None, *,
                    ax: Any = None, truth: Any = None, label: str = "network") -> Any:
    """A 1-D regression: the data as points and the model's curve over their range.

    Parameters
    ----------
    model : object with ``predict``
        The fitted model; its curve is ``model.predict`` on 200 points across ``X``'s range.
    X : array-like of shape (n_samples, 1) or (n_samples,)
        The one input feature.
    y : array-like of shape (n_samples,) or (n_samples, 1)
        The one target.
    path : str or path, optional
        Save the figure here as PNG.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    truth : callable, optional
        The true function, drawn dashed for comparison (e.g. ``lambda x: 1 - x``).
    label : str, default "network"
        Legend entry of the model's curve.

    Returns
    -------
    matplotlib.figure.Figure
    """
    X = np.asarray(X, dtype=np.float64)
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    if X.shape[1] != 1:
        raise ValueError(f"fitted_function draws one input feature, X has {X.shape[1]}; "
                         f"use decision_regions for two")
    Y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    if Y.shape[1] != 1:
        raise ValueError(f"fitted_function draws one target, y has {Y.shape[1]} columns")
    fig, ax = _figure(ax)
    grid = np.linspace(X.min(), X.max(), 200).reshape(-1, 1)
    ax.scatter(X[:, 0], Y[:, 0], s=8, alpha=0.4, color="tab:gray", label="data")
    if truth is not None:
        ax.plot(grid[:, 0], np.asarray(truth(grid[:, 0]), dtype=np.float64), "--",
                color="tab:green", label="true function")
    pred = np.asarray(model.predict(grid), dtype=np.float64).reshape(len(grid), -1)
    ax.plot(grid[:, 0], pred[:, 0], color="tab:blue", linewidth=2, label=label)
    return _finish_chart(fig, ax, path, "x", "y", "Fitted function")


def decision_regions(model: Any, X: Any, y: Any, path: str | os.PathLike | None = None, *,
                     ax: Any = None, resolution: int = 200) -> Any:
    """A 2-D classification: the predicted class over the plane, the samples on top.

    Parameters
    ----------
    model : object with ``predict`` (labels)
        The fitted classifier, asked for the class at each point of the grid.
    X : array-like of shape (n_samples, 2)
        The two input features; the plane shown is their range, padded by 10 %.
    y : array-like of shape (n_samples,)
        True labels, any type; the model's predictions use the same labels.
    path : str or path, optional
        Save the figure here as PNG.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    resolution : int, default 200
        Grid points per axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_regions draws two input features, X has shape {X.shape}")
    y = np.asarray(y).reshape(-1)
    fig, ax = _figure(ax, (5.5, 5.0))
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0) + 1e-12)
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([g0.ravel(), g1.ravel()])
    pred = np.asarray(model.predict(grid)).reshape(-1)
    classes = np.unique(np.concatenate([y.astype(object), pred.astype(object)]).astype(str))
    index = {c: k for k, c in enumerate(classes.tolist())}
    Z = np.array([index[str(v)] for v in pred.tolist()]).reshape(g0.shape)
    k = len(classes)
    cmap = _cmap(k)
    ax.contourf(g0, g1, Z, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.3)
    true_index = np.array([index[str(v)] for v in y.tolist()])
    for j, name in enumerate(classes.tolist()):
        mask = true_index == j
        if mask.any():
            ax.scatter(X[mask, 0], X[mask, 1], s=14, color=cmap(j), edgecolors="k",
                       linewidths=0.3, label=name)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    ax.set_title("Decision regions")
    ax.legend(loc="best", fontsize="small")
    return _save(fig, path)


def _cmap(k: int) -> Any:
    from matplotlib.colors import ListedColormap
    base = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
            "tab:pink", "tab:gray", "tab:olive", "tab:cyan"]
    return ListedColormap([base[j % len(base)] for j in range(k)])


def confusion_matrix(cm: Any, labels: Sequence[Any], path: str | os.PathLike | None = None, *,
                     ax: Any = None, normalize: bool = False) -> Any:
    """A confusion matrix as a heat map with its counts written in.

    Parameters
    ----------
    cm : array-like of shape (n_classes, n_classes)
        ``cm[i, j]``: samples of class ``labels[i]`` predicted as ``labels[j]``
        (:func:`numnet.metrics.confusion_matrix`).
    labels : sequence of class labels
        The class of each row and column, in order.
    path : str or path, optional
        Save the figure here as PNG.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    normalize : bool, default False
        Colour by the fraction of each true class instead of the count (the
        counts are still written in).

    Returns
    -------
    matplotlib.figure.Figure
    """
    cm = np.asarray(cm)
    k = len(labels)
    if cm.shape != (k, k):
        raise ValueError(f"cm must be ({k}, {k}) for {k} labels, got shape {cm.shape}")
    size = max(4.0, 0.6 * k + 2.5)
    fig, ax = _figure(ax, (size + 1.0, size))
    rows = cm.sum(axis=1, keepdims=True)
    shown = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0) if normalize else cm
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, label="fraction of true class" if normalize else "samples")
    top = shown.max() if shown.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if top and shown[i, j] > top / 2 else "black")
    names = [str(c) for c in labels]
    ax.set_xticks(range(k), names, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix")
    return _save(fig, path)


def predicted_vs_true(y_true: Any, y_pred: Any, path: str | os.PathLike | None = None, *,
                      ax: Any = None, names: Sequence[str] | None = None) -> Any:
    """Regression: predicted against true values, with the line of perfect predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets) or (n_samples,)
        True values.
    y_pred : array-like of shape (n_samples, n_targets) or (n_samples,)
        Predictions, the same shape as ``y_true``.
    path : str or path, optional
        Save the figure here as PNG.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    names : sequence of str, optional
        Legend entry of each target column; default ``"target 0"``, ``"target 1"``, ...

    Returns
    -------
    matplotlib.figure.Figure
        One point colour per target.
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    t, p = t.reshape(len(t), -1), p.reshape(len(p), -1)
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has {p.shape}")
    fig, ax = _figure(ax, (5.0, 5.0))
    for j in range(t.shape[1]):
        label = names[j] if names is not None and j < len(names) else f"target {j}"
        ax.scatter(t[:, j], p[:, j], s=10, alpha=0.6, label=label)
    lo, hi = min(t.min(), p.min()), max(t.max(), p.max())
    ax.plot([lo, hi], [lo, hi], "--", color="k", linewidth=1, label="perfect")
    return _finish_chart(fig, ax, path, "true value", "predicted value", "Predicted against true")
