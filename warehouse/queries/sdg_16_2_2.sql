-- Question: SDG 16.2.2: how many victims were detected per 100,000 population, by country, year, sex, age and form of exploitation?
-- Params: year=, country=
-- The per-country measures of `victim_measures` (warehouse/sql/006_measures.sql), the same
-- figures as the drafting pack's SDG table: the total; by sex (`unknown`: other or unknown
-- sex), by age (`unknown`), by sex and age, each only where the country reported that
-- breakdown; by form: the three SDG forms and `other_purposes` (the rest of the total), where
-- the country reported forms. The denominator is the total population of the country and year
-- (table `population`), as in the SDG series; the rate is empty where the population is not
-- known. `exact` false: a cell of the country's year was published as `<5`, and these figures
-- leave it out (the drafting pack leaves such a country out).
WITH cells AS (
    SELECT m.country, m.year, m.exact, c.sex, c.age, c.form, c.victims
    FROM victim_measures AS m,
    LATERAL (VALUES
        ('total', 'total', 'total', m.total, true),
        ('female', 'total', 'total', m.female, m.reported_sex),
        ('male', 'total', 'total', m.male, m.reported_sex),
        ('unknown', 'total', 'total', m.sex_other_or_unknown, m.reported_sex),
        ('total', 'child', 'total', m.child, m.reported_age),
        ('total', 'adult', 'total', m.adult, m.reported_age),
        ('total', 'unknown', 'total', m.age_unknown, m.reported_age),
        ('female', 'child', 'total', m.girls, m.reported_sex_age),
        ('male', 'child', 'total', m.boys, m.reported_sex_age),
        ('female', 'adult', 'total', m.women, m.reported_sex_age),
        ('male', 'adult', 'total', m.men, m.reported_sex_age),
        ('total', 'total', 'sexual_exploitation', m.sexual_exploitation, m.reported_form),
        ('total', 'total', 'forced_labour', m.forced_labour, m.reported_form),
        ('total', 'total', 'removal_of_organs', m.removal_of_organs, m.reported_form),
        ('total', 'total', 'other_purposes', m.other_purposes, m.reported_form)
    ) AS c(sex, age, form, victims, reported)
    WHERE c.reported
      AND ($year IS NULL OR m.year = CAST($year AS INTEGER))
      AND ($country IS NULL OR m.country = upper($country))
)
SELECT c.country, c.year, c.sex, c.age, c.form, c.victims, p.population,
       c.victims * 100000.0 / p.population AS victims_per_100k, c.exact
FROM cells AS c
LEFT JOIN population AS p ON p.country = c.country AND p.year = c.year
ORDER BY c.country, c.year, c.sex, c.age, c.form;
