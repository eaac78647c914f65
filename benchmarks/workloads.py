"""The benchmark workloads, described as data, and their seeded data sets.

A :class:`Workload` says what network to train on what data with which
optimiser, and how long to measure it. Every implementation builds the same
network from the same description and trains on the same arrays (built by
:func:`make_data` from a fixed seed), so "seconds per epoch" means the same
work in every row.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SEED = 12345


@dataclass(frozen=True)
class Workload:
    """One benchmark workload.

    Attributes
    ----------
    id, title : str
        Short id ("W1") and a one-line description for the table.
    n_in, hidden, n_out : int, tuple of int, int
        Layer sizes.
    activation, output_activation : str
        Hidden and output activation ("sigmoid", "relu", "softmax").
    loss : str
        "mse" or "categorical_cross_entropy".
    optimizer, lr : str, float
        "sgd" (plain: no momentum, no weight decay) or "adam".
    batch_size, n_examples : int
        Mini-batch size and examples per epoch.
    dtype : str
        The dtype numnet and the NumPy baseline use ("float64" or "float32").
        PyTorch runs float32 (unless ``torch_follows_dtype``); scikit-learn
        and JAX follow the data's dtype.
    data : str
        Data generator name, see :func:`make_data`.
    min_repeats, budget_s : int, float
        Timed epochs: at least ``min_repeats``, then more until ``budget_s``
        seconds of timed work (capped at ``max_repeats``).
    multi_epochs : int
        numnet is also timed as one ``fit(..., epochs=multi_epochs)`` call.
    report_flops : bool
        Print GFLOP/s and % of the GEMM peak for this workload.
    extra_impls : tuple of str
        Implementations measured only on this workload ("numnet-tutorial").
    timeout_s : float
        Wall-clock limit for one worker process.
    quick : dict
        Field overrides applied by ``--quick``.
    mode : str
        "train" (epochs of training) or "predict" (calls of a forward pass on
        ``n_examples`` rows, with the untrained network's weights).
    per, unit : str
        The headline figure: seconds ("s"), "ms" or "µs" per "epoch", per
        "example" (of an epoch) or per "call" (one ``epochs=1`` training call,
        or one predict call).
    statistic : str
        "median" of the timed epochs or calls, or "best" (the fastest; for
        calls of a few microseconds, where any interruption is noise).
    calls_per_timing : int
        Predict calls timed together, the time divided by their number (for
        calls too short to time one by one).
    impls : tuple of str, optional
        Every implementation listed for this workload, in table order; those
        that cannot run it show "n/a" and why. None: the default set plus
        ``extra_impls``.
    torch_follows_dtype : bool
        PyTorch computes in ``dtype`` too (else float32, as on W1-W4).
    floor : str, optional
        The machine limit that bounds the figure from below: "memory" (every
        parameter read and written once per example, at the measured copy
        bandwidth) or "gemm" (the forward's flops at the GEMM peak).
    """

    id: str
    title: str
    n_in: int
    hidden: tuple[int, ...]
    n_out: int
    activation: str
    output_activation: str
    loss: str
    optimizer: str
    lr: float
    batch_size: int
    n_examples: int
    dtype: str
    data: str
    min_repeats: int = 5
    max_repeats: int = 200
    budget_s: float = 3.0
    multi_epochs: int = 5
    report_flops: bool = False
    extra_impls: tuple[str, ...] = ()
    timeout_s: float = 300.0
    quick: dict[str, Any] = field(default_factory=dict)
    mode: str = "train"
    per: str = "epoch"
    unit: str = "s"
    statistic: str = "median"
    calls_per_timing: int = 1
    impls: tuple[str, ...] | None = None
    torch_follows_dtype: bool = False
    floor: str | None = None

    @property
    def layer_sizes(self) -> list[int]:
        return [self.n_in, *self.hidden, self.n_out]

    @property
    def num_parameters(self) -> int:
        """Weights plus biases."""
        sizes = self.layer_sizes
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    @property
    def is_classification(self) -> bool:
        return self.output_activation == "softmax"

    @property
    def flops_per_epoch(self) -> float:
        """Training FLOPs per epoch: 2 (forward) + 4 (backward) per parameter per example."""
        return 6.0 * self.num_parameters * self.n_examples

    @property
    def flops_per_call(self) -> float:
        """Forward FLOPs of one predict call: 2 per weight per row."""
        sizes = self.layer_sizes
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        return 2.0 * weights * self.n_examples

    @property
    def parameter_bytes(self) -> int:
        """Bytes of the parameters in ``dtype``."""
        return self.num_parameters * (8 if self.dtype == "float64" else 4)

    @property
    def label(self) -> str:
        """The headline figure's unit, e.g. "ms/example"."""
        return f"{self.unit}/{self.per}"

    @property
    def architecture(self) -> str:
        hidden = ",".join(str(h) for h in self.hidden)
        return f"{self.n_in}->[{hidden}]->{self.n_out}"

    def quick_version(self) -> Workload:
        """This workload with its ``quick`` overrides applied."""
        return dataclasses.replace(self, **self.quick)

    def describe(self) -> dict[str, Any]:
        """JSON-safe description for the results file."""
        d = dataclasses.asdict(self)
        d.pop("quick")
        d.update(num_parameters=self.num_parameters, flops_per_epoch=self.flops_per_epoch,
                 flops_per_call=self.flops_per_call, parameter_bytes=self.parameter_bytes,
                 architecture=self.architecture, label=self.label)
        return d


# Every implementation, listed on each new workload (those that cannot run it show n/a).
NEW_WORKLOAD_IMPLS = ("numnet", "sklearn", "torch", "numpy", "jax", "onnxruntime")
NEW_WORKLOAD_IMPLS_TUTORIAL = ("numnet", "numnet-tutorial", *NEW_WORKLOAD_IMPLS[1:])

WORKLOADS: dict[str, Workload] = {w.id: w for w in [
    Workload(
        id="W1", title="tutorial toy: y = 1 - x, per-example SGD",
        n_in=1, hidden=(3,), n_out=1, activation="sigmoid", output_activation="sigmoid",
        loss="mse", optimizer="sgd", lr=0.1, batch_size=1, n_examples=1_000,
        dtype="float64", data="one_minus_x", min_repeats=5, budget_s=3.0, multi_epochs=20,
        extra_impls=("numnet-tutorial",),
        quick=dict(min_repeats=3, budget_s=1.0, multi_epochs=10)),
    Workload(
        id="W2", title="sum of two numbers, SGD batch 32",
        n_in=2, hidden=(5,), n_out=1, activation="sigmoid", output_activation="sigmoid",
        loss="mse", optimizer="sgd", lr=0.1, batch_size=32, n_examples=100_000,
        dtype="float64", data="sum_of_two", min_repeats=5, budget_s=4.0, multi_epochs=5,
        quick=dict(min_repeats=3, budget_s=1.0, multi_epochs=3)),
    Workload(
        id="W3", title="gaussian blobs, 10 classes, Adam batch 64",
        n_in=64, hidden=(128, 64), n_out=10, activation="relu", output_activation="softmax",
        loss="categorical_cross_entropy", optimizer="adam", lr=1e-3, batch_size=64,
        n_examples=20_000, dtype="float64", data="blobs", min_repeats=5, budget_s=4.0,
        multi_epochs=5, report_flops=True,
        quick=dict(min_repeats=3, budget_s=1.0, multi_epochs=3)),
    Workload(
        id="W4", title="wide MLP on 784 features, float32, SGD batch 256",
        n_in=784, hidden=(1024, 1024), n_out=10, activation="relu", output_activation="softmax",
        loss="categorical_cross_entropy", optimizer="sgd", lr=0.01, batch_size=256,
        n_examples=30_000, dtype="float32", data="blobs", min_repeats=3, budget_s=6.0,
        max_repeats=5, multi_epochs=2, report_flops=True, timeout_s=600.0,
        quick=dict(n_examples=6_000, min_repeats=2, budget_s=2.0, multi_epochs=2,
                   timeout_s=300.0)),
    *(Workload(
        id=f"W5-{short}", title="the tutorial's deep network, per-example SGD",
        n_in=1, hidden=(1024,) * 5, n_out=1, activation="sigmoid", output_activation="sigmoid",
        loss="mse", optimizer="sgd", lr=0.1, batch_size=1, n_examples=200, dtype=dtype,
        data="one_minus_x", min_repeats=3, max_repeats=10, budget_s=8.0, multi_epochs=2,
        timeout_s=600.0, per="example", unit="ms", impls=NEW_WORKLOAD_IMPLS_TUTORIAL,
        torch_follows_dtype=True, floor="memory",
        quick=dict(n_examples=30, min_repeats=2, budget_s=1.0, multi_epochs=2))
      for short, dtype in (("f32", "float32"), ("f64", "float64"))),
    Workload(
        id="W6a", title="one-row predict_proba, W3's network",
        n_in=64, hidden=(128, 64), n_out=10, activation="relu", output_activation="softmax",
        loss="categorical_cross_entropy", optimizer="adam", lr=1e-3, batch_size=1,
        n_examples=1, dtype="float32", data="blobs", mode="predict", per="call", unit="µs",
        statistic="best", calls_per_timing=100, min_repeats=50, max_repeats=300, budget_s=2.0,
        impls=NEW_WORKLOAD_IMPLS, torch_follows_dtype=True,
        quick=dict(min_repeats=20, budget_s=0.5)),
    *(Workload(
        id=f"W6b-{short}", title="100,000-row predict_proba, W3's network",
        n_in=64, hidden=(128, 64), n_out=10, activation="relu", output_activation="softmax",
        loss="categorical_cross_entropy", optimizer="adam", lr=1e-3, batch_size=100_000,
        n_examples=100_000, dtype=dtype, data="blobs", mode="predict", per="call", unit="ms",
        min_repeats=5, max_repeats=50, budget_s=3.0, impls=NEW_WORKLOAD_IMPLS,
        torch_follows_dtype=True, floor="gemm",
        quick=dict(min_repeats=3, budget_s=1.0))
      for short, dtype in (("f32", "float32"), ("f64", "float64"))),
    Workload(
        id="C", title="one fit call on 10 examples (per-call overhead)",
        n_in=2, hidden=(5,), n_out=1, activation="sigmoid", output_activation="sigmoid",
        loss="mse", optimizer="sgd", lr=0.1, batch_size=10, n_examples=10,
        dtype="float64", data="sum_of_two", per="call", unit="µs", min_repeats=200,
        max_repeats=3000, budget_s=2.0, multi_epochs=1, impls=NEW_WORKLOAD_IMPLS,
        torch_follows_dtype=True, quick=dict(min_repeats=100, budget_s=0.5)),
]}


def selected(names: list[str]) -> list[str]:
    """Workload ids for ``--only`` names: an id, or the prefix of ids that differ only by
    dtype ("W5" gives "W5-f32" and "W5-f64"). Raises ValueError naming unknown ones."""
    ids, unknown = [], []
    for name in names:
        match = [wid for wid in WORKLOADS if wid == name or wid.startswith(name + "-")]
        if not match:
            unknown.append(name)
        ids += [wid for wid in match if wid not in ids]
    if unknown:
        raise ValueError(f"unknown workload(s): {', '.join(unknown)}; known: "
                         f"{', '.join(WORKLOADS)} (W5 and W6b select both dtypes)")
    return ids


# --- data --------------------------------------------------------------------------

def make_data(w: Workload) -> dict[str, Any]:
    """The workload's training data, identical for every implementation.

    Returns a dict with ``X`` (n, n_in) and ``Y`` (n, n_out) in ``w.dtype``
    (``Y`` one-hot for classification) and, for classification, integer
    ``labels`` (n,).
    """
    import numpy as np

    rng = np.random.default_rng(SEED)
    dtype = np.dtype(w.dtype)
    n = w.n_examples
    if w.data == "one_minus_x":
        X = rng.random((n, 1))
        Y = 1.0 - X
        return {"X": X.astype(dtype), "Y": Y.astype(dtype)}
    if w.data == "sum_of_two":
        X = rng.random((n, 2)) * 0.5
        Y = X.sum(axis=1, keepdims=True)
        return {"X": X.astype(dtype), "Y": Y.astype(dtype)}
    if w.data == "blobs":
        X, labels = _blobs(rng, n, w.n_in, w.n_out, dtype)
        Y = np.zeros((n, w.n_out), dtype=dtype)
        Y[np.arange(n), labels] = 1
        return {"X": X, "Y": Y, "labels": labels}
    raise ValueError(f"unknown data generator {w.data!r}")


def _blobs(rng, n: int, n_features: int, n_classes: int, dtype):
    """Gaussian blobs: one unit-variance cloud per class around a random centre.

    Centres have standard deviation ``2 / sqrt(n_features)`` per feature, so two
    centres are about 2.8 standard deviations apart whatever the dimension:
    the classes overlap and stay learnable, never trivially separable. The
    noise is drawn directly in ``dtype``, so the large float32 set never exists
    as float64.
    """
    import numpy as np

    spread = 2.0 / np.sqrt(n_features)
    centres = (spread * rng.standard_normal((n_classes, n_features))).astype(dtype)
    labels = rng.integers(0, n_classes, size=n)
    X = rng.standard_normal((n, n_features), dtype=dtype)
    X += centres[labels]
    return X, labels
