"""Training health (History.health, numnet.callbacks.HealthMonitor) and the dead-ReLU cause."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from numnet import MLP, TrainingWarning, datasets, fit
from numnet._fitting.history import Health, History
from numnet.callbacks import HealthMonitor

EVERY_EPOCH = math.inf        # a budget that affords a measurement every epoch


def one_minus_x(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    X = np.linspace(0.0, 1.0, n).reshape(-1, 1)
    return X, 1.0 - X


def test_the_first_and_last_epochs_are_measured_one_value_per_layer():
    X, Y = one_minus_x()
    net = MLP(1, [3], 1, random_state=0)
    history = fit(net, X, Y, epochs=40, batch_size=1, verbose=False, random_state=0,
                  callbacks=[HealthMonitor(budget=EVERY_EPOCH)])
    health = history.health
    assert health.epoch[0] == 0 and health.epoch[-1] == 39
    assert health.epoch == sorted(set(health.epoch))
    assert history.runner == "compiled per-example"      # a compiled runner is measured too
    for field in ("grad_norm", "update_ratio", "saturated", "dead"):
        assert all(len(row) == 2 for row in getattr(health, field))
    record = health.latest()
    assert record is not None and record["epoch"] == 39
    assert all(g is not None and g > 0 for g in record["grad_norm"])
    assert all(u is not None and 0 < u < 1 for u in record["update_ratio"])
    assert record["dead"] == [None, None]                 # no ReLU layer
    assert all(0 <= s <= 1 for s in record["saturated"])  # sigmoid layers


def test_a_budget_that_allows_it_measures_every_epoch_and_a_given_monitor_is_the_only_one():
    X, Y = one_minus_x()
    net = MLP(1, [3], 1, random_state=0)
    history = fit(net, X, Y, epochs=12, batch_size=4, verbose=False, random_state=0,
                  callbacks=[HealthMonitor(budget=EVERY_EPOCH)])
    assert history.health.epoch == list(range(12))       # not twice: fit adds none of its own


def test_the_update_ratio_is_the_weights_change_over_the_epoch():
    X, Y = one_minus_x()
    net = MLP(1, [3], 1, random_state=0)
    before = [W.copy() for W in net.weights]
    history = fit(net, X, Y, epochs=1, batch_size=10, verbose=False, random_state=0,
                  callbacks=[HealthMonitor(budget=EVERY_EPOCH)])
    expected = [np.linalg.norm(W - B) / np.linalg.norm(B)
                for W, B in zip(net.weights, before, strict=True)]
    np.testing.assert_allclose(history.health.update_ratio[0], expected, rtol=1e-12)


def test_the_tutorials_deep_network_shows_its_gradients_vanish_and_its_output_flat():
    X, Y = one_minus_x(50)
    net = MLP(1, [256] * 5, 1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        history = fit(net, X, Y, epochs=3, batch_size=1, verbose=False, random_state=0,
                      callbacks=[HealthMonitor(budget=EVERY_EPOCH)])
    grads = history.health.grad_norm[-1]
    # measured: the first layer's gradient is 1e-5 to 1e-4 of the output layer's here
    assert grads[0] < 1e-3 * grads[-1]
    assert history.health.output_spread[-1] < 1e-2          # measured ~1e-7 to 1e-4


def test_dead_relu_units_are_counted_and_named_as_the_cause_when_nothing_was_learned():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 8))
    Y = X @ rng.standard_normal((8, 2))
    net = MLP(8, [32, 32], 2, activation="relu", output_activation="identity", random_state=0)
    with pytest.warns(TrainingWarning) as caught:
        history = fit(net, X, Y, epochs=20, optimizer="adam", learning_rate=1.0,
                      verbose=False, random_state=0,
                      callbacks=[HealthMonitor(budget=EVERY_EPOCH)])
    message = str(caught[0].message)
    assert "ReLU units output 0 for every input" in message
    assert "learning_rate=0.1 instead of 1" in message
    # measured 1.0 in the second layer for this seed (0.97-1.0 over seeds and data sets)
    assert max(d for d in history.health.dead[-1] if d is not None) >= 0.9


def test_a_healthy_relu_network_keeps_most_of_its_units_and_warns_nothing():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 8))
    Y = X @ rng.standard_normal((8, 2))
    net = MLP(8, [32, 32], 2, activation="relu", output_activation="identity", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingWarning)
        history = fit(net, X, Y, epochs=20, optimizer="adam", learning_rate=0.01,
                      verbose=False, random_state=0,
                      callbacks=[HealthMonitor(budget=EVERY_EPOCH)])
    dead = [d for d in history.health.dead[-1] if d is not None]
    assert len(dead) == 2 and max(dead) < 0.5            # measured 0.00-0.28 at this rate


def test_health_is_json_safe_and_round_trips_through_the_history_dict():
    X, Y = datasets.sum_of_two(200, random_state=0)
    net = MLP(2, [5], 1, random_state=0)
    history = fit(net, X, Y, epochs=5, verbose=False, random_state=0,
                  callbacks=[HealthMonitor(budget=EVERY_EPOCH)])
    history.health.grad_norm[0][0] = None                # as a non-finite value is kept
    text = json.dumps(history.to_dict(), allow_nan=False)
    again = History.from_dict(json.loads(text))
    assert again.health == history.health
    assert History.from_dict({"loss": [1.0]}).health == Health()     # an older history
    assert Health.from_dict({"epoch": "garbage"}) == Health()


def test_a_diverging_run_records_none_not_nan():
    X, Y = one_minus_x()
    Y = Y * 1e6
    net = MLP(1, [8], 1, output_activation="identity", random_state=0)
    history = fit(net, X, Y, epochs=3, learning_rate=10.0, verbose=False, random_state=0,
                  callbacks=[HealthMonitor(budget=EVERY_EPOCH)])
    json.dumps(history.health.to_dict(), allow_nan=False)


def test_the_schedule_depends_on_the_sizes_only():
    assert HealthMonitor().every(100) == 434            # (100 + 1200) rows' cost per 3 trained
    assert HealthMonitor().every(20_000) == 3           # (256 + 1200) against 600 per epoch
    assert HealthMonitor().every(50_000) == 1
    X, Y = one_minus_x()
    runs = [fit(MLP(1, [3], 1, random_state=0), X, Y, epochs=1000, batch_size=1,
                verbose=False, random_state=0).health for _ in range(2)]
    assert runs[0].epoch == [0, 433, 867, 999]
    assert runs[0] == runs[1]                           # a seeded run repeats its history


def test_a_fit_too_short_to_pay_for_a_measurement_is_not_measured():
    X, Y = one_minus_x(10)
    assert not HealthMonitor().affordable(10, 1)        # 10 rows trained in all
    assert not HealthMonitor().affordable(1000, 50)     # 2 x 1456 rows' cost against 1,500
    assert HealthMonitor().affordable(100, 1000) and HealthMonitor().affordable(20_000, 5)
    history = fit(MLP(1, [3], 1, random_state=0), X, Y, epochs=1, verbose=False,
                  random_state=0)
    assert len(history.health) == 0


def test_a_budget_must_be_positive():
    with pytest.raises(ValueError, match="budget must be"):
        HealthMonitor(budget=0)


def test_a_verbose_fit_says_when_its_loss_was_still_falling(capsys):
    """The CLI's and fit's defaults undertrain small data: the last lines say so."""
    from numnet._fitting.loop import still_falling
    X, y = datasets.sum_of_two(500, random_state=0)
    net = MLP(2, [5], 1, output_activation="identity", random_state=0)
    fit(net, X, y, epochs=300, verbose=True, random_state=0)
    err = capsys.readouterr().err
    assert "note: the loss was still falling at the last epoch (by " in err  # 1.2% of base
    net = MLP(2, [5], 1, output_activation="identity", random_state=0)
    fit(net, X, y, epochs=300, optimizer="adam", learning_rate=0.01, verbose=True,
        random_state=0)
    assert "still falling" not in capsys.readouterr().err          # 1e-5 of the baseline
    assert still_falling([1.0, 0.9, 0.8, 0.7, 0.6], 1.0) == (
        "by 0.2 over the last 2 epochs, 20.0% of the baseline's loss")
    assert still_falling([1.0, 0.9, 0.8, 0.7], 1.0) is None          # too few epochs
    assert still_falling([0.5] * 10, 1.0) is None


def test_a_verbose_fit_names_features_on_very_different_scales(capsys):
    from numnet._fitting.loop import feature_scales
    X, y = datasets.sum_of_two(200, random_state=0)
    fit(MLP(2, [5], 1, random_state=0), X * [1.0, 1e-4], y, epochs=5, verbose=True,
        random_state=0)
    assert "note: the features' scales differ by ~1e4" in capsys.readouterr().err
    fit(MLP(2, [5], 1, random_state=0), X, y, epochs=5, verbose=True, random_state=0)
    assert "scales differ" not in capsys.readouterr().err
    assert feature_scales(np.array([[1.0, 5.0], [1.0, 7.0]])) is None     # a constant column
