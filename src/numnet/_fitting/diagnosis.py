"""Why a run failed, measured: the data's scale, the learning rate, saturated units.

:class:`DivergenceGuard` words its stop reason with :func:`advice`, and
:func:`fit` ends with :func:`learned_nothing`, which warns (a
:class:`TrainingWarning`) about a run that finished without learning anything
and can name why. Both look at what was measured, so the advice is the fix:
standardise data on a large scale, lower a rate that drove the units into
saturation.
"""

from __future__ import annotations

import inspect
import math
from typing import NamedTuple

import numpy as np

from numnet.baselines import Baseline
from numnet.losses import Loss
from numnet.network import Network
from numnet.optimizers import Optimizer
from numnet.validation import largest_magnitude

from .evaluation import loss_from

__all__ = ["TrainingWarning", "Probe", "probe", "advice", "scale_cause", "rate_advice",
           "learned_nothing", "PROBE_SAMPLES"]

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
    pinned = _saturated_share(net.output_activation, P, rows=True)
    pairs = list(zip(cache[:-1], net.activation_fns[:-1], strict=True))
    hidden = [_saturated_share(act.name, layer.A) for layer, act in pairs]
    dead = [float(np.mean(~(layer.A > 0).any(axis=0))) for layer, act in pairs
            if act.name == "relu"]
    return Probe(loss, pinned, max(hidden, default=0.0), max(dead, default=0.0))


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
    per_row = 2 * net.dtype.itemsize * sum(net.layer_sizes[1:])
    step = max(1, min(n, max(batch_size, PROBE_MEMORY // per_row)))
    blocks = [(len(X[i:i + step]),
               _probe_block(net, X[i:i + step], Y[i:i + step], lossfn, saturation))
              for i in range(0, n, step)]
    loss, pinned, saturated = (sum(rows * p[f] for rows, p in blocks) / n for f in range(3))
    # a unit is dead when it is 0 on every row: at most as many as in any one block
    return Probe(loss, pinned, saturated, min(p.dead for _, p in blocks))


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
    return Baseline.fit(Y, lossfn).score(Y)


def _constant_output(net: Network, X: np.ndarray, Y: np.ndarray, lossfn: Loss) -> str | None:
    """``"the network gives the same output for every input ...; try ..."``, or None.

    Said when the outputs hardly vary over ``X`` (:data:`CONSTANT_OUTPUT`) and
    the gradients say why: in a network with two hidden layers or more, the
    first layer's weight gradient against the output layer's
    (:data:`VANISHING`) shows them vanishing on their way back. A constant
    output alone is what short runs and tiny rates give too: nothing is said.
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
    return (f"{said}: the first layer's gradients are {first / last:.1g} of the output "
            f"layer's, so the early layers do not learn (the gradients vanish through "
            f"{len(net.weights) - 1} {'/'.join(kinds)} layers); try activation='relu' "
            f"(He initialisation), fewer layers, or optimizer='adam'")


def learned_nothing(start: Probe, net: Network, X: np.ndarray, Y: np.ndarray, lossfn: Loss,
                    opt: Optimizer, batch_size: int = 1) -> str | None:
    """The warning for a run that learned nothing and whose cause can be named, else None.

    ``start`` is :func:`probe` before training; ``net`` is the trained network,
    ``X`` and ``Y`` the validated training data. "Learned nothing": on the
    probed samples the loss after training is not below the loss before it,
    or not below the loss of always predicting the mean target (the class
    shares). The causes: data on a large scale (:func:`scale_cause`); units
    saturated before training began (the inputs are too large for them); or
    units saturated by training (the rate). With none of these (a short run,
    a tiny rate) nothing is said. The constant prediction's loss and the
    data's scale are only measured when the loss says so.

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
    end = probe(net, X, Y, lossfn, batch_size)      # saturation too: the same pass, nearly free
    loss = end.loss
    if not math.isfinite(loss):
        return None                                     # the divergence guard's case
    Yp = Y[:PROBE_SAMPLES]
    trivial: float | None = None
    if loss < NOT_BELOW * start.loss:
        trivial = _trivial_loss(Yp, lossfn)
        if trivial is None or loss < NOT_BELOW * trivial:
            return None                                 # it learned something
    scale = scale_cause(X, Y)
    if scale is None and end.is_saturated and start.is_saturated:
        scale = scale_cause(X, None, features_always=True)
    # dead units that training made (not there before it), on enough rows to tell
    dead = scale is None and len(Yp) >= DEAD_ROWS and end.dead >= DEAD_SHARE > start.dead
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
