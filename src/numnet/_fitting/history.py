"""What happened in each epoch of a ``fit``: :class:`History`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["History", "Health"]

# a sigmoid output below this or above 1 minus this, or a tanh output beyond 1 minus twice
# this in size, counts as saturated: the unit's derivative is then under 0.01 (sigmoid) or
# 0.02 (tanh) of its largest, and it learns a hundred times slower than at its centre
NEAR_BOUND = 0.01


@dataclass
class Health:
    """Per measured epoch (``epoch``, 0-based), one value per layer where a list.

    Attributes
    ----------
    epoch : list of int
        The measured epochs, counted from 0.
    grad_norm : list of list of float or None
        ``||dL/dW||`` of each layer's weights on the measured rows: vanishing
        gradients show as early layers orders of magnitude below late ones.
        None stands for a value that is not finite, here and below.
    update_ratio : list of list of float or None
        ``||W_after - W_before|| / ||W_before||`` over the epoch, per layer
        (None where not measurable: zero weights, or an epoch not watched from
        its start): how far one epoch moves the weights.
    saturated : list of list of float or None
        Share of (row, unit) outputs of a sigmoid or tanh layer near its bounds
        (within :data:`NEAR_BOUND` of them); None for other activations.
    dead : list of list of float or None
        Share of a ReLU layer's units that are zero on every measured row; None
        for other activations.
    output_spread : list of float or None
        The largest standard deviation of an output over the rows, divided by
        the targets' largest: near 0 the network gives one answer to every input
        (None when the targets do not vary).
    """

    epoch: list[int] = field(default_factory=list)
    grad_norm: list[list[float | None]] = field(default_factory=list)
    update_ratio: list[list[float | None]] = field(default_factory=list)
    saturated: list[list[float | None]] = field(default_factory=list)
    dead: list[list[float | None]] = field(default_factory=list)
    output_spread: list[float | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.epoch)

    def append(self, epoch: int, record: dict[str, Any]) -> None:
        """Add one epoch's :func:`measure` record."""
        self.epoch.append(epoch)
        for name in ("grad_norm", "update_ratio", "saturated", "dead", "output_spread"):
            getattr(self, name).append(record[name])

    def latest(self) -> dict[str, Any] | None:
        """The last measured epoch's record (with ``epoch``), or None before any."""
        if not self.epoch:
            return None
        return {name: getattr(self, name)[-1] for name in self.to_dict()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe copy (for checkpoints and logs)."""
        return {"epoch": list(self.epoch), "grad_norm": [list(r) for r in self.grad_norm],
                "update_ratio": [list(r) for r in self.update_ratio],
                "saturated": [list(r) for r in self.saturated],
                "dead": [list(r) for r in self.dead], "output_spread": list(self.output_spread)}

    @classmethod
    def from_dict(cls, data: Any) -> Health:
        """Inverse of :meth:`to_dict`; anything else (a history saved before health was
        measured) gives an empty one."""
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(epoch=[int(e) for e in data["epoch"]],
                       grad_norm=[list(r) for r in data["grad_norm"]],
                       update_ratio=[list(r) for r in data["update_ratio"]],
                       saturated=[list(r) for r in data["saturated"]],
                       dead=[list(r) for r in data["dead"]],
                       output_spread=list(data["output_spread"]))
        except (KeyError, TypeError, ValueError):
            return cls()




@dataclass
class History:
    """What happened in each epoch of a :func:`fit`.

    ``fit`` builds and fills it; each parameter is kept as the attribute of
    the same name.

    Parameters
    ----------
    loss, val_loss : list of float
        Training loss per epoch (mean over the epoch's batches) and validation
        loss (empty without validation data).
    metrics : dict of str to list of float
        e.g. ``{"accuracy": [...], "val_accuracy": [...]}``.
    learning_rate, time : list of float
        The optimizer's rate and the wall-clock seconds of each epoch.
    stop_reason : str or None, default None
        Why training ended before ``epochs`` (early stop, divergence, Ctrl-C).
    interrupted : bool, default False
        Whether Ctrl-C stopped the run.
    runner : str or None, default None
        The ``name`` of the runner that trained the latest ``fit`` on this
        history (:mod:`numnet.engine`: ``"reference"``, ``"buffered"``,
        ``"compiled per-example"``, ``"compiled small-batch"``); None in a
        history saved before runners were recorded.
    health : Health
        Gradient norms, saturated and dead units, update sizes and the
        outputs' spread, measured on some epochs (:class:`Health`).
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    learning_rate: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    stop_reason: str | None = None
    interrupted: bool = False
    runner: str | None = None
    health: Health = field(default_factory=Health)

    @property
    def epochs(self) -> int:
        """Epochs completed."""
        return len(self.loss)

    def record(self, logs: dict[str, float]) -> None:
        """Append one epoch's logs.

        Parameters
        ----------
        logs : dict of str to float
            ``"loss"``, ``"learning_rate"`` and ``"time"``, and
            ``"val_loss"`` with validation data; every other key is a metric,
            appended to :attr:`metrics` under its name.
        """
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
                "runner": self.runner, "health": self.health.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        return cls(loss=list(data.get("loss", [])), val_loss=list(data.get("val_loss", [])),
                   metrics={k: list(v) for k, v in data.get("metrics", {}).items()},
                   learning_rate=list(data.get("learning_rate", [])),
                   time=list(data.get("time", [])), stop_reason=data.get("stop_reason"),
                   interrupted=bool(data.get("interrupted", False)),
                   runner=_optional_str(data.get("runner")),
                   health=Health.from_dict(data.get("health")))


def _optional_str(value: Any) -> str | None:
    """``value`` if it is a str, else None (a dict from elsewhere may hold anything)."""
    return value if isinstance(value, str) else None
