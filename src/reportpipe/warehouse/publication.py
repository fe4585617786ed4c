"""report.duckdb and the Parquet set: what analysts read, published whole or not at all.

`publish()` builds a complete new report.duckdb (in a storage version DuckDB's
long-term-support release reads) beside the old one and renames it into place, so a
reader keeps a consistent old view and never blocks a refresh. Every published table
and column carries its data dictionary entry as its COMMENT, and a Parquet copy of
each table is published as a set beside it. The new file starts as a copy of the old
one and the new set links the old set's files, so of the large row-level tables only
the months whose content changed are written. `open_published()` is how everything
else reads it: read-only.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from reportpipe.contracts import sources
from reportpipe.warehouse.dictionary import set_comments
from reportpipe.warehouse.models import fct_model
from reportpipe.warehouse.session import disk_full, is_disk_full, published_tables
from reportpipe.warehouse.sql import literal, quote

log = logging.getLogger(__name__)
REPORT_DB = "report.duckdb"
PARQUET = "parquet"  # a link to the current set of Parquet files, one per published table
# DuckDB 1.4 is the long-term-support release many tools ship; it reads this storage version.
PUBLISHED_STORAGE_VERSION = "v1.4.0"
# What a publication's content is: when these are unchanged, so is the publication (and its time).
CONTENT_TABLES = ("report_figures", "report_figures_monthly", "report_figures_by_community", "loaded_months",
                  "month_status", "month_checks", "figure_revisions")
TIMESTAMPS = ("logged_at", "loaded_at", "validated_at", "revised_at", "checked_at", "accepted_at")
# The row-level layers: large and by month, so a publication writes only the months that changed.
ROW_LAYERS = ("stg_", "fct_")
MONTHS_TABLE = "published_months"  # which months of each row-level layer a publication holds, by content


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
    # _publications is append-only: its last row (rowid) is the last publication, whatever the clock said.
    last = con.execute("SELECT published_at, content_sha256 FROM _publications ORDER BY rowid DESC LIMIT 1").fetchall()
    if not last or last[0][1] != digest:
        con.execute("INSERT INTO _publications VALUES (now(), ?)", [digest])
    con.execute("CREATE OR REPLACE TABLE publication AS SELECT * FROM _publications ORDER BY rowid DESC LIMIT 1")


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
    it can be read, with its published_months. What it holds of each row-level table: {table: {month: fingerprint}}."""
    attach = f"ATTACH {literal(str(building))} AS publishing (STORAGE_VERSION {literal(PUBLISHED_STORAGE_VERSION)})"
    if copied:
        try:
            con.execute(attach)
            found: dict[str, dict[str, str]] = {}
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


def _publish_report(con: duckdb.DuckDBPyConnection, office_id: str, tables: list[str],
                    by_month: dict[str, dict[str, tuple[int, str]]], published: dict[str, dict[str, str]]) -> None:
    """Make `publishing` hold the published tables: fct_ as views (their models), the stg_ tables
    rewritten only in the months that changed, the others replaced; every one with the office's office_id."""
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
            office = "" if any(c == "office_id" for c, _ in _schema(con, table)) else f", {literal(office_id)} AS office_id"
            con.execute(f"CREATE OR REPLACE TABLE publishing.{table} AS SELECT *{office} FROM main.{table}")
    con.execute(f"CREATE OR REPLACE TABLE publishing.{MONTHS_TABLE}"
                " (table_name VARCHAR, month DATE, rows BIGINT, fingerprint VARCHAR, office_id VARCHAR)")
    rows = [(t, f"{m}-01", n, f) for t in sorted(by_month) for m, (n, f) in sorted(by_month[t].items())]
    if rows:  # one statement (an executemany inserts row by row)
        con.execute(f"INSERT INTO publishing.{MONTHS_TABLE} SELECT unnest(?), unnest(?)::DATE, unnest(?), unnest(?), ?",
                    [*map(list, zip(*rows)), office_id])
    set_comments(con, "publishing", [*tables, MONTHS_TABLE])


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


def publish(con: duckdb.DuckDBPyConnection, folder: Path, office_id: str) -> Path:
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
            _publish_report(con, office_id, tables, by_month, published)
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


def open_published(folder: Path) -> duckdb.DuckDBPyConnection:
    """report.duckdb, read-only (a missing file is an error, not a new empty database)."""
    report_db = Path(folder) / REPORT_DB
    if not report_db.exists():
        raise FileNotFoundError(f"{report_db} does not exist: nothing has been published yet (`reportpipe run` "
                                "or the statistics DAG publishes it)")
    return duckdb.connect(str(report_db), read_only=True)
