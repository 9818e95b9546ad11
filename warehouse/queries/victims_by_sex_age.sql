-- Question: How many victims were detected, by sex and age (girls, boys, women, men), per region and year?
-- Params: year=, grouping=
-- Cells with form and citizenship `total`. `total_victims` is the reported grand total (it may
-- include victims of unknown sex or age); shares are over victims of known sex and age.
-- `suppressed_cells` counts cells published as `<5` (no count), never added as 0.
WITH per_country AS (
    SELECT country, year,
           sum(count) FILTER (WHERE sex = 'female' AND age = 'child') AS girls,
           sum(count) FILTER (WHERE sex = 'male' AND age = 'child') AS boys,
           sum(count) FILTER (WHERE sex = 'female' AND age = 'adult') AS women,
           sum(count) FILTER (WHERE sex = 'male' AND age = 'adult') AS men,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total') AS total_victims,
           count(*) FILTER (WHERE count IS NULL) AS suppressed_cells
    FROM victims
    WHERE form = 'total' AND citizenship = 'total'
      AND ($year IS NULL OR year = CAST($year AS INTEGER))
    GROUP BY country, year
), by_region AS (
    SELECT coalesce(r.region, 'Unclassified') AS region, p.*
    FROM per_country AS p
    LEFT JOIN country_regions_in(coalesce($grouping, (SELECT min(grouping) FROM active_grouping))) AS r
           ON r.country = p.country
)
SELECT CASE WHEN grouping(region) = 1 THEN 'World' ELSE region END AS region, year,
       count(DISTINCT country) AS countries,
       sum(girls)::BIGINT AS girls, sum(boys)::BIGINT AS boys,
       sum(women)::BIGINT AS women, sum(men)::BIGINT AS men,
       sum(total_victims)::BIGINT AS total_victims,
       sum(suppressed_cells)::BIGINT AS suppressed_cells,
       round(sum(girls) / nullif(sum(coalesce(girls, 0) + coalesce(boys, 0) + coalesce(women, 0) + coalesce(men, 0)), 0), 4) AS girls_share,
       round(sum(boys) / nullif(sum(coalesce(girls, 0) + coalesce(boys, 0) + coalesce(women, 0) + coalesce(men, 0)), 0), 4) AS boys_share,
       round(sum(women) / nullif(sum(coalesce(girls, 0) + coalesce(boys, 0) + coalesce(women, 0) + coalesce(men, 0)), 0), 4) AS women_share,
       round(sum(men) / nullif(sum(coalesce(girls, 0) + coalesce(boys, 0) + coalesce(women, 0) + coalesce(men, 0)), 0), 4) AS men_share
FROM by_region
GROUP BY GROUPING SETS ((region, year), (year))
ORDER BY year, grouping(region), region;
