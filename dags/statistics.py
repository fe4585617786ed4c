"""
### Annual statistics

Runs whenever any `ingest_<source>` DAG has loaded a month (Asset schedule):
rebuilds the business tables (`fct_*`) and the report tables
(`report_figures`: one row per year and figure of the annual report;
`report_figures_monthly`: the same by month) from every loaded month, then
publishes `report.duckdb` for analysts by an atomic swap, after the
reconciliation checks of `transforms/reconciliation.yaml` pass. Then writes the
report outputs of every year (`warehouse/reports/<year>/`: GSS-style workbook,
Markdown and DOCX draft, charts) and renders the validation results into the GX
Data Docs site (`expectations/uncommitted/`).
A rejected file updates no Asset, so it never triggers a publication.
"""

from __future__ import annotations

from airflow.sdk import AssetAny, dag, task

from reportpipe.contracts import sources
from reportpipe.orchestration import DEFAULT_ARGS, START_DATE, source_asset


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
    @task
    def publish_figures() -> str:
        """Rebuild fct_ and report_ tables, reconcile them and swap in the new report.duckdb."""
        from reportpipe.pipeline import refresh_statistics

        return str(refresh_statistics())

    @task
    def write_reports() -> list[str]:
        """The workbook, draft and charts of every published year, from report.duckdb."""
        from reportpipe.report import publish_reports
        from reportpipe.settings import warehouse_dir

        return [str(p) for p in publish_reports(warehouse_dir())]

    @task
    def render_data_docs() -> str:
        """Render the validation results stored since the last run into the GX Data Docs site."""
        from reportpipe.validation import build_data_docs

        return str(build_data_docs())

    published = publish_figures()
    published >> write_reports()
    published >> render_data_docs()


statistics()
