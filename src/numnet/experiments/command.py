"""``numnet sweep``: the sweep on the command line (a click command, ``numnet[cli]``).

The ``numnet`` group registers it with ``cli.add_command(sweep_command)``;
``python -m numnet.experiments.command`` runs it on its own.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

try:
    import click
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("numnet sweep needs click: pip install 'numnet[cli]'") from exc

from .executors import get_executor
from .grid import PRESETS, Grid
from .sweep import sweep

__all__ = ["sweep_command", "load_sweep_file"]

_CONFIG_KEYS = {"grids", "grid", "data", "seeds", "repeats", "fit", "title", "description"}


def load_sweep_file(path: str | Path) -> dict[str, Any]:
    """Read a sweep from a TOML or JSON file.

    The file holds either one grid (factor = list of values) or a whole
    sweep: ``grids`` (a list of grids) or ``grid``, and optionally ``data``,
    ``seeds`` or ``repeats``, ``fit`` (fixed ``fit`` arguments) and ``title``.
    Returns ``{"grids": [Grid, ...], ...}``.
    """
    path = Path(path)
    config = _parse(path)
    if not set(config) & _CONFIG_KEYS:
        config = {"grids": [config]}
    unknown = sorted(set(config) - _CONFIG_KEYS)
    if unknown:
        raise click.UsageError(f"{path}: unknown key(s) {unknown}; a sweep file has "
                               f"{sorted(_CONFIG_KEYS)}, or only factors")
    raw = config.pop("grids", None) or [config.pop("grid", None)]
    if raw == [None]:
        raise click.UsageError(f"{path}: no grid; add a [[grids]] table of factors")
    try:
        config["grids"] = [Grid.from_dict(g) for g in raw]
    except (TypeError, ValueError) as exc:
        raise click.UsageError(f"{path}: {exc}") from exc
    return config


def _parse(path: Path) -> dict[str, Any]:
    """The table a ``.toml`` or ``.json`` file holds; a usage error if it is anything else."""
    text = path.read_text()
    if path.suffix.lower() == ".toml":
        try:
            import tomllib  # type: ignore[import-not-found, unused-ignore]  # 3.11+, see below
        except ImportError as exc:  # Python 3.10
            raise click.UsageError(f"{path}: TOML needs Python 3.11+ (tomllib); "
                                   f"use a JSON file") from exc
        try:
            config = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise click.UsageError(f"{path}: not valid TOML: {exc}") from exc
    elif path.suffix.lower() == ".json":
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise click.UsageError(f"{path}: not valid JSON: {exc}") from exc
    else:
        raise click.UsageError(f"{path}: a grid file is .toml or .json")
    if not isinstance(config, dict):
        raise click.UsageError(f"{path}: expected a table of factors or a sweep, got "
                               f"{type(config).__name__}")
    return config


def _split(text: str, kind: type, option: str) -> list[Any]:
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated {kind.__name__}s, got {text!r}",
                                 param_hint=option) from exc


def _hidden(values: tuple[str, ...]) -> list[list[int]]:
    out = []
    for v in values:
        layers = [] if v.strip() in ("", "none") else _split(v, int, "--hidden")
        out.append(layers)
    return out


def _show_warnings() -> None:
    """numnet's warnings (a failed run, a diverged one) on stderr; other libraries' logs stay
    as they are configured."""
    log = logging.getLogger("numnet")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.WARNING)


EXAMPLES = """
\b
Examples:
  numnet sweep --preset tutorial --out tutorial-challenge
  numnet sweep --hidden 1 --hidden 3 --hidden 9,6 --n-samples 100,1000 \\
               --lr 0.1,1.0 --repeats 5 --epochs 50 --backend processes --out sweep
  numnet sweep --grid sweep.toml --backend dask --scheduler tcp://10.0.0.5:8786

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
"""


@click.command("sweep", epilog=EXAMPLES)
@click.option("--preset", type=click.Choice(sorted(PRESETS)),
              help="A whole sweep by name: 'tutorial' is the tutorial's own answer to its "
                   "challenge, on its exact network and on numnet's defaults.")
@click.option("--grid", "grid_file", type=click.Path(exists=True, dir_okay=False),
              help="A TOML or JSON file with the grid(s) (see below).")
@click.option("--hidden", multiple=True, metavar="WIDTHS",
              help="Hidden layers of one network, e.g. 9,6; repeat for more networks.")
@click.option("--n-samples", metavar="N,...", help="Training set sizes, e.g. 10,100,1000.")
@click.option("--lr", metavar="RATE,...", help="Learning rates, e.g. 0.1,0.3,1.0.")
@click.option("--activation", metavar="NAME,...", help="Hidden activations, e.g. sigmoid,relu.")
@click.option("--batch-size", metavar="B,...", help="Batch sizes, e.g. 1,32.")
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs of every run.")
@click.option("--optimizer", metavar="NAME", help="Optimizer of every run (default sgd).")
@click.option("--data", metavar="NAME",
              help="A built-in data set (one_minus_x, one_minus_x_grid, sum_of_two, sine, "
                   "spirals ...). Default one_minus_x.")
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
@click.option("--title", help="The report's title.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="A progress bar over runs.")
def sweep_command(preset, grid_file, hidden, n_samples, lr, activation, batch_size, epochs,
                  optimizer, data, repeats, seeds, backend, scheduler, workers, out, store,
                  retry_failed, title, progress):
    """Sweep network size, data size and learning rate (or any fit argument) over seeds.

    Every setting of the grid runs once per seed, serially, on local
    processes or on a Dask cluster; each finished run is stored at once;
    the end is OUT/results.csv, OUT/summary.csv (mean ± std per setting),
    plots and OUT/report.md, which says what each factor did.
    """
    _show_warnings()
    config = _config(preset, grid_file)
    grids = _grids(config, _option_factors(hidden, n_samples, lr, activation, batch_size))
    fit_kwargs = _fit_options(config, epochs, optimizer)
    seed_list, repeats = _seed_options(config, seeds, repeats)
    try:
        executor = get_executor(backend or "serial", scheduler=scheduler, workers=workers)
    except (ValueError, ImportError) as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        result = sweep(grids, data or config.get("data", "one_minus_x"), seeds=seed_list,
                       repeats=repeats, fit_kwargs=fit_kwargs, executor=executor, store=store,
                       out=out, progress=progress, retry_failed=retry_failed,
                       title=title or config.get("title"),
                       description=config.get("description"))
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted; every finished run is in {store or Path(out, 'results.sqlite')}"
                   f": run the same command again to continue", err=True)
        sys.exit(130)
    except (ValueError, TypeError, ImportError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        executor.close()
    click.echo(f"{len(result.runs)} runs ({result.ran} run now, {result.skipped} already "
               f"stored), {result.failed} failed")
    click.echo(f"report: {Path(out) / 'report.md'}")
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
            "title": f"The tutorial's challenge, answered ({preset} preset)",
            "description": p.description}


def _option_factors(hidden: tuple[str, ...], n_samples: str | None, lr: str | None,
                    activation: str | None, batch_size: str | None) -> dict[str, list[Any]]:
    """The factors given as options (``--hidden 3 --lr 0.1,1.0``), in this order."""
    factors: dict[str, list[Any]] = {}
    if hidden:
        factors["hidden_layers"] = _hidden(hidden)
    for factor, text, kind, option in (("n_samples", n_samples, int, "--n-samples"),
                                       ("learning_rate", lr, float, "--lr"),
                                       ("activation", activation, str, "--activation"),
                                       ("batch_size", batch_size, int, "--batch-size")):
        if text:
            factors[factor] = _split(text, kind, option)
    return factors


def _grids(config: dict[str, Any], factors: dict[str, list[Any]]) -> list[Grid]:
    """The configured grids with the option factors laid over each, or one grid of them."""
    grids = config.get("grids") or []
    try:
        if grids:
            grids = [Grid({**g.factors, **factors}, g.label) for g in grids]
        elif factors:
            grids = [Grid(factors)]
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if not grids:
        raise click.UsageError("nothing to sweep: give --preset, --grid FILE, or factors such "
                               "as --hidden 3 --hidden 9,6 --lr 0.1,1.0 (see --help)")
    return grids


def _fit_options(config: dict[str, Any], epochs: int | None, optimizer: str | None
                 ) -> dict[str, Any]:
    """The configured ``fit`` arguments, ``--epochs`` and ``--optimizer`` over them."""
    fit_kwargs = dict(config.get("fit") or {})
    if epochs is not None:
        fit_kwargs["epochs"] = epochs
    if optimizer is not None:
        fit_kwargs["optimizer"] = optimizer
    return fit_kwargs


def _seed_options(config: dict[str, Any], seeds: str | None, repeats: int | None
                  ) -> tuple[list[int] | None, int | None]:
    """``(seeds, repeats)`` from the options, else from the config; never both."""
    seed_list = _split(seeds, int, "--seeds") if seeds else None
    if seed_list is None and repeats is None:
        seed_list, repeats = config.get("seeds"), config.get("repeats")
    if seed_list is not None and repeats is not None:
        raise click.UsageError("give --seeds or --repeats, not both")
    return seed_list, repeats


if __name__ == "__main__":  # pragma: no cover
    sweep_command()
