"""work.duckdb, the pipeline's database: one writer at a time, its connection, its scratch database.

`writer()` takes an exclusive lock on the warehouse folder (the CLI waits for it;
Airflow's tasks are serialised by the pool `reportpipe_warehouse` and only meet the
lock when someone runs the CLI meanwhile). A file is staged and validated in a scratch
database in memory (spilling beyond the memory limit to .scratch/ beside work.duckdb),
emptied after each file, so a broken or huge file never grows work.duckdb. Analysts
never open work.duckdb: they read what `reportpipe.warehouse.publication` publishes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from reportpipe import settings
from reportpipe.contracts import Source
from reportpipe.settings import WAREHOUSE_SCHEMA
from reportpipe.warehouse.models import stg_columns
from reportpipe.warehouse.sql import literal

WORK_DB = "work.duckdb"
SCRATCH = ".scratch"
LOCK_FILE = ".lock"


class WarehouseError(RuntimeError):
    """The warehouse cannot be used (busy, corrupt, disk full); says what happened and what to do."""


def _holder(folder: Path) -> str:
    try:
        return (folder / LOCK_FILE).read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"


@contextlib.contextmanager
def locked(folder: Path, wait_s: float, on_wait: Callable[[str], None] | None) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a+", encoding="utf-8") as handle:
        deadline, told = time.monotonic() + wait_s, False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseError(f"{folder} is in use by {_holder(folder)}; waited {wait_s:.0f} s: "
                                         "try again when it has finished") from None
                if not told and on_wait:
                    on_wait(f"waiting for the warehouse {folder}: in use by {_holder(folder)}")
                    told = True
                time.sleep(0.5)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({' '.join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:2]))}) since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_disk_full(error: BaseException) -> bool:
    return (isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)) or \
        "No space left on device" in str(error) or "Disk quota exceeded" in str(error)


def disk_full(folder: Path, publishing: bool = False) -> WarehouseError:
    free = shutil.disk_usage(folder).free / 2**20 if folder.exists() else 0
    done = ("The months loaded so far are kept in work.duckdb, but they are not published yet"
            if publishing else "The change was rolled back")
    return WarehouseError(f"no space left: the disk holding {folder} is full ({free:,.0f} MiB free). {done}, and "
                          "report.duckdb was left as it was: free some space and run again.")


def configured(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The connection without DuckDB's own progress bar, which would write its carriage-return redraws
    of long queries into Airflow's task logs and the CLI's output (the pipeline shows its steps)."""
    con.execute("SET enable_progress_bar = false")
    return con


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB file opened for writing, with a clear error when it is not a database."""
    try:
        con = configured(duckdb.connect(str(path), config={"memory_limit": settings.memory_limit()}))
    except duckdb.Error as e:
        if is_disk_full(e):
            raise disk_full(path.parent) from None
        raise WarehouseError(
            f"{path} cannot be opened as a DuckDB database ({str(e).splitlines()[0]}). Restore it from a backup, "
            f"or move it aside and run `reportpipe run` again: everything is rebuilt from the inbox "
            f"(the intake history of files no longer in the inbox is lost)."
        ) from None
    return con


class Writer:
    """work.duckdb, exclusively: its connection, its scratch database, its folder."""

    def __init__(self, folder: Path, con: duckdb.DuckDBPyConnection):
        self.folder, self.con = folder, con

    def fresh_scratch(self) -> None:
        """An empty scratch database: the last file's tables and their memory or spill files go.

        In memory, so that staging and typing a month write nothing they need not; beyond the
        memory limit DuckDB spills it to the temp directory under .scratch/."""
        attached = self.con.execute("SELECT 1 FROM duckdb_databases() WHERE database_name = 'scratch'").fetchall()
        if attached:
            self.con.execute("DETACH scratch")
        self.con.execute("ATTACH ':memory:' AS scratch")


@contextlib.contextmanager
def writer(folder: Path, wait_s: float = 3600, on_wait: Callable[[str], None] | None = None) -> Iterator[Writer]:
    """The working database, exclusively, with its bookkeeping tables and a scratch database."""
    folder = Path(folder)
    try:
        with locked(folder, wait_s, on_wait):
            # What a killed writer left is garbage now that the lock is ours.
            shutil.rmtree(folder / SCRATCH, ignore_errors=True)
            (folder / SCRATCH / "tmp").mkdir(parents=True)
            con = connect(folder / WORK_DB)
            try:
                con.execute(f"SET temp_directory = {literal(str(folder / SCRATCH / 'tmp'))}")
                con.execute(WAREHOUSE_SCHEMA.read_text(encoding="utf-8"))
                w = Writer(folder, con)
                w.fresh_scratch()
                yield w
            finally:
                con.close()
                shutil.rmtree(folder / SCRATCH, ignore_errors=True)
    except (duckdb.Error, OSError) as e:
        if is_disk_full(e):
            raise disk_full(folder) from e
        raise


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All of the block's changes or none of them."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        # A COMMIT that failed (a full disk) has ended the transaction itself: its error is the one to raise.
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("ROLLBACK")
        raise


def ensure_source_tables(con: duckdb.DuckDBPyConnection, source: Source, office_id: str) -> None:
    typed = ", ".join(f"{name} {sql_type}" for name, sql_type in stg_columns(source))
    con.execute(f"CREATE TABLE IF NOT EXISTS stg_{source.source_id} ({typed})")
    # A warehouse from before offices: its rows are the one office's.
    con.execute(f"ALTER TABLE stg_{source.source_id} ADD COLUMN IF NOT EXISTS office_id VARCHAR DEFAULT {literal(office_id)}")


def published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What analysts get: everything but the raw layer (personal data in clear) and bookkeeping (_*)."""
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'").fetchall()]
    names += [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal").fetchall()]
    return sorted(n for n in names if not n.startswith(("raw_", "_")))


