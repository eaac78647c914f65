"""Grids of settings, their Cartesian product, joined grids, and stable run keys.

A grid maps each factor (an :class:`numnet.MLP` or :func:`numnet.fit`
argument, or the data size ``n_samples``) to the values it takes; its
settings are the Cartesian product of those values. Several grids can be
joined: their settings are taken in turn, a setting that appears in more than
one grid once. Each (setting, seed) pair is a run with a key that depends on
nothing else (:func:`run_key`), so a store can tell which runs it holds.

>>> g = Grid({"hidden_layers": [[3], [9, 6]], "learning_rate": [0.1, 1.0]})
>>> len(g.settings())
4
>>> expand([g, {"hidden_layers": [[3]], "learning_rate": [0.1]}]) == g.settings()
True
"""

from __future__ import annotations

import hashlib
import itertools
import json
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .runs import DATA_ARGS, FIT_ARGS, MLP_ARGS, RUN_ARGS

__all__ = ["Grid", "GridLike", "as_grids", "expand", "run_key", "canonical_json",
           "Preset", "tutorial_preset", "PRESETS", "FACTORS"]

#: Every name a grid may vary.
FACTORS = MLP_ARGS + FIT_ARGS + DATA_ARGS + RUN_ARGS


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
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, factor) for v in value]
    raise ValueError(f"{factor} values must be numbers, strings, booleans, None or lists of "
                     f"them, got {value!r} ({type(value).__name__}); pass objects through "
                     f"fit_kwargs instead")


@dataclass
class Grid:
    """Values for each factor; the settings are their Cartesian product.

    Parameters
    ----------
    factors : mapping of str to value or list of values
        e.g. ``{"hidden_layers": [[3], [9, 6]], "n_samples": [100, 1000],
        "learning_rate": 0.1}``; a single value is a list of one.
        ``hidden_layers`` values are lists of widths (``3`` is ``[3]``).
        Names: see :data:`FACTORS`.
    label : str, optional
        Names the grid in reports, e.g. when grids that vary the same factor
        differ in a fixed one ("the tutorial's network" / "numnet's defaults").
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
        names = list(self.factors)
        return [dict(zip(names, combo, strict=True))
                for combo in itertools.product(*(self.factors[k] for k in names))]

    def __len__(self) -> int:
        return len(self.settings())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (:meth:`from_dict` reads it back)."""
        out: dict[str, Any] = {"factors": self.factors}
        if self.label is not None:
            out["label"] = self.label
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grid:
        """A grid from :meth:`to_dict`'s form, or from a plain mapping of factors."""
        if "factors" in data:
            return cls(dict(data["factors"]), data.get("label"))
        factors = {k: v for k, v in data.items() if k != "label"}
        return cls(factors, data.get("label"))


GridLike = Grid | Mapping[str, Any] | Sequence[Grid | Mapping[str, Any]]


def as_grids(grid: GridLike) -> list[Grid]:
    """One grid, a mapping, or a list of them, as a list of :class:`Grid`."""
    if isinstance(grid, Grid):
        return [grid]
    if isinstance(grid, Mapping):
        return [Grid.from_dict(grid)]
    if isinstance(grid, Sequence) and not isinstance(grid, str):
        grids = [g if isinstance(g, Grid) else Grid.from_dict(g) for g in grid]
        if not grids:
            raise ValueError("no grids given; pass a mapping such as {'hidden_layers': [[3]]}")
        return grids
    raise TypeError(f"grid must be a Grid, a mapping of factor to values, or a list of them, "
                    f"got {type(grid).__name__}")


def expand(grids: GridLike) -> list[dict[str, Any]]:
    """The settings of joined grids, in order, each distinct setting once."""
    seen: set[str] = set()
    out = []
    for g in as_grids(grids):
        for s in g.settings():
            k = canonical_json(s)
            if k not in seen:
                seen.add(k)
                out.append(s)
    return out


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def run_key(settings: Mapping[str, Any], seed: int) -> str:
    """A stable key for one run: a digest of its settings and seed.

    The same settings and seed give the same key in any process and any
    Python session (it hashes :func:`canonical_json`, not ``hash()``).
    """
    text = canonical_json({"settings": dict(settings), "seed": int(seed)})
    return hashlib.sha256(text.encode()).hexdigest()[:24]


# --- presets -----------------------------------------------------------------------


@dataclass
class Preset:
    """A whole sweep by name: its grids, data, seeds and the fixed ``fit`` arguments."""

    name: str
    grids: list[Grid]
    data: str
    seeds: list[int]
    fit_kwargs: dict[str, Any]
    description: str = ""


TUTORIAL_NETWORK = "tutorial's network"
NUMNET_DEFAULTS = "numnet's defaults"


def tutorial_preset() -> Preset:
    """The tutorial's answer to its challenge, on its exact network and on numnet's defaults.

    Three one-factor explorations on ``1 - x`` (inputs ``x / N`` for
    ``x < N``, shuffled: :func:`numnet.experiments.runs.one_minus_x_grid`),
    50 epochs of per-example SGD, 10 networks per setting:

    * hidden layers (1,), (3,), (3, 2), (9, 6), (32, 16) at N = 100, rate 0.1;
    * N = 10, 100, 500, 1000 with (3,) at rate 0.1;
    * learning rates 0.1, 0.3, 1.0, 3.0 with (3,) at N = 100.

    Each runs twice: on the tutorial's exact network (``bias=False,
    init="uniform"``: no biases, weights uniform on [0, 1)) and on numnet's
    defaults (biases, Glorot initialisation), sigmoid everywhere in both.
    Training is the tutorial's ``train``: examples in the (shuffled) data's
    order, one SGD step each; learning rates are on the tutorial's scale
    (``lr_scale="tutorial"``: rate ``lr`` on ``0.5 * sum((t - o) ** 2)``,
    i.e. SGD on the mean squared error at ``lr * num_outputs / 2``).
    """
    explorations: list[dict[str, list[Any]]] = [
        {"hidden_layers": [[1], [3], [3, 2], [9, 6], [32, 16]], "n_samples": [100],
         "learning_rate": [0.1]},
        {"hidden_layers": [[3]], "n_samples": [10, 100, 500, 1000], "learning_rate": [0.1]},
        {"hidden_layers": [[3]], "n_samples": [100], "learning_rate": [0.1, 0.3, 1.0, 3.0]},
    ]
    networks: list[tuple[str, dict[str, list[Any]]]] = [
        (TUTORIAL_NETWORK, {"bias": [False], "init": ["uniform"]}),
        (NUMNET_DEFAULTS, {"bias": [True], "init": [None]}),
    ]
    grids = [Grid({**factors, **net, "lr_scale": ["tutorial"]}, label)
             for factors in explorations for label, net in networks]
    return Preset(
        name="tutorial", grids=grids, data="one_minus_x_grid", seeds=list(range(10)),
        fit_kwargs={"epochs": 50, "batch_size": 1, "shuffle": False, "optimizer": "sgd"},
        description=_TUTORIAL_DESCRIPTION,
    )


_TUTORIAL_DESCRIPTION = (
    "The tutorial's own answer to its challenge: three one-factor explorations on `1 - x` "
    "(inputs `x / N` for `x < N`, shuffled), 50 epochs of per-example SGD, 10 networks per "
    "setting: hidden layers (1,), (3,), (3, 2), (9, 6), (32, 16) at N = 100 and learning rate "
    "0.1; N = 10, 100, 500, 1000 with (3,) at rate 0.1; learning rates 0.1, 0.3, 1.0, 3.0 with "
    "(3,) at N = 100. Each runs on the tutorial's exact network (no biases, weights uniform on "
    "[0, 1): `bias=False, init=\"uniform\"`) and on numnet's defaults (biases, Glorot "
    "initialisation), sigmoid everywhere in both. Training is the tutorial's `train`: the "
    "examples in the shuffled data's order, one SGD step each."
)


#: Presets by name, for ``numnet sweep --preset``.
PRESETS = {"tutorial": tutorial_preset}
