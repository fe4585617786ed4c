"""Two refreshes at once (a cron job and an operator, say): one waits, both finish, nothing doubles."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.faults.commands import start
from tests.faults.conftest import figures
from tests.helpers import TEST_PII_KEY, query


def test_two_refreshes_at_once_queue_and_double_nothing(small, tmp_path):
    warehouse = tmp_path / "warehouse"
    refreshes = [start("run", "--inbox", small.inbox, "--warehouse", warehouse,
                       env={"REPORTPIPE_PII_KEY": TEST_PII_KEY}, folder=tmp_path / "output") for _ in range(2)]
    for refresh in [r.wait() for r in refreshes]:
        assert refresh.code == 0, refresh.err[-5000:]
        assert "Traceback" not in refresh.output

    report, single = warehouse / "report.duckdb", small.warehouse / "report.duckdb"
    assert figures(report) == figures(single)
    count = "SELECT count(*) FROM {}"
    for table, in query(single, "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, 'stg_')"):
        assert query(report, count.format(table)) == query(single, count.format(table)), table
    loaded_twice = query(report, "SELECT source_id, month, count(*) FROM intake_log WHERE status = 'loaded'"
                                 " GROUP BY ALL HAVING count(*) > 1")
    assert not loaded_twice


def test_a_cli_refresh_waits_for_a_task_holding_the_warehouse(small, tmp_path):
    """A DAG task (here: this process) holds the warehouse; `reportpipe run` says it waits, then finishes."""
    import threading

    from reportpipe.warehouse.session import writer

    wh = tmp_path / "warehouse"
    shutil.copytree(small.warehouse, wh, symlinks=True)
    held, release = threading.Event(), threading.Event()

    def task():
        with writer(wh):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=task)
    holder.start()
    held.wait(30)
    refresh = start("run", "--inbox", small.inbox, "--warehouse", wh, env={"REPORTPIPE_PII_KEY": TEST_PII_KEY},
                    folder=tmp_path / "output")
    time.sleep(3)
    assert refresh.process.is_alive()  # waiting, not failing
    release.set()
    holder.join()
    done = refresh.wait()
    assert done.code == 0, done.err[-3000:]
    assert f"waiting for the warehouse {wh}: in use by pid {os.getpid()}" in done.err


def test_a_task_meeting_a_cli_refresh_fails_cleanly_and_is_retried(small, tmp_path, monkeypatch):
    """The statistics DAG's publish task, while a CLI refresh holds the warehouse: a clear, retryable error."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.exceptions import AirflowFailException

    from reportpipe.orchestration import defaults as orchestration
    from reportpipe.warehouse.session import WarehouseError, writer

    wh = tmp_path / "warehouse"
    shutil.copytree(small.warehouse, wh, symlinks=True)
    monkeypatch.setenv("REPORTPIPE_WAREHOUSE", str(wh))
    monkeypatch.setattr(orchestration, "WAREHOUSE_WAIT_S", 1)
    dags = Path(__file__).resolve().parents[2] / "dags" / "statistics.py"
    publish = DagBag(dag_folder=str(dags)).dags["statistics"].task_dict["publish_figures"].python_callable
    with writer(wh):  # the CLI's refresh
        with pytest.raises(WarehouseError, match=rf"{wh} is in use by pid {os.getpid()}") as busy:
            publish("jiaodaokou")
    assert not isinstance(busy.value, AirflowFailException)  # Airflow retries it (retries=2, backoff)
    # The retry, once the CLI is done, goes through (nothing was decided since: nothing to publish again).
    assert publish("jiaodaokou") is False
