"""Argument checks shared by the optimizers and the schedules."""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from numnet.validation import check_positive_float


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}: {value!r}")
    return bool(value)


def check_nonnegative_int(value: Any, name: str) -> int:
    if type(value) is int and value >= 0:      # the common case, without ABC checks
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def check_decay_factor(value: Any, name: str) -> float:
    """A float in (0, 1]: a factor the rate is multiplied by."""
    value = check_positive_float(value, name)
    if value > 1.0:
        raise ValueError(f"{name} must be in (0, 1] (a decay factor), got {value}")
    return value


def check_metric(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"metric must be a real number (NaN allowed), got {type(value).__name__}: {value!r}"
        )
    return float(value)


def check_epoch(epoch: Any) -> int:
    """A 0-based epoch number."""
    return check_nonnegative_int(epoch, "epoch")


def known_kwargs(cls: type, config: Mapping[str, Any], what: str) -> dict[str, Any]:
    """``config`` minus ``"type"``, refusing keys the constructor does not take."""
    kwargs = {k: v for k, v in config.items() if k != "type"}
    valid = [name for name in inspect.signature(cls).parameters]
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown {what} argument(s) {unknown} for {cls.__name__}; valid: {list(valid)}"
        )
    return kwargs
