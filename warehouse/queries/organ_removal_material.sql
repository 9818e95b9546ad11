-- Question: What was removed (kidney, liver, tissue, ...) in the cases of trafficking for organ removal, per year?
-- Params: year=
-- A case that removed several things counts once under each.
SELECT year, material, count(*) AS cases, sum(victims_total)::BIGINT AS victims
FROM (SELECT year, victims_total, unnest(material_removed) AS material FROM organ_removal_cases)
WHERE $year IS NULL OR year = CAST($year AS INTEGER)
GROUP BY year, material
ORDER BY year, cases DESC, material;
