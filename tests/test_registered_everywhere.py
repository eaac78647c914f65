"""Activations and losses registered by name (``numnet.activations.register``,
``numnet.losses.register``) work everywhere a built-in name does: the scikit-learn
estimators' ``activation=``, ``output_activation=`` and ``MLPRegressor(loss=...)``, their
parameter validation, their files (``numnet.save``, skops), and sweeps whose runs execute
in worker processes (the Python API and ``numnet --plugin MODULE sweep``)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sweep_processes import env

import numnet
from numnet import activations, losses
from numnet.estimators import MLPClassifier, MLPRegressor
from numnet.experiments import ProcessExecutor, ResultStore, curve, sweep

# Short fits, unconverged on purpose: scikit-learn's warning says so.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

MODULE = "registered_names_plugin"
PLUGIN = textwrap.dedent('''
    import numpy as np
    from numnet import activations, losses

    def _sigmoid(Z):
        return 1.0 / (1.0 + np.exp(-Z))

    activations.register("nn_swish", lambda Z: Z * _sigmoid(Z),
                         lambda Z, A: _sigmoid(Z) * (1 + Z * (1 - _sigmoid(Z))))
    activations.register("nn_bounded", lambda Z: 2.0 * np.tanh(Z),
                         lambda Z, A: 2.0 * (1 - np.tanh(Z) ** 2), output_only=True)
    losses.register("nn_log_cosh", lambda P, Y: float(np.mean(np.log(np.cosh(P - Y)))),
                    lambda P, Y: np.tanh(P - Y) / P.size,
                    sample_values=lambda P, Y: np.mean(np.log(np.cosh(P - Y)), axis=1))
''')
ACTIVATIONS, LOSSES = ("nn_swish", "nn_bounded"), ("nn_log_cosh",)


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """The plugin module written to ``tmp_path``, on ``sys.path`` and imported (so its names
    are registered); unregistered and forgotten afterwards."""
    (tmp_path / f"{MODULE}.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    __import__(MODULE)
    yield tmp_path
    for name in ACTIVATIONS:
        activations.ACTIVATIONS.pop(name, None)
    for name in LOSSES:
        losses.LOSSES.pop(name, None)
    sys.modules.pop(MODULE, None)


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    return X, X.sum(axis=1), (X[:, 0] > 0).astype(int)


# --- the estimators ---------------------------------------------------------------------

@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_estimators_train_with_registered_activation_and_loss(plugin, solver):
    """Registered names in the estimators: activation= (classifier and regressor),
    output_activation= (an output-only one) and MLPRegressor(loss=) train with them; lbfgs's
    objective is the registered loss itself (alpha=0)."""
    X, y, labels = _data()
    reg = MLPRegressor(loss="nn_log_cosh", activation="nn_swish", solver=solver, alpha=0.0,
                       learning_rate_init=0.01,
                       hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(X, y)
    assert [a.name for a in reg.network_.activation_fns] == ["nn_swish", "identity"]
    if solver == "lbfgs":
        expected = losses.LOSSES["nn_log_cosh"].value(reg.predict(X)[:, None], y[:, None])
        assert reg.loss_ == pytest.approx(expected, rel=1e-9)
    bounded = MLPRegressor(output_activation="nn_bounded", solver=solver, max_iter=5,
                           hidden_layer_sizes=(4,), random_state=0).fit(X, 5 * np.sign(y))
    assert np.abs(bounded.predict(X)).max() <= 2.0
    clf = MLPClassifier(activation="nn_swish", solver=solver, max_iter=30,
                        learning_rate_init=0.01, hidden_layer_sizes=(4,),
                        random_state=0).fit(X, labels)
    assert clf.network_.activation_fns[0].name == "nn_swish" and clf.score(X, labels) > 0.8


@pytest.mark.parametrize("Est,param,value,listed", [
    (MLPClassifier, "activation", "nn_swissh", "nn_swish"),
    (MLPRegressor, "activation", "nn_bounded", "nn_swish"),      # output-only: not hidden
    (MLPRegressor, "output_activation", "nn_bound", "nn_bounded"),
    (MLPRegressor, "loss", "nn_log_cossh", "nn_log_cosh"),
    (MLPClassifier, "loss", "nn_log_cosh", "log_loss"),          # the classifier's log-loss
])
def test_unknown_names_are_refused_in_one_line_listing_the_valid_ones(plugin, Est, param,
                                                                      value, listed):
    """Registered names in the estimators' parameter validation: an unknown name is refused
    in scikit-learn's one line, which lists every valid name, registered ones included."""
    X, y, labels = _data()
    with pytest.raises(InvalidParameterError) as err:
        Est(**{param: value}).fit(X, labels if Est is MLPClassifier else y)
    message = str(err.value)
    assert "\n" not in message and f"Got {value!r} instead" in message
    assert repr(listed) in message and (param == "loss" and Est is MLPClassifier
                                        or "register" in message)


def test_validation_follows_the_registry(plugin):
    """Registered names in the estimators: a name is taken while registered, whenever it was
    registered (after numnet was imported, here), and refused once it is not."""
    X, y, _ = _data()
    MLPRegressor(activation="nn_swish", max_iter=2).fit(X, y)
    activations.ACTIVATIONS.pop("nn_swish")
    with pytest.raises(InvalidParameterError, match="Got 'nn_swish' instead"):
        MLPRegressor(activation="nn_swish", max_iter=2).fit(X, y)


def test_saved_estimators_keep_the_names_and_load_where_they_are_registered(plugin):
    """Registered names in the estimators' files: numnet.save and skops keep the names (never
    the code); where they are not registered (here: unregistered after saving) loading is
    refused in one line naming the activation or loss and how to register it, and once
    registered again (the plugin imported) the files load and predict as saved."""
    X, y, _ = _data()
    kw = {"hidden_layer_sizes": (4,), "max_iter": 5, "random_state": 0}
    models = {"net.safetensors": MLPRegressor(activation="nn_swish", loss="nn_log_cosh", **kw),
              "pipe.skops": make_pipeline(StandardScaler(), MLPRegressor(activation="nn_swish",
                                                                         **kw)),
              "loss.safetensors": MLPRegressor(loss="nn_log_cosh", **kw),
              "loss.skops": make_pipeline(StandardScaler(), MLPRegressor(loss="nn_log_cosh",
                                                                         **kw))}
    expected = {}
    for name, model in models.items():
        expected[name] = model.fit(X, y).predict(X)
        numnet.save(model, plugin / name)
    for name in ACTIVATIONS:
        activations.ACTIVATIONS.pop(name)
    losses.LOSSES.pop("nn_log_cosh")
    for name in models:
        what = "activation 'nn_swish'" if name.startswith(("net", "pipe")) \
            else "loss 'nn_log_cosh'"
        with pytest.raises(ValueError, match=f"{what}.* this process knows.*register it "
                                             f"before loading, with numnet") as err:
            numnet.load(plugin / name)
        assert "\n" not in str(err.value)
    importlib.reload(sys.modules[MODULE])                 # registered again
    for name in models:
        np.testing.assert_allclose(numnet.load(plugin / name).predict(X), expected[name],
                                   rtol=1e-12)


# --- sweeps in worker processes ---------------------------------------------------------

GRID = {"hidden_layers": [[2]], "activation": ["nn_swish"], "n_samples": [20],
        "output_activation": [None, "nn_bounded"]}
FIT = {"epochs": 2, "loss": "nn_log_cosh"}


@pytest.mark.parametrize("api", ["sweep", "curve"])
def test_a_sweep_on_worker_processes_uses_the_registering_module(plugin, api):
    """Registered names in sweeps (and curves, which are sweeps): runs in a process pool
    (started by forkserver, whose processes know neither this test's sys.path nor its
    imports) import the module that registered the activations and loss, and train."""
    if api == "sweep":
        result = sweep(GRID, "one_minus_x", fit_kwargs=FIT, executor=ProcessExecutor(1),
                       progress=False)
    else:
        result = curve("one_minus_x", "learning_rate", [0.1, 0.2], seeds=1, n_samples=20,
                       hidden_layers=[2], fit_kwargs=FIT, executor=ProcessExecutor(1),
                       progress=False)
    assert [r["status"] for r in result.runs] == ["ok", "ok"], [r["error"] for r in result.runs]
    assert all(not r["worker"].endswith(f":{os.getpid()}") for r in result.runs)


def test_functions_defined_in_main_are_refused_before_any_run(plugin, tmp_path):
    """Registered names in sweeps: an activation whose functions are defined in __main__
    (a script, python -c, a notebook) cannot reach another process: refused in one line
    saying to put it in a module, before any run; the serial executor takes it."""
    main: dict = {"__name__": "__main__", "np": np}
    exec("def forward(Z):\n    return np.tanh(Z) + 0.1 * Z\n\n"
         "def derivative(Z, A):\n    return 1.1 - np.tanh(Z) ** 2\n", main)
    activations.register("nn_main_act", main["forward"], main["derivative"])
    try:
        store = tmp_path / "runs.sqlite"
        grid = {**GRID, "activation": ["nn_main_act"], "output_activation": [None]}
        with pytest.raises(ValueError, match="defined in __main__.*in a module") as err:
            sweep(grid, "one_minus_x", fit_kwargs={"epochs": 1}, executor="processes",
                  store=store, progress=False)
        assert "\n" not in str(err.value) and not store.exists()     # nothing started
        here = sweep(grid, "one_minus_x", fit_kwargs={"epochs": 1}, progress=False)
        assert [r["status"] for r in here.runs] == ["ok"]
    finally:
        activations.ACTIVATIONS.pop("nn_main_act", None)


def test_numnet_plugin_sweep_on_processes_from_the_command_line(plugin):
    """Registered names in sweeps, as users run them: ``numnet --plugin MODULE sweep``
    with the plugin's activation and loss (a grid file), on local processes."""
    (plugin / "grid.json").write_text(json.dumps({"grid": GRID, "fit": FIT, "repeats": 1}))
    out = plugin / "out"
    run = subprocess.Popen([sys.executable, "-m", "numnet", "--plugin", MODULE, "sweep",
                            "--grid", "grid.json", "--backend", "processes", "--workers", "1",
                            "--out", str(out), "--no-progress"], cwd=plugin, env=env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stdout + stderr
    assert "2 runs (2 run now, 0 already stored), 0 failed" in stdout
    with ResultStore(out / "results.sqlite") as db:
        runs = db.results(db.keys("ok"))
    assert len(runs) == 2
    assert all(not r["worker"].endswith(f":{run.pid}") for r in runs)
