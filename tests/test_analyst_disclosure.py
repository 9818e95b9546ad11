"""Disclosure control: the subtraction attack finds the leaks of UNODC-style `<5` suppression and
none in what `protect` publishes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reporting import disclosure as sdc

DATA = Path(__file__).parent / "data"


def test_attack_recovers_cells_of_unodc_published_export():
    """Real rows of UNODC's export: victims by sex with `<5` cells and their totals."""
    export = pd.read_csv(DATA / "published_victims_by_sex_excerpt.csv", dtype=str)
    relations = sdc.additive_relations(export, "Sex", "Total", ["Iso3_code", "Year"])
    leaks = sdc.find_disclosures(list(export["txtVALUE"]), relations)
    recovered = {(export.at[d.position, "Iso3_code"], export.at[d.position, "Year"],
                  export.at[d.position, "Sex"]): d.value for d in leaks}
    # Armenia 2012: Female 10, Male <5, Total 14 -> Male = 4, by subtraction.
    assert recovered[("ARM", "2012", "Male")] == 4
    # Armenia 2019: Female <5, Male <5, Total 8 -> both are 4 (each at most 4): the bounds attack.
    assert recovered[("ARM", "2019", "Female")] == 4 and recovered[("ARM", "2019", "Male")] == 4
    small = [v for v in recovered.values() if 1 <= v <= 4]
    assert len(small) >= 15  # of the 46 `<5` cells of these two countries
    assert all(export.at[d.position, "txtVALUE"] == "<5" for d in leaks)


def _unodc_like_table(seed: int, countries: int = 40) -> pd.DataFrame:
    """Victims by sex (female, male, other) and their total, per country and year."""
    rng = np.random.default_rng(seed)
    rows = []
    for country in range(countries):
        for year in (2021, 2022):
            parts = {"female": int(rng.choice([0, 1, 2, 3, 4, 6, 9, 25, 80])),
                     "male": int(rng.choice([0, 1, 2, 3, 4, 7, 12, 40])),
                     "other": int(rng.choice([0, 0, 0, 1, 2]))}
            rows += [(f"C{country:02d}", year, sex, count) for sex, count in parts.items()]
            rows.append((f"C{country:02d}", year, "total", sum(parts.values())))
    return pd.DataFrame(rows, columns=["country", "year", "sex", "count"])


def test_primary_suppression_alone_leaks_and_protect_does_not():
    table = _unodc_like_table(seed=7)
    relations = sdc.additive_relations(table, "sex", "total", ["country", "year"])
    leaks = sdc.find_disclosures(sdc.primary_display(table["count"]), relations)
    assert len(leaks) > 10
    for leak in leaks:  # the attack's answers are the true values
        assert leak.value == table.at[leak.position, "count"]

    protected = sdc.protect("victims_by_sex", table, relations)
    assert sdc.find_disclosures(list(protected.frame["display"]), relations) == []
    sdc.check_published(protected)
    shown = protected.frame
    small = shown["count"].between(1, 4)
    assert (shown.loc[small, "display"].isin(["<5", "x"])).all()
    assert (shown.loc[shown["status"] == "published", "display"] == shown.loc[shown["status"] == "published", "count"].astype(int).astype(str)).all()
    assert (shown["status"] == "secondary").sum() > 0


@pytest.mark.parametrize("seed", range(6))
def test_protect_two_dimensional_tables_with_region_totals(seed):
    """Sex x age per country, with regional and world totals: many linked relations."""
    rng = np.random.default_rng(seed)
    rows = []
    regions = {f"C{c}": f"R{c % 3}" for c in range(9)}
    for country in regions:
        cells = {(s, a): int(rng.choice([0, 1, 2, 3, 4, 5, 9, 30])) for s in ("female", "male") for a in ("child", "adult")}
        for s in ("female", "male"):
            cells[(s, "total")] = cells[(s, "child")] + cells[(s, "adult")]
        for a in ("child", "adult", "total"):
            cells[("total", a)] = cells[("female", a)] + cells[("male", a)]
        rows += [(country, s, a, v) for (s, a), v in cells.items()]
    frame = pd.DataFrame(rows, columns=["area", "sex", "age", "count"])
    regional = frame.assign(area=frame["area"].map(regions)).groupby(["area", "sex", "age"], as_index=False)["count"].sum()
    world = regional.groupby(["sex", "age"], as_index=False)["count"].sum().assign(area="World")
    frame = pd.concat([frame, regional, world], ignore_index=True)
    parent_of = regions | {r: "World" for r in set(regions.values())}
    relations = (sdc.additive_relations(frame, "sex", "total", ["area", "age"])
                 + sdc.additive_relations(frame, "age", "total", ["area", "sex"])
                 + sdc.hierarchy_relations(frame, "area", parent_of, ["sex", "age"]))
    protected = sdc.protect("t", frame, relations)
    sdc.check_published(protected)
    assert (protected.frame.loc[frame["count"].between(1, 4), "display"] != protected.frame.loc[frame["count"].between(1, 4), "count"].astype(str)).all()


def test_one_small_cell_costs_one_inner_cell_not_the_total():
    table = pd.DataFrame({"sex": ["female", "male", "total"], "count": [3, 17, 20]})
    relations = sdc.additive_relations(table, "sex", "total", [])
    protected = sdc.protect("t", table, relations)
    assert list(protected.frame["display"]) == ["<5", "x", "20"]


def test_bounds_attack_sees_through_small_cells_that_must_be_ones():
    # Four `<5` parts of a `<5` total: each part is at least 1, so all are 1 and the total is 4.
    display = ["<5", "<5", "<5", "<5", "<5"]
    leaks = sdc.find_disclosures(display, [(4, [0, 1, 2, 3])])
    assert {d.position: d.value for d in leaks} == {0: 1, 1: 1, 2: 1, 3: 1, 4: 4}
    # Hidden as `x` (0 or more), the same cells reveal nothing.
    assert sdc.find_disclosures(["<5", "<5", "x", "<5", "<5"], [(4, [0, 1, 2, 3])]) == []
    table = pd.DataFrame({"k": ["a", "b", "c", "d", "total"], "count": [1, 1, 1, 1, 4]})
    protected = sdc.protect("t", table, [(4, [0, 1, 2, 3])])
    sdc.check_published(protected)


def test_check_fails_on_a_leaking_or_unsuppressed_table():
    frame = pd.DataFrame({"count": [3, 17, 20], "display": ["<5", "17", "20"], "status": ["primary", "published", "published"]})
    with pytest.raises(sdc.DisclosureError, match="can be recovered"):
        sdc.check_published(sdc.ProtectedTable("leaky", frame, [(2, [0, 1])]))
    frame["display"] = ["3", "17", "20"]
    with pytest.raises(sdc.DisclosureError, match="small counts"):
        sdc.check_published(sdc.ProtectedTable("unsuppressed", frame, [(2, [0, 1])]))
