"""The pieces of an ingest run around the pipeline: waiting for the export, fetching it, alerting."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pendulum
import pytest
from airflow.sdk.exceptions import AirflowFailException

from reportpipe.orchestration.sensors import ExportSensor
from reportpipe.orchestration.triggers import ExportTrigger
from tests.smtp import html_part, mailbox

MARCH = pendulum.datetime(2023, 3, 1, tz="Asia/Shanghai")


@pytest.fixture
def inbox(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTPIPE_INBOX", str(tmp_path / "inbox"))
    (tmp_path / "inbox" / "work_orders").mkdir(parents=True)
    return tmp_path / "inbox"


def context(month: str | None = None, exception: Exception | None = None) -> dict:
    ti = SimpleNamespace(dag_id="ingest_work_orders", task_id="wait_for_export", try_number=1)
    return {"data_interval_start": MARCH, "params": {"month": month}, "ti": ti, "run_id": "scheduled__x",
            "exception": exception}


def run_trigger(trigger: ExportTrigger) -> list:
    async def collect():
        return [event async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(collect(), timeout=30))


def test_a_delivered_export_is_found_without_deferring(inbox):
    (inbox / "work_orders" / "执法工单_202303.csv").write_text("x")
    (inbox / "work_orders" / "执法工单_202304.csv").write_text("x")  # another month: not this run's
    assert ExportSensor(task_id="w", source_id="work_orders", office_id="jiaodaokou").execute(context()) == ["执法工单_202303.csv"]


def test_a_missing_export_defers_to_the_triggerer_until_the_deadline(inbox):
    from airflow.sdk.exceptions import TaskDeferred

    sensor = ExportSensor(task_id="w", source_id="work_orders", office_id="jiaodaokou", timeout=timedelta(hours=72))
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context(month="2023-05"))  # the operator's month param wins over the interval
    classpath, kwargs = deferred.value.trigger.serialize()
    assert classpath == "reportpipe.orchestration.triggers.ExportTrigger"
    assert (kwargs["source_id"], kwargs["month"]) == ("work_orders", "2023-05")
    deadline = datetime.fromisoformat(kwargs["deadline"]) - datetime.now(timezone.utc)
    assert timedelta(hours=71.9) < deadline <= timedelta(hours=72)
    assert deferred.value.method_name == "execute_complete"


def test_the_trigger_fires_when_the_file_arrives_and_when_time_runs_out(inbox):
    def trigger(seconds_left: float) -> ExportTrigger:
        deadline = (datetime.now(timezone.utc) + timedelta(seconds=seconds_left)).isoformat()
        return ExportTrigger(inbox_url=f"file://{inbox}", conn_id=None, source_id="work_orders", office_id="jiaodaokou", month="2023-03",
                             deadline=deadline, poke_interval=0.2)

    assert [e.payload for e in run_trigger(trigger(0))] == [{"found": [], "misnamed": []}]
    late = threading.Timer(0.5, lambda: (inbox / "work_orders" / "执法工单_202303_v2.xlsx").write_text("x"))
    late.start()
    assert [e.payload for e in run_trigger(trigger(20))] == [{"found": ["执法工单_202303_v2.xlsx"], "misnamed": []}]


def test_running_out_of_time_fails_with_what_is_missing(inbox):
    sensor = ExportSensor(task_id="w", source_id="work_orders", office_id="jiaodaokou", timeout=timedelta(hours=72))
    with pytest.raises(AirflowFailException) as failed:
        sensor.execute_complete(context(), event={"found": [], "misnamed": []})
    assert str(failed.value).startswith("inbox has no 执法工单 file for 2023-03 after 72 hours")
    assert failed.value.files == ["work_orders/执法工单_202303[_vN].csv|xlsx"]
    assert sensor.execute_complete(context(), event={"found": ["执法工单_202303.csv"]}) == ["执法工单_202303.csv"]


def test_a_remote_inbox_is_streamed_to_the_landing_folder(tmp_path):
    from upath import UPath

    from reportpipe.contracts import sources
    from reportpipe.intake.inbox import fetch

    remote = UPath(f"memory://inbox-{tmp_path.name}")
    (remote / "work_orders").mkdir(parents=True, exist_ok=True)
    (remote / "work_orders" / "执法工单_202303.csv").write_bytes(b"march")
    (remote / "work_orders" / "执法工单_202304.csv").write_bytes(b"april")
    # Only the files the wait found are fetched.
    local = fetch(remote, sources()["work_orders"], ["执法工单_202303.csv"], landing=tmp_path / "landing")
    assert [p.name for p in (local / "work_orders").iterdir()] == ["执法工单_202303.csv"]
    assert (local / "work_orders" / "执法工单_202303.csv").read_bytes() == b"march"
    # A local inbox is read where it is.
    assert fetch(tmp_path / "inbox", sources()["work_orders"], ["x"], landing=tmp_path / "x") == tmp_path / "inbox"


def test_a_failure_alert_names_dag_month_file_and_reason(caplog, monkeypatch):
    from reportpipe.orchestration.alerts import on_failure

    monkeypatch.delenv("REPORTPIPE_ALERT_EMAIL", raising=False)
    error = AirflowFailException("inbox has no 执法工单 file for 2023-03 after 72 hours")
    error.files = ["work_orders/执法工单_202303.csv"]
    with caplog.at_level(logging.ERROR, logger="reportpipe.orchestration.alerts"):
        on_failure(context(exception=error))
    [record] = caplog.records
    text = record.getMessage()
    assert "ALERT [reportpipe] ingest_work_orders failed for 2023-03" in text
    assert "file:   work_orders/执法工单_202303.csv" in text
    assert "reason: AirflowFailException: inbox has no 执法工单 file for 2023-03 after 72 hours" in text


def rejection() -> AirflowFailException:
    """How load_month fails on a rejected file: Airflow's no-retry failure, caused by the RejectedExport."""
    from reportpipe.problems import RejectedExport

    try:
        try:
            raise RejectedExport("执法工单_202303.csv row 2: …", files=["执法工单_202303.csv"])
        except RejectedExport as e:
            raise AirflowFailException(str(e)) from e
    except AirflowFailException as failed:
        return failed


def test_a_rejection_alert_names_the_rejected_file(caplog, monkeypatch):
    from reportpipe.orchestration.alerts import on_failure

    monkeypatch.delenv("REPORTPIPE_ALERT_EMAIL", raising=False)
    with caplog.at_level(logging.ERROR, logger="reportpipe.orchestration.alerts"):
        on_failure(context(exception=rejection()))
    assert "file:   执法工单_202303.csv" in caplog.records[0].getMessage()


def test_a_misnamed_file_for_the_month_fails_the_wait_at_once(inbox):
    (inbox / "work_orders" / "执法工单_2023-03.csv").write_text("x")
    (inbox / "work_orders" / "执法工单_202304.csv").write_text("x")  # another month's, correctly named
    sensor = ExportSensor(task_id="w", source_id="work_orders", office_id="jiaodaokou", timeout=timedelta(hours=72))
    with pytest.raises(AirflowFailException, match="misnamed: 执法工单_2023-03.csv") as failed:
        sensor.execute(context())
    assert failed.value.files == ["执法工单_2023-03.csv"]


def test_the_alert_is_mailed_through_the_smtp_connection(monkeypatch):
    from reportpipe.orchestration.alerts import on_failure

    with mailbox(monkeypatch) as received:
        on_failure(context(exception=rejection()))
        message = received()
    assert message["Subject"] == "[reportpipe] ingest_work_orders failed for 2023-03"
    assert "oncall@example.org" in message["To"]
    assert "执法工单_202303.csv" in html_part(message)


def test_a_manual_run_without_a_data_interval_takes_the_month_param(inbox):
    (inbox / "work_orders" / "执法工单_202303.csv").write_text("x")
    sensor = ExportSensor(task_id="w", source_id="work_orders", office_id="jiaodaokou")
    manual = {"params": {"month": "2023-03"}}
    assert sensor.execute(manual) == ["执法工单_202303.csv"]
    with pytest.raises(AirflowFailException, match="trigger it with the param month"):
        sensor.execute({"params": {"month": None}})


def test_a_run_of_one_offices_part_skips_the_others(inbox):
    """The param `office`: the other offices' waits (and so their loads) are skipped, not run."""
    from airflow.sdk.exceptions import AirflowSkipException

    (inbox / "work_orders" / "执法工单_202303.csv").write_bytes(b"")
    asked = context("2023-03")
    asked["params"]["office"] = "andingmen"
    with pytest.raises(AirflowSkipException, match="andingmen's part of the month alone"):
        ExportSensor(task_id="w", source_id="work_orders", office_id="jiaodaokou").execute(asked)
    asked["params"]["office"] = "jiaodaokou"
    assert ExportSensor(task_id="w", source_id="work_orders", office_id="jiaodaokou").execute(asked) == [
        "执法工单_202303.csv"]
