-- Analysts' views: the current data, one row per submitted cell, with the reporting country
-- and the submission it came from. For each (country, year) the latest accepted submission
-- that covers that year is current; earlier ones stay in the fact tables.
--
-- Published dataUNODC figures are loaded as one pseudo-submission per (export, country)
-- (`source` = 'published'; docs/published-data.md). Among exports the newest export date
-- containing the country wins whatever the import order; between an export and a Member State submission, the later
-- arrival (load_seq) wins. Columns after `submission_id`: `suppressed` (the count was published
-- as `<5`, or is a sum with such a part: `count` is NULL), `count_min` / `count_max` (bounds of
-- the count; both equal `count` when it is exact), `source`, `published_as_of` (export date),
-- `category_text` (the published text a country code was resolved from).

CREATE OR REPLACE VIEW current_country_years AS
-- Per country, the one published pseudo-submission that counts: the newest export date, and
-- for an export imported again (--force) its latest version. Its years are the published
-- years; a year an older export had but the newest one for that country lacks is withdrawn.
WITH newest_export AS (
    SELECT s.country, arg_max(s.submission_id, (s.published_as_of, s.load_seq)) AS submission_id
    FROM submissions AS s
    WHERE s.source = 'published' AND s.status IN ('accepted', 'accepted_with_warnings')
    GROUP BY s.country
)
SELECT sy.country, sy.year, arg_max(sy.submission_id, sy.load_seq) AS submission_id
FROM submission_years AS sy
JOIN submissions AS s USING (submission_id)
LEFT JOIN newest_export AS n ON n.country = sy.country
WHERE s.status IN ('accepted', 'accepted_with_warnings')
  AND (s.source <> 'published' OR sy.submission_id = n.submission_id)
GROUP BY sy.country, sy.year;

CREATE OR REPLACE VIEW victims AS
SELECT c.country, f.year, f.sex, f.age, f.form, f.citizenship, f.count, f.submission_id,
       coalesce(f.suppressed, false) AS suppressed, coalesce(f.count_min, f.count) AS count_min,
       coalesce(f.count_max, f.count) AS count_max, s.source, s.published_as_of, f.category_text
FROM fact_victims AS f
JOIN current_country_years AS c ON c.submission_id = f.submission_id AND c.year = f.year
JOIN submissions AS s ON s.submission_id = f.submission_id;

CREATE OR REPLACE VIEW offenders AS
SELECT c.country, f.year, f.stage, f.sex, f.age, f.citizenship, f.form, f.count, f.submission_id,
       coalesce(f.suppressed, false) AS suppressed, coalesce(f.count_min, f.count) AS count_min,
       coalesce(f.count_max, f.count) AS count_max, s.source, s.published_as_of, f.category_text
FROM fact_offenders AS f
JOIN current_country_years AS c ON c.submission_id = f.submission_id AND c.year = f.year
JOIN submissions AS s ON s.submission_id = f.submission_id;

CREATE OR REPLACE VIEW repatriated AS
SELECT c.country, f.year, f.country_of_detection, f.sex, f.age, f.count, f.submission_id,
       coalesce(f.suppressed, false) AS suppressed, coalesce(f.count_min, f.count) AS count_min,
       coalesce(f.count_max, f.count) AS count_max, s.source, s.published_as_of,
       f.country_of_repatriation, f.category_text
FROM fact_repatriated AS f
JOIN current_country_years AS c ON c.submission_id = f.submission_id AND c.year = f.year
JOIN submissions AS s ON s.submission_id = f.submission_id;

CREATE OR REPLACE VIEW organ_removal_cases AS
SELECT c.country, f.year, f.case_reference, f.stage, f.victims_total, f.victims_female,
       f.victims_male, f.victims_children, f.victims_citizenship, f.material_removed,
       f.recruitment_countries, f.removal_countries, f.recipient_countries,
       f.medical_professionals_involved, f.court_decision_reference, f.summary, f.submission_id,
       f.offenders_total, f.offenders_female, f.offenders_male, f.offenders_citizenship, f.court,
       f.decision_date, f.outcome
FROM fact_organ_removal_cases AS f
JOIN current_country_years AS c ON c.submission_id = f.submission_id AND c.year = f.year;
