"""Grids of settings, joined grids and run keys.

A grid maps factors (:class:`numnet.MLP` or :func:`numnet.fit` arguments, ``n_samples``)
to values; its settings are their Cartesian product. Joined grids run a setting they
share once. A run's key digests its setting and seed only.

>>> len(Grid({"hidden_layers": [[3], [9, 6]], "learning_rate": [0.1, 1.0]}).settings())
4
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .audio import augment_text
from .runs import FACTORS, spelled

FACTOR_NAMES = {"hidden_layers": "hidden layers", "n_samples": "training samples (N)",
                "learning_rate": "learning rate", "batch_size": "batch size",
                "augment": "augmentation", "augment_copies": "augmented copies per clip"}


def factor_name(factor: str) -> str:
    """The reader's name of ``factor``: ``"learning rate"`` for ``learning_rate``."""
    return FACTOR_NAMES.get(factor, factor)


def label(factor: str, value: Any) -> str:
    """A value as shown: ``(3, 2)`` for hidden layers, ``default`` for None."""
    if factor == "hidden_layers" and isinstance(value, list):
        return "(" + ", ".join(str(v) for v in value) + (",)" if len(value) == 1 else ")")
    return "default" if value is None else str(value)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def run_key(settings: Mapping[str, Any], seed: int) -> str:
    """A key for one run, the same in every process: a digest of settings and seed.

    Parameters
    ----------
    settings : mapping
        The run's values of each factor (JSON-safe).
    seed : int
        The run's seed.

    Returns
    -------
    str
        24 hexadecimal digits of the SHA-256 of both, as canonical JSON.
    """
    text = canonical_json({"settings": dict(settings), "seed": int(seed)})
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _plain(value: Any, factor: str) -> Any:
    """A JSON-native copy of one factor value (numpy scalars and tuples made plain)."""
    if factor == "hidden_layers":
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = [value]
        if isinstance(value, str) or not isinstance(value, Sequence) or not all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
            raise ValueError(f"hidden_layers values must be lists of layer widths, got {value!r}; "
                             f"try [[3], [9, 6]]")
        return [int(v) for v in value]
    if factor == "augment":         # "none", None and "" are one value: no augmentation
        return augment_text(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):            # a run key and the store need finite numbers
            raise ValueError(f"{factor} values must be finite numbers, got {value!r}")
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, factor) for v in value]
    raise ValueError(f"{factor} values must be numbers, strings, booleans, None or lists of "
                     f"them, got {value!r} ({type(value).__name__})"
                     + spelled("; pass objects through fit_kwargs instead", ""))


@dataclass
class Grid:
    """Values for each factor: a sweep runs every combination of them.

    Parameters
    ----------
    factors : dict
        Each factor's values (a factor of :data:`numnet.experiments.runs.FACTORS`): a list,
        or one value (kept as a list of one). ``hidden_layers`` values are lists of widths
        (``[[3], [9, 6]]``; ``[3]`` alone is one network). Values are made JSON-plain; an
        unknown factor, an empty list or a repeated value is a ValueError.
    label : str or None, default None
        The grid's name in reports (one grid of several set side by side).
    """

    factors: dict[str, list[Any]]
    label: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.factors, Mapping):
            raise TypeError(f"a grid is a mapping of factor to values, got "
                            f"{type(self.factors).__name__}")
        unknown = sorted(set(self.factors) - set(FACTORS))
        if unknown:
            raise ValueError(f"unknown factor(s) {unknown}; a grid varies {sorted(FACTORS)}")
        factors: dict[str, list[Any]] = {}
        for name, values in self.factors.items():
            many = isinstance(values, (list, tuple)) and not (
                name == "hidden_layers" and values and not isinstance(values[0], (list, tuple)))
            values = list(values) if many else [values]
            if not values:
                raise ValueError(f"factor {name!r} has no values; give at least one")
            plain = [_plain(v, name) for v in values]
            if len({canonical_json(v) for v in plain}) != len(plain):
                raise ValueError(f"factor {name!r} repeats a value: {plain}")
            factors[name] = plain
        self.factors = factors

    @property
    def varying(self) -> list[str]:
        """The factors with more than one value, in grid order."""
        return [k for k, v in self.factors.items() if len(v) > 1]

    @property
    def fixed(self) -> dict[str, Any]:
        """The factors with one value, and that value."""
        return {k: v[0] for k, v in self.factors.items() if len(v) == 1}

    def settings(self) -> list[dict[str, Any]]:
        """Every combination of the factors' values, the last factor varying fastest."""
        return list(self.iter_settings())

    def iter_settings(self) -> Iterator[dict[str, Any]]:
        """The settings of :meth:`settings`, made one at a time."""
        for combo in itertools.product(*self.factors.values()):
            yield dict(zip(self.factors, combo, strict=True))

    def __len__(self) -> int:
        """The number of settings (none made)."""
        return math.prod(len(v) for v in self.factors.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (:meth:`from_dict` reads it back)."""
        return {"factors": self.factors, **({} if self.label is None else {"label": self.label})}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grid:
        """A grid from :meth:`to_dict`'s form, or from a plain mapping of factors."""
        factors = data["factors"] if "factors" in data else {
            k: v for k, v in data.items() if k != "label"}
        return cls(dict(factors), data.get("label"))


GridLike = Grid | Mapping[str, Any] | Sequence[Grid | Mapping[str, Any]]


def as_grids(grid: GridLike) -> list[Grid]:
    """One grid, a mapping, or a list of them, as a list of :class:`Grid`.

    Parameters
    ----------
    grid : Grid, mapping or sequence of them
        A grid, a mapping of factor to values (or :meth:`Grid.to_dict`'s form), or a
        non-empty list of either.

    Returns
    -------
    list of Grid
        The grids, in order.
    """
    if isinstance(grid, (Grid, Mapping)):
        grid = [grid]
    elif not isinstance(grid, Sequence) or isinstance(grid, str):
        raise TypeError(f"grid must be a Grid, a mapping of factor to values, or a list of "
                        f"them, got {type(grid).__name__}")
    if not grid:
        raise ValueError("no grids given; pass a mapping such as {'hidden_layers': [[3]]}")
    return [g if isinstance(g, Grid) else Grid.from_dict(g) for g in grid]


def expand(grids: GridLike) -> list[dict[str, Any]]:
    """The settings of joined grids, in order, each distinct setting once.

    Parameters
    ----------
    grids : Grid, mapping or sequence of them
        As :func:`as_grids` takes them.

    Returns
    -------
    list of dict
        Each setting, a value per factor of its grid; a setting an earlier grid of the
        same factors already has is left out.
    """
    return list(iter_settings(grids))


def iter_settings(grids: GridLike) -> Iterator[dict[str, Any]]:
    """:func:`expand`'s settings one at a time, in memory that does not grow: a setting is
    skipped when an earlier grid of the same factors holds each of its values."""
    earlier: list[tuple[frozenset[str], dict[str, set[str]]]] = []
    for g in as_grids(grids):
        names = list(g.factors)
        texts = {k: [canonical_json(v) for v in g.factors[k]] for k in names}
        same = [values for keys, values in earlier if keys == frozenset(names)]
        for combo in itertools.product(*(range(len(g.factors[k])) for k in names)):
            if not any(all(texts[k][i] in values[k] for k, i in zip(names, combo, strict=True))
                       for values in same):
                yield {k: g.factors[k][i] for k, i in zip(names, combo, strict=True)}
        earlier.append((frozenset(names), {k: set(texts[k]) for k in names}))


def count_settings(grids: GridLike, stop_after: int | None = None) -> tuple[int, bool]:
    """``(count, exact)`` of :func:`expand` without keeping settings; past ``stop_after``
    it stops at ``(stop_after + 1, False)``. Grids of different factors share no setting."""
    grids = as_grids(grids)
    if len({frozenset(g.factors) for g in grids}) == len(grids):
        return sum(len(g) for g in grids), True
    count = 0
    for _ in iter_settings(grids):
        count += 1
        if stop_after is not None and count > stop_after:
            return count, False
    return count, True
