"""The maths as the kernels see it: compiled from the one definition of each formula.

Every activation in :data:`numnet.activations.ACTIVATIONS` with a scalar form
(``scalar(z, cast)``, ``scalar_derivative(z, a, cast)``) and every update
rule in :data:`numnet.optimizers.KERNEL_RULES` (``constants``, ``update``) is
plain Python, written beside its NumPy form. This module makes them callable
from compiled code (``numba.extending.register_jitable``) and generates the
functions that dispatch on a code, so the kernels never restate a formula:

* ``activate(code, z, cast)``, ``derivative(code, z, a, cast)``: one element;
* ``activate_range(Z, A, lo, hi, code, cast)``,
  ``derivative_range(D, Z, A, lo, hi, code, cast)``: a contiguous range, one
  loop per activation so that each vectorizes;
* ``constants(rule, hyper, t, cast)``, ``apply(rule, h, p, g, s1, s2)``,
  ``per_step(rule)`` (whether the constants change with ``t``).

Codes are positions in the registries (:data:`ACTIVATION_CODES`,
:data:`RULE_CODES`); softmax, not elementwise, is :data:`SOFTMAX`, the one
row-wise activation, which the kernels compute as ``exp(z - max) / sum``.

numba caches compiled kernels on disk, keyed by the kernel's own source: not
by the formulas it calls. :data:`FINGERPRINT` hashes everything compiled in
(the modules that define the formulas, and the codes); every kernel closes
over it, and numba keys its cache on a kernel's closure too, so editing a
formula recompiles the kernels instead of loading stale ones.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from typing import Any

from numba import njit
from numba.extending import register_jitable

from numnet.activations import ACTIVATIONS
from numnet.optimizers import KERNEL_RULES

__all__ = ["ACTIVATION_CODES", "RULE_CODES", "SOFTMAX", "IDENTITY", "FINGERPRINT", "activate",
           "derivative", "activate_range", "derivative_range", "constants", "apply", "per_step"]

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
_RULES = list(KERNEL_RULES.values())
RULE_CODES = {rule.name: code for code, rule in enumerate(_RULES)}

_FORMULAS = [*_SCALARS.values(), *_DERIVATIVES.values(),
             *(f for rule in _RULES for f in (rule.constants, rule.update))]


def _fingerprint() -> int:
    """A hash of the source files that define the formulas, and of the codes."""
    digest = hashlib.sha256(repr((sorted(ACTIVATION_CODES.items()), RULE_CODES)).encode())
    for path in sorted({inspect.getsourcefile(fn) or fn.__module__ for fn in _FORMULAS}):
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
_PER_STEP = tuple(rule.per_step for rule in _RULES)


@njit(error_model="numpy")
def per_step(code):
    """Whether rule ``code``'s constants change with the step count."""
    return _PER_STEP[code]


apply = _generate("apply", "code, h, p, g, s1, s2", _UPDATES,
                  lambda fn: [f"return {fn}(p, g, s1, s2, h)"], "return _fn0(p, g, s1, s2, h)")
