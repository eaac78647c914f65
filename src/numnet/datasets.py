"""Small data sets, generated on the spot (nothing is downloaded), and file loaders.

Every generator takes ``random_state`` and returns ``(X, y)`` with
``X: (n_samples, n_features)``; regression targets are ``(n_samples, n_outputs)``,
class labels ``(n_samples,)`` integers.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from .initializers import check_random_state
from .validation import check_name, check_nonnegative_float, check_positive_int

__all__ = ["one_minus_x", "sum_of_two", "xor", "sine", "spirals", "load_csv", "load_npz",
           "DATASETS", "get_dataset"]

Seed = int | np.random.Generator | None


def one_minus_x(n_samples: int = 1000, random_state: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's first task: learn ``y = 1 - x`` for ``x`` uniform on [0, 1).

    Returns ``X: (n_samples, 1)``, ``y: (n_samples, 1)``.
    """
    n = check_positive_int(n_samples, "n_samples")
    X = check_random_state(random_state).random((n, 1))
    return X, 1.0 - X


def sum_of_two(n_samples: int = 1000, random_state: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's second task: add two numbers, each uniform on [0, 0.5).

    Returns ``X: (n_samples, 2)``, ``y: (n_samples, 1)`` in [0, 1), where a
    sigmoid output can reach every target.
    """
    n = check_positive_int(n_samples, "n_samples")
    X = check_random_state(random_state).random((n, 2)) / 2.0
    return X, X.sum(axis=1, keepdims=True)


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: ``X: (4, 2)``, ``y: (4,)`` labels 0/1."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0])


def sine(n_samples: int = 500, noise: float = 0.0, random_state: Seed = None
         ) -> tuple[np.ndarray, np.ndarray]:
    """``y = sin(x) + noise`` for ``x`` uniform on [-pi, pi]: ``X, y`` both ``(n_samples, 1)``."""
    n = check_positive_int(n_samples, "n_samples")
    noise = check_nonnegative_float(noise, "noise")
    rng = check_random_state(random_state)
    X = rng.uniform(-np.pi, np.pi, (n, 1))
    return X, np.sin(X) + noise * rng.standard_normal((n, 1))


def spirals(n_samples: int = 600, n_classes: int = 2, noise: float = 0.1,
            random_state: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class: ``X: (n_samples, 2)``, ``y: (n_samples,)``.

    Not linearly separable: a network needs hidden units to classify it.
    """
    n = check_positive_int(n_samples, "n_samples")
    k = check_positive_int(n_classes, "n_classes")
    noise = check_nonnegative_float(noise, "noise")
    rng = check_random_state(random_state)
    y = np.arange(n) % k
    r = rng.random(n)                                    # radius in [0, 1)
    theta = 3.5 * np.pi * r + 2.0 * np.pi * y / k        # each arm turned by 2 pi / k
    X = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    X += noise * r[:, None] * rng.standard_normal((n, 2))
    return X, y


def load_csv(path: str | os.PathLike, target_columns: int = 1, skip_header: bool | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Read a numeric CSV whose last ``target_columns`` columns are the targets.

    A first row that is not numeric is taken as a header (or say so with
    ``skip_header``). Returns ``X: (n, n_columns - target_columns)`` and
    ``y: (n, target_columns)``.
    """
    k = check_positive_int(target_columns, "target_columns")
    with open(path, newline="") as fh:
        rows = [row for row in csv.reader(fh) if row and any(c.strip() for c in row)]
    if not rows:
        raise ValueError(f"{path}: no rows")
    if skip_header is None:
        skip_header = not _is_numeric_row(rows[0])
    rows = rows[1:] if skip_header else rows
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"{path}: rows have different numbers of columns {sorted(widths)}")
    width = widths.pop()
    if width <= k:
        raise ValueError(f"{path}: {width} column(s) leaves no features after {k} target column(s)")
    try:
        data = np.array(rows, dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{path}: non-numeric value ({exc}); encode categories first") from exc
    return data[:, :-k], data[:, -k:]


def _is_numeric_row(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True


def load_npz(path: str | os.PathLike, x_key: str = "X", y_key: str = "y"
             ) -> tuple[np.ndarray, np.ndarray]:
    """Read arrays ``X`` and ``y`` from an ``.npz`` file (object arrays refused: no pickle)."""
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in (x_key, y_key) if k not in data.files]
        if missing:
            raise ValueError(f"{path}: missing array(s) {missing}; it holds {data.files}")
        return data[x_key], data[y_key]


DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "one_minus_x": one_minus_x,
    "sum_of_two": sum_of_two,
    "xor": lambda n_samples=None, random_state=None: xor(),
    "sine": sine,
    "spirals": spirals,
}


def get_dataset(name: str, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Generate a built-in data set by name, e.g. ``get_dataset("sine", n_samples=200)``."""
    return check_name(name, "data set", DATASETS)(**kwargs)
