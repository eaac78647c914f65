"""``numnet train``'s options for the playground's settings: --noise, --arms, --l2, --dropout,
--no-bias, --init.

The real command in subprocesses, started together (one round of tiny runs, then one of
resumes), so the file stays fast. Each option is checked for what it changes (the data's
fingerprint, the classes, the saved network, what fit was given) against a run without it,
for its place in the training record, for its refusal where it does not apply (one line),
and for the check ``--resume`` makes.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pandas")                           # the cli extra
pytest.importorskip("click")

import numnet  # noqa: E402
from numnet import io  # noqa: E402

SRC = Path(__file__).resolve().parent.parent / "src"
TINY = ("--samples", "40", "--epochs", "2", "--hidden", "3", "--quiet")

# name: numnet train's arguments (the output file is added: NAME.safetensors)
RUNS = {
    "plain": ("circles", *TINY),
    "penalised": ("circles", *TINY, "--l2", "0.5", "--dropout", "0.25",
                  "--checkpoint", "ckpt.safetensors"),
    # --noise changes the data, the others the network: checked apart
    "bare": ("circles", *TINY, "--no-bias", "--init", "uniform", "--lr", "1e-9",
             "--noise", "0.3"),
    "arms": ("spirals", *TINY, "--arms", "3", "--init", "he_normal,uniform"),
    "xor_sampled": ("xor", *TINY),
    "xor_points": ("xor", "--epochs", "1", "--quiet"),
}
# name: (numnet train's arguments, what the one-line error says)
REFUSED = {
    "noise_on_iris": (("iris", "--noise", "0.1"),
                      "--noise sets the noise of a generated data set"),
    "noise_on_a_file": (("d.csv", "--noise", "0.1"),
                        "--noise sets the noise of a generated data set"),
    "arms_on_moons": (("moons", "--arms", "3"),
                      "--arms sets the number of arms (classes) of spirals only; moons"),
    "unknown_init": (("moons", "--init", "lecun"), "--init: unknown init 'lecun'"),
    "init_per_layer": (("moons", "--hidden", "4,4", "--init", "he,he"),
                       "give one initializer, or one per layer (3: the hidden layers and"),
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    return env


def _start(folder: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "numnet", *args], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())


def _finish(started: dict[str, subprocess.Popen]) -> dict[str, subprocess.CompletedProcess]:
    done = {}
    for name, proc in started.items():
        stdout, stderr = proc.communicate(timeout=180)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return done


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Every run and refusal of this file, started at once: (folder, results by name)."""
    folder = tmp_path_factory.mktemp("options")
    (folder / "d.csv").write_text("a,y\n" + "\n".join(f"{i},{i % 2}" for i in range(20)))
    started = {name: _start(folder, "train", *args, "--out", f"{name}.safetensors")
               for name, args in RUNS.items()}
    started.update({name: _start(folder, "train", *args, "--out", f"{name}.safetensors")
                    for name, (args, _) in REFUSED.items()})
    started["help"] = _start(folder, "train", "--help")
    return folder, _finish(started)


def _record(folder: Path, name: str) -> dict:
    return io.load_metadata(folder / f"{name}.safetensors")["metadata"]["training"]


def _model(folder: Path, name: str):
    return numnet.load(folder / f"{name}.safetensors").net


def test_every_run_trains_and_saves(ran):
    folder, done = ran
    for name in RUNS:
        assert done[name].returncode == 0, (name, done[name].stderr)
        assert (folder / f"{name}.safetensors").is_file()


def test_the_record_holds_every_option(ran):
    folder, _ = ran
    plain, penalised = _record(folder, "plain"), _record(folder, "penalised")
    assert {k: plain[k] for k in ("noise", "arms", "l2", "dropout", "bias", "init")} == {
        "noise": 0.1, "arms": None, "l2": 0.0, "dropout": 0.0, "bias": True,
        "init": "glorot_uniform"}                      # the defaults: circles' noise is 0.1
    assert (penalised["l2"], penalised["dropout"]) == (0.5, 0.25)
    bare = _record(folder, "bare")
    assert (bare["noise"], bare["bias"], bare["init"]) == (0.3, False, "uniform")
    arms = _record(folder, "arms")
    assert arms["arms"] == 3 and arms["init"] == ["he_normal", "uniform"]


def test_noise_changes_the_data_and_l2_and_dropout_do_not(ran):
    folder, _ = ran
    sha = {name: _record(folder, name)["data_sha256"] for name in RUNS}
    assert sha["bare"] != sha["plain"]                  # --noise 0.3 (the data's only option)
    assert sha["penalised"] == sha["plain"]


def test_l2_and_dropout_reach_fit_and_change_the_training(ran):
    folder, _ = ran
    saved = io.load_checkpoint(folder / "ckpt.safetensors").fit_config
    assert (saved["l2"], saved["dropout"]) == (0.5, 0.25)       # what fit was given
    plain, penalised = _model(folder, "plain"), _model(folder, "penalised")
    assert plain.get_config() == penalised.get_config()
    assert not np.allclose(plain.flat_parameters, penalised.flat_parameters)


def test_no_bias_and_uniform_init_build_the_tutorials_network(ran):
    folder, _ = ran
    bare, plain = _model(folder, "bare"), _model(folder, "plain")
    assert bare.biases is None and plain.biases is not None
    assert bare.num_parameters == 2 * 3 + 3 * 1 < plain.num_parameters
    # --lr 1e-9: two Adam steps move a weight by about 2e-9, so the weights are the
    # initial ones: numnet's uniform initializer, seeded by --seed 0, all in [0, 1)
    expected = numnet.MLP(2, [3], 1, activation="tanh", output_activation="sigmoid",
                          bias=False, init="uniform", random_state=0)
    np.testing.assert_allclose(bare.flat_parameters, expected.flat_parameters, atol=1e-7)
    for W in bare.weights:
        assert (W >= 0).all() and (W < 1).all()
    assert any((W < 0).any() for W in plain.weights)             # the default init is not


def test_arms_gives_that_many_classes_and_init_one_per_layer(ran):
    folder, _ = ran
    net = _model(folder, "arms")
    assert list(net.classes_) == [0, 1, 2] and net.layer_sizes == [2, 3, 3]
    assert net.init == ["he_normal", "uniform"]


def test_xor_is_sampled_with_samples_and_its_four_points_without(ran):
    folder, _ = ran
    sampled, points = _record(folder, "xor_sampled"), _record(folder, "xor_points")
    assert (sampled["rows"], sampled["noise"]) == (40, 0.0)
    assert (points["rows"], points["noise"]) == (4, None)


@pytest.mark.parametrize("name", REFUSED)
def test_an_option_that_does_not_apply_is_refused_in_one_line(ran, name):
    folder, done = ran
    said = REFUSED[name][1]
    result = done[name]
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: ") and said in result.stderr
    assert not (folder / f"{name}.safetensors").exists()


def test_help_explains_each_option(ran):
    _, done = ran
    text = " ".join(done["help"].stdout.split())
    for said in ("--noise X Noise of a generated data set",
                 "--arms N spirals only: its number of arms",
                 "--l2 X L2 penalty", "--dropout P Drop each hidden unit",
                 "--no-bias Build the network without biases",
                 "--init NAME Weight initializer"):
        assert said in text


def test_resume_checks_l2_and_dropout(ran):
    folder, done = ran
    ckpt = folder / "ckpt.safetensors"
    before = ckpt.read_bytes()
    resumed = ("circles", *TINY[:2], "--epochs", "3", *TINY[4:], "--resume", str(ckpt))
    started = {
        "other_l2": _start(folder, "train", *resumed, "--l2", "0.1", "--dropout", "0.25",
                           "--out", "r1.safetensors"),
        "no_dropout": _start(folder, "train", *resumed, "--l2", "0.5",
                             "--out", "r2.safetensors"),
        "same": _start(folder, "train", *resumed, "--l2", "0.5", "--dropout", "0.25",
                       "--out", "r3.safetensors"),
    }
    results = _finish(started)
    for name, said in (("other_l2", "was trained with --l2 0.5, and this run is with --l2 "
                                    "0.1; resume with --l2 0.5"),
                       ("no_dropout", "was trained with --dropout 0.25, and this run is "
                                      "without --dropout")):
        result = results[name]
        assert result.returncode == 1 and result.stderr.count("\n") == 2, result.stderr
        assert said in result.stderr.splitlines()[-1]             # after the task line
    assert not (folder / "r1.safetensors").exists() and not (folder / "r2.safetensors").exists()
    assert ckpt.read_bytes() == before                            # refused before any epoch
    assert results["same"].returncode == 0, results["same"].stderr
    assert _record(folder, "r3")["epochs"] == 3
