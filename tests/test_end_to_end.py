"""The demo year, end to end: every one of the report's 63 figures comes out of the rows."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

from reportpipe.contracts import sources
from reportpipe.pipeline import run
from tests.helpers import TEST_PII_KEY, published_rows, read_report
from tests.project import REFERENCE_FIGURES


def reference_figures() -> dict[str, float]:
    with REFERENCE_FIGURES.open(encoding="utf-8") as f:
        return {row["figure_id"]: float(row["value"]) for row in csv.DictReader(f)}


def published_figures(warehouse: Path, year: int = 2023) -> dict[str, float]:
    return dict(read_report(warehouse, "SELECT figure_id, value FROM report_figures WHERE year = ?", [year]))


def test_make_demo_runs_the_dags_month_by_month_as_the_cli_computes_them(demo_inbox, demo_warehouse, tmp_path):
    """`make demo`'s path (dag.test in one process) over two months, on a fresh SQLite metadata DB.

    The whole year through the real scheduler is tests/deployment/test_production.py.
    """
    home, warehouse = tmp_path / "airflow_home", tmp_path / "warehouse"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "REPORTPIPE_INBOX": str(demo_inbox),
        "REPORTPIPE_WAREHOUSE": str(warehouse),
        "REPORTPIPE_PII_KEY": TEST_PII_KEY,
    }
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-m", "reportpipe.orchestration.demo_run", "2023", "--last-month", "2"],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    # Progress is shown month by month.
    assert [line[:7] for line in done.stdout.splitlines() if line.startswith("2023-")] == ["2023-01", "2023-02"]
    monthly = "SELECT month, figure_id, value FROM report_figures_monthly WHERE month <= DATE '2023-02-01' ORDER BY ALL"
    by_airflow = read_report(warehouse, monthly)
    assert read_report(warehouse, "SELECT bool_and(is_provisional), max(months_loaded) FROM report_figures") == [(True, 2)]
    assert by_airflow == read_report(demo_warehouse, monthly)
    assert len(by_airflow) == 2 * len(reference_figures())


def test_cli_gives_the_same_figures_and_a_rerun_changes_nothing(demo_inbox, demo_warehouse, tmp_path):
    assert published_figures(demo_warehouse) == reference_figures()
    warehouse = tmp_path / "warehouse"
    shutil.copytree(demo_warehouse, warehouse, symlinks=True)
    first = published_rows(warehouse)
    report = run(demo_inbox, warehouse)
    assert not report.rejected and not report.strays
    assert published_rows(warehouse) == first


def test_demo_redelivery_is_what_makes_the_figures_right(demo_inbox, tmp_path):
    """Without the demo's _v2 the litigation figures differ: the test data really exercises replacement."""
    inbox = tmp_path / "inbox" / "litigation"
    inbox.mkdir(parents=True)
    for path in (demo_inbox / "litigation").iterdir():
        if "_v2" not in path.name:
            (inbox / path.name).write_bytes(path.read_bytes())
    run(inbox.parent, tmp_path / "wh")
    litigation = {f.figure_id for f in sources()["litigation"].figures}
    expected, got = reference_figures(), published_figures(tmp_path / "wh")
    assert {k for k in litigation if expected[k] != got[k]} == {"lawsuits_withdrawn", "lawsuits_pending"}
