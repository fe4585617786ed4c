-- The checks every publication passes whatever transforms/reconciliation.yaml adds
-- (reportpipe.statistics.reconcile): one row per broken check. No figure is negative, no rate
-- is above 100, and a count or sum equals the sum of its months and of its communities
-- (rounding of summed decimals aside). Runnable against work.duckdb or report.duckdb:
--   SET VARIABLE additive_figures = ['cases_closed', ...];  -- the figure_ids of every count and sum
WITH additive AS (SELECT unnest(getvariable('additive_figures')) AS figure_id),
months AS (
    SELECT a.figure_id, a.year, a.value, coalesce(sum(m.value), 0) AS parts
    FROM report_figures a LEFT JOIN report_figures_monthly m USING (year, figure_id)
    WHERE a.figure_id IN (FROM additive)
    GROUP BY ALL
),
communities AS (
    SELECT a.figure_id, a.year, a.value, sum(c.value) AS parts
    FROM report_figures a JOIN report_figures_by_community c USING (year, figure_id)
    WHERE a.figure_id IN (FROM additive)
    GROUP BY ALL
)
SELECT figure_id, year, value, CASE WHEN value < 0 THEN 'is negative' ELSE 'is a rate above 100' END AS problem,
       NULL::DOUBLE AS parts
FROM report_figures WHERE value < 0 OR (unit = '%' AND value > 100)
UNION ALL
SELECT figure_id, year, value, 'differs from the sum of its months', parts
FROM months WHERE abs(value - parts) > 1e-9 * greatest(1, abs(value))
UNION ALL
SELECT figure_id, year, value, 'differs from the sum of its communities', parts
FROM communities WHERE abs(value - parts) > 1e-9 * greatest(1, abs(value))
ORDER BY figure_id, year, problem
