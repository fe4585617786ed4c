-- Why the figures of a source and year are provisional, if they are (reportpipe.statistics.figures):
-- a month of the year is missing, its latest delivery was rejected, or its history flagged it and
-- nobody has accepted the flag yet. One row per source and year that has seen a delivery; a
-- source and year without one has no month loaded. Runnable against work.duckdb or report.duckdb.
WITH c AS (
    SELECT source_id, year, count(loaded_version) AS months_loaded,
           list(strftime(month, '%Y-%m') || ' v' || rejected_version ORDER BY month)
               FILTER (WHERE rejected_version IS NOT NULL) AS rejected,
           list(anomaly ORDER BY month) FILTER (WHERE anomaly IS NOT NULL AND accepted_note IS NULL) AS anomalies
    FROM month_status GROUP BY ALL
)
SELECT source_id, year, months_loaded, nullif(concat_ws('; ',
    CASE WHEN months_loaded < 12 THEN months_loaded || ' of 12 months loaded' END,
    CASE WHEN len(rejected) > 0 THEN 'latest delivery rejected: ' || array_to_string(rejected, ', ') END,
    CASE WHEN len(anomalies) > 0 THEN array_to_string(anomalies, '; ') END), '') AS reason
FROM c
