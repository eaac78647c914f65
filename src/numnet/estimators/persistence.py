"""An estimator's state as plain values: numnet's files (JSON), pickle and skops.

:meth:`BaseMLP.numnet_state <.base.BaseMLP.numnet_state>` writes the state
:func:`numnet.save` stores beside the network's tensors, and
:meth:`BaseMLP.from_numnet_state <.base.BaseMLP.from_numnet_state>`, which
:func:`numnet.load` calls, rebuilds the estimator from it. The helpers here
convert parameters, fitted attributes and the optimizer's state (its arrays
as base64 text of their little-endian bytes, exact) to and from JSON and
check what is read back (numbers, names, classes against the network,
arrays against the parameters): nothing on that path is pickled, and every
field is checked; the file's checksums cover the network's tensors and the
state (:mod:`numnet._files.format`).

:func:`network_to_plain` and :func:`network_from_plain` are the network as
``BaseMLP.__getstate__`` gives it to pickle and to skops (its config and
flat parameters), rebuilt and checked by ``__setstate__``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import numbers
from typing import Any

import numpy as np

from numnet import activations, losses, optimizers
from numnet._files.decode import _check_activation
from numnet.mlp import MLP
from numnet.network import Network

# the public module's name, so logging set-ups written for it keep working
logger = logging.getLogger("numnet.estimators")

#: Fitted attributes saved as JSON (``classes_`` is saved beside them).
FITTED = ("loss_", "loss_curve_", "best_loss_", "validation_scores_", "validation_loss_curve_",
          "best_validation_score_", "n_iter_", "t_", "n_layers_", "n_outputs_",
          "out_activation_", "n_features_in_", "feature_names_in_")
_FLOAT_LISTS = ("loss_curve_", "validation_scores_", "validation_loss_curve_")
#: The most bytes of optimizer state (Adam: two copies of the parameters) a file holds;
#: beyond, it is left out (logged) so that the file stays under the header's limit
#: (:data:`numnet._files.format.MAX_HEADER_BYTES`, 16 MiB; base64 adds a third).
MAX_OPTIMIZER_BYTES = 6 * 2 ** 20
_ARRAY_KEYS = {"$array", "dtype", "shape"}
_NETWORK_KEYS = {"config", "parameters", "classes"}
_CONFIG_KEYS = {"num_inputs", "hidden_layers", "num_outputs", "activation", "output_activation",
                "bias", "init", "dtype"}
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
    if params.get("scoring") is not None and not isinstance(params["scoring"], str):
        logger.warning("scoring=%r is not saved with the estimator (a scorer's name is): "
                       "the loaded estimator has scoring=None", params["scoring"])
        params["scoring"] = None
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


def check_known(names: dict[str, Any], loss: Any) -> None:
    """Refuse, in one line naming it, an activation (``names``: ``{"activation": name or
    names, "output_activation": name or None}``) or a numnet ``loss`` name that this process has
    not registered: a saved estimator names them, never holds their code. The words are
    :func:`numnet.load`'s for a network's activation (its own check)."""
    for key, value in names.items():
        for name in value if isinstance(value, list) else [value]:
            if isinstance(name, str):       # other values: the network's own checks
                _check_activation(key, name)
    if not isinstance(loss, str) or loss not in losses.LOSSES:
        raise ValueError(f"unknown loss {loss!r:.80}: not a loss this process knows; a custom "
                         f"loss is saved by name, never as code: register it before loading, "
                         f"with numnet.losses.register({str(loss).lower()!r:.80}, value, "
                         f"gradient)")


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


# --- the optimizer's state ---------------------------------------------------------------

def plain_json(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples as lists), to compare configs saved and now."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def array_to_json(array: np.ndarray) -> dict[str, Any]:
    """``array`` as ``{"$array": base64 of its little-endian bytes, "dtype", "shape"}``: exact."""
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {"$array": base64.b64encode(little.tobytes()).decode("ascii"),
            "dtype": array.dtype.name, "shape": list(array.shape)}


def array_from_json(value: Any, dtype: np.dtype, size: int) -> np.ndarray:
    """The ``(size,)`` array of ``dtype`` :func:`array_to_json` wrote; anything else is refused."""
    if not isinstance(value, dict) or set(value) != _ARRAY_KEYS:
        raise ValueError(f"an array must be an object with keys {sorted(_ARRAY_KEYS)}")
    if value["dtype"] != dtype.name or value["shape"] != [size]:
        raise ValueError(f"an optimizer array must have dtype {dtype.name} and shape [{size}] "
                         f"(the network's parameters), got {value['dtype']!r:.20} and "
                         f"{value['shape']!r:.50}")
    text = value["$array"]
    if not isinstance(text, str) or len(text) != 4 * -(-size * dtype.itemsize // 3):
        raise ValueError(f"an optimizer array must hold {size} {dtype.name} values as base64")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("an optimizer array is not valid base64") from None
    array = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)
    if array.size != size or not np.isfinite(array).all():
        raise ValueError(f"an optimizer array must hold {size} finite values")
    return array


def optimizer_to_json(state: dict[str, Any]) -> dict[str, Any] | None:
    """``Optimizer.state_dict()`` as JSON (arrays as :func:`array_to_json`), or None when
    its arrays exceed :data:`MAX_OPTIMIZER_BYTES` (logged)."""
    arrays = [v for v in state.values() if isinstance(v, np.ndarray)]
    size = sum(a.nbytes for a in arrays)
    if size > MAX_OPTIMIZER_BYTES:
        logger.warning("the optimizer's state (%d bytes) is not saved with the estimator: over "
                       "%d bytes; a warm-started fit of the loaded estimator restarts it",
                       size, MAX_OPTIMIZER_BYTES)
        return None
    if not all(np.isfinite(a).all() for a in arrays):
        logger.warning("the optimizer's state is not saved with the estimator: it holds "
                       "NaN or infinite values")
        return None
    return {key: array_to_json(value) if isinstance(value, np.ndarray) else value
            for key, value in state.items()}


def optimizer_from_json(saved: Any, config: dict[str, Any], dtype: np.dtype,
                        size: int) -> dict[str, Any]:
    """The ``state_dict`` :func:`optimizer_to_json` wrote, its arrays checked against the
    network (``size`` values of ``dtype``) and its settings against ``config``, the
    ``get_config()`` of the optimizer the estimator's parameters build."""
    if not isinstance(saved, dict):
        raise TypeError(f"the optimizer's state must be an object, got {type(saved).__name__}")
    want = plain_json(config)
    want["initial_learning_rate"] = want.pop("learning_rate")   # the saved one is the rate now
    if {key: saved.get(key) for key in want} != want:
        raise ValueError("the saved optimizer state is not that of the estimator's optimizer "
                         "settings")
    state = {key: array_from_json(value, dtype, size) if isinstance(value, dict)
             and "$array" in value else value for key, value in saved.items()}
    for key in ("learning_rate", "initial_learning_rate"):
        value = state.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not np.isfinite(value):
            raise ValueError(f"the optimizer's {key} must be a finite number")
    if isinstance(state.get("t"), bool) or not isinstance(state.get("t"), int):
        raise ValueError("the optimizer's step count t must be an integer")
    return state


# --- the network, for pickle and skops ----------------------------------------------------

def network_to_plain(net: Network) -> dict[str, Any]:
    """``net`` as plain values: its config (JSON), flat parameters (a copy) and classes."""
    classes = net.classes_
    if classes is not None:
        classes = [c.item() if isinstance(c, np.generic) else c for c in classes]
    return {"config": net.get_config(), "parameters": net.flat_parameters.copy(),
            "classes": classes}


def network_from_plain(plain: Any) -> MLP:
    """The :class:`numnet.MLP` :func:`network_to_plain` described, every value checked first.

    The parameters' count is checked against the config before the network is
    built, so that a file cannot make numnet allocate more than it holds.
    """
    if not isinstance(plain, dict) or set(plain) != _NETWORK_KEYS:
        raise ValueError(f"the network must be an object with keys {sorted(_NETWORK_KEYS)}")
    config, flat = plain["config"], plain["parameters"]
    if not isinstance(config, dict) or set(config) != _CONFIG_KEYS:
        raise ValueError(f"the network's config must have the keys {sorted(_CONFIG_KEYS)}")
    sizes = [config["num_inputs"], *(config["hidden_layers"] or []), config["num_outputs"]]
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and int(n) > 0
               for n in sizes) or not isinstance(config["bias"], bool):
        raise ValueError(f"the network's layer sizes must be positive integers, got "
                         f"{sizes!r:.100}")
    count = sum(int(a) * int(b) + (int(b) if config["bias"] else 0)
                for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    if config["dtype"] not in ("float32", "float64") or not isinstance(flat, np.ndarray) \
            or flat.dtype != np.dtype(config["dtype"]) or flat.shape != (count,):
        raise ValueError(f"the network's parameters must be a {config['dtype']!r:.20} array "
                         f"of shape ({count},)")
    if not np.isfinite(flat).all():
        raise ValueError("the network's parameters must be finite")
    check_known({"activation": config["activation"],
                 "output_activation": config["output_activation"]}, "mse")
    out = config["output_activation"]
    if out == activations.EXP.name and out not in activations.ACTIVATIONS:
        out = activations.EXP           # the log link's inverse, not registered by name
    net = MLP(**{**config, "output_activation": out})
    net.flat_parameters[...] = flat
    classes = plain["classes"]
    if classes is not None:
        if not isinstance(classes, list) or not all(
                isinstance(c, (bool, int, float, str)) for c in classes):
            raise ValueError("the network's classes must be a list of labels")
        check_classes(classes, net)
        net.classes_ = classes
    return net
