"""`numnet --plugin MODULE`: a model with your own activation, used from the command line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PLUGIN = '''import numpy as np
from numnet import activations
activations.register("softsign", lambda Z: Z / (1 + np.abs(Z)),
                     lambda Z, A: (1 - np.abs(A)) ** 2)
'''

MAKE_MODEL = '''import numpy as np
import softsign_plugin
import numnet
from numnet import MLP, datasets
X, y = datasets.sum_of_two(100, random_state=0)
net = MLP(2, [4], 1, activation="softsign", output_activation="identity", random_state=0)
net.fit(X, y, epochs=5, verbose=False, random_state=0)
numnet.save(net, "soft.safetensors")
np.savetxt("data.csv", np.column_stack([X, y]), delimiter=",", header="a,b,y", comments="")
'''


def numnet(folder, *args):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "numnet", *map(str, args)], cwd=folder,
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugin")
    (root / "softsign_plugin.py").write_text(PLUGIN)
    made = subprocess.run([sys.executable, "-c", MAKE_MODEL], cwd=root, capture_output=True,
                          text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    return root


def test_without_the_plugin_the_error_says_to_give_it(folder):
    result = numnet(folder, "info", "soft.safetensors")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "'softsign' is not an activation this process knows" in result.stderr
    assert "numnet --plugin MODULE COMMAND" in result.stderr


def test_with_the_plugin_every_command_takes_the_model(folder):
    assert "activation softsign" in numnet(folder, "--plugin", "softsign_plugin", "info",
                                           "soft.safetensors").stdout
    for args in (["evaluate", "soft.safetensors", "data.csv"],
                 ["predict", "soft.safetensors", "--values", "0.1,0.2"]):
        result = numnet(folder, "--plugin", "softsign_plugin", *args)
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module, said", [
    ("no_such_module", "--plugin no_such_module: no such module"),
    ("broken_plugin", "--plugin broken_plugin failed: ZeroDivisionError"),
])
def test_a_plugin_that_is_missing_or_fails_is_one_line(folder, module, said):
    (folder / "broken_plugin.py").write_text("1 / 0\n")
    result = numnet(folder, "--plugin", module, "info", "soft.safetensors")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert said in result.stderr
