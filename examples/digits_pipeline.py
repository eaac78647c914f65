"""Handwritten digits in a scikit-learn pipeline: numnet's MLPClassifier beside scikit-learn's.

scikit-learn's bundled digits (``sklearn.datasets.load_digits``: 1,797 images of 8 x 8
pixels, ``X (1797, 64)`` with values 0 to 16, ten classes; shipped with scikit-learn,
nothing is downloaded) are split into a training part and a held-out quarter (stratified).
The example then

1. fits a ``Pipeline`` of a ``StandardScaler`` and ``numnet.estimators.MLPClassifier``
   and scores it on the held-out digits;
2. tunes the hidden layer size and ``alpha`` with a small ``GridSearchCV`` over the whole
   pipeline (cross-validated on the training part only), and scores the best pipeline;
3. saves that pipeline with ``numnet.save(pipe, "digits.skops")`` (skops' format: JSON
   and arrays, no pickle) and loads it back with ``numnet.load``, which builds only
   trusted types; the reloaded pipeline must give the same probabilities, bit for bit;
4. fits scikit-learn's own ``sklearn.neural_network.MLPClassifier`` in the same pipeline
   with the same settings, for comparison.

numnet's estimator takes the same parameters as scikit-learn's (only the import
changes); its weights start as numnet initialises them (He for the default ReLU, biases at
zero; scikit-learn draws both uniformly), so the two accuracies are close but not equal.
numnet runs a network this small on one BLAS thread (its products are under a million
multiply-adds: ``numnet.engine.threads``); scikit-learn's is fitted on one BLAS thread too
(``threadpoolctl``, which scikit-learn installs), since by default its products wait for
every core, however busy. numnet's first fit in a process also loads its compiled kernels
(numba's cache, with the ``fast`` extra): a second or two here, once. The fit times printed
depend on the machine and its load.

Run ``python examples/digits_pipeline.py`` (under a minute on 2 cores), or with ``--quick``
(30 epochs, a smaller grid); ``--no-grid`` skips the grid search, ``--out FOLDER`` keeps
``digits.skops``. Needs the ``sklearn`` extra: ``pip install 'numnet[sklearn]'``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import numnet
from numnet.estimators import MLPClassifier


def pipeline(classifier: object) -> Pipeline:
    """A scaler (each pixel to mean 0, standard deviation 1 on the training rows), then
    ``classifier``."""
    return Pipeline([("scale", StandardScaler()), ("mlp", classifier)])


def timed_fit(model: Pipeline | GridSearchCV, X: np.ndarray, y: np.ndarray) -> float:
    """Fit ``model`` on ``X (n, 64)``, ``y (n,)``; the seconds it took. A short run may stop
    before it converges (``--quick``): that is on purpose, so its warning is silenced."""
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="30 epochs and a grid of 2 settings x 2 folds, not 200 epochs "
                             "and 4 settings x 3 folds")
    parser.add_argument("--no-grid", action="store_true", help="skip the grid search")
    parser.add_argument("--seed", type=int, default=0,
                        help="the split's and the networks' random_state")
    parser.add_argument("--out", type=Path,
                        help="write digits.skops here (default: a temporary folder)")
    args = parser.parse_args(argv)
    max_iter = 30 if args.quick else 200
    settings = {"hidden_layer_sizes": (64,), "max_iter": max_iter, "random_state": args.seed}

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.seed)
    print(f"digits: {len(X_train)} training and {len(X_test)} held-out images of "
          f"{X.shape[1]} pixels, {len(np.unique(y))} classes")

    pipe = pipeline(MLPClassifier(**settings))
    seconds = timed_fit(pipe, X_train, y_train)
    ours = pipe.score(X_test, y_test)
    print(f"numnet MLPClassifier{settings['hidden_layer_sizes']}: held-out accuracy "
          f"{ours:.3f} after {pipe['mlp'].n_iter_} epochs ({seconds:.1f} s)")

    best = pipe
    if not args.no_grid:
        grid = {"mlp__hidden_layer_sizes": [(32,), (64,)], "mlp__alpha": [1e-4, 1e-2]}
        if args.quick:
            grid["mlp__alpha"] = [1e-4]
        search = GridSearchCV(pipeline(MLPClassifier(**settings)), grid, cv=2 if args.quick
                              else 3)
        seconds = timed_fit(search, X_train, y_train)
        best = search.best_estimator_
        chosen = ", ".join(f"{name.removeprefix('mlp__')}={value}"
                           for name, value in search.best_params_.items())
        n_fits = len(search.cv_results_["params"]) * search.n_splits_
        print(f"grid search ({n_fits} fits, {seconds:.1f} s): best {chosen}, cross-validated "
              f"accuracy {search.best_score_:.3f}, held-out {best.score(X_test, y_test):.3f}")

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = numnet.save(best, folder / "digits.skops")
        size = path.stat().st_size
        same = numnet.load(path)                # a Pipeline again, built without pickle
        identical = np.array_equal(same.predict_proba(X_test), best.predict_proba(X_test))
        print(f"saved {path.name} ({size / 1024:.0f} KiB) and loaded it back as a "
              f"{type(same).__name__} of {[type(step).__name__ for _, step in same.steps]}: "
              f"{'identical' if identical else 'DIFFERENT'} probabilities on the held-out "
              f"images")
        if not identical:
            raise SystemExit("the reloaded pipeline does not predict as the saved one")

    reference = pipeline(SklearnMLPClassifier(**settings))
    with threadpool_limits(limits=1, user_api="blas"):      # as numnet runs this network
        seconds = timed_fit(reference, X_train, y_train)
    theirs = reference.score(X_test, y_test)
    print(f"scikit-learn MLPClassifier{settings['hidden_layer_sizes']}: held-out accuracy "
          f"{theirs:.3f} after {reference['mlp'].n_iter_} epochs ({seconds:.1f} s, one BLAS "
          f"thread)")
    print(f"held-out accuracy, same pipeline and settings: numnet {ours:.3f}, "
          f"scikit-learn {theirs:.3f}")
    return ours


if __name__ == "__main__":
    main()
