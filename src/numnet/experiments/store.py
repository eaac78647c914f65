"""The results store: one SQLite row per run, committed on its own as the run finishes.

WAL mode and one transaction per run: a sweep killed at any moment leaves every recorded
run whole, and a restarted sweep runs only the keys (the primary key) the store lacks.
:func:`check_store` reads a file before anything writes to it: another program's
database, a damaged or read-only store is refused with a one-line :class:`StoreError`
and left as it was.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .runs import RESULT_FIELDS

_COLUMNS = {
    "key": "TEXT PRIMARY KEY", "status": "TEXT NOT NULL CHECK (status IN ('ok', 'failed'))",
    "settings": "TEXT NOT NULL", "seed": "INTEGER NOT NULL", "num_parameters": "INTEGER",
    "final_loss": "REAL", "train_error": "REAL", "validation_error": "REAL", "test_error": "REAL",
    "epochs_run": "INTEGER", "diverged": "INTEGER", "stop_reason": "TEXT", "wall_time": "REAL",
    "loss_curve": "TEXT", "error": "TEXT", "worker": "TEXT", "finished_at": "TEXT NOT NULL",
    # added later (at the end, as ALTER TABLE adds them): the baselines and the verdict
    "train_baseline": "REAL", "validation_baseline": "REAL", "test_baseline": "REAL",
    "loss_baseline": "REAL", "learned_nothing": "INTEGER",
    # then the rows each run trained on (augmented copies among them) and was measured on
    "train_rows": "INTEGER", "augmented_rows": "INTEGER", "validation_rows": "INTEGER",
    "test_rows": "INTEGER",
}
#: The columns of ``runs`` in stores from before the baselines, and from before the row
#: counts: read as they are, and given the new columns (empty for their runs) when a sweep
#: next writes to them.
_FIRST_COLUMNS = tuple(_COLUMNS)[:tuple(_COLUMNS).index("finished_at") + 1]
_BASELINE_COLUMNS = tuple(_COLUMNS)[:tuple(_COLUMNS).index("learned_nothing") + 1]
_TABLES = {"runs": tuple(_COLUMNS), "meta": ("name", "value")}
_LAYOUTS = {"runs": (tuple(_COLUMNS), _BASELINE_COLUMNS, _FIRST_COLUMNS),
            "meta": (("name", "value"),)}
#: In the header of every store numnet creates ("nnrs"); 0 in stores from before.
APPLICATION_ID = 0x6E6E7273
_MAGIC = b"SQLite format 3\x00"
_JSON_FIELDS = ("settings", "loss_curve")


class StoreError(ValueError):
    """A results store numnet cannot use, named for what it is, with what to do (one line)."""


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) \
        or type(exc).__name__


def _cannot_create_in(folder: Path) -> str | None:
    """Why no file can be created in ``folder`` (tried: root passes ``os.access`` on a
    read-only file system), or None."""
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
    for kind, codes, words in (
            ("read-only", ("SQLITE_READONLY",), ("readonly", "read-only")),
            ("damaged", ("SQLITE_CORRUPT", "SQLITE_NOTADB"), ("malformed", "not a database")),
            ("locked", ("SQLITE_BUSY", "SQLITE_LOCKED"), ("locked",)),
            ("full", ("SQLITE_FULL",), ("disk is full",)),
            ("cannot open", ("SQLITE_CANTOPEN",), ("unable to open",))):
        if name.startswith(codes) or any(w in text for w in words):
            return kind
    return "other"


def _damaged(path: str | Path, detail: str, option: str = "store") -> StoreError:
    return StoreError(f"{path} is a damaged SQLite file ({' '.join(detail.split())}); numnet "
                      f"leaves it as it is: recover what it holds with `sqlite3 {path} "
                      f".recover`, and give another {option} path")


def _inspect(path: Path, option: str) -> int | None:
    """The runs in numnet's store at ``path`` (None for an empty database), read through
    SQLite's read-only mode: immutable (no ``-wal``/``-shm`` made beside it) unless a
    ``-wal`` file with content holds part of the database."""
    wal = Path(f"{path}-wal")
    live = wal.exists() and wal.stat().st_size > 0
    for immutable in ((False, True) if live else (True,)):
        uri = path.absolute().as_uri() + "?mode=ro" + ("&immutable=1" if immutable else "")
        try:
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5.0)) as conn:
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
        if columns not in _LAYOUTS[table]:
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
    """Refuse, writing nothing, a store path numnet cannot use: a folder, not SQLite,
    damaged, another program's, or unwritable. ``option`` names the path in the advice."""
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path} is a folder; give the {option} a file name, such as "
                         f"{path / 'results.sqlite'}")
    folder = existing = path.absolute().parent
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


class ResultStore:
    """Runs in an SQLite file, one row per run, each committed as it is added.

    A path that is not numnet's store (a folder, another program's database, a damaged
    or unwritable file) is refused before anything is written to it (:class:`StoreError`).

    Parameters
    ----------
    path : str or os.PathLike, default ":memory:"
        The SQLite file, created with its folder if missing; ``":memory:"``: kept in
        memory, gone when closed.
    timeout : float, default 30.0
        Seconds to wait for another writer's lock.
    """

    def __init__(self, path: str | os.PathLike = ":memory:", timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        if self.path != ":memory:":
            check_store(self.path)              # reads only: nothing is written to a stranger
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._fault(exc) from exc
        try:
            with self._sql() as conn:
                conn.row_factory = sqlite3.Row
                if self.path != ":memory:":
                    conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                columns = ", ".join(f"{k} {v}" for k, v in _COLUMNS.items())
                conn.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
                conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, "
                             "value TEXT NOT NULL)")
                have = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
                for name in [c for c in _COLUMNS if c not in have]:     # an older store
                    conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {_COLUMNS[name]}")
        except StoreError:
            self._conn.close()
            raise

    @contextlib.contextmanager
    def _sql(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection, its errors raised as one-line :class:`StoreError`; ``write``: in
        one transaction, which takes the write lock first and is all or nothing."""
        try:
            if not write:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._fault(exc) from exc

    def _fault(self, exc: sqlite3.Error) -> StoreError:
        """One line for an SQLite error on this store: what it is and what to do."""
        kind, where = _sqlite_fault(exc), self.path
        if kind == "damaged":
            return _damaged(where, str(exc))
        return StoreError({
            "read-only": f"the store {where} cannot be written ({exc}): its folder or file is "
                         f"read-only; every run recorded so far is intact: copy the store to a "
                         f"writable folder and give the sweep that path",
            "locked": f"the store {where} stayed locked by another program for "
                      f"{self.timeout:g} s; wait for it to finish, or give the sweep another "
                      f"store path",
            "full": f"the store {where} cannot grow: the disk is full; free space and run the "
                    f"sweep again (every recorded run is kept)",
            "cannot open": f"the store {where} cannot be opened ({exc}); check that its folder "
                           f"exists and can be written, or give another store path",
        }.get(kind, f"the store {where}: {exc}"))

    def add(self, result: dict[str, Any], replace_failed: bool = False) -> bool:
        """Record one run in its own transaction.

        Parameters
        ----------
        result : dict
            The run's result (:data:`~numnet.experiments.runs.RESULT_FIELDS`; ``key``,
            ``status``, ``settings`` and ``seed`` required).
        replace_failed : bool, default False
            Replace a run of the same key recorded as failed (never one that finished).

        Returns
        -------
        bool
            Whether it was written (False: its key was there already).
        """
        missing = [k for k in ("key", "status", "settings", "seed") if result.get(k) is None]
        if missing:
            raise ValueError(f"a run result needs {missing}; got keys {sorted(result)}")
        row = {name: _to_sql(name, result.get(name)) for name in RESULT_FIELDS}
        row["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())  # UTC
        conflict = "DO NOTHING"
        if replace_failed:
            updates = ", ".join(f"{k} = excluded.{k}" for k in row if k != "key")
            conflict = f"DO UPDATE SET {updates} WHERE runs.status = 'failed'"
        with self._sql(write=True) as conn:
            cur = conn.execute(
                f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join(f':{k}' for k in row)}) "
                f"ON CONFLICT(key) {conflict}", row)
        return cur.rowcount == 1

    def set_meta(self, name: str, value: Any) -> None:
        """Store a value under a name, replacing what was there.

        Parameters
        ----------
        name : str
            The name, e.g. ``"sweep:<key>"``.
        value : Any
            A JSON-safe value, e.g. the sweep's grids.
        """
        with self._sql(write=True) as conn:
            conn.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) "
                         "DO UPDATE SET value = excluded.value",
                         (name, json.dumps(value, sort_keys=True)))

    def get_meta(self, name: str, default: Any = None) -> Any:
        """What :meth:`set_meta` stored under a name.

        Parameters
        ----------
        name : str
            The name it was stored under.
        default : Any, default None
            What to return when nothing is.

        Returns
        -------
        Any
            The value, read back from JSON, or ``default``.
        """
        with self._sql() as conn:
            row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        try:
            return default if row is None else json.loads(row["value"])
        except ValueError as exc:
            raise _damaged(self.path, f"meta {name!r} is unreadable: {exc}") from None

    def keys(self, status: str | None = None) -> set[str]:
        """Keys of the recorded runs.

        Parameters
        ----------
        status : {"ok", "failed"} or None, default None
            Only the runs of this status; None: every run.

        Returns
        -------
        set of str
            Their keys.
        """
        where, args = ("", ()) if status is None else (" WHERE status = ?", (status,))
        with self._sql() as conn:
            return {r["key"] for r in conn.execute(f"SELECT key FROM runs{where}", args)}

    def results(self, keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Recorded runs as dicts.

        Parameters
        ----------
        keys : iterable of str or None, default None
            The runs wanted, in this order (keys not recorded are skipped); None: every
            run.

        Returns
        -------
        list of dict
            Each run's :data:`~numnet.experiments.runs.RESULT_FIELDS` and
            ``finished_at`` (UTC).
        """
        with self._sql() as conn:
            try:
                rows = {r["key"]: _from_sql(r) for r in conn.execute("SELECT * FROM runs")}
            except ValueError as exc:       # a JSON field SQLite kept whole but not its text
                raise _damaged(self.path, f"a run's JSON is unreadable: {exc}") from None
        return list(rows.values()) if keys is None else [rows[k] for k in keys if k in rows]

    def __len__(self) -> int:
        with self._sql() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def close(self) -> None:
        """Close the database (every recorded run is already committed)."""
        self._conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultStore({self.path!r})"


def _to_sql(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _JSON_FIELDS:
        return json.dumps(value, sort_keys=True)
    if name in ("diverged", "learned_nothing"):
        return int(bool(value))
    if isinstance(value, float) and math.isnan(value):
        return None          # SQLite has no NaN; read back as None
    return value


def _from_sql(row: sqlite3.Row) -> dict[str, Any]:
    out = {name: row[name] for name in row.keys()}
    for name in _JSON_FIELDS:
        if out[name] is not None:
            out[name] = json.loads(out[name])
    for name in ("diverged", "learned_nothing"):
        if out.get(name) is not None:
            out[name] = bool(out[name])
    return out
