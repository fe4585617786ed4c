"""Record published figures that a re-delivered month changed (figure_revisions)."""

from __future__ import annotations

import duckdb

from reportpipe.statistics import sql_file


def previous_figures(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the figures of the last build as the temp table `previous_figures`."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'report_figures' AND NOT temporary").fetchall()[0][0]
    source = "SELECT year, figure_id, source_id, value FROM report_figures" if exists else \
        "SELECT NULL::INTEGER AS year, NULL AS figure_id, NULL AS source_id, NULL::DOUBLE AS value LIMIT 0"
    con.execute(f"CREATE OR REPLACE TEMP TABLE previous_figures AS {source}")


def record(con: duckdb.DuckDBPyConnection) -> int:
    """Compare the new report_figures with previous_figures (sql/figure_revisions.sql); record the revisions
    and that this refresh has seen every file decided so far; the number recorded."""
    recorded = con.execute(f"INSERT INTO figure_revisions {sql_file('figure_revisions')}").fetchall()
    con.execute("DELETE FROM _refreshed_through")
    con.execute("INSERT INTO _refreshed_through SELECT coalesce(max(file_id), 0) FROM intake_log")
    return recorded[0][0] if recorded else 0
