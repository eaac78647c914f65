"""Every number an option takes is finite: ``nan`` and ``inf`` pass click's bounds (a
comparison with NaN is always false), and before they were refused only deep inside the
work, in the library's words, or (``numnet sweep --timeout nan``) as dask's traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

click = pytest.importorskip("click")

from numnet.cli import cli  # noqa: E402
from numnet.cli._common import Finite  # noqa: E402


def _float_options() -> list[tuple[str, str, click.Option]]:
    """(command, the option's longest name, the option) for every float option."""
    found = []
    for name, command in sorted(cli.commands.items()):
        for param in command.params:
            if isinstance(param, click.Option) and isinstance(param.type,
                                                              click.types.FloatParamType):
                found.append((name, max(param.opts, key=len), param))
    return found


FLOAT_OPTIONS = _float_options()


def test_there_are_float_options_to_check():
    commands = {command for command, _, _ in FLOAT_OPTIONS}
    assert {"train", "demo", "sweep", "curve", "lr-find"} <= commands


@pytest.mark.parametrize("command,option,param", FLOAT_OPTIONS,
                         ids=[f"{c} {o}" for c, o, _ in FLOAT_OPTIONS])
def test_every_float_option_takes_finite_numbers_only(command, option, param):
    assert isinstance(param.type, Finite), f"numnet {command} {option} lets nan through"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_finite_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(click.BadParameter, match="is not a finite number"):
        Finite().convert(value, None, None)
    assert Finite(0, 1, max_open=True).convert("0.25", None, None) == 0.25


@pytest.mark.parametrize("command,option,param", FLOAT_OPTIONS,
                         ids=[f"{c} {o}" for c, o, _ in FLOAT_OPTIONS])
def test_nan_is_a_usage_error_naming_the_option_before_any_work(command, option, param,
                                                                tmp_path):
    done = subprocess.run([sys.executable, "-m", "numnet", command, option, "nan"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert option in last and "'nan' is not a finite number" in last, done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []                   # nothing written


@pytest.mark.parametrize("args,option", [
    (["sweep", "--lr", "0.1,inf"], "--lr"),
    (["curve", "one_minus_x", "--vary", "learning_rate", "--values", "0.1,nan"], "--values"),
])
def test_a_list_of_numbers_holds_finite_numbers_only(args, option, tmp_path):
    done = subprocess.run([sys.executable, "-m", "numnet", *args, "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert option in last and "expected finite numbers" in last, done.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("toml,said", [
    ('[grid]\nhidden_layers = [[3]]\nlearning_rate = [0.1, inf]\n',
     "learning_rate values must be finite numbers, got inf"),
    ('[grid]\nhidden_layers = [[3]]\n\n[fit]\nlearning_rate = nan\nepochs = 2\n',
     "the grid file's [fit] has learning_rate = nan: give a finite number"),
])
def test_a_grid_file_holds_finite_numbers_only(toml, said, tmp_path):
    """TOML spells nan and inf too: a grid file's values and its [fit] are refused in one
    line, before the sweep's folder is made (they used to fail in the store's JSON)."""
    (tmp_path / "grid.toml").write_text(toml, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "numnet", "sweep", "--grid", "grid.toml",
                           "--out", "o"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert said in done.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "o").exists()


def test_the_library_refuses_them_too():
    from numnet.experiments.grid import Grid
    from numnet.experiments.sweep import check_fit_kwargs

    with pytest.raises(ValueError, match="finite"):
        Grid({"learning_rate": [0.1, float("nan")]})
    with pytest.raises(ValueError, match="finite"):
        check_fit_kwargs({"learning_rate": float("inf")})
