"""
### Monthly ingest, one DAG per source

`ingest_<source_id>` waits for the source's export for the month of its data
interval (the calendar month in Beijing) in the inbox (`wait_for_export`: deferred
to the triggerer, failing after 72 hours with what is missing), validates it with the
Great Expectations suite `expectations/suites/<source_id>.json` and replaces that
month in `stg_<source_id>` in one transaction. The highest valid `_vN` of the month wins; identical bytes
change nothing; a rejected file fails the run and names file, row, column and
rule, while the month keeps its earlier good version.

On success it updates the Asset `stg_<source_id>`, which schedules `statistics`.
Re-run one month with the param `month` (YYYY-MM): re-runs are idempotent.
The inbox is `REPORTPIPE_INBOX`, a folder or an ObjectStoragePath URL (SFTP, S3)
with credentials in the connection `REPORTPIPE_INBOX_CONN_ID`. Failures alert
through `reportpipe.alerts` (log line, or e-mail). Generated from the sources
in `transforms/`: a new source is a new folder there, not new code here.
"""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from reportpipe.contracts import Source, sources
from reportpipe.orchestration import DEFAULT_ARGS, MONTHLY_CRON, START_DATE, month_of, source_asset
from reportpipe.sensors import ExportSensor
from reportpipe.settings import TIMEZONE


def ingest_dag(source: Source):
    @dag(
        dag_id=f"ingest_{source.source_id}",
        description=f"{source.title}: {source.description}",
        doc_md=__doc__,
        schedule=CronDataIntervalTimetable(MONTHLY_CRON, timezone=TIMEZONE),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["reportpipe", "ingest", source.source_id],
        params={
            "month": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                           description="YYYY-MM to ingest instead of the run's data interval"),
        },
    )
    def ingest():
        @task(outlets=[source_asset(source.source_id)])
        def load_month(data_interval_start=None, params=None) -> list[str]:
            """Validate and load the month's export; fail (without retries) when it is rejected."""
            from reportpipe.inbox import fetch
            from reportpipe.orchestration import ExportFailed, inbox_root
            from reportpipe.pipeline import RejectedExport, ingest_month
            from reportpipe.settings import warehouse_dir

            month = month_of(data_interval_start, params.get("month"))
            local = fetch(inbox_root(), source, month, landing=warehouse_dir() / "landing")
            try:
                outcomes = ingest_month(source.source_id, month, inbox=local)
            except RejectedExport as e:
                raise ExportFailed(str(e), files=e.files) from e
            if not outcomes:  # the file the sensor saw has gone again: worth a retry
                raise FileNotFoundError(f"inbox has no {source.title} file for {month}")
            return [o.describe() for o in outcomes]

        ExportSensor(task_id="wait_for_export", source_id=source.source_id) >> load_month()

    return ingest()


for _source in sources().values():
    globals()[f"ingest_{_source.source_id}"] = ingest_dag(_source)
