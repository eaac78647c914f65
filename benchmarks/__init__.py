"""Benchmarks: numnet against scikit-learn, PyTorch (CPU) and plain NumPy.

Run ``python -m benchmarks.run`` (or ``make bench``). Each (workload,
implementation) pair is measured in its own subprocess by
:mod:`benchmarks.worker`; :mod:`benchmarks.run` collects the JSON results,
prints the table and writes ``benchmarks/results/latest.{json,md}``.
See ``benchmarks/README.md``.
"""
