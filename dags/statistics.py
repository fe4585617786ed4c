"""
### Annual statistics

Runs whenever any `ingest_<source>` DAG has loaded a month (Asset schedule), once the
loads have settled (`loads_settled`: no load waiting, queued or running; at most an hour):
for each office whose files changed (a task mapped over the offices, named by the office),
rebuilds the business tables (`fct_*`) and the report tables
(`report_figures`: one row per year and figure of the annual report;
`report_figures_monthly`: the same by month) from every loaded month, then
publishes the office's `report.duckdb` for analysts by an atomic swap, after the
reconciliation checks of `transforms/reconciliation.yaml` pass; then `publish_district`
publishes `<warehouse>/report.duckdb` with every office and the district's own figures, and
`write_comparison` the district's comparison of its offices (`<warehouse>/reports/<district_id>/<year>/`). A month the history
checks flagged (out of line with its source's past months) alerts through
`reportpipe.orchestration.alerts` when it is first published, without failing the run. Then writes the
report outputs of every year whose publication changed (`<warehouse>/reports/<office_id>/<year>/`:
GSS-style workbook, Markdown and DOCX draft, charts) and renders the validation results into the GX
Data Docs site (the office's `data_docs/`). Every task works on the warehouse's
files: the pool `reportpipe_warehouse` and, under Celery, the queue `warehouse`.
"""

from __future__ import annotations

from airflow.sdk import AssetAny, dag, task

from reportpipe.contracts import sources
from reportpipe.offices import deployment
from reportpipe.orchestration.defaults import (
    DEFAULT_ARGS,
    OFFICE_NAME,
    START_DATE,
    WAREHOUSE_QUEUE,
    WAREHOUSE_TASK,
    source_asset,
)

SETTLE_S = 30  # how often it looks whether the loads have settled
MAX_SETTLE_S = 3600
OFFICES = [o.id for o in deployment().offices]


@dag(
    dag_id="statistics",
    description="Report figures from every loaded month; publish report.duckdb",
    doc_md=__doc__,
    schedule=AssetAny(*(source_asset(s) for s in sources())),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["reportpipe", "statistics"],
)
def statistics():
    # Rescheduled, it holds no worker slot while it waits.
    @task.sensor(poke_interval=SETTLE_S, timeout=24 * 3600, mode="reschedule")
    def loads_settled(ti=None, dag_run=None) -> bool:
        """A burst of loads (a backfill, a morning of deliveries) is published once it has settled: no
        load_month of any source is waiting, queued or running; an unending burst is published hourly."""
        import datetime as dt

        busy = ["scheduled", "queued", "running", "up_for_retry", "up_for_reschedule"]
        loading = sum(ti.get_ti_count(dag_id=f"ingest_{s}", task_ids=["load_month"], states=busy) for s in sources())
        waited = dt.datetime.now(dt.timezone.utc) - dag_run.start_date
        return loading == 0 or waited > dt.timedelta(seconds=MAX_SETTLE_S)

    @task(map_index_template=OFFICE_NAME, **WAREHOUSE_TASK)
    def publish_figures(office: str, ti=None, run_id=None) -> bool:
        """Rebuild an office's fct_ and report_ tables, reconcile them and swap in its new report.duckdb when a
        file of it was decided since; alert on the history flags it publishes first (once each)."""
        from reportpipe.orchestration import alerts
        from reportpipe.orchestration.defaults import WAREHOUSE_WAIT_S
        from reportpipe.pipeline import refresh_office
        from reportpipe.settings import warehouse_dir
        from reportpipe.statistics import history

        folder = deployment().folder(warehouse_dir(), office)
        before = history.open_flags(folder)
        refreshed = refresh_office(office_id=office, wait_s=WAREHOUSE_WAIT_S, only_if_changed=True)
        new = sorted(history.open_flags(folder) - before)
        if new:
            alerts.flagged({"ti": ti, "run_id": run_id}, new)
        return refreshed

    # Under its own lock: it reads the offices' published files, and no office's load waits for it.
    @task(queue=WAREHOUSE_QUEUE, trigger_rule="all_done")
    def publish_district() -> str:
        """<warehouse>/report.duckdb: every office's published tables and the district's own figures
        (an office whose refresh failed keeps its last publication)."""
        from reportpipe.orchestration.defaults import WAREHOUSE_WAIT_S
        from reportpipe.pipeline import publish_all

        return str(publish_all(wait_s=WAREHOUSE_WAIT_S))

    @task(queue=WAREHOUSE_QUEUE)
    def write_comparison() -> list[str]:
        """The district's comparison workbook and charts of every year, from <warehouse>/report.duckdb (none
        without a district)."""
        from reportpipe.outputs.comparison import publish_comparison
        from reportpipe.settings import warehouse_dir

        return [str(p) for p in publish_comparison(warehouse_dir())]

    # This reads the office's published file and swaps in its own folders under the office's lock: the queue.
    @task(queue=WAREHOUSE_QUEUE, map_index_template=OFFICE_NAME)
    def write_reports(office: str) -> list[str]:
        """The workbook, draft and charts of every year whose publication changed, from the office's report.duckdb."""
        from reportpipe.outputs.reports import publish_reports
        from reportpipe.settings import warehouse_dir

        return [str(p) for p in publish_reports(warehouse_dir(), office)]

    @task(map_index_template=OFFICE_NAME, **WAREHOUSE_TASK)  # the validation results it reads are the loads'
    def render_data_docs(office: str) -> str:
        """Render the office's validation results stored since the last run into its GX Data Docs site."""
        from reportpipe.settings import warehouse_dir
        from reportpipe.validation.data_docs import build_data_docs

        return str(build_data_docs(deployment().folder(warehouse_dir(), office)))

    published = publish_figures.expand(office=OFFICES)
    loads_settled() >> published
    published >> publish_district() >> write_comparison()
    published >> write_reports.expand(office=OFFICES)
    published >> render_data_docs.expand(office=OFFICES)


statistics()
