"""An estimator's state in numnet's files, as JSON: conversions and checks on plain values.

:meth:`BaseMLP.numnet_state <.base.BaseMLP.numnet_state>` writes the state
:func:`numnet.save` stores beside the network's tensors, and
:meth:`BaseMLP.from_numnet_state <.base.BaseMLP.from_numnet_state>`, which
:func:`numnet.load` calls, rebuilds the estimator from it. The helpers here
convert parameters and fitted attributes to and from JSON and check what is
read back (numbers, names, classes against the network): nothing on that
path is pickled, and every field is checked; the file's checksums cover the
network's tensors and the state (:mod:`numnet._files.format`).
"""

from __future__ import annotations

import logging
import numbers
from typing import Any

import numpy as np

from numnet import optimizers
from numnet.network import Network

# the public module's name, so logging set-ups written for it keep working
logger = logging.getLogger("numnet.estimators")

#: Fitted attributes saved as JSON (``classes_`` is saved beside them).
FITTED = ("loss_", "loss_curve_", "best_loss_", "validation_scores_",
          "best_validation_score_", "n_iter_", "t_", "n_layers_", "n_outputs_",
          "out_activation_", "n_features_in_", "feature_names_in_")
_FLOAT_LISTS = ("loss_curve_", "validation_scores_")
_FLOATS = ("loss_", "best_loss_", "best_validation_score_")


def params_to_json(params: dict[str, Any], hidden_sizes: list[int]) -> dict[str, Any]:
    """``get_params()`` with what JSON cannot hold converted, or dropped (logged)."""
    params = dict(params)
    params["hidden_layer_sizes"] = hidden_sizes
    if not isinstance(params["random_state"], (type(None), numbers.Integral)):
        params["random_state"] = None
    if params["optimizer"] is not None:
        params["optimizer"] = params["optimizer"].get_config()
    if params["callbacks"]:
        logger.warning("callbacks are not saved with the estimator")
    params["callbacks"] = None
    if params["dtype"] is not None:
        params["dtype"] = np.dtype(params["dtype"]).name
    if isinstance(params.get("class_weight"), dict):      # labels need not be strings
        params["class_weight"] = {"pairs": [[label, weight] for label, weight
                                            in params["class_weight"].items()]}
    return params


def params_from_json(saved: dict[str, Any]) -> dict[str, Any]:
    """The constructor's keyword arguments from :func:`params_to_json`'s output."""
    params = dict(saved)
    if params.get("optimizer") is not None:
        params["optimizer"] = optimizers.optimizer_from_config(params["optimizer"])
    if isinstance(params.get("class_weight"), dict):
        params["class_weight"] = {label: weight for label, weight
                                  in params["class_weight"]["pairs"]}
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    return params


def fitted_from_json(fitted: dict[str, Any]) -> dict[str, Any]:
    """Saved fitted attributes back as Python values, every one checked."""
    unknown = set(fitted) - set(FITTED) - {"classes_"}
    if unknown:
        raise ValueError(f"unknown fitted attributes {sorted(unknown)}")
    return {name: _fitted_from_json(name, value) for name, value in fitted.items()}


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


def check_classes(classes: Any, net: Network) -> None:
    """A classifier's saved classes: one per output, or two for a single (logistic) output."""
    if classes is None:
        return
    want = 2 if net.num_outputs == 1 else net.num_outputs
    if len(classes) != want:
        raise ValueError(f"the estimator's {len(classes)} classes do not match its network's "
                         f"{net.num_outputs} output(s), which tell {want} classes apart")


def finite_json(value: Any) -> Any:
    """``value`` with non-finite floats as the strings "inf", "-inf", "nan" (JSON has none)."""
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite_json(value.tolist())
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
