"""What the commands share: parsing helpers and data loading."""

from __future__ import annotations

import click
import numpy as np

from .. import datasets

DATA_HELP = (f"A built-in data set ({', '.join(datasets.DATASETS)}) or a .csv (last columns "
             f"are targets) / .npz (arrays X and y) file.")


def parse_hidden(value: str) -> list[int]:
    """``"5,3"`` -> ``[5, 3]``; ``""`` -> ``[]``."""
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated integers such as 5,3; got {value!r}") from None


def load_data(data: str, target_columns: int, samples: int, seed: int):
    """A built-in data set by name, or a CSV/NPZ file: ``(X, y)``."""
    if data in datasets.DATASETS:
        return datasets.get_dataset(data, n_samples=samples, random_state=seed)
    if data.endswith(".npz"):
        return datasets.load_npz(data)
    if data.endswith(".csv"):
        return datasets.load_csv(data, target_columns=target_columns)
    raise click.BadParameter(
        f"{data!r} is neither a built-in data set {sorted(datasets.DATASETS)} nor a .csv/.npz "
        f"file", param_hint="--data")


def is_labels(y) -> bool:
    y = np.asarray(y)
    return y.ndim == 1 and (y.dtype.kind in "iuUSOb")
