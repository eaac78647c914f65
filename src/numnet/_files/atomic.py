"""Atomic writes: a crash at any moment leaves either the old file or the new one, whole.

The bytes go to a temporary file in the target's directory (named
``.<name>.tmp-<host>-<pid>-<random>``), which is flushed, fsync'ed and renamed
over the target with :func:`os.replace`; then the directory is fsync'ed. A
temporary file is removed on any exception; one left by a killed process is
removed by the next save to the same target from the same host, once its
process is gone.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
import zlib
from contextlib import suppress
from pathlib import Path

__all__ = ["atomic_write"]


def _temp_prefix(target: Path) -> str:
    return f".{target.name[:120]}.tmp-"


def _host_tag() -> str:
    return format(zlib.crc32(socket.gethostname().encode("utf-8", "replace")), "08x")


_SPECIAL = ((stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
            (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def _special(path: Path) -> str | None:
    """What ``path`` is (links followed) when it is a device, a pipe or a socket, else None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return next((kind for test, kind in _SPECIAL if test(mode)), None)


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, whole.

    Only to a regular file, new or existing: renaming over a device, a pipe or
    a socket (``/dev/null``, ``/dev/stdout`` through its link) would replace
    it with a file, so that is an OSError instead.
    """
    target = Path(os.fspath(path))
    kind = _special(target)
    if kind is not None:
        raise OSError(f"cannot save to '{target}': it is {kind}, not a regular file; give "
                      f"the name of a file to write")
    if target.is_symlink():                       # replace the file, keep the link
        target = Path(os.path.realpath(target))
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(
            f"cannot save to '{target}': directory '{directory}' does not exist")
    if target.is_dir():
        raise IsADirectoryError(f"cannot save to '{target}': it is a directory")
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    _remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(target)}{_host_tag()}-{os.getpid()}-",
                               dir=directory)
    try:
        with open(fd, "wb", closefd=True) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)
    return Path(os.fspath(path))


def _umask() -> int:
    try:                                          # Linux: read it without changing it
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temps(target: Path) -> None:
    """Remove temporaries for ``target`` left by dead processes on this host (POSIX only)."""
    if os.name != "posix":          # os.kill(pid, 0) would terminate the process on Windows
        return
    prefix = f"{_temp_prefix(target)}{_host_tag()}-"
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        pid_text = name[len(prefix):].partition("-")[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        with suppress(OSError):
            os.unlink(target.parent / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
