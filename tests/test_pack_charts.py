"""The drafting pack's charts: drawn from the published cells only (every number written on a
chart is a published cell), hidden cells drawn hatched rather than dropped, the countries
reporting under every trend, and every chart rendered in each of the six languages with no
missing glyph (Chinese from the CJK font of the `mplfonts` wheel)."""

from __future__ import annotations

import logging
import os
import warnings

import matplotlib
import pandas as pd
import pytest

from reporting import drafting_pack
from reporting import pack_charts as charts
from reporting.chart_style import SUPPRESSED_HATCH, use_language
from schemas import i18n
from schemas.regions import area_name
from tests.analyst_data import build_known_warehouse
from warehouse.snapshot import open_snapshot

CHARTS = ["victims_by_sex_age", "forms_by_region", "trends", "flows"]


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    db = build_known_warehouse(tmp_path_factory.mktemp("charts"))
    with open_snapshot(db) as connection:
        return drafting_pack.build_pack(connection, 2022)


def frame(pack, name: str) -> pd.DataFrame:
    return next(t for t in pack.tables if t.name == name).protected[0].frame


def coverage(pack) -> pd.DataFrame:
    return drafting_pack._countries_reporting(pack)


def figures(pack, language: str) -> dict:
    return {
        "victims_by_sex_age": charts.sex_age_figure(frame(pack, "victims_by_sex_age"), 2022, language),
        "forms_by_region": charts.forms_figure(frame(pack, "forms_by_region"), 2022, language),
        "trends": charts.trends_figure(frame(pack, "victims_trend"), frame(pack, "offenders_trend"),
                                       coverage(pack), language),
        "flows": charts.flows_figure(frame(pack, "origin_destination"), 2022, language),
    }


def texts(figure, gid: str | None = None) -> list[str]:
    found = [t for t in figure.findobj(matplotlib.text.Text) if t.get_text()]
    return [t.get_text() for t in found if gid is None or t.get_gid() == gid]


def published(frame: pd.DataFrame, language: str) -> set[str]:
    """Every published number of a long frame, written as the charts write it."""
    numbers = pd.to_numeric(frame["display"], errors="coerce").dropna()
    return {i18n.format_number(value, language) for value in numbers}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_chart_renders_in_every_language_with_no_missing_glyph(pack, tmp_path, language, caplog):
    cache = matplotlib.get_cachedir()
    before = {name: os.stat(os.path.join(cache, name)).st_mtime for name in os.listdir(cache)}
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="matplotlib"):
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" is a warning
        written = drafting_pack._write_charts(pack, tmp_path, 2022, language)
    assert written == [f"{name}.{fmt}" for name in CHARTS for fmt in ("png", "svg")]
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")], caplog.text  # e.g. findfont
    for name in CHARTS:
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = (tmp_path / f"{name}.svg").read_text(encoding="utf-8")
        # Text stays text (a layout program can edit it), in the language of the pack.
        assert "<text" in svg, name
    sex_age = (tmp_path / "victims_by_sex_age.svg").read_text(encoding="utf-8")
    assert area_name("World", language) in sex_age
    assert i18n.ui("chart.category.girls", language) in sex_age
    # Fonts are registered in this process only: matplotlib's cache folder is left as it was.
    after = {name: os.stat(os.path.join(cache, name)).st_mtime for name in os.listdir(cache)}
    assert after == before


def test_chinese_and_arabic_charts_are_set_in_their_fonts_and_arabic_reads_from_the_right(pack):
    with use_language("zh"):
        assert matplotlib.rcParams["font.family"][0] == "Noto Sans CJK SC"
    with use_language("ar"):
        assert matplotlib.rcParams["font.family"] == ["DejaVu Sans"]
        figure = charts.sex_age_figure(frame(pack, "victims_by_sex_age"), 2022, "ar")
    axis = figure.axes[0]
    low, high = axis.get_xlim()
    assert low > high == 0  # the bars grow leftwards from the right
    assert axis.yaxis.get_ticks_position() == "right"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_number_written_on_a_chart_is_a_published_cell(pack, language):
    with use_language(language):
        drawn = figures(pack, language)
    sources = {"victims_by_sex_age": ["victims_by_sex_age"], "forms_by_region": ["forms_by_region"],
               "trends": ["victims_trend", "offenders_trend"], "flows": ["origin_destination"]}
    for name, figure in drawn.items():
        allowed = set().union(*(published(frame(pack, table), language) for table in sources[name]))
        labelled = texts(figure, "value")
        assert labelled and set(labelled) <= allowed, name
        # Nothing hidden is ever written as a number.
        assert not set(texts(figure, "suppressed")) - {"<5", "x", "<5/x"}, name
    # Every bar's published total is written at its end.
    sex_age = frame(pack, "victims_by_sex_age")
    totals = sex_age[sex_age["level"].isin(["world", "region"]) & (sex_age["category"] == "total")]
    assert published(totals, language) <= set(texts(drawn["victims_by_sex_age"], "value"))


def test_a_region_whose_boys_are_hidden_keeps_a_hatched_segment_of_total_minus_published_parts(pack):
    """Europe's boys and women as `x` (their total and the other parts published): the bar
    still reaches the total, the hidden part hatched, and the legend says what hatching is."""
    cells = frame(pack, "victims_by_sex_age").copy()
    europe = (cells["area"] == "Europe") & cells["category"].isin(["boys", "women"])
    cells.loc[europe, ["display", "status"]] = ["x", "secondary"]
    shown = cells[(cells["area"] == "Europe")].set_index("category")["display"]
    published_parts = sum(int(shown[c]) for c in ("girls", "men", "other_or_unknown"))
    figure = charts.sex_age_figure(cells, 2022, "en")
    axis = figure.axes[0]
    europe_row = [t.get_text() for t in axis.get_yticklabels()].index("Europe")
    hatched = [p for p in axis.patches if p.get_hatch() == SUPPRESSED_HATCH
               and abs(p.get_y() + p.get_height() / 2 - europe_row) < 1e-9]
    assert len(hatched) == 1
    assert hatched[0].get_width() == int(shown["total"]) - published_parts
    assert hatched[0].get_x() + hatched[0].get_width() == int(shown["total"])
    assert "suppressed (<5 or x)" in texts(figure)
    # The hidden parts' values are nowhere on the chart; the total is at the bar's end.
    assert i18n.format_number(int(shown["total"]), "en") in texts(figure, "value")


def test_a_hidden_total_draws_its_hidden_parts_as_stubs_and_shows_x(pack):
    cells = frame(pack, "forms_by_region").copy()
    africa = (cells["region"] == "Africa") & cells["category"].isin(["forced_labour", "total"])
    cells.loc[africa, ["display", "status"]] = ["x", "secondary"]
    figure = charts.forms_figure(cells, 2022, "en")
    axis = figure.axes[0]
    africa_row = [t.get_text() for t in axis.get_yticklabels()].index("Africa")
    hatched = [p for p in axis.patches if p.get_hatch() == SUPPRESSED_HATCH
               and abs(p.get_y() + p.get_height() / 2 - africa_row) < 1e-9]
    assert len(hatched) == 1 and hatched[0].get_width() > 0  # three hidden parts, one nominal stub each
    assert "x" in texts(figure, "suppressed")


def test_trends_show_the_countries_reporting_each_year(pack):
    figure = charts.trends_figure(frame(pack, "victims_trend"), frame(pack, "offenders_trend"), coverage(pack), "en")
    # The known data: victims from NGA and THA in 2021, and DEU and ITA too in 2022; offenders
    # from NGA in 2021 and DEU in 2022 (the countries_reporting query).
    assert coverage(pack).to_dict("list") == {"year": [2021, 2022], "countries_reporting_victims": [2, 4],
                                              "countries_reporting_offenders": [1, 2]}
    assert sorted(texts(figure, "countries")) == ["1", "2", "2", "4"]
    for axis in figure.axes:  # every value axis starts at zero
        assert axis.get_ylim()[0] == 0
    assert {"Countries reporting victims", "Countries reporting prosecutions or convictions"} <= set(texts(figure))


def test_the_flows_chart_has_numbers_a_scale_a_legend_and_counts_its_hidden_flows(pack):
    cells = frame(pack, "origin_destination")
    figure = charts.flows_figure(cells, 2022, "en")
    written = texts(figure)
    inner = cells[(cells["destination_region"] != "Total") & (cells["origin_region"] != "Total")]
    hidden = int(inner["display"].isin(["<5", "x"]).sum())
    assert hidden and any(t.startswith(f"Flows hidden by disclosure control (<5 or x): {hidden};")
                          for t in "\n".join(written).split("\n"))
    assert any(t.endswith(" victims") for t in written)  # the scale
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["Africa", "Asia", "Europe", "suppressed (<5 or x)"]
    # The band numbers are published flows; the regions' totals are published margins.
    flows = set(texts(figure, "value"))
    assert published(inner, "en") & flows and flows <= published(cells, "en")


def test_a_region_name_is_drawn_as_written_never_as_markup(pack, tmp_path):
    """Groupings come from analysts' files: a `$` in a region's name is no mathtext."""
    cells = frame(pack, "forms_by_region").copy()
    odd = r"Zone $\undefined{1}$ & 50%"
    cells["region"] = cells["region"].replace("Asia", odd)
    with warnings.catch_warnings(), use_language("en"):
        warnings.simplefilter("error")
        figure = charts.forms_figure(cells, 2022, "en")
        figure.savefig(tmp_path / "odd.svg")
    assert odd in texts(figure)
