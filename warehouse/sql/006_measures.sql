-- The measures of detected victims, defined once: one row per country and year, read by the
-- standard queries (warehouse/queries/) and by the drafting pack's tables and charts
-- (reporting/drafting_pack.py), so that a total or a share is the same number everywhere.
-- Idempotent (run on every write connection; copied into the analysts' snapshot; built on
-- `victims`, so `use_as_of` shadows it with the rest).
--
-- From the cells with citizenship `total`:
--  total       the largest of the reported total and of each breakdown's sum (by sex, by age,
--              by sex and age, by form): a breakdown adding up to more than the reported total
--              raises it, so every breakdown below adds up to `total` exactly.
--  female, male  the larger of the reported margin and the sum of its sex x age cells;
--              child, adult likewise. `sex_other_or_unknown`, `age_unknown`: the rest of `total`.
--  girls, boys, women, men  the sex x age cells (female child, ...); `other_or_unknown`: the
--              rest of `total` (other or unknown sex or age).
--  one column per form of exploitation (codelist `form`; `other` is "other forms of
--              exploitation"); `form_unknown`: the rest of `total` (reported as unknown, or not
--              reported); `other_purposes`: `total` minus the three SDG 16.2.2 forms.
-- A breakdown the country did not report, or reported with a cell published as `<5` (no
-- exact count), counts as not reported (`reported_sex`, `reported_age`, `reported_sex_age`,
-- `reported_form` false): its categories are NULL ("not reported", never 0) and its victims
-- are other or unknown (`other_or_unknown`, `sex_other_or_unknown`, `age_unknown`,
-- `form_unknown`, `other_purposes` take the whole total). Within a reported breakdown, a
-- category without a cell counts 0. `total` is taken from the reported breakdowns only.
--  known_sex_age = girls + boys + women + men; known_form = the forms other than unknown: the
--              denominators of the shares (a share is of the victims whose sex and age, or
--              form, is known, in the countries that report that breakdown).
--  exact       the total is an exact number (its cell was not published as `<5`, nor is it a
--              sum with such a part): only exact country-years are added into regional figures
--              (a sum with a `<5` part is not a number). `suppressed_cells` counts the hidden
--              cells of the country's year.
CREATE OR REPLACE VIEW victim_measures AS
WITH cells AS (
    SELECT country, year, sex, age, form, count, suppressed OR count IS NULL AS hidden  -- `<5`: no count
    FROM victims
    WHERE citizenship = 'total'
), sex_margins AS (  -- each sex: the larger of its margin and the sum of its sex x age cells
    SELECT country, year,
           sum(victims) FILTER (WHERE sex = 'female') AS female,
           sum(victims) FILTER (WHERE sex = 'male') AS male,
           sum(victims) AS sex_sum
    FROM (SELECT country, year, sex,
                 greatest(sum(count) FILTER (WHERE age = 'total'), sum(count) FILTER (WHERE age <> 'total')) AS victims
          FROM cells WHERE form = 'total' AND sex <> 'total'
          GROUP BY country, year, sex)
    GROUP BY country, year
), age_margins AS (  -- each age group, likewise
    SELECT country, year,
           sum(victims) FILTER (WHERE age = 'child') AS child,
           sum(victims) FILTER (WHERE age = 'adult') AS adult,
           sum(victims) AS age_sum
    FROM (SELECT country, year, age,
                 greatest(sum(count) FILTER (WHERE sex = 'total'), sum(count) FILTER (WHERE sex <> 'total')) AS victims
          FROM cells WHERE form = 'total' AND age <> 'total'
          GROUP BY country, year, age)
    GROUP BY country, year
), reported AS (
    SELECT country, year,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'total') AS reported_total,
           sum(count) FILTER (WHERE sex = 'female' AND age = 'child' AND form = 'total') AS girls,
           sum(count) FILTER (WHERE sex = 'male' AND age = 'child' AND form = 'total') AS boys,
           sum(count) FILTER (WHERE sex = 'female' AND age = 'adult' AND form = 'total') AS women,
           sum(count) FILTER (WHERE sex = 'male' AND age = 'adult' AND form = 'total') AS men,
           sum(count) FILTER (WHERE sex <> 'total' AND age <> 'total' AND form = 'total') AS sex_age_sum,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'sexual_exploitation') AS sexual_exploitation,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'forced_labour') AS forced_labour,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'removal_of_organs') AS removal_of_organs,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'forced_marriage') AS forced_marriage,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'forced_begging') AS forced_begging,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'forced_criminal_activity') AS forced_criminal_activity,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'illegal_adoption') AS illegal_adoption,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'mixed') AS mixed,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'other') AS other,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form NOT IN ('total', 'unknown')) AS known_forms_sum,
           sum(count) FILTER (WHERE sex = 'total' AND age = 'total' AND form <> 'total') AS forms_sum,
           -- a breakdown counts as reported when it has cells and none of them is hidden (`<5`)
           bool_or(sex <> 'total' AND form = 'total')
               AND NOT coalesce(bool_or(hidden) FILTER (WHERE sex <> 'total' AND form = 'total'), false) AS reported_sex,
           bool_or(age <> 'total' AND form = 'total')
               AND NOT coalesce(bool_or(hidden) FILTER (WHERE age <> 'total' AND form = 'total'), false) AS reported_age,
           bool_or(sex <> 'total' AND age <> 'total' AND form = 'total')
               AND NOT coalesce(bool_or(hidden) FILTER (WHERE sex <> 'total' AND age <> 'total' AND form = 'total'), false)
               AS reported_sex_age,
           bool_or(sex = 'total' AND age = 'total' AND form <> 'total')
               AND NOT coalesce(bool_or(hidden) FILTER (WHERE sex = 'total' AND age = 'total' AND form <> 'total'), false)
               AS reported_form,
           coalesce(bool_or(hidden) FILTER (WHERE sex = 'total' AND age = 'total' AND form = 'total'), false) AS total_hidden,
           count(*) FILTER (WHERE hidden) AS suppressed_cells
    FROM cells
    GROUP BY country, year
), measured AS (
    SELECT r.*, s.female, s.male, a.child, a.adult,
           greatest(r.reported_total, CASE WHEN r.reported_sex THEN s.sex_sum END,
                    CASE WHEN r.reported_age THEN a.age_sum END, CASE WHEN r.reported_sex_age THEN r.sex_age_sum END,
                    CASE WHEN r.reported_form THEN r.forms_sum END) AS total
    FROM reported AS r
    LEFT JOIN sex_margins AS s USING (country, year)
    LEFT JOIN age_margins AS a USING (country, year)
)
SELECT country, year, total::BIGINT AS total,
       -- by sex and age
       CASE WHEN reported_sex_age THEN coalesce(girls, 0) END::BIGINT AS girls,
       CASE WHEN reported_sex_age THEN coalesce(boys, 0) END::BIGINT AS boys,
       CASE WHEN reported_sex_age THEN coalesce(women, 0) END::BIGINT AS women,
       CASE WHEN reported_sex_age THEN coalesce(men, 0) END::BIGINT AS men,
       (total - CASE WHEN reported_sex_age THEN coalesce(girls, 0) + coalesce(boys, 0) + coalesce(women, 0)
                                                + coalesce(men, 0) ELSE 0 END)::BIGINT AS other_or_unknown,
       CASE WHEN reported_sex_age THEN coalesce(girls, 0) + coalesce(boys, 0) + coalesce(women, 0)
                                       + coalesce(men, 0) END::BIGINT AS known_sex_age,
       -- by sex
       CASE WHEN reported_sex THEN coalesce(female, 0) END::BIGINT AS female,
       CASE WHEN reported_sex THEN coalesce(male, 0) END::BIGINT AS male,
       (total - CASE WHEN reported_sex THEN coalesce(female, 0) + coalesce(male, 0) ELSE 0 END)::BIGINT AS sex_other_or_unknown,
       -- by age
       CASE WHEN reported_age THEN coalesce(child, 0) END::BIGINT AS child,
       CASE WHEN reported_age THEN coalesce(adult, 0) END::BIGINT AS adult,
       (total - CASE WHEN reported_age THEN coalesce(child, 0) + coalesce(adult, 0) ELSE 0 END)::BIGINT AS age_unknown,
       -- by form
       CASE WHEN reported_form THEN coalesce(sexual_exploitation, 0) END::BIGINT AS sexual_exploitation,
       CASE WHEN reported_form THEN coalesce(forced_labour, 0) END::BIGINT AS forced_labour,
       CASE WHEN reported_form THEN coalesce(removal_of_organs, 0) END::BIGINT AS removal_of_organs,
       CASE WHEN reported_form THEN coalesce(forced_marriage, 0) END::BIGINT AS forced_marriage,
       CASE WHEN reported_form THEN coalesce(forced_begging, 0) END::BIGINT AS forced_begging,
       CASE WHEN reported_form THEN coalesce(forced_criminal_activity, 0) END::BIGINT AS forced_criminal_activity,
       CASE WHEN reported_form THEN coalesce(illegal_adoption, 0) END::BIGINT AS illegal_adoption,
       CASE WHEN reported_form THEN coalesce(mixed, 0) END::BIGINT AS mixed,
       CASE WHEN reported_form THEN coalesce(other, 0) END::BIGINT AS other,
       (total - CASE WHEN reported_form THEN coalesce(known_forms_sum, 0) ELSE 0 END)::BIGINT AS form_unknown,
       (total - CASE WHEN reported_form THEN coalesce(sexual_exploitation, 0) + coalesce(forced_labour, 0)
                                             + coalesce(removal_of_organs, 0) ELSE 0 END)::BIGINT AS other_purposes,
       CASE WHEN reported_form THEN coalesce(known_forms_sum, 0) END::BIGINT AS known_form,
       coalesce(reported_sex, false) AS reported_sex, coalesce(reported_age, false) AS reported_age,
       coalesce(reported_sex_age, false) AS reported_sex_age, coalesce(reported_form, false) AS reported_form,
       suppressed_cells, NOT total_hidden AND total IS NOT NULL AS exact
FROM measured;
