"""
### Monthly ingest, one DAG per source

`ingest_<source_id>` waits for each office's export of the source for the month of its
data interval (the calendar month in Beijing) in its inbox (`wait_for_export`: deferred
to the triggerer, failing after 72 hours with what is missing, or at once when a
misnamed file looks meant for the month), then `load_month` reads, types and validates
the files the wait found with the Great Expectations suite of the source
(`expectations/suites/<source_id>.json`), inside DuckDB, and replaces that month in
`stg_<source_id>` in one transaction. The highest valid `_vN` of the month wins;
identical bytes change nothing; a rejected file fails the run without retries and
names file, row, column and rule, while the month keeps its earlier good version.

Each office's wait and load are a task group mapped over the offices (named by the office
in the UI): a late office waits alone, the others load, each is retried and re-run on its
own. `load_month` writes its office's warehouse (its own lock): it takes the pool
`reportpipe_warehouse` (a slot per office) and, under Celery, the queue `warehouse`. On
success it updates the Asset `stg_<source_id>`, which schedules `statistics`. Re-run one
month with the param `month` (YYYY-MM), one office's part of it with `office` (the other
offices' parts are skipped): re-runs are idempotent and run at once, beside a run still
waiting for its export. The inbox is `REPORTPIPE_INBOX`, a folder or an ObjectStoragePath URL
(SFTP, S3) with credentials in the connection `REPORTPIPE_INBOX_CONN_ID`. Failures alert
through `reportpipe.orchestration.alerts` (log line, or e-mail). Generated from the sources in
`transforms/`: a new source is a new folder there, not new code here.
"""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task, task_group

from reportpipe.contracts import Source, sources
from reportpipe.offices import deployment
from reportpipe.orchestration.defaults import (
    DEFAULT_ARGS,
    MONTHLY_CRON,
    OFFICE_NAME,
    START_DATE,
    WAREHOUSE_TASK,
    source_asset,
)
from reportpipe.orchestration.sensors import ExportSensor
from reportpipe.settings import TIMEZONE

OFFICES = [o.id for o in deployment().offices]


def ingest_dag(source: Source):
    @dag(
        dag_id=f"ingest_{source.source_id}",
        description=f"{source.title}: {source.description}",
        doc_md=__doc__,
        schedule=CronDataIntervalTimetable(MONTHLY_CRON, timezone=TIMEZONE),
        start_date=START_DATE,
        catchup=False,
        default_args=DEFAULT_ARGS,
        tags=["reportpipe", "ingest", source.source_id],
        params={
            "month": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                           description="YYYY-MM to ingest instead of the run's data interval"),
            "office": Param(None, type=["null", "string"], enum=[None, *OFFICES],
                            description="one office's part of the month alone (default: every office's)"),
        },
    )
    def ingest():
        @task(outlets=[source_asset(source.source_id)], map_index_template=OFFICE_NAME, **WAREHOUSE_TASK)
        def load_month(office: str, files: list[str], data_interval_start=None, params=None) -> list[str]:
            """Read, validate and load an office's files of the month; fail without retries when one is rejected."""
            from airflow.sdk.exceptions import AirflowFailException

            from reportpipe.intake.inbox import fetch, office_root
            from reportpipe.orchestration.defaults import WAREHOUSE_WAIT_S, inbox_root, run_month
            from reportpipe.pipeline import ingest_month, refresh_statistics
            from reportpipe.problems import RejectedExport
            from reportpipe.settings import warehouse_dir

            month = run_month(data_interval_start, params.get("month"))
            root = office_root(inbox_root(), office, deployment())
            local = fetch(root, source, files, landing=deployment().folder(warehouse_dir(), office) / "landing")
            paths = [local / source.source_id / name for name in files]
            try:
                outcomes = ingest_month(source.source_id, month, paths, wait_s=WAREHOUSE_WAIT_S, office_id=office)
            except RejectedExport as e:
                # Publish that the month is in doubt (its figures turn provisional), then fail loudly.
                refresh_statistics(wait_s=WAREHOUSE_WAIT_S, office_id=office)
                raise AirflowFailException(str(e)) from e
            if not outcomes:  # the files the wait found have gone again: worth a retry
                raise FileNotFoundError(f"inbox has none of {', '.join(files)} any more")
            return [o.describe() for o in outcomes]

        # Each office's wait and load are its own: a late office waits alone, the others load.
        @task_group(group_id="office", prefix_group_id=False)
        def office_month(office: str):
            wait = ExportSensor(task_id="wait_for_export", source_id=source.source_id, office_id=office,
                                map_index_template="{{ task.office_id }}")
            load_month(office=office, files=wait.output)

        office_month.expand(office=OFFICES)

    return ingest()


for _source in sources().values():
    globals()[f"ingest_{_source.source_id}"] = ingest_dag(_source)
