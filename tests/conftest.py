"""Shared fixtures (a fresh seeded Generator per test) and the Hypothesis profiles.

The property-based tests run under the ``ci`` profile when the ``CI``
environment variable is set (``CI=true``, as CI services set it): examples are
derived from each test's name (``derandomize``), no example database is read
or written, and a failure prints the blob that reproduces it, so a CI run
fails or passes the same way every time. Elsewhere the ``dev`` profile keeps
Hypothesis's defaults: random examples, and failures remembered in
``.hypothesis/`` (ignored by git) to be replayed first. ``HYPOTHESIS_PROFILE``
picks a profile by name.
"""

import atexit
import os
import shutil
import signal
import tempfile

import numpy as np
import pytest
from hypothesis import settings

# Both from Hypothesis's "default" profile: Hypothesis itself loads its own "ci" profile
# whenever a CI variable exists (even CI=false), which must not leak into "dev".
settings.register_profile("ci", settings.get_profile("default"), derandomize=True,
                          database=None, print_blob=True)
settings.register_profile("dev", settings.get_profile("default"))


def _profile() -> str:
    chosen = os.environ.get("HYPOTHESIS_PROFILE")
    if chosen:
        return chosen
    ci = os.environ.get("CI", "").strip().lower()
    return "ci" if ci not in ("", "0", "false", "no") else "dev"


settings.load_profile(_profile())

# The tests of Ctrl-C send SIGINT to the suite's own process and to the commands it starts.
# A shell without job control starts a background job with SIGINT ignored, and an ignored
# signal stays ignored in every child: take Ctrl-C as a terminal gives it, however the suite
# was started (children then start with SIGINT at its default).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# numnet.audio's feature cache goes to a folder of this run (commands started by tests
# inherit it), never to the user's ~/.cache
_cache = tempfile.mkdtemp(prefix="numnet-test-cache-")
os.environ["NUMNET_CACHE_DIR"] = _cache
atexit.register(shutil.rmtree, _cache, ignore_errors=True)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _registries_as_they_were():
    """Activations, losses and ONNX builders a test registers (the README's blocks, the
    custom-function tests) are gone after it, so no test depends on the order tests run in."""
    import sys

    from numnet import activations, losses

    registries = [activations.ACTIVATIONS, losses.LOSSES]
    onnx = sys.modules.get("numnet.onnx")
    if onnx is not None:
        registries.append(onnx.ACTIVATIONS)
    before = [dict(registry) for registry in registries]
    yield
    for registry, entries in zip(registries, before, strict=True):
        registry.clear()
        registry.update(entries)
