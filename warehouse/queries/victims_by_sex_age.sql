-- Question: How many victims were detected, by sex and age (girls, boys, women, men), per region and year?
-- Params: year=, grouping=
-- Sums of the per-country measures of `victim_measures` (warehouse/sql/006_measures.sql) over
-- the countries whose figures for the year are exact (`countries`); a country with a cell
-- published as `<5` is left out (`countries_left_out`): a sum with such a part is not a number.
-- `total` includes victims of other or unknown sex or age (`other_or_unknown`) and the
-- countries that gave no sex and age breakdown. Shares (one definition, the same in the
-- drafting pack): of the victims whose sex and age are known (girls + boys + women + men), in
-- the countries that report sex and age (`countries_sex_age`).
WITH per_country AS (
    SELECT coalesce(r.region, 'Unclassified') AS region, m.*
    FROM victim_measures AS m
    LEFT JOIN country_regions_in(coalesce($grouping, (SELECT min(grouping) FROM active_grouping))) AS r
           ON r.country = m.country
    WHERE $year IS NULL OR m.year = CAST($year AS INTEGER)
)
SELECT CASE WHEN grouping(region) = 1 THEN 'World' ELSE region END AS region, year,
       count(*) FILTER (WHERE exact) AS countries,
       count(*) FILTER (WHERE exact AND reported_sex_age) AS countries_sex_age,
       count(*) FILTER (WHERE NOT exact) AS countries_left_out,
       sum(girls) FILTER (WHERE exact)::BIGINT AS girls, sum(boys) FILTER (WHERE exact)::BIGINT AS boys,
       sum(women) FILTER (WHERE exact)::BIGINT AS women, sum(men) FILTER (WHERE exact)::BIGINT AS men,
       sum(other_or_unknown) FILTER (WHERE exact)::BIGINT AS other_or_unknown,
       sum(total) FILTER (WHERE exact)::BIGINT AS total,
       round(sum(girls) FILTER (WHERE exact) / nullif(sum(known_sex_age) FILTER (WHERE exact), 0), 4) AS girls_share,
       round(sum(boys) FILTER (WHERE exact) / nullif(sum(known_sex_age) FILTER (WHERE exact), 0), 4) AS boys_share,
       round(sum(women) FILTER (WHERE exact) / nullif(sum(known_sex_age) FILTER (WHERE exact), 0), 4) AS women_share,
       round(sum(men) FILTER (WHERE exact) / nullif(sum(known_sex_age) FILTER (WHERE exact), 0), 4) AS men_share
FROM per_country
GROUP BY GROUPING SETS ((region, year), (year))
ORDER BY year, grouping(region), region;
