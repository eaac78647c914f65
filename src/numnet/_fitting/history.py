"""What happened in each epoch of a ``fit``: :class:`History`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["History"]


@dataclass
class History:
    """What happened in each epoch of a :func:`fit`.

    Attributes
    ----------
    loss, val_loss : list of float
        Training loss per epoch (mean over the epoch's batches) and validation
        loss (empty without validation data).
    metrics : dict of str to list of float
        e.g. ``{"accuracy": [...], "val_accuracy": [...]}``.
    learning_rate, time : list of float
        The optimizer's rate and the wall-clock seconds of each epoch.
    stop_reason : str or None
        Why training ended before ``epochs`` (early stop, divergence, Ctrl-C).
    interrupted : bool
        Whether Ctrl-C stopped the run.
    runner : str or None
        The ``name`` of the runner that trained the latest ``fit`` on this
        history (:mod:`numnet.engine`: ``"reference"``, ``"buffered"``,
        ``"compiled per-example"``, ``"compiled small-batch"``); None in a
        history saved before runners were recorded.
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    learning_rate: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    stop_reason: str | None = None
    interrupted: bool = False
    runner: str | None = None

    @property
    def epochs(self) -> int:
        """Epochs completed."""
        return len(self.loss)

    def record(self, logs: dict[str, float]) -> None:
        """Append one epoch's logs."""
        self.loss.append(logs["loss"])
        if "val_loss" in logs:
            self.val_loss.append(logs["val_loss"])
        for key, value in logs.items():
            if key not in ("loss", "val_loss", "learning_rate", "time"):
                self.metrics.setdefault(key, []).append(value)
        self.learning_rate.append(logs["learning_rate"])
        self.time.append(logs["time"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe copy (for checkpoints and logs)."""
        return {"loss": list(self.loss), "val_loss": list(self.val_loss),
                "metrics": {k: list(v) for k, v in self.metrics.items()},
                "learning_rate": list(self.learning_rate), "time": list(self.time),
                "stop_reason": self.stop_reason, "interrupted": self.interrupted,
                "runner": self.runner}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        return cls(loss=list(data.get("loss", [])), val_loss=list(data.get("val_loss", [])),
                   metrics={k: list(v) for k, v in data.get("metrics", {}).items()},
                   learning_rate=list(data.get("learning_rate", [])),
                   time=list(data.get("time", [])), stop_reason=data.get("stop_reason"),
                   interrupted=bool(data.get("interrupted", False)),
                   runner=_optional_str(data.get("runner")))


def _optional_str(value: Any) -> str | None:
    """``value`` if it is a str, else None (a dict from elsewhere may hold anything)."""
    return value if isinstance(value, str) else None
