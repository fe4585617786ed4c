"""An office whose export is late waits alone: one ingest run through Airflow (`dag.test`), two offices.

交道口 has delivered January's inspections, 安定门 has not. In the run, 交道口's wait finds its file
and its load_month loads it and updates the Asset that schedules `statistics`; 安定门's wait runs
out of time with what is missing, and only its own load is skipped.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from tests.district import OFFICES, write_inspections
from tests.helpers import TEST_PII_KEY, query

SCRIPT = textwrap.dedent("""
    import sys
    import pendulum
    from airflow.dag_processing.dagbag import DagBag
    from reportpipe.orchestration.pool import ensure_pool

    ensure_pool()
    dag = DagBag(dag_folder=sys.argv[1]).dags["ingest_inspections"]
    run = dag.test(logical_date=pendulum.datetime(2024, 1, 1, tz="Asia/Shanghai"), run_conf={"month": "2024-01"})
    print("RUN", run.run_id, run.state)
""")


def airflow_db(home: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(home / "airflow.db") as con:
        return con.execute(sql).fetchall()


def test_a_late_office_fails_alone_and_the_others_load(tmp_path):
    offices = tmp_path / "offices.yaml"
    offices.write_text(yaml.safe_dump({"offices": OFFICES[:2]}, allow_unicode=True), encoding="utf-8")
    inbox, warehouse, home = tmp_path / "inbox", tmp_path / "warehouse", tmp_path / "airflow_home"
    write_inspections(inbox, "jiaodaokou", 1, [("垃圾分类", "交东社区", 2, 1, 10)])
    (inbox / "andingmen").mkdir()
    env = {**os.environ, "AIRFLOW_HOME": str(home), "REPORTPIPE_OFFICES": str(offices),
           "REPORTPIPE_INBOX": str(inbox), "REPORTPIPE_WAREHOUSE": str(warehouse), "REPORTPIPE_PII_KEY": TEST_PII_KEY,
           "REPORTPIPE_EXPORT_WAIT_HOURS": "0.002", "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO"}
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(Path(__file__).resolve().parents[2] / "dags")],
                          env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert "RUN " in done.stdout, output[-5000:]
    # The instances are the offices in the order declared (a skipped one has no name rendered).
    states = {(task, [o["id"] for o in OFFICES][index]): state for task, index, state in airflow_db(
        home, "SELECT task_id, map_index, state FROM task_instance")}
    assert states == {("wait_for_export", "jiaodaokou"): "success", ("load_month", "jiaodaokou"): "success",
                      ("wait_for_export", "andingmen"): "failed", ("load_month", "andingmen"): "upstream_failed"}
    assert airflow_db(home, "SELECT rendered_map_index FROM task_instance WHERE state = 'failed'") == [("andingmen",)]
    # What is missing, whose, and the alert (dag.test prints the tasks' logs).
    assert "andingmen's inbox has no 执法检查记录 file for 2024-01 after 0.002 hours" in output
    assert "ALERT [reportpipe] ingest_inspections failed for 2024-01" in output
    # The loaded office's month is in its warehouse, and its load announced it to the statistics DAG.
    loaded = query(warehouse / "offices" / "jiaodaokou" / "work.duckdb",
                   "SELECT source_id, strftime(month, '%Y-%m') FROM loaded_months")
    assert loaded == [("inspections", "2024-01")]
    assert not (warehouse / "offices" / "andingmen" / "work.duckdb").exists()
    assert airflow_db(home, "SELECT count(*) FROM asset_event") == [(1,)]
