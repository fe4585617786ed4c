-- Bookkeeping tables of the working warehouse (work.duckdb). The per-source tables
-- stg_<source> are created from transforms/<source>/source.yaml
-- (reportpipe.warehouse.models). What each published table and column means: warehouse/dictionary.yaml.
-- A month is a DATE: the first day of the month a file covers.

CREATE SEQUENCE IF NOT EXISTS file_id_seq;

-- Every file the pipeline decided about, and what it decided (append-only).
CREATE TABLE IF NOT EXISTS intake_log (
    file_id    BIGINT NOT NULL,         -- one per decision, in the order decided; the lineage key of stg_ rows
    path       VARCHAR NOT NULL,        -- where the file was found
    sha256     VARCHAR NOT NULL,        -- of the file's bytes (empty when it was not read)
    source_id  VARCHAR NOT NULL,
    month      DATE NOT NULL,           -- the month the file covers
    version    INTEGER NOT NULL,        -- 1, or N of a _vN re-delivery
    rows       BIGINT,                  -- records in the file (NULL when unreadable)
    status     VARCHAR NOT NULL,        -- loaded | rejected | duplicate | superseded
    message    VARCHAR,                 -- why, for every status but loaded
    logged_at  TIMESTAMPTZ NOT NULL     -- when the decision was made
);

-- The file that holds the truth for each source-month (one row each).
CREATE TABLE IF NOT EXISTS loaded_months (
    source_id  VARCHAR NOT NULL,
    month      DATE NOT NULL,
    file_id    BIGINT NOT NULL,
    version    INTEGER NOT NULL,
    sha256     VARCHAR NOT NULL,
    path       VARCHAR NOT NULL,
    rows       BIGINT NOT NULL,
    loaded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source_id, month)
);

-- What the history of a source says about each loaded month (reportpipe.history): its rows,
-- and its rows per category of the columns its contract names, against the trailing median.
CREATE TABLE IF NOT EXISTS month_checks (
    source_id   VARCHAR NOT NULL,
    month       DATE NOT NULL,
    file_id     BIGINT NOT NULL,        -- the loaded file checked
    subject     VARCHAR,                -- NULL: all its rows; else <column>=<category>
    observed    BIGINT NOT NULL,        -- rows
    median      DOUBLE NOT NULL,        -- rows in the trailing months (up to 12), median
    flagged     BOOLEAN NOT NULL,       -- out of the contract's band, or a category vanished or is new
    reason      VARCHAR,                -- why, when flagged
    checked_at  TIMESTAMPTZ NOT NULL
);

-- Flags an operator checked with the sending office and accepted (`reportpipe accept`).
CREATE TABLE IF NOT EXISTS acceptances (
    source_id   VARCHAR NOT NULL,
    month       DATE NOT NULL,
    file_id     BIGINT NOT NULL,        -- the delivery accepted: a new one is checked again
    note        VARCHAR NOT NULL,
    accepted_at TIMESTAMPTZ NOT NULL
);

-- Each source-month that has seen a delivery: the version that holds it, the newest
-- rejected delivery that came after it (a month whose latest delivery failed is in doubt,
-- also when the rejected file has the same name and version as the loaded one), and the
-- history flags of the loaded file, with the note of whoever accepted them. "After" is by the
-- file sequence (file_id: one per decision, in the order decided), never by the clock.
CREATE OR REPLACE VIEW month_status AS
WITH delivered AS (
    SELECT source_id, month,
           max(version) FILTER (WHERE status = 'rejected') AS newest_rejected,
           max(file_id) FILTER (WHERE status = 'rejected') AS rejected_file_id
    FROM intake_log GROUP BY ALL
),
accepted AS (
    SELECT source_id, month, file_id, string_agg(note, '; ' ORDER BY accepted_at) AS note
    FROM acceptances GROUP BY ALL
),
flags AS (
    SELECT c.source_id, c.month, c.file_id, string_agg(c.reason, '; ' ORDER BY c.subject NULLS FIRST) AS reason
    FROM month_checks c WHERE c.flagged GROUP BY ALL
)
SELECT
    d.source_id,
    d.month,
    CAST(year(d.month) AS INTEGER) AS year,
    l.version AS loaded_version,
    l.rows AS loaded_rows,
    CASE WHEN d.newest_rejected > coalesce(l.version, 0)
           OR d.rejected_file_id > coalesce(l.file_id, 0)
         THEN d.newest_rejected END AS rejected_version,
    f.reason AS anomaly,
    a.note AS accepted_note
FROM delivered d
LEFT JOIN loaded_months l USING (source_id, month)
LEFT JOIN flags f ON f.source_id = d.source_id AND f.month = d.month AND f.file_id = l.file_id
LEFT JOIN accepted a ON a.source_id = d.source_id AND a.month = d.month AND a.file_id = l.file_id;

-- Every expectation of every validation: the evidence behind each load or rejection.
CREATE TABLE IF NOT EXISTS validation_runs (
    validated_at     TIMESTAMPTZ NOT NULL,
    path             VARCHAR NOT NULL,
    sha256           VARCHAR NOT NULL,
    source_id        VARCHAR NOT NULL,
    month            DATE NOT NULL,
    version          INTEGER NOT NULL,
    suite            VARCHAR NOT NULL,  -- expectations/suites/<suite>.json
    expectation      VARCHAR NOT NULL,  -- GX expectation type
    kind             VARCHAR,           -- what it checks (reportpipe.problems): required, values, rule …
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

-- Tables starting with _ are bookkeeping: never published.
-- The last file decided when the report tables were last rebuilt (revisions compare against that build).
CREATE TABLE IF NOT EXISTS _refreshed_through (
    file_id BIGINT NOT NULL
);

-- Every publication whose content differed from the one before (reportpipe.warehouse.publication).
CREATE TABLE IF NOT EXISTS _publications (
    published_at   TIMESTAMPTZ NOT NULL,
    content_sha256 VARCHAR NOT NULL
);
