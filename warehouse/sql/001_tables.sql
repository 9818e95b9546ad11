-- The warehouse's tables. Every statement is idempotent: the pipeline runs this file on
-- every connection. No primary or foreign keys: DuckDB's constraint checks are over-eager on
-- updates, so uniqueness (one row per file sha256) is enforced by the loader inside its
-- transaction, and references are checked by validation.

-- One row per run of the ingestion flow.
CREATE TABLE IF NOT EXISTS ingestion_runs (
    run_id                  VARCHAR NOT NULL,
    flow_run_id             VARCHAR,
    started_at              TIMESTAMP NOT NULL,
    finished_at             TIMESTAMP,
    inbox                   VARCHAR,
    files_seen              INTEGER,
    accepted                INTEGER,
    accepted_with_warnings  INTEGER,
    rejected                INTEGER,
    duplicates              INTEGER,
    failed                  INTEGER,
    rows_loaded             BIGINT,
    status                  VARCHAR          -- running, completed, interrupted (killed)
);

CREATE SEQUENCE IF NOT EXISTS submission_load_seq START 1;

-- The register: one row per distinct file received, whatever its outcome.
CREATE TABLE IF NOT EXISTS submissions (
    submission_id     VARCHAR NOT NULL,     -- <country or UNK>-<first 12 hex of sha256>
    load_seq          BIGINT NOT NULL,      -- order of arrival; later wins for the same years
    source            VARCHAR NOT NULL,     -- member_state (a submission) or published (dataUNODC)
    country           VARCHAR,              -- ISO 3166-1 alpha-3; NULL when unreadable
    year_from         INTEGER,
    year_to           INTEGER,
    file_name         VARCHAR NOT NULL,
    file_format       VARCHAR,
    sha256            VARCHAR NOT NULL,
    size_bytes        BIGINT,
    received_at       TIMESTAMP NOT NULL,
    run_id            VARCHAR,
    status            VARCHAR NOT NULL,     -- accepted, accepted_with_warnings, held, rejected
    institution       VARCHAR,
    contact_email     VARCHAR,
    language          VARCHAR,
    template_version  VARCHAR,
    rows_loaded       BIGINT NOT NULL,
    errors            INTEGER NOT NULL,
    warnings          INTEGER NOT NULL,
    supersedes        VARCHAR[],            -- earlier submissions whose years this one replaces
    superseded_by     VARCHAR,              -- set once every year of this one is replaced
    superseded_at     TIMESTAMP,
    report_dir        VARCHAR
);

-- Which (country, year) each accepted submission covers: the basis of the current views.
CREATE TABLE IF NOT EXISTS submission_years (
    submission_id  VARCHAR NOT NULL,
    country        VARCHAR NOT NULL,
    year           INTEGER NOT NULL,
    load_seq       BIGINT NOT NULL,
    loaded_at      TIMESTAMP NOT NULL
);

-- Fact tables: the submitted tables as loaded, each row with its submission and its line in
-- the submitter's file. Codes as in schemas/codelists.py.
CREATE TABLE IF NOT EXISTS fact_victims (
    submission_id  VARCHAR NOT NULL,
    source_line    INTEGER,
    year           INTEGER NOT NULL,
    sex            VARCHAR NOT NULL,
    age            VARCHAR NOT NULL,
    form           VARCHAR NOT NULL,
    citizenship    VARCHAR NOT NULL,
    count          BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS fact_offenders (
    submission_id  VARCHAR NOT NULL,
    source_line    INTEGER,
    year           INTEGER NOT NULL,
    stage          VARCHAR NOT NULL,
    sex            VARCHAR NOT NULL,
    age            VARCHAR NOT NULL,
    citizenship    VARCHAR NOT NULL,
    form           VARCHAR NOT NULL,
    count          BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS fact_repatriated (
    submission_id         VARCHAR NOT NULL,
    source_line           INTEGER,
    year                  INTEGER NOT NULL,
    country_of_detection  VARCHAR NOT NULL,
    sex                   VARCHAR NOT NULL,
    age                   VARCHAR NOT NULL,
    count                 BIGINT NOT NULL
);

-- One row per case; no names or personal identifiers (validation rejects them).
CREATE TABLE IF NOT EXISTS fact_organ_removal_cases (
    submission_id                   VARCHAR NOT NULL,
    source_line                     INTEGER,
    case_reference                  VARCHAR NOT NULL,
    year                            INTEGER NOT NULL,
    stage                           VARCHAR NOT NULL,
    victims_total                   BIGINT NOT NULL,
    victims_female                  BIGINT,
    victims_male                    BIGINT,
    victims_children                BIGINT,
    victims_citizenship             VARCHAR[],
    material_removed                VARCHAR[],
    recruitment_countries           VARCHAR[],
    removal_countries               VARCHAR[],
    recipient_countries             VARCHAR[],
    medical_professionals_involved  VARCHAR,
    court_decision_reference        VARCHAR,
    summary                         VARCHAR
);

-- Every finding of every submission, as its report shows it.
CREATE TABLE IF NOT EXISTS validation_findings (
    submission_id  VARCHAR NOT NULL,
    run_id         VARCHAR,
    severity       VARCHAR NOT NULL,
    rule           VARCHAR NOT NULL,
    table_name     VARCHAR,
    source         VARCHAR,
    line           INTEGER,
    column_name    VARCHAR,
    cell           VARCHAR,
    value          VARCHAR,
    message        VARCHAR NOT NULL,  -- the English rendering, for analysts; `params` is the data
    file_kind      VARCHAR,           -- sheet or csv
    column_position INTEGER,
    params         JSON               -- the rule's parameters (schemas.findings.Finding.params)
);
ALTER TABLE validation_findings ADD COLUMN IF NOT EXISTS file_kind VARCHAR;
ALTER TABLE validation_findings ADD COLUMN IF NOT EXISTS column_position INTEGER;
ALTER TABLE validation_findings ADD COLUMN IF NOT EXISTS params JSON;

-- A submission held for confirmation (status `held`, `glotip release` / `glotip reject`): the
-- data team's decision and when it was taken.
ALTER TABLE submissions ADD COLUMN IF NOT EXISTS held_decision VARCHAR;   -- released, rejected
ALTER TABLE submissions ADD COLUMN IF NOT EXISTS held_decided_at TIMESTAMP;

-- Columns added for the published dataUNODC import (warehouse/published.py,
-- docs/published-data.md). They sit here rather than in 003_published.sql because the views of
-- 002_views.sql read them and DuckDB binds a view when it is created. ADD COLUMN IF NOT EXISTS
-- brings an older warehouse up to date; member-state rows get the defaults (not suppressed,
-- bounds NULL: the views read them as the exact count).
ALTER TABLE submissions ADD COLUMN IF NOT EXISTS published_as_of DATE;  -- export date; published only

ALTER TABLE fact_victims ALTER COLUMN count DROP NOT NULL;              -- NULL when not exact (`<5`)
ALTER TABLE fact_victims ADD COLUMN IF NOT EXISTS suppressed BOOLEAN DEFAULT false;
ALTER TABLE fact_victims ADD COLUMN IF NOT EXISTS count_min BIGINT;     -- bounds of a suppressed
ALTER TABLE fact_victims ADD COLUMN IF NOT EXISTS count_max BIGINT;     -- count (`<5`: 1 and 4)
ALTER TABLE fact_victims ADD COLUMN IF NOT EXISTS category_text VARCHAR; -- published Category text

ALTER TABLE fact_offenders ALTER COLUMN count DROP NOT NULL;
ALTER TABLE fact_offenders ADD COLUMN IF NOT EXISTS suppressed BOOLEAN DEFAULT false;
ALTER TABLE fact_offenders ADD COLUMN IF NOT EXISTS count_min BIGINT;
ALTER TABLE fact_offenders ADD COLUMN IF NOT EXISTS count_max BIGINT;
ALTER TABLE fact_offenders ADD COLUMN IF NOT EXISTS category_text VARCHAR;

-- Published repatriation rows name the other country of the repatriation but not its
-- direction: country_of_detection stays NULL for them, country_of_repatriation holds it.
ALTER TABLE fact_repatriated ALTER COLUMN count DROP NOT NULL;
ALTER TABLE fact_repatriated ALTER COLUMN country_of_detection DROP NOT NULL;
ALTER TABLE fact_repatriated ADD COLUMN IF NOT EXISTS country_of_repatriation VARCHAR;
ALTER TABLE fact_repatriated ADD COLUMN IF NOT EXISTS suppressed BOOLEAN DEFAULT false;
ALTER TABLE fact_repatriated ADD COLUMN IF NOT EXISTS count_min BIGINT;
ALTER TABLE fact_repatriated ADD COLUMN IF NOT EXISTS count_max BIGINT;
ALTER TABLE fact_repatriated ADD COLUMN IF NOT EXISTS category_text VARCHAR;

-- What a record of UNODC's case-law database holds beyond the first organ-removal columns
-- (schemas/tables.py, OrganRemovalCasesModel; `glotip case-law`): optional in a submission, so
-- NULL for cases loaded before they existed. Here for the same reason as above: the view reads them.
ALTER TABLE fact_organ_removal_cases ADD COLUMN IF NOT EXISTS offenders_total BIGINT;
ALTER TABLE fact_organ_removal_cases ADD COLUMN IF NOT EXISTS offenders_female BIGINT;
ALTER TABLE fact_organ_removal_cases ADD COLUMN IF NOT EXISTS offenders_male BIGINT;
ALTER TABLE fact_organ_removal_cases ADD COLUMN IF NOT EXISTS offenders_citizenship VARCHAR[];
ALTER TABLE fact_organ_removal_cases ADD COLUMN IF NOT EXISTS court VARCHAR;
ALTER TABLE fact_organ_removal_cases ADD COLUMN IF NOT EXISTS decision_date DATE;
ALTER TABLE fact_organ_removal_cases ADD COLUMN IF NOT EXISTS outcome VARCHAR;
