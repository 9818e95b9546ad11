"""SDG 16.2.2 as SDMX-CSV: the pack's file read back with sdmx1 against the SDG data structure
definition, every observation one published cell of the release (or its rate), and no hidden
cell written or used for a rate; on known data and on the imported dataUNODC series."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from sdmx.model import common, v30
from sdmx.reader.csv import Reader

from reporting import disclosure as sdc
from reporting import drafting_pack, sdmx
from schemas.countries import load_countries
from tests.analyst_data import build_imported_warehouse, build_known_warehouse
from warehouse.snapshot import open_snapshot

# The SDG DSD (IAEG-SDGs, "SDG DSD"), as its SDMX-ML structure lists them: 15 dimensions, then
# the time dimension; its attributes, the first three mandatory.
SDG_DIMENSIONS = ["FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA", "SEX", "AGE", "URBANISATION",
                  "INCOME_WEALTH_QUANTILE", "EDUCATION_LEV", "OCCUPATION", "CUST_BREAKDOWN",
                  "COMPOSITE_BREAKDOWN", "DISABILITY_STATUS", "ACTIVITY", "PRODUCT", "TIME_PERIOD"]
SDG_ATTRIBUTES = ["OBS_STATUS", "UNIT_MULT", "UNIT_MEASURE", "BASE_PER", "NATURE", "TIME_DETAIL",
                  "COMMENT_OBS", "TIME_COVERAGE", "UPPER_BOUND", "LOWER_BOUND", "SOURCE_DETAIL",
                  "COMMENT_TS", "GEO_INFO_URL", "GEO_INFO_TYPE", "CUST_BREAKDOWN_LB", "DATA_LAST_UPDATE"]
MANDATORY_ATTRIBUTES = ["OBS_STATUS", "UNIT_MULT", "UNIT_MEASURE"]
# The codes of the DSD's codelists that indicator 16.2.2 takes.
COUNT_SERIES = ["VC_HTF_DETV", "VC_HTF_DETVSX", "VC_HTF_DETVFL", "VC_HTF_DETVOG", "VC_HTF_DETVOP"]
CODES = {"FREQ": {"A"}, "REPORTING_TYPE": {"G"}, "SEX": {"F", "M", "_T"}, "AGE": {"Y0T17", "Y_GE18", "_T"},
         "SERIES": set(COUNT_SERIES) | {f"{s}R" for s in COUNT_SERIES},
         "UNIT_MEASURE": {"NUMBER", "PER_100000_POP"}, "UNIT_MULT": {"0"}, "OBS_STATUS": {"A"},
         "NATURE": {"C", ""}}
UNBROKEN = [d for d in SDG_DIMENSIONS if d not in ("FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA", "SEX", "AGE",
                                                   "TIME_PERIOD")]
# SDG category of the pack's cells -> (series, SEX, AGE), written independently of reporting/sdmx.py.
EXPECTED_CODES = {"total": ("VC_HTF_DETV", "_T", "_T"), "female": ("VC_HTF_DETV", "F", "_T"),
                  "male": ("VC_HTF_DETV", "M", "_T"), "child": ("VC_HTF_DETV", "_T", "Y0T17"),
                  "adult": ("VC_HTF_DETV", "_T", "Y_GE18"), "sexual_exploitation": ("VC_HTF_DETVSX", "_T", "_T"),
                  "forced_labour": ("VC_HTF_DETVFL", "_T", "_T"), "removal_of_organs": ("VC_HTF_DETVOG", "_T", "_T"),
                  "other_purposes": ("VC_HTF_DETVOP", "_T", "_T")}


def sdg_dataflow() -> v30.Dataflow:
    """The SDG DSD's structure as sdmx1 objects: what the reader matches the file's columns to."""
    agency = common.Agency(id="IAEG-SDGs")
    dsd = v30.DataStructureDefinition(id="SDG", maintainer=agency, version="1.12")
    for order, dimension in enumerate(SDG_DIMENSIONS[:-1]):
        dsd.dimensions.getdefault(dimension, order=order)
    dsd.dimensions.append(v30.TimeDimension(id="TIME_PERIOD"))
    dsd.measures.getdefault("OBS_VALUE")
    for attribute in SDG_ATTRIBUTES:
        dsd.attributes.getdefault(attribute)
    return v30.Dataflow(id="DF_SDG_GLH", maintainer=agency, version="1.12", structure=dsd)


def read_back(path: Path) -> pd.DataFrame:
    """The file through sdmx1's SDMX-CSV reader: one row per observation, its key and attributes;
    fails on a column the DSD does not have."""
    reader = Reader()
    message = reader.convert(io.BytesIO(path.read_bytes()), structure=sdg_dataflow())
    assert reader.options.custom_columns == [], "columns the SDG DSD does not have"
    rows = []
    for dataset in message.data:
        assert dataset.structured_by.id == "SDG" and dataset.described_by.id == "DF_SDG_GLH"
        for observation in dataset.obs:
            row = {key: value.value for key, value in observation.dimension.values.items()}
            row |= {key: value.value for key, value in observation.attached_attribute.items()}
            rows.append(row | {"OBS_VALUE": observation.value})
    return pd.DataFrame(rows)


def written_pack(connection, year: int, out: Path) -> drafting_pack.Pack:
    """A pack built and written as `glotip report` does (the SDMX file by `_write_pack`)."""
    pack = drafting_pack.build_pack(connection, year)
    sdc.check_audit(pack.audit)
    drafting_pack._write_pack(pack, out, year, None, "en")
    return pack


def m49_areas() -> set[str]:
    from schemas.regions import _regions_by_english_name

    codes = set(load_countries()["m49_code"]) | {row["m49_code"] for row in _regions_by_english_name().values()}
    return {str(int(code)) for code in codes}


def check_against_release(observations: pd.DataFrame, pack: drafting_pack.Pack, year: int) -> None:
    """Every count written is a published cell of the release's SDG table with that value, and
    every published cell of it is written; a hidden cell has neither a count nor a rate; every
    rate is its published count per 100,000 population."""
    countries = load_countries().set_index("iso3")["m49_code"].map(lambda code: str(int(code)))
    population = dict(zip(pack.population["country"], pack.population["population"]))
    observations = observations.assign(value=observations["OBS_VALUE"].astype(float))
    by_key = {(r.SERIES, r.REF_AREA, r.SEX, r.AGE): r.value for r in observations.itertuples()}
    cells = pack.release.table("sdg_16_2_2").frame
    checked = hidden = 0
    for cell in cells[cells["category"].isin(EXPECTED_CODES)].itertuples():
        series, sex, age = EXPECTED_CODES[cell.category]
        area = countries[cell.country]
        if cell.status in ("primary", "secondary"):
            hidden += 1
            assert (series, area, sex, age) not in by_key and (f"{series}R", area, sex, age) not in by_key, cell.key
            continue
        published = sdc.published_number(cell.display)
        assert by_key[(series, area, sex, age)] == published, cell.key
        if population.get(cell.country, 0) > 0:
            assert by_key[(f"{series}R", area, sex, age)] == pytest.approx(
                round(published * 100000 / population[cell.country], 4), abs=1e-9)
        checked += 1
    assert checked > 0
    # Counts written for areas outside the SDG table are the published world and regional totals.
    regional = pack.release.table("victims_by_sex_age").frame
    totals = regional[regional["level"].isin(["region", "world"]) & (regional["category"] == "total")]
    shown = {str(int(sdmx.ref_area(r.region))): r for r in totals.itertuples() if sdmx.ref_area(r.region)}
    country_areas = set(countries[cells["country"].unique()])
    for row in observations[~observations["REF_AREA"].isin(country_areas)].itertuples():
        cell = shown[row.REF_AREA]
        assert (row.SERIES, row.SEX, row.AGE, row.UNIT_MEASURE) == ("VC_HTF_DETV", "_T", "_T", "NUMBER")
        assert cell.status not in ("primary", "secondary") and row.value == sdc.published_number(cell.display)
    assert year in set(observations["TIME_PERIOD"].astype(int))


def check_structure(observations: pd.DataFrame, year: int) -> None:
    assert list(observations.columns[:len(SDG_DIMENSIONS)]) == SDG_DIMENSIONS
    for attribute in MANDATORY_ATTRIBUTES:
        assert observations[attribute].ne("").all(), attribute
    for column, codes in CODES.items():
        assert set(observations[column]) <= codes, column
    for dimension in UNBROKEN:
        assert set(observations[dimension]) == {"_T"}, dimension
    assert set(observations["REF_AREA"]) <= m49_areas()
    assert set(observations["TIME_PERIOD"]) == {str(year)}
    counts = observations[observations["UNIT_MEASURE"] == "NUMBER"]
    rates = observations[observations["UNIT_MEASURE"] == "PER_100000_POP"]
    assert counts["SERIES"].isin(COUNT_SERIES).all() and rates["SERIES"].str.endswith("R").all()
    assert (counts["OBS_VALUE"].astype(float) % 1 == 0).all()
    assert not observations.duplicated(SDG_DIMENSIONS).any()


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    root = tmp_path_factory.mktemp("sdmx-known")
    with open_snapshot(build_known_warehouse(root)) as connection:
        pack = written_pack(connection, 2022, root / "pack")
    return pack, root / "pack"


def test_the_sdmx_file_reads_back_against_the_sdg_dsd(known):
    pack, out = known
    observations = read_back(out / "sdg_16_2_2.sdmx.csv")
    check_structure(observations, 2022)
    assert {"VC_HTF_DETV", "VC_HTF_DETVR", "VC_HTF_DETVSX", "VC_HTF_DETVFL"} <= set(observations["SERIES"])
    assert {"F", "M"} <= set(observations["SEX"]) and {"Y0T17", "Y_GE18"} <= set(observations["AGE"])
    assert "1" in set(observations["REF_AREA"])  # the world, by its M49 code
    header = (out / "sdg_16_2_2.sdmx.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:3] == ["STRUCTURE", "STRUCTURE_ID", "ACTION"]


def test_every_observation_is_a_published_cell_and_no_hidden_cell_is_written(known):
    pack, out = known
    observations = read_back(out / "sdg_16_2_2.sdmx.csv")
    check_against_release(observations, pack, 2022)
    hidden = pack.release.table("sdg_16_2_2").frame["status"].isin(["primary", "secondary"])
    assert hidden.any(), "the known data must have hidden SDG cells for this test to mean anything"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "sdg_16_2_2.sdmx.csv" in index


def test_hidden_cells_unknown_areas_and_missing_populations_write_nothing():
    """Whatever the displays say, a cell with status primary or secondary, a display that is
    not a number, an area M49 does not code, or an unknown or zero population gives no value
    and no rate."""
    sdg = pd.DataFrame([
        ("NGA", "total", "100", "published"), ("NGA", "female", "<5", "primary"),
        ("NGA", "male", "x", "secondary"), ("NGA", "child", "7", "secondary"),  # a status wins
        ("NGA", "adult", "x", "published"), ("NGA", "sexual_exploitation", "", "published"),
        ("NGA", "sex_other_or_unknown", "3", "published"),  # no SDG code: not written
        ("XKX", "total", "50", "published"),                 # Kosovo: no M49 code
        ("FRA", "total", "40", "published"), ("ITA", "total", "30", "published"),
    ], columns=["country", "category", "display", "status"])
    regional = pd.DataFrame([
        ("world", "World", "total", "170", "published"), ("region", "Africa", "total", "x", "secondary"),
        ("region", "My grouping's region", "total", "20", "published"),
        ("region", "Europe", "girls", "9", "published"),
    ], columns=["level", "region", "category", "display", "status"])
    population = pd.DataFrame({"country": ["NGA", "FRA", "ITA"], "population": [200_000_000, 0, None]})
    frame, summary = sdmx.sdg_observations(sdg, regional, population, 2022)
    written = {(r.SERIES, r.REF_AREA, r.SEX, r.AGE): r.OBS_VALUE for r in frame.itertuples()}
    assert written == {("VC_HTF_DETV", "566", "_T", "_T"): "100", ("VC_HTF_DETVR", "566", "_T", "_T"): "0.0500",
                       ("VC_HTF_DETV", "250", "_T", "_T"): "40", ("VC_HTF_DETV", "380", "_T", "_T"): "30",
                       ("VC_HTF_DETV", "1", "_T", "_T"): "170"}
    assert (summary.observations, summary.counts, summary.rates, summary.hidden_left_out) == (5, 4, 1, 4)


@pytest.mark.parametrize("area, code", [("NGA", "566"), ("AFG", "4"), ("World", "1"), ("Africa", "2"),
                                        ("Latin America and the Caribbean", "419"), ("Neverland", None)])
def test_ref_area_is_the_m49_code_without_leading_zeros(area, code):
    assert sdmx.ref_area(area) == code


@pytest.fixture(scope="module")
def imported_db(tmp_path_factory):
    return build_imported_warehouse(tmp_path_factory.mktemp("sdmx-imported"))


def test_the_imported_dataunodc_series_as_sdmx(imported_db, tmp_path):
    """The published series of 2021, every cell checked against the release."""
    with open_snapshot(imported_db) as connection:
        pack = written_pack(connection, 2021, tmp_path / "pack")
    observations = read_back(tmp_path / "pack" / "sdg_16_2_2.sdmx.csv")
    check_structure(observations, 2021)
    check_against_release(observations, pack, 2021)
    # Countries with exact figures only (the pack leaves out those published with `<5` cells).
    assert observations["REF_AREA"].nunique() >= 5
