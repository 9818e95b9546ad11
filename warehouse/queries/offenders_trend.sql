-- Question: How many persons were prosecuted and convicted each year, and what share of those convicted were women?
-- Params: year=
-- Grand totals (sex, age, citizenship and form `total`). The share of women is over the
-- convicted of known sex (female + male) in the countries that report that breakdown.
WITH per_country AS (
    SELECT country, year,
           sum(count) FILTER (WHERE stage = 'prosecuted' AND sex = 'total') AS prosecuted,
           sum(count) FILTER (WHERE stage = 'convicted' AND sex = 'total') AS convicted,
           sum(count) FILTER (WHERE stage = 'convicted' AND sex = 'female') AS convicted_women,
           sum(count) FILTER (WHERE stage = 'convicted' AND sex = 'male') AS convicted_men,
           count(*) FILTER (WHERE count IS NULL) AS suppressed_cells
    FROM offenders
    WHERE age = 'total' AND citizenship = 'total' AND form = 'total'
      AND ($year IS NULL OR year = CAST($year AS INTEGER))
    GROUP BY country, year
)
SELECT year,
       sum(prosecuted)::BIGINT AS prosecuted,
       count(prosecuted) AS countries_prosecuted,
       sum(convicted)::BIGINT AS convicted,
       count(convicted) AS countries_convicted,
       sum(convicted_women) FILTER (WHERE convicted_men IS NOT NULL)::BIGINT AS convicted_women,
       sum(convicted_men) FILTER (WHERE convicted_women IS NOT NULL)::BIGINT AS convicted_men,
       round(sum(convicted_women) FILTER (WHERE convicted_men IS NOT NULL)
             / sum(convicted_women + convicted_men), 4) AS women_share_of_convicted,
       sum(suppressed_cells)::BIGINT AS suppressed_cells
FROM per_country
GROUP BY year
ORDER BY year;
