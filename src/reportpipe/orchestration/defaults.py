"""What the DAG files share: assets, pool and queue, default arguments, the month of a run.

Imported at DAG parse time: only the standard library, pendulum and reportpipe's light
modules here (Airflow's own objects are imported where they are made).
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pendulum

from reportpipe.months import parse_month
from reportpipe.orchestration.alerts import on_failure
from reportpipe.orchestration.pool import WAREHOUSE_POOL
from reportpipe.settings import TIMEZONE

OWNER = "data-engineering"
START_DATE = pendulum.datetime(2023, 1, 1, tz=TIMEZONE)
# The run for month M starts when M has ended (data interval = the calendar month in Beijing).
MONTHLY_CRON = "0 0 1 * *"
# Tasks that write the warehouse run one at a time (an Airflow pool of one slot), on the
# Celery queue served by the worker that holds the warehouse's files.
WAREHOUSE_QUEUE = "warehouse"
WAREHOUSE_TASK = {"pool": WAREHOUSE_POOL, "queue": WAREHOUSE_QUEUE}
DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(minutes=10),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(hours=2),
    "on_failure_callback": on_failure,
}
# How a task mapped over the offices (its argument `office`) is named in the UI: by the office.
OFFICE_NAME = "{{ task.op_kwargs['office'] }}"
# A task that meets a CLI refresh holding the warehouse waits this long, then fails and retries.
WAREHOUSE_WAIT_S = 120


def inbox_root():
    """The inbox as an ObjectStoragePath: a local folder, SFTP, S3, ... (REPORTPIPE_INBOX[_CONN_ID])."""
    from airflow.sdk import ObjectStoragePath

    from reportpipe.settings import inbox_conn_id, inbox_url

    return ObjectStoragePath(inbox_url(), conn_id=inbox_conn_id())


def source_asset(source_id: str):
    """The Asset an ingest updates when it has (re)loaded the month of `stg_<source_id>`."""
    from airflow.sdk import Asset

    return Asset(name=f"stg_{source_id}", uri=f"reportpipe://warehouse/stg_{source_id}")


def run_month(data_interval_start: pendulum.DateTime | None, override: str | None = None) -> dt.date:
    """The month of a run: its data interval in Beijing time, unless an operator named one (YYYY-MM)."""
    if override:
        return parse_month(override)
    if data_interval_start is None:  # a manual run without a logical date
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("this run has no data interval: trigger it with the param month (YYYY-MM)")
    start = pendulum.instance(data_interval_start).in_timezone(TIMEZONE)
    return dt.date(start.year, start.month, 1)
