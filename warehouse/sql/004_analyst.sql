-- The analysts' layer: country dimension, regional groupings, flows, population and
-- as-of support. Idempotent (run on every write connection). The reference rows are filled by
-- warehouse/publish.py `refresh_reference_tables` from schemas/reference/ (one source of truth).

-- Countries: ISO 3166-1 alpha-3 with names and UN M49 regions (from schemas/reference/countries.csv).
CREATE TABLE IF NOT EXISTS dim_country (
    iso3                 VARCHAR NOT NULL,
    iso2                 VARCHAR,
    m49_code             VARCHAR,
    name                 VARCHAR NOT NULL,
    official_name        VARCHAR,
    region               VARCHAR,     -- M49 region
    subregion            VARCHAR,     -- M49 subregion
    intermediate_region  VARCHAR,
    glotip_region        VARCHAR,     -- Global Report grouping
    glotip_subregion     VARCHAR
);

-- Regional groupings, several side by side: `m49` and `glotip` are built from dim_country;
-- analysts load their own with `glotip load-grouping NAME FILE`.
CREATE TABLE IF NOT EXISTS region_groupings (
    grouping   VARCHAR NOT NULL,
    country    VARCHAR NOT NULL,      -- ISO3
    region     VARCHAR NOT NULL,
    subregion  VARCHAR
);

-- The grouping the `country_regions` and `flows` views use (one row; `m49` by default).
CREATE TABLE IF NOT EXISTS active_grouping (
    grouping  VARCHAR NOT NULL
);

-- Population for SDG 16.2.2 rates (total population by country and year).
CREATE TABLE IF NOT EXISTS population (
    country     VARCHAR NOT NULL,     -- ISO3
    year        INTEGER NOT NULL,
    population  BIGINT NOT NULL,
    source      VARCHAR NOT NULL
);

CREATE OR REPLACE VIEW countries AS
SELECT iso3 AS country, name, official_name, iso2, m49_code, region, subregion,
       intermediate_region, glotip_region, glotip_subregion
FROM dim_country;

-- Each country's region and subregion under a grouping.
CREATE OR REPLACE MACRO country_regions_in(grouping_name) AS TABLE
SELECT g.country, c.name, g.region, g.subregion, g.grouping
FROM region_groupings AS g LEFT JOIN dim_country AS c ON c.iso3 = g.country
WHERE g.grouping = grouping_name;

CREATE OR REPLACE VIEW country_regions AS
SELECT * FROM country_regions_in((SELECT min(grouping) FROM active_grouping));

-- Origin -> destination flows of detected victims, one row per reported cell:
--  perspective `detection`: a country of detection reports victims by citizenship (origin);
--  perspective `repatriation`: a country of origin reports its nationals repatriated from a
--  country of detection. The two describe the same victims from two ends: never add them up.
-- Only the cells whose other breakdowns are `total` (sex, age, form) and whose other country is
-- an ISO3 code (not `total`, `unknown`, or the published data's `unresolved` / `abroad`). `suppressed` is true where the count was published
-- as `<5` (count NULL).
CREATE OR REPLACE MACRO flows_in(grouping_name) AS TABLE
WITH cells AS (
    SELECT 'detection' AS perspective, year, citizenship AS origin, country AS destination,
           country AS reporting_country, count, submission_id
    FROM victims
    WHERE sex = 'total' AND age = 'total' AND form = 'total'
      AND regexp_full_match(citizenship, '[A-Z]{3}')
    UNION ALL
    SELECT 'repatriation', year, country, country_of_detection, country, count, submission_id
    FROM repatriated
    WHERE sex = 'total' AND age = 'total' AND regexp_full_match(country_of_detection, '[A-Z]{3}')
), groups AS (
    SELECT * FROM region_groupings WHERE grouping = grouping_name
)
SELECT f.perspective, f.year, f.origin, f.destination, f.count, f.count IS NULL AS suppressed,
       o.region AS origin_region, o.subregion AS origin_subregion,
       d.region AS destination_region, d.subregion AS destination_subregion,
       CASE WHEN f.origin = f.destination THEN 'domestic'
            WHEN o.region IS NULL OR d.region IS NULL THEN 'unclassified'
            WHEN o.region = d.region THEN 'intra_regional'
            ELSE 'trans_regional' END AS flow_type,
       CASE WHEN f.origin = f.destination THEN 'domestic'
            WHEN o.subregion IS NULL OR d.subregion IS NULL THEN 'unclassified'
            WHEN o.subregion = d.subregion THEN 'intra_regional'
            ELSE 'trans_regional' END AS flow_type_subregion,
       grouping_name AS grouping, f.reporting_country, f.submission_id
FROM cells AS f
LEFT JOIN groups AS o ON o.country = f.origin
LEFT JOIN groups AS d ON d.country = f.destination;

CREATE OR REPLACE VIEW flows AS
SELECT * FROM flows_in((SELECT min(grouping) FROM active_grouping));

-- Origin region x destination region, with each origin region's share of the victims detected
-- in the destination region (shares over cells with a known count).
CREATE OR REPLACE VIEW flows_by_region AS
SELECT perspective, year, destination_region, origin_region,
       sum(count) AS victims,
       count(*) FILTER (WHERE suppressed) AS suppressed_cells,
       count(DISTINCT destination) AS destination_countries,
       sum(count) / sum(sum(count)) OVER (PARTITION BY perspective, year, destination_region) AS share
FROM flows
GROUP BY perspective, year, destination_region, origin_region;

-- As of a past moment: the (country, year) -> submission that was current then. Shadow the
-- current view in a session to see every view as it was (warehouse/publish.py `use_as_of`):
--   CREATE TEMP VIEW current_country_years AS
--   SELECT * FROM current_country_years_as_of(TIMESTAMP '2025-01-31 00:00:00');
CREATE OR REPLACE MACRO current_country_years_as_of(as_of) AS TABLE
-- The rule of 002_views.sql `current_country_years`, over what was loaded by then.
WITH loaded AS (
    SELECT sy.*, s.source, s.published_as_of
    FROM main.submission_years AS sy
    JOIN main.submissions AS s USING (submission_id)
    WHERE s.status IN ('accepted', 'accepted_with_warnings') AND sy.loaded_at <= as_of
), newest_export AS (
    SELECT country, arg_max(submission_id, (published_as_of, load_seq)) AS submission_id
    FROM loaded WHERE source = 'published'
    GROUP BY country
)
SELECT l.country, l.year, arg_max(l.submission_id, l.load_seq) AS submission_id
FROM loaded AS l
LEFT JOIN newest_export AS n ON n.country = l.country
WHERE l.source <> 'published' OR l.submission_id = n.submission_id
GROUP BY l.country, l.year;
