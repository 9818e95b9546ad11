-- Question: Which origin regions do the victims detected in each destination region come from (main origins and their shares), per year?
-- Params: year=, grouping=, top=3
-- `detection` perspective; the share is of the victims detected in the destination region
-- whose origin is a known country. Domestic victims count under their own region.
WITH by_origin AS (
    SELECT destination_region, year, coalesce(origin_region, 'Unclassified') AS origin_region,
           sum(count) AS victims,
           count(*) FILTER (WHERE suppressed) AS suppressed_cells
    FROM flows_in(coalesce($grouping, (SELECT min(grouping) FROM active_grouping)))
    WHERE perspective = 'detection' AND ($year IS NULL OR year = CAST($year AS INTEGER))
    GROUP BY ALL
), ranked AS (
    SELECT *, round(victims / sum(victims) OVER (PARTITION BY destination_region, year), 4) AS share,
           row_number() OVER (PARTITION BY destination_region, year ORDER BY victims DESC NULLS LAST, origin_region) AS rank
    FROM by_origin
)
SELECT destination_region, year, rank, origin_region, victims::BIGINT AS victims, share, suppressed_cells
FROM ranked
WHERE rank <= CAST(coalesce($top, '3') AS INTEGER)
ORDER BY year, destination_region, rank;
