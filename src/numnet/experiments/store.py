"""The results store: one SQLite row per run, written in one transaction as it finishes.

SQLite (the standard library's :mod:`sqlite3`) in WAL mode: a finished run is
one ``INSERT`` committed on its own, so a sweep killed at any moment leaves
every run it recorded whole and nothing half-written. The run's key is the
table's primary key: a run is never recorded twice, and a restarted sweep
asks :meth:`ResultStore.keys` what is there and runs only the rest.

>>> store = ResultStore(":memory:")
>>> store.add({"key": "k1", "status": "ok", "settings": {"n_samples": 10}, "seed": 0})
True
>>> store.add({"key": "k1", "status": "ok", "settings": {"n_samples": 10}, "seed": 0})
False
>>> sorted(store.keys())
['k1']

A file is checked before anything is written to it (:func:`check_store`):
a file that is not SQLite, a damaged one, another program's database, or a
store numnet cannot write (a read-only folder or file) is refused with a
:class:`StoreError` that names the fault, and the file is left as it was.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .runs import RESULT_FIELDS

__all__ = ["ResultStore", "StoreError", "check_store"]

F = TypeVar("F", bound=Callable[..., Any])

_COLUMNS = {
    "key": "TEXT PRIMARY KEY",
    "status": "TEXT NOT NULL CHECK (status IN ('ok', 'failed'))",
    "settings": "TEXT NOT NULL",
    "seed": "INTEGER NOT NULL",
    "num_parameters": "INTEGER",
    "final_loss": "REAL",
    "train_error": "REAL",
    "validation_error": "REAL",
    "test_error": "REAL",
    "epochs_run": "INTEGER",
    "diverged": "INTEGER",
    "stop_reason": "TEXT",
    "wall_time": "REAL",
    "loss_curve": "TEXT",
    "error": "TEXT",
    "worker": "TEXT",
    "finished_at": "TEXT NOT NULL",
}
_META_COLUMNS = ("name", "value")
_TABLES = {"runs": tuple(_COLUMNS), "meta": _META_COLUMNS}
#: Written in the header of every store numnet creates ("nnrs"); 0 in stores from before.
APPLICATION_ID = 0x6E6E7273
_MAGIC = b"SQLite format 3\x00"
_JSON_FIELDS = ("settings", "loss_curve")
_REAL_FIELDS = ("final_loss", "train_error", "validation_error", "test_error", "wall_time")


def _to_sql(name: str, value: Any) -> Any:
    if name in _JSON_FIELDS:
        return None if value is None else json.dumps(value, sort_keys=True)
    if name == "diverged":
        return None if value is None else int(bool(value))
    if name in _REAL_FIELDS and value is not None and math.isnan(value):
        return None          # SQLite has no NaN; read back as None
    return value


def _from_sql(row: sqlite3.Row) -> dict[str, Any]:
    out = {name: row[name] for name in row.keys()}
    for name in _JSON_FIELDS:
        if out[name] is not None:
            out[name] = json.loads(out[name])
    if out["diverged"] is not None:
        out["diverged"] = bool(out["diverged"])
    return out


class StoreError(ValueError):
    """A results store numnet cannot use, named for what it is, with what to do (one line)."""


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) \
        or type(exc).__name__


def _cannot_create_in(folder: Path) -> str | None:
    """Why no file can be created in ``folder`` (tried, not guessed: root passes
    ``os.access`` on a read-only file system), or None when one can."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".numnet-store-probe-"):
            pass
    except OSError as exc:
        return _reason(exc)
    return None


def _cannot_write(path: Path) -> str | None:
    """Why ``path`` cannot be opened for writing, or None (opening writes nothing)."""
    if not os.access(path, os.W_OK):
        return "the file is read-only"
    try:
        with open(path, "r+b"):
            pass
    except OSError as exc:
        return _reason(exc)
    return None


def _sqlite_fault(exc: sqlite3.Error) -> str:
    """The kind of an SQLite error: read-only, damaged, locked, full, cannot open, or other."""
    name = getattr(exc, "sqlite_errorname", "") or ""       # Python 3.11+
    text = str(exc).lower()
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return "read-only"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text \
            or "not a database" in text:
        return "damaged"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return "locked"
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return "full"
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return "cannot open"
    return "other"


def _damaged(path: Path, detail: str, option: str = "store") -> StoreError:
    detail = " ".join(detail.split())
    return StoreError(f"{path} is a damaged SQLite file ({detail}); numnet leaves it as it is: "
                      f"recover what it holds with `sqlite3 {path} .recover`, and give another "
                      f"{option} path")


def _read_only_connection(path: Path, immutable: bool = False) -> sqlite3.Connection:
    """A connection that cannot write: SQLite's ``mode=ro`` (and ``immutable=1`` when even
    its read locks cannot be taken, e.g. in a read-only folder)."""
    uri = path.absolute().as_uri() + "?mode=ro" + ("&immutable=1" if immutable else "")
    return sqlite3.connect(uri, uri=True, timeout=5.0)


def _inspect(path: Path, option: str) -> int | None:
    """Read, never write, an SQLite file: the runs it holds when it is numnet's store, None
    when it is empty; a :class:`StoreError` when it is damaged or another program's.

    The file is read as immutable (SQLite then creates no ``-wal`` or ``-shm``
    file beside it) unless a ``-wal`` file with content is there: then part of
    the database is in it, and SQLite's read-only mode reads both.
    """
    wal = Path(f"{path}-wal")
    live = wal.exists() and wal.stat().st_size > 0
    for immutable in ((False, True) if live else (True,)):
        try:
            with contextlib.closing(_read_only_connection(path, immutable)) as conn:
                return _numnet_runs(path, conn, option)
        except sqlite3.Error as exc:
            kind = _sqlite_fault(exc)
            if kind == "cannot open" and not immutable:
                continue                            # e.g. a live store in a read-only folder
            if kind == "damaged":
                raise _damaged(path, str(exc), option) from None
            if kind == "locked":
                raise StoreError(f"{path} is locked by another program; wait for it to "
                                 f"finish, or give another {option} path") from None
            raise StoreError(f"{path} cannot be read as an SQLite file ({exc}); give another "
                             f"{option} path") from None
    raise AssertionError("unreachable")


def _numnet_runs(path: Path, conn: sqlite3.Connection, option: str) -> int | None:
    """The runs in numnet's store on ``conn``; None when the database has no tables."""
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    objects = conn.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
    tables = sorted({name for kind, name, _ in objects if kind == "table"})
    foreign = [name for kind, name, table in objects
               if table not in _TABLES or kind not in ("table", "index")
               or (kind == "index" and not name.startswith("sqlite_autoindex_"))]
    if app not in (0, APPLICATION_ID) or foreign:
        shown = ", ".join(repr(t) for t in tables[:5]) + (" ..." if len(tables) > 5 else "")
        raise StoreError(f"{path} is another program's SQLite database (tables: "
                         f"{shown or 'none'}), not a numnet results store; numnet never writes "
                         f"to it: give another {option} path")
    for table in tables:
        columns = tuple(r[1] for r in conn.execute(f"PRAGMA table_info({table})"))
        if columns != _TABLES[table]:
            raise StoreError(f"{path} has a {table!r} table that is not numnet's (columns "
                             f"{', '.join(columns)}); it is another program's database and "
                             f"numnet never writes to it: give another {option} path")
    check = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    if check != "ok":
        raise _damaged(path, check, option)
    if not tables:
        return None
    return int(conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]) if "runs" in tables \
        else 0


def check_store(path: str | os.PathLike, option: str = "store") -> None:
    """Refuse, without writing anything, a store path numnet cannot use as its store.

    Raises :class:`StoreError` (one line, saying what to do) when ``path`` is
    a folder, is not an SQLite file, is damaged, is another program's
    database, or is numnet's store but cannot be written (a read-only folder
    or file), and when a new store cannot be created there. The file is only
    read, through SQLite's read-only mode, so another program's database and
    a damaged store keep every byte. ``option`` names the path in the advice
    (``"--store"`` on the command line).
    """
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path} is a folder; give the {option} a file name, such as "
                         f"{path / 'results.sqlite'}")
    folder = path.absolute().parent
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise StoreError(f"cannot create the store {path}: {existing} is a file, not a folder; "
                         f"give another {option} path")
    if not path.exists():
        why = _cannot_create_in(existing)
        if why is not None:
            raise StoreError(f"cannot create the store {path}: {existing} is read-only ({why}); "
                             f"give a {option} path in a writable folder")
        return
    try:
        with open(path, "rb") as f:
            header = f.read(len(_MAGIC))
    except OSError as exc:
        raise StoreError(f"{path} cannot be read ({_reason(exc)}); make it readable, or give "
                         f"another {option} path") from None
    if header and header != _MAGIC:
        raise StoreError(f"{path} is not an SQLite file, so not a numnet results store; numnet "
                         f"leaves it as it is: give another {option} path")
    runs = _inspect(path, option) if header else None
    what = (f"{path} is a numnet results store ({runs} run{'s' if runs != 1 else ''})"
            if runs is not None else f"the store {path}")
    why = _cannot_create_in(folder)
    if why is not None:
        raise StoreError(f"{what}, but its folder {folder} is read-only ({why}) and SQLite "
                         f"writes its journal beside the store; the runs in it are intact: copy "
                         f"the store to a writable folder and give that as the {option} path, or "
                         f"make the folder writable")
    why = _cannot_write(path)
    if why is not None:
        raise StoreError(f"{what}, but it cannot be written ({why}); the runs in it are intact: "
                         f"make it writable (chmod u+w), or copy it and give the copy as the "
                         f"{option} path")


def _explained(method: F) -> F:
    """Turn an SQLite error during a store operation into a one-line :class:`StoreError`."""
    @functools.wraps(method)
    def wrapper(self: ResultStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self._fault(exc) from exc
    return wrapper  # type: ignore[return-value]


class ResultStore:
    """Runs in a SQLite file (or ``":memory:"``), one row per run, keyed by its run key.

    Parameters
    ----------
    path : str or path
        The database file; created (with its folder) when missing.
        ``":memory:"`` keeps results for this process only.
    timeout : float, default 30
        Seconds to wait for another writer's lock.
    """

    def __init__(self, path: str | os.PathLike = ":memory:", timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        if self.path != ":memory:":
            check_store(self.path)              # reads only: nothing is written to a stranger
            folder = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(folder, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._fault(exc) from exc
        try:
            self._conn.row_factory = sqlite3.Row
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            if self._conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            columns = ", ".join(f"{k} {v}" for k, v in _COLUMNS.items())
            self._conn.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
            self._conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, "
                               "value TEXT NOT NULL)")
        except sqlite3.Error as exc:
            self._conn.close()
            raise self._fault(exc) from exc

    def _fault(self, exc: sqlite3.Error) -> StoreError:
        """One line for an SQLite error on this store: what it is and what to do."""
        kind = _sqlite_fault(exc)
        where = self.path
        if kind == "read-only":
            return StoreError(f"the store {where} cannot be written ({exc}): its folder or file "
                              f"is read-only; every run recorded so far is intact: copy the "
                              f"store to a writable folder and give the sweep that path")
        if kind == "damaged":
            return _damaged(Path(where), str(exc))
        if kind == "locked":
            return StoreError(f"the store {where} stayed locked by another program for "
                              f"{self.timeout:g} s; wait for it to finish, or give the sweep "
                              f"another store path")
        if kind == "full":
            return StoreError(f"the store {where} cannot grow: the disk is full; free space "
                              f"and run the sweep again (every recorded run is kept)")
        if kind == "cannot open":
            return StoreError(f"the store {where} cannot be opened ({exc}); check that its "
                              f"folder exists and can be written, or give another store path")
        return StoreError(f"the store {where}: {exc}")

    # --- writing -----------------------------------------------------------------

    @_explained
    def add(self, result: dict[str, Any], replace_failed: bool = False) -> bool:
        """Record one run in its own transaction; False (and nothing written) if it is there.

        With ``replace_failed``, a run recorded as failed is replaced by this
        result (a retry); a run recorded as ``ok`` is never replaced.
        """
        missing = [k for k in ("key", "status", "settings", "seed") if result.get(k) is None]
        if missing:
            raise ValueError(f"a run result needs {missing}; got keys {sorted(result)}")
        row = {name: _to_sql(name, result.get(name)) for name in RESULT_FIELDS}
        row["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())  # UTC
        names = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        conflict = "DO NOTHING"
        if replace_failed:
            updates = ", ".join(f"{k} = excluded.{k}" for k in row if k != "key")
            conflict = f"DO UPDATE SET {updates} WHERE runs.status = 'failed'"
        with self._transaction():
            cur = self._conn.execute(
                f"INSERT INTO runs ({names}) VALUES ({marks}) ON CONFLICT(key) {conflict}", row)
        return cur.rowcount == 1

    @_explained
    def set_meta(self, name: str, value: Any) -> None:
        """Store a JSON-safe ``value`` under ``name`` (e.g. the sweep's grids)."""
        with self._transaction():
            self._conn.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) "
                               "DO UPDATE SET value = excluded.value",
                               (name, json.dumps(value, sort_keys=True)))

    @_explained
    def get_meta(self, name: str, default: Any = None) -> Any:
        """What :meth:`set_meta` stored under ``name``, or ``default``."""
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return default if row is None else self._json(row["value"], f"meta {name!r}")

    def _json(self, text: str, what: str) -> Any:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise _damaged(Path(self.path), f"{what} is unreadable: {exc}") from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # --- reading -----------------------------------------------------------------

    @_explained
    def keys(self, status: str | None = None) -> set[str]:
        """Keys of the recorded runs (only ``"ok"`` or ``"failed"`` ones if asked)."""
        if status is None:
            rows = self._conn.execute("SELECT key FROM runs")
        else:
            rows = self._conn.execute("SELECT key FROM runs WHERE status = ?", (status,))
        return {r["key"] for r in rows}

    @_explained
    def results(self, keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Recorded runs as dicts (:data:`~numnet.experiments.runs.RESULT_FIELDS` and
        ``finished_at``), in the order of ``keys`` when given (missing keys skipped)."""
        try:
            rows = {r["key"]: _from_sql(r) for r in self._conn.execute("SELECT * FROM runs")}
        except ValueError as exc:       # a JSON field SQLite kept whole but not its text
            raise _damaged(Path(self.path), f"a run's JSON is unreadable: {exc}") from None
        if keys is None:
            return list(rows.values())
        return [rows[k] for k in keys if k in rows]

    @_explained
    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def close(self) -> None:
        """Close the database (every recorded run is already committed)."""
        self._conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultStore({self.path!r})"
