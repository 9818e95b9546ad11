-- Question: What share of the victims detected in each region were domestic, intra-regional and trans-regional, per year?
-- Params: year=, grouping=
-- Countries of detection reporting victims by citizenship (`detection` perspective); regions
-- of the grouping (the active one by default).
SELECT destination_region, year,
       count(DISTINCT destination) AS countries,
       sum(count)::BIGINT AS victims,
       sum(count) FILTER (WHERE flow_type = 'domestic')::BIGINT AS domestic,
       sum(count) FILTER (WHERE flow_type = 'intra_regional')::BIGINT AS intra_regional,
       sum(count) FILTER (WHERE flow_type = 'trans_regional')::BIGINT AS trans_regional,
       sum(count) FILTER (WHERE flow_type = 'unclassified')::BIGINT AS unclassified,
       count(*) FILTER (WHERE suppressed) AS suppressed_cells,
       round(sum(count) FILTER (WHERE flow_type = 'domestic') / sum(count), 4) AS domestic_share,
       round(sum(count) FILTER (WHERE flow_type = 'intra_regional') / sum(count), 4) AS intra_regional_share,
       round(sum(count) FILTER (WHERE flow_type = 'trans_regional') / sum(count), 4) AS trans_regional_share
FROM flows_in(coalesce($grouping, (SELECT min(grouping) FROM active_grouping)))
WHERE perspective = 'detection' AND ($year IS NULL OR year = CAST($year AS INTEGER))
GROUP BY destination_region, year
ORDER BY year, destination_region;
