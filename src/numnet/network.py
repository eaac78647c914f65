"""The multilayer perceptron: weights, biases, forward and backward passes.

One example, followed through the code: a sample ``x`` enters as a row of
``X`` (n_samples, num_inputs). Each layer computes ``Z = A_prev @ W + b`` and
``A = f(Z)`` (:func:`dense_forward`), keeping ``(A_prev, Z, A)`` in a cache
that :meth:`Network.forward_train` returns. Backward walks the layers right to
left (:func:`dense_backward`): ``dZ = f'(Z) * dA``, ``dW = A_prev.T @ dZ``,
``db = sum(dZ)``, ``dA_prev = dZ @ W.T``. The weight derivative needs the
layer's *input* ``A_prev``, as the tutorial's ``np.dot(current_activations,
delta_re)`` has it.

All parameters live in one contiguous vector (:attr:`Network.flat_parameters`);
``W_i`` and ``b_i`` are views into it. Optimizers can then update a whole
network with a handful of vector operations, and saving is one array.

:class:`Network` is everything the network is and computes; it needs
nothing but the maths beside it. The public :class:`numnet.MLP` adds what
needs the layers above (``fit``, ``evaluate``, the tutorial's ``train``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .activations import Activation, check_hidden, get_activation
from .initializers import check_random_state, default_for, get_initializer
from .losses import Loss, get_loss, normalize_weights, weighted_value
from .validation import (
    check_dtype,
    check_features,
    check_fits_in_memory,
    check_layer_sizes,
    check_nonnegative_float,
    check_positive_int,
    check_sample_weight,
    check_targets,
    largest_magnitude,
)

if TYPE_CHECKING:                      # typing.Self is Python 3.11+; annotations only
    from typing_extensions import Self

__all__ = ["Network", "LayerCache", "dense_forward", "dense_backward", "fused_value",
           "fused_delta", "overflow_message"]

# Activations whose outputs lie in [-1, 1], and those bounded by their input plus 1 (a
# bound on the next layer's input, for Network.check_overflow).
_BOUNDED = frozenset({"sigmoid", "tanh", "softmax"})
_LINEAR_BOUND = frozenset({"identity", "relu", "leaky_relu", "elu", "softplus"})

# Bytes of activations per block when check_overflow runs the forward pass itself.
_OVERFLOW_BLOCK = 1 << 26


def overflow_message(what: str, X: np.ndarray, Y: np.ndarray | None = None) -> str:
    """The message for a quantity that overflowed to inf/NaN, naming the data to scale.

    Parameters
    ----------
    what : str
        The quantity that overflowed, e.g. ``"the loss"``; the message starts with it.
    X : ndarray of shape (n_samples, num_inputs)
        The features; their largest magnitude is given in the message.
    Y : ndarray of shape (n_samples, num_outputs) or None, default None
        The targets, if any. The larger of ``X`` and ``Y`` in magnitude is
        named as the cause (features or targets).

    Returns
    -------
    str
        E.g. ``"the loss overflows the network's arithmetic (inf/NaN) for X
        values up to 1e+300 and y values up to 1; scale the features, ..."``.
    """
    x, y = largest_magnitude(X), largest_magnitude(Y)
    data = f"X values up to {x:.3g}" + ("" if Y is None else f" and y values up to {y:.3g}")
    cause = "features" if Y is None or x >= y else "targets"
    return (f"{what} overflows the network's arithmetic (inf/NaN) for {data}; scale the "
            f"{cause}, e.g. standardise them, so the values are of order 1")


def fused_value(lossfn: Loss, Z: np.ndarray, Y: np.ndarray) -> float:
    """A fused loss's value from the output layer's pre-activation ``Z``.

    Parameters
    ----------
    lossfn : Loss
        A loss fused with the output activation (``lossfn.fused_with``).
    Z : ndarray of shape (n_samples, num_outputs)
        The output layer's pre-activation (logits).
    Y : ndarray of shape (n_samples, num_outputs)
        The targets.

    Returns
    -------
    float
        ``lossfn.value_from_logits(Z, Y)``; a ValueError if the loss has no such form.
    """
    if lossfn.value_from_logits is None:
        raise ValueError(f"loss {lossfn.name!r} is fused with {lossfn.fused_with!r} but has "
                         f"no value_from_logits")
    return lossfn.value_from_logits(Z, Y)


def fused_delta(lossfn: Loss, P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """A fused loss's ``dL/dZ`` of the output layer, from the outputs ``P``.

    Parameters
    ----------
    lossfn : Loss
        A loss fused with the output activation (``lossfn.fused_with``).
    P : ndarray of shape (n_samples, num_outputs)
        The network's outputs.
    Y : ndarray of shape (n_samples, num_outputs)
        The targets.

    Returns
    -------
    ndarray of shape (n_samples, num_outputs)
        ``lossfn.delta(P, Y)``; a ValueError if the loss has no ``delta``.
    """
    if lossfn.delta is None:
        raise ValueError(f"loss {lossfn.name!r} is fused with {lossfn.fused_with!r} but has "
                         f"no delta")
    return lossfn.delta(P, Y)


def _largest_column_sum(W: np.ndarray) -> float:
    """``max_k sum_j |W[j, k]|`` of ``W`` (n_in, n_out), in blocks (no copy of ``W``)."""
    block = 1 << 20
    n_in, n_out = W.shape
    width = min(n_out, block)
    rows = max(1, block // max(1, width))
    largest = 0.0
    for c in range(0, n_out, width):
        sums = np.zeros(min(width, n_out - c), dtype=np.float64)
        for r in range(0, n_in, rows):
            sums += np.abs(W[r:r + rows, c:c + width]).sum(axis=0, dtype=np.float64)
        largest = max(largest, float(sums.max(initial=0.0)))
    return largest


class LayerCache(NamedTuple):
    """What one layer's backward pass needs from its forward pass.

    Other Parameters
    ----------------
    A_prev : ndarray of shape (n_samples, n_in)
        The layer's input.
    Z : ndarray of shape (n_samples, n_out)
        Its pre-activation, ``A_prev @ W + b``.
    A : ndarray of shape (n_samples, n_out)
        Its activation ``f(Z)``, before dropout.
    mask : ndarray of shape (n_samples, n_out) or None
        The inverted-dropout mask (the next layer's input is ``A * mask``),
        or None without dropout.
    """

    A_prev: np.ndarray      # (n, n_in)   the layer's input
    Z: np.ndarray           # (n, n_out)  pre-activation
    A: np.ndarray           # (n, n_out)  activation, before dropout
    mask: np.ndarray | None  # (n, n_out) inverted-dropout mask (next input is A * mask), or None


def dense_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray | None,
                  act: Activation) -> tuple[np.ndarray, np.ndarray]:
    """One dense layer forward: ``Z = A_prev @ W + b`` and ``A = f(Z)``.

    Parameters
    ----------
    A_prev : ndarray of shape (n_samples, n_in)
        The layer's input.
    W : ndarray of shape (n_in, n_out)
        Its weights.
    b : ndarray of shape (n_out,) or None
        Its biases; None for a layer without.
    act : Activation
        Its activation ``f``.

    Returns
    -------
    Z, A : ndarray of shape (n_samples, n_out)
        The pre-activation and the activation.
    """
    Z = A_prev @ W
    if b is not None:
        Z += b
    return Z, act.forward(Z)


def dense_backward(dZ: np.ndarray, A_prev: np.ndarray, W: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One dense layer backward, from ``dZ = dL/dZ`` to the gradients.

    The loss is already averaged over the batch, so no ``1 / n`` here.

    Parameters
    ----------
    dZ : ndarray of shape (n_samples, n_out)
        The gradient of the loss for the layer's pre-activation.
    A_prev : ndarray of shape (n_samples, n_in)
        The layer's input, from the forward pass.
    W : ndarray of shape (n_in, n_out)
        The layer's weights.

    Returns
    -------
    dA_prev : ndarray of shape (n_samples, n_in)
        ``dZ @ W.T``, the gradient for the layer's input.
    dW : ndarray of shape (n_in, n_out)
        ``A_prev.T @ dZ``.
    db : ndarray of shape (n_out,)
        ``dZ`` summed over the samples.
    """
    dW = A_prev.T @ dZ
    db = dZ.sum(axis=0)
    dA_prev = dZ @ W.T
    return dA_prev, dW, db


def _hidden_activations(activation: str | Sequence[str], n_hidden: int) -> list[Activation]:
    """Each hidden layer's activation: one name for all, or a list of one name per layer."""
    if isinstance(activation, str):
        names = [activation] * n_hidden
        get_activation(activation)                   # an unknown name fails without layers too
    else:
        names = list(activation)
        if len(names) != n_hidden or not all(isinstance(n, str) for n in names):
            raise ValueError(f"activation is one name, or a list of one name per hidden layer; "
                             f"got {activation!r:.200} for {n_hidden} hidden layer(s)")
    return [check_hidden(get_activation(name)) for name in names]   # softmax, exp: outputs


def _initializer_names(init: str | Sequence[str] | None, defaults: list[str]) -> list[str]:
    """Each layer's initializer: ``init`` for all, a list of one per layer, or ``defaults``."""
    if init is None:
        return defaults
    names = [init] * len(defaults) if isinstance(init, str) else list(init)
    if len(names) != len(defaults) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"init is one name, or a list of one name per layer (hidden and "
                         f"output); got {init!r:.200} for {len(defaults)} layer(s)")
    for name in names:
        get_initializer(name)                        # an unknown name fails here
    return names


class Network:
    """A fully connected feed-forward network: parameters, forward and backward passes.

    The constructor takes the arguments of :class:`numnet.MLP`, the class
    users build (this one with ``fit``, ``evaluate`` and the tutorial's
    methods); their full documentation, the attributes and the errors raised
    are written there.

    Parameters
    ----------
    num_inputs : int
        Features per sample.
    hidden_layers : sequence of int, default (3,)
        Width of each hidden layer, left to right; ``[]`` for none.
    num_outputs : int, default 1
        Outputs per sample.
    activation : str or list of str, default "sigmoid"
        Hidden-layer activation, or one per hidden layer.
    output_activation : str or None, default None
        Output activation; None means the same as ``activation`` (the last
        hidden layer's, for a list).
    bias : bool, default True
        Whether layers have biases.
    init : str, list of str or None, default None
        Weight initializer, or one per layer; None picks He for the ReLU
        family and Glorot otherwise.
    dtype : {"float64", "float32"}, default "float64"
        Of the parameters and all computation.
    random_state : int, numpy.random.Generator or None, default None
        Seeds the initial weights, then training (:attr:`rng`).

    Examples
    --------
    >>> net = Network(2, [5], 1, random_state=0)
    >>> net.forward([0.1, 0.2]).shape
    (1,)
    >>> net.num_parameters
    21
    """

    def __init__(
        self,
        num_inputs: int,
        hidden_layers: Sequence[int] = (3,),
        num_outputs: int = 1,
        activation: str | Sequence[str] = "sigmoid",
        output_activation: str | None = None,
        bias: bool = True,
        init: str | Sequence[str] | None = None,
        dtype: str | np.dtype = "float64",
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        num_inputs = check_positive_int(num_inputs, "num_inputs")
        hidden = check_layer_sizes(hidden_layers)
        num_outputs = check_positive_int(num_outputs, "num_outputs")
        hidden_acts = _hidden_activations(activation, len(hidden))
        if output_activation is None and not hidden_acts:
            if not isinstance(activation, str):
                raise ValueError("a network without hidden layers takes its output activation "
                                 "from output_activation; give it, e.g. 'identity'")
            output_activation = activation
        output_act = get_activation(output_activation if output_activation is not None
                                    else hidden_acts[-1].name)
        if output_act.name == "softmax" and num_outputs == 1:
            raise ValueError("output_activation='softmax' with num_outputs=1: a softmax over "
                             "one unit is constant (always 1.0) and learns nothing; use "
                             "output_activation='sigmoid' for two classes, or one output per "
                             "class (num_outputs=n_classes) with softmax")
        self.activation_fns: list[Activation] = [*hidden_acts, output_act]
        names = [a.name for a in hidden_acts]
        # by default each hidden layer's initializer suits its activation (He for the ReLU
        # family, Glorot otherwise), and the output layer's suits the last hidden layer's
        last = names[-1] if names else (activation if isinstance(activation, str)
                                        else output_act.name)
        init_names = _initializer_names(init, [default_for(n) for n in [*names, last]])

        self.num_inputs = num_inputs
        self.hidden_layers = hidden
        self.num_outputs = num_outputs
        # one name when every hidden layer has it (or there are none), else one per layer
        self.activation: str | list[str] = names if len(set(names)) > 1 else (
            names[0] if names else output_act.name)
        self.output_activation = output_act.name
        self.bias = bool(bias)
        self.init: str | list[str] = init_names[0] if len(set(init_names)) == 1 else init_names
        self.dtype = check_dtype(dtype)
        self.layer_sizes = [num_inputs, *hidden, num_outputs]

        self.classes_: list[Any] | None = None    # set by fit when it is given class labels
        self.metadata: dict[str, Any] = {}  # saved with the network, restored by numnet.load
        count = self.layer_offsets()[-1][2]
        check_fits_in_memory(count, self.dtype,
                             f"MLP({num_inputs}, {self.hidden_layers}, {num_outputs})")
        self.flat_parameters = np.zeros(count, dtype=self.dtype)
        self.weights, self.biases = self.unflatten(self.flat_parameters)
        rng = check_random_state(random_state)
        for W, (n_in, n_out), name in zip(self.weights, self.shapes, init_names, strict=True):
            W[...] = get_initializer(name)(n_in, n_out, rng, self.dtype)
        self.rng: np.random.Generator | None = None if random_state is None else rng

    # --- structure ---------------------------------------------------------------

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """``(n_in, n_out)`` of each layer's weight matrix."""
        return list(zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True))

    @property
    def num_layers(self) -> int:
        """Layers with weights (hidden layers + the output layer)."""
        return len(self.layer_sizes) - 1

    def layer_offsets(self) -> list[tuple[int, int, int]]:
        """Where each layer lives in :attr:`flat_parameters`: ``(W start, b start or -1, end)``.

        ``W_i`` (row-major) starts at the first, ``b_i`` at the second, and the
        next layer at the third. The one definition of the flat layout.
        """
        offsets: list[tuple[int, int, int]] = []
        start = 0
        for n_in, n_out in self.shapes:
            bias_start = start + n_in * n_out if self.bias else -1
            end = start + n_in * n_out + (n_out if self.bias else 0)
            offsets.append((start, bias_start, end))
            start = end
        return offsets

    def _count(self) -> int:
        return self.layer_offsets()[-1][2]

    @property
    def num_parameters(self) -> int:
        """How many numbers the network learns (weights and biases)."""
        return self.flat_parameters.size

    def unflatten(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        """Views ``([W0, W1, ...], [b0, b1, ...] or None)`` into a flat parameter-sized vector.

        Parameters
        ----------
        flat : ndarray of shape (num_parameters,)
            Laid out as :attr:`flat_parameters` (:meth:`layer_offsets`), e.g. a
            flat gradient.

        Returns
        -------
        weights : list of ndarray
            ``W_i`` of shape ``(layer_sizes[i], layer_sizes[i + 1])``, views into ``flat``.
        biases : list of ndarray or None
            ``b_i`` of shape ``(layer_sizes[i + 1],)``, views; None without bias.
        """
        weights, biases = [], []
        for (n_in, n_out), (w, b, end) in zip(self.shapes, self.layer_offsets(), strict=True):
            weights.append(flat[w:w + n_in * n_out].reshape(n_in, n_out))
            if self.bias:
                biases.append(flat[b:end])
        return weights, (biases if self.bias else None)

    def _interleave(self, weights: list[np.ndarray], biases: list[np.ndarray] | None
                    ) -> list[np.ndarray]:
        if biases is None:
            return list(weights)
        return [p for pair in zip(weights, biases, strict=True) for p in pair]

    def parameter_names(self) -> list[str]:
        """``["W0", "b0", "W1", "b1", ...]`` (no ``b`` without bias), as :meth:`parameters`."""
        return [name for i in range(self.num_layers)
                for name in ((f"W{i}", f"b{i}") if self.bias else (f"W{i}",))]

    def parameters(self) -> list[np.ndarray]:
        """``[W0, b0, W1, b1, ...]`` (``[W0, W1, ...]`` without bias): views, updated in place."""
        return self._interleave(self.weights, self.biases)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this architecture (JSON-safe)."""
        return copy.deepcopy({                   # activation and init may be lists
            "num_inputs": self.num_inputs, "hidden_layers": list(self.hidden_layers),
            "num_outputs": self.num_outputs, "activation": self.activation,
            "output_activation": self.output_activation, "bias": self.bias,
            "init": self.init, "dtype": self.dtype.name,
        })

    def copy(self) -> Self:
        """An independent network with the same architecture and weights."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.hidden_layers = list(self.hidden_layers)
        twin.layer_sizes = list(self.layer_sizes)
        twin.activation_fns = list(self.activation_fns)
        twin.activation, twin.init = copy.copy(self.activation), copy.copy(self.init)
        twin.classes_ = None if self.classes_ is None else list(self.classes_)
        twin.metadata = copy.deepcopy(self.metadata)
        twin.rng = copy.deepcopy(self.rng)       # the copy trains as the original would
        twin.flat_parameters = self.flat_parameters.copy()
        twin.weights, twin.biases = twin.unflatten(twin.flat_parameters)
        return twin

    def astype(self, dtype: str | np.dtype) -> Self:
        """A copy of this network with parameters (and all later computation) in ``dtype``.

        Parameters
        ----------
        dtype : {"float64", "float32"} or numpy.dtype
            The copy's dtype.

        Returns
        -------
        Network
            An independent copy, of this network's class.
        """
        twin = self.copy()
        twin.dtype = check_dtype(dtype)
        twin.flat_parameters = self.flat_parameters.astype(twin.dtype)
        twin.weights, twin.biases = twin.unflatten(twin.flat_parameters)
        return twin

    def __repr__(self) -> str:
        extra = "" if self.output_activation == self.activation else \
            f", output_activation={self.output_activation!r}"
        return (f"{type(self).__name__}({self.num_inputs}, {self.hidden_layers}, "
                f"{self.num_outputs}, "
                f"activation={self.activation!r}{extra}, bias={self.bias}, "
                f"dtype={self.dtype.name!r})")

    # --- forward ------------------------------------------------------------------

    def forward_train(self, X: np.ndarray, dropout: float = 0.0,
                      rng: np.random.Generator | None = None
                      ) -> tuple[np.ndarray, list[LayerCache]]:
        """Forward pass that also returns what backward needs.

        Parameters
        ----------
        X : ndarray of shape (n_samples, num_inputs)
            Already validated, in the network's dtype.
        dropout : float, default 0.0
            With ``dropout > 0`` each hidden unit is zeroed with that
            probability and survivors are scaled by ``1 / (1 - dropout)``
            (inverted dropout), so inference needs no change.
        rng : numpy.random.Generator or None, default None
            Draws the dropout masks; required when ``dropout > 0``.

        Returns
        -------
        A : ndarray of shape (n_samples, num_outputs)
            The outputs.
        cache : list of LayerCache
            One per layer, for :meth:`backward`.
        """
        cache: list[LayerCache] = []
        A = X
        last = self.num_layers - 1
        for i, (W, act) in enumerate(zip(self.weights, self.activation_fns, strict=True)):
            b = self.biases[i] if self.biases is not None else None
            A_prev = A
            Z, A = dense_forward(A_prev, W, b, act)
            mask = None
            if dropout > 0.0 and i < last:
                if rng is None:
                    raise ValueError("dropout needs a random generator: pass rng")
                keep = 1.0 - dropout
                mask = (rng.random(A.shape) < keep).astype(self.dtype) * (1.0 / keep)
            cache.append(LayerCache(A_prev, Z, A, mask))
            if mask is not None:
                A = A * mask
        return A, cache

    def forward(self, X: Any) -> np.ndarray:
        """Outputs for inputs ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, num_inputs), (num_inputs,) or scalar
            A 1-D input of ``num_inputs`` values is one sample. For a
            one-input network a flat sequence of ``n`` values is ``n``
            samples (as ``X.reshape(-1, 1)``), and one value is one sample.

        Returns
        -------
        ndarray of shape (n_samples, num_outputs)
            The outputs; ``(num_outputs,)`` for one sample, and a scalar for a
            scalar input to a one-output network. A flat sequence of ``n``
            values to a one-input network gives ``(n, num_outputs)``, as for
            any batch.

        Raises
        ------
        ValueError
            For NaN or infinite inputs, and for finite inputs so large that a
            layer's weighted sums overflow to inf (e.g. 1.7e308): the outputs
            would not be numbers, so the error names the largest input and
            says to scale the features. No NumPy RuntimeWarning is emitted.
        """
        X2, single = check_features(X, self.num_inputs, self.dtype,
                                    finite=not self._pass_checks_inputs)
        A = self._forward_checked(X2)
        if single:
            return A[0, 0] if np.ndim(X) == 0 and self.num_outputs == 1 else A[0]
        return A

    # whether _forward_checked refuses non-finite inputs itself, so forward need not
    # look at them first (MLP's inference path does)
    _pass_checks_inputs = False

    def _forward_checked(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        """Outputs ``(n, num_outputs)`` for validated ``X``, or the ValueError of :meth:`forward`.

        Each layer's weighted sums are checked before its activation, so an overflow
        hidden by a saturating activation (a sigmoid of inf is a finite 1.0) is caught
        too; floating-point flags alone miss it when BLAS sums on threads of its own.
        The outputs are then checked once (NaN parameters propagate quietly).
        """
        A = X
        try:
            with np.errstate(over="raise", invalid="raise"):
                for i, (W, act) in enumerate(zip(self.weights, self.activation_fns,
                                                 strict=True)):
                    b = self.biases[i] if self.biases is not None else None
                    Z, A = dense_forward(A, W, b, act)
                    if not np.isfinite(Z).all():
                        raise FloatingPointError
        except FloatingPointError:
            raise self._overflow_error(X, name) from None
        if not np.isfinite(A).all():
            raise self._overflow_error(X, name)
        return A

    def _overflow_error(self, X: np.ndarray, name: str) -> ValueError:
        """The error for a forward pass of finite ``X`` that stopped being finite."""
        bad = int(np.size(self.flat_parameters) - np.count_nonzero(
            np.isfinite(self.flat_parameters)))
        if bad:
            return ValueError(f"the network's parameters hold {bad} NaN or infinite value(s), "
                              f"so its outputs are not numbers; retrain it or load a saved copy")
        return ValueError(f"{name} values up to {largest_magnitude(X):.3g} overflow the network's "
                          f"arithmetic (its weighted sums reach inf); scale the features, e.g. "
                          f"standardise them, so the values are of order 1")

    def check_overflow(self, X: np.ndarray, name: str = "X") -> None:
        """Raise :meth:`forward`'s ValueError if validated ``X`` overflows the network.

        Cheap when it cannot: a bound on every layer's weighted sums, from the
        largest ``|x|`` and the weights, is checked first; only when the bound
        reaches the float range does the forward pass run (in blocks of rows
        whose activations take at most 64 MiB).

        Parameters
        ----------
        X : ndarray of shape (n_samples, num_inputs)
            Already validated, in the network's dtype.
        name : str, default "X"
            What the error message calls the inputs.
        """
        with np.errstate(over="ignore", invalid="ignore"):      # huge weights: no bound
            if self._overflow_impossible(largest_magnitude(X)):
                return
        per_row = 2 * self.dtype.itemsize * sum(self.layer_sizes[1:])
        rows = max(1, min(len(X), _OVERFLOW_BLOCK // per_row))
        for start in range(0, len(X), rows):
            self._forward_checked(X[start:start + rows], name)

    def _overflow_impossible(self, scale: float) -> bool:
        """Whether inputs with ``|x| <= scale`` provably keep every weighted sum finite.

        ``|z_k| <= max|a| * sum_j |W_jk| + max|b|`` for each layer, with ``max|a|``
        bounded by the activation before it (1 for sigmoid/tanh/softmax, the
        bound plus 1 for the others that grow at most linearly).
        """
        limit = float(np.finfo(self.dtype).max) / 16       # room for the activations' own steps
        bound = scale
        for i, (W, act) in enumerate(zip(self.weights, self.activation_fns, strict=True)):
            reach = bound * _largest_column_sum(W)
            if self.biases is not None:
                reach += largest_magnitude(self.biases[i])
            if not reach < limit:                           # also False for NaN
                return False
            if act.name in _BOUNDED:
                bound = 1.0
            elif act.name in _LINEAR_BOUND:
                bound = reach + 1.0
            else:
                return False
        return True

    def predict(self, X: Any) -> np.ndarray:
        """Class labels when the network was fitted on labels, else :meth:`forward`'s outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, num_inputs) or (num_inputs,)
            The inputs, in any form :meth:`forward` takes.

        Returns
        -------
        ndarray of shape (n_samples,)
            The labels (from :attr:`classes_`; a single label for one sample),
            or, for a network not fitted on labels, the outputs as
            :meth:`forward` gives them.

        Raises
        ------
        ValueError
            :meth:`forward`'s errors (finite inputs that overflow included).
        """
        if self.classes_ is None:
            return self.forward(X)
        P = self.predict_proba(X)
        classes = np.asarray(self.classes_)
        labels = classes[np.argmax(P, axis=-1)]
        return labels

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, from a softmax or sigmoid output.

        Parameters
        ----------
        X : array-like of shape (n_samples, num_inputs) or (num_inputs,)
            The inputs, in any form :meth:`forward` takes.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``(n_classes,)`` for one sample. A single sigmoid unit gives the
            two columns ``[1 - p, p]``; several sigmoid units are independent
            labels, one column each.

        Raises
        ------
        ValueError
            For an output activation other than softmax or sigmoid, and
            :meth:`forward`'s errors (finite inputs that overflow included).
        """
        if self.output_activation not in ("softmax", "sigmoid"):
            raise ValueError(
                f"predict_proba needs a softmax or sigmoid output, this network's is "
                f"{self.output_activation!r}; build it with output_activation='softmax'"
            )
        P = self.forward(X)
        if self.output_activation == "sigmoid" and self.num_outputs == 1:
            P = np.concatenate([1.0 - P, P], axis=-1) if P.ndim else np.array([1.0 - P, P])
        return P

    # --- backward ---------------------------------------------------------------------

    def backward(self, dA: np.ndarray, cache: list[LayerCache],
                 output_delta: bool = False) -> tuple[list[np.ndarray], np.ndarray]:
        """Backpropagate ``dA = dL/dA_out`` through the cached pass.

        Parameters
        ----------
        dA : ndarray of shape (n_samples, num_outputs)
            The gradient of the loss for the outputs.
        cache : list of LayerCache
            What :meth:`forward_train` returned for the same samples.
        output_delta : bool, default False
            Whether ``dA`` is already ``dL/dZ_out``, the gradient for the
            output layer's pre-activation (a fused loss).

        Returns
        -------
        grads : list of ndarray
            In :meth:`parameters` order, each the shape of its parameter.
        dX : ndarray of shape (n_samples, num_inputs)
            ``dL/dX``.
        """
        flat, dX = self.backward_flat(dA, cache, output_delta)
        return self._interleave(*self.unflatten(flat)), dX

    def backward_flat(self, dA: np.ndarray, cache: list[LayerCache], output_delta: bool = False,
                      out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`backward` into one flat gradient vector, and ``dX``.

        Parameters
        ----------
        dA : ndarray of shape (n_samples, num_outputs)
            The gradient of the loss for the outputs.
        cache : list of LayerCache
            What :meth:`forward_train` returned for the same samples.
        output_delta : bool, default False
            Whether ``dA`` is already ``dL/dZ_out`` (a fused loss).
        out : ndarray of shape (num_parameters,) or None, default None
            Receives the gradient, if given; else a new array is made.

        Returns
        -------
        flat : ndarray of shape (num_parameters,)
            The gradient, laid out as :attr:`flat_parameters`.
        dX : ndarray of shape (n_samples, num_inputs)
            ``dL/dX``.
        """
        flat = np.empty_like(self.flat_parameters) if out is None else out
        dWs, dbs = self.unflatten(flat)
        delta = dA                                  # dL/d(this layer's output)
        for i in range(self.num_layers - 1, -1, -1):
            layer = cache[i]
            if i == self.num_layers - 1 and output_delta:
                dZ = delta
            else:
                if layer.mask is not None:
                    delta = delta * layer.mask      # back through dropout
                dZ = self.activation_fns[i].backward(layer.Z, layer.A, delta)
            delta, dWs[i][...], db = dense_backward(dZ, layer.A_prev, self.weights[i])
            if dbs is not None:
                dbs[i][...] = db
        return flat, delta

    def loss_and_gradients(self, X: Any, y: Any, loss: str | Loss = "mse", l2: float = 0.0,
                           sample_weight: Any = None) -> tuple[float, list[np.ndarray]]:
        """The loss on ``(X, y)`` and its gradient for every parameter.

        Parameters
        ----------
        X : array-like of shape (n_samples, num_inputs)
            The inputs.
        y : array-like of shape (n_samples, num_outputs)
            Targets (one-hot for categorical cross-entropy).
        loss : str or Loss, default "mse"
            A name from :mod:`numnet.losses`, or a :class:`~numnet.losses.Loss`.
        l2 : float, default 0
            Adds ``0.5 * l2 * sum(W ** 2)`` over weights (not biases).
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights: the loss becomes the weighted mean over samples.

        Returns
        -------
        loss : float
            The mean loss (plus the L2 penalty).
        grads : list of ndarray
            ``dL/dp`` for each ``p`` in :meth:`parameters`, same shapes and dtype.

        Raises
        ------
        ValueError
            Besides bad input, when finite ``X`` or ``y`` make the outputs, the
            loss or a gradient overflow to inf/NaN (values near the float
            range); the message names the features or the targets to scale.
        """
        X2, _ = check_features(X, self.num_inputs, self.dtype)
        Y = check_targets(y, X2.shape[0], self.num_outputs, self.dtype)
        lossfn = get_loss(loss)
        l2 = check_nonnegative_float(l2, "l2")
        weights = None
        if sample_weight is not None:
            weights = check_sample_weight(sample_weight, X2.shape[0], self.dtype)
        self.check_overflow(X2)
        with np.errstate(over="ignore", invalid="ignore"):
            value, flat = self.loss_and_flat_gradient(X2, Y, lossfn, l2, sample_weight=weights)
            finite = bool(np.isfinite(value) and np.isfinite(flat).all())
        if not finite:
            raise ValueError(overflow_message("the loss or its gradient", X2, Y))
        return value, self._interleave(*self.unflatten(flat))

    def loss_and_flat_gradient(self, X: np.ndarray, Y: np.ndarray, lossfn: Loss,
                               l2: float = 0.0, dropout: float = 0.0,
                               rng: np.random.Generator | None = None,
                               out: np.ndarray | None = None,
                               sample_weight: np.ndarray | None = None
                               ) -> tuple[float, np.ndarray]:
        """:meth:`loss_and_gradients` on validated arrays, as one flat gradient vector.

        Parameters
        ----------
        X : ndarray of shape (n_samples, num_inputs)
            Validated, in the network's dtype.
        Y : ndarray of shape (n_samples, num_outputs)
            Validated targets, in the network's dtype.
        lossfn : Loss
            The loss; used fused with the output activation when it is
            ``lossfn.fused_with``.
        l2 : float, default 0.0
            Adds ``0.5 * l2 * sum(W ** 2)`` over weights (not biases).
        dropout : float, default 0.0
            Inverted dropout on the hidden units, as in :meth:`forward_train`.
        rng : numpy.random.Generator or None, default None
            Draws the dropout masks; required when ``dropout > 0``.
        out : ndarray of shape (num_parameters,) or None, default None
            Receives the gradient, if given.
        sample_weight : ndarray of shape (n_samples,) or None, default None
            Weights each sample's term of the loss (weighted mean): the
            gradient rows are scaled by the weights rescaled to mean 1.

        Returns
        -------
        loss : float
            The loss (plus the L2 penalty).
        flat : ndarray of shape (num_parameters,)
            Its gradient, laid out as :attr:`flat_parameters`.
        """
        P, cache = self.forward_train(X, dropout, rng)
        fused = lossfn.fused_with == self.output_activation
        dA = fused_delta(lossfn, P, Y) if fused else lossfn.gradient(P, Y)
        if sample_weight is not None:
            w = normalize_weights(sample_weight)
            value = weighted_value(lossfn, P, Y, w, cache[-1].Z if fused else None)
            dA *= w[:, None]
        elif fused:
            value = fused_value(lossfn, cache[-1].Z, Y)
        else:
            value = lossfn.value(P, Y)
        flat, _ = self.backward_flat(dA, cache, fused, out)
        if l2:
            value += 0.5 * l2 * sum(float(np.vdot(W, W)) for W in self.weights)
            for W, dW in zip(self.weights, self.unflatten(flat)[0], strict=True):
                dW += l2 * W
        return value, flat
