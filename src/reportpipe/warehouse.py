"""The two DuckDB files: `work.duckdb` (the pipeline's) and `report.duckdb` (the analysts').

Writers take an exclusive lock on the warehouse folder, so concurrent refreshes
queue instead of failing on DuckDB's file lock. Analysts never open work.duckdb:
`publish()` builds a complete new report.duckdb beside the old one and renames
it into place, so a reader keeps a consistent old view and never blocks a refresh.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from reportpipe.contracts import Source
from reportpipe.settings import WAREHOUSE_SCHEMA
from reportpipe.staging import quote, stg_columns

WORK_DB = "work.duckdb"
REPORT_DB = "report.duckdb"
LOCK_FILE = ".lock"
LOCK_TIMEOUT_S = 3600


class WarehouseBusy(RuntimeError):
    """Another refresh held the warehouse for longer than the timeout."""


@contextlib.contextmanager
def _locked(folder: Path, timeout_s: float) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseBusy(f"{folder} stayed locked by another refresh for {timeout_s:.0f} s") from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def work(folder: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    """The working database, exclusively, with its bookkeeping tables in place."""
    with _locked(folder, timeout_s):
        con = duckdb.connect(str(folder / WORK_DB))
        try:
            con.execute(WAREHOUSE_SCHEMA.read_text(encoding="utf-8"))
            yield con
        finally:
            con.close()


def ensure_source_tables(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    raw = ", ".join(f"{quote(c.name)} VARCHAR" for c in source.columns)
    con.execute(
        f"CREATE TABLE IF NOT EXISTS raw_{source.source_id} "
        f"(file_id BIGINT NOT NULL, month VARCHAR NOT NULL, source_row BIGINT NOT NULL, {raw})"
    )
    typed = ", ".join(f"{name} {sql_type}" for name, sql_type in stg_columns(source))
    con.execute(
        f"CREATE TABLE IF NOT EXISTS stg_{source.source_id} "
        f"(file_id BIGINT NOT NULL, month VARCHAR NOT NULL, year INTEGER NOT NULL, source_row BIGINT NOT NULL, {typed})"
    )


def published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What analysts get: everything but the raw layer (personal data in clear) and bookkeeping (_*)."""
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'").fetchall()]
    names += [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal").fetchall()]
    return sorted(n for n in names if not n.startswith(("raw_", "_")))


def publish(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """Copy the published tables into a new report.duckdb and swap it in atomically."""
    target = folder / REPORT_DB
    building = folder / f".{REPORT_DB}.{os.getpid()}.building"
    building.unlink(missing_ok=True)
    try:
        con.execute(f"ATTACH {quote(str(building))} AS publishing")
        try:
            for table in published_tables(con):
                con.execute(f"CREATE TABLE publishing.{table} AS SELECT * FROM main.{table}")
        finally:
            con.execute("DETACH publishing")
        with building.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(building, target)
    finally:
        building.unlink(missing_ok=True)
    return target
