"""``numnet sweep`` and ``numnet curve``: :mod:`numnet.experiments`' sweeps and curves on
the command line (``numnet[cli]``)."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

try:
    import click
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("numnet sweep needs click: pip install 'numnet[cli]'") from exc

from numnet.experiments.audio import check_augment, check_folder, is_audio
from numnet.experiments.executors import get_executor
from numnet.experiments.grid import Grid
from numnet.experiments.plugins import worker_plugins
from numnet.experiments.report import report_files, require_report_extras
from numnet.experiments.runs import FLIPPED, command_line_words, make_data_source
from numnet.experiments.store import StoreError, _cannot_create_in, check_store
from numnet.experiments.sweep import (
    DEFAULT_MAX_RUNS,
    PRESETS,
    SweepTooLarge,
    capacity_preset,
    check_fit_kwargs,
    check_size,
    learning_rate_preset,
    seeds_of,
    sweep,
)
from numnet.terminal import one_line

from ._common import Finite

_CONFIG_KEYS = {"grids", "grid", "data", "seeds", "repeats", "fit", "title", "description"}
_CONFIG_TYPES = (("data", str, "a data set's name"), ("title", str, "text"),
                 ("description", str, "text"),
                 ("fit", dict, "a table of fit arguments ([fit] in TOML)"),
                 ("seeds", list, "a list of seeds"), ("repeats", int, "a number of seeds"))
# The factors given as options, comma-separated: option, factor, type of a value, metavar, help.
_FACTOR_OPTIONS = (
    ("--n-samples", "n_samples", int, "N,...", "Training set sizes, e.g. 10,100,1000."),
    ("--lr", "learning_rate", float, "RATE,...", "Learning rates, e.g. 0.1,0.3,1.0."),
    ("--activation", "activation", str, "NAME,...", "Hidden activations, e.g. sigmoid,relu."),
    ("--batch-size", "batch_size", int, "B,...", "Batch sizes, e.g. 1,32."),
)
# Those of audio folders, shown after --augment.
_AUDIO_OPTIONS = (
    ("--augment-copies", "augment_copies", int, "N,...",
     "Audio folders: augmented copies of each training clip (with --augment), e.g. 1,3."),
)


def load_sweep_file(path: str | Path) -> dict[str, Any]:
    """A sweep from a TOML or JSON file: one grid of factors, or ``grids`` (or ``grid``)
    with ``data``, ``seeds`` or ``repeats``, ``fit``, ``title``, ``description``. Returns
    ``{"grids": [Grid, ...], ...}``; anything else is a one-line usage error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _usage(f"{path}: not UTF-8 text; a grid file is TOML or JSON") from None
    except OSError as exc:
        raise _usage(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if path.suffix.lower() == ".toml":
        try:
            import tomllib  # type: ignore[import-not-found, unused-ignore]  # 3.11+, see below
        except ImportError as exc:  # Python 3.10
            raise _usage(f"{path}: TOML needs Python 3.11+ (tomllib); use a JSON file") from exc
        try:
            config = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _usage(f"{path}: not valid TOML: {exc}") from None
    elif path.suffix.lower() == ".json":
        try:
            config = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise _usage(f"{path}: not valid JSON: {exc}") from None
    else:
        raise _usage(f"{path}: a grid file is .toml or .json")
    if not isinstance(config, dict):
        raise _usage(f"{path}: expected a table of factors or a sweep, got "
                     f"{type(config).__name__}")
    if not set(config) & _CONFIG_KEYS:
        config = {"grids": [config]}
    unknown = sorted(set(config) - _CONFIG_KEYS)
    if unknown:
        raise _usage(f"{path}: unknown key(s) {unknown}; a sweep file has "
                     f"{sorted(_CONFIG_KEYS)}, or only factors")
    raw = config.pop("grids", None) or [config.pop("grid", None)]
    if raw == [None]:
        raise _usage(f"{path}: no grid; add a [[grids]] table of factors")
    if not isinstance(raw, list) or not all(isinstance(g, dict) for g in raw):
        raise _usage(f"{path}: grids must be a list of tables of factors ([[grids]] in TOML)")
    try:
        config["grids"] = [Grid.from_dict(g) for g in raw]
    except (TypeError, ValueError) as exc:
        raise _usage(f"{path}: {exc}") from None
    for key, kind, what in _CONFIG_TYPES:
        if key in config and (not isinstance(config[key], kind) or isinstance(config[key], bool)):
            raise _usage(f"{path}: {key} must be {what}, got {config[key]!r}")
    return config


def _usage(message: str) -> click.UsageError:
    return click.UsageError(one_line(message))


@contextlib.contextmanager
def _stopped_cleanly(store_path: Path) -> Any:
    """Around a sweep or a curve: Ctrl-C ends with status 130 saying where the finished runs
    are; an error ends in one line (:func:`_error`)."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted; every finished run is in {one_line(store_path)}: run the "
                   f"same command again to continue", err=True)
        sys.exit(130)
    except (ValueError, TypeError, ImportError, RuntimeError, OSError) as exc:
        raise _error(exc) from None


def _error(exc: BaseException | str) -> click.ClickException:
    """A one-line ``Error: ...`` (exit 1) for ``exc``."""
    if isinstance(exc, OSError) and not isinstance(exc, StoreError) and exc.filename:
        return click.ClickException(one_line(f"{exc.filename}: {exc.strerror or exc}"))
    return click.ClickException(one_line(exc))


def _split(text: str, kind: type, option: str) -> list[Any]:
    try:
        values = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated {kind.__name__}s, got {text!r}",
                                 param_hint=option) from exc
    if kind is float and not all(math.isfinite(v) for v in values):
        raise click.BadParameter(f"expected finite numbers, got {text!r}", param_hint=option)
    return values


class _OneLineFormatter(logging.Formatter):
    """Log lines with control characters escaped: a failed run's error can quote a name
    read from a file."""

    def format(self, record: logging.LogRecord) -> str:
        return one_line(super().format(record))


def _show_warnings() -> None:
    """numnet's warnings (a failed run, a diverged one) on stderr; other libraries' logs stay
    as they are configured."""
    log = logging.getLogger("numnet")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_OneLineFormatter("%(levelname)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.WARNING)


def _worded(command: Any) -> Any:
    """``command`` run within :func:`~numnet.experiments.runs.command_line_words`: what it
    says names options, not Python's arguments."""
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        with command_line_words():
            return command(*args, **kwargs)
    return run


def _preset_help() -> str:
    """``--preset``'s help, its figures read from the presets themselves."""
    capacity = capacity_preset()
    widths = [w for g in capacity.grids for layers in g.factors.get("hidden_layers", [])
              for w in layers]
    rates = [r for g in learning_rate_preset().grids for r in g.factors.get("learning_rate", [])]
    return (f"A whole sweep by name: 'tutorial' is the tutorial's own answer to its challenge, "
            f"on its exact network and on numnet's defaults; 'capacity' is widths "
            f"{min(widths)} to {max(widths)} on noisy spirals ({FLIPPED:.0%} flipped labels), "
            f"where double descent may show; 'learning-rate' sets lr_find's suggestion beside "
            f"a sweep of rates {min(rates):g} to {max(rates):g}.")


def _factor_options(options: tuple[tuple[str, str, type, str, str], ...]) -> Any:
    """A decorator adding ``options`` (as :data:`_FACTOR_OPTIONS`), in their order."""
    def add(command: Any) -> Any:
        for option, _, _, metavar, text in reversed(options):
            command = click.option(option, metavar=metavar, help=text)(command)
        return command
    return add


EXAMPLES = """
\b
Examples:
  numnet sweep --preset tutorial --out tutorial-challenge
  numnet sweep --preset capacity --backend processes --out capacity
  numnet sweep --hidden 1 --hidden 3 --hidden 9,6 --n-samples 100,1000 \\
               --lr 0.1,1.0 --repeats 5 --epochs 50 --backend processes --out sweep
  numnet sweep --grid sweep.toml --backend dask --scheduler tcp://10.0.0.5:8786
  numnet --plugin my_activations sweep --activation swish,relu --backend processes
  numnet sweep --data audio:sounds --augment none --augment noise=20 \\
               --augment noise=20,gain=6,shift=0.1 --hidden 16 --repeats 5 \\
               --epochs 30 --backend processes --out augment

\b
Activations and losses of your own (registered by a module named with --plugin)
work on every backend: each run imports that module first, wherever it runs.

\b
An audio folder (--data audio:FOLDER: a subfolder of clips per class, or
train/ and test/ parts) is read once, before the runs; a fixed fifth of its
clips (of a split: test/) is every run's test set. --augment (repeat it for
each level; "none" is the level without) adds augmented copies of each run's
training clips only, drawn from the run's seed; validation and test clips are
never augmented. The report gives the held-out error of each level beside its
baseline, as for any factor.

\b
A grid file (TOML or JSON) holds factors, or a whole sweep:
  data = "one_minus_x"
  repeats = 5
  [fit]
  epochs = 50
  [[grids]]
  hidden_layers = [[1], [3], [9, 6]]
  n_samples = [100, 1000]

A sweep killed part-way (Ctrl-C, a crash) keeps every finished run in
OUT/results.sqlite: the same command again runs only what is missing.
A sweep of more than 100,000 runs is refused before it starts; --max-runs N
lets it run.
"""


@click.command("sweep", epilog=EXAMPLES)
@click.option("--preset", type=click.Choice(list(PRESETS)), help=_preset_help())
@click.option("--grid", "grid_file", type=click.Path(exists=True, dir_okay=False),
              help="A TOML or JSON file with the grid(s) (see below).")
@click.option("--hidden", multiple=True, metavar="WIDTHS",
              help="Hidden layers of one network, e.g. 9,6; repeat for more networks.")
@_factor_options(_FACTOR_OPTIONS)
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs of every run.")
@click.option("--optimizer", metavar="NAME", help="Optimizer of every run (default sgd).")
@click.option("--data", metavar="NAME|FILE",
              help="A built-in data set (one_minus_x, one_minus_x_grid, noisy_spirals, "
                   "sum_of_two, sine, "
                   "spirals ...), a data file (.csv, .tsv, .parquet, .npz; a fixed fifth "
                   "of its rows is every run's test set), or audio:FOLDER (a folder of "
                   "class folders of clips, or of train/ and test/ parts; see below). "
                   "Default one_minus_x.")
@click.option("--target", multiple=True, metavar="COLUMN",
              help="Target column(s) of a data file (default: y, target, or the last).")
@click.option("--augment", "augment", multiple=True, metavar="NAME=X,...|none",
              help="Audio folders: a level of augmentation of the training clips (never of "
                   "validation or test clips), seeded by each run's seed; repeat for more "
                   "levels, e.g. --augment none --augment noise=20 --augment "
                   "noise=20,gain=6,shift=0.1. Effects: noise=SNR_DB, gain=DB (up to), "
                   "shift=SECONDS (up to), pitch=SEMITONES (up to), stretch=R (tempo rate in "
                   "1-R..1+R).")
@_factor_options(_AUDIO_OPTIONS)
@click.option("--repeats", type=click.IntRange(min=1), help="Seeds 0..REPEATS-1 per setting.")
@click.option("--seeds", metavar="S,...", help="Explicit seeds, e.g. 0,1,2.")
@click.option("--backend", type=click.Choice(["serial", "processes", "dask"]), default=None,
              help="Where runs execute: here, local processes (every core), or Dask "
                   "(a LocalCluster unless --scheduler). Default serial.")
@click.option("--scheduler", metavar="ADDRESS",
              help="A running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies dask).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Processes, or LocalCluster workers (default: one per core).")
@click.option("--out", type=click.Path(file_okay=False), default="sweep-results",
              show_default=True, help="Folder for results.csv, plots, report.md and the store.")
@click.option("--store", type=click.Path(dir_okay=False),
              help="The SQLite store (default OUT/results.sqlite).")
@click.option("--retry-failed", is_flag=True, help="Run again the runs recorded as failed.")
@click.option("--max-runs", type=click.IntRange(min=1), default=DEFAULT_MAX_RUNS,
              show_default=True, help="Refuse a sweep of more runs than this, before it starts.")
@click.option("--timeout", type=Finite(min=0, min_open=True), default=10.0,
              show_default=True, metavar="SECONDS",
              help="Dask: how long to wait for the scheduler to answer, and for a worker "
                   "when none is left (then the sweep stops, every finished run kept).")
@click.option("--title", help="The report's title.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="A progress bar over runs.")
@_worded
def sweep_command(preset, grid_file, hidden, epochs, optimizer, data, target, augment, repeats,
                  seeds, backend, scheduler, workers, out, store, retry_failed, max_runs,
                  timeout, title, progress, **factor_texts):
    """Sweep network size, data size and learning rate (or any fit argument) over seeds.

    Every setting of the grid runs once per seed, serially, on local
    processes or on a Dask cluster; each finished run is stored at once;
    the end is OUT/results.csv, OUT/summary.csv (mean ± std per setting),
    plots and OUT/report.md, which says what each factor did.
    """
    _show_warnings()
    config = _config(preset, grid_file)
    grids = _grids(config, hidden, factor_texts, augment)
    fit_kwargs = {**(config.get("fit") or {}), **{k: v for k, v in (
        ("epochs", epochs), ("optimizer", optimizer)) if v is not None}}
    seed_list = _split(seeds, int, "--seeds") if seeds else None
    if seed_list is not None and repeats is not None:
        raise click.UsageError("give --seeds or --repeats, not both")
    if seed_list is None and repeats is None:
        seed_list, repeats = config.get("seeds"), config.get("repeats")
        if seed_list is not None and repeats is not None:
            raise _usage(f"{grid_file}: give seeds or repeats, not both")
    data_name = data or config.get("data", "one_minus_x")
    if scheduler is not None and backend not in (None, "dask", "serial"):
        raise click.UsageError(f"--scheduler runs on Dask; drop --backend {backend} or use "
                               f"--backend dask")
    try:
        seed_values = seeds_of(seed_list, repeats)
        check_size(grids, seed_values, max_runs)
    except SweepTooLarge as exc:
        raise _error(exc.describe("--max-runs")) from None
    except ValueError as exc:
        raise click.UsageError(one_line(exc)) from None
    plugins = _plugins()
    table = None if is_audio(data_name) else _data_file(data_name, target, "--data")
    try:                        # what sweep() would refuse, refused before any folder is made
        check_augment([g.factors for g in grids], data_name, is_audio(data_name))
        if is_audio(data_name):
            check_folder(data_name)         # read after the outputs are known to be usable
        else:
            make_data_source(data_name if table is None else table)
        check_fit_kwargs(fit_kwargs)
        worker_plugins([g.factors for g in grids], fit_kwargs, plugins,
                       here=scheduler is None and backend in (None, "serial"))
    except (ValueError, TypeError, ImportError) as exc:
        raise _error(exc) from None
    store_path = Path(store) if store else Path(out, "results.sqlite")
    created = _check_outputs(Path(out), store_path, grids,
                             {"--grid": grid_file, "--data": data_name})
    source = _read_audio(data_name, created) if is_audio(data_name) else \
        data_name if table is None else table
    description = config.get("description")
    notes: dict[str, Any] | None = None
    if table is not None:                   # the report names the file, not only its digest
        notes = {"data": {**make_data_source(table).about(), "file": data_name,
                          "target": list(target)}}
    if preset is not None:
        description = config["preset"].describe(grids, data_name, len(seed_values), fit_kwargs)
        if config["preset"].notes is not None:
            try:
                notes = {**(notes or {}), **config["preset"].notes(grids, data_name, fit_kwargs)}
            except (ValueError, TypeError) as exc:
                raise _error(exc) from None
    if scheduler is not None or backend == "dask":
        # When a cluster fails, the sweep says so in one line; Dask's client can leave a
        # pending gather whose exception asyncio prints, with a traceback, as the process
        # ends. This command's output is that one line.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)
    try:
        executor = get_executor(backend or "serial", scheduler=scheduler, workers=workers,
                                timeout=timeout)
    except (ValueError, ImportError, RuntimeError) as exc:
        _remove_empty(created)
        if isinstance(exc, RuntimeError):
            raise _error(exc) from None
        raise click.UsageError(one_line(exc)) from None
    if scheduler is not None or backend == "dask":
        # Dask's client warns as it loses workers ("Couldn't gather 1 keys, rescheduling"):
        # the sweep reports what became of every run itself. Set once distributed is imported
        # (by the executor), which sets its loggers' levels from its config.
        for name in [*logging.root.manager.loggerDict, "distributed"]:
            if name == "distributed" or name.startswith("distributed."):
                logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with _stopped_cleanly(store_path):
            result = sweep(grids, source, seeds=seed_list, repeats=repeats,
                           fit_kwargs=fit_kwargs, executor=executor, store=store_path, out=out,
                           progress=progress, retry_failed=retry_failed,
                           title=title or config.get("title"), description=description,
                           max_runs=max_runs, timeout=timeout, notes=notes, plugins=plugins)
    finally:
        executor.close()
    _say_results(result, out)


def _data_file(data: str, target: tuple[str, ...], option: str
               ) -> tuple[np.ndarray, Any] | None:
    """``(X, y)`` of the data file ``data`` names (its ``target`` columns, default the
    command line's: ``y``, ``target`` or the last), or None for a built-in data set; one
    line for a name that is neither."""
    from numnet.cli.data import DataError, is_file_source, load_table
    from numnet.experiments.runs import _generator

    try:
        _generator(data)
    except ValueError as exc:
        if not is_file_source(data):
            raise _error(exc) from None     # the sets it knows, and what else it takes
    else:
        if target:
            raise _usage(f"--target names a column of a data file; {option} {data!r} is a "
                         f"built-in data set")
        return None
    try:
        table = load_table(data, list(target) or None)
    except (DataError, ValueError, OSError) as exc:
        raise _error(exc) from None
    return table.X, table.y


def _read_audio(data: str, created: list[Path]) -> Any:
    """The audio folder ``data`` names, read once for every run (its features cached per
    file); a bad folder or clip ends in one line, removing the folders this command made."""
    try:
        return make_data_source(data)
    except KeyboardInterrupt:
        _remove_empty(created)
        click.echo(f"\ninterrupted while reading {one_line(data)}; no run had started",
                   err=True)
        sys.exit(130)
    except (ValueError, TypeError, ImportError, OSError) as exc:
        _remove_empty(created)
        raise _error(exc) from None


def _plugins() -> tuple[str, ...]:
    """The modules ``numnet --plugin`` imported (each run imports them too, wherever it
    runs: :mod:`.plugins`); none when this command runs on its own."""
    return tuple(click.get_current_context().find_root().params.get("plugins") or ())


def _say_results(result: Any, out: str) -> None:
    """How many runs ran, failed and learned nothing; where the report is; exit 1 when
    every run failed."""
    nothing = sum(r.get("learned_nothing") is True for r in result.runs)
    unjudged = sum(r["status"] == "ok" and r.get("learned_nothing") is None
                   for r in result.runs)
    click.echo(f"{len(result.runs)} runs ({result.ran} run now, {result.skipped} already "
               f"stored), {result.failed} failed, {nothing} learned nothing (no better than "
               f"a constant prediction)"
               + (f", {unjudged} without a baseline (stored before one was recorded)"
                  if unjudged else ""))
    click.echo(f"report: {one_line(Path(out) / 'report.md')}")
    if result.runs and result.failed == len(result.runs):
        sys.exit(1)


def _config(preset: str | None, grid_file: str | None) -> dict[str, Any]:
    """The sweep a preset or a grid file describes; empty without either."""
    if preset is None:
        return load_sweep_file(grid_file) if grid_file is not None else {}
    if grid_file is not None:
        raise click.UsageError("give --preset or --grid, not both")
    p = PRESETS[preset]()
    return {"grids": p.grids, "data": p.data, "seeds": p.seeds, "fit": p.fit_kwargs,
            "title": p.title, "preset": p}


def _grids(config: dict[str, Any], hidden: tuple[str, ...], texts: dict[str, str | None],
           augment: tuple[str, ...] = ()) -> list[Grid]:
    """The configured grids with the factors given as options (``--hidden 3 --lr 0.1,1.0``,
    ``--augment none --augment noise=20``) laid over each, or one grid of those factors."""
    factors: dict[str, list[Any]] = {}
    if hidden:
        factors["hidden_layers"] = [[] if v.strip() in ("", "none") else
                                    _split(v, int, "--hidden") for v in hidden]
    if augment:
        factors["augment"] = list(augment)
    for option, factor, kind, _, _ in (*_FACTOR_OPTIONS, *_AUDIO_OPTIONS):
        text = texts[option.lstrip("-").replace("-", "_")]
        if text:
            factors[factor] = _split(text, kind, option)
    grids = config.get("grids") or []
    try:
        if grids:
            grids = [Grid({**g.factors, **factors}, g.label) for g in grids]
        elif factors:
            grids = [Grid(factors)]
    except ValueError as exc:
        raise _usage(str(exc)) from None
    if not grids:
        raise click.UsageError("nothing to sweep: give --preset, --grid FILE, or factors such "
                               "as --hidden 3 --hidden 9,6 --lr 0.1,1.0 (see --help)")
    return grids


def _check_outputs(out: Path, store: Path, grids: list[Grid],
                   inputs: dict[str, str | None], extra: tuple[Path, ...] = ()) -> list[Path]:
    """Before any run, one line if not: no output (the store, the report's files) is an
    input or another output, each can be written, the store is numnet's or new. Missing
    folders are made for the checks (removed if one fails); returns those made."""
    from numnet.cli.outputs import check_outputs  # numnet.cli imports this module

    try:
        require_report_extras()
    except ImportError as exc:
        raise _error(exc) from None
    given = {k: v for k, v in inputs.items() if v is not None and os.path.isfile(v)}
    outputs = {"--store": store, **{f"the report's {p.name}": p
                                    for p in [*report_files(grids, out), *extra]}}
    check_outputs(outputs, given, writable=False)      # no input is lost: before any folder
    if not store.exists():
        _creatable(out)
    try:
        check_store(store, "--store")   # an existing store's faults say more than its folder's
    except StoreError as exc:
        raise _error(exc) from None
    _creatable(out)
    created: list[Path] = []
    for folder in (out, store.parent):
        while not folder.exists() and folder not in created:
            created.append(folder)
            folder = folder.parent
    try:
        for folder in sorted(created, key=lambda f: len(f.parts)):
            folder.mkdir(exist_ok=True)
        check_outputs(outputs, given)
    except BaseException:
        _remove_empty(created)
        raise
    return created


def _creatable(out: Path) -> None:
    """Refuse ``--out`` unless it is a folder or can be made one (tried, not guessed)."""
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise _error(f"--out {out}: {existing} is a file, not a folder; choose another path")
    why = _cannot_create_in(existing)
    if why is not None:
        raise _error(f"--out {out}: cannot write in {existing} ({why}); choose another path")


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders this command made, innermost first, where they are still empty."""
    for folder in sorted(folders, key=lambda f: -len(f.parts)):
        with contextlib.suppress(OSError):
            folder.rmdir()


CURVE_EXAMPLES = """
\b
Examples:
  numnet curve one_minus_x --vary n_samples --values 10,30,100,300 --hidden 3 \\
               --epochs 20 --seeds 5 --out learning-curve
  numnet curve spirals --vary hidden --values 2,8,32 --n-samples 300 --epochs 50
  numnet curve flowers.csv --target species --vary learning_rate --values 0.01,0.1,1 \\
               --backend dask --scheduler tcp://10.0.0.5:8786

--values for hidden: one-layer widths separated by commas (2,8,32), or networks
separated by semicolons ("3;9,6"). DATA is a built-in set or a data file (a
fifth of its rows, fixed, held out as the test set), or audio:FOLDER (a
folder of class folders of clips, read once: see `numnet sweep --help`).
"""


def _curve_values(vary: str, text: str) -> list[Any]:
    """``--values`` as the factor's values (see :data:`CURVE_EXAMPLES`)."""
    if vary == "hidden":
        if ";" in text:
            return [_split(v, int, "--values") for v in text.split(";") if v.strip()]
        return [[w] for w in _split(text, int, "--values")]
    return _split(text, int if vary == "n_samples" else float, "--values")


@click.command("curve", epilog=CURVE_EXAMPLES)
@click.argument("data")
@click.option("--vary", type=click.Choice(["n_samples", "hidden", "learning_rate"]),
              required=True, help="What the curve varies: the training set's size (a "
                                  "learning curve), the hidden layers or the learning rate.")
@click.option("--values", "values_text", required=True, metavar="V,...",
              help="The values of --vary, e.g. 10,100,1000.")
@click.option("--target", multiple=True, metavar="COLUMN",
              help="Target column(s) of a data file (default: y, target, or the last).")
@click.option("--hidden", metavar="WIDTHS", help="Hidden layers, e.g. 9,6 (default 3).")
@click.option("--n-samples", type=click.IntRange(min=1), help="Training set size.")
@click.option("--lr", type=Finite(), help="Learning rate.")
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs of every run.")
@click.option("--optimizer", metavar="NAME", help="Optimizer of every run (default sgd).")
@click.option("--batch-size", type=click.IntRange(min=1), help="Batch size of every run.")
@click.option("--seeds", type=click.IntRange(min=1), default=5, show_default=True,
              help="Runs per value (seeds 0..N-1): the band spans them.")
@click.option("--backend", type=click.Choice(["serial", "processes", "dask"]), default=None,
              help="Where runs execute (as numnet sweep). Default serial.")
@click.option("--scheduler", metavar="ADDRESS", help="A running Dask scheduler.")
@click.option("--workers", type=click.IntRange(min=1), help="Processes or Dask workers.")
@click.option("--out", type=click.Path(file_okay=False), default="curve-results",
              show_default=True, help="Folder for curve.png, the report and the store.")
@click.option("--store", type=click.Path(dir_okay=False),
              help="The SQLite store (default OUT/results.sqlite).")
@click.option("--max-runs", type=click.IntRange(min=1), default=DEFAULT_MAX_RUNS,
              show_default=True, help="Refuse a curve of more runs than this.")
@click.option("--timeout", type=Finite(min=0, min_open=True), default=10.0,
              show_default=True, metavar="SECONDS", help="Dask: how long to wait.")
@click.option("--title", help="The report's title.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="A progress bar over runs.")
@_worded
def curve_command(data, vary, values_text, target, hidden, n_samples, lr, epochs, optimizer,
                  batch_size, seeds, backend, scheduler, workers, out, store, max_runs,
                  timeout, title, progress):
    """A learning curve (error against the training set's size) or a validation curve
    (error against the hidden layers or the learning rate), over seeds.

    Each value runs once per seed, serially, on local processes or on Dask, stored as
    it ends (a second run of the same command continues); OUT/curve.png draws the
    training and test errors (median, 25-75% of seeds as a band) and the constant
    prediction's error, dashed; OUT/report.md says the rest.
    """
    from numnet.experiments.curves import CURVE_PNG, curve_grid

    _show_warnings()
    values = _curve_values(vary, values_text)
    fixed_hidden = None if hidden is None else _split(hidden, int, "--hidden")
    fit_kwargs = {k: v for k, v in (("epochs", epochs), ("optimizer", optimizer),
                                    ("batch_size", batch_size)) if v is not None}
    if scheduler is not None and backend not in (None, "dask", "serial"):
        raise click.UsageError(f"--scheduler runs on Dask; drop --backend {backend} or use "
                               f"--backend dask")
    try:
        grid = curve_grid(vary, values, hidden_layers=fixed_hidden, n_samples=n_samples,
                          learning_rate=lr)
        check_size([grid], seeds_of(None, seeds), max_runs)
    except SweepTooLarge as exc:
        raise _error(exc.describe("--max-runs")) from None
    except ValueError as exc:
        raise click.UsageError(one_line(exc)) from None
    source: Any = data
    if is_audio(data):
        try:
            source = make_data_source(data)     # read once, for every run
        except (ValueError, ImportError, OSError) as exc:
            raise _error(exc) from None
    else:
        table = _data_file(data, target, "DATA")
        source = data if table is None else table
    plugins = _plugins()
    try:
        check_fit_kwargs(fit_kwargs)
        make_data_source(source)
        worker_plugins([grid.factors], fit_kwargs, plugins,
                       here=scheduler is None and backend in (None, "serial"))
    except (ValueError, TypeError) as exc:
        raise _error(exc) from None
    store_path = Path(store) if store else Path(out, "results.sqlite")
    _check_outputs(Path(out), store_path, [grid],
                   {"DATA": data if isinstance(source, tuple) else None},
                   extra=(Path(out) / CURVE_PNG,))
    if scheduler is not None or backend == "dask":
        logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)
    from numnet.experiments.curves import curve
    with _stopped_cleanly(store_path):
        result = curve(source, vary, values, seeds=seeds, hidden_layers=fixed_hidden,
                       n_samples=n_samples, learning_rate=lr, fit_kwargs=fit_kwargs,
                       executor=backend or "serial", scheduler=scheduler, workers=workers,
                       store=store_path, out=out, progress=progress, title=title,
                       max_runs=max_runs, timeout=timeout, plugins=plugins)
    _say_results(result, out)
    click.echo(f"curve: {one_line(Path(out) / CURVE_PNG)}")

