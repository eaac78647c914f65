"""The tutorial's API ("Training to train: ANN part II"), kept working, correctly.

The tutorial builds ``MLP(num_inputs, hidden_layers, num_outputs)`` with
sigmoid everywhere, trains it one example at a time and names its steps
``activate``/``forward_propagate``, ``backActivate``/``back_propagate`` and
``gradientDescent``/``gradient_descent``. :class:`numnet.MLP` has all of them
(through :class:`TutorialMixin`), so the tutorial's code runs unchanged:

>>> from numnet import MLP
>>> mlp = MLP(2, [5], 1, random_state=0)
>>> output = mlp.forward_propagate([0.3, 0.1])
>>> error = [0.4] - output                # the tutorial's sign: target - output
>>> _ = mlp.back_propagate(error)
>>> mlp.gradient_descent(learning_rate=0.1)

Two things differ from the published code, on purpose:

* The weight derivative is the true gradient, ``dW_i = A_i.T @ delta_i``,
  with the layer's *input* activation ``A_i``. The published code leaves
  ``A_i`` out (and a later version uses the wrong layer's activation), so its
  networks learn by accident if at all. :func:`numnet.gradcheck` proves ours.
* Layers may have biases (``bias=True`` is the default). ``MLP(..., bias=False,
  init="uniform")`` is the tutorial's exact network.

Sign conventions are the tutorial's: ``error = target - output`` is
backpropagated, the stored derivatives are ``-dE/dW`` for
``E = 0.5 * sum((target - output) ** 2)`` (summed over the examples given),
and ``gradient_descent`` *adds* ``derivatives * learning_rate``.

This is the one stateful corner of numnet: the tutorial's ``forward_propagate``
remembers what ``back_propagate`` needs, and ``back_propagate`` remembers the
derivatives for ``gradient_descent``. The modern API (``forward``,
``loss_and_gradients``, ``fit``) keeps nothing on the network.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from .fitting import LambdaCallback, Run, fit
from .losses import mse as _mse
from .network import LayerCache, Network
from .optimizers import SGD
from .validation import check_features, check_positive_float, check_positive_int

if TYPE_CHECKING:                  # the mixin's methods run on a Network
    from typing_extensions import Self

    _Base = Network
else:
    _Base = object

__all__ = ["TutorialMixin", "mse"]


def mse(target: Any, output: Any) -> float:
    """The tutorial's mean squared error: ``mean((target - output) ** 2)``."""
    return _mse(target, output)


class TutorialMixin(_Base):
    """The tutorial's methods, on top of :class:`numnet.network.Network`'s forward and backward.

    Mixed into :class:`numnet.MLP` (``class MLP(TutorialMixin, Network)``).
    """

    # Set by forward_propagate / back_propagate; None until then.
    _tutorial_cache: list[LayerCache] | None = None
    _tutorial_single = False
    _tutorial_derivatives: np.ndarray | None = None

    def copy(self) -> Self:
        """An independent network with the same weights, and no remembered tutorial pass."""
        twin = super().copy()
        twin._tutorial_cache = twin._tutorial_derivatives = None
        return twin

    # --- forward ------------------------------------------------------------

    def forward_propagate(self, inputs: Any) -> np.ndarray:
        """One example (1-D) or a batch (2-D) forward; remembers what back-propagation needs.

        Returns the output: ``(num_outputs,)`` for one example, else
        ``(n_samples, num_outputs)``.
        """
        X, single = check_features(inputs, self.num_inputs, self.dtype, name="inputs")
        output, cache = self.forward_train(X)
        self._tutorial_cache, self._tutorial_single = cache, single
        return output[0] if single else output

    def activate(self, inputs: Any) -> np.ndarray:
        """The tutorial's name for :meth:`forward_propagate`."""
        return self.forward_propagate(inputs)

    @property
    def derivatives(self) -> list[np.ndarray] | None:
        """The tutorial's ``derivatives``: ``-dE/dW`` per weight matrix, after back-propagation."""
        if self._tutorial_derivatives is None:
            return None
        return self.unflatten(self._tutorial_derivatives)[0]

    # --- backward ---------------------------------------------------------------

    def back_propagate(self, error: Any) -> np.ndarray:
        """Propagate ``error = target - output`` right to left; store each layer's derivative.

        Parameters
        ----------
        error : array-like of shape (num_outputs,) or (n_samples, num_outputs)
            ``target - output`` for the examples last given to :meth:`forward_propagate`.

        Returns
        -------
        ndarray
            The error at the input, ``-dE/dX``, shaped like those inputs.
        """
        if self._tutorial_cache is None:
            raise RuntimeError("call forward_propagate (or activate) before back_propagate")
        n = self._tutorial_cache[0].A_prev.shape[0]
        err = np.asarray(error, dtype=self.dtype)
        if err.size != n * self.num_outputs:
            raise ValueError(
                f"error has {err.size} value(s), but the last forward_propagate produced "
                f"{n} x {self.num_outputs} output(s); pass target - output"
            )
        if not np.isfinite(err).all():
            raise ValueError("error contains NaN or infinite values")
        # dE/d(output) for E = 0.5 * sum((target - output)**2) is -(target - output).
        flat, dX = self.backward_flat(-err.reshape(n, self.num_outputs), self._tutorial_cache)
        np.negative(flat, out=flat)
        self._tutorial_derivatives = flat
        return -dX[0] if self._tutorial_single else -dX

    def backActivate(self, error: Any) -> np.ndarray:  # noqa: N802 (the tutorial's name)
        """The tutorial's name for :meth:`back_propagate`."""
        return self.back_propagate(error)

    # --- update -------------------------------------------------------------------

    def gradient_descent(self, learning_rate: float = 1.0) -> None:
        """``W += derivatives * learning_rate`` (biases too), the tutorial's sign convention."""
        learning_rate = check_positive_float(learning_rate, "learning_rate")
        if self._tutorial_derivatives is None:
            raise RuntimeError("call back_propagate (or backActivate) before gradient_descent")
        self.flat_parameters += self._tutorial_derivatives * learning_rate

    def gradientDescent(self, learningRate: float = 1.0) -> None:  # noqa: N802, N803 (its names)
        """The tutorial's name for :meth:`gradient_descent`."""
        self.gradient_descent(learningRate)

    # --- the training loop ----------------------------------------------------------

    def train(self, inputs: Any, targets: Any, epochs: int, learning_rate: float) -> float:
        """The tutorial's loop: every example in turn, forward, back, descend; for each epoch.

        Prints ``Epoch: {i}\\tError: {e:.4f}`` after each epoch, where ``e`` is
        the mean over the epoch of each example's :func:`mse` (measured before
        that example's update), then ``Training complete!``.

        Returns
        -------
        float
            The last epoch's error.

        Notes
        -----
        Runs as :func:`numnet.fit` with ``batch_size=1``, no shuffling and
        plain SGD, which compiles the whole epoch when numba is installed.
        The tutorial's step on ``E = 0.5 * sum((t - o)**2)`` with rate ``lr``
        is the same step as SGD on the mean squared error with rate
        ``lr * num_outputs / 2``.
        """
        epochs = check_positive_int(epochs, "epochs")
        learning_rate = check_positive_float(learning_rate, "learning_rate")

        def report(run: Run, epoch: int, logs: dict[str, float]) -> None:
            print(f"Epoch: {epoch + 1}\tError: {logs['loss']:.4f}", file=sys.stdout)

        history = fit(
            self, inputs, targets, loss="mse",
            optimizer=SGD(learning_rate * self.num_outputs / 2.0),
            epochs=epochs, batch_size=1, shuffle=False, verbose=False,
            callbacks=[LambdaCallback(on_epoch_end=report)],
        )
        print("Training complete!")
        return history.loss[-1]
