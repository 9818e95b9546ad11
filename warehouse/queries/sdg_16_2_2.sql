-- Question: SDG 16.2.2: how many victims were detected per 100,000 population, by country, year, sex, age and form of exploitation?
-- Params: year=, country=
-- Cells with citizenship `total`. The denominator is the total population of the country and
-- year (table `population`), as in the SDG series; the rate is empty where the population is
-- not known or the count was suppressed.
SELECT v.country, v.year, v.sex, v.age, v.form, v.count AS victims, p.population,
       v.count * 100000.0 / p.population AS victims_per_100k,
       v.count IS NULL AS suppressed
FROM victims AS v
LEFT JOIN population AS p ON p.country = v.country AND p.year = v.year
WHERE v.citizenship = 'total'
  AND ($year IS NULL OR v.year = CAST($year AS INTEGER))
  AND ($country IS NULL OR v.country = upper($country))
ORDER BY v.country, v.year, v.sex, v.age, v.form;
