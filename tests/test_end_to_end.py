"""The demo year, end to end: every one of the report's 63 figures comes out of the rows."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from reportpipe.contracts import sources
from reportpipe.pipeline import run
from tests.conftest import TEST_PII_KEY
from tests.test_pipeline import snapshot

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "figures_2023.csv"


def reference_figures() -> dict[str, float]:
    with REFERENCE.open(encoding="utf-8") as f:
        return {row["figure_id"]: float(row["value"]) for row in csv.DictReader(f)}


def published_figures(warehouse: Path, year: int = 2023) -> dict[str, float]:
    with duckdb.connect(str(warehouse / "report.duckdb"), read_only=True) as con:
        return dict(con.execute("SELECT figure_id, value FROM report_figures WHERE year = ?", [year]).fetchall())


@pytest.fixture(scope="module")
def airflow_year(demo_inbox, tmp_path_factory):
    """The demo year run by the real DAGs through Airflow (dag.test), on a fresh SQLite metadata DB."""
    home, warehouse = tmp_path_factory.mktemp("airflow_home"), tmp_path_factory.mktemp("warehouse")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "REPORTPIPE_INBOX": str(demo_inbox),
        "REPORTPIPE_WAREHOUSE": str(warehouse),
        "REPORTPIPE_PII_KEY": TEST_PII_KEY,
    }
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-m", "reportpipe.airflow_run", "2023"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return warehouse, done.stdout


def test_airflow_runs_reproduce_every_2023_figure(airflow_year):
    warehouse, output = airflow_year
    assert published_figures(warehouse) == reference_figures()
    # Progress is shown month by month.
    assert [line[:7] for line in output.splitlines() if line.startswith("2023-")] == [f"2023-{m:02d}" for m in range(1, 13)]


def test_cli_gives_the_same_figures_and_a_rerun_changes_nothing(demo_inbox, tmp_path):
    report = run(demo_inbox, tmp_path, progress=lambda line: None)
    assert not report.rejected and not report.strays
    assert published_figures(tmp_path) == reference_figures()
    first = snapshot(tmp_path)
    run(demo_inbox, tmp_path, progress=lambda line: None)
    assert snapshot(tmp_path) == first


def test_demo_redelivery_is_what_makes_the_figures_right(demo_inbox, tmp_path):
    """Without the demo's _v2 the litigation figures differ: the test data really exercises replacement."""
    inbox = tmp_path / "inbox" / "litigation"
    inbox.mkdir(parents=True)
    for path in (demo_inbox / "litigation").iterdir():
        if "_v2" not in path.name:
            (inbox / path.name).write_bytes(path.read_bytes())
    run(inbox.parent, tmp_path / "wh", progress=lambda line: None)
    litigation = {f.figure_id for f in sources()["litigation"].figures}
    expected, got = reference_figures(), published_figures(tmp_path / "wh")
    assert {k for k in litigation if expected[k] != got[k]} == {"lawsuits_withdrawn", "lawsuits_pending"}
