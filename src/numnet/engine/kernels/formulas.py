"""The maths as the kernels see it: compiled from the one definition of each formula.

Every activation in :data:`numnet.activations.ACTIVATIONS` with a scalar form
(``scalar(z, cast)``, ``scalar_derivative(z, a, cast)``), every loss in
:data:`numnet.losses.LOSSES` with one (:class:`numnet.losses.ScalarLoss`) and
every update rule in :data:`numnet.optimizers.registry.KERNEL_RULES` (``constants``,
``update``) is plain Python, written beside its NumPy form. This module makes them callable
from compiled code (``numba.extending.register_jitable``) and generates the
functions that dispatch on a code, so the kernels never restate a formula:

* ``activate(code, z, cast)``, ``derivative(code, z, a, cast)``: one element;
* ``activate_range(Z, A, lo, hi, code, cast)``,
  ``derivative_range(D, Z, A, lo, hi, code, cast)``: a contiguous range, one
  loop per activation so that each vectorizes;
* ``loss_value(code, z, a, y, mx, lse, cast)``, ``loss_delta(code, z, a, y,
  scale, cast)``, ``loss_scale(code, count, cast)``, and what the kernels
  need to know of a loss: ``loss_per_sample``, ``loss_logsumexp``,
  ``loss_fused`` (its delta is ``dL/dZ``, not ``dL/dA``);
* ``constants(rule, hyper, t, cast)``, ``apply(rule, h, p, g, s1, s2)``,
  ``per_step(rule)`` (whether the constants change with ``t``), and
  ``step_all(params, grad, rule, h, s1, s2)``: the update of a whole vector,
  and ``update_row(w, a, d, l2, rule, h, s1, s2)``: of a weight row with the
  gradient ``a * d``; one loop per rule so that each vectorizes.

Codes are positions in the registries (:data:`ACTIVATION_CODES`,
:data:`LOSS_CODES`, :data:`RULE_CODES`); softmax, not elementwise, is :data:`SOFTMAX`, the one
row-wise activation, which the kernels compute as ``exp(z - max) / sum``.

numba caches compiled kernels on disk, keyed by the kernel's own source: not
by the formulas it calls. :data:`FINGERPRINT` hashes everything compiled in
(the modules that define the formulas, this package, the codes); every kernel closes
over it, and numba keys its cache on a kernel's closure too, so editing a
formula recompiles the kernels instead of loading stale ones.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable
from typing import Any

from numba import njit
from numba.extending import register_jitable

from numnet.activations import ACTIVATIONS
from numnet.losses import LOSSES, Loss, ScalarLoss
from numnet.optimizers.registry import KERNEL_RULES

__all__ = ["ACTIVATION_CODES", "LOSS_CODES", "LOSSES_COMPILED", "RULE_CODES", "SOFTMAX",
           "IDENTITY", "FINGERPRINT", "activate",
           "derivative", "activate_range", "derivative_range", "loss_value", "loss_delta",
           "loss_scale", "loss_per_sample", "loss_logsumexp", "loss_fused", "constants",
           "apply", "per_step", "step_all", "update_row"]

_SCALARS: dict[int, Callable[..., Any]] = {}          # code -> scalar(z, cast)
_DERIVATIVES: dict[int, Callable[..., Any]] = {}      # code -> scalar_derivative(z, a, cast)
ACTIVATION_CODES: dict[str, int] = {}
for _act in ACTIVATIONS.values():
    if _act.scalar is not None and _act.scalar_derivative is not None:
        ACTIVATION_CODES[_act.name] = len(_SCALARS)
        _SCALARS[len(_SCALARS)], _DERIVATIVES[len(_DERIVATIVES)] = (_act.scalar,
                                                                    _act.scalar_derivative)
SOFTMAX = len(_SCALARS)
ACTIVATION_CODES["softmax"] = SOFTMAX
IDENTITY = ACTIVATION_CODES["identity"]
LOSSES_COMPILED: list[Loss] = [loss for loss in LOSSES.values() if loss.scalar is not None]
LOSS_CODES = {loss.name: code for code, loss in enumerate(LOSSES_COMPILED)}
_SCALAR_LOSSES: list[ScalarLoss] = [loss.scalar for loss in LOSSES_COMPILED
                                    if loss.scalar is not None]
_RULES = list(KERNEL_RULES.values())
RULE_CODES = {rule.name: code for code, rule in enumerate(_RULES)}

_FORMULAS = [*_SCALARS.values(), *_DERIVATIVES.values(),
             *(f for loss in _SCALAR_LOSSES for f in (loss.value, loss.delta, loss.scale_for)),
             *(f for rule in _RULES for f in (rule.constants, rule.update))]


def _fingerprint() -> int:
    """A hash of the codes and of every source compiled into the kernels.

    That is the modules that define the formulas and this package's own
    files (a helper in ``core`` is compiled into the kernels too).
    """
    digest = hashlib.sha256(repr((sorted(ACTIVATION_CODES.items()), LOSS_CODES, RULE_CODES,
                                  [(s.per_sample, s.logsumexp) for s in _SCALAR_LOSSES],
                                  [loss.fused_with for loss in LOSSES_COMPILED],
                                  [rule.per_step for rule in _RULES])).encode())
    here = os.path.dirname(os.path.abspath(__file__))
    sources = {inspect.getsourcefile(fn) or fn.__module__ for fn in _FORMULAS}
    try:
        sources |= {os.path.join(here, name) for name in os.listdir(here)
                    if name.endswith(".py")}
    except OSError:                                 # not a directory (a zip): no disk cache
        pass
    for path in sorted(sources):
        try:
            with open(path, "rb") as source:
                digest.update(source.read())
        except OSError:                             # no source file: the bytecode below
            digest.update(path.encode())
    for fn in _FORMULAS:
        digest.update(fn.__code__.co_code)
    return int.from_bytes(digest.digest()[:7], "little")


FINGERPRINT = _fingerprint()

for _formula in _FORMULAS:          # callable from compiled code, still plain Python outside
    register_jitable(_formula)


def _generate(name: str, signature: str, functions: dict[int, Callable[..., Any]],
              body: Callable[[str], list[str]], fallback: str) -> Any:
    """Compile ``def name(signature)``: for each ``code`` in ``functions``, ``body`` calls it.

    The source is built here from the fixed templates below; the functions are
    the registries' formulas, reached by name in the namespace.
    """
    lines = [f"def {name}({signature}):"]
    for i, code in enumerate(functions):
        lines.append(f"    {'if' if i == 0 else 'elif'} code == {code}:")
        lines += ["        " + line for line in body(f"_fn{code}")]
    lines.append(f"    {fallback}")
    namespace: dict[str, Any] = {f"_fn{code}": fn for code, fn in functions.items()}
    exec("\n".join(lines), namespace)
    return njit(error_model="numpy")(namespace[name])


_CONSTANTS = {code: rule.constants for code, rule in enumerate(_RULES)}
_UPDATES = {code: rule.update for code, rule in enumerate(_RULES)}

activate = _generate("activate", "code, z, cast", _SCALARS,
                     lambda fn: [f"return {fn}(z, cast)"], "return z")
derivative = _generate("derivative", "code, z, a, cast", _DERIVATIVES,
                       lambda fn: [f"return {fn}(z, a, cast)"], "return cast(1.0)")
activate_range = _generate(
    "activate_range", "Z, A, lo, hi, code, cast", _SCALARS,
    lambda fn: ["z, a = Z[lo:hi], A[lo:hi]", "for q in range(hi - lo):",
                f"    a[q] = {fn}(z[q], cast)"], "return")
# identity's derivative is 1: its code falls through, leaving D as it is
derivative_range = _generate(
    "derivative_range", "D, Z, A, lo, hi, code, cast",
    {code: fn for code, fn in _DERIVATIVES.items() if code != IDENTITY},
    lambda fn: ["d, z, a = D[lo:hi], Z[lo:hi], A[lo:hi]", "for q in range(hi - lo):",
                f"    d[q] = d[q] * {fn}(z[q], a[q], cast)"], "return")
# the engine passes known codes only (RULE_CODES); the fallback gives every path one type
constants = _generate("constants", "code, hyper, t, cast", _CONSTANTS,
                      lambda fn: [f"return {fn}(hyper, t, cast)"],
                      "return _fn0(hyper, t, cast)")
_LOSS_VALUES = {code: loss.value for code, loss in enumerate(_SCALAR_LOSSES)}
_LOSS_DELTAS = {code: loss.delta for code, loss in enumerate(_SCALAR_LOSSES)}
_LOSS_SCALES = {code: loss.scale_for for code, loss in enumerate(_SCALAR_LOSSES)}
# the engine passes known codes only (LOSS_CODES); the fallback gives every path one type
loss_value = _generate("loss_value", "code, z, a, y, mx, lse, cast", _LOSS_VALUES,
                       lambda fn: [f"return {fn}(z, a, y, mx, lse, cast)"],
                       "return _fn0(z, a, y, mx, lse, cast)")
loss_delta = _generate("loss_delta", "code, z, a, y, scale, cast", _LOSS_DELTAS,
                       lambda fn: [f"return {fn}(z, a, y, scale, cast)"],
                       "return _fn0(z, a, y, scale, cast)")
loss_scale = _generate("loss_scale", "code, count, cast", _LOSS_SCALES,
                       lambda fn: [f"return {fn}(count, cast)"], "return _fn0(count, cast)")
_PER_SAMPLE = tuple(loss.per_sample for loss in _SCALAR_LOSSES)
_LOGSUMEXP = tuple(loss.logsumexp for loss in _SCALAR_LOSSES)
_FUSED = tuple(loss.fused_with is not None for loss in LOSSES_COMPILED)


@njit(error_model="numpy")
def loss_per_sample(code):
    """Whether loss ``code`` averages over samples (else over elements)."""
    return _PER_SAMPLE[code]


@njit(error_model="numpy")
def loss_logsumexp(code):
    """Whether loss ``code``'s value needs each sample's ``max`` and log-sum-exp."""
    return _LOGSUMEXP[code]


@njit(error_model="numpy")
def loss_fused(code):
    """Whether loss ``code``'s delta is ``dL/dZ`` (fused with its output activation)."""
    return _FUSED[code]


_PER_STEP = tuple(rule.per_step for rule in _RULES)


@njit(error_model="numpy")
def per_step(code):
    """Whether rule ``code``'s constants change with the step count."""
    return _PER_STEP[code]


apply = _generate("apply", "code, h, p, g, s1, s2", _UPDATES,
                  lambda fn: [f"return {fn}(p, g, s1, s2, h)"], "return _fn0(p, g, s1, s2, h)")


def _step_loops(fn: str) -> list[str]:
    """``step_all``'s body for one rule: one loop per kind of state (none, one, two)."""
    return ["zero = params.dtype.type(0.0)",
            "if s1.shape[0] == 0:",
            "    for q in range(params.shape[0]):",
            f"        params[q] = {fn}(params[q], grad[q], zero, zero, h)[0]",
            "elif s2.shape[0] == 0:",
            "    for q in range(params.shape[0]):",
            f"        params[q], s1[q], _ = {fn}(params[q], grad[q], s1[q], zero, h)",
            "else:",
            "    for q in range(params.shape[0]):",
            f"        params[q], s1[q], s2[q] = {fn}(params[q], grad[q], s1[q], s2[q], h)"]


# The rule is chosen once, outside the loop: with the choice made per element (apply in the
# loop) the loop did not vectorize, and Adam over 17,226 float64 parameters took 86 µs per
# step instead of 21 (float32: 19 instead of 8; interleaved, the same numbers either way).
step_all = _generate("step_all", "params, grad, code, h, s1, s2", _UPDATES, _step_loops,
                     "return")


def _row_loops(fn: str) -> list[str]:
    """``update_row``'s body for one rule: ``w[j]`` with the gradient ``a * d[j]`` (plus
    ``l2 * w[j]``), one loop per kind of state."""
    gradient = ["        g = a * d[j]",
                "        if l2 > 0:",
                "            g = g + l2 * w[j]"]
    return ["zero = w.dtype.type(0.0)",
            "if s1.shape[0] == 0:",
            "    for j in range(w.shape[0]):", *gradient,
            f"        w[j] = {fn}(w[j], g, zero, zero, h)[0]",
            "elif s2.shape[0] == 0:",
            "    for j in range(w.shape[0]):", *gradient,
            f"        w[j], s1[j], _ = {fn}(w[j], g, s1[j], zero, h)",
            "else:",
            "    for j in range(w.shape[0]):", *gradient,
            f"        w[j], s1[j], s2[j] = {fn}(w[j], g, s1[j], s2[j], h)"]


# One row of a weight matrix in the per-example kernel, W[k] with the gradient a_k dZ: the
# rule chosen outside the loop, as in step_all, so that the row's loop vectorizes.
update_row = _generate("update_row", "w, a, d, l2, code, h, s1, s2", _UPDATES, _row_loops,
                       "return")
