# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo lint test docs bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# One stamp per set of extras, so each target installs what it needs once.
# After installing, `numnet compile` fills numba's cache (once: about a minute), so
# that no command waits for the compiler later.
$(VENV)/.demo: pyproject.toml | $(PY)
	$(PIP) -e ".[cli,fast]"
	$(PY) -m numnet compile
	@touch $@

$(VENV)/.test: pyproject.toml | $(PY)
	$(PIP) -e ".[test]"
	$(PY) -m numnet compile
	@touch $@

$(VENV)/.bench: pyproject.toml | $(PY)
	$(PIP) -e ".[bench]"
	@touch $@

demo: $(VENV)/.demo
	$(PY) -m numnet demo

# style (ruff), types (mypy) and the layer contracts (import-linter, see pyproject.toml)
lint: $(VENV)/.test
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Both cores (pytest-xdist): each test module runs whole in one worker, so a module's
# fixtures are made once; the slowest tests are listed at the end. One OpenBLAS thread per
# process: the workers already keep both cores busy, and a second BLAS thread in each test's
# process (and in the commands it starts) only spins against the other worker (measured: the
# same tests in 22% less time). Tests of numnet's own thread rules set their limits themselves.
test: lint
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadscope --durations=15

# the site (docs/, mkdocs.yml) into site/, warnings as errors; `mkdocs serve` to read it live
docs: $(VENV)/.test
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

bench: $(VENV)/.bench
	$(PY) -m benchmarks.run
	$(PY) -m benchmarks.tutorial_loop
	$(PY) -m benchmarks.sweep_preset

clean:
	rm -rf $(VENV) site build dist src/*.egg-info .pytest_cache .hypothesis
	find src tests benchmarks -name __pycache__ -prune -exec rm -rf {} +   # numba caches too
