"""The two DuckDB files: `work.duckdb` (the pipeline's) and `report.duckdb` (the analysts').

One writer at a time: `writer()` takes an exclusive lock on the warehouse folder (the
CLI waits for it; Airflow's tasks are serialised by the pool `reportpipe_warehouse`
and only meet the lock when someone runs the CLI meanwhile). A file is staged and
validated in a scratch database in memory (spilling beyond the memory limit to
.scratch/ beside work.duckdb), emptied after each file, so a broken or huge file never
grows work.duckdb. Analysts never open work.duckdb:
`publish()` builds a complete new report.duckdb (in a storage version DuckDB's
long-term-support release reads) beside the old one and renames it into place, so a
reader keeps a consistent old view and never blocks a refresh. Every published table
and column carries its data dictionary entry as its COMMENT, and a Parquet copy of
each table is published as a set beside it. The new file starts as a copy of the old
one and the new set links the old set's files, so of the large row-level tables only
the months whose content changed are written.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

from reportpipe import settings
from reportpipe.contracts import Source, sources
from reportpipe.models import fct_model, raw_columns, stg_columns
from reportpipe.settings import WAREHOUSE_SCHEMA
from reportpipe.sql import literal, quote

log = logging.getLogger(__name__)
WORK_DB = "work.duckdb"
REPORT_DB = "report.duckdb"
PARQUET = "parquet"  # a link to the current set of Parquet files, one per published table
SCRATCH = ".scratch"
DICTIONARY = WAREHOUSE_SCHEMA.with_name("dictionary.yaml")
LOCK_FILE = ".lock"
# DuckDB 1.4 is the long-term-support release many tools ship; it reads this storage version.
PUBLISHED_STORAGE_VERSION = "v1.4.0"
# What a publication's content is: when these are unchanged, so is the publication (and its time).
CONTENT_TABLES = ("report_figures", "report_figures_monthly", "loaded_months", "month_status", "month_checks",
                  "figure_revisions")
TIMESTAMPS = ("logged_at", "loaded_at", "validated_at", "revised_at", "checked_at", "accepted_at")
# The row-level layers: large and by month, so a publication writes only the months that changed.
ROW_LAYERS = ("stg_", "fct_")
MONTHS_TABLE = "published_months"  # which months of each row-level layer a publication holds, by content


class WarehouseError(RuntimeError):
    """The warehouse cannot be used (busy, corrupt, disk full); says what happened and what to do."""


def _holder(folder: Path) -> str:
    try:
        return (folder / LOCK_FILE).read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"


@contextlib.contextmanager
def _locked(folder: Path, wait_s: float, on_wait: Callable[[str], None] | None) -> Iterator[None]:
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


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Months were 'YYYY-MM' text before they became DATEs: convert a warehouse written then."""
    text_months = con.execute(
        "SELECT table_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main'"
        " AND column_name = 'month' AND data_type = 'VARCHAR'"
        " AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE database_name = current_database())"
    ).fetchall()
    for (table,) in text_months:
        con.execute("DROP VIEW IF EXISTS month_status")
        con.execute(f"ALTER TABLE {quote(table)} ALTER month TYPE DATE USING CAST(month || '-01' AS DATE)")


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

    def use_pii_key(self) -> None:
        """Register pii_hash(text): HMAC-SHA256 (hex) with the key from settings, over Arrow batches."""
        # HMAC (RFC 2104) from SHA-256 states keyed once: each value copies them instead of keying
        # anew, 2.4 times faster than hmac.digest per value.
        key = settings.pii_key()
        key = hashlib.sha256(key).digest() if len(key) > 64 else key
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in key.ljust(64, b"\0")))
        outer = hashlib.sha256(bytes(b ^ 0x5C for b in key.ljust(64, b"\0")))

        def keyed(text: str) -> str:
            digest = inner.copy()
            digest.update(text.encode("utf-8"))
            result = outer.copy()
            result.update(digest.digest())
            return result.hexdigest()

        def pii_hash(values: pa.Array) -> pa.Array:
            # Upper case first, so that an ID number's check character x and X hash alike.
            return pa.array([None if v is None else keyed(v.upper()) for v in values.to_pylist()], pa.string())

        with contextlib.suppress(duckdb.InvalidInputException, duckdb.CatalogException):
            self.con.remove_function("pii_hash")
        self.con.create_function("pii_hash", pii_hash, ["VARCHAR"], "VARCHAR", type="arrow",
                                 null_handling="special", side_effects=False)


@contextlib.contextmanager
def writer(folder: Path, wait_s: float = 3600, on_wait: Callable[[str], None] | None = None) -> Iterator[Writer]:
    """The working database, exclusively, with its bookkeeping tables and a scratch database."""
    folder = Path(folder)
    try:
        with _locked(folder, wait_s, on_wait):
            # What a killed writer left is garbage now that the lock is ours.
            shutil.rmtree(folder / SCRATCH, ignore_errors=True)
            (folder / SCRATCH / "tmp").mkdir(parents=True)
            con = connect(folder / WORK_DB)
            try:
                con.execute(f"SET temp_directory = {literal(str(folder / SCRATCH / 'tmp'))}")
                _migrate(con)
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


def ensure_source_tables(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    raw = ", ".join(f"{quote(name)} {sql_type}" for name, sql_type in raw_columns(source))
    con.execute(f"CREATE TABLE IF NOT EXISTS raw_{source.source_id} ({raw})")
    typed = ", ".join(f"{name} {sql_type}" for name, sql_type in stg_columns(source))
    con.execute(f"CREATE TABLE IF NOT EXISTS stg_{source.source_id} ({typed})")


def published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What analysts get: everything but the raw layer (personal data in clear) and bookkeeping (_*)."""
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'").fetchall()]
    names += [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal").fetchall()]
    return sorted(n for n in names if not n.startswith(("raw_", "_")))


def _comment(label: str, description: str, unit: str | None = None) -> str | None:
    """`<中文标签> | <English meaning>[ | unit: <unit>]`; None without a meaning (left undocumented)."""
    if not description:
        return None
    return " | ".join([label, description] + ([f"unit: {unit}"] if unit else []))


def data_dictionary(all_sources: dict[str, Source] | None = None) -> dict[str, dict[str | None, str]]:
    """The comment of every documented table (key None) and of its columns, by table.

    Delivered columns are described in transforms/<source>/source.yaml, the rest in
    warehouse/dictionary.yaml.
    """
    raw = yaml.safe_load(DICTIONARY.read_text(encoding="utf-8"))
    lineage = {name: _comment(**e) for name, e in raw["lineage"].items()}
    found: dict[str, dict[str | None, str | None]] = {}
    for source in (all_sources or sources()).values():
        delivered = {}
        for c in source.columns:
            if not c.description:
                continue  # undocumented: tests/test_analysts.py names it
            if c.personal is None:
                delivered[c.column] = _comment(c.name, c.description, c.unit)
                continue
            if c.personal != "true":
                clear = f"{c.description}; NULL where personal ({c.personal}): see {c.column}_hash"
                delivered[c.column] = _comment(c.name, clear, c.unit)
            hashed = f"keyed hash (HMAC-SHA256) of: {c.description}; personal data, never published in clear"
            delivered[f"{c.column}_hash"] = _comment(c.name, hashed)
        for layer, what in (("stg", "the delivered rows, typed (staging layer)"), ("fct", "its business rows")):
            found[f"{layer}_{source.source_id}"] = {
                None: _comment(source.title, f"{source.description}: {what}"), **lineage, **delivered}
    for table, e in raw["tables"].items():
        documented = found.setdefault(table, {})
        if "label" in e:
            documented[None] = _comment(e["label"], e["description"], e.get("unit"))
        documented.update({name: _comment(**c) for name, c in e.get("columns", {}).items()})
    return {t: {k: v for k, v in entries.items() if v} for t, entries in found.items()}


def _set_comments(con: duckdb.DuckDBPyConnection, database: str, tables: list[str]) -> None:
    dictionary = data_dictionary()
    views = {v for v, in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = ?", [database]).fetchall()}
    columns = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ?",
                          [database]).fetchall()
    statements = [f"COMMENT ON {'VIEW' if table in views else 'TABLE'} {database}.{table} IS {literal(dictionary[table][None])}"
                  for table in tables if None in dictionary.get(table, {})]
    statements += [f"COMMENT ON COLUMN {database}.{table}.{quote(column)} IS {literal(dictionary[table][column])}"
                   for table, column in columns if table in tables and column in dictionary.get(table, {})]
    with transaction(con):  # committed one by one, the hundreds of comments took a second
        for statement in statements:
            con.execute(statement)


def _swap_parquet(folder: Path, new_set: Path) -> None:
    """Point folder/parquet at the new set in one rename (readers never see a mix), then drop older sets."""
    link = folder / PARQUET
    pointing = folder / f".{PARQUET}.{os.getpid()}.link"
    pointing.unlink(missing_ok=True)
    pointing.symlink_to(new_set.name)
    os.replace(pointing, link)
    for old in folder.glob(f".{PARQUET}.*"):  # also what a crashed publication left
        if old == new_set:
            continue
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()


def content_digest(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 of what a publication says (figures, months, flags, revisions), without its timestamps."""
    digest = hashlib.sha256()
    for table in CONTENT_TABLES:
        columns = [c for c, in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ?"
            " ORDER BY column_index", [table]).fetchall() if c not in TIMESTAMPS]
        if columns:
            rows = con.execute(f"SELECT {', '.join(map(quote, columns))} FROM {table} ORDER BY ALL").fetchall()
            digest.update(repr((table, columns, rows)).encode("utf-8"))
    return digest.hexdigest()


def _record_publication(con: duckdb.DuckDBPyConnection) -> None:
    """The publication's time: kept from the last one when the content is the same, so outputs stay identical."""
    digest = content_digest(con)
    last = con.execute("SELECT published_at, content_sha256 FROM _publications ORDER BY published_at DESC LIMIT 1").fetchall()
    if not last or last[0][1] != digest:
        con.execute("INSERT INTO _publications VALUES (now(), ?)", [digest])
    con.execute("CREATE OR REPLACE TABLE publication AS SELECT * FROM _publications ORDER BY published_at DESC LIMIT 1")


def _schema(con: duckdb.DuckDBPyConnection, table: str, database: str | None = None) -> list[tuple[str, str]]:
    """(column, type) of a table of the database (work.duckdb without one)."""
    return con.execute("SELECT column_name, data_type FROM duckdb_columns()"
                       " WHERE database_name = coalesce(?, current_database()) AND table_name = ? ORDER BY column_index",
                       [database, table]).fetchall()


def _month_fingerprints(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, tuple[int, str]]:
    """{'YYYY-MM': (rows, fingerprint)} of a row-level table of work.duckdb.

    The fingerprint changes with the table's columns, the month's rows or any of their values: it
    is the schema's digest, the row count and the XOR of the rows' hashes (rows carry their file
    and source row, so no two are alike and none cancel out)."""
    schema = hashlib.sha256(repr(_schema(con, table)).encode()).hexdigest()[:16]
    months = con.execute(f"SELECT month, count(*), bit_xor(hash(t)) FROM main.{table} t GROUP BY 1").fetchall()
    if any(month is None or month.day != 1 for month, *_ in months):
        raise ValueError(f"{table} has rows without a month (the first day of one): a model must keep each row's month")
    return {f"{month:%Y-%m}": (rows, f"{schema}-{rows}-{content:016x}") for month, rows, content in months}


def _in_months(months: list[str]) -> str:
    # Compared as dates, the filter skips the other months' row groups unread.
    return f"month IN ({', '.join('DATE ' + literal(f'{m}-01') for m in months)})"


def _attach_based_on(con: duckdb.DuckDBPyConnection, copied: bool, building: Path) -> dict[str, dict[str, str]]:
    """Attach the new report.duckdb as `publishing`: the copy of the current one when there is one and
    it can be read. What it holds of each row-level table: {table: {month: fingerprint}} (nothing from
    a file without published_months: one written before publication by month)."""
    attach = f"ATTACH {literal(str(building))} AS publishing (STORAGE_VERSION {literal(PUBLISHED_STORAGE_VERSION)})"
    if copied:
        try:
            con.execute(attach)
            found: dict[str, dict[str, str]] = {}
            if _schema(con, MONTHS_TABLE, "publishing"):
                for table, month, fingerprint in con.execute(
                        f"SELECT table_name, strftime(month, '%Y-%m'), fingerprint FROM publishing.{MONTHS_TABLE}").fetchall():
                    found.setdefault(table, {})[month] = fingerprint
            return found
        except duckdb.Error as e:
            if is_disk_full(e):
                raise
            log.warning("the current %s cannot be read (%s): it is published again from nothing", REPORT_DB,
                        str(e).splitlines()[0])
            with contextlib.suppress(duckdb.Error):
                con.execute("DETACH publishing")
            for copy in building.parent.glob(f"{building.name}*"):  # with any WAL DuckDB began for it
                copy.unlink()
    con.execute(attach)
    return {}


def _publish_report(con: duckdb.DuckDBPyConnection, tables: list[str], by_month: dict[str, dict[str, tuple[int, str]]],
                    published: dict[str, dict[str, str]]) -> None:
    """Make `publishing` hold the published tables: fct_ as views (their models), the stg_ tables
    rewritten only in the months that changed, the others replaced."""
    views = {f"fct_{s}": fct_model(source) for s, source in sources().items()}
    keep = set(tables) | {MONTHS_TABLE}
    for name, kind in con.execute(
            "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE database_name = 'publishing' UNION ALL"
            " SELECT view_name, 'VIEW' FROM duckdb_views() WHERE database_name = 'publishing' AND NOT internal").fetchall():
        if name not in keep or (kind == "VIEW") != (name in views):
            con.execute(f"DROP {kind} publishing.{name}")
    for table in tables:
        if table in views:
            con.execute(f"CREATE OR REPLACE VIEW publishing.{table} AS {views[table]}")
        elif table in published and _schema(con, table, "publishing") == _schema(con, table):
            months = {m: fingerprint for m, (_, fingerprint) in by_month[table].items()}
            was = published[table]
            gone = [m for m in was if months.get(m) != was[m]]
            new = [m for m in months if was.get(m) != months[m]]
            if gone:
                con.execute(f"DELETE FROM publishing.{table} WHERE {_in_months(gone)}")
            if new:
                con.execute(f"INSERT INTO publishing.{table} SELECT * FROM main.{table} WHERE {_in_months(new)}")
        else:
            con.execute(f"CREATE OR REPLACE TABLE publishing.{table} AS SELECT * FROM main.{table}")
    con.execute(f"CREATE OR REPLACE TABLE publishing.{MONTHS_TABLE}"
                " (table_name VARCHAR, month DATE, rows BIGINT, fingerprint VARCHAR)")
    rows = [(t, f"{m}-01", n, f) for t in sorted(by_month) for m, (n, f) in sorted(by_month[t].items())]
    if rows:
        con.executemany(f"INSERT INTO publishing.{MONTHS_TABLE} VALUES (?, ?, ?, ?)", rows)
    _set_comments(con, "publishing", [*tables, MONTHS_TABLE])


def _publish_parquet(con: duckdb.DuckDBPyConnection, folder: Path, new_set: Path, tables: list[str],
                     by_month: dict[str, dict[str, tuple[int, str]]]) -> None:
    """One file per table; a row-level table as a folder of one file per month. A month unchanged since
    the current set is a hard link to its file there (the file's metadata holds its fingerprint), and
    one with the content of a file written already (a fct_ that is its stg_) a hard link to that."""
    last = (folder / PARQUET).resolve() if (folder / PARQUET).is_symlink() else None
    written: dict[str, Path] = {}
    for table in tables:
        if table not in by_month:
            con.execute(f"COPY publishing.{table} TO {literal(str(new_set / f'{table}.parquet'))} (FORMAT parquet)")
            continue
        (new_set / table).mkdir()
        linkable: dict[str, str] = {}
        if last and any((last / table).glob("*.parquet")):
            linkable = dict(con.execute("SELECT parse_filename(file_name, true), decode(value) FROM parquet_kv_metadata(?)"
                                        " WHERE decode(key) = 'fingerprint'", [str(last / table / "*.parquet")]).fetchall())
        for month, (_, fingerprint) in sorted(by_month[table].items()):
            file = new_set / table / f"{month}.parquet"
            if linkable.get(month) == fingerprint:
                os.link(last / table / file.name, file)
            elif fingerprint in written:
                os.link(written[fingerprint], file)
            else:
                con.execute(f"COPY (SELECT * FROM main.{table} WHERE {_in_months([month])}) TO {literal(str(file))}"
                            f" (FORMAT parquet, KV_METADATA {{fingerprint: {literal(fingerprint)}}})")
            written[fingerprint] = file
        if not by_month[table]:  # a table without rows yet: its columns, for a reader of the folder
            con.execute(f"COPY (FROM publishing.{table} LIMIT 0) TO {literal(str(new_set / table / 'empty.parquet'))} (FORMAT parquet)")


def publish(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """Make a new report.duckdb and a new Parquet set hold the published tables, with their comments;
    swap both in only once both are complete.

    The new report.duckdb starts as a copy of the current one and the new Parquet set links the
    current set's files, so of the row-level tables (stg_, fct_) only the months whose content
    changed are written: a monthly refresh of a city's year writes one month, not twelve."""
    target = folder / REPORT_DB
    building = folder / f".{REPORT_DB}.{os.getpid()}.building"
    parquet = folder / f".{PARQUET}.{time.time_ns()}"
    for leftover in folder.glob(f".{REPORT_DB}.*.building*"):  # of a killed publication; the lock is ours
        leftover.unlink()
    _record_publication(con)
    tables = published_tables(con)
    try:
        with ThreadPoolExecutor(1) as copying:  # the disk copies while DuckDB reads
            copied = copying.submit(lambda: target.exists() and shutil.copyfile(target, building) is not None)
            # A fct_ without a model of its own is its stg_ table: the same months, the same fingerprints.
            as_is = {f"fct_{s}": f"stg_{s}" for s, source in sources().items() if source.fct_sql is None}
            by_month = {t: _month_fingerprints(con, t) for t in tables if t.startswith(ROW_LAYERS) and t not in as_is}
            by_month |= {t: by_month[as_is[t]] for t in tables if t in as_is}
            published = _attach_based_on(con, copied.result(), building)
        try:
            _publish_report(con, tables, by_month, published)
            parquet.mkdir()
            _publish_parquet(con, folder, parquet, [*tables, MONTHS_TABLE], by_month)
        finally:
            con.execute("DETACH publishing")
        with building.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(building, target)
        _swap_parquet(folder, parquet)
    except (duckdb.Error, OSError) as e:
        if is_disk_full(e):
            raise disk_full(folder, publishing=True) from e
        raise
    finally:
        for leftover in folder.glob(f".{REPORT_DB}.{os.getpid()}.building*"):
            leftover.unlink()
        if parquet.exists() and (folder / PARQUET).resolve() != parquet.resolve():
            shutil.rmtree(parquet)
    return target


def reader(folder: Path) -> duckdb.DuckDBPyConnection:
    """report.duckdb, read-only (a missing file is an error, not a new empty database)."""
    report_db = Path(folder) / REPORT_DB
    if not report_db.exists():
        raise FileNotFoundError(f"{report_db} does not exist: `reportpipe run` publishes it")
    return duckdb.connect(str(report_db), read_only=True)
