"""Generated data for an existing model is made as the model was trained on it.

``numnet evaluate`` and ``numnet predict`` regenerate a built-in set with the
noise and arms the model's training record holds (sampled xor included: its
record says noise 0), say so on stderr in one line, and take ``--noise`` and
``--arms`` to choose otherwise; a record without them (an older file), or one
made on another set, leaves the set's own. ``numnet lr-find`` takes ``--noise``
and ``--arms`` as ``numnet train`` does. Each option is refused in one line
where it does not apply.

The real command in subprocesses, started together (one round of tiny trainings,
then one of everything else), so the file stays fast. Each run's output is held
to what the model gives on the data it should have used, generated here with
the same seed; the data sets of the cases compared are checked to give
different outputs, so that every check can fail.
"""

import csv
import io
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pandas")                           # the cli extra
pytest.importorskip("click")

from numnet import datasets  # noqa: E402
from numnet.preprocessing import PreprocessedModel  # noqa: E402

SRC = Path(__file__).resolve().parent.parent / "src"
# 1000 rows (the commands' default) through 5 hidden units take NumPy's inference path, not
# numba's (numnet.engine.inference: FEW_ROWS_WORK), which each process would load
TINY = ("--epochs", "1", "--hidden", "5", "--quiet")
SEED = 1                # evaluate's and predict's default seed: rows train never saw

# model: numnet train's arguments
MODELS = {
    "A": ("spirals", "--arms", "3", "--noise", "0.5", "--samples", "60", *TINY),
    "B": ("sum_of_two", "--noise", "0.5", "--samples", "40", *TINY),
    "X": ("xor", "--samples", "40", *TINY),                 # sampled xor: noise 0 recorded
}
# made here from a trained model: (model, its training record changed so)
DERIVED = {
    "A_old": ("A", {"noise": ..., "arms": ...}),            # ...: the key left out
    "X4": ("X", {"noise": None}),       # as numnet train records xor's four points
    "H": ("A", {"noise": "loud"}),                          # a record that is no noise
}

SPIRALS_3 = ("spirals", {"n_samples": 1000, "n_classes": 3, "noise": 0.5})
SPIRALS_OWN = ("spirals", {"n_samples": 1000, "n_classes": 2, "noise": 0.1})
# case: (the command's arguments after MODEL, the data it must use, what it says it took
# from the model's training record)
EVALUATE = {
    "A": (("A", "spirals"), SPIRALS_3, ["--arms 3", "--noise 0.5"]),
    "A_arms": (("A", "spirals", "--arms", "2"),
               ("spirals", {"n_samples": 1000, "n_classes": 2, "noise": 0.5}), ["--noise 0.5"]),
    "A_old": (("A_old", "spirals"), SPIRALS_OWN, []),
    "A_on_moons": (("A", "moons"), ("moons", {"n_samples": 1000, "noise": 0.1}), []),
    "B": (("B", "sum_of_two"), ("sum_of_two", {"n_samples": 1000, "noise": 0.5}),
          ["--noise 0.5"]),
    "B_noise": (("B", "sum_of_two", "--noise", "0"),
                ("sum_of_two", {"n_samples": 1000, "noise": 0.0}), []),
    "X": (("X", "xor"), ("xor", {"n_samples": 1000, "noise": 0.0}), ["--noise 0"]),
    "X4": (("X4", "xor"), ("xor", {}), []),
    "X4_samples": (("X4", "xor", "--samples", "20"), ("xor", {"n_samples": 20, "noise": 0.0}),
                   []),
}
PREDICT = {
    "A": (("A", "spirals"), SPIRALS_3, ["--arms 3", "--noise 0.5"]),
    "A_arms": (("A", "spirals", "--arms", "2"),
               ("spirals", {"n_samples": 1000, "n_classes": 2, "noise": 0.5}), ["--noise 0.5"]),
    "A_old": (("A_old", "spirals"), SPIRALS_OWN, []),
    "X": (("X", "xor"), ("xor", {"n_samples": 1000, "noise": 0.0}), ["--noise 0"]),
}
# Pairs of cases on different data whose outputs must differ (else a check could not fail).
APART = {"evaluate": [("A", "A_arms"), ("A", "A_old"), ("B", "B_noise"), ("X", "X4"),
                      ("X4", "X4_samples")],
         "predict": [("A", "A_arms"), ("A_arms", "A_old")]}          # arms; noise
LR = ("--samples", "60", "--hidden", "3", "--steps", "10")
LR_FIND = {
    "arms_noise": ("spirals", "--arms", "3", "--noise", "0.5", *LR),
    "arms": ("spirals", "--arms", "3", *LR),
    "xor": ("xor", "--samples", "40", "--hidden", "3", "--steps", "10"),
}
# case: (the command's arguments, what its one-line error says)
REFUSED = {
    "evaluate_noise_bundled": (("evaluate", "A.safetensors", "iris", "--noise", "0.1"),
                               "--noise sets the noise of a generated data set"),
    "evaluate_arms_moons": (("evaluate", "A.safetensors", "moons", "--arms", "3"),
                            "--arms sets the number of arms (classes) of spirals only; moons"),
    "evaluate_noise_file": (("evaluate", "A.safetensors", "d.csv", "--noise", "0.1"),
                            "; d.csv has its own rows; leave it out"),
    "predict_noise_values": (("predict", "A.safetensors", "--values", "0.1,0.2", "--noise",
                              "0.1"), "; --values is one sample; leave it out"),
    "predict_arms_file": (("predict", "A.safetensors", "d.csv", "--arms", "3"),
                          "--arms sets the number of arms (classes) of spirals only; d.csv"),
    "lr_find_noise_bundled": (("lr-find", "iris", "--noise", "0.1"),
                              "--noise sets the noise of a generated data set"),
    "lr_find_arms_moons": (("lr-find", "moons", "--arms", "3"),
                           "--arms sets the number of arms (classes) of spirals only; moons"),
    "hostile_record": (("evaluate", "H.safetensors", "spirals"),
                       "the model's training record holds noise 'loud', not a noise (a number, "
                       "0 or more); give --noise X"),
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    return env


def _run_all(folder: Path, runs: dict[str, tuple[str, ...]]
             ) -> dict[str, subprocess.CompletedProcess]:
    """Every run, as many at once as there are processors."""
    def run(args: tuple[str, ...]) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "numnet", *args], cwd=folder, text=True,
                              capture_output=True, env=_env(), timeout=300)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = dict(zip(runs, pool.map(run, runs.values()), strict=True))
    return done


def _derive(folder: Path, name: str, source: str, changes: dict) -> None:
    model = PreprocessedModel.load(folder / f"{source}.safetensors")
    record = dict(model.metadata["training"])
    for key, value in changes.items():
        if value is ...:
            del record[key]
        else:
            record[key] = value
    model.save(folder / f"{name}.safetensors", {"training": record})


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Every run of this file: (folder, results by "command case")."""
    folder = tmp_path_factory.mktemp("generated")
    (folder / "d.csv").write_text("x0,x1,y\n" + "\n".join(f"{i},{-i},{i % 2}"
                                                           for i in range(20)))
    trained = _run_all(folder, {name: ("train", *args, "--out", f"{name}.safetensors")
                                for name, args in MODELS.items()})
    for name, result in trained.items():
        assert result.returncode == 0, (name, result.stderr)
    for name, (source, changes) in DERIVED.items():
        _derive(folder, name, source, changes)
    runs = {f"evaluate {case}": ("evaluate", f"{args[0]}.safetensors", *args[1:])
            for case, (args, _, _) in EVALUATE.items()}
    runs.update({f"predict {case}": ("predict", f"{args[0]}.safetensors", *args[1:], "--proba")
                 for case, (args, _, _) in PREDICT.items()})
    runs.update({f"lr-find {case}": ("lr-find", *args) for case, args in LR_FIND.items()})
    runs.update({f"refused {case}": args for case, (args, _) in REFUSED.items()})
    return folder, _run_all(folder, runs)


def _expected(folder: Path, command: str, case: str) -> tuple[str, np.ndarray]:
    """What ``command`` must print for ``case``: evaluate's first line; predict's class
    probabilities, (n_samples, n_classes)."""
    args, (name, kwargs), _ = (EVALUATE if command == "evaluate" else PREDICT)[case]
    model = PreprocessedModel.load(folder / f"{args[0]}.safetensors")
    X, y = datasets.get_dataset(name, random_state=SEED, **kwargs)
    if command == "predict":
        return "", model.predict_proba(X)
    pred = model.predict(X)
    if model.is_classifier:
        return f"accuracy {np.mean(pred == y):.4f} on {len(X)} samples", np.empty(0)
    Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    return f"mse {np.mean((pred.reshape(Y.shape) - Y) ** 2):.6g}  ", np.empty(0)


def _said(stderr: str, data: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if line.startswith(f"generating {data} as the model was trained on it")]


def _probabilities(stdout: str) -> np.ndarray:
    rows = list(csv.reader(io.StringIO(stdout)))
    assert rows[0][0] == "y" and all(c.startswith("p(") for c in rows[0][1:]), rows[0]
    return np.array([[float(v) for v in row[1:]] for row in rows[1:]])


CASES = [("evaluate", case) for case in EVALUATE] + [("predict", case) for case in PREDICT]


@pytest.mark.parametrize(("command", "case"), CASES, ids=[" ".join(c) for c in CASES])
def test_generated_data_follows_the_model_unless_an_option_says_otherwise(ran, command, case):
    """The default is the model's recorded noise and arms (sampled xor included), said in one
    line; an option given wins; an older record, or one for another set, leaves the set's
    own."""
    folder, done = ran
    result = done[f"{command} {case}"]
    assert result.returncode == 0, result.stderr
    first, probabilities = _expected(folder, command, case)
    if command == "evaluate":
        assert result.stdout.startswith(first), (result.stdout.splitlines()[0], first)
    else:
        np.testing.assert_allclose(_probabilities(result.stdout), probabilities, rtol=1e-9,
                                   atol=1e-12)
    args, (data, _), recorded = (EVALUATE if command == "evaluate" else PREDICT)[case]
    said = _said(result.stderr, args[1])
    if not recorded:
        assert said == [], result.stderr
        return
    assert len(said) == 1, result.stderr
    shown = re.findall(r"--(?:arms|noise) [^\s,;]+", said[0].split(";")[0])
    assert shown == recorded, said[0]


@pytest.mark.parametrize("command", APART)
def test_the_cases_compared_give_different_outputs(ran, command):
    """Each pair of cases on different data prints differently, so the check above would
    see the wrong data."""
    folder, _ = ran
    for one, other in APART[command]:
        a, b = _expected(folder, command, one), _expected(folder, command, other)
        assert a[0] != b[0] or a[1].shape != b[1].shape or not np.allclose(a[1], b[1]), \
            (one, other)


def test_lr_find_takes_noise_and_arms_as_train_does(ran):
    _, done = ran
    with_noise, without = done["lr-find arms_noise"], done["lr-find arms"]
    for result in (with_noise, without):
        assert result.returncode == 0, result.stderr
        assert "range test of a 2 -> 3 -> 3 network" in result.stdout      # three arms
    assert re.search(r"^train with it: numnet train spirals --hidden 3 --samples 60 "
                     r"--noise 0.5 --arms 3 --lr \S+$", with_noise.stdout, re.M)

    def losses(stdout: str) -> list[str]:
        return re.findall(r"^  \d\S*\s+(\S+)", stdout, re.M)
    assert losses(with_noise.stdout) != losses(without.stdout)      # other data: --noise 0.5


def test_lr_find_samples_xor_as_train_does(ran):
    _, done = ran
    result = done["lr-find xor"]
    assert result.returncode == 0, result.stderr
    assert " on 40 rows of xor: " in result.stdout          # not its four points


@pytest.mark.parametrize("case", REFUSED)
def test_an_option_that_does_not_apply_is_refused_in_one_line(ran, case):
    _, done = ran
    result = done[f"refused {case}"]
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: ") and REFUSED[case][1] in result.stderr


def test_info_shows_the_generation_options_evaluate_will_take(ran):
    """`numnet info` names the recorded --noise and --arms that evaluate and predict use."""
    folder, _ = ran
    shown = _run_all(folder, {"A": ("info", "A.safetensors"), "A_old": ("info",
                                                                        "A_old.safetensors")})
    assert "  options: --noise 0.5 --arms 3" in shown["A"].stdout.splitlines()
    assert "options:" not in shown["A_old"].stdout
