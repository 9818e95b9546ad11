-- Analysts' views: the current data, one row per submitted cell, with the reporting country
-- and the submission it came from. For each (country, year) the latest accepted submission
-- that covers that year is current; earlier ones stay in the fact tables.

CREATE OR REPLACE VIEW current_country_years AS
SELECT sy.country, sy.year, arg_max(sy.submission_id, sy.load_seq) AS submission_id
FROM submission_years AS sy
JOIN submissions AS s USING (submission_id)
WHERE s.status IN ('accepted', 'accepted_with_warnings')
GROUP BY sy.country, sy.year;

CREATE OR REPLACE VIEW victims AS
SELECT c.country, f.year, f.sex, f.age, f.form, f.citizenship, f.count, f.submission_id
FROM fact_victims AS f
JOIN current_country_years AS c ON c.submission_id = f.submission_id AND c.year = f.year;

CREATE OR REPLACE VIEW offenders AS
SELECT c.country, f.year, f.stage, f.sex, f.age, f.citizenship, f.form, f.count, f.submission_id
FROM fact_offenders AS f
JOIN current_country_years AS c ON c.submission_id = f.submission_id AND c.year = f.year;

CREATE OR REPLACE VIEW repatriated AS
SELECT c.country, f.year, f.country_of_detection, f.sex, f.age, f.count, f.submission_id
FROM fact_repatriated AS f
JOIN current_country_years AS c ON c.submission_id = f.submission_id AND c.year = f.year;

CREATE OR REPLACE VIEW organ_removal_cases AS
SELECT c.country, f.year, f.case_reference, f.stage, f.victims_total, f.victims_female,
       f.victims_male, f.victims_children, f.victims_citizenship, f.material_removed,
       f.recruitment_countries, f.removal_countries, f.recipient_countries,
       f.medical_professionals_involved, f.court_decision_reference, f.summary, f.submission_id
FROM fact_organ_removal_cases AS f
JOIN current_country_years AS c ON c.submission_id = f.submission_id AND c.year = f.year;
