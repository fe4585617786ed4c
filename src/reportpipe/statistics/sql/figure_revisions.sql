-- The published figures that a re-delivered month changed since the last refresh
-- (reportpipe.statistics.revisions), compared with `previous_figures`, the build before. A change
-- is a revision when a month of the figure's source and year was loaded again since that refresh
-- (a file loaded after _refreshed_through's file for a month that had a loaded file before), not
-- when a new month arrived. Ordered by the file sequence, never by the clock.
WITH last_refresh AS (SELECT coalesce(max(file_id), 0) AS file_id FROM _refreshed_through),
replaced AS (
    SELECT l.source_id, CAST(year(l.month) AS INTEGER) AS year, string_agg(l.path, '; ' ORDER BY l.path) AS paths
    FROM intake_log l, last_refresh
    WHERE l.status = 'loaded' AND l.file_id > last_refresh.file_id
      AND EXISTS (SELECT 1 FROM intake_log e WHERE e.status = 'loaded' AND e.source_id = l.source_id
                  AND e.month = l.month AND e.file_id < l.file_id)
    GROUP BY ALL
)
SELECT n.year, n.figure_id, p.value AS old_value, n.value AS new_value, r.paths AS caused_by, now() AS revised_at
FROM report_figures n
JOIN previous_figures p USING (year, figure_id)
JOIN replaced r ON r.source_id = n.source_id AND r.year = n.year
WHERE p.value IS DISTINCT FROM n.value
