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
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from typing import Any

from .runs import RESULT_FIELDS

__all__ = ["ResultStore"]

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
        if self.path != ":memory:":
            folder = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(folder, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            columns = ", ".join(f"{k} {v}" for k, v in _COLUMNS.items())
            self._conn.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
            self._conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, "
                               "value TEXT NOT NULL)")
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path} is not a numnet results store ({exc}); "
                             f"pass another path, or delete the file to start afresh") from exc

    # --- writing -----------------------------------------------------------------

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

    def set_meta(self, name: str, value: Any) -> None:
        """Store a JSON-safe ``value`` under ``name`` (e.g. the sweep's grids)."""
        with self._transaction():
            self._conn.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) "
                               "DO UPDATE SET value = excluded.value",
                               (name, json.dumps(value, sort_keys=True)))

    def get_meta(self, name: str, default: Any = None) -> Any:
        """What :meth:`set_meta` stored under ``name``, or ``default``."""
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return default if row is None else json.loads(row["value"])

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

    def keys(self, status: str | None = None) -> set[str]:
        """Keys of the recorded runs (only ``"ok"`` or ``"failed"`` ones if asked)."""
        if status is None:
            rows = self._conn.execute("SELECT key FROM runs")
        else:
            rows = self._conn.execute("SELECT key FROM runs WHERE status = ?", (status,))
        return {r["key"] for r in rows}

    def results(self, keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Recorded runs as dicts (:data:`~numnet.experiments.runs.RESULT_FIELDS` and
        ``finished_at``), in the order of ``keys`` when given (missing keys skipped)."""
        rows = {r["key"]: _from_sql(r) for r in self._conn.execute("SELECT * FROM runs")}
        if keys is None:
            return list(rows.values())
        return [rows[k] for k in keys if k in rows]

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
