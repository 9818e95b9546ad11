-- Question: What did each country report for a year: victims in total, by sex, by age, by sex and age (girls, boys, women, men) and by the SDG 16.2.2 forms?
-- Params: year=, grouping=
-- One row per country and year (cells with citizenship `total`); an empty value was not
-- reported. The basis of the drafting pack's country tables and of SDG 16.2.2.
SELECT v.country, coalesce(c.name, v.country) AS name, coalesce(r.region, 'Unclassified') AS region, v.year,
       sum(v.count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'total')::BIGINT AS total,
       sum(v.count) FILTER (WHERE sex = 'female' AND age = 'total' AND form = 'total')::BIGINT AS female,
       sum(v.count) FILTER (WHERE sex = 'male' AND age = 'total' AND form = 'total')::BIGINT AS male,
       sum(v.count) FILTER (WHERE sex = 'total' AND age = 'child' AND form = 'total')::BIGINT AS child,
       sum(v.count) FILTER (WHERE sex = 'total' AND age = 'adult' AND form = 'total')::BIGINT AS adult,
       sum(v.count) FILTER (WHERE sex = 'female' AND age = 'child' AND form = 'total')::BIGINT AS girls,
       sum(v.count) FILTER (WHERE sex = 'male' AND age = 'child' AND form = 'total')::BIGINT AS boys,
       sum(v.count) FILTER (WHERE sex = 'female' AND age = 'adult' AND form = 'total')::BIGINT AS women,
       sum(v.count) FILTER (WHERE sex = 'male' AND age = 'adult' AND form = 'total')::BIGINT AS men,
       sum(v.count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'sexual_exploitation')::BIGINT AS sexual_exploitation,
       sum(v.count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'forced_labour')::BIGINT AS forced_labour,
       sum(v.count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'removal_of_organs')::BIGINT AS removal_of_organs,
       count(*) FILTER (WHERE v.count IS NULL) AS suppressed_cells
FROM victims AS v
LEFT JOIN countries AS c ON c.country = v.country
LEFT JOIN country_regions_in(coalesce($grouping, (SELECT min(grouping) FROM active_grouping))) AS r
       ON r.country = v.country
WHERE v.citizenship = 'total' AND ($year IS NULL OR v.year = CAST($year AS INTEGER))
GROUP BY ALL
ORDER BY region, v.country, v.year;
