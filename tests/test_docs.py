"""Every code block of the README and the docs runs as a reader runs it.

A block is saved as a script and run in a fresh process, in an empty folder, with the
project's environment on ``PATH``: ``python`` blocks with this interpreter, ``sh`` blocks
with ``bash -euo pipefail``. An HTML comment just above a block (invisible on GitHub and
on the site) changes that:

``<!-- continues -->``
    the block goes on from the one above it on the page, in the same folder; a
    ``python`` block then runs with every ``python`` block of its chain before it, as a
    reader who adds it to the same script.
``<!-- file: NAME -->``
    the block is a file the next blocks use (a grid, a CSV): written as NAME, not run.
``<!-- not run: REASON -->``
    illustration only (an excerpt, a command that never ends, one that needs a
    cluster); the reason is required.

Other fences (``text``, ``toml`` without ``file:``) are output or configuration and are
not run. ``tests/test_examples.py`` runs ``examples/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

markdown_it = pytest.importorskip("markdown_it", reason="the docs tests need numnet[test]")

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("examples/*/README.md")])
RUN = {"python": "python", "py": "python", "sh": "sh", "bash": "sh", "shell": "sh"}
DIRECTIVE = re.compile(r"<!--\s*(continues|file:\s*(?P<file>\S+)|not run:\s*(?P<why>.*?))\s*-->",
                       re.S)
TIMEOUT = 300  # seconds for one chain: the slowest documented command takes about 60 s here


@dataclass
class Block:
    """One fenced block: where it is, its language and what the comments above it say."""

    page: Path
    line: int
    kind: str            # "python", "sh", "file" or "" (not run)
    source: str
    file: str | None = None
    why_not_run: str | None = None
    continues: bool = False

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass
class Chain:
    """Blocks run one after another in one folder."""

    blocks: list[Block] = field(default_factory=list)

    @property
    def where(self) -> str:
        return self.blocks[0].where


def blocks_of(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, with the directives just above each."""
    tokens = markdown_it.MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8"))
    found = []
    for i, token in enumerate(tokens):
        if token.type != "fence":
            continue
        language = token.info.split()[0] if token.info.strip() else ""
        directives: list[re.Match[str]] = []
        j = i - 1
        while j >= 0 and tokens[j].type == "html_block":
            directives += DIRECTIVE.finditer(tokens[j].content)
            j -= 1
        block = Block(page, token.map[0] + 1 if token.map else 0, RUN.get(language, ""),
                      token.content)
        for d in directives:
            if d.group(1) == "continues":
                block.continues = True
            elif d.group("file"):
                block.kind, block.file = "file", d.group("file")
            else:
                block.why_not_run = d.group("why")
        found.append(block)
    return found


def chains() -> list[Chain]:
    result: list[Chain] = []
    for page in PAGES:
        previous: Chain | None = None
        for block in blocks_of(page):
            if block.why_not_run is not None or not block.kind:
                continue
            if block.continues and previous is not None:
                previous.blocks.append(block)
            else:
                previous = Chain([block])
                result.append(previous)
    return result


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    env.pop("PYTHONPATH", None)
    return env


def run(command: list[str], folder: Path, where: str) -> None:
    done = subprocess.run(command, cwd=folder, env=environment(), capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert done.returncode == 0, (
        f"{where}: exit {done.returncode}\n--- stdout\n{done.stdout[-3000:]}"
        f"\n--- stderr\n{done.stderr[-3000:]}")


CHAINS = chains()


@pytest.mark.parametrize("chain", CHAINS, ids=[c.where for c in CHAINS])
def test_block_runs_as_a_reader_runs_it(chain: Chain, tmp_path: Path) -> None:
    script: list[str] = []       # the python blocks of the chain so far
    pending = False              # python added since the script last ran
    for block in chain.blocks:
        if block.kind == "file":
            (tmp_path / str(block.file)).write_text(block.source, encoding="utf-8")
        elif block.kind == "python":
            script.append(f"# {block.where}\n{block.source}")
            pending = True
        else:
            if pending:
                (tmp_path / "script.py").write_text("\n".join(script), encoding="utf-8")
                run([sys.executable, "script.py"], tmp_path, block.where)
                pending = False
            (tmp_path / "commands.sh").write_text(block.source, encoding="utf-8")
            run(["bash", "-euo", "pipefail", "commands.sh"], tmp_path, block.where)
    if pending:
        (tmp_path / "script.py").write_text("\n".join(script), encoding="utf-8")
        run([sys.executable, "script.py"], tmp_path, chain.blocks[-1].where)


def test_every_page_is_found_and_every_skip_says_why() -> None:
    assert ROOT / "README.md" in PAGES and ROOT / "docs" / "tutorial.md" in PAGES
    for page in PAGES:
        for block in blocks_of(page):
            if block.why_not_run is not None:
                assert block.why_not_run.strip(), f"{block.where}: 'not run:' needs a reason"
            if block.continues:
                assert any(b.line < block.line for b in blocks_of(page) if b.kind), (
                    f"{block.where}: continues, but no block above it runs")


def test_the_parser_reads_directives(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("text\n\n```python\nprint(1)\n```\n\n<!-- continues -->\n```sh\necho 2\n```\n\n"
                    "<!-- not run: needs a cluster -->\n```sh\nnumnet sweep\n```\n\n"
                    "<!-- file: grid.toml -->\n<!-- continues -->\n```toml\na = 1\n```\n\n"
                    "```text\noutput\n```\n", encoding="utf-8")
    got = [(b.kind, b.continues, b.file, b.why_not_run) for b in blocks_of(page)]
    assert got == [("python", False, None, None), ("sh", True, None, None),
                   ("sh", False, None, "needs a cluster"), ("file", True, "grid.toml", None),
                   ("", False, None, None)]


def test_the_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    """``make docs``: every page, link and API reference entry resolves (``mkdocs --strict``)."""
    pytest.importorskip("mkdocs", reason="the site needs numnet[docs]")
    env = environment() | {"NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(tmp_path / "site")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr[-4000:]
    assert (tmp_path / "site" / "tutorial" / "index.html").exists()
    reference = (tmp_path / "site" / "reference" / "training" / "index.html").read_text()
    assert "validation_split" in reference        # numnet.fit's parameters, from its docstring
