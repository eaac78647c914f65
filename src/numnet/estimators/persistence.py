"""A fitted estimator in numnet's files: its state as JSON, and its loader.

:func:`numnet.save` writes an estimator's network as tensors and
:func:`numnet_state` beside it as JSON; :func:`numnet.load` hands that state
back to the loader :func:`register_loaders` put in
:data:`numnet.io.ESTIMATOR_LOADERS`, which rebuilds the estimator around the
loaded network with :func:`from_numnet_state`. Nothing on that path is
pickled, and every field read back is checked, against the network too
(features, outputs, hidden layers, classes); the file's checksums cover the
network's tensors and the state (:mod:`numnet.files.format`). :func:`numnet.save`
runs the same loader on the encoded file before writing it, so a state that
would not load is refused at save time.
"""

from __future__ import annotations

import functools
import logging
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from numnet import MLP, optimizers
from numnet.io import ESTIMATOR_LOADERS

if TYPE_CHECKING:                       # the estimator imports this module to save itself
    from .base import BaseMLP

# the public module's name, so logging set-ups written for it keep working
logger = logging.getLogger("numnet.estimators")

#: Fitted attributes saved as JSON (``classes_`` is saved beside them).
FITTED = ("loss_", "loss_curve_", "best_loss_", "validation_scores_",
          "best_validation_score_", "n_iter_", "t_", "n_layers_", "n_outputs_",
          "out_activation_", "n_features_in_", "feature_names_in_")
_FLOAT_LISTS = ("loss_curve_", "validation_scores_")
_FLOATS = ("loss_", "best_loss_", "best_validation_score_")


def numnet_state(est: BaseMLP) -> dict[str, Any]:
    """``est``'s parameters and fitted attributes as JSON (see ``BaseMLP.numnet_state``)."""
    fitted = {name: _finite_json(getattr(est, name)) for name in FITTED if hasattr(est, name)}
    fitted["classes_"] = getattr(est, "classes_", None)
    return {"params": _params_to_json(est), "fitted": fitted, "loss": est._loss,
            "scale": est._scale,
            "no_improvement_count": getattr(est, "_no_improvement_count", 0),
            "target_type": est._target_type()}


def from_numnet_state(cls: type[BaseMLP], net: MLP, state: dict[str, Any]) -> BaseMLP:
    """Inverse of :func:`numnet_state` around the loaded ``net`` (checked, never trusted)."""
    est = cls(**_params_from_json(state["params"]))
    est._validate_params()
    fitted = state["fitted"]
    unknown = set(fitted) - set(FITTED) - {"classes_"}
    if unknown:
        raise ValueError(f"unknown fitted attributes {sorted(unknown)}")
    for name, value in fitted.items():
        setattr(est, name, _fitted_from_json(name, value))
    _check_matches(est, net)
    est._net, est._loss, est._scale = net, str(state["loss"]), float(state["scale"])
    est._no_improvement_count = int(state["no_improvement_count"])
    est._best_parameters = net.flat_parameters.copy()
    est._restore_targets(state["target_type"], fitted.get("classes_"))
    _check_classes(fitted.get("classes_"), net)
    return est


def register_loaders(*classes: type[BaseMLP]) -> None:
    """Let :func:`numnet.load` rebuild each of ``classes`` from its saved state."""
    for cls in classes:
        ESTIMATOR_LOADERS[cls.__name__] = functools.partial(from_numnet_state, cls)


def _params_to_json(est: BaseMLP) -> dict[str, Any]:
    """``get_params()`` with what JSON cannot hold converted, or dropped (logged)."""
    params = est.get_params(deep=False)
    params["hidden_layer_sizes"] = est._hidden_sizes()
    if not isinstance(params["random_state"], (type(None), numbers.Integral)):
        params["random_state"] = None
    if params["optimizer"] is not None:
        params["optimizer"] = params["optimizer"].get_config()
    if params["callbacks"]:
        logger.warning("callbacks are not saved with the estimator")
    params["callbacks"] = None
    if params["dtype"] is not None:
        params["dtype"] = np.dtype(params["dtype"]).name
    return params


def _params_from_json(saved: dict[str, Any]) -> dict[str, Any]:
    params = dict(saved)
    if params.get("optimizer") is not None:
        params["optimizer"] = optimizers.optimizer_from_config(params["optimizer"])
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    return params


def _fitted_from_json(name: str, value: Any) -> Any:
    """The fitted attribute ``name`` from its JSON ``value``, its numbers checked."""
    if name == "feature_names_in_":
        return np.asarray(value, dtype=object)
    if value is None:
        return None
    if name in _FLOAT_LISTS:
        return [_float_from_json(v) for v in value]
    if name in _FLOATS:
        return _float_from_json(value)
    return value


def _check_matches(est: BaseMLP, net: MLP) -> None:
    """The saved attributes describe ``net``: its features, outputs and hidden layers."""
    if est.n_features_in_ != net.num_inputs or est.n_outputs_ != net.num_outputs:
        raise ValueError(f"the estimator's {est.n_features_in_} features and "
                         f"{est.n_outputs_} outputs do not match its network, {net!r}")
    if list(net.hidden_layers) != est._hidden_sizes():
        raise ValueError(f"hidden_layer_sizes={est.hidden_layer_sizes} does not match the "
                         f"network's {net.hidden_layers}")
    names = getattr(est, "feature_names_in_", None)
    if names is not None and len(names) != est.n_features_in_:
        raise ValueError(f"the estimator's {len(names)} feature names do not match its "
                         f"{est.n_features_in_} features")


def _check_classes(classes: Any, net: MLP) -> None:
    """A classifier's saved classes: one per output, or two for a single (logistic) output."""
    if classes is None:
        return
    want = 2 if net.num_outputs == 1 else net.num_outputs
    if len(classes) != want:
        raise ValueError(f"the estimator's {len(classes)} classes do not match its network's "
                         f"{net.num_outputs} output(s), which tell {want} classes apart")


def _finite_json(value: Any) -> Any:
    """``value`` with non-finite floats as the strings "inf", "-inf", "nan" (JSON has none)."""
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite_json(value.tolist())
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return str(float(value))
    return value


def _float_from_json(value: Any) -> float:
    """A float from a JSON number or "inf"/"-inf"/"nan"; anything else is refused."""
    if isinstance(value, str) and value not in ("inf", "-inf", "nan"):
        raise ValueError(f"expected a number, got {value!r:.50}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"expected a number, got {value!r:.50}")
    return float(value)
