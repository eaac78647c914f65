"""Why a run failed, measured: the data's scale, the learning rate, saturated units.

:class:`DivergenceGuard` words its stop reason with :func:`advice`, and
:func:`fit` ends with :func:`learned_nothing`, which warns (a
:class:`TrainingWarning`) about a run that finished without learning anything
and can name why. Both look at what was measured, so the advice is the fix:
standardise data on a large scale, lower a rate that drove the units into
saturation, centre weights that saturated the units before training began.
"""

from __future__ import annotations

import inspect
import math
from typing import NamedTuple

import numpy as np

from numnet.baselines import Baseline, best_constant
from numnet.engine.inference import forward
from numnet.initializers import RELU_FAMILY, default_for, weight_std
from numnet.losses import Loss
from numnet.network import LayerCache, Network
from numnet.optimizers import Optimizer
from numnet.validation import largest_magnitude

from .evaluation import loss_from

__all__ = ["TrainingWarning", "Probe", "probe", "Start", "begin", "advice", "scale_cause",
           "weights_cause", "rate_advice", "learned_nothing", "PROBE_SAMPLES"]

# How many training samples the checks before and after training look at (the first ones).
PROBE_SAMPLES = 256

# The activations a probe may hold at once (bytes), unless a training batch takes more.
PROBE_MEMORY = 1 << 26

# Data whose largest magnitude reaches this is named as the cause of a failed run. Measured
# (sum_of_two, MLP(2, [16], 1), identity output, 20 epochs, default rates, features or
# targets multiplied by 10**k): every tanh, sigmoid and relu net with sgd and adam trained
# at 1e0 and 1e1; from 1e2 the sgd/relu runs diverged (features) and adam's loss stopped
# falling (targets 1e2: 59% of the starting loss left, 1e3: 95%).
LARGE_DATA = 1e2

# Rates above this are far outside what any of numnet's optimizers trains with; advice
# then suggests the optimizer's default rather than one tenth of the rate.
HIGH_RATE = 1.0

# A unit is saturated when its output is within this of its bound (0 or 1 for sigmoid
# and softmax, -1 or 1 for tanh): its derivative is then below ~1e-6 and it stops
# learning. Measured at learning_rate=1e6 (iris, moons, xor, spirals, breast cancer;
# sigmoid, tanh and relu hidden layers; batch 1 and 32): every output of the runs that
# learned nothing was within 4e-83 of its bound, far inside this one.
SATURATION_GAP = 1e-6

# The share of a layer's outputs (all outputs of a row, for the output layer) that must be
# saturated for the layer to count as saturated. Measured: 1.00 for the output layer of
# the saturated runs above; 0.00 for every layer, before and after, of the 526 ordinary
# runs (of 1679) whose loss alone says they learned nothing (one epoch, tiny rates); at
# most 0.53 pinned rows (right and confident) in the ordinary runs that learned.
SATURATED_SHARE = 0.9

# The share of a ReLU hidden layer's units that are 0 on every probed row ("dead": they get
# no gradient, so they never come back) above which a run that learned nothing is said to
# have lost them. Measured (sum_of_two-like, sine and linear targets; MLP(n, [32, 32], m)
# relu; sgd and adam at rates 0.001-1; 20 epochs; seeds 0-1): 0.97-1.0 in the runs that
# learned nothing (adam at 1.0), at most 0.91 in a layer of the runs that learned.
DEAD_SHARE = 0.9

# Rows the probe must have seen for a unit at 0 on all of them to count as dead (on a few
# rows, a unit is 0 on all of them by chance).
DEAD_ROWS = 32

# A loss "not below" a reference is at least this fraction of it (1% for float noise).
NOT_BELOW = 0.99

# Outputs "the same for every input": their spread over the probed rows (standard deviation,
# per output, the largest) below this fraction of the targets'. Measured (1 - x, sum_of_two,
# sine; MLP(1, [3], 1), MLP(2, [5], 1), MLP(1, [16, 16], 1) tanh, MLP(1, [64] * 3, 1) relu;
# seeds 0-1, before and after 3 epochs of per-example SGD 0.1): 0.017-2 for those networks;
# 6e-8 to 1e-5 for the tutorial's deep network MLP(1, [1024] * 5, 1).
CONSTANT_OUTPUT = 1e-3

# The first layer's weight gradient against the output layer's (Frobenius norms) below
# which the early layers are said not to learn. Measured on the same runs: 0.038-1.2 for the
# small networks; 3e-5 to 5e-5 for the deep one after training (6e-4 before, at worst).
VANISHING = 1e-3


class TrainingWarning(UserWarning):
    """A :func:`numnet.fit` that ran but learned nothing; the message names why and the fix."""


class Probe(NamedTuple):
    """The loss on a few training samples, and how saturated or dead the units are, at one
    moment."""

    loss: float
    pinned: float       # share of rows whose sigmoid/softmax outputs are all at 0 or 1
    saturated: float    # the largest share of saturated units in a tanh/sigmoid hidden layer
    dead: float = 0.0   # the largest share of a ReLU hidden layer's units at 0 on every row

    @property
    def is_saturated(self) -> bool:
        """Whether the outputs are pinned, or a hidden layer is saturated, almost everywhere."""
        return max(self.pinned, self.saturated) >= SATURATED_SHARE


def _saturated_share(name: str, A: np.ndarray, rows: bool = False) -> float:
    """Share of ``A`` (n, units) at its activation's bound (of rows entirely so, with ``rows``)."""
    if name in ("sigmoid", "softmax"):
        at_bound = (A <= SATURATION_GAP) | (A >= 1.0 - SATURATION_GAP)
    elif name == "tanh":
        at_bound = np.abs(A) >= 1.0 - SATURATION_GAP
    else:
        return 0.0
    counted = at_bound.all(axis=1) if rows else at_bound
    return np.count_nonzero(counted) / max(1, np.size(counted))


def _probe_block(net: Network, X: np.ndarray, Y: np.ndarray, lossfn: Loss,
                 saturation: bool) -> Probe:
    P, cache = net.forward_train(X)
    loss = loss_from(net, P, cache, Y, lossfn)
    if not saturation:
        return Probe(loss, 0.0, 0.0)
    *hidden, pinned = _layer_shares(net, P, cache)
    dead = [float(np.mean(~(layer.A > 0).any(axis=0)))
            for layer, act in zip(cache[:-1], net.activation_fns[:-1], strict=True)
            if act.name == "relu"]
    return Probe(loss, pinned, max(hidden, default=0.0), max(dead, default=0.0))


def _block_rows(net: Network, n: int, batch_size: int) -> int:
    """Rows of ``n`` whose activations fit in :data:`PROBE_MEMORY` (a batch's at least)."""
    per_row = 2 * net.dtype.itemsize * sum(net.layer_sizes[1:])
    return max(1, min(n, max(batch_size, PROBE_MEMORY // per_row)))


def probe(net: Network, X: np.ndarray, Y: np.ndarray, lossfn: Loss, batch_size: int = 1,
          saturation: bool = True) -> Probe:
    """The loss and saturation of ``net`` now on the first :data:`PROBE_SAMPLES` rows of
    validated ``X`` (n, num_inputs) and ``Y`` (n, num_outputs).

    In one block, or for a wide network in blocks of ``batch_size`` rows or
    more that keep the activations under :data:`PROBE_MEMORY` bytes (training
    takes a batch's anyway); each block is weighted by its rows. Without
    ``saturation`` only the loss is measured (the shares are 0). A ReLU unit
    counts as dead when it is 0 on every probed row.
    """
    n = min(len(X), PROBE_SAMPLES)
    step = _block_rows(net, n, batch_size)
    blocks = [(len(X[i:i + step]),
               _probe_block(net, X[i:i + step], Y[i:i + step], lossfn, saturation))
              for i in range(0, n, step)]
    loss, pinned, saturated = (sum(rows * p[f] for rows, p in blocks) / n for f in range(3))
    # a unit is dead when it is 0 on every row: at most as many as in any one block
    return Probe(loss, pinned, saturated, min(p.dead for _, p in blocks))


class Start(NamedTuple):
    """What ``fit`` keeps of the network before training: its loss on the probed rows
    (:data:`PROBE_SAMPLES`), its parameters, and its :func:`probe` when that was taken.

    The whole probe (saturation, dead units) is only needed for a run that may
    have learned nothing, so it is taken then, from ``parameters``.
    """

    loss: float
    parameters: np.ndarray      # (num_parameters,) a copy, as before training
    probe: Probe | None = None


def begin(net: Network, X: np.ndarray, Y: np.ndarray, lossfn: Loss, batch_size: int = 1
          ) -> Start:
    """:class:`Start` of ``net`` on validated ``X`` (n, num_inputs) and ``Y`` (n, num_outputs)."""
    loss = _output_loss(net, X, Y, lossfn)
    if loss is None:
        whole = probe(net, X, Y, lossfn, batch_size)
        return Start(whole.loss, net.flat_parameters.copy(), whole)
    return Start(loss, net.flat_parameters.copy())


def _output_loss(net: Network, X: np.ndarray, Y: np.ndarray, lossfn: Loss) -> float | None:
    """The loss on the probed rows from the outputs of the inference path (no per-layer
    bookkeeping: 10 µs instead of 70 for 10 rows of a 2-5-1 network); None for a loss
    fused with the output activation, which :func:`probe` computes from the logits."""
    if lossfn.fused_with is not None and lossfn.fused_with == net.output_activation:
        return None
    n = PROBE_SAMPLES
    try:
        P = forward(net, X[:n])
    except ValueError:                      # weights that overflow (a divergence)
        return math.inf
    return float(lossfn.value(P, Y[:n]))


def _probe_at(parameters: np.ndarray, net: Network, X: np.ndarray, Y: np.ndarray,
              lossfn: Loss, batch_size: int) -> Probe:
    """:func:`probe` of ``net`` with ``parameters`` in place of its own, which it keeps."""
    now = net.flat_parameters.copy()
    net.flat_parameters[...] = parameters
    try:
        return probe(net, X, Y, lossfn, batch_size)
    finally:
        net.flat_parameters[...] = now


def _order(value: float) -> str:
    """``1.2e6`` -> ``"1e6"``: the power of ten nearest ``value``."""
    return f"1e{round(math.log10(value))}"


def scale_cause(X: np.ndarray | None, Y: np.ndarray | None, *, features_always: bool = False
                ) -> str | None:
    """``"the targets are on a scale of ~1e6 (largest |y| 1.2e+06): standardise them (...)"``.

    None when neither the features nor the targets reach :data:`LARGE_DATA`.
    ``features_always`` names the features whatever their scale (units that
    were saturated before training say that the inputs are too large).
    """
    x, y = largest_magnitude(X), largest_magnitude(Y)
    found = []
    if x >= LARGE_DATA or (features_always and x > 0):
        found.append(("features", "x", x))
    if y >= LARGE_DATA:
        found.append(("targets", "y", y))
    if not found:
        return None
    if len(found) == 1:
        what, sym, m = found[0]
        scale = f"the {what} are on a scale of ~{_order(m)} (largest |{sym}| {m:.3g})"
    else:
        scale = (f"the features and targets are on scales of ~{_order(x)} and ~{_order(y)} "
                 f"(largest |x| {x:.3g}, |y| {y:.3g})")
    return (f"{scale}: standardise them (numnet train does unless --no-scale; in Python "
            f"numnet.preprocessing.Preprocessing or scikit-learn's StandardScaler)")


def _default_rate(opt: Optimizer) -> float | None:
    """The optimizer class's default ``learning_rate``, or None when it has none."""
    try:
        default = inspect.signature(type(opt)).parameters["learning_rate"].default
    except (KeyError, TypeError, ValueError):
        return None
    return float(default) if isinstance(default, (int, float)) and default > 0 else None


def rate_advice(opt: Optimizer) -> str:
    """``"try learning_rate=0.3 instead of 3"``: a tenth of the rate, or the default when
    a tenth is still above :data:`HIGH_RATE`."""
    lr = opt.learning_rate
    suggestion, why = lr / 10, ""
    if suggestion > HIGH_RATE:
        default = _default_rate(opt)
        suggestion = default if default is not None else 0.01
        why = f" ({type(opt).__name__.lower()}'s default)" if default is not None else ""
    return f"try learning_rate={suggestion:.3g}{why} instead of {lr:.3g}"


def advice(X: np.ndarray | None, Y: np.ndarray | None, opt: Optimizer) -> str:
    """What to do after a divergence: standardise data on a large scale, else lower the rate.

    Both when the data is large and the rate is above :data:`HIGH_RATE`.
    """
    scale = scale_cause(X, Y)
    if scale is None:
        return rate_advice(opt)
    if opt.learning_rate > HIGH_RATE:
        return f"{scale}; and {rate_advice(opt)}"
    return scale


def _trivial_loss(Y: np.ndarray, lossfn: Loss) -> float | None:
    """The loss of always predicting the best constant for it (the mean target, the class
    shares; the median for mae: :mod:`numnet.baselines`), or None when the targets are all
    the same (a constant is then the answer, not a baseline)."""
    if len(Y) == 0 or not np.ptp(Y, axis=0).any():
        return None
    constant = best_constant(Y, lossfn)              # Baseline.fit(Y).score(Y), without
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):   # its messages
        return float(lossfn.value(np.tile(constant, (len(Y), 1)), Y))


def _relu_fix(net: Network) -> str:
    """``"activation='relu', output_activation='sigmoid' (...)"``: ReLU hidden layers for
    ``net``, its output activation kept (with ``activation=`` alone an ``MLP``'s output
    follows its hidden layers), and biases when it has none.

    Measured on the tutorial's deep network (1 - x, 64 samples, 2 epochs of
    per-example SGD at 0.05): a ReLU output gave 0 for every input from the
    start and learned nothing; ReLU hidden layers and a sigmoid output reached
    a test error of 0.035 with biases against the constant prediction's 0.084,
    and without them 0.065-0.075, worse than before training (0.064): without
    biases ReLU layers cannot shift their outputs.
    """
    bias = "" if net.bias else ", bias=True"
    why = "ReLU layers take He initialisation by default" + \
        ("" if net.bias else ", and need biases to shift their outputs")
    return f"activation='relu', output_activation={net.output_activation!r}{bias} ({why})"


def _constant_output(net: Network, X: np.ndarray, Y: np.ndarray, lossfn: Loss) -> str | None:
    """``"the network gives the same output for every input ...; try ..."``, or None.

    Said when the outputs hardly vary over ``X`` (:data:`CONSTANT_OUTPUT`) and
    the gradients say why: in a network with two hidden layers or more, the
    first layer's weight gradient against the output layer's
    (:data:`VANISHING`) shows them vanishing on their way back. A constant
    output alone is what short runs and tiny rates give too: nothing is said.

    The fix named is ReLU hidden layers with the output activation kept
    (:func:`_relu_fix`), or fewer layers. Measured (1 - x, sigmoid MLP(1,
    [1024] * 5, 1), 200 samples, an epoch of per-example SGD at 0.1): ReLU
    hidden layers and a sigmoid output reached a loss of 0.020 against the
    constant prediction's 0.091; one hidden layer gave no constant output;
    Adam at its default rate pinned every output at 0 or 1, and at 1e-4 gave
    one output for every input again.
    """
    if len(net.weights) < 3:
        return None         # a short run or a tiny rate, as often as anything: nothing said
    P = net.forward_train(X)[0]
    spread = float(np.max(P.std(axis=0)))
    target = float(np.max(Y.std(axis=0)))
    if not target > 0 or spread >= CONSTANT_OUTPUT * target:
        return None
    _, grads = net.loss_and_gradients(X, Y, lossfn)
    per_layer = grads[::2] if net.biases is not None else grads
    first, last = (float(np.linalg.norm(per_layer[i])) for i in (0, -1))
    if not (last > 0 and first < VANISHING * last):
        return None
    said = (f"the network gives the same output for every input (its outputs spread "
            f"{spread:.2g}, the targets {target:.2g})")
    kinds = sorted({a.name for a in net.activation_fns[:-1]})
    why = (f"{said}: the first layer's gradients are {first / last:.1g} of the output "
           f"layer's, so the early layers do not learn (the gradients vanish through "
           f"{len(net.weights) - 1} {'/'.join(kinds)} layers)")
    if set(kinds) <= RELU_FAMILY:
        return why
    return f"{why}; try {_relu_fix(net)}, or fewer layers"


# The number of sigmoid or tanh hidden layers from which a network whose weights are centred
# again may still learn nothing: its gradients vanish on their way back. Measured (per-example
# SGD, 1-3 epochs, the default initialisation): the constant-output warning for sigmoid
# MLP(1, [1024] * 5, 1) on 1 - x, MLP(2, [256] * 3, 1) on sum_of_two, [256] * 4 on both;
# ReLU hidden layers with biases and a sigmoid output learned the first (a test error below
# the constant prediction's: _relu_fix). Two tanh layers of 16 learn (CONSTANT_OUTPUT's runs).
DEEP_SQUASHING = 3

# The share of a layer's units (rows, for the output layer) still saturated on the features
# standardised from which the weights are named as the cause of a saturation before training.
# Measured (1 - x, sum_of_two; MLP(1, [1024] * 5, 1) and MLP(2, [256] * 3, 1), sigmoid, and
# ReLU with a sigmoid output; init="uniform" and the default; features as drawn and times
# 1e3): 1.0 for the sigmoid networks on init="uniform", 0.62 and 0.79 for the ReLU ones (the
# output's rows; rows whose inputs sum below 0 give 0.5); 0.0 on the default initialisation,
# where features times 1e3 saturated every layer.
STILL_SATURATED = 0.1


def _layer_shares(net: Network, P: np.ndarray, cache: list[LayerCache]) -> list[float]:
    """Each layer's saturated share in a forward pass (``P`` (n, num_outputs) and its
    ``cache``): a hidden layer's units, then the output layer's rows with every output at
    a bound."""
    shares = [_saturated_share(act.name, layer.A)
              for layer, act in zip(cache[:-1], net.activation_fns[:-1], strict=True)]
    return [*shares, _saturated_share(net.output_activation, P, rows=True)]


def _signs(values: np.ndarray) -> str | None:
    """``"all positive"`` or ``"all negative"`` when ``values`` are, else None."""
    if values.size and values.min() >= 0 and values.max() > 0:
        return "all positive"
    if values.size and values.max() <= 0 and values.min() < 0:
        return "all negative"
    return None


def weights_cause(net: Network, X: np.ndarray, batch_size: int = 1) -> str | None:
    """``"on the features standardised, 100% of hidden layer 2's units stay saturated: ...;
    leave init at its default ..."``, or None.

    For a network whose units are saturated on validated ``X`` (n, num_inputs):
    the same network is run on the features standardised (each column to mean
    0 and standard deviation 1, on the rows :func:`probe` reads at once). When
    :data:`STILL_SATURATED` or more of a layer stays saturated, the weights are
    the cause and standardising would not help: said, with the layer that
    stays the most saturated (the first such), its fan-in, the sign or spread
    of its weights and its median pre-activation there. None when the
    standardised features free the units (the features are the cause).

    The advice is the initializer: numnet's default (Glorot; He for the ReLU
    family: centred, scaled by fan-in) in place of ``init="uniform"`` (all
    positive) or ``"uniform_symmetric"`` (the same spread whatever the
    fan-in), or a network built anew when its weights have grown far from its
    initializer's; and for :data:`DEEP_SQUASHING` or more sigmoid or tanh
    hidden layers, ReLU ones (:func:`_relu_fix`), as their gradients may then
    vanish.
    """
    rows = X[:_block_rows(net, min(len(X), PROBE_SAMPLES), batch_size)]
    spread = rows.std(axis=0)
    standardised = ((rows - rows.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
                    ).astype(net.dtype, copy=False)
    P, cache = net.forward_train(standardised)
    shares = _layer_shares(net, P, cache)
    k = int(np.argmax(shares))
    if shares[k] < STILL_SATURATED:
        return None                     # standardised features free the units: theirs the cause
    layer, W = cache[k], net.weights[k]
    fan_in, fan_out = W.shape
    hidden = [act.name for act in net.activation_fns[:-1]]
    output = k == len(hidden)
    inputs, weights = _signs(layer.A_prev), _signs(W)
    how = (f"{weights} (mean {float(W.mean()):.2g})" if weights else
           f"of standard deviation {float(W.std()):.2g}")
    said = (f"on the features standardised, {shares[k]:.0%} of "
            f"{'the output layer' if output else f'hidden layer {k + 1}'}'s "
            f"{'rows' if output else 'units'} stay saturated: it adds up its {fan_in} "
            f"input{'s' * (fan_in > 1)}{f' ({inputs})' if inputs else ''} with weights {how}, "
            f"to pre-activations of median |z| {float(np.median(np.abs(layer.Z))):.3g}, where "
            f"{net.activation_fns[k].name} is flat and passes no gradient")
    inits = net.init if isinstance(net.init, list) else [net.init] * net.num_layers
    basis = hidden[k] if not output else (hidden[-1] if hidden else net.output_activation)
    default = default_for(basis)
    centred = weight_std(default, fan_in, fan_out)
    drawn = {"uniform": "on [0, 1), all positive",
             "uniform_symmetric": "on [-1, 1), standard deviation 0.58 whatever the fan-in"}
    if inits[k] in drawn:
        todo = (f"init={inits[k]!r} draws weights {drawn[inits[k]]}: leave init at its default "
                f"({default!r} here: centred, standard deviation {centred:.2g} for this layer)")
    elif float(W.std()) > 2 * centred or abs(float(W.mean())) > centred:
        todo = (f"init={inits[k]!r} draws them centred, standard deviation {centred:.2g} for "
                f"this layer, so they changed after the network was built: build it anew")
    else:
        return said
    squashing = [name for name in hidden if name in ("sigmoid", "tanh")]
    if len(squashing) >= DEEP_SQUASHING:
        kinds = "/".join(sorted(set(squashing)))
        todo += (f"; with {len(squashing)} {kinds} hidden layers the gradients may then vanish: "
                 f"{_relu_fix(net)} avoids that")
    return f"{said}; {todo}"


def learned_nothing(begun: Start, net: Network, X: np.ndarray, Y: np.ndarray, lossfn: Loss,
                    opt: Optimizer, batch_size: int = 1) -> str | None:
    """The warning for a run that learned nothing and whose cause can be named, else None.

    ``begun`` is :func:`begin` before training; ``net`` is the trained network,
    ``X`` and ``Y`` the validated training data. "Learned nothing": on the
    probed samples the loss after training is not below the loss before it,
    or not below the loss of always predicting the mean target (the class
    shares). The causes: data on a large scale (:func:`scale_cause`); units
    saturated before training began, by the weights when the features
    standardised leave them saturated (:func:`weights_cause`: the
    initializer), else by the features (too large for them); units saturated
    by training (the rate); dead ReLU units; or, in a deeper network, one
    output for every input with vanishing gradients. With none of these (a
    short run, a tiny rate) nothing is said. The constant prediction's loss
    and the data's scale are only measured when the loss says so.

    Measured: 58 of the 60 runs at learning_rate=1e6 that the divergence
    guard does not stop (a loss bounded by its output, such as mse on sigmoid
    or softmax outputs; iris, moons, xor, spirals, breast cancer) end with
    every output pinned, at 1.0-2.7 times the starting loss and 1.3-3.3 times
    the constant prediction's; the two others learned something (80%
    accuracy on moons). Regression on targets of 1e6 ends at 1.01-8.6 times
    the constant prediction's loss. Of 1679 runs of ordinary configurations,
    526 learned nothing by the loss alone (one epoch, tiny rates), and none of
    them had a cause: no saturated layer, no data at :data:`LARGE_DATA`.
    """
    Yp = Y[:PROBE_SAMPLES]
    quick = _output_loss(net, X, Y, lossfn)         # first the loss alone: most runs learn
    if quick is not None:
        if not math.isfinite(quick):
            return None                                 # the divergence guard's case
        if quick < NOT_BELOW * begun.loss:
            bar = _trivial_loss(Yp, lossfn)
            if bar is None or quick < NOT_BELOW * bar:
                return None                             # it learned something
    end = probe(net, X, Y, lossfn, batch_size)      # saturation too: the same pass, nearly free
    loss = end.loss
    if not math.isfinite(loss):
        return None
    trivial: float | None = None
    if loss < NOT_BELOW * begun.loss:
        trivial = _trivial_loss(Yp, lossfn)
        if trivial is None or loss < NOT_BELOW * trivial:
            return None
    # the state before training matters only to the causes that compare with it
    enough_rows = len(Yp) >= DEAD_ROWS
    start = begun.probe
    if start is None and (end.is_saturated or (enough_rows and end.dead >= DEAD_SHARE)):
        start = _probe_at(begun.parameters, net, X, Y, lossfn, batch_size)
    if start is None:
        start = Probe(begun.loss, 0.0, 0.0, 0.0)        # not saturated, no dead units: unread
    scale = scale_cause(X, Y)
    if end.is_saturated and start.is_saturated:     # saturated before training: the weights?
        weights = weights_cause(net, X, batch_size)
        if weights is not None:
            scale = (f"the weights saturate the units, not the features: {weights}"
                     if scale is None else
                     f"{scale}; and the weights saturate the units too: {weights}")
        elif scale is None:
            scale = scale_cause(X, None, features_always=True)
    # dead units that training made (not there before it), on enough rows to tell
    dead = scale is None and enough_rows and end.dead >= DEAD_SHARE > start.dead
    constant = None if scale is not None or dead or end.is_saturated else \
        _constant_output(net, X[:PROBE_SAMPLES], Yp, lossfn)
    if scale is not None:
        cause = scale
    elif dead:
        cause = (f"{end.dead:.0%} of a hidden layer's ReLU units output 0 for every input "
                 f"(dead: they get no gradient, so they never recover); {rate_advice(opt)}")
    elif constant is not None:
        cause = constant
    elif end.is_saturated:
        where = (f"{end.pinned:.0%} of the outputs pinned at 0 or 1" if end.pinned >= end.saturated
                 else f"{end.saturated:.0%} of a hidden layer's units saturated")
        cause = (f"learning_rate={opt.learning_rate:.3g} drove the units into saturation "
                 f"({where}); {rate_advice(opt)}")
    else:
        return None
    const = "" if trivial is None else \
        f" (a constant prediction, {Baseline.fit(Yp, lossfn).what}, scores {trivial:.4g})"
    return (f"fit learned nothing: the loss on the first {len(Yp)} training samples went from "
            f"{start.loss:.4g} before training to {loss:.4g}{const}; {cause}")
