"""No two modules of the package import each other, directly or round a circle.

``lint-imports`` checks that layers import downward, but the faces are one
layer whose modules may import each other, and it cannot see an import named
by a string. This test builds the graph of ``numnet.*`` modules from the
source (``ast``, nothing is imported) and fails on every circle in it.

What is an edge ``A -> B`` (``A`` imports ``B``):

- every ``import`` and ``from ... import`` statement anywhere in ``A``: at
  module level, in a function or method body, and under ``if TYPE_CHECKING:``
  (a type-only import still ties the two modules together, and is how a
  circle is usually hidden);
- ``from P import name`` is an edge to ``P.name`` when that is a module of the
  package, else to ``P`` (``name`` is then defined by ``P/__init__.py``): so
  a submodule doing ``from numnet import MLP`` imports the facade,
  ``numnet/__init__.py``, while ``from numnet import optimizers`` imports
  ``numnet.optimizers``; a name that is no module resolves to the nearest
  enclosing module that exists;
- an import by string: a constant ``importlib.import_module("numnet.x")`` or
  ``__import__("numnet.x")``, and, in a module that calls either with a
  computed name, every string constant in it that is exactly the name of a
  module of the package (e.g. a dict of module names to import on demand).

Not an edge: Python importing a module's parent packages first. That happens
for every import of a submodule, and counting it would tie every module to
the facade; ``A`` imports the facade only when its own statements name it.

The facade (``numnet/__init__.py``) gets no exception: it imports the faces
it re-exports, so none of those may import it back (at import time that
module would see a half-initialised package); faces the facade does not
import (the CLI, the estimators, ONNX, ...) may use ``from numnet import ...``
freely, as no circle closes.

Allowed circles are the edges in ``ALLOWED`` below, each with its reason; the
list should stay short, and shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "numnet"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE

#: Edges ``(importer, imported)`` left out of the graph, each with a comment saying why.
ALLOWED: frozenset[tuple[str, str]] = frozenset({
    # numnet._moved names where the old path numnet.data now lives; it imports it only
    # when a user imports numnet.data, which numnet itself never does
    # (tests/test_moved.py imports every module of numnet with the warning an error)
    ("numnet._moved", "numnet.cli.data"),
})

Edge = tuple[str, str, str]          # (importer, imported, "file:line")


def modules(root: Path = SOURCE) -> dict[str, Path]:
    """Every module of the package under ``root``: dotted name -> file."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _nearest(name: str, known: dict[str, Path]) -> str | None:
    """``name`` if it is a module of the package, else its nearest enclosing one."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def _base(module: str, path: Path, level: int) -> str:
    """The package a relative import of ``level`` dots in ``module`` starts from."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    parts = package.split(".")
    return ".".join(parts[:len(parts) - (level - 1)])


def _is_import_call(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name in ("import_module", "__import__")


def imports(module: str, path: Path, known: dict[str, Path], root: Path = SOURCE
            ) -> Iterator[Edge]:
    """The edges out of ``module``, each with where it is written."""
    tree = ast.parse(path.read_text(), filename=str(path))
    where = f"{path.relative_to(root.parent)}"
    computed_import = False
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            origin = node.module or ""
            if node.level:
                origin = ".".join(filter(None, [_base(module, path, node.level), origin]))
            for alias in node.names:
                full = f"{origin}.{alias.name}"
                targets.append(full if full in known else origin)
        elif isinstance(node, ast.Call) and _is_import_call(node) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                targets = [first.value]
            else:
                computed_import = True
        for target in targets:
            resolved = _nearest(target, known) if target.startswith(PACKAGE) else None
            if resolved is not None and resolved != module:
                yield module, resolved, f"{where}:{node.lineno}"    # type: ignore[attr-defined]
    if computed_import:              # names a computed import_module may be given
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and node.value in known
                    and node.value != module):
                yield module, node.value, f"{where}:{node.lineno} (string)"


def graph(root: Path = SOURCE, allowed: frozenset[tuple[str, str]] = ALLOWED
          ) -> dict[str, dict[str, str]]:
    """``importer -> {imported: where}`` for the package under ``root``, less ``allowed``."""
    known = modules(root)
    edges: dict[str, dict[str, str]] = {name: {} for name in known}
    for name, path in known.items():
        for importer, imported, where in imports(name, path, known, root):
            if (importer, imported) not in allowed:
                edges[importer].setdefault(imported, where)
    return edges


def cycles(edges: dict[str, dict[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(component: list[str], edges: dict[str, dict[str, str]]) -> str:
    """One component's edges, each with the file and line that makes it."""
    members = set(component)
    lines = [f"circle among {', '.join(component)}:"]
    for importer in component:
        for imported, where in sorted(edges[importer].items()):
            if imported in members:
                lines.append(f"  {importer} -> {imported}   ({where})")
    return "\n".join(lines)


def test_no_module_imports_round_a_circle():
    edges = graph()
    found = cycles(edges)
    assert not found, "\n".join(describe(c, edges) for c in found)


def test_every_allowed_edge_still_closes_a_circle():
    """An exception whose import is gone, or no longer in a circle, leaves the list."""
    edges = graph(allowed=frozenset())
    in_circles = {(a, b) for c in cycles(edges) for a in c for b in edges[a] if b in c}
    assert ALLOWED <= in_circles, sorted(ALLOWED - in_circles)


def test_the_graph_sees_every_kind_of_import(tmp_path):
    """Module-level, function-level, type-only and string imports all make edges."""
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import A\n")
    (pkg / "a.py").write_text("A = 1\ndef f():\n    from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text(
        "import importlib\nfrom typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from numnet.sub import c\n"
        "WHERE = {'x': 'numnet.a'}\ndef g(k):\n    importlib.import_module(WHERE[k])\n")
    (pkg / "sub" / "c.py").write_text("from numnet import A\nfrom .. import a\n")
    edges = graph(pkg)
    assert set(edges["numnet"]) == {"numnet.a"}
    assert set(edges["numnet.a"]) == {"numnet.sub.b"}
    assert set(edges["numnet.sub.b"]) == {"numnet.sub.c", "numnet.a"}
    assert set(edges["numnet.sub.c"]) == {"numnet", "numnet.a"}
    assert cycles(edges) == [["numnet", "numnet.a", "numnet.sub.b", "numnet.sub.c"]]
