"""Numbers a user can trust: divergence advice from the measured cause, a warning for a run
that saturated and learned nothing, finite inputs that overflow, and fit's memory check.

Thresholds come from measured runs (noted per test), with margin.
"""

import io
import os
import subprocess
import sys
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numnet.validation
from numnet import MLP, callbacks, datasets, fit, optimizers
from numnet._fitting import TrainingWarning
from numnet._fitting.diagnosis import advice
from numnet.activations import ACTIVATIONS, BUILTIN

ROOT = Path(__file__).resolve().parents[1]


def _iris(standardised=True):
    load_iris = pytest.importorskip("sklearn.datasets").load_iris    # the sklearn extra
    X, y = load_iris(return_X_y=True)
    return ((X - X.mean(0)) / X.std(0) if standardised else X), y


# --- 1. divergence advice from the cause -------------------------------------------------

@pytest.mark.parametrize("which, factor, scale", [
    ("targets", 1e4, "~1e4"),           # measured: loss 7.4e11 at epoch 1 (relu, sgd 0.01)
    ("targets", 1e300, "~1e300"),       # the loss is inf from the start
    ("features", 1e6, "~1e6"),          # measured: loss 3.4e46 at epoch 1
    ("features", 1e200, "~1e200"),
])
def test_divergence_on_large_data_says_standardise(which, factor, scale):
    X, y = datasets.sum_of_two(300, random_state=0)
    X, y = (X, y * factor) if which == "targets" else (X * factor, y)
    net = MLP(2, [16], 1, activation="relu", output_activation="identity", random_state=0)
    history = fit(net, X, y, epochs=5, verbose=False, random_state=0)
    reason = history.stop_reason
    assert reason.startswith("diverged")
    assert f"the {which} are on a scale of {scale}" in reason
    assert "standardise them" in reason and "StandardScaler" in reason
    assert "learning_rate" not in reason          # the rate was the default: not the cause
    assert "\n" not in reason
    assert np.isfinite(net.flat_parameters).all()


def test_divergence_on_ordinary_data_lowers_the_rate():
    X, y = datasets.sine(200, random_state=0)
    net = MLP(1, [16], 1, activation="sigmoid", output_activation="identity", random_state=0)
    history = fit(net, X, y, optimizer=optimizers.SGD(3.0), epochs=20, verbose=False,
                  random_state=0)
    assert history.stop_reason.startswith("diverged")
    assert history.stop_reason.endswith("try learning_rate=0.3 instead of 3")
    assert "scale" not in history.stop_reason


def test_divergence_at_an_absurd_rate_suggests_the_default_not_a_tenth():
    X, y = _iris()
    net = MLP(4, [16], 3, activation="tanh", output_activation="softmax", random_state=0)
    history = fit(net, X, y, optimizer="sgd", learning_rate=1e6, verbose=False, random_state=0)
    # measured: cross-entropy 4.7e5 at epoch 1 (the guard's factor is 1e3)
    assert history.stop_reason.startswith("diverged")
    assert "try learning_rate=0.01 (sgd's default) instead of 1e+06" in history.stop_reason


@pytest.mark.parametrize("x, y, lr, expected", [
    (1.0, 1.0, 0.1, ["try learning_rate=0.01 instead of 0.1"]),
    (1.0, 99.0, 0.1, ["try learning_rate=0.01"]),            # below 1e2: still the rate
    (1.0, 100.0, 0.1, ["targets are on a scale of ~1e2"]),
    (2500.0, 1.0, 0.001, ["features are on a scale of ~1e3 (largest |x| 2.5e+03)"]),
    (1e5, 1e7, 0.01, ["features and targets are on scales of ~1e5 and ~1e7"]),
    (1e5, 1.0, 50.0, ["features are on a scale of ~1e5", "and try learning_rate=0.01"]),
])
def test_advice_follows_the_measured_cause(x, y, lr, expected):
    X = np.array([[0.0, -x], [1.0, 0.5]])
    Y = np.array([[0.0], [y]])
    text = advice(X, Y, optimizers.SGD(lr))
    for part in expected:
        assert part in text
    if "scale" not in expected[0]:
        assert "standardise" not in text


# --- 2. a run that saturated and learned nothing ------------------------------------------

def _saturating_runs():
    """Runs at learning_rate=1e6 whose loss stays bounded, so the guard does not fire."""
    X, y = _iris()
    Xm, ym = datasets.moons(200, random_state=0)
    return {
        # measured: accuracy 0.527, loss 0.195 -> 0.316, every output pinned
        "iris softmax": (MLP(4, [8], 3, activation="tanh", output_activation="softmax",
                             random_state=0), X, np.eye(3)[y], y, "mse"),
        # measured: accuracy 0.5, loss 0.265 -> 0.5
        "moons sigmoid": (MLP(2, [8], 1, activation="sigmoid", output_activation="sigmoid",
                              random_state=0), Xm, ym, ym, None),
    }


@pytest.mark.parametrize("name", ["iris softmax", "moons sigmoid"])
def test_a_saturated_run_is_a_warning_that_names_the_rate(name):
    net, X, Y, labels, loss = _saturating_runs()[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(net, X, Y, loss=loss, optimizer="sgd", learning_rate=1e6,
                      verbose=False, random_state=0, batch_size=1 if "moons" in name else "auto")
    P = net.forward(X)
    accuracy = np.mean((P.argmax(1) if P.shape[1] > 1 else P[:, 0] > 0.5) == labels)
    assert history.stop_reason is None and accuracy < 0.6     # the silent case
    found = [w for w in caught if issubclass(w.category, TrainingWarning)]
    assert len(found) == 1                                    # once per fit
    message = str(found[0].message)
    assert message.startswith("fit learned nothing")
    assert "learning_rate=1e+06 drove the units into saturation" in message
    assert "pinned at 0 or 1" in message
    assert "try learning_rate=0.01 (sgd's default)" in message
    assert "\n" not in message
    assert found[0].filename == __file__                      # points at the caller's line


def test_targets_on_a_large_scale_that_learn_nothing_warn_to_standardise():
    X, y = datasets.sum_of_two(300, random_state=0)
    net = MLP(2, [16], 1, activation="tanh", output_activation="identity", random_state=0)
    with pytest.warns(TrainingWarning, match=r"targets are on a scale of ~1e6.*standardise"):
        history = fit(net, X, y * 1e6, optimizer="adam", epochs=5, verbose=False,
                      random_state=0)
    assert history.stop_reason is None     # measured: loss 3.2e11 -> 3.2e11, no divergence


def _healthy_runs():
    X1, y1 = datasets.one_minus_x(200, random_state=0)
    X2, y2 = datasets.sum_of_two(200, random_state=0)
    Xs, ls = datasets.spirals(300, n_classes=3, random_state=0)
    Xm, ym = datasets.moons(200, random_state=0)
    items = [x / 10 for x in range(10)]
    targets = [1 - x / 10 for x in range(10)]
    return {
        "tutorial 1-x (README)": lambda: MLP(1, [3], 1, random_state=0).train(
            items, targets, 20, 0.1),
        "one_minus_x, 1 epoch": lambda: MLP(1, [3], 1, random_state=0).train(X1, y1, 1, 0.1),
        "sum of two (model files)": lambda: MLP(2, [5], 1, random_state=0).fit(
            X2, y2, epochs=5, verbose=False),
        "spirals (modern API)": lambda: fit(
            MLP(2, [32, 32], 3, activation="relu", output_activation="softmax",
                dtype="float32", random_state=0), Xs, ls, optimizer=optimizers.Adam(1e-2),
            epochs=20, batch_size=32, validation_split=0.1,
            callbacks=[callbacks.EarlyStopping(patience=10)], verbose=False),
        "moons (plots)": lambda: fit(
            MLP(2, [16], 1, activation="tanh", output_activation="sigmoid", random_state=0),
            Xm, ym, loss="binary_cross_entropy", optimizer="adam", learning_rate=0.05,
            epochs=30, validation_split=0.2, verbose=False, random_state=0),
        # confident (pinned) outputs that are right: measured loss 6.8e-4
        "moons at sgd 10": lambda: fit(
            MLP(2, [16], 1, activation="tanh", output_activation="sigmoid", random_state=0),
            Xm, ym, loss="binary_cross_entropy", optimizer="sgd", learning_rate=10.0,
            epochs=30, verbose=False, random_state=0),
        "iris, a tiny rate": lambda: fit(
            MLP(4, [16], 3, output_activation="softmax", random_state=0), *_iris(),
            optimizer="sgd", learning_rate=1e-4, epochs=1, verbose=False, random_state=0),
    }


@pytest.mark.parametrize("name", list(_healthy_runs()))
def test_healthy_runs_never_warn(name):
    # 1679 ordinary configurations (7 data sets, 3 activations, 7 optimizer settings,
    # 1 and 20 epochs, batch 1 and 32, the README's examples, the estimators) measured:
    # 0 TrainingWarnings; these are the README's and the tutorial's.
    with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
        warnings.simplefilter("error", TrainingWarning)
        _healthy_runs()[name]()


def test_training_warning_is_a_user_warning_of_the_fitting_layer():
    import numnet._fitting
    assert issubclass(TrainingWarning, UserWarning)
    assert "TrainingWarning" in numnet._fitting.__all__


# --- 3. finite inputs that overflow -------------------------------------------------------

OVERFLOWING = np.array([[1.7e308, -1.7e308], [0.0, 1.0]])   # |0.3 x + 1.06 x| > 1.8e308


def _entry_points(net):
    y = np.eye(2) if net is not None and net.num_outputs == 2 else [0.0, 1.0]
    return {
        "forward": lambda X: net.forward(X),
        "predict": lambda X: net.predict(X),
        "predict_proba": lambda X: net.predict_proba(X),
        "evaluate": lambda X: net.evaluate(X, y),
        "loss_and_gradients": lambda X: net.loss_and_gradients(X, y),
        "fit": lambda X: fit(net, X, y, epochs=1, verbose=False),
        "fit validation_data": lambda X: fit(net, np.zeros((2, 2)), y, epochs=1,
                                             verbose=False, validation_data=(X, y)),
        "tutorial forward_propagate": lambda X: net.forward_propagate(X),
        "tutorial activate, one example": lambda X: net.activate(list(X[0])),
    }


@pytest.mark.parametrize("entry", list(_entry_points(None)))
def test_finite_inputs_that_overflow_are_a_clear_value_error(entry):
    net = MLP(2, [3], 1, activation="tanh", output_activation="sigmoid", random_state=0)
    before = net.flat_parameters.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no RuntimeWarning leaks
        with pytest.raises(ValueError) as info:
            _entry_points(net)[entry](OVERFLOWING)
    message = str(info.value)
    assert "1.7e+308" in message and "overflow" in message and "scale the features" in message
    np.testing.assert_array_equal(net.flat_parameters, before)


@pytest.mark.parametrize("entry", ["forward", "predict_proba", "evaluate", "fit",
                                   "fit validation_data", "tutorial forward_propagate"])
def test_one_overflowing_row_among_many_is_refused_when_blas_sums_on_threads(entry):
    """tanh and sigmoid turn an infinite weighted sum into a finite 1.0, and BLAS's own
    threads do not report the overflow to the caller's floating-point flags: each layer's
    sums are checked themselves. (Before, 100,000 rows with one overflowing gave numbers.)"""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    net = MLP(2, [3], 1, activation="tanh", output_activation="sigmoid", random_state=0)
    X = np.zeros((100_000, 2))
    X[-1] = OVERFLOWING[0]
    y = np.zeros((len(X), 1))
    calls = {"forward": lambda: net.forward(X), "predict_proba": lambda: net.predict_proba(X),
             "evaluate": lambda: net.evaluate(X, y),
             "fit": lambda: fit(net, X, y, epochs=1, verbose=False),
             "fit validation_data": lambda: fit(net, X[:10], y[:10], epochs=1, verbose=False,
                                                validation_data=(X, y)),
             "tutorial forward_propagate": lambda: net.forward_propagate(X)}
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        with pytest.raises(ValueError, match=r"1\.7e\+308 overflow the network's arithmetic"):
            calls[entry]()


def test_the_example_hypothesis_found_gives_a_number_or_the_error():
    outcomes = set()
    for seed in range(20):                 # weights above ~1.06 overflow, smaller ones do not
        net = MLP(2, [3], 1, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                out = net.forward([0.0, 1.697e308])
            except ValueError as exc:
                assert "1.7e+308 overflow" in str(exc)
                outcomes.add("error")
            else:
                assert np.isfinite(out).all()
                outcomes.add("number")
    assert outcomes == {"error", "number"}


@settings(max_examples=40, deadline=None)
@given(X=st.lists(st.floats(-1.8e308, 1.8e308, allow_nan=False, allow_infinity=False),
                  min_size=2, max_size=2),
       activation=st.sampled_from([n for n, a in ACTIVATIONS.items()
                                   if n in BUILTIN and not a.output_only]),
       output=st.sampled_from([n for n in ACTIVATIONS if n in BUILTIN]),
       entry=st.sampled_from(["forward", "predict", "evaluate", "loss_and_gradients", "fit"]))
def test_finite_inputs_give_numbers_or_a_value_error(X, activation, output, entry):
    n_out = 2 if output == "softmax" else 1
    net = MLP(2, [3, 3], n_out, activation=activation, output_activation=output,
              random_state=0)
    call = _entry_points(net)[entry]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", TrainingWarning)
        try:
            result = call([X, [0.5, -0.5]])
        except ValueError as exc:
            assert "overflow" in str(exc) and "scale the" in str(exc), exc
            return
    if entry in ("forward", "predict"):
        assert np.isfinite(result).all()
    if entry == "evaluate":
        assert np.isfinite(list(result.values())).all()


@pytest.mark.parametrize("X, expected", [
    ([1e39, 0.0], "beyond float32's range"),
    (np.array([1e39, 0.0]), "beyond float32's range"),
    (["1e39", "0"], "beyond float32's range"),
])
def test_values_beyond_float32_are_refused_not_turned_into_inf(X, expected):
    net = MLP(2, [3], 1, dtype="float32", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=expected):
            net.forward(X)
        with pytest.raises(ValueError, match=expected):
            fit(net, [X, X], [0.0, 1.0], epochs=1, verbose=False)


def test_an_integer_beyond_any_float_is_a_value_error():
    with pytest.raises(ValueError, match="too large for a float"):
        MLP(2, [3], 1).forward([10 ** 400, 0])


def test_nan_parameters_are_named_not_returned():
    net = MLP(2, [3], 1, random_state=0)
    net.flat_parameters[0] = np.nan
    with pytest.raises(ValueError, match="parameters hold 1 NaN"):
        net.forward([0.1, 0.2])


def test_targets_whose_loss_overflows_are_a_value_error():
    net = MLP(2, [3], 1, output_activation="identity", random_state=0)
    for call in (net.loss_and_gradients, net.evaluate):
        with pytest.raises(ValueError, match=r"y values up to 1e\+300.*scale the targets"):
            call(np.zeros((1, 2)), [1e300])


def test_ci_runs_property_tests_reproducibly():
    """CI=true loads the derandomized profile without a database; elsewhere 'dev'."""
    code = """
import os, runpy, hypothesis
for ci in ("true", None, "false"):
    os.environ.pop("CI", None)
    if ci is not None:
        os.environ["CI"] = ci
    runpy.run_path("tests/conftest.py")
    s = hypothesis.settings.default
    print(ci, s.derandomize, s.database is None, s.print_blob)
"""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out[0] == "true True True True"
    assert out[1].startswith("None False False")          # dev: the database is kept
    assert out[2].startswith("false False False")


def test_the_example_database_is_not_committed():
    assert ".hypothesis/" in (ROOT / ".gitignore").read_text().split()
    if (ROOT / ".git").exists():
        tracked = subprocess.run(["git", "ls-files", ".hypothesis"], cwd=ROOT,
                                 capture_output=True, text=True).stdout
        assert tracked == ""


# --- 4. fit checks the memory it will need -------------------------------------------------

@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 4 MiB of memory, so the limits are reached by small networks (jobs
    below UNCHECKED_BYTES, 64 MiB, are checked too: this machine has less)."""
    monkeypatch.setattr(numnet.validation, "_available_memory", lambda: 4 << 20)
    monkeypatch.setattr(numnet.validation, "UNCHECKED_BYTES", 0)


def test_a_network_too_large_to_train_is_refused_before_allocating(small_machine):
    net = MLP(1, [40_000], 1, random_state=0)       # 120,001 parameters: 0.9 MiB, fits
    before = net.flat_parameters.copy()
    with pytest.raises(ValueError) as info:
        fit(net, np.linspace(0, 1, 8), np.linspace(0, 1, 8), optimizer="adam", epochs=1,
            verbose=False)
    message = str(info.value)
    assert message.startswith("training MLP(1, [40000], 1) with Adam needs at least")
    assert "optimizer state 1.8 MiB" in message and "4.0 MiB of memory" in message
    assert "use a smaller batch_size (each sample takes 625.0 KiB)" in message
    assert "\n" not in message
    np.testing.assert_array_equal(net.flat_parameters, before)


def test_a_batch_too_large_to_train_names_the_batch(small_machine):
    net = MLP(1, [2000], 1, random_state=0)
    X = np.linspace(0, 1, 1000)
    with pytest.raises(ValueError, match=r"activations of a batch of 1000 .*smaller batch_size"):
        fit(net, X, X, optimizer="sgd", batch_size=None, epochs=1, verbose=False)
    history = fit(net, X, X, optimizer="sgd", batch_size=32, epochs=1, verbose=False)
    assert history.epochs == 1                     # a smaller batch fits


def test_small_jobs_do_not_ask_the_system_for_its_memory(monkeypatch):
    """A fit under UNCHECKED_BYTES never reads /proc/meminfo: it costs more than the fit."""
    def fail() -> None:
        raise AssertionError("asked for the memory available")
    monkeypatch.setattr(numnet.validation, "_available_memory", fail)
    fit(MLP(2, [5], 1, random_state=0), np.zeros((10, 2)), np.zeros(10), epochs=1,
        verbose=False)
    with pytest.raises(AssertionError, match="asked for the memory"):
        fit(MLP(2, [5], 1, random_state=0), np.zeros((10, 2)), np.zeros(10), epochs=1,
            batch_size=None, verbose=False, validation_data=(np.zeros((3_000_000, 2)),
                                                           np.zeros(3_000_000)))


def test_running_out_of_memory_while_training_says_what_to_do():
    hog = callbacks.LambdaCallback(on_train_begin=lambda run: np.empty(2 ** 58))   # 2 EiB
    with pytest.raises(MemoryError, match=r"ran out of memory .* needs at least .*batch_size"):
        fit(MLP(1, [3], 1), [0.1, 0.2], [0.2, 0.1], callbacks=[hog], verbose=False)


@pytest.mark.parametrize("optimizer, batch_size", [("sgd", 1), ("adam", 32), ("adam", None)])
def test_the_memory_estimate_never_exceeds_what_training_allocates(optimizer, batch_size):
    """A lower bound, so no training that fits is refused: measured with tracemalloc."""
    import tracemalloc

    from numnet._fitting.loop import check_training_memory, prepare_data
    from numnet.optimizers import get_optimizer
    net = MLP(3, [400, 200], 2, output_activation="softmax", random_state=0)
    X = np.random.default_rng(0).random((300, 3))
    y = np.arange(300) % 2
    data = prepare_data(net, X, y, loss=None, batch_size=batch_size, metrics=None,
                        validation_split=0.0, validation_data=None,
                        rng=np.random.default_rng(0))
    counted = check_training_memory(net, data, get_optimizer(optimizer))
    already = net.flat_parameters.nbytes + X.nbytes + data.Y.nbytes
    tracemalloc.start()
    try:
        fit(net, X, y, optimizer=optimizer, batch_size=batch_size, epochs=1, verbose=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert counted - already <= peak
