"""What the DAG files share: assets, default arguments, the month of a run.

Imported at DAG parse time: only airflow.sdk and the standard library here.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk.exceptions import AirflowFailException

from reportpipe.alerts import on_failure
from reportpipe.settings import TIMEZONE

OWNER = "data-engineering"
START_DATE = pendulum.datetime(2023, 1, 1, tz=TIMEZONE)
# The run for month M starts when M has ended (data interval = the calendar month in Beijing).
MONTHLY_CRON = "0 0 1 * *"
DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(minutes=10),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(hours=2),
    "on_failure_callback": on_failure,
}


class ExportFailed(AirflowFailException):
    """A failure that retrying cannot mend (a rejected or missing export); `files` names the file(s)."""

    def __init__(self, message: str, files: list[str]):
        super().__init__(message)
        self.files = files


def inbox_root():
    """The inbox as an ObjectStoragePath: a local folder, SFTP, S3, ... (REPORTPIPE_INBOX[_CONN_ID])."""
    from airflow.sdk import ObjectStoragePath

    from reportpipe.settings import inbox_conn_id, inbox_url

    return ObjectStoragePath(inbox_url(), conn_id=inbox_conn_id())


def source_asset(source_id: str):
    """The Asset an ingest updates when it has (re)loaded the month of `stg_<source_id>`."""
    from airflow.sdk import Asset

    return Asset(name=f"stg_{source_id}", uri=f"reportpipe://warehouse/stg_{source_id}")


def month_of(data_interval_start: pendulum.DateTime | None, override: str | None = None) -> str:
    """YYYY-MM of the run's data interval in Beijing time, unless an operator named one."""
    if override:
        return override
    if data_interval_start is None:  # a manual run without a logical date
        raise ExportFailed("this run has no data interval: trigger it with the param month (YYYY-MM)", files=[])
    return pendulum.instance(data_interval_start).in_timezone(TIMEZONE).format("YYYY-MM")
