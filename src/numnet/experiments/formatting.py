"""How a sweep's factors, values, numbers and settings are written in tables, plots and text.

One place for the wording, so that ``summary.csv``, the plots' axes and
``report.md`` name a factor, a value or a mean the same way.

>>> label("hidden_layers", [3]), label("init", None)
('(3,)', 'default')
>>> plus_minus(0.012345, 0.0011)
'0.0123 ± 0.0011'
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["FACTOR_NAMES", "METRIC_NAMES", "factor_name", "label", "fmt", "plus_minus",
           "setting_text"]

#: How a factor is named in headings, axes and sentences (others by their own name).
FACTOR_NAMES = {"hidden_layers": "hidden layers", "n_samples": "training samples (N)",
                "learning_rate": "learning rate", "batch_size": "batch size"}

#: How a measurement is named.
METRIC_NAMES = {"test_error": "test error", "validation_error": "validation error",
                "train_error": "training error", "final_loss": "final training loss"}


def factor_name(factor: str) -> str:
    """The reader's name of ``factor``: ``"learning rate"`` for ``learning_rate``."""
    return FACTOR_NAMES.get(factor, factor)


def label(factor: str, value: Any) -> str:
    """How a factor's value is shown: ``(3, 2)`` for hidden layers, ``default`` for None."""
    if factor == "hidden_layers" and isinstance(value, list):
        return "(" + ", ".join(str(v) for v in value) + (",)" if len(value) == 1 else ")")
    if value is None:
        return "default"
    return str(value)


def fmt(x: float | None, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits; a dash for a missing value (None or NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}g}"


def plus_minus(mean: float, std: float) -> str:
    """``mean ± std`` (the std to two digits), a dash for a missing part."""
    if mean is None or math.isnan(mean):
        return "–"
    return f"{fmt(mean)} ± {fmt(std, 2) if not math.isnan(std) else '–'}"


def setting_text(settings_json: str, only: set[str] | None = None) -> str:
    """A setting (its JSON text) as ``factor=value, ...``, only the factors in ``only`` if
    given (e.g. those that tell two settings apart)."""
    s = json.loads(settings_json)
    return ", ".join(f"{k}={label(k, v)}" for k, v in s.items() if only is None or k in only)
