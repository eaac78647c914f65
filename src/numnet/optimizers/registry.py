"""Optimizers by name and from configs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from numnet.validation import known_kwargs

from .adagrad import Adagrad
from .adam import ADAM_RULE, Adam, AdamW
from .base import KernelRule, Optimizer
from .rmsprop import RMSprop
from .sgd import SGD, SGD_RULE

__all__ = ["OPTIMIZERS", "KERNEL_RULES", "get_optimizer", "optimizer_from_config"]

# every update rule with a compiled form (an optimizer's kernel_spec() names one)
KERNEL_RULES: dict[str, KernelRule] = {rule.name: rule for rule in (SGD_RULE, ADAM_RULE)}

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
}


def _optimizer_class(name: Any) -> type[Optimizer]:
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a string, got {type(name).__name__}: {name!r}")
    cls = OPTIMIZERS.get(name.lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(OPTIMIZERS)}")
    return cls


def get_optimizer(name_or_obj: str | Optimizer | Mapping[str, Any],
                  learning_rate: float | None = None) -> Optimizer:
    """An optimizer from a name, a config, or an instance.

    Parameters
    ----------
    name_or_obj : str, Optimizer or dict
        ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"`` or ``"adagrad"``
        (case-insensitive), built with its defaults; an :class:`Optimizer`,
        returned as is; or a config from :meth:`Optimizer.get_config`.
    learning_rate : float, optional
        Overrides the default (or the config's) rate. An instance has its
        own rate: giving one as well is an error (it would be ignored).

    Examples
    --------
    >>> get_optimizer("SGD", learning_rate=0.1)
    SGD(learning_rate=0.1, momentum=0.0, nesterov=False, weight_decay=0.0, schedule=None)
    """
    if isinstance(name_or_obj, Optimizer):
        if learning_rate is not None:
            name = type(name_or_obj).__name__
            raise ValueError(
                f"learning_rate={learning_rate} was given with an optimizer instance "
                f"({name}, learning rate {name_or_obj.learning_rate}), which keeps its own "
                f"rate; give the rate to the optimizer, {name}({learning_rate}), or pass it "
                f"by name: optimizer={name.lower()!r}, learning_rate={learning_rate}"
            )
        return name_or_obj
    if isinstance(name_or_obj, Mapping):
        config = dict(name_or_obj)
        if learning_rate is not None:
            config["learning_rate"] = learning_rate
        return optimizer_from_config(config)
    cls = _optimizer_class(name_or_obj)
    if learning_rate is None:
        return cls()                     # type: ignore[call-arg]  # the subclasses have defaults
    return cls(learning_rate=learning_rate)


def optimizer_from_config(config: Mapping[str, Any]) -> Optimizer:
    """Rebuild an optimizer (and its schedule) from :meth:`Optimizer.get_config`.

    Parameters
    ----------
    config : dict
        ``"type"`` (the class name, e.g. ``"Adam"``) and the constructor arguments.

    Returns
    -------
    Optimizer
        A fresh optimizer: no steps taken, no state.
    """
    if not isinstance(config, Mapping) or "type" not in config:
        raise ValueError(f"an optimizer config must be a dict with a 'type' key, got {config!r}")
    cls = _optimizer_class(config["type"])
    return cls(**known_kwargs(cls, config, "optimizer"))

