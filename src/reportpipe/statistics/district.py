"""The district's report.duckdb: every office's published tables side by side, and the district's own figures.

`publish_district()` builds `<warehouse>/report.duckdb` from the offices' published files
(`<warehouse>/offices/<id>/report.duckdb`), which it only reads, under a lock of its own: an
office's load never waits for it. The new file starts as a copy of the current one, and of the
row-level stg_ tables only the months an office's publication changed are written (the offices'
`published_months` fingerprints say which); the small tables are every office's, unioned, with
`office_id` on each row. The district's figures are computed over all offices' rows with each
figure's own definition (reportpipe.statistics.figures): counts and sums add up, rates come from
the summed numerators and denominators. A district figure is provisional when an office's is, or
when an office has nothing for the year, and its reason names each such office.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb

from reportpipe import settings
from reportpipe.contracts import sources
from reportpipe.offices import deployment
from reportpipe.statistics.figures import build_business_tables, build_report_tables
from reportpipe.warehouse.dictionary import set_comments
from reportpipe.warehouse.publication import MONTHS_TABLE, PUBLISHED_STORAGE_VERSION, REPORT_DB, content_digest
from reportpipe.warehouse.session import configured, disk_full, is_disk_full, locked
from reportpipe.warehouse.sql import literal, quote

log = logging.getLogger(__name__)
REPORT_TABLES = ("report_figures", "report_figures_monthly", "report_figures_by_community")
NOT_UNIONED = (MONTHS_TABLE, "publication")  # a file's own: the district writes its own


def _stg_columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], frozenset[str]]:
    """{(database, table): its columns} of every attached stg_ table, in one look at the catalogue."""
    return {(db, table): frozenset(columns) for db, table, columns in con.execute(
        "SELECT database_name, table_name, list(column_name) FROM duckdb_columns()"
        " WHERE starts_with(table_name, 'stg_') GROUP BY ALL").fetchall()}


def _in_months(months: list[str]) -> str:
    return f"month IN ({', '.join('DATE ' + literal(f'{m}-01') for m in months)})"


def _attach_copy(con: duckdb.DuckDBPyConnection, building: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Attach the copy of the current report.duckdb as `publishing`; what it holds of each office's
    row-level tables: {(office_id, table): {month: fingerprint}}. A copy that cannot be read (or is
    a single office's file) is dropped: the district's file is published again from nothing."""
    attach = f"ATTACH {literal(str(building))} AS publishing (STORAGE_VERSION {literal(PUBLISHED_STORAGE_VERSION)})"
    if building.exists():
        try:
            con.execute(attach)
            held: dict[tuple[str, str], dict[str, str]] = {}
            for office_id, table, month, fingerprint in con.execute(
                    f"SELECT office_id, table_name, strftime(month, '%Y-%m'), fingerprint FROM publishing.{MONTHS_TABLE}"
            ).fetchall():
                held.setdefault((office_id, table), {})[month] = fingerprint
            return held
        except duckdb.Error as e:
            if is_disk_full(e):
                raise
            log.info("the current %s is published again from nothing (%s)", REPORT_DB, str(e).splitlines()[0])
            with contextlib.suppress(duckdb.Error):
                con.execute("DETACH publishing")
            for copy in building.parent.glob(f"{building.name}*"):
                copy.unlink()
    con.execute(attach)
    return {}


def _attach_offices(con: duckdb.DuckDBPyConnection, warehouse_dir: Path) -> dict[str, str]:
    """Attach each office's published file read-only; {office_id: its database name}. An office without one,
    or whose file cannot be read, is left out (its figures are then missing, which makes the district's
    provisional), and stops no other."""
    attached = {}
    for office in deployment().offices:
        path = deployment().folder(warehouse_dir, office.id) / REPORT_DB
        if not path.exists():
            continue
        try:
            con.execute(f"ATTACH {literal(str(path))} AS {quote('office_' + office.id)} (READ_ONLY)")
            attached[office.id] = f"office_{office.id}"
        except duckdb.Error as e:
            log.warning("%s: %s cannot be read (%s); the district is published without it", office.id, path,
                        str(e).splitlines()[0])
    return attached


def _row_level(con: duckdb.DuckDBPyConnection, offices: dict[str, str],
               held: dict[tuple[str, str], dict[str, str]]) -> None:
    """Bring each stg_ table of `publishing` to the offices' months, and its published_months to theirs."""
    months: dict[str, dict[str, dict[str, tuple[int, str]]]] = {}  # table → office → month → (rows, fingerprint)
    for office_id, db in offices.items():
        for table, in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?"
                                  " AND starts_with(table_name, 'stg_')", [db]).fetchall():
            months.setdefault(table, {}).setdefault(office_id, {})
        for table, month, rows, fingerprint in con.execute(
                f"SELECT table_name, strftime(month, '%Y-%m'), rows, fingerprint FROM {db}.{MONTHS_TABLE}"
                " WHERE starts_with(table_name, 'stg_')").fetchall():
            months.setdefault(table, {}).setdefault(office_id, {})[month] = (rows, fingerprint)
    columns = _stg_columns(con)
    for table, by_office in sorted(months.items()):
        shapes = {columns.get((offices[o], table)) for o in by_office}
        if len(shapes) > 1 or shapes != {columns.get(("publishing", table))}:
            # New, or its columns changed: published again from every office.
            con.execute(f"DROP TABLE IF EXISTS publishing.{table}")
            con.execute(f"CREATE TABLE publishing.{table} AS SELECT * FROM {offices[next(iter(by_office))]}.{table} LIMIT 0")
            held = {k: v for k, v in held.items() if k[1] != table}
        for office_id, db in offices.items():
            now = {m: f for m, (_, f) in by_office.get(office_id, {}).items()}
            was = held.pop((office_id, table), {})
            gone = [m for m in was if now.get(m) != was[m]]
            new = [m for m in now if was.get(m) != now[m]]
            if gone:
                con.execute(f"DELETE FROM publishing.{table} WHERE office_id = ? AND {_in_months(gone)}", [office_id])
            if new:
                con.execute(f"INSERT INTO publishing.{table} BY NAME SELECT * FROM {db}.{table} WHERE {_in_months(new)}")
    for (office_id, table), was in held.items():  # offices no longer declared, or whose file is unreadable
        if was and table in months:
            con.execute(f"DELETE FROM publishing.{table} WHERE office_id = ?", [office_id])
    con.execute(f"CREATE OR REPLACE TABLE publishing.{MONTHS_TABLE} AS " + " UNION ALL ".join(
        f"SELECT table_name, month, rows, fingerprint, {literal(office_id)} AS office_id FROM {db}.{MONTHS_TABLE}"
        " WHERE starts_with(table_name, 'stg_')" for office_id, db in offices.items()) + " ORDER BY ALL")


def _union(con: duckdb.DuckDBPyConnection, offices: dict[str, str]) -> None:
    """Every office's small tables (bookkeeping and report tables, office_id on each row) as one."""
    names: dict[str, list[str]] = {}
    for office_id, db in offices.items():
        for table, in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?"
                                  " AND NOT starts_with(table_name, 'stg_')", [db]).fetchall():
            if table not in NOT_UNIONED:
                names.setdefault(table, []).append(office_id)
    for table, holders in sorted(names.items()):
        parts = [f"SELECT * FROM {offices[o]}.{table}" for o in holders]
        con.execute(f"CREATE OR REPLACE TABLE publishing.{table} AS {' UNION ALL BY NAME '.join(parts)}")


def _district_figures(con: duckdb.DuckDBPyConnection, offices: dict[str, str]) -> None:
    """The district's rows of the report tables (office_id = the district's id), then the offices' own."""
    district = deployment().district
    for table in REPORT_TABLES:
        con.execute(f"ALTER TABLE publishing.{table} RENAME TO _offices_{table}")
    con.execute("USE publishing")
    try:
        build_report_tables(con, district.id)
    finally:
        con.execute("USE memory")
    for table in REPORT_TABLES:
        con.execute(f"INSERT INTO publishing.{table} BY NAME SELECT * FROM publishing._offices_{table}")
        con.execute(f"DROP TABLE publishing._offices_{table}")
    declared = " UNION ALL ".join(f"SELECT {literal(o.id)} AS office_id, {literal(o.name)} AS name, {i} AS position"
                                  for i, o in enumerate(deployment().offices))
    con.execute(f"""
        UPDATE publishing.report_figures d
        SET months_loaded = w.months_loaded, is_provisional = w.reason IS NOT NULL, provisional_reason = w.reason
        FROM (
            SELECT d.year, d.figure_id, min(coalesce(r.months_loaded, 0)) AS months_loaded,
                   string_agg(o.name || ': ' || CASE WHEN r.office_id IS NULL THEN '0 of 12 months loaded'
                                                     ELSE r.provisional_reason END, '; ' ORDER BY o.position)
                       FILTER (WHERE r.office_id IS NULL OR r.is_provisional) AS reason
            FROM publishing.report_figures d CROSS JOIN ({declared}) o
            LEFT JOIN publishing.report_figures r ON r.office_id = o.office_id AND r.year = d.year
                                                   AND r.figure_id = d.figure_id
            WHERE d.office_id = {literal(district.id)}
            GROUP BY ALL
        ) w
        WHERE d.office_id = {literal(district.id)} AND d.year = w.year AND d.figure_id = w.figure_id""")
    order = {"report_figures": "year, section_position, figure_position",
             "report_figures_monthly": "year, month, figure_id", "report_figures_by_community": "year, figure_id, community"}
    positions = f"CASE office_id WHEN {literal(district.id)} THEN -1 " + " ".join(
        f"WHEN {literal(o.id)} THEN {i}" for i, o in enumerate(deployment().offices)) + " END"
    for table, keys in order.items():  # the district first, then the offices as declared
        con.execute(f"CREATE OR REPLACE TABLE publishing.{table} AS FROM publishing.{table} ORDER BY {positions}, {keys}")


def _record_publication(con: duckdb.DuckDBPyConnection, was: tuple | None) -> None:
    """The publication's time: kept from the last one when the content is the same."""
    con.execute("USE publishing")
    try:
        digest = content_digest(con)
    finally:
        con.execute("USE memory")
    if was and was[1] == digest:
        con.execute("CREATE OR REPLACE TABLE publishing.publication AS SELECT ?::TIMESTAMPTZ AS published_at,"
                    " ?::VARCHAR AS content_sha256", list(was))
    else:
        con.execute("CREATE OR REPLACE TABLE publishing.publication AS SELECT now() AS published_at,"
                    " ?::VARCHAR AS content_sha256", [digest])


def publish_district(warehouse_dir: Path, wait_s: float = 3600, on_wait: Callable[[str], None] | None = None) -> Path:
    """Publish `<warehouse>/report.duckdb` from the offices' published files: whole, or not at all."""
    warehouse_dir = Path(warehouse_dir)
    target = warehouse_dir / REPORT_DB
    building = warehouse_dir / f".{REPORT_DB}.{os.getpid()}.building"
    with locked(warehouse_dir, wait_s, on_wait):
        for leftover in warehouse_dir.glob(f".{REPORT_DB}.*.building*"):  # of a killed publication; the lock is ours
            leftover.unlink()
        con = configured(duckdb.connect(config={"memory_limit": settings.memory_limit()}))
        try:
            if target.exists():
                shutil.copyfile(target, building)
            held = _attach_copy(con, building)
            was = None
            if held:
                was = con.execute("SELECT published_at, content_sha256 FROM publishing.publication").fetchone()
            offices = _attach_offices(con, warehouse_dir)
            if not offices:
                raise FileNotFoundError(f"no office has published yet: nothing to put into {target}")
            _row_level(con, offices, held)
            _union(con, offices)
            con.execute("USE publishing")
            try:
                build_business_tables(con, sources())
            finally:
                con.execute("USE memory")
            if deployment().district:
                _district_figures(con, offices)
            _record_publication(con, was)
            tables = [t for t, in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'publishing'"
                                               " UNION ALL SELECT view_name FROM duckdb_views()"
                                               " WHERE database_name = 'publishing' AND NOT internal").fetchall()]
            set_comments(con, "publishing", tables)
            con.execute("DETACH publishing")
            with building.open("rb") as f:
                os.fsync(f.fileno())
            os.replace(building, target)
        except (duckdb.Error, OSError) as e:
            if is_disk_full(e):
                raise disk_full(warehouse_dir, publishing=True) from e
            raise
        finally:
            con.close()
            for leftover in warehouse_dir.glob(f".{REPORT_DB}.{os.getpid()}.building*"):
                leftover.unlink()
    return target
