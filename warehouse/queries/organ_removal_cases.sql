-- Question: How many cases of trafficking for organ removal were reported, which countries were involved and did medical professionals take part, per year?
-- Params: year=
-- Countries involved: the reporting country and every country of citizenship, recruitment,
-- removal or recipients named in a case.
WITH cases AS (
    SELECT *, list_distinct(flatten([[country], coalesce(victims_citizenship, []),
                                     coalesce(recruitment_countries, []), coalesce(removal_countries, []),
                                     coalesce(recipient_countries, [])])) AS involved
    FROM organ_removal_cases
    WHERE $year IS NULL OR year = CAST($year AS INTEGER)
)
SELECT year,
       count(*) AS cases,
       sum(victims_total)::BIGINT AS victims,
       count(DISTINCT country) AS reporting_countries,
       array_to_string(list_sort(list_distinct(flatten(list(list_filter(involved, lambda c: c NOT IN ('total', 'unknown')))))), '; ') AS countries_involved,
       array_to_string(list_sort(list_distinct(flatten(list(list_filter(coalesce(removal_countries, []), lambda c: c NOT IN ('total', 'unknown')))))), '; ') AS removal_countries,
       count(*) FILTER (WHERE medical_professionals_involved = 'yes') AS medical_professionals_yes,
       count(*) FILTER (WHERE medical_professionals_involved = 'no') AS medical_professionals_no,
       count(*) FILTER (WHERE medical_professionals_involved = 'unknown') AS medical_professionals_unknown
FROM cases
GROUP BY year
ORDER BY year;
