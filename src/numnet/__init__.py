"""numnet: multilayer perceptrons on NumPy, from the tutorial to practice.

>>> from numnet import MLP, fit, optimizers
>>> net = MLP(2, [5], 1, random_state=0)            # the tutorial's network, with biases
>>> Y = net.forward([[0.1, 0.2]])                   # (n_samples, num_outputs)

The tutorial's API (``activate``, ``backActivate``, ``gradientDescent``,
``train``) works on the same ``MLP``, with true gradients.
"""

from importlib.metadata import PackageNotFoundError, version as _version

from . import activations, callbacks, datasets, initializers, losses, optimizers
from .gradcheck import GradcheckReport, gradcheck
from .network import MLP
from .training import History, evaluate, fit
from .tutorial import mse

try:
    __version__ = _version("numnet")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"


def save(net, path, metadata=None):
    """Save ``net`` (or a fitted numnet estimator) to a ``.safetensors`` file (see :func:`numnet.io.save`)."""
    from .io import save as _save
    return _save(net, path, metadata)


def load(path):
    """Load a network or estimator saved by :func:`save` (see :func:`numnet.io.load`); never runs code."""
    from .io import load as _load
    return _load(path)


__all__ = ["MLP", "fit", "evaluate", "History", "gradcheck", "GradcheckReport", "mse", "save", "load",
           "activations", "callbacks", "datasets", "initializers", "losses", "optimizers",
           "__version__"]
