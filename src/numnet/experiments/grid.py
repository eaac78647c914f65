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
import inspect
import itertools
import json
import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from numnet import fit

from .formatting import factor_name, label
from .runs import DATA_ARGS, FIT_ARGS, MLP_ARGS, RUN_ARGS

__all__ = ["Grid", "GridLike", "as_grids", "expand", "iter_settings", "count_settings", "run_key",
           "canonical_json", "Preset", "tutorial_preset", "tutorial_description", "PRESETS",
           "FACTORS"]

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
        return list(self.iter_settings())

    def iter_settings(self) -> Iterator[dict[str, Any]]:
        """The settings of :meth:`settings`, made one at a time."""
        names = list(self.factors)
        for combo in itertools.product(*(self.factors[k] for k in names)):
            yield dict(zip(names, combo, strict=True))

    def __len__(self) -> int:
        """The number of settings: the product of the factors' value counts (none made)."""
        return math.prod(len(v) for v in self.factors.values())

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
    return list(iter_settings(grids))


def iter_settings(grids: GridLike) -> Iterator[dict[str, Any]]:
    """The settings of :func:`expand`, made one at a time, in memory that does not grow.

    A setting of a later grid is skipped when an earlier grid with the same
    factors holds it: each of its values is among that grid's values (a
    grid's settings are all the combinations of its values), so no set of
    the settings seen is kept.
    """
    earlier: list[tuple[frozenset[str], dict[str, set[str]]]] = []
    for g in as_grids(grids):
        names = list(g.factors)
        texts = {k: [canonical_json(v) for v in g.factors[k]] for k in names}
        same = [values for keys, values in earlier if keys == frozenset(names)]
        for combo in itertools.product(*(range(len(g.factors[k])) for k in names)):
            if any(all(texts[k][i] in values[k] for k, i in zip(names, combo, strict=True))
                   for values in same):
                continue
            yield {k: g.factors[k][i] for k, i in zip(names, combo, strict=True)}
        earlier.append((frozenset(names), {k: set(texts[k]) for k in names}))


def count_settings(grids: GridLike, stop_after: int | None = None) -> tuple[int, bool]:
    """How many settings :func:`expand` gives, without keeping them: ``(count, exact)``.

    Grids that vary different factors never share a setting, so their count
    is the sum of their sizes, known at once. Otherwise the settings are
    counted one by one, and counting stops once it passes ``stop_after``:
    ``(stop_after + 1, False)`` then says "more than ``stop_after``".
    """
    grids = as_grids(grids)
    if len({frozenset(g.factors) for g in grids}) == len(grids):
        return sum(len(g) for g in grids), True
    count = 0
    for _ in iter_settings(grids):
        count += 1
        if stop_after is not None and count > stop_after:
            return count, False
    return count, True


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
    """A whole sweep by name: its grids, data, seeds and the fixed ``fit`` arguments.

    ``description`` says what the preset runs as it stands; when a sweep
    changes part of it (other epochs, seeds, data or values),
    :meth:`describe` says what runs instead.
    """

    name: str
    grids: list[Grid]
    data: str
    seeds: list[int]
    fit_kwargs: dict[str, Any]
    description: str = ""
    explain: Callable[[Sequence[Grid], str, int, Mapping[str, Any]], str] | None = None

    def describe(self, grids: Sequence[Grid] | None = None, data: str | None = None,
                 n_seeds: int | None = None, fit_kwargs: Mapping[str, Any] | None = None
                 ) -> str:
        """The description of what runs: the preset with the parts given replaced."""
        if self.explain is None:
            return self.description
        return self.explain(self.grids if grids is None else grids,
                            self.data if data is None else data,
                            len(self.seeds) if n_seeds is None else n_seeds,
                            self.fit_kwargs if fit_kwargs is None else fit_kwargs)


TUTORIAL_NETWORK = "tutorial's network"
NUMNET_DEFAULTS = "numnet's defaults"

# The tutorial's three explorations, and how its description words each.
_EXPLORATIONS: list[tuple[dict[str, list[Any]], str]] = [
    ({"hidden_layers": [[1], [3], [3, 2], [9, 6], [32, 16]], "n_samples": [100],
      "learning_rate": [0.1]},
     "hidden layers (1,), (3,), (3, 2), (9, 6), (32, 16) at N = 100 and learning rate 0.1"),
    ({"hidden_layers": [[3]], "n_samples": [10, 100, 500, 1000], "learning_rate": [0.1]},
     "N = 10, 100, 500, 1000 with (3,) at rate 0.1"),
    ({"hidden_layers": [[3]], "n_samples": [100], "learning_rate": [0.1, 0.3, 1.0, 3.0]},
     "learning rates 0.1, 0.3, 1.0, 3.0 with (3,) at N = 100"),
]
# What tells the tutorial's network from numnet's defaults: said once, after the explorations.
_NETWORK_FACTORS = ("bias", "init", "lr_scale")


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
    networks: list[tuple[str, dict[str, list[Any]]]] = [
        (TUTORIAL_NETWORK, {"bias": [False], "init": ["uniform"]}),
        (NUMNET_DEFAULTS, {"bias": [True], "init": [None]}),
    ]
    grids = [Grid({**factors, **net, "lr_scale": ["tutorial"]}, label)
             for factors, _ in _EXPLORATIONS for label, net in networks]
    data, seeds = "one_minus_x_grid", list(range(10))
    fit_kwargs = {"epochs": 50, "batch_size": 1, "shuffle": False, "optimizer": "sgd"}
    return Preset(name="tutorial", grids=grids, data=data, seeds=seeds, fit_kwargs=fit_kwargs,
                  description=tutorial_description(grids, data, len(seeds), fit_kwargs),
                  explain=tutorial_description)


_FIT_DEFAULTS = {name: p.default for name, p in inspect.signature(fit).parameters.items()
                 if p.default is not inspect.Parameter.empty}
_NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def tutorial_description(grids: Sequence[Grid], data: str, n_seeds: int,
                         fit_kwargs: Mapping[str, Any]) -> str:
    """What the tutorial preset runs, in words, computed from what runs.

    Every figure (epochs, training, networks per setting, data, the values
    of each exploration, the activation) comes from ``grids``, ``data``,
    ``n_seeds`` and ``fit_kwargs``, so ``--epochs 5`` says 5 epochs. An
    exploration the options left as the tutorial's keeps the tutorial's words.
    """
    explorations = _exploration_texts(grids)
    one_factor = all(len(g.varying) == 1 for g in grids)
    count = _NUMBERS[len(explorations)] if len(explorations) < len(_NUMBERS) \
        else str(len(explorations))
    kind = "one-factor exploration" if one_factor else "exploration"
    on = ("`1 - x` (inputs `x / N` for `x < N`, shuffled)" if data == "one_minus_x_grid"
          else f"`{data}`")
    networks = f"{n_seeds} network{'s' if n_seeds != 1 else ''} per setting"
    text = (f"The tutorial's own answer to its challenge: {count} {kind}"
            f"{'s' if len(explorations) != 1 else ''} on {on}, {_epochs_text(grids, fit_kwargs)} "
            f"of {_training_text(grids, fit_kwargs)}, {networks}: {'; '.join(explorations)}.")
    labels = {g.label for g in grids}
    if {TUTORIAL_NETWORK, NUMNET_DEFAULTS} <= labels:
        text += (" Each runs on the tutorial's exact network (no biases, weights uniform on "
                 "[0, 1): `bias=False, init=\"uniform\"`) and on numnet's defaults (biases, "
                 f"Glorot initialisation), {_activation_text(grids)} in both.")
    if _is_tutorial_training(grids, fit_kwargs):
        text += (" Training is the tutorial's `train`: the examples in the shuffled data's "
                 "order, one SGD step each.")
    return text


def _values(grids: Sequence[Grid], fit_kwargs: Mapping[str, Any], name: str) -> list[Any]:
    """The values ``name`` takes in the sweep: the grids' where they set it, else the fixed one."""
    out: list[Any] = []
    for g in grids:
        for v in g.factors.get(name, [fit_kwargs.get(name, _FIT_DEFAULTS.get(name))]):
            if v not in out:
                out.append(v)
    return out


def _epochs_text(grids: Sequence[Grid], fit_kwargs: Mapping[str, Any]) -> str:
    epochs = _values(grids, fit_kwargs, "epochs")
    if len(epochs) == 1:
        return f"{epochs[0]} epoch{'s' if epochs[0] != 1 else ''}"
    return "epochs " + ", ".join(map(str, epochs))


def _is_tutorial_training(grids: Sequence[Grid], fit_kwargs: Mapping[str, Any]) -> bool:
    """Per-example SGD in the data's order: the tutorial's ``train``."""
    return (_values(grids, fit_kwargs, "batch_size") == [1]
            and _values(grids, fit_kwargs, "optimizer") == ["sgd"]
            and _values(grids, fit_kwargs, "shuffle") == [False])


def _training_text(grids: Sequence[Grid], fit_kwargs: Mapping[str, Any]) -> str:
    """``per-example SGD``, or the optimizer(s) and batch size(s) that run."""
    optimizers = _values(grids, fit_kwargs, "optimizer")
    batches = _values(grids, fit_kwargs, "batch_size")
    names = " / ".join(str(o) for o in optimizers)
    if batches == [1]:
        return f"per-example {'SGD' if optimizers == ['sgd'] else names}"
    return f"{'SGD' if optimizers == ['sgd'] else names} with batch size " + \
        ", ".join(str(b) for b in batches)


def _activation_text(grids: Sequence[Grid]) -> str:
    activations = _values(grids, {}, "activation")
    if activations == [None]:
        activations = ["sigmoid"]
    if len(activations) == 1:
        return f"{activations[0]} everywhere"
    return "activations " + ", ".join(str(a) for a in activations) + " (hidden and output alike)"


def _exploration_texts(grids: Sequence[Grid]) -> list[str]:
    """One phrase per exploration (grids that differ only in the network are one)."""
    texts: list[str] = []
    for g in grids:
        factors = {k: v for k, v in g.factors.items() if k not in _NETWORK_FACTORS}
        words = next((w for f, w in _EXPLORATIONS if canonical_json(f) == canonical_json(factors)),
                     None)
        if words is None:
            varying = [f"{factor_name(k)} " + ", ".join(label(k, v) for v in values)
                       for k, values in factors.items() if len(values) > 1]
            fixed = [f"{factor_name(k)} {label(k, values[0])}"
                     for k, values in factors.items() if len(values) == 1]
            words = " × ".join(varying) or "one setting"
            if fixed:
                words += " with " + ", ".join(fixed)
        if words not in texts:
            texts.append(words)
    return texts


#: Presets by name, for ``numnet sweep --preset``.
PRESETS = {"tutorial": tutorial_preset}
