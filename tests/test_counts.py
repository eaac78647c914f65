"""Every count a user passes (epochs, workers, repeats, patience, ...) is checked by one
function, numnet.validation.check_count: a bool, a float, a string or a number below the
least allowed raises ParameterError, which is both a ValueError and a TypeError, and names
the argument and the value."""

from __future__ import annotations

import re

import numpy as np
import pytest

from numnet import MLP, fit
from numnet.callbacks import EarlyStopping
from numnet.validation import ParameterError, check_count

BAD = [True, 1.5, "3", None, -1]


def _fit(**kwargs):
    X = np.zeros((4, 1))
    return fit(MLP(1, [2], 1, random_state=0), X, X, verbose=False, **kwargs)


def _sweep(**kwargs):
    from numnet.experiments import sweep
    return sweep({"hidden_layers": [[1]]}, progress=False, **kwargs)


def _executor(**kwargs):
    from numnet.experiments import get_executor
    return get_executor("processes", **kwargs)


def _process_executor(**kwargs):
    from numnet.experiments import ProcessExecutor
    return ProcessExecutor(**kwargs)


def _one_minus_x(**kwargs):
    from numnet.experiments.runs import one_minus_x_grid
    return one_minus_x_grid(**kwargs)


def _checkpoint(tmp_path, **kwargs):
    from numnet.io import save_checkpoint
    return save_checkpoint(tmp_path / "c.safetensors", MLP(1, [2], 1, random_state=0),
                           optimizer_state={}, history={}, rng_state={}, **kwargs)


# (what is called, its count argument, the least value it accepts)
COUNTS = [
    (lambda **k: _fit(**k), "epochs", 1),
    (lambda **k: _fit(**k), "batch_size", 1),
    (lambda **k: MLP(**{"num_inputs": 1, "hidden_layers": [2], "num_outputs": 1, **k}),
     "num_outputs", 1),
    (lambda **k: EarlyStopping(**k), "patience", 0),
    (_sweep, "repeats", 1),
    (_sweep, "max_runs", 1),
    (_executor, "workers", 1),
    (_process_executor, "max_workers", 1),
    (_one_minus_x, "n_samples", 1),
]


# None is the default of these (full batch, no limit, as many as the cores), not a bad count
NONE_ALLOWED = {"batch_size", "repeats", "max_runs", "workers", "max_workers"}
CASES = [(call, name, value if value != "least - 1" else least - 1)
         for call, name, least in COUNTS for value in BAD + ["least - 1"]
         if not (value is None and name in NONE_ALLOWED)]


@pytest.mark.parametrize("call, name, value", CASES,
                         ids=[f"{name}={value!r}" for _, name, value in CASES])
def test_a_count_that_is_not_one_is_refused_naming_it(call, name, value):
    with pytest.raises(ParameterError, match=rf"^{name} must be .*, got {re.escape(repr(value))}"):
        call(**{name: value})


def test_a_checkpoints_epoch_is_a_count(tmp_path):
    with pytest.raises(ParameterError, match=r"^epoch must be a non-negative integer, got -1$"):
        _checkpoint(tmp_path, epoch=-1)
    assert not (tmp_path / "c.safetensors").exists()


@pytest.mark.parametrize("value", BAD + [0], ids=repr)
def test_the_error_is_a_value_error_and_a_type_error(value):
    for kind in (ValueError, TypeError):
        with pytest.raises(kind):
            check_count(value, "n")


@pytest.mark.parametrize("least, words", [(1, "a positive integer"),
                                          (0, "a non-negative integer"),
                                          (2, "an integer >= 2")])
def test_the_message_says_what_to_give(least, words):
    with pytest.raises(ParameterError, match=rf"^arms must be {words}, got -5; e\.g\. 3$"):
        check_count(-5, "arms", least=least, hint="; e.g. 3")


def test_numpy_integers_are_counts_and_come_back_as_int():
    got = check_count(np.int64(4), "n")
    assert got == 4 and type(got) is int
