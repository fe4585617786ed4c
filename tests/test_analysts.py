"""What analysts get: a documented report.duckdb, its Parquet copies, `describe` and `explain`."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from reportpipe.contracts import figures, sources
from reportpipe.pipeline import refresh_statistics
from reportpipe.statistics.explain import explain, number_text
from reportpipe.warehouse.dictionary import data_dictionary
from reportpipe.warehouse.publication import PARQUET
from reportpipe.warehouse.session import WORK_DB
from tests.helpers import cli, delivered, open_report, parquet_copy

# <中文标签> | <English meaning>[ | unit: <unit>]
COMMENT = re.compile(r"\S[^|]* \| \S[^|]*( \| unit: \S[^|]*)?")


# What report.duckdb publishes: its tables, and the fct_ views over its stg_ tables.
OBJECTS = ("SELECT table_name, comment FROM duckdb_tables() UNION ALL"
           " SELECT view_name, comment FROM duckdb_views() WHERE NOT internal")


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
    with open_report(demo_warehouse) as con:
        tables = [(t, None, c) for t, c in con.execute(OBJECTS).fetchall()]
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
    with open_report(demo_warehouse) as con:
        actual = {t: {c for c, in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [t]).fetchall()}
                  for t, _ in con.execute(OBJECTS).fetchall()}
    stale = [f"{t}.{c}" for t, entries in data_dictionary().items() for c in entries
             if t not in actual or (c is not None and c not in actual[t])]
    assert not stale


def test_parquet_copies_equal_the_published_tables(demo_warehouse):
    folder = demo_warehouse / PARQUET
    with open_report(demo_warehouse) as con:
        tables = sorted(t for t, _ in con.execute(OBJECTS).fetchall())
        assert sorted(p.stem for p in folder.iterdir()) == tables
        for t in tables:
            copy = parquet_copy(folder, t)
            assert con.execute(f"DESCRIBE {t}").fetchall() == con.execute(f"DESCRIBE FROM {copy}").fetchall(), t
            differing = con.execute(f"SELECT count(*) FROM ((FROM {t} EXCEPT ALL FROM {copy}) UNION ALL (FROM {copy} EXCEPT ALL FROM {t}))")
            assert differing.fetchone()[0] == 0, t
            assert con.execute(f"SELECT count(*) FROM {t}").fetchone() == con.execute(f"SELECT count(*) FROM {copy}").fetchone()


def test_parquet_set_follows_the_published_tables_without_stale_files(demo_warehouse, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(demo_warehouse, wh, symlinks=True)
    with duckdb.connect(str(wh / WORK_DB)) as con:
        con.execute("CREATE TABLE scratch AS SELECT 1 AS x")
    refresh_statistics(wh)
    assert (wh / "parquet" / "scratch.parquet").exists()
    with duckdb.connect(str(wh / WORK_DB)) as con:
        con.execute("DROP TABLE scratch")
    refresh_statistics(wh)
    assert not (wh / "parquet" / "scratch.parquet").exists()
    # One set on disk: the one the link points at.
    assert [p.name for p in wh.glob(".parquet.*")] == [(wh / "parquet").resolve().name]


def test_failed_publication_leaves_report_and_parquet_set_untouched(demo_warehouse, tmp_path, monkeypatch):
    wh = tmp_path / "wh"
    shutil.copytree(demo_warehouse, wh, symlinks=True)
    before = {p.relative_to(wh): p.read_bytes() for p in [wh / "report.duckdb", *(wh / "parquet").rglob("*.parquet")]}
    current_set = (wh / "parquet").resolve()

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr("reportpipe.warehouse.publication.set_comments", broken)
    with pytest.raises(OSError, match="disk full"):
        refresh_statistics(wh)
    assert {p.relative_to(wh): p.read_bytes() for p in [wh / "report.duckdb", *(wh / "parquet").rglob("*.parquet")]} == before
    assert (wh / "parquet").resolve() == current_set
    assert sorted(p.name for p in wh.iterdir() if p.name.startswith(".") and p.name != ".lock") == [current_set.name]


def test_describe_lists_every_table_with_its_comment_and_rows(demo_warehouse):
    described = cli("describe", "--warehouse", demo_warehouse)
    with open_report(demo_warehouse) as con:
        tables = con.execute(OBJECTS).fetchall()
        expected = [(t, con.execute(f"SELECT count(*) FROM {t}").fetchone()[0], c) for t, c in tables]
    assert described.code == 0
    lines = {line.split()[0]: line for line in described.out.splitlines()[1:]}
    assert sorted(lines) == sorted(t for t, _, _ in expected)
    for table, rows, comment in expected:
        assert lines[table].split(None, 2) == [table, str(rows), comment]


def test_describe_one_table_lists_its_columns(demo_warehouse):
    described = cli("describe", "report_figures", "--warehouse", demo_warehouse)
    with open_report(demo_warehouse) as con:
        columns = con.execute("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = 'report_figures' ORDER BY column_index").fetchall()
    assert described.code == 0
    assert [line.split(None, 2) for line in described.out.splitlines()[1:]] == [list(c) for c in columns]


def test_describe_an_unknown_table_lists_the_tables(demo_warehouse):
    described = cli("describe", "report_figure", "--warehouse", demo_warehouse)
    assert described.code == 2 and "no table 'report_figure'" in described.err and "report_figures_monthly" in described.err


def figure_of_kind(kind):
    """The first figure of a kind; a count that selects rows rather than counting them all."""
    return next(f for f in figures() if f.kind == kind and f.expression != "true")


@pytest.mark.parametrize("kind", ["count", "sum", "rate"])
def test_explain_recomputes_the_figure_and_names_its_files(demo_warehouse, tmp_path, kind):
    f = figure_of_kind(kind)
    rows_csv = tmp_path / "rows.csv"
    explained = cli("explain", f.figure_id, "--year", "2023", "--warehouse", demo_warehouse, "--rows", rows_csv)
    with open_report(demo_warehouse) as con:
        value, = con.execute("SELECT value FROM report_figures WHERE figure_id = ? AND year = 2023", [f.figure_id]).fetchone()
        files = con.execute("SELECT path, sha256 FROM loaded_months WHERE source_id = ? AND year(month) = 2023", [f.source_id]).fetchall()
        sql = explain(con, f, 2023).sql
        assert con.execute(sql).fetchall() == [(2023, value)]  # the SQL shown runs against report.duckdb
    assert explained.code == 0
    for text in (f.label, f.section, f.unit, f.definition, sql.splitlines()[-1].strip(), f"value 2023  {number_text(value)} {f.unit}"):
        assert text in explained.out
    assert len(files) == 12 and all(sha in explained.out and Path(path).name in explained.out for path, sha in files)

    with rows_csv.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["file_sha256"] for r in rows} <= {sha for _, sha in files}
    if kind == "count":
        assert len(rows) == value
    elif kind == "sum":
        assert sum(float(r[f.expression]) for r in rows) == value
    else:
        assert round(100 * sum(r["in_numerator"] == "True" for r in rows) / len(rows), 1) == value


def test_explain_prints_the_recomputed_value_and_fails_when_the_published_one_differs(demo_warehouse, tmp_path):
    f = figure_of_kind("count")
    wh = tmp_path / "wh"
    wh.mkdir()
    shutil.copy(demo_warehouse / "report.duckdb", wh)
    with duckdb.connect(str(wh / "report.duckdb")) as con:
        value, = con.execute("UPDATE report_figures SET value = value + 1 WHERE figure_id = ? AND year = 2023 RETURNING value - 1", [f.figure_id]).fetchone()
    explained = cli("explain", f.figure_id, "--year", "2023", "--warehouse", wh)
    assert explained.code == 1
    assert f"value 2023  {number_text(value)} {f.unit}   DIFFERS from report_figures: {number_text(value + 1)}" in explained.out


def test_explain_rows_hold_personal_data_only_as_hashes(demo_warehouse, tmp_path):
    petitions = sources()["petitions"]
    f = next(f for f in figures() if f.source_id == "petitions")
    rows_csv = tmp_path / "rows.csv"
    assert cli("explain", f.figure_id, "--year", "2023", "--warehouse", demo_warehouse, "--rows", rows_csv).code == 0
    personal = [c for c in petitions.columns if c.pii]
    with duckdb.connect() as con:  # the clear values: the petitions' files as delivered
        con.execute(f"ATTACH '{demo_warehouse / WORK_DB}' AS work (READ_ONLY); ATTACH ':memory:' AS scratch; USE work")
        delivered(con, demo_warehouse, "petitions")
        clear = {v.strip(" \u3000") for c in personal for v, in con.execute(f'SELECT DISTINCT "{c.name}" FROM delivered WHERE "{c.name}" IS NOT NULL').fetchall()} - {""}
    text = rows_csv.read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert len(text.splitlines()) > 10 and len(clear) > 10
    assert [f"{c.column}_hash" for c in personal] == [h for h in header if h.endswith("_hash")]
    assert not [v for v in clear if v in text]


def test_explain_an_unknown_figure_or_year(demo_warehouse):
    explained = cli("explain", "orders_zhengtung", "--year", "2023", "--warehouse", demo_warehouse)
    assert explained.code == 2 and "no figure 'orders_zhengtung'" in explained.err and "orders_zhengtong" in explained.err
    explained = cli("explain", "orders_zhengtong", "--year", "2019", "--warehouse", demo_warehouse)
    assert explained.code == 2 and "no published value of orders_zhengtong for 2019" in explained.err


def test_explain_says_why_a_figure_is_provisional(demo_warehouse, tmp_path):
    wh = withdraw_december_of_litigation(demo_warehouse, tmp_path)
    refresh_statistics(wh)
    f = next(f for f in figures() if f.source_id == "litigation")
    explained = cli("explain", f.figure_id, "--year", "2023", "--warehouse", wh)
    assert explained.code == 0 and "PROVISIONAL: 11 of 12 months loaded; missing 2023-12" in explained.out


def withdraw_december_of_litigation(demo_warehouse, tmp_path):
    """A copy of the demo warehouse whose next refresh publishes something else: litigation without 2023-12."""
    wh = tmp_path / "wh"
    shutil.copytree(demo_warehouse, wh, symlinks=True)
    with duckdb.connect(str(wh / WORK_DB)) as con:
        con.execute("DELETE FROM stg_litigation WHERE month = DATE '2023-12-01'")
        con.execute("DELETE FROM loaded_months WHERE source_id = 'litigation' AND month = DATE '2023-12-01'")
        con.execute("DELETE FROM intake_log WHERE source_id = 'litigation' AND month = DATE '2023-12-01'")
    return wh


REFRESH = "import sys; from pathlib import Path; from reportpipe.pipeline import refresh_statistics; refresh_statistics(Path(sys.argv[1]))"


def test_a_reader_holding_the_published_file_keeps_its_view_and_does_not_block_a_refresh(demo_warehouse, tmp_path):
    wh = withdraw_december_of_litigation(demo_warehouse, tmp_path)

    def seen(con):
        return con.execute("SELECT (SELECT count(*) FROM loaded_months), (SELECT sum(months_loaded) FROM report_figures),"
                           " (SELECT list(value ORDER BY figure_id) FROM report_figures)").fetchone()

    reader = open_report(wh)
    before = seen(reader)
    refresh = subprocess.Popen([sys.executable, "-c", REFRESH, str(wh)])
    deadline, queries = time.monotonic() + 300, 0
    while refresh.poll() is None:  # the reader keeps querying all through the refresh
        assert seen(reader) == before
        queries += 1
        assert time.monotonic() < deadline, "the refresh did not finish"
    assert refresh.returncode == 0 and queries > 0
    assert seen(reader) == before  # after the swap too: the reader holds the old file
    # A DuckDB process shares one database per path: a new connection sees the new file once the old ones are closed.
    reader.close()
    with open_report(wh) as con:
        after = seen(con)
    assert after[0] == before[0] - 1 and after != before
