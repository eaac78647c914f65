"""``numnet train`` and ``numnet evaluate`` print each score's baseline beside it.

The real command in a subprocess, on small CSV files written here, so that
every baseline can be computed by hand: the training rows' mean (median for
MAE) or majority class, scored on the rows being scored. A model that does
no better is marked ``learned nothing``; one that learns is not.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")                      # the cli extra
pytest.importorskip("click")

import numnet  # noqa: E402

SRC = Path(__file__).resolve().parent.parent / "src"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    return env


def numnet_cli(*commands: tuple[object, ...]) -> list[subprocess.CompletedProcess]:
    """Run each command (``numnet``'s arguments) at once, each in its own process."""
    started = [(args, subprocess.Popen([sys.executable, "-m", "numnet", *map(str, args)],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, env=_env()))
               for args in commands]
    done = []
    for args, proc in started:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        done.append(subprocess.CompletedProcess(args, proc.returncode, stdout, stderr))
    return done


def row(stdout: str, name: str) -> list[float]:
    """The numbers of the summary table's row ``name``."""
    found = re.search(rf"^  {re.escape(name)}\s+([-0-9.e ]+)$", stdout, re.M)
    assert found, stdout
    return [float(v) for v in found.group(1).split()]


def regression(n: int, seed: int) -> pd.DataFrame:
    """Two targets of x, skewed (so that the mean and the median differ), and a feature
    that says nothing."""
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    return pd.DataFrame({"x": x, "z": rng.random(n), "y": (1.0 - x) ** 3, "w": 2 * x ** 2})


def by_hand(train: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """mse and mae of the training mean and median on ``scored`` (n, k), and R² of the
    mean, per target: ``(k, 3)``."""
    mean, median = train.mean(axis=0), np.median(train, axis=0)
    return np.column_stack([np.mean((scored - mean) ** 2, axis=0),
                            np.mean(np.abs(scored - median), axis=0),
                            1 - np.sum((scored - mean) ** 2, axis=0)
                            / np.sum((scored - scored.mean(axis=0)) ** 2, axis=0)])


def classes(n: int, seed: int, shares: tuple[float, float, float]) -> pd.DataFrame:
    """Three separated clusters in unequal shares: red is the majority."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(["red", "green", "blue"], size=n, p=shares)
    centre = {"red": (0.0, 0.0), "green": (4.0, 0.0), "blue": (0.0, 4.0)}
    X = np.array([centre[c] for c in labels]) + rng.normal(0, 0.5, (n, 2))
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "colour": labels})


def noise(n: int, seed: int) -> pd.DataFrame:
    """Targets independent of the features: nothing to learn."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2))
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": rng.normal(size=n)})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each command once, the independent ones at the same time: training (no split, a
    split, and on noise) and evaluation on new rows (and with a plain numnet.save file)."""
    tmp = tmp_path_factory.mktemp("baselines")
    X, y = numnet.datasets.one_minus_x(30, random_state=0)
    files = {"reg": regression(120, 0), "reg_test": regression(50, 1),
             "cls": classes(120, 0, (0.5, 0.3, 0.2)), "cls_test": classes(60, 1, (0.2, 0.3, 0.5)),
             "noise": noise(60, 0), "plain": pd.DataFrame({"x": X[:, 0], "y": y[:, 0]})}
    for name, frame in files.items():
        frame.to_csv(tmp / f"{name}.csv", index=False)
    # a plain file, untrained (measured: 1.13 times the mean's mse), its record damaged
    numnet.save(numnet.MLP(1, [3], 1, random_state=2), tmp / "plain.safetensors",
                metadata={"training": {"baseline": {"mean": ["not a number"], "median": [1]}}})
    out: dict = dict(files)
    out["train reg"], out["train cls"], out["train noise"], out["evaluate plain"] = numnet_cli(
        ("train", tmp / "reg.csv", "-t", "y,w", "--epochs", 40, "--lr", 0.01, "--quiet",
         "--out", tmp / "reg.safetensors"),
        ("train", tmp / "cls.csv", "-t", "colour", "--epochs", 30, "--lr", 0.05,
         "--validation-split", 0.25, "--out", tmp / "cls.safetensors"),
        ("train", tmp / "noise.csv", "--epochs", 5, "--seed", 1, "--quiet",
         "--out", tmp / "noise.safetensors"),
        ("evaluate", tmp / "plain.safetensors", tmp / "plain.csv"))
    out["evaluate reg"], out["evaluate cls"] = numnet_cli(
        ("evaluate", tmp / "reg.safetensors", tmp / "reg_test.csv"),
        ("evaluate", tmp / "cls.safetensors", tmp / "cls_test.csv"))
    out["cls model"] = numnet.load(tmp / "cls.safetensors")
    return out


# every command, every task: the baseline is printed beside the score -------------------------

@pytest.mark.parametrize("command", ["train reg", "evaluate reg", "train cls", "evaluate cls"])
def test_every_score_has_its_baseline_beside_it(runs, command):
    stdout = runs[command].stdout
    if command == "train reg":
        assert row(stdout, "train") and len(row(stdout, "baseline on train")) == 3
    elif command == "train cls":
        for name in ("train", "validation", "baseline on train", "baseline on validation"):
            assert len(row(stdout, name)) == 2                  # accuracy, macro_f1
    elif command == "evaluate reg":
        first, second = stdout.splitlines()[:2]
        assert re.match(r"mse \S+  mae \S+  r2 \S+ on 50 samples$", first)
        assert len(row(stdout, "y")) == len(row(stdout, "y baseline")) == 3
        assert re.match(r"baseline mse \S+  mae \S+  r2 \S+: always predicting", second)
    else:
        first, second = stdout.splitlines()[:2]
        assert re.match(r"accuracy [0-9.]+ on 60 samples$", first)
        assert second.startswith("baseline accuracy ")
    assert "learned nothing" not in stdout          # every one of these models learned


def test_regression_baselines_are_the_training_mean_and_median(runs):
    y = runs["reg"][["y", "w"]].to_numpy()
    train = row(runs["train reg"].stdout, "baseline on train")    # averaged over the targets
    assert train == pytest.approx(by_hand(y, y).mean(axis=0), rel=1e-3, abs=1e-4)
    assert train[2] == 0.0                                           # R² of the mean
    assert "baseline: always predicting the training rows' mean, or their median for mae; " \
           "its training loss 1 (on standardised targets)" in runs["train reg"].stdout  # variance 1
    # on new rows: the training rows' constants, not the new rows' own
    t = runs["reg_test"][["y", "w"]].to_numpy()
    stdout = runs["evaluate reg"].stdout
    found = re.search(r"^baseline mse (\S+)  mae (\S+)  r2 (\S+):", stdout, re.M)
    assert [float(v) for v in found.groups()] == pytest.approx(
        by_hand(y, t).mean(axis=0), rel=1e-3, abs=1e-4)      # r2 is printed to 4 decimals
    for j, name in enumerate(("y", "w")):                      # and each target's, under it
        assert row(stdout, f"{name} baseline") == pytest.approx(by_hand(y, t)[j], rel=1e-3)


def test_classification_baselines_are_the_training_majority_class(runs):
    model, everything = runs["cls model"], runs["cls"]["colour"].to_numpy()
    counts = dict(zip(model.classes, model.metadata["training"]["baseline"]["class_counts"],
                      strict=True))
    assert max(counts, key=counts.get) == "red"
    stdout = runs["train cls"].stdout
    n_train = sum(counts.values())
    assert n_train == 90
    red_train = counts["red"] / n_train
    red_val = (np.sum(everything == "red") - counts["red"]) / (len(everything) - n_train)
    # accuracy of always "red"; its macro F1: red's F1 2p / (1 + p), the others' 0, over 3
    assert row(stdout, "baseline on train") == pytest.approx(
        [red_train, 2 * red_train / (1 + red_train) / 3], abs=1e-4)
    assert row(stdout, "baseline on validation")[0] == pytest.approx(red_val, abs=1e-4)
    assert "baseline: always predicting the training rows' majority class, red" in stdout
    # the test rows are mostly blue, but the baseline is the training rows' majority: red
    test = runs["cls_test"]["colour"].to_numpy()
    found = re.search(r"^baseline accuracy ([0-9.]+)  macro_f1 ([0-9.]+): always predicting "
                      r"the training rows' majority class, red$", runs["evaluate cls"].stdout,
                      re.M)
    assert float(found.group(1)) == pytest.approx(np.mean(test == "red"), abs=1e-4)


# learned nothing: said, with what to try ------------------------------------------------------

def test_a_model_that_learns_nothing_is_marked(runs):
    """Targets independent of the features: measured (seeds 0-3, 5 epochs) training MSE
    0.97-1.49 times the mean's; seed 1 (1.49) is far from the margin."""
    stdout = runs["train noise"].stdout
    line = next(ln for ln in stdout.splitlines() if ln.startswith("learned nothing"))
    assert line.startswith("learned nothing: the model does no better than always predicting "
                           "the training rows' mean, or their median for mae (the training "
                           "rows: mse ")
    assert "try more --epochs" in line


def test_a_file_without_the_training_record_takes_the_rows_own_baseline(runs):
    """A plain numnet.save file (or one whose record is damaged) has no training rows to
    take the baseline from: the evaluated rows' own, said so. The network is untrained:
    it learned nothing, and evaluate says so."""
    y = runs["plain"]["y"].to_numpy()
    lines = runs["evaluate plain"].stdout.splitlines()
    assert lines[1].startswith(f"baseline mse {np.mean((y - y.mean()) ** 2):.6g}  ")
    assert lines[1].endswith("always predicting these rows' own mean, or their median for mae "
                             "(the model file records no training rows to take it from)")
    assert lines[2].startswith("learned nothing: the model does no better ")
    assert "retrain it: more --epochs" in lines[2]
