"""The public network: :class:`MLP`, a :class:`~numnet.network.Network` that trains itself.

``MLP`` adds to the network what needs the layers above it: ``fit``,
``evaluate`` and ``summary`` (the training loop of :mod:`numnet.training`,
and the runner it would pick) and the tutorial's methods
(:class:`numnet.tutorial.TutorialMixin`, with ``train``).
Defining it here, above them all, is what lets every lower layer import
only downward: the network knows nothing of training, training knows the
network.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._fitting import History
from ._fitting.loop import planned_runner
from .engine import inference
from .losses import Loss
from .network import Network
from .optimizers import Optimizer
from .training import evaluate, fit
from .tutorial import TutorialMixin

__all__ = ["MLP"]


class MLP(TutorialMixin, Network):
    """A fully connected feed-forward network, trained by backpropagation.

    Parameters
    ----------
    num_inputs : int
        Features per sample.
    hidden_layers : list of int, default (3,)
        Width of each hidden layer, left to right; ``[]`` for none.
    num_outputs : int, default 1
        Outputs per sample.
    activation : str or list of str, default "sigmoid"
        Hidden-layer activation (see :mod:`numnet.activations`), or one per
        hidden layer, e.g. ``["relu", "tanh"]``.
    output_activation : str or None, default None
        Output activation; ``None`` means the same as ``activation`` (the last
        hidden layer's, for a list), as in the tutorial. Use ``"identity"``
        for regression, ``"softmax"`` or ``"sigmoid"`` for classification.
    bias : bool, default True
        Whether layers have biases (the tutorial's network has none).
    init : str, list of str or None, default None
        Weight initializer (see :mod:`numnet.initializers`), or one per layer
        (hidden and output); ``None`` picks, for each hidden layer, He for the
        ReLU family and Glorot otherwise (the output layer as the last hidden
        layer). ``"uniform"`` is the tutorial's [0, 1). Biases start at zero.
    dtype : {"float64", "float32"}, default "float64"
        Kept end to end: parameters, activations and gradients.
    random_state : int, numpy.random.Generator or None, default None
        Seeds the initial weights, and then the training (see :attr:`rng`), as
        scikit-learn's ``random_state`` does. A Generator is used, not copied.

    Attributes
    ----------
    weights : list of ndarray
        ``W_i`` of shape ``(layer_sizes[i], layer_sizes[i + 1])``: views into
        :attr:`flat_parameters`.
    biases : list of ndarray or None
        ``b_i`` of shape ``(layer_sizes[i + 1],)``, or None without bias.
    flat_parameters : ndarray of shape (num_parameters,)
        Every parameter, in :meth:`parameters` order.
    activation_fns : list of Activation
        Each layer's activation pair.
    classes_ : list or None
        The class labels, in output order, once :func:`numnet.fit` has seen labels.
    metadata : dict
        Free-form JSON-safe data, saved by :func:`numnet.save` and restored by
        :func:`numnet.load` (``{}`` for a new network).
    rng : numpy.random.Generator or None
        The generator of ``random_state``, continued after drawing the initial
        weights. :func:`numnet.fit` given no ``random_state`` of its own draws
        its shuffles, validation split and dropout from it: a network built
        with a seed trains the same way on every run of a script, and each
        later ``fit`` continues the stream (new shuffles, still repeatable).
        None without a seed: each ``fit`` then draws fresh entropy.

    Raises
    ------
    ValueError
        For a softmax output over one unit (constant: use a sigmoid for two
        classes, or one output per class), or when the parameters alone would
        exceed the machine's physical memory (the message gives their number
        and size).

    Notes
    -----
    Forward, backward, parameters and prediction come from
    :class:`numnet.network.Network`; the tutorial's methods
    (``forward_propagate``/``activate``, ``back_propagate``/``backActivate``,
    ``gradient_descent``/``gradientDescent``, ``train``) from
    :class:`numnet.tutorial.TutorialMixin`.

    Examples
    --------
    >>> net = MLP(2, [5], 1, random_state=0)
    >>> net.forward([0.1, 0.2]).shape
    (1,)
    >>> net.num_parameters
    21
    """

    _pass_checks_inputs = True

    def _forward_checked(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        """:meth:`forward`'s pass on the engine's inference path, :mod:`numnet.engine.inference`."""
        return inference.forward(self, X, name)

    def fit(self, X: Any, y: Any, **kwargs: Any) -> History:
        """Train this network in place: :func:`numnet.fit` as a method.

        Parameters
        ----------
        X : array-like of shape (n_samples, num_inputs)
            The training inputs.
        y : array-like of shape (n_samples, num_outputs) or (n_samples,)
            Targets, or class labels.
        **kwargs : dict
            :func:`numnet.fit`'s keyword arguments (``epochs``,
            ``learning_rate``, ``batch_size``, ...).

        Returns
        -------
        History
            Per-epoch loss, validation loss, metrics, learning rate and time.
        """
        return fit(self, X, y, **kwargs)

    def evaluate(self, X: Any, y: Any, **kwargs: Any) -> dict[str, float]:
        """Loss and metrics on ``(X, y)``: :func:`numnet.evaluate` as a method.

        Parameters
        ----------
        X : array-like of shape (n_samples, num_inputs)
            The inputs.
        y : array-like of shape (n_samples, num_outputs) or (n_samples,)
            Targets, or class labels.
        **kwargs : dict
            :func:`numnet.evaluate`'s keyword arguments (``loss``,
            ``metrics``, ``baseline_from``).

        Returns
        -------
        dict of str to float
            E.g. ``{"loss": 0.08, "accuracy": 0.97}``.
        """
        return evaluate(self, X, y, **kwargs)

    def summary(self, batch_size: int | str | None = "auto",
                optimizer: str | Optimizer = "sgd", *, loss: str | Loss | None = None,
                learning_rate: float | None = None, dropout: float = 0.0,
                n_samples: int | None = None, sample_weight: bool = False,
                runner: bool = True) -> str:
        """The network as text, and the runner ``fit`` would train it with; trains nothing.

        One line per layer (units, activation, weights, biases, parameters),
        the total and the dtype; then (unless ``runner=False``) the runner that
        ``fit`` with these arguments would pick (:mod:`numnet.engine`;
        ``History.runner`` names it after training) and the rule that picks
        it.

        Parameters
        ----------
        batch_size : int, "auto" or None, default "auto"
            As ``fit``'s; ``"auto"`` is 32, or ``n_samples`` when smaller.
        optimizer : str or Optimizer, default "sgd"
            As ``fit``'s.
        loss : str, Loss or None, default None
            As ``fit``'s; None is ``fit``'s default for this network.
        learning_rate : float or None, default None
            As ``fit``'s.
        dropout : float, default 0.0
            As ``fit``'s.
        n_samples : int or None, default None
            Training samples ``fit`` would get, if known.
        sample_weight : bool, default False
            Whether ``fit`` would get sample weights (or class weights).
        runner : bool, default True
            Whether to add the runner's lines; False gives the layers alone.

        Returns
        -------
        str
            The table, one line per row.

        Examples
        --------
        >>> print(MLP(2, [5], 1, random_state=0).summary(batch_size=1))  # doctest: +SKIP
        MLP(2, [5], 1), float64
        layer      units  activation  weights  biases  parameters
        input          2
        hidden 1       5  sigmoid          10       5          15
        output         1  sigmoid           5       1           6
        total                                                  21
        fit(batch_size=1, optimizer='sgd') trains with the compiled per-example runner
          (rule: batch_size == 1 and the kernels cover the configuration)
        """
        sizes = self.layer_sizes
        header = f"{'layer':<10} {'units':>5}  {'activation':<10} {'weights':>8} " \
                 f"{'biases':>7} {'parameters':>11}"
        lines = [f"{type(self).__name__}({self.num_inputs}, {self.hidden_layers}, "
                 f"{self.num_outputs}), {self.dtype}", header, f"{'input':<10} {sizes[0]:>5}"]
        for i, act in enumerate(self.activation_fns):
            name = "output" if i == len(sizes) - 2 else f"hidden {i + 1}"
            weights = sizes[i] * sizes[i + 1]
            biases = sizes[i + 1] if self.biases is not None else 0
            lines.append(f"{name:<10} {sizes[i + 1]:>5}  {act.name:<10} {weights:>8} "
                         f"{biases:>7} {weights + biases:>11}")
        lines.append(f"{'total':<10} {self.num_parameters:>{len(header) - 11}}")
        if not runner:
            return "\n".join(lines)
        rule, size = planned_runner(self, loss=loss, optimizer=optimizer,
                                    learning_rate=learning_rate, batch_size=batch_size,
                                    n_samples=n_samples, dropout=dropout,
                                    sample_weight=sample_weight)
        args = [f"batch_size={size}", "optimizer=" + (repr(optimizer) if isinstance(
            optimizer, str) else type(optimizer).__name__ + "(...)")]
        if loss is not None:
            args.append(f"loss={loss if isinstance(loss, str) else loss.name!r}")
        if dropout:
            args.append(f"dropout={dropout}")
        if sample_weight:
            args.append("sample_weight=...")
        lines.append(f"fit({', '.join(args)}) trains with the {rule.runner} runner")
        lines.append(f"  (rule: {rule.when})")
        return "\n".join(lines)
