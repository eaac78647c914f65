"""Numerical gradient checking: central differences against backpropagation.

For every parameter ``p`` the numerical derivative is
``(L(p + eps) - L(p - eps)) / (2 eps)``, computed in float64 on a copy of the
network. The relative error of each parameter tensor is
``norm(g - g_num) / max(norm(g) + norm(g_num), 1e-12)``; backprop is right to
about 1e-8 or better, a wrong derivative gives errors near 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .initializers import check_random_state
from .losses import Loss, get_loss
from .network import Network
from .validation import (
    central_differences,
    check_features,
    check_nonnegative_float,
    check_positive_float,
    check_targets,
    relative_error,
)

__all__ = ["gradcheck", "GradcheckReport"]


@dataclass
class GradcheckReport:
    """The outcome of :func:`gradcheck`, one entry per parameter tensor.

    Truthy when every error is below ``tolerance``; prints as a table. Each
    parameter is kept as the attribute of the same name.

    Parameters
    ----------
    errors : dict of str to float
        ``errors[name]``: the norm-wise relative error of that tensor (``"W0"``,
        ``"b0"``, ...).
    worst : dict of str to float
        ``worst[name]``: the largest elementwise absolute difference.
    tolerance : float
        The largest relative error that passes.
    checked : dict of str to int, default {}
        How many entries of each tensor were compared.
    """

    errors: dict[str, float]
    worst: dict[str, float]
    tolerance: float
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Every parameter's relative error is below the tolerance."""
        return all(e < self.tolerance for e in self.errors.values())

    @property
    def max_error(self) -> float:
        """The worst relative error over all parameters."""
        return max(self.errors.values(), default=0.0)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        lines = [f"{'param':<8}{'checked':>9}{'rel. error':>14}{'max |diff|':>14}  status"]
        for name, err in self.errors.items():
            status = "ok" if err < self.tolerance else "FAIL"
            lines.append(f"{name:<8}{self.checked.get(name, 0):>9}{err:>14.3e}"
                         f"{self.worst[name]:>14.3e}  {status}")
        verdict = "passed" if self.passed else "FAILED"
        lines.append(f"gradcheck {verdict}: worst relative error {self.max_error:.3e} "
                     f"(tolerance {self.tolerance:.0e})")
        return "\n".join(lines)


def gradcheck(net: Network, X: Any, y: Any, loss: str | Loss = "mse", *, eps: float = 1e-6,
              tolerance: float = 1e-6, l2: float = 0.0, max_per_param: int | None = None,
              random_state: int | np.random.Generator | None = 0) -> GradcheckReport:
    """Compare :meth:`MLP.loss_and_gradients` with central differences.

    Parameters
    ----------
    net : MLP
        Left untouched: the check runs on a float64 copy.
    X : array-like of shape (n_samples, num_inputs)
        The inputs.
    y : array-like of shape (n_samples, num_outputs)
        The targets (one-hot for categorical cross-entropy).
    loss : str or Loss, default "mse"
        The loss whose gradient is checked.
    eps : float, default 1e-6
        Half the finite-difference step.
    tolerance : float, default 1e-6
        Largest relative error that passes.
    l2 : float, default 0
        L2 penalty, as in ``loss_and_gradients``.
    max_per_param : int or None
        Check at most this many entries of each tensor (chosen at random), for
        large networks; None checks every entry.
    random_state : int, Generator or None
        Chooses the entries when ``max_per_param`` is set.

    Returns
    -------
    GradcheckReport
        Prints as a table; truthy when the check passed.
    """
    eps = check_positive_float(eps, "eps")
    tolerance = check_positive_float(tolerance, "tolerance")
    l2 = check_nonnegative_float(l2, "l2")
    net64 = net.astype("float64")
    X2, _ = check_features(X, net64.num_inputs, "float64")
    Y = check_targets(y, X2.shape[0], net64.num_outputs, "float64")
    lossfn = get_loss(loss)
    rng = check_random_state(random_state)

    _, analytic = net64.loss_and_flat_gradient(X2, Y, lossfn, l2)
    flat = net64.flat_parameters
    errors, worst, checked = {}, {}, {}
    offsets = np.cumsum([0] + [p.size for p in net64.parameters()])
    for name, start, stop in zip(net64.parameter_names(), offsets[:-1], offsets[1:], strict=True):
        idx = np.arange(start, stop)
        if max_per_param is not None and idx.size > max_per_param:
            idx = np.sort(rng.choice(idx, size=max_per_param, replace=False))
        numeric = central_differences(
            lambda _: net64.loss_and_flat_gradient(X2, Y, lossfn, l2)[0], flat, eps,
            ((int(j),) for j in idx))
        g = analytic[idx]
        errors[name] = relative_error(g, numeric)
        worst[name] = float(np.max(np.abs(g - numeric)))
        checked[name] = int(idx.size)
    return GradcheckReport(errors, worst, tolerance, checked)
