"""``numnet compile``: compile the numba kernels into numba's cache, once, ahead of use."""

from __future__ import annotations

import time
from collections.abc import Iterator

import click
import numpy as np

from numnet import MLP, engine, fit

from ._common import CliError, user_errors

# (what it is, runner preference, batch size, optimizer): each compiles its kernel
_TRAINING = (
    ("per-example training", "compiled", 1, "sgd"),
    ("small-batch training", "compiled", 4, "adam"),
    ("the large-network update", "buffered", 8, "adam"),
)


def compile_kernels() -> Iterator[str]:
    """Run every compiled kernel once on a tiny network per dtype; yield what each was.

    numba compiles a kernel at its first call for each dtype and caches it on
    disk (beside the kernel's source), so later processes only load it.
    """
    rng = np.random.default_rng(0)
    X, y = rng.random((8, 2)), rng.random(8)
    for dtype in ("float64", "float32"):
        for what, prefer, batch_size, optimizer in _TRAINING:
            net = MLP(2, [3], 1, dtype=dtype, random_state=0)
            with engine.preferred_runner(prefer):
                fit(net, X, y, batch_size=batch_size, optimizer=optimizer, epochs=1,
                    verbose=False, random_state=0)
            yield f"{what}, {dtype}"
        net = MLP(2, [3], 1, dtype=dtype, random_state=0)
        net.forward(X[:1])                                      # a few rows: one call
        net.forward(np.zeros((engine.inference.FEW_ROWS_WORK, 2)))   # many: block by block
        yield f"inference, {dtype}"


@click.command("compile")
@user_errors
def compile_command() -> None:
    """Compile numnet's numba kernels now, so that the first training starts at once.

    \b
    numba compiles each kernel the first time it runs and keeps it in its
    cache on disk; later runs load it in about a second. `make demo` and
    `make test` run this once after installing. Needs the fast extra
    (pip install 'numnet[fast]').
    """
    if not engine.compiled_available():
        raise CliError("numba is not installed, so there is nothing to compile; "
                       "install it with: pip install 'numnet[fast]'")
    start = time.perf_counter()
    count = 0
    for what in compile_kernels():
        count += 1
        click.echo(f"  {what}: ready ({time.perf_counter() - start:.1f} s)", err=True)
    click.echo(f"compiled {count} kernel sets in {time.perf_counter() - start:.1f} s")
