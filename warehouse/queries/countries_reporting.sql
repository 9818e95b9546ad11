-- Question: How many countries reported data each year (coverage), on victims, on offenders and on either?
-- Params: year=
SELECT year,
       count(DISTINCT country) FILTER (WHERE kind = 'victims') AS countries_reporting_victims,
       count(DISTINCT country) FILTER (WHERE kind = 'offenders') AS countries_reporting_offenders,
       count(DISTINCT country) AS countries_reporting_any
FROM (SELECT DISTINCT country, year, 'victims' AS kind FROM victims
      UNION ALL
      SELECT DISTINCT country, year, 'offenders' FROM offenders)
WHERE $year IS NULL OR year = CAST($year AS INTEGER)
GROUP BY year
ORDER BY year;
