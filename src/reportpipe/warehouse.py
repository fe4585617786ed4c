"""The two DuckDB files: `work.duckdb` (the pipeline's) and `report.duckdb` (the analysts').

Writers take an exclusive lock on the warehouse folder, so concurrent refreshes
queue instead of failing on DuckDB's file lock. Analysts never open work.duckdb:
`publish()` builds a complete new report.duckdb beside the old one and renames
it into place, so a reader keeps a consistent old view and never blocks a refresh.
Every published table and column carries its data dictionary entry as its COMMENT,
and a Parquet copy of each table is published as a set beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import yaml

from reportpipe.contracts import Source, sources
from reportpipe.settings import WAREHOUSE_SCHEMA
from reportpipe.staging import literal, quote, stg_columns

WORK_DB = "work.duckdb"
REPORT_DB = "report.duckdb"
PARQUET = "parquet"  # a link to the current set of Parquet files, one per published table
DICTIONARY = WAREHOUSE_SCHEMA.with_name("dictionary.yaml")
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
            if c.pii is None:
                delivered[c.column] = _comment(c.name, c.description, c.unit)
                continue
            if c.pii != "true":
                clear = f"{c.description}; NULL where personal ({c.pii}): see {c.column}_hash"
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
    for table in tables:
        comments = dictionary.get(table, {})
        if None in comments:
            con.execute(f"COMMENT ON TABLE {database}.{table} IS {literal(comments[None])}")
        columns = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ?", [database, table]
        ).fetchall()
        for (column,) in columns:
            if column in comments:
                con.execute(f"COMMENT ON COLUMN {database}.{table}.{quote(column)} IS {literal(comments[column])}")


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


def publish(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """Copy the published tables, with their comments, into a new report.duckdb and a new
    Parquet set; swap both in only once both are complete."""
    target = folder / REPORT_DB
    building = folder / f".{REPORT_DB}.{os.getpid()}.building"
    parquet = folder / f".{PARQUET}.{time.time_ns()}"
    building.unlink(missing_ok=True)
    try:
        con.execute(f"ATTACH {quote(str(building))} AS publishing")
        try:
            tables = published_tables(con)
            for table in tables:
                con.execute(f"CREATE TABLE publishing.{table} AS SELECT * FROM main.{table}")
            _set_comments(con, "publishing", tables)
            parquet.mkdir()
            for table in tables:
                con.execute(f"COPY publishing.{table} TO {literal(str(parquet / f'{table}.parquet'))} (FORMAT parquet)")
        finally:
            con.execute("DETACH publishing")
        with building.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(building, target)
        _swap_parquet(folder, parquet)
    finally:
        building.unlink(missing_ok=True)
        if parquet.exists() and (folder / PARQUET).resolve() != parquet.resolve():
            shutil.rmtree(parquet)
    return target
