"""numnet: multilayer perceptrons on NumPy, from the tutorial to practice.

>>> from numnet import MLP, fit, optimizers
>>> net = MLP(2, [5], 1, random_state=0)            # the tutorial's network, with biases
>>> Y = net.forward([[0.1, 0.2]])                   # (n_samples, num_outputs)

The tutorial's API (``activate``, ``backActivate``, ``gradientDescent``,
``train``) works on the same ``MLP``, with true gradients.

This package is the facade over four layers, each importing only from the
ones below it (see ``docs/architecture.md``): maths, training, files, faces.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from . import (
    _moved,
    activations,
    baselines,
    callbacks,
    datasets,
    diagnostics,
    initializers,
    io,
    losses,
    optimizers,
)
from .gradcheck import GradcheckReport, gradcheck
from .io import load, save
from .losses import mse
from .mlp import MLP
from .training import History, TrainingWarning, evaluate, fit

_moved.install()      # numnet.files, numnet.fitting, numnet.data: old paths

try:
    __version__ = _version("numnet")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = ["MLP", "fit", "evaluate", "History", "TrainingWarning", "gradcheck", "GradcheckReport",
           "mse", "save", "load", "activations", "baselines", "callbacks", "datasets",
           "diagnostics", "initializers", "io",
           "losses", "optimizers", "__version__"]
