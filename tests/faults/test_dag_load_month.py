"""The DAG path: a crash once hid behind a `validate` that handled the same file.

The ingest DAG's load_month task on a month whose good version is loaded, then
re-delivered four times, each broken: the task fails with the rejection (Airflow's
fail-without-retry exception, naming every file), and the month stays as it was.
"""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import pytest

from tests.faults.conftest import PASSWD, demo_file
from tests.helpers import query

DAGS = Path(__file__).resolve().parents[2] / "dags"


def month_in_work(warehouse: Path) -> tuple[list, list]:
    work = warehouse / "work.duckdb"
    january = "left(CAST(month AS VARCHAR), 7) = '2023-01'"
    return (query(work, f"SELECT * EXCLUDE (loaded_at) FROM loaded_months WHERE source_id = 'work_orders' AND {january}"),
            query(work, f"SELECT * FROM stg_work_orders WHERE {january} ORDER BY ALL"))


def test_load_month_fails_with_the_rejection_and_keeps_the_good_version(demo_inbox, zip_bomb, tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.exceptions import AirflowFailException

    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    folder = inbox / "work_orders"
    folder.mkdir(parents=True)
    good = demo_file(demo_inbox, "work_orders", 1)
    shutil.copyfile(good, folder / good.name)
    monkeypatch.setenv("REPORTPIPE_INBOX", str(inbox))
    monkeypatch.setenv("REPORTPIPE_WAREHOUSE", str(warehouse))
    from reportpipe.orchestration.sensors import ExportSensor

    dag = DagBag(dag_folder=str(DAGS / "ingest.py")).dags["ingest_work_orders"]
    load = dag.task_dict["load_month"].python_callable
    # The office's instance of the wait, as the task group mapped over the offices makes it.
    wait = ExportSensor(task_id="wait_for_export", source_id="work_orders", office_id="jiaodaokou")
    params = {"month": "2023-01"}

    def load_month(**context):  # as the DAG runs it: the wait's list of files goes to load_month
        return load("jiaodaokou", wait.execute({"params": params}), **context)

    load_month(data_interval_start=None, params=params)
    before = month_in_work(warehouse)
    assert before[0] and before[1]

    shutil.copyfile(zip_bomb, folder / "执法工单_202301_v2.xlsx")
    (folder / "执法工单_202301_v3.csv").write_bytes(b"")
    text = good.read_bytes().decode("utf-8")
    (folder / "执法工单_202301_v4.csv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    (folder / "执法工单_202301_v5.csv").symlink_to("/etc/passwd")
    with pytest.raises(AirflowFailException) as failed:
        load_month(data_interval_start=None, params=params)
    message = str(failed.value)
    for version in (2, 3, 4, 5):
        assert f"_v{version}." in message, f"v{version} is not named:\n{message}"
    assert PASSWD not in message
    assert month_in_work(warehouse) == before
