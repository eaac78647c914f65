"""Checks every command makes on its output paths before it does any work.

A command never writes over one of its own inputs (the data, the model, the
checkpoint it resumes from), never writes two outputs to one file, and finds
out that it cannot write an output before training for an hour, not after.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

from numnet.terminal import printable

from ._common import CliError
from .data import file_kind

__all__ = ["same_file", "check_outputs", "file_kind"]

PathLike = str | os.PathLike[str]


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when ``a`` and ``b`` name one file: the same path after links, or one inode."""
    try:
        return os.path.samefile(a, b)
    except OSError:       # one of them does not exist (yet): compare where they would be
        return os.path.realpath(a) == os.path.realpath(b)


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (after links) is an existing file under ``folder`` (after links)."""
    if not path.exists():
        return False
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([real, top]) == top


def _writable_folder(option: str, path: Path) -> None:
    """Refuse ``path`` unless a file can be created in its folder (tried, not guessed)."""
    folder = path.parent
    if not folder.exists():
        raise CliError(f"{option} {printable(path)}: the folder {printable(folder)} does not "
                       f"exist; create it first or choose another path")
    if not folder.is_dir():
        raise CliError(f"{option} {printable(path)}: {printable(folder)} is not a folder")
    kind = file_kind(path)
    if kind is not None:
        raise CliError(f"{option} {printable(path)} is {kind}, not a regular file; give the "
                       f"name of a file to write")
    try:   # os.access says yes to root on a read-only file system: try for real
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.probe-"):
            pass
    except OSError as exc:
        raise CliError(f"{option} {printable(path)}: cannot write in {printable(folder)} "
                       f"({exc.strerror or exc}); choose another path") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise CliError(f"{option} {printable(path)} exists and is read-only; choose another "
                       f"path or make it writable")


def check_outputs(outputs: Mapping[str, PathLike | None],
                  inputs: Mapping[str, PathLike | None],
                  allowed: Collection[tuple[str, str]] = (), *, writable: bool = True) -> None:
    """Refuse, before any work, outputs that are inputs, that collide, or cannot be written.

    Parameters
    ----------
    outputs : mapping of option name -> path or None
        The files the command will write, e.g. ``{"--out": "m.safetensors",
        "--plot": None}``; ``None`` entries are not used.
    inputs : mapping of what -> path or None
        The files it reads, e.g. ``{"DATA": "x.csv", "--resume": None}``; names
        that are not files (built-in data sets) are harmless. A folder (audio
        data) protects every file in it.
    allowed : collection of (output option, input name)
        Pairs that may name one file, e.g. ``{("--checkpoint", "--resume")}``:
        a run that resumes from a checkpoint and keeps writing it.
    writable : bool, default True
        Also try writing in each output's folder, which must exist. False checks
        only that no output is an input or another output (for a command that
        makes its output folders after this check).

    Raises
    ------
    CliError
        One line naming the two options and what to do.
    """
    given_outputs = {k: Path(v) for k, v in outputs.items() if v is not None}
    given_inputs = {k: Path(v) for k, v in inputs.items() if v is not None}
    seen: dict[str, Path] = {}
    for option, path in given_outputs.items():
        for what, source in given_inputs.items():
            if (option, what) in allowed:
                continue
            if same_file(path, source):
                raise CliError(f"{option} {printable(path)} is the {what} file this command "
                               f"reads; numnet never writes over its input: choose another path")
            if source.is_dir() and _inside(path, source):
                raise CliError(f"{option} {printable(path)} is a file of the {what} folder "
                               f"this command reads; numnet never writes over its input: "
                               f"choose a path outside {printable(source)}")
        for other, earlier in seen.items():
            if same_file(path, earlier):
                raise CliError(f"{other} and {option} both name {printable(path)}; give each "
                               f"output its own file")
        seen[option] = path
        if writable:
            _writable_folder(option, path)
