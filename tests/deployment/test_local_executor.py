"""The 2023 demo year on a production-like Airflow, backfilled by the one command an operator types
(`python -m reportpipe.orchestration.backfill`) through the real scheduler: LocalExecutor, PostgreSQL.
With CI=true the whole year (144 source-months, the 63 figures of the 2023 report); elsewhere two
months, the second on top of the first, in a sixth of the time (the whole year through Airflow is also
`make demo`'s, tests/test_end_to_end.py).

With CI=true a missing PostgreSQL is a failure; elsewhere the test skips and says why.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest

from reportpipe.contracts import figures, sources
from tests.deployment.airflow_services import COMPONENTS, PG, WAIT_HOURS, Deployment, reportpipe_env, require
from tests.helpers import read_report
from tests.project import REFERENCE_FIGURES

MONTHS = 12 if os.environ.get("CI") == "true" else 2

# Task processes fork from executor workers that have imported GX once (it takes seconds).
PRELOAD = {
    "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
    "AIRFLOW__CORE__MP_FORKSERVER_PRELOAD": "great_expectations,reportpipe.validation.engine,reportpipe.validation.expectations,reportpipe.pipeline",
}


def month(moment) -> str:
    return pendulum.instance(moment).in_timezone("Asia/Shanghai").format("YYYY-MM")


@pytest.fixture(scope="module")
def local_year(demo_inbox, tmp_path_factory):
    """The 2023 demo year backfilled through scheduler, dag-processor, api-server and triggerer (LocalExecutor)."""
    require(PG["host"], PG["port"], "PostgreSQL")
    root = tmp_path_factory.mktemp("local_executor")
    warehouse = root / "warehouse"
    deployment = Deployment(root, "LocalExecutor", {**reportpipe_env(demo_inbox, warehouse), **PRELOAD}, COMPONENTS)
    try:
        deployment.start_and_wait()
        # The README's one command: every source, one at a time, the paused DAGs unpaused.
        done = subprocess.run([sys.executable, "-m", "reportpipe.orchestration.backfill", "2023-01", f"2023-{MONTHS:02d}"],
                              env=deployment.env, capture_output=True, text=True, timeout=3600)
        (root / "backfill.log").write_text(done.stdout + done.stderr, encoding="utf-8")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

        def settled() -> bool:
            unfinished = deployment.query(
                "SELECT count(*) FROM dag_run WHERE state NOT IN ('success', 'failed')")[0][0]
            backfilled = deployment.query("SELECT count(*) FROM dag_run WHERE run_type = 'backfill'")[0][0]
            pending_assets = deployment.query("SELECT count(*) FROM asset_dag_run_queue")[0][0]
            return backfilled == MONTHS * len(sources()) and not unfinished and not pending_assets

        deployment.wait("the backfilled year", settled, timeout=900, every=5)
        yield deployment, warehouse
    finally:
        deployment.stop()


def test_every_backfilled_month_of_every_source_succeeded(local_year):
    deployment, _ = local_year
    runs = deployment.query(
        "SELECT dag_id, data_interval_start, state FROM dag_run WHERE run_type = 'backfill' ORDER BY 1, 2")
    assert {(dag_id, state) for dag_id, _, state in runs} == {(f"ingest_{s}", "success") for s in sources()}
    for source_id in sources():
        months = [month(start) for dag_id, start, _ in runs if dag_id == f"ingest_{source_id}"]
        assert months == [f"2023-{m:02d}" for m in range(1, MONTHS + 1)], source_id
    # Each office's part of a month is its own mapped instance, named by the office in the UI.
    assert set(deployment.query("SELECT task_id, map_index, rendered_map_index FROM task_instance"
                                " WHERE run_id IN (SELECT run_id FROM dag_run WHERE run_type = 'backfill')"
                                " AND task_id IN ('wait_for_export', 'load_month')")) == {
        ("wait_for_export", 0, "jiaodaokou"), ("load_month", 0, "jiaodaokou")}


def test_statistics_ran_on_the_assets_and_published_what_the_cli_computes(local_year, demo_warehouse):
    deployment, warehouse = local_year
    runs = deployment.query("SELECT run_type, state FROM dag_run WHERE dag_id = 'statistics'")
    assert runs and set(runs) == {("asset_triggered", "success")}
    # A run waits until the burst of loads has settled: the loads' Asset events queue up behind it
    # and one more run publishes them all, not a run per load.
    assert len(runs) <= 3, f"{len(runs)} statistics runs for {MONTHS * len(sources())} loads"
    monthly = f"SELECT month, figure_id, value FROM report_figures_monthly WHERE month(month) <= {MONTHS} ORDER BY ALL"
    by_airflow = read_report(warehouse, monthly)
    assert by_airflow == read_report(demo_warehouse, monthly)
    assert len(by_airflow) == MONTHS * len(figures())
    assert (warehouse / "reports" / "jiaodaokou" / "2023" / "report_2023_figures.xlsx").is_file()
    if MONTHS == 12:  # the whole year: the figures of the 2023 report, each
        with REFERENCE_FIGURES.open(encoding="utf-8") as f:
            reference = {r["figure_id"]: float(r["value"]) for r in csv.DictReader(f)}
        published = dict(read_report(warehouse, "SELECT figure_id, value FROM report_figures WHERE year = 2023"))
        assert published == reference


def test_a_missing_export_waits_on_the_triggerer_then_fails_with_an_alert(local_year):
    """Unpausing also schedules the latest month, whose export is not in the inbox."""
    deployment, _ = local_year
    runs = deployment.query(
        "SELECT dag_id, run_id, data_interval_start, state FROM dag_run WHERE run_type = 'scheduled'")
    assert {dag_id for dag_id, *_ in runs} == {f"ingest_{s}" for s in sources()}
    logs = Path(deployment.env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"])
    for dag_id, run_id, start, state in runs:
        source = sources()[dag_id.removeprefix("ingest_")]
        assert state == "failed", dag_id
        task = logs / f"dag_id={dag_id}" / f"run_id={run_id}" / "task_id=wait_for_export" / "map_index=0"
        assert list(task.glob("attempt=1.log.trigger.*.log")), f"{dag_id}: never deferred to the triggerer"
        log = (task / "attempt=1.log").read_text(encoding="utf-8")
        assert f"inbox has no {source.title} file for {month(start)} after {WAIT_HOURS:g} hours" in log
        assert f"ALERT [reportpipe] {dag_id} failed for {month(start)}" in log
    # No other task failed: the wait is the only thing that did.
    assert deployment.query(
        "SELECT DISTINCT task_id FROM task_instance WHERE state = 'failed'") == [("wait_for_export",)]
