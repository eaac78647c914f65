"""Every ``examples/*.py`` runs as a reader runs it and keeps the examples' conventions.

The examples are found by glob, so a new one is covered without being listed here:

* **conventions** (read from the source, and from ``--help``): a module docstring whose first
  line is a one-sentence summary, ``def main(argv=None)``, ``if __name__ == "__main__":``
  calling it (process and Dask workers import the script: nothing but imports, definitions
  and constants at module level), ``--quick`` in its ``--help``, and neither NumPy's global
  random generator nor pickle;
* **smoke run**: ``python examples/NAME.py --quick`` in a fresh process, its working folder
  an empty temporary one, ``MPLBACKEND=Agg``, within :data:`TIMEOUT` seconds; it exits 0 and
  its last line of output holds a number (the result it computed).

The processes start together when the first test needs one and run as many at a time as
there are cores; each test then waits for its own.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
#: Seconds a ``--quick`` run may take here before it counts as hung (the aim: under 30 s).
TIMEOUT = 120
HELP_TIMEOUT = 60

#: Slow examples whose ``--quick`` run another test file makes (with checks of its own): the
#: smoke run leaves them out while that file exists, so that they do not run twice.
RUN_ELSEWHERE = {"spoken_words.py": "test_spoken_words.py"}
#: Programs an example needs besides Python.
PROGRAMS = {"spoken_words.py": "espeak-ng"}
# NumPy's global generator: np.random.seed, np.random.rand, ... (np.random.default_rng is fine)
GLOBAL_RNG = re.compile(
    r"\b(np|numpy)\.random\.(seed|rand|randn|randint|random|random_sample|choice|shuffle|"
    r"permutation|normal|uniform|standard_normal|get_state|set_state)\(")
NUMBER = re.compile(r"\d")


def ids(paths):
    return [p.name for p in paths]


def environment():
    """This Python's bin folder first on PATH (as the venv is activated), plots headless."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def is_main_guard(node):
    """``if __name__ == "__main__":``"""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


SETUP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
         ast.Assign, ast.AnnAssign)


def is_setup(node):
    """Module-level code that only sets up: imports, definitions, constants, and ``try:`` or
    ``if TYPE_CHECKING:`` blocks of those (an optional import)."""
    if isinstance(node, SETUP):
        return True
    if isinstance(node, ast.Try):
        return all(is_setup(n) for n in node.body)
    if isinstance(node, ast.If) and not is_main_guard(node):
        return all(is_setup(n) for n in (*node.body, *node.orelse))
    return False


def test_there_are_examples():
    assert EXAMPLES, f"no examples in {EXAMPLES_DIR}"


@pytest.mark.parametrize("example", EXAMPLES, ids=ids(EXAMPLES))
def test_source_keeps_the_conventions(example):
    source = example.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(example))

    doc = ast.get_docstring(tree)
    assert doc, f"{example.name}: no module docstring saying what it shows"
    summary = doc.splitlines()[0].strip()
    assert summary.endswith("."), f"{example.name}: the docstring's first line is not a " \
                                  f"one-sentence summary ending in '.': {summary!r}"

    mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
    assert mains, f"{example.name}: no module-level def main(argv=None)"
    args = mains[0].args
    assert [a.arg for a in args.args][:1] == ["argv"] and args.defaults \
        and len(args.defaults) == len(args.args) \
        and isinstance(args.defaults[0], ast.Constant) and args.defaults[0].value is None, \
        f"{example.name}: main's signature is not main(argv=None)"

    guards = [n for n in tree.body if is_main_guard(n)]
    assert guards, f'{example.name}: no if __name__ == "__main__":'
    calls = [n for n in ast.walk(guards[0]) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id == "main"]
    assert calls, f'{example.name}: if __name__ == "__main__": does not call main()'

    for node in tree.body[1:]:           # after the docstring
        assert is_setup(node) or is_main_guard(node), (
            f"{example.name}, line {node.lineno}: module-level {type(node).__name__} outside "
            f'if __name__ == "__main__": (worker processes import the script)')

    found = GLOBAL_RNG.search(source)
    assert not found, f"{example.name}: uses NumPy's global generator ({found[0]}); use " \
                      f"np.random.default_rng(seed) or random_state="
    assert not re.search(r"^\s*(import|from)\s+(c?pickle|dill|joblib)\b", source, re.M), \
        f"{example.name}: imports pickle (or a pickling library)"


def skip_reason(example):
    """Why the smoke run leaves ``example`` out (None: it runs)."""
    program = PROGRAMS.get(example.name)
    if program is not None and shutil.which(program) is None:
        return f"{example.name} needs {program}, which is not installed"
    elsewhere = RUN_ELSEWHERE.get(example.name)
    if elsewhere is not None and (Path(__file__).parent / elsewhere).exists():
        return (f"{example.name} --quick runs in tests/{elsewhere}, with its own checks "
                f"(about a minute): not run twice")
    return None


def commands(example):
    """``{kind: arguments}``: ``--help``, and the smoke run's ``--quick``."""
    return {"help": ["--help"], "quick": ["--quick"]}


def run(example, arguments, folder, timeout):
    """``python examples/NAME.py ARGUMENTS`` in ``folder``: the finished process, or the
    :class:`subprocess.TimeoutExpired` that ended it."""
    try:
        return subprocess.run([sys.executable, str(example), *arguments], cwd=folder,
                              env=environment(), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return exc


@pytest.fixture(scope="module")
def started(request, tmp_path_factory):
    """The processes the selected tests of this file check, all submitted at once and run as
    many at a time as there are cores: ``{(name, kind): Future}``."""
    here = Path(__file__).resolve()
    kinds = {"test_help_offers_quick": "help",
             "test_quick_run_exits_0_and_ends_with_a_result": "quick"}
    wanted = [(item.callspec.params["example"], kinds[item.originalname])
              for item in request.session.items
              if Path(item.path).resolve() == here and item.originalname in kinds]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {}
        for example, kind in wanted:
            if kind == "quick" and skip_reason(example) is not None:
                continue
            folder = tmp_path_factory.mktemp(f"{example.stem}-{kind}")   # empty
            futures[example.name, kind] = pool.submit(
                run, example, commands(example)[kind], folder,
                HELP_TIMEOUT if kind == "help" else TIMEOUT)
        yield futures
        for future in futures.values():
            future.cancel()                 # a test stopped early: start nothing more


def finished(started, example, kind):
    """The process of ``example`` started for ``kind``; a failure if it did not end in time."""
    done = started[example.name, kind].result()
    if isinstance(done, subprocess.TimeoutExpired):
        printed = "".join(part.decode(errors="replace") if isinstance(part, bytes) else part
                          for part in (done.stdout or "", done.stderr or ""))
        pytest.fail(f"{example.name} {' '.join(commands(example)[kind])} did not end within "
                    f"{done.timeout:g} s:\n{printed}")
    return done


@pytest.mark.parametrize("example", EXAMPLES, ids=ids(EXAMPLES))
def test_help_offers_quick(example, started):
    done = finished(started, example, "help")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--quick" in done.stdout, f"{example.name} --help names no --quick:\n{done.stdout}"


@pytest.mark.parametrize("example", EXAMPLES, ids=ids(EXAMPLES))
def test_quick_run_exits_0_and_ends_with_a_result(example, started):
    reason = skip_reason(example)
    if reason is not None:
        pytest.skip(reason)
    done = finished(started, example, "quick")
    command = f"{example.name} {' '.join(commands(example)['quick'])}"
    assert done.returncode == 0, (f"{command} exited {done.returncode}:\n"
                                  f"{done.stdout}{done.stderr}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines, f"{command} printed nothing"
    assert NUMBER.search(lines[-1]), f"{command}: the last line holds no number: {lines[-1]!r}"
