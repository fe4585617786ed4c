"""What analysts get: a documented report.duckdb, its Parquet copies, `describe` and `explain`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import duckdb
import pytest

from reportpipe import warehouse
from reportpipe.contracts import sources
from reportpipe.pipeline import refresh_statistics

# <中文标签> | <English meaning>[ | unit: <unit>]
COMMENT = re.compile(r"\S[^|]* \| \S[^|]*( \| unit: \S[^|]*)?")


def published(wh):
    return duckdb.connect(str(wh / "report.duckdb"), read_only=True)


def where_to_document(table: str, column: str | None) -> str:
    """Where the missing entry belongs, for the failure message."""
    source = sources().get(table.split("_", 1)[1]) if table.startswith(("stg_", "fct_")) else None
    if source and column is None:
        return f"title and description in transforms/{source.source_id}/source.yaml"
    if source and column.removesuffix("_hash") in {c.column for c in source.columns}:
        return f"a description for {column.removesuffix('_hash')} in transforms/{source.source_id}/source.yaml"
    entry = "label and description" if column is None else f"columns → {column}"
    return f"warehouse/dictionary.yaml: tables → {table} → {entry}"


def test_every_published_table_and_column_has_a_dictionary_comment(demo_warehouse):
    with published(demo_warehouse) as con:
        tables = con.execute("SELECT table_name, NULL, comment FROM duckdb_tables() WHERE database_name = current_database()").fetchall()
        columns = con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() WHERE database_name = current_database()").fetchall()
    missing = [
        f"{table}{'.' + column if column else ''}: {comment!r}; add {where_to_document(table, column)}"
        for table, column, comment in tables + columns
        if not COMMENT.fullmatch(comment or "")
    ]
    assert len(tables) > 20 and len(columns) > 200
    assert not missing, "published without a data dictionary entry (format '<中文> | <meaning>[ | unit: <unit>]'):\n" + "\n".join(missing)


def test_every_dictionary_entry_names_a_published_table_and_column(demo_warehouse):
    """A renamed or dropped column must take its entry with it."""
    with published(demo_warehouse) as con:
        actual = {t: {c for c, in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [t]).fetchall()}
                  for t, in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    stale = [f"{t}.{c}" for t, entries in warehouse.data_dictionary().items() for c in entries
             if t not in actual or (c is not None and c not in actual[t])]
    assert not stale


def test_parquet_copies_equal_the_published_tables(demo_warehouse):
    folder = demo_warehouse / warehouse.PARQUET
    with published(demo_warehouse) as con:
        tables = sorted(t for t, in con.execute("SELECT table_name FROM duckdb_tables()").fetchall())
        assert sorted(p.stem for p in folder.glob("*.parquet")) == tables
        for t in tables:
            copy = f"read_parquet('{folder / t}.parquet')"
            assert con.execute(f"DESCRIBE {t}").fetchall() == con.execute(f"DESCRIBE FROM {copy}").fetchall(), t
            differing = con.execute(f"SELECT count(*) FROM ((FROM {t} EXCEPT ALL FROM {copy}) UNION ALL (FROM {copy} EXCEPT ALL FROM {t}))")
            assert differing.fetchone()[0] == 0, t
            assert con.execute(f"SELECT count(*) FROM {t}").fetchone() == con.execute(f"SELECT count(*) FROM {copy}").fetchone()


def test_parquet_set_follows_the_published_tables_without_stale_files(demo_warehouse, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(demo_warehouse, wh, symlinks=True)
    with duckdb.connect(str(wh / warehouse.WORK_DB)) as con:
        con.execute("CREATE TABLE scratch AS SELECT 1 AS x")
    refresh_statistics(wh)
    assert (wh / "parquet" / "scratch.parquet").exists()
    with duckdb.connect(str(wh / warehouse.WORK_DB)) as con:
        con.execute("DROP TABLE scratch")
    refresh_statistics(wh)
    assert not (wh / "parquet" / "scratch.parquet").exists()
    # One set on disk: the one the link points at.
    assert [p.name for p in wh.glob(".parquet.*")] == [(wh / "parquet").resolve().name]


def test_failed_publication_leaves_report_and_parquet_set_untouched(demo_warehouse, tmp_path, monkeypatch):
    wh = tmp_path / "wh"
    shutil.copytree(demo_warehouse, wh, symlinks=True)
    before = {p.relative_to(wh): p.read_bytes() for p in [wh / "report.duckdb", *(wh / "parquet").glob("*")]}
    current_set = (wh / "parquet").resolve()

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(warehouse, "_set_comments", broken)
    with pytest.raises(OSError, match="disk full"):
        refresh_statistics(wh)
    assert {p.relative_to(wh): p.read_bytes() for p in [wh / "report.duckdb", *(wh / "parquet").glob("*")]} == before
    assert (wh / "parquet").resolve() == current_set
    assert sorted(p.name for p in wh.iterdir() if p.name.startswith(".") and p.name != ".lock") == [current_set.name]
