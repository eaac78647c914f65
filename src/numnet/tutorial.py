"""The tutorial's API ("Training to train: ANN part II"), kept working.

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

The derivatives are the published code's. Its ``back_propagate`` stores
``derivatives[i] = np.dot(current_activations, delta_re)``, that is
``A_i.T @ delta_{i+1}`` with the layer's *input* activation ``A_i``, and its
``_sigmoid_derivative(x)`` is ``x * (1.0 - x)``, called on the activation
``y``: ``y * (1 - y)``, the sigmoid's derivative. numnet computes the same,
and :func:`numnet.gradcheck` checks it against central differences. A change
proposed to that code in December 2020, and never merged, rewrote
``_sigmoid_derivative(x)`` as ``sigmoid(x) * (1 - sigmoid(x))`` but still
called it on ``y``, so it computes ``sigmoid(y) * (1 - sigmoid(y))``: the
sigmoid applied twice, a wrong derivative that gradcheck fails.

Two things differ from the published code, on purpose:

* ``back_propagate`` also takes a batch, and returns the error at the input
  (the published one computes it and returns nothing).
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

import math
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from ._fitting import LambdaCallback, Run, fit
from .baselines import baseline_loss, learned_nothing
from .engine.one_example import OneExample
from .losses import mse
from .network import LayerCache, Network
from .optimizers import SGD
from .validation import check_features, check_positive_float, check_positive_int

if TYPE_CHECKING:                  # the mixin's methods run on a Network
    from typing_extensions import Self

    _Base = Network
else:
    _Base = object

__all__ = ["TutorialMixin", "mse"]


class TutorialMixin(_Base):
    """The tutorial's methods, on top of :class:`numnet.network.Network`'s forward and backward.

    Mixed into :class:`numnet.MLP` (``class MLP(TutorialMixin, Network)``).
    """

    # Set by forward_propagate / back_propagate; None until then. The cache is the
    # general path's list of LayerCache, or the OneExample that did the last pass.
    _tutorial_cache: list[LayerCache] | OneExample | None = None
    _tutorial_single = False
    _tutorial_derivatives: np.ndarray | None = None
    _tutorial_plan: OneExample | None = None

    def copy(self) -> Self:
        """An independent network with the same weights, and no remembered tutorial pass."""
        twin = super().copy()
        twin._tutorial_cache = twin._tutorial_derivatives = twin._tutorial_plan = None
        return twin

    def _one_example(self, inputs: Any) -> OneExample | None:
        """The single-example buffers when ``inputs`` can take the fast path, else None.

        The fast path takes a 1-D float array of ``num_inputs`` finite values
        (lists and anything else go through :func:`check_features`, as do
        non-finite values, so errors are the general path's own).
        """
        if type(inputs) is not np.ndarray or inputs.ndim != 1 \
                or inputs.shape[0] != self.num_inputs or inputs.dtype != self.dtype:
            return None
        if not math.isfinite(inputs.dot(inputs)):      # NaN/inf (or a huge value): general path
            return None
        plan = self._tutorial_plan
        if plan is None or plan.flat is not self.flat_parameters:
            plan = self._tutorial_plan = OneExample(self)
        return plan

    # --- forward ------------------------------------------------------------

    def forward_propagate(self, inputs: Any) -> np.ndarray:
        """One example (1-D) or a batch (2-D) forward; remembers what back-propagation needs.

        Parameters
        ----------
        inputs : array-like of shape (num_inputs,) or (n_samples, num_inputs)
            One example, or a batch of them. For a one-input network a flat
            sequence of ``n`` values is ``n`` examples, as in
            :meth:`numnet.MLP.forward`.

        Returns
        -------
        ndarray of shape (num_outputs,) or (n_samples, num_outputs)
            The output: the first shape for one example, the second for a batch.
        """
        plan = self._one_example(inputs)
        if plan is not None:
            self._tutorial_cache, self._tutorial_single = plan, True
            return plan.forward(inputs)
        X, single = check_features(inputs, self.num_inputs, self.dtype, name="inputs")
        self.check_overflow(X, name="inputs")        # finite inputs too large: forward's error
        output, cache = self.forward_train(X)
        self._tutorial_cache, self._tutorial_single = cache, single
        return output[0] if single else output

    def activate(self, inputs: Any) -> np.ndarray:
        """The tutorial's name for :meth:`forward_propagate`.

        Parameters
        ----------
        inputs : array-like of shape (num_inputs,) or (n_samples, num_inputs)
            One example, or a batch of them, as :meth:`forward_propagate` takes.

        Returns
        -------
        ndarray of shape (num_outputs,) or (n_samples, num_outputs)
            The output, as :meth:`forward_propagate` gives it.
        """
        return self.forward_propagate(inputs)

    @property
    def derivatives(self) -> list[np.ndarray] | None:
        """The tutorial's ``derivatives``: ``-dE/dW`` for each weight matrix.

        Views, set by back-propagation and overwritten by the next one.
        """
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
        cache = self._tutorial_cache
        if cache is None:
            raise RuntimeError("call forward_propagate (or activate) before back_propagate")
        err = error if type(error) is np.ndarray and error.dtype == self.dtype \
            else np.asarray(error, dtype=self.dtype)
        if isinstance(cache, OneExample):
            if err.ndim != 1:
                err = err.reshape(-1)
            if err.shape[0] == self.num_outputs and math.isfinite(err.dot(err)):
                self._tutorial_derivatives = cache.derivatives
                return cache.backward(err)
            # A wrong or non-finite error: redo the pass the general way, which says so.
            cache = self._tutorial_cache = self.forward_train(cache.x.reshape(1, -1))[1]
        n = cache[0].A_prev.shape[0]
        if err.size != n * self.num_outputs:
            raise ValueError(
                f"error has {err.size} value(s), but the last forward_propagate produced "
                f"{n} x {self.num_outputs} output(s); pass target - output"
            )
        if not np.isfinite(err).all():
            raise ValueError("error contains NaN or infinite values")
        # dE/d(output) for E = 0.5 * sum((target - output)**2) is -(target - output).
        flat, dX = self.backward_flat(-err.reshape(n, self.num_outputs), cache)
        np.negative(flat, out=flat)
        self._tutorial_derivatives = flat
        return -dX[0] if self._tutorial_single else -dX

    def backActivate(self, error: Any) -> np.ndarray:  # noqa: N802 (the tutorial's name)
        """The tutorial's name for :meth:`back_propagate`.

        Parameters
        ----------
        error : array-like of shape (num_outputs,) or (n_samples, num_outputs)
            ``target - output`` for the examples last given to :meth:`forward_propagate`.

        Returns
        -------
        ndarray
            The error at the input, ``-dE/dX``, shaped like those inputs.
        """
        return self.back_propagate(error)

    # --- update -------------------------------------------------------------------

    def gradient_descent(self, learning_rate: float = 1.0) -> None:
        """``W += derivatives * learning_rate`` (biases too), the tutorial's sign convention.

        Parameters
        ----------
        learning_rate : float, default 1.0
            The step's size (> 0). The derivatives are ``-dE/dW``, so adding
            them descends the error ``E``.
        """
        if not (type(learning_rate) is float and 0.0 < learning_rate < math.inf):
            learning_rate = check_positive_float(learning_rate, "learning_rate")
        derivatives = self._tutorial_derivatives
        if derivatives is None:
            raise RuntimeError("call back_propagate (or backActivate) before gradient_descent")
        plan = self._tutorial_plan
        if plan is not None and plan.flat is self.flat_parameters:
            plan.descend(derivatives, learning_rate)          # no temporary array
        else:
            self.flat_parameters += derivatives * learning_rate

    def gradientDescent(self, learningRate: float = 1.0) -> None:  # noqa: N802, N803 (its names)
        """The tutorial's name for :meth:`gradient_descent`.

        Parameters
        ----------
        learningRate : float, default 1.0
            The step's size (> 0), as ``learning_rate`` in :meth:`gradient_descent`.
        """
        self.gradient_descent(learningRate)

    # --- the training loop ----------------------------------------------------------

    def train(self, inputs: Any, targets: Any, epochs: int, learning_rate: float,
              callbacks: Any = None) -> float:
        """The tutorial's loop: every example in turn, forward, back, descend; for each epoch.

        Prints ``Epoch: {i}\\tError: {e:.4f}`` after each epoch, where ``e`` is
        the mean over the epoch of each example's :func:`mse` (measured before
        that example's update); then the baseline, the error of always
        answering the targets' mean, beside the network's error now (and a
        line saying it learned nothing when it does no better); then
        ``Training complete!``.

        Parameters
        ----------
        inputs : array-like of shape (n_samples, num_inputs)
            The examples. For a one-input network a flat list (the tutorial's
            ``[x / 10 for x in range(10)]``) is one value per example.
        targets : array-like of shape (n_samples, num_outputs)
            The target of each example; flat for one output.
        epochs : int
            Passes over the examples (>= 1).
        learning_rate : float
            The tutorial's rate (> 0), for its error ``E = 0.5 * sum((t - o)**2)``
            (see Notes).
        callbacks : list of Callback, optional
            :class:`numnet.callbacks.Callback` objects that watch the run, e.g.
            to record each epoch's error (an addition to the tutorial's signature).

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
            callbacks=[LambdaCallback(on_epoch_end=report), *(callbacks or [])],
        )
        print(self._baseline_line(inputs, targets))
        print("Training complete!")
        return history.loss[-1]

    def _baseline_line(self, inputs: Any, targets: Any) -> str:
        """``Baseline: 0.0833 ...``: the error of always giving the targets' mean, beside the
        network's error on the same examples now; and what to try when it is no better."""
        P = np.atleast_2d(self.forward(inputs))
        P = P.reshape(len(P), -1)
        Y = np.asarray(targets, dtype=np.float64).reshape(P.shape)
        base, now = baseline_loss(Y, "mse"), float(np.mean((P - Y) ** 2))
        line = (f"Baseline: {base:.4f} (the error of always answering the targets' mean); "
                f"the network's error now: {now:.4f}")
        if learned_nothing(now, base):
            line += ("\nThe network learned nothing: it does no better than that constant. "
                     "Try another learning rate, more epochs, or fewer layers")
        return line
