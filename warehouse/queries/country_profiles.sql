-- Question: What did each country report for a year: victims in total, by sex, by age, by sex and age (girls, boys, women, men) and by form of exploitation?
-- Params: year=, grouping=
-- One row per country and year: the measures of the view `victim_measures`
-- (warehouse/sql/006_measures.sql), each defined there once: `total` is the largest of the
-- reported total and each breakdown's sum, every breakdown adds up to it (other or unknown
-- takes the rest), a breakdown not reported is empty (never 0), `exact` is false where a cell
-- was published as `<5` (then the figures leave it out). The basis of the drafting pack's
-- country tables, its regional tables (exact countries only) and of SDG 16.2.2.
SELECT m.country, coalesce(c.name, m.country) AS name, coalesce(r.region, 'Unclassified') AS region,
       m.* EXCLUDE (country)
FROM victim_measures AS m
LEFT JOIN countries AS c ON c.country = m.country
LEFT JOIN country_regions_in(coalesce($grouping, (SELECT min(grouping) FROM active_grouping))) AS r
       ON r.country = m.country
WHERE $year IS NULL OR m.year = CAST($year AS INTEGER)
ORDER BY region, m.country, m.year;
