"""Record published figures that a re-delivered month changed (figure_revisions)."""

from __future__ import annotations

import duckdb


def previous_figures(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the figures of the last build as the temp table `previous_figures`."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'report_figures' AND NOT temporary").fetchall()[0][0]
    source = "SELECT year, figure_id, source_id, value FROM report_figures" if exists else \
        "SELECT NULL::INTEGER AS year, NULL AS figure_id, NULL AS source_id, NULL::DOUBLE AS value LIMIT 0"
    con.execute(f"CREATE OR REPLACE TEMP TABLE previous_figures AS {source}")


def record(con: duckdb.DuckDBPyConnection) -> int:
    """Compare the new report_figures with previous_figures; record revisions; the number recorded.

    A change counts as a revision when, since the previous refresh, a month of the
    figure's source and year was loaded again (a re-delivery), not when a new month arrived.
    """
    recorded = con.execute(
        """
        INSERT INTO figure_revisions
        WITH last_refresh AS (SELECT coalesce(max(refreshed_at), '-infinity'::TIMESTAMPTZ) AS at FROM _refreshes),
        replaced AS (
            SELECT l.source_id, CAST(year(l.month) AS INTEGER) AS year, string_agg(l.path, '; ' ORDER BY l.path) AS paths
            FROM intake_log l, last_refresh
            WHERE l.status = 'loaded' AND l.logged_at > last_refresh.at
              AND EXISTS (SELECT 1 FROM intake_log e WHERE e.status = 'loaded' AND e.source_id = l.source_id
                          AND e.month = l.month AND e.logged_at < l.logged_at)
            GROUP BY ALL
        )
        SELECT n.year, n.figure_id, p.value, n.value, r.paths, now()
        FROM report_figures n
        JOIN previous_figures p USING (year, figure_id)
        JOIN replaced r ON r.source_id = n.source_id AND r.year = n.year
        WHERE p.value IS DISTINCT FROM n.value
        """
    ).fetchall()
    con.execute("INSERT INTO _refreshes VALUES (now())")
    return recorded[0][0] if recorded else 0
