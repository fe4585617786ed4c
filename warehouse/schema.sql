-- Bookkeeping tables of the working warehouse (work.duckdb). The per-source
-- tables raw_<source> and stg_<source> are created from transforms/<source>/source.yaml.
-- What each published table and column means (their COMMENTs in report.duckdb): warehouse/dictionary.yaml.

CREATE SEQUENCE IF NOT EXISTS file_id_seq;

-- Every file the pipeline decided about, and what it decided (append-only).
CREATE TABLE IF NOT EXISTS intake_log (
    file_id    BIGINT NOT NULL,         -- lineage key carried by raw_ and stg_ rows
    path       VARCHAR NOT NULL,        -- where the file was found
    sha256     VARCHAR NOT NULL,        -- of the file's bytes
    source_id  VARCHAR NOT NULL,
    month      VARCHAR NOT NULL,        -- YYYY-MM the file covers
    version    INTEGER NOT NULL,        -- 1, or N of a _vN re-delivery
    rows       BIGINT,                  -- records in the file (NULL when unreadable)
    status     VARCHAR NOT NULL,        -- loaded | rejected | duplicate | superseded
    message    VARCHAR,                 -- why, for every status but loaded
    logged_at  TIMESTAMPTZ NOT NULL     -- when the decision was made
);

-- The file that holds the truth for each source-month (one row each).
CREATE TABLE IF NOT EXISTS loaded_months (
    source_id  VARCHAR NOT NULL,
    month      VARCHAR NOT NULL,
    file_id    BIGINT NOT NULL,
    version    INTEGER NOT NULL,
    sha256     VARCHAR NOT NULL,
    path       VARCHAR NOT NULL,
    rows       BIGINT NOT NULL,
    loaded_at  TIMESTAMPTZ NOT NULL
);

-- Each source-month that has seen a delivery: the version that holds it, and the
-- newest rejected version above it (a month whose latest delivery failed is in doubt).
CREATE OR REPLACE VIEW month_status AS
SELECT
    d.source_id,
    d.month,
    CAST(left(d.month, 4) AS INTEGER) AS year,
    l.version AS loaded_version,
    l.rows AS loaded_rows,
    max(i.version) FILTER (WHERE i.status = 'rejected' AND i.version > coalesce(l.version, 0)) AS rejected_version
FROM (SELECT DISTINCT source_id, month FROM intake_log) d
LEFT JOIN loaded_months l USING (source_id, month)
LEFT JOIN intake_log i USING (source_id, month)
GROUP BY ALL;

-- Every expectation of every validation: the evidence behind each load or rejection.
CREATE TABLE IF NOT EXISTS validation_runs (
    validated_at     TIMESTAMPTZ NOT NULL,
    path             VARCHAR NOT NULL,
    sha256           VARCHAR NOT NULL,
    source_id        VARCHAR NOT NULL,
    month            VARCHAR NOT NULL,
    version          INTEGER NOT NULL,
    suite            VARCHAR NOT NULL,  -- expectations/suites/<suite>.json
    expectation      VARCHAR NOT NULL,  -- GX expectation type
    column_name      VARCHAR,           -- the column it checks (as delivered), if one
    success          BOOLEAN NOT NULL,
    unexpected_count BIGINT,
    rows             BIGINT             -- records in the file
);

-- Published figures that a re-delivered month changed: what was published, what replaced it, why.
CREATE TABLE IF NOT EXISTS figure_revisions (
    year        INTEGER NOT NULL,
    figure_id   VARCHAR NOT NULL,
    old_value   DOUBLE,
    new_value   DOUBLE,
    caused_by   VARCHAR NOT NULL,       -- the re-delivered file(s) loaded since the previous refresh
    revised_at  TIMESTAMPTZ NOT NULL
);

-- When the report tables were last rebuilt (revisions compare against that build).
-- Tables starting with _ are bookkeeping: never published.
CREATE TABLE IF NOT EXISTS _refreshes (
    refreshed_at TIMESTAMPTZ NOT NULL
);
