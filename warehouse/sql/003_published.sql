-- The published dataUNODC GLOTIP export (`glotip import-published`; docs/published-data.md).
-- Idempotent, like every file here. The columns added to existing tables for it are at the end
-- of 001_tables.sql (the views of 002 read them).

-- Offences of trafficking in persons: published by UNODC, not asked in our submissions.
CREATE TABLE IF NOT EXISTS fact_offences (
    submission_id  VARCHAR NOT NULL,
    source_line    INTEGER,
    year           INTEGER NOT NULL,
    form           VARCHAR NOT NULL,      -- `total` in the exports seen so far
    count          BIGINT,                -- NULL when not exact (`<5`)
    suppressed     BOOLEAN DEFAULT false,
    count_min      BIGINT,
    count_max      BIGINT
);

-- One row per imported export file. An export's figures are registered in `submissions` as
-- one pseudo-submission per country, `<import_id>-<ISO3>`.
CREATE TABLE IF NOT EXISTS published_imports (
    import_id         VARCHAR NOT NULL,   -- PUB-<yyyymmdd of the export date>[v<n> for a --force re-import]
    export_date       DATE NOT NULL,
    export_date_from  VARCHAR,            -- preamble, file name or option
    file_name         VARCHAR NOT NULL,
    file_format       VARCHAR,            -- xlsx or csv
    sheet             VARCHAR,
    header_line       INTEGER,
    sha256            VARCHAR NOT NULL,
    size_bytes        BIGINT,
    imported_at       TIMESTAMP NOT NULL,
    run_id            VARCHAR,
    flow_run_id       VARCHAR,
    load_seq          BIGINT,
    rows_read         BIGINT,
    rows_loaded       BIGINT,             -- rows of the export that reached the fact tables
    rows_quarantined  BIGINT,
    fact_rows         BIGINT,             -- rows in the fact tables (repeated keys summed)
    countries         INTEGER,
    stats             VARCHAR,            -- JSON: the import report's figures
    report_dir        VARCHAR
);

CREATE OR REPLACE VIEW offences AS
SELECT c.country, f.year, f.form, f.count, f.submission_id,
       coalesce(f.suppressed, false) AS suppressed, coalesce(f.count_min, f.count) AS count_min,
       coalesce(f.count_max, f.count) AS count_max, s.source, s.published_as_of
FROM fact_offences AS f
JOIN current_country_years AS c ON c.submission_id = f.submission_id AND c.year = f.year
JOIN submissions AS s ON s.submission_id = f.submission_id;

-- The published figures as they stood on a date: for each country, the newest export dated on
-- or before `as_of` that contains it (its latest version), with the years it has. Same columns as the current views.
--   SELECT * FROM published_victims_as_of(DATE '2024-12-31') WHERE country = 'THA';
CREATE OR REPLACE MACRO published_country_years_as_of(as_of) AS TABLE
WITH dated AS (
    SELECT s.country, arg_max(s.submission_id, (s.published_as_of, s.load_seq)) AS submission_id
    FROM submissions AS s
    WHERE s.source = 'published' AND s.status IN ('accepted', 'accepted_with_warnings')
      AND s.published_as_of <= CAST(as_of AS DATE)
    GROUP BY s.country
)
SELECT sy.country, sy.year, sy.submission_id
FROM submission_years AS sy
JOIN dated USING (submission_id);

CREATE OR REPLACE MACRO published_victims_as_of(as_of) AS TABLE
SELECT c.country, f.year, f.sex, f.age, f.form, f.citizenship, f.count, f.submission_id,
       f.suppressed, f.count_min, f.count_max, s.source, s.published_as_of, f.category_text
FROM fact_victims AS f
JOIN published_country_years_as_of(as_of) AS c ON c.submission_id = f.submission_id AND c.year = f.year
JOIN submissions AS s ON s.submission_id = f.submission_id;

CREATE OR REPLACE MACRO published_offenders_as_of(as_of) AS TABLE
SELECT c.country, f.year, f.stage, f.sex, f.age, f.citizenship, f.form, f.count, f.submission_id,
       f.suppressed, f.count_min, f.count_max, s.source, s.published_as_of, f.category_text
FROM fact_offenders AS f
JOIN published_country_years_as_of(as_of) AS c ON c.submission_id = f.submission_id AND c.year = f.year
JOIN submissions AS s ON s.submission_id = f.submission_id;

CREATE OR REPLACE MACRO published_repatriated_as_of(as_of) AS TABLE
SELECT c.country, f.year, f.country_of_detection, f.sex, f.age, f.count, f.submission_id,
       f.suppressed, f.count_min, f.count_max, s.source, s.published_as_of,
       f.country_of_repatriation, f.category_text
FROM fact_repatriated AS f
JOIN published_country_years_as_of(as_of) AS c ON c.submission_id = f.submission_id AND c.year = f.year
JOIN submissions AS s ON s.submission_id = f.submission_id;

CREATE OR REPLACE MACRO published_offences_as_of(as_of) AS TABLE
SELECT c.country, f.year, f.form, f.count, f.submission_id, f.suppressed, f.count_min,
       f.count_max, s.source, s.published_as_of
FROM fact_offences AS f
JOIN published_country_years_as_of(as_of) AS c ON c.submission_id = f.submission_id AND c.year = f.year
JOIN submissions AS s ON s.submission_id = f.submission_id;
