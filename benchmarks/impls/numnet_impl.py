"""numnet, through its public API: ``fit``, the tutorial's ``MLP.train`` and ``predict_proba``.

Training rows:

* ``numnet``: ``fit(net, X, Y, ..., epochs=E)``. The reported seconds per
  epoch come from one ``epochs=E`` call divided by ``E``; the ``epochs=1``
  call is timed too (per-call overhead shows as the difference).
* ``numnet-tutorial`` (W1 and W5): the tutorial's ``net.train(X, y, epochs,
  learning_rate)``, which prints one line per epoch (sent to ``os.devnull``).

Inference (the ``predict`` mode): ``net.predict_proba(X)`` on the network
``MLP(..., random_state=0)`` builds, whose weights every other implementation
copies (:func:`initial_network`).

Anything that fails here propagates, and the worker prints it in the row as
``error: ...``.
"""

from __future__ import annotations

import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np

from . import NotInstalled, Predictor, Trainer

SRC = Path(__file__).resolve().parents[2] / "src"


def _import_numnet():
    """``(numnet module, notes)``; falls back to the checkout's ``src/`` when not installed."""
    try:
        import numnet
        return numnet, []
    except ModuleNotFoundError as exc:
        if exc.name != "numnet":
            raise
        if not (SRC / "numnet").is_dir():
            raise NotInstalled("numnet is not installed") from exc
    sys.path.insert(0, str(SRC))
    import numnet
    return numnet, ["numnet imported from src/ (not pip-installed)"]


def _info(numnet, net) -> dict:
    return {"numnet_version": getattr(numnet, "__version__", "unknown"),
            "numnet_file": getattr(numnet, "__file__", None),
            "num_parameters": getattr(net, "num_parameters", None)}


def initial_network(w, dtype: str | None = None):
    """``numnet.MLP`` for workload ``w`` with ``random_state=0``, in ``dtype`` (default
    ``w.dtype``): the ``numnet`` row's network, whose weights JAX and the inference
    rows copy so that every one starts from the same numbers."""
    _import_numnet()
    from numnet import MLP

    return MLP(w.n_in, list(w.hidden), w.n_out, activation=w.activation,
               output_activation=w.output_activation, dtype=dtype or w.dtype, random_state=0)


def build_fit(w, data) -> Trainer:
    """``numnet.fit`` on ``numnet.MLP``, in ``w.dtype``; one-hot targets for classification."""
    numnet, notes = _import_numnet()
    from numnet import fit, optimizers

    net = initial_network(w)
    optimizer = optimizers.SGD(w.lr) if w.optimizer == "sgd" else optimizers.Adam(w.lr)
    X, Y = data["X"], data["Y"]

    def train(epochs: int) -> None:
        fit(net, X, Y, loss=w.loss, optimizer=optimizer, epochs=epochs,
            batch_size=w.batch_size, shuffle=True, verbose=False, random_state=0)

    return Trainer(train=train, predict=net.forward, dtype=np.dtype(net.dtype).name,
                   single_call=True, notes=notes, info=_info(numnet, net))


def build_tutorial(w, data) -> Trainer:
    """The tutorial's API: ``MLP(n_in, hidden, n_out)`` (sigmoid, MSE) and ``net.train``."""
    if not (w.activation == w.output_activation == "sigmoid" and w.loss == "mse"
            and w.optimizer == "sgd" and w.batch_size == 1):
        raise ValueError("the tutorial API only does per-example SGD on sigmoid/MSE networks")
    numnet, notes = _import_numnet()
    from numnet import MLP

    net = MLP(w.n_in, list(w.hidden), w.n_out, dtype=w.dtype, random_state=0)
    X, Y = data["X"], data["Y"]
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the worker

    def train(epochs: int) -> None:
        with redirect_stdout(devnull):
            net.train(X, Y, epochs, w.lr)

    return Trainer(train=train, predict=net.forward, dtype=np.dtype(net.dtype).name,
                   single_call=True, notes=notes, info=_info(numnet, net))


def build_predict(w, data) -> Predictor:
    """``net.predict_proba(X)`` on :func:`initial_network`, in ``w.dtype``."""
    numnet, notes = _import_numnet()
    net = initial_network(w)
    return Predictor(predict=net.predict_proba, dtype=np.dtype(net.dtype).name, notes=notes,
                     info=_info(numnet, net))
