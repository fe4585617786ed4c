"""Publication by month (issue 13): a refresh writes only the months of the row-level tables whose
content changed, and what it publishes equals work.duckdb's published tables, as a publication
built from nothing would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from reportpipe.contracts import sources
from reportpipe.offices import deployment
from reportpipe.pipeline import rebuild, refresh_statistics, run
from reportpipe.warehouse.publication import MONTHS_TABLE, PARQUET, REPORT_DB, ROW_LAYERS, open_published
from reportpipe.warehouse.session import WORK_DB
from tests.helpers import DUCKDB_SHELL, open_read_only, parquet_copy, read_report, write_work_orders
from tests.project import ROOT


def documented_tables() -> list[str]:
    """What analysts are promised: the tables of warehouse/dictionary.yaml and each source's stg_ and fct_."""
    declared = yaml.safe_load((ROOT / "warehouse" / "dictionary.yaml").read_text(encoding="utf-8"))["tables"]
    return sorted({*declared, *(f"{layer}_{s}" for s in sources() for layer in ("stg", "fct"))})


def assert_published_as_work(wh: Path) -> None:
    """report.duckdb and the Parquet set hold exactly the documented tables, each as work.duckdb has it."""
    parquet = wh / PARQUET
    with open_read_only(wh / WORK_DB) as con:
        con.execute(f"ATTACH '{wh / REPORT_DB}' AS report (READ_ONLY)")
        published = sorted(t for t, in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'report' UNION ALL"
            " SELECT view_name FROM duckdb_views() WHERE database_name = 'report' AND NOT internal").fetchall())
        assert published == documented_tables()
        assert sorted(p.stem for p in parquet.iterdir()) == published
        for t in (t for t in published if t != MONTHS_TABLE):
            for copy in (f"report.{t}", parquet_copy(parquet, t)):
                columns = [c[:2] for c in con.execute(f"DESCRIBE main.{t}").fetchall()]  # names and types
                # A table of work.duckdb without office_id gets it, last, with the one office's id.
                added = [] if ("office_id", "VARCHAR") in columns else [("office_id", "VARCHAR")]
                assert columns + added == [c[:2] for c in con.execute(f"DESCRIBE FROM {copy}").fetchall()], copy
                if added:
                    offices = con.execute(f"SELECT DISTINCT office_id FROM {copy}").fetchall()
                    assert offices in ([], [(deployment().office().id,)]), copy
                    copy = f"(SELECT * EXCLUDE (office_id) FROM {copy})"
                differing = con.execute(f"SELECT count(*) FROM ((FROM main.{t} EXCEPT ALL FROM {copy})"
                                        f" UNION ALL (FROM {copy} EXCEPT ALL FROM main.{t}))").fetchone()[0]
                assert differing == 0, f"{copy} differs from {t} in {differing} rows"
                assert con.execute(f"SELECT count(*) FROM main.{t}").fetchone() == \
                    con.execute(f"SELECT count(*) FROM {copy}").fetchone(), copy


def month_files(wh: Path) -> dict[str, int]:
    """Each month file of the current Parquet set, by table/month: its inode (the same for a linked file)."""
    return {f"{p.parent.name}/{p.stem}": p.stat().st_ino for p in (wh / PARQUET).resolve().glob("*/*.parquet")}


@pytest.fixture
def wh(demo_warehouse, tmp_path) -> Path:
    copy = tmp_path / "warehouse"
    shutil.copytree(demo_warehouse, copy, symlinks=True)
    return copy


def test_a_refresh_writes_only_the_months_that_changed(wh, tmp_path):
    before = month_files(wh)
    assert len(before) > 100  # the demo year: 12 sources × 12 months × stg_ and fct_
    inbox = tmp_path / "inbox"
    write_work_orders(inbox, 1, (40, 30, 0))
    assert not run(inbox, wh).rejected
    assert_published_as_work(wh)
    added = month_files(wh)
    assert sorted(set(added) - set(before)) == ["fct_work_orders/2024-01", "stg_work_orders/2024-01"]
    assert {k: added[k] for k in before} == before, "an unchanged month was written again"

    # A second delivery of the month replaces its rows; the other months stay as they were.
    (inbox / "work_orders" / "执法工单_202401.csv").unlink()
    write_work_orders(inbox, 1, (41, 30, 0), version="_v2")
    assert not run(inbox, wh).rejected
    assert_published_as_work(wh)
    again = month_files(wh)
    assert [k for k in again if again[k] != added[k]] == ["fct_work_orders/2024-01", "stg_work_orders/2024-01"]
    with open_published(wh) as con:
        assert con.execute("SELECT count(*) FROM stg_work_orders WHERE month = DATE '2024-01-01'").fetchone() == (71,)
        assert con.execute("SELECT rows FROM published_months WHERE table_name = 'fct_work_orders'"
                           " AND month = DATE '2024-01-01'").fetchone() == (71,)

    # A delivery without records empties the month: its files go, and so do its rows.
    write_work_orders(inbox, 1, (0, 0, 0), version="_v3")
    assert not run(inbox, wh).rejected
    assert_published_as_work(wh)
    assert sorted(month_files(wh)) == sorted(before)

    if DUCKDB_SHELL.exists():  # a report.duckdb changed in place still opens in the long-term-support release
        shell = subprocess.run([DUCKDB_SHELL, "-readonly", "-csv", "-noheader", wh / REPORT_DB,
                                "SELECT count(*) FROM fct_work_orders WHERE month = DATE '2023-12-01'"],
                               capture_output=True, text=True, timeout=60)
        with open_published(wh) as con:
            expected = con.execute("SELECT count(*) FROM fct_work_orders WHERE month = DATE '2023-12-01'").fetchone()[0]
        assert (shell.returncode, shell.stdout.strip()) == (0, str(expected)), shell.stderr


def test_a_fct_view_without_a_model_of_its_own_shares_the_files_of_its_stg_table(demo_warehouse):
    files = month_files(demo_warehouse)  # not a copy: copying makes linked files separate
    as_is = [s for s, source in sources().items() if source.fct_sql is None]
    modelled = [s for s, source in sources().items() if source.fct_sql is not None]
    assert as_is and modelled
    for s in as_is:
        months = sorted(k.split("/")[1] for k in files if k.startswith(f"stg_{s}/"))
        assert months and all(files[f"fct_{s}/{m}"] == files[f"stg_{s}/{m}"] for m in months), s
    for s in modelled:
        assert all(files[k] != files[k.replace("stg_", "fct_", 1)] for k in files if k.startswith(f"stg_{s}/")), s


def test_a_new_personal_data_key_republishes_every_hashed_month(wh, monkeypatch):
    before = month_files(wh)
    monkeypatch.setenv("REPORTPIPE_PII_KEY", "another-key-" + "0" * 40)
    rebuild(wh)
    assert_published_as_work(wh)
    after = month_files(wh)
    hashed = {t for t, in read_report(wh, "SELECT DISTINCT table_name FROM duckdb_columns()"
                                          " WHERE column_name LIKE '%\\_hash' ESCAPE '\\'")}
    assert "stg_petitions" in hashed
    rewritten = {k.split("/")[0] for k in before if after[k] != before[k]}
    assert rewritten == {t for t in hashed if t.startswith(ROW_LAYERS)}


@pytest.mark.parametrize("damage", ["garbage", "empty", "no record of its months"])
def test_an_unreadable_report_is_published_again_from_nothing(wh, damage):
    report = wh / REPORT_DB
    if damage == "no record of its months":
        with duckdb.connect(str(report)) as con:
            con.execute(f"DROP TABLE {MONTHS_TABLE}")
    else:
        report.write_bytes(b"not a database\n" * 1000 if damage == "garbage" else b"")
    refresh_statistics(wh)
    assert_published_as_work(wh)
