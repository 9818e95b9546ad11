"""The drafting pack's charts (PNG and SVG), in any of the six languages.

Drawn from the long, disclosure-controlled frames of the pack's tables (`display` and
`status`, with codes and English region names), never from the exact counts nor from the
translated wide tables. A cell hidden by disclosure control is never drawn as a number and
never silently dropped: where a bar's total is published, its hidden parts together take
exactly the total minus the published parts (what any reader can work out), drawn hatched in
the suppressed style of `chart_style`; where the total is hidden too, each hidden part is a
hatched stub of nominal size. Every published number is written on the chart (segments wide
enough to hold it, every total), value axes start at zero, and every trend shows how many
countries reported each year beside the counts.

Each `*_figure` function returns a matplotlib figure (the tests read its texts); the caller
draws and saves inside `chart_style.use_language(language)`. Texts labelling a published
number have the gid "value", hidden segments "suppressed".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as CurvePath
from matplotlib.ticker import FuncFormatter, MaxNLocator

from reporting import disclosure as sdc
from reporting.chart_style import (SUPPRESSED_COLOUR, SUPPRESSED_HATCH, SUPPRESSED_HATCH_COLOUR, bold_weight,
                                   colours, right_to_left, text_colour_on)
from schemas import i18n
from schemas.regions import WORLD, area_name

TOTAL = "total"            # category code of a total
TOTAL_REGION = "Total"     # the origin-destination frame's margins
HIDDEN = (sdc.SMALL_LABEL, sdc.SECONDARY_LABEL)
SEX_AGE = ("girls", "boys", "women", "men", "other_or_unknown")
OFFENDER_STAGES = ("prosecuted", "convicted")
FONT_SIZE = 8              # value labels
SMALL_FONT_SIZE = 6.5      # a thin band's number
NOMINAL_SHARE = 0.012      # a hidden part of a hidden total: a stub this share of the axis


def say(key: str, language: str, **values) -> str:
    return i18n.ui(f"chart.{key}", language, **values)


def number(value: float, language: str) -> str:
    return i18n.format_number(value, language)


# ------------------------------------------------------------------ published cells

@dataclass
class Cell:
    """One published cell: its number (None when hidden or not reported) and what is shown."""
    value: float | None
    display: str

    @property
    def hidden(self) -> bool:
        return self.display in HIDDEN


def cells(frame: pd.DataFrame, *index: str) -> dict[tuple, Cell]:
    """The long frame's cells by `index` columns: numbers from `display` only."""
    shown = frame["display"].astype("string").fillna("")
    values = pd.to_numeric(shown.where(~shown.isin(HIDDEN)), errors="coerce")
    keys = zip(*(frame[column] for column in index))
    return {key: Cell(None if pd.isna(value) else float(value), str(text))
            for key, value, text in zip(keys, values, shown)}


@dataclass
class Bar:
    """A stacked bar: its parts in drawing order (code, cell) and its total."""
    label: str
    parts: list[tuple[str, Cell]]
    total: Cell
    position: float = 0.0

    def hidden_parts(self) -> list[Cell]:
        return [cell for _, cell in self.parts if cell.hidden]

    def published_sum(self) -> float:
        return sum(cell.value for _, cell in self.parts if cell.value is not None)

    def hidden_width(self, nominal: float) -> float:
        """What the hidden parts take together: the published total minus the published parts
        (a reader can work it out), or a nominal stub per part when the total is hidden."""
        hidden = self.hidden_parts()
        if not hidden:
            return 0.0
        if self.total.value is not None:
            return max(self.total.value - self.published_sum(), 0.0)
        return nominal * len(hidden)

    def end(self, nominal: float) -> float:
        return self.published_sum() + self.hidden_width(nominal)


def hidden_label(parts: list[Cell]) -> str:
    """What a hatched segment holds: `<5`, `x`, or `<5/x` when both."""
    return "/".join(label for label in HIDDEN if any(cell.display == label for cell in parts))


# ------------------------------------------------------------------ stacked bars

class Stacker:
    """Draws stacked bars along one axis, horizontal ("h") or vertical ("v"), then labels
    them once the scale is fixed (a label goes inside a segment only where it fits)."""

    def __init__(self, axis, orientation: str, language: str, thickness: float = 0.7):
        self.axis, self.orientation, self.language, self.thickness = axis, orientation, language, thickness
        self.segments: list[tuple[float, float, float, str, str, str]] = []  # position, start, width, colour, text, gid
        self.ends: list[tuple[float, float, str, str]] = []                    # position, end, text, gid

    def _rectangle(self, position, start, width, **style):
        if self.orientation == "h":
            return self.axis.barh(position, width, left=start, height=self.thickness, **style)
        return self.axis.bar(position, width, bottom=start, width=self.thickness, **style)

    def draw(self, bars: list[Bar], palette: dict[str, str], nominal: float, inside: bool = True) -> bool:
        """Draws `bars`; True when a hidden segment was drawn (the legend says what it is).
        `inside=False`: a bar of one part has its number at its end only."""
        any_hidden = False
        for bar in bars:
            start = 0.0
            for code, cell in bar.parts:
                if cell.value is None or cell.value <= 0:
                    continue
                self._rectangle(bar.position, start, cell.value, color=palette[code], linewidth=0)
                if inside:
                        self.segments.append((bar.position, start, cell.value, palette[code],
                                          number(cell.value, self.language), "value"))
                start += cell.value
            hidden = bar.hidden_parts()
            if hidden:
                any_hidden = True
                width = bar.hidden_width(nominal)
                self._rectangle(bar.position, start, width, color=SUPPRESSED_COLOUR, hatch=SUPPRESSED_HATCH,
                                edgecolor=SUPPRESSED_HATCH_COLOUR, linewidth=0, gid="suppressed")
                self.segments.append((bar.position, start, width, SUPPRESSED_COLOUR, hidden_label(hidden),
                                      "suppressed"))
                start += width
            if bar.total.value is not None:
                self.ends.append((bar.position, max(start, bar.total.value),
                                  number(bar.total.value, self.language), "value"))
            elif bar.total.display:
                self.ends.append((bar.position, start, bar.total.display, "suppressed"))
        return any_hidden

    def label(self, figure: Figure, bold_ends: bool = True) -> None:
        """Numbers inside the segments that can hold them, totals at the bar ends."""
        horizontal = self.orientation == "h"
        points_per_unit = self._points_per_unit(figure)
        rtl = right_to_left(self.language) and horizontal
        for position, start, width, colour, text, gid in self.segments:
            room = width * points_per_unit
            needed = (0.62 * FONT_SIZE * len(text) + 4) if horizontal else (FONT_SIZE + 3)
            across = self.thickness * self._points_per_unit(figure, across=True)
            if room < needed or (not horizontal and across < 0.62 * FONT_SIZE * len(text) + 2):
                continue
            xy = (start + width / 2, position) if horizontal else (position, start + width / 2)
            self.axis.text(*xy, text, ha="center", va="center", fontsize=FONT_SIZE, gid=gid,
                           color="#000000" if gid == "suppressed" else text_colour_on(colour))
        weight = bold_weight(self.language) if bold_ends else "normal"
        size = FONT_SIZE + 1
        # Vertical bars: a total wider than its bar's slot stands upright, so that none overlap.
        upright = not horizontal and any(0.62 * size * len(text) > self._slot(figure) for _, _, text, _ in self.ends)
        for position, end, text, gid in self.ends:
            if horizontal:
                self.axis.annotate(text, (end, position), xytext=(-4 if rtl else 4, 0), textcoords="offset points",
                                   ha="right" if rtl else "left", va="center", fontsize=size, fontweight=weight, gid=gid)
            else:
                self.axis.annotate(text, (position, end), xytext=(0, 3), textcoords="offset points",
                                   ha="center", va="bottom", fontsize=size, fontweight=weight, gid=gid,
                                   rotation=90 if upright else 0)

    def _slot(self, figure: Figure) -> float:
        """Points between neighbouring bars (the room for a label across them)."""
        positions = sorted({position for position, *_ in self.ends})
        step = min(np.diff(positions)) if len(positions) > 1 else self.thickness / 0.7
        return step * self._points_per_unit(figure, across=True)

    def _points_per_unit(self, figure: Figure, across: bool = False) -> float:
        """Typographic points per data unit along the value axis (or across the bars)."""
        box = self.axis.get_position()
        horizontal = (self.orientation == "h") != across
        low, high = self.axis.get_xlim() if horizontal else self.axis.get_ylim()
        inches = box.width * figure.get_figwidth() if horizontal else box.height * figure.get_figheight()
        return inches * 72 / abs(high - low)


def _value_axis(axis, orientation: str, language: str, largest: float, headroom: float | None = None) -> None:
    """From zero, with room for the totals, ticks written the language's way."""
    limit = (largest or 1) * (headroom or (1.15 if orientation == "h" else 1.3))
    formatter = FuncFormatter(lambda value, _: number(value, language) if value >= 0 else "")
    if orientation == "h":
        axis.set_xlim(0, limit)
        axis.xaxis.set_major_formatter(formatter)
        axis.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        axis.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    else:
        axis.set_ylim(0, limit)
        axis.yaxis.set_major_formatter(formatter)
        axis.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        axis.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    axis.set_axisbelow(True)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)


def _legend(axis, handles: list, language: str, columns: int = 6, anchor=(0.5, -0.06), loc="upper center") -> None:
    """Below the chart; in a right-to-left language the entries read from the right."""
    if right_to_left(language):
        handles = list(reversed(handles))
    columns = len(handles) if len(handles) <= columns else -(-len(handles) // 2)
    axis.legend(handles=handles, ncol=max(columns, 1), loc=loc, bbox_to_anchor=anchor,
                frameon=False, fontsize=FONT_SIZE + 1, handlelength=1.4, columnspacing=1.2)


def suppressed_handle(language: str) -> Patch:
    return Patch(facecolor=SUPPRESSED_COLOUR, hatch=SUPPRESSED_HATCH, edgecolor=SUPPRESSED_HATCH_COLOUR,
                 linewidth=0, label=say("suppressed", language))


def _source(figure: Figure, language: str, y: float) -> None:
    figure.text(0.99 if right_to_left(language) else 0.01, y, say("source", language),
                ha="right" if right_to_left(language) else "left", va="top", fontsize=7, color="#555555",
                wrap=True)


def _horizontal_bars(bars: list[Bar], codes: list[str], names: dict[str, str], title: str,
                     language: str) -> Figure:
    """Regions (rows) x categories, stacked; the world first. Arabic: bars grow leftwards, the
    region names on the right."""
    palette = dict(zip(codes, colours(len(codes))))
    height = 0.42 * len(bars) + 2.2
    figure = Figure(figsize=(9, height))
    axis = figure.add_axes((0.3, 1.3 / height, 0.62, 1 - 1.9 / height))
    for i, bar in enumerate(bars):
        bar.position = i
    largest = max([bar.total.value or 0 for bar in bars] + [bar.published_sum() for bar in bars] + [1])
    nominal = NOMINAL_SHARE * largest
    stacker = Stacker(axis, "h", language)
    any_hidden = stacker.draw(bars, palette, nominal)
    _value_axis(axis, "h", language, max(bar.end(nominal) for bar in bars) if bars else 1)
    axis.set_yticks(range(len(bars)), [bar.label for bar in bars], fontsize=FONT_SIZE + 1)
    axis.set_ylim(max(len(bars), 1) - 0.5, -0.5)  # the world on top
    axis.tick_params(axis="y", length=0)
    axis.set_xlabel(say("victims_axis", language), fontsize=FONT_SIZE + 1)
    if right_to_left(language):
        axis.invert_xaxis()
        axis.yaxis.tick_right()
        axis.spines["right"].set_visible(True)
        axis.spines["left"].set_visible(False)
    stacker.label(figure)
    axis.set_title(title, fontsize=12, loc="right" if right_to_left(language) else "left", pad=12)
    handles = [Patch(color=palette[code], label=names[code]) for code in codes
               if any(cell.value for bar in bars for c, cell in bar.parts if c == code)]
    if any_hidden:
        handles.append(suppressed_handle(language))
    _legend(axis, handles, language, anchor=(0.5, -0.62 / (height - 1.9)))  # 0.62 in under the axis
    _source(figure, language, 0.02 + 0.1 / height)
    return figure


def _bars_from(table: dict[tuple, Cell], areas: list[str], codes: list[str], language: str) -> list[Bar]:
    missing = Cell(None, "")
    return [Bar(area_name(area, language), [(code, table.get((area, code), missing)) for code in codes],
                table.get((area, TOTAL), missing)) for area in areas]


def _world_first(areas) -> list[str]:
    areas = list(dict.fromkeys(areas))
    return [a for a in areas if a == WORLD] + [a for a in areas if a != WORLD]


# ------------------------------------------------------------------ the pack's charts

def sex_age_figure(frame: pd.DataFrame, year: int, language: str) -> Figure:
    """Detected victims by sex and age: the world and each region (the `victims_by_sex_age`
    long frame: level, area, category, display)."""
    regions = frame[frame["level"].isin(["world", "region"])]
    table = cells(regions, "area", "category")
    bars = _bars_from(table, _world_first(regions["area"]), list(SEX_AGE), language)
    names = {code: say(f"category.{code}", language) for code in SEX_AGE}
    return _horizontal_bars(bars, list(SEX_AGE), names, say("sex_age_title", language, year=str(year)), language)


def forms_figure(frame: pd.DataFrame, year: int, language: str) -> Figure:
    """Detected victims by form of exploitation: the world and each region (the
    `forms_by_region` long frame: region, category = form code or total, display)."""
    codes = [code for code in dict.fromkeys(frame["category"]) if code != TOTAL]
    table = cells(frame, "region", "category")
    bars = _bars_from(table, _world_first(frame["region"]), codes, language)
    names = {code: i18n.code_label("form", code, language) for code in codes}
    return _horizontal_bars(bars, codes, names, say("forms_title", language, year=str(year)), language)


def trends_figure(victims: pd.DataFrame, offenders: pd.DataFrame, coverage: pd.DataFrame,
                  language: str) -> Figure:
    """Detected victims by region, and persons prosecuted and convicted, by year; under each,
    the number of countries reporting that year (a rise in the counts is often more countries
    reporting). `victims`: the `victims_trend` long frame (region, year, display); `offenders`:
    the `offenders_trend` long frame (year, category, display); `coverage`: year,
    countries_reporting_victims, countries_reporting_offenders."""
    years = sorted({int(y) for y in victims["year"]} | {int(y) for y in offenders["year"]})
    figure = Figure(figsize=(11, 6.2))
    grid = figure.add_gridspec(2, 2, height_ratios=(3, 1), hspace=0.12, wspace=0.22,
                               left=0.07, right=0.97, top=0.86, bottom=0.22)
    rtl = right_to_left(language)
    victims_axis, offenders_axis = figure.add_subplot(grid[0, 0]), figure.add_subplot(grid[0, 1])
    countries_axes = (figure.add_subplot(grid[1, 0], sharex=victims_axis),
                      figure.add_subplot(grid[1, 1], sharex=offenders_axis))
    if rtl:  # read from the right: victims on the right, offenders on the left
        victims_axis, offenders_axis = offenders_axis, victims_axis
        countries_axes = countries_axes[::-1]
    for axis in (victims_axis, offenders_axis):  # fixed before labelling: labels fit the bars' room
        axis.set_xlim(years[0] - 0.6, years[-1] + 0.6)

    # Victims: regions stacked, the world's total on top.
    table = cells(victims, "region", "year")
    regions = [r for r in dict.fromkeys(victims["region"]) if r != WORLD]
    palette = dict(zip(regions, colours(len(regions))))
    missing = Cell(None, "")
    bars = [Bar(str(y), [(r, table.get((r, y), missing)) for r in regions], table.get((WORLD, y), missing),
                position=y) for y in years]
    largest = max([bar.total.value or 0 for bar in bars] + [bar.published_sum() for bar in bars] + [1])
    nominal = NOMINAL_SHARE * 4 * largest
    stacker = Stacker(victims_axis, "v", language)
    any_hidden = stacker.draw(bars, palette, nominal)
    _value_axis(victims_axis, "v", language, max(bar.end(nominal) for bar in bars))
    stacker.label(figure)
    victims_axis.set_title(say("trend_victims_title", language), fontsize=11, loc="right" if rtl else "left")
    handles = [Patch(color=palette[r], label=area_name(r, language)) for r in regions]
    if any_hidden:
        handles.append(suppressed_handle(language))

    # Offenders: prosecuted and convicted side by side.
    table = cells(offenders, "year", "category")
    stage_colours = dict(zip(OFFENDER_STAGES, colours(2)))
    width = 0.38
    stage_bars = []
    for offset, stage in zip((-width / 2, width / 2), OFFENDER_STAGES):
        for y in years:
            cell = table.get((y, stage), missing)
            stage_bars.append((stage, Bar(str(y), [(stage, cell)], cell, position=y + offset)))
    largest = max([bar.total.value or 0 for _, bar in stage_bars] + [1])
    stacker = Stacker(offenders_axis, "v", language, thickness=width)
    offenders_hidden = False
    for stage in OFFENDER_STAGES:
        offenders_hidden |= stacker.draw([bar for s, bar in stage_bars if s == stage], stage_colours,
                                         NOMINAL_SHARE * 4 * largest, inside=False)
    _value_axis(offenders_axis, "v", language, largest)
    stacker.label(figure, bold_ends=False)
    offenders_axis.set_title(say("trend_offenders_title", language), fontsize=11, loc="right" if rtl else "left")
    stage_handles = [Patch(color=stage_colours[s], label=say(s, language)) for s in OFFENDER_STAGES]
    if offenders_hidden:
        stage_handles.append(suppressed_handle(language))

    # Countries reporting, each year.
    reporting = coverage.set_index("year")
    for axis, column, key in zip(countries_axes, ("countries_reporting_victims", "countries_reporting_offenders"),
                                 ("countries_victims", "countries_offenders")):
        counts = [reporting[column].get(y) for y in years]
        counts = [int(c) if c is not None and not pd.isna(c) else 0 for c in counts]
        axis.bar(years, counts, width=0.6, color="#999999", linewidth=0)
        for y, count in zip(years, counts):
            axis.annotate(number(count, language), (y, count), xytext=(0, 2), textcoords="offset points",
                          ha="center", va="bottom", fontsize=FONT_SIZE, gid="countries")
        _value_axis(axis, "v", language, max(counts + [1]), headroom=1.45)
        axis.yaxis.set_major_locator(MaxNLocator(nbins=2, integer=True))
        axis.set_title(say(key, language), fontsize=FONT_SIZE + 1, loc="right" if rtl else "left", pad=2,
                       color="#333333")
        axis.set_xticks(years, [str(y) for y in years], fontsize=FONT_SIZE)
    for axis in (victims_axis, offenders_axis):
        axis.tick_params(axis="x", labelbottom=False)
    if rtl:
        for axis in (victims_axis, offenders_axis, *countries_axes):
            axis.yaxis.tick_right()
            axis.spines["right"].set_visible(True)
            axis.spines["left"].set_visible(False)
    _legend(countries_axes[0], handles, language, columns=4, anchor=(0.5, -0.45))
    _legend(countries_axes[1], stage_handles, language, anchor=(0.5, -0.45))
    figure.suptitle(say("trends_title", language), fontsize=12, x=0.97 if rtl else 0.07,
                    ha="right" if rtl else "left", y=0.97)
    _source(figure, language, 0.02)
    return figure


def flows_figure(frame: pd.DataFrame, year: int, language: str) -> Figure:
    """Region of origin (the victims' citizenship) to region of detection, as bands whose
    width is the number of victims (the `origin_destination` long frame: destination_region,
    origin_region, display; its margins are `Total`). Each region's bar has the height of its
    published total: the part its published flows do not fill is hidden flows, hatched."""
    table = cells(frame, "destination_region", "origin_region")
    flows = frame[(frame["destination_region"] != TOTAL_REGION) & (frame["origin_region"] != TOTAL_REGION)]
    origins = list(dict.fromkeys(flows["origin_region"]))
    destinations = list(dict.fromkeys(flows["destination_region"]))
    missing = Cell(None, "")
    flow = {(o, d): table.get((d, o), missing) for o in origins for d in destinations}
    hidden_flows = sum(cell.hidden for cell in flow.values())
    largest_flow = max([cell.value or 0 for cell in flow.values()] + [1])
    nodes = {"origin": Nodes(origins, {o: table.get((TOTAL_REGION, o), missing) for o in origins},
                             {o: [flow[o, d] for d in destinations] for o in origins}),
             "detection": Nodes(destinations, {d: table.get((d, TOTAL_REGION), missing) for d in destinations},
                                {d: [flow[o, d] for o in origins] for d in destinations})}
    rows = max(len(origins), len(destinations), 1)
    axis_inches, top_inches, bottom_inches = max(2.6, 0.5 * rows + 1.2), 0.9, 1.45
    height = axis_inches + top_inches + bottom_inches
    figure = Figure(figsize=(10, height))
    axis = figure.add_axes((0.22, bottom_inches / height, 0.56, axis_inches / height))
    rtl = right_to_left(language)
    # Units are victims; every region gets room for its two-line label however small it is.
    scale = _round_scale(largest_flow / 2)
    nominal = NOMINAL_SHARE * 2 * largest_flow
    span = _layout(nodes.values(), label_points=26, axis_points=axis_inches * 72, nominal=nominal,
                   reserve=scale)
    points_per_unit = axis_inches * 72 / (span + scale * 1.4)
    palette = dict(zip(origins, colours(len(origins))))
    node_width, x0, x1 = 0.035, 0.035, 1 - 0.035
    cursor = {side: dict(group.tops) for side, group in nodes.items()}
    unlabelled = 0
    for o in origins:
        for d in destinations:
            cell = flow[o, d]
            if cell.value is None or cell.value <= 0:
                continue
            y0, y1 = cursor["origin"][o], cursor["detection"][d]
            cursor["origin"][o] -= cell.value
            cursor["detection"][d] -= cell.value
            middle, v = 0.5, cell.value
            band = CurvePath(
                [(x0, y0), (middle, y0), (middle, y1), (x1, y1), (x1, y1 - v), (middle, y1 - v), (middle, y0 - v),
                 (x0, y0 - v), (x0, y0)],
                [CurvePath.MOVETO, CurvePath.CURVE4, CurvePath.CURVE4, CurvePath.CURVE4, CurvePath.LINETO,
                 CurvePath.CURVE4, CurvePath.CURVE4, CurvePath.CURVE4, CurvePath.CLOSEPOLY])
            axis.add_patch(PathPatch(band, facecolor=palette[o], edgecolor="white", linewidth=0.4, alpha=0.72))
            thickness = v * points_per_unit
            if thickness >= SMALL_FONT_SIZE - 1:
                # At the band's end in the region of detection, where bands do not cross; a thin
                # band's number in a smaller size.
                size = FONT_SIZE if thickness >= FONT_SIZE + 1 else SMALL_FONT_SIZE
                axis.text(x1 - 0.01, y1 - v / 2, number(v, language), ha="left" if rtl else "right",
                          va="center", fontsize=size, gid="value",
                          color=text_colour_on(palette[o]) if size == FONT_SIZE else "#000000")
            else:
                unlabelled += 1
    # The regions: their published flows in colour, the rest of a published total hatched.
    for side, x in (("origin", 0.0), ("detection", 1 - node_width)):
        group, outer_left = nodes[side], (side == "origin") != rtl
        for name in group.names:
            top, bottom = group.tops[name], group.tops[name] - group.heights[name]
            filled = cursor[side][name]
            axis.add_patch(Rectangle((x, filled), node_width, top - filled, linewidth=0,
                                     facecolor=palette[name] if side == "origin" else "#666666"))
            if filled - bottom > 1e-9:
                axis.add_patch(Rectangle((x, bottom), node_width, filled - bottom, facecolor=SUPPRESSED_COLOUR,
                                         hatch=SUPPRESSED_HATCH, edgecolor=SUPPRESSED_HATCH_COLOUR, linewidth=0,
                                         gid="suppressed"))
            total = group.totals[name]
            anchor = (x if side == "origin" else x + node_width, top - group.slots[name] / 2)
            shift, align = (-6, "right") if outer_left else (6, "left")
            axis.annotate(area_name(name, language), anchor, xytext=(shift, 5), textcoords="offset points",
                          ha=align, va="center", fontsize=FONT_SIZE + 1)
            axis.annotate(number(total.value, language) if total.value is not None else total.display, anchor,
                          xytext=(shift, -6), textcoords="offset points", ha=align, va="center",
                          fontsize=FONT_SIZE + 1, fontweight=bold_weight(language),
                          gid="value" if total.value is not None else "suppressed")
    for side, x in (("origin", 0.0), ("detection", 1.0)):
        axis.annotate(say(f"flows_{side}", language), (x, span), xytext=(0, 12), textcoords="offset points",
                      ha="center", va="bottom", fontsize=FONT_SIZE + 1, fontweight=bold_weight(language))
    # The scale, under the bands: what a band's width means.
    axis.add_patch(Rectangle((0.5 - 0.005, -scale * 1.3), 0.01, scale, facecolor="#333333", linewidth=0))
    axis.annotate(say("flows_scale", language, n=number(scale, language)), (0.5, -scale * 0.8),
                  xytext=(-8 if rtl else 8, 0), textcoords="offset points", ha="right" if rtl else "left",
                  va="center", fontsize=FONT_SIZE)
    axis.set_xlim(-0.005, 1.005)
    axis.set_ylim(-scale * 1.4, span)
    if rtl:
        axis.invert_xaxis()
    axis.axis("off")
    figure.suptitle(say("flows_title", language, year=str(year)), fontsize=12, x=0.95 if rtl else 0.05,
                    ha="right" if rtl else "left", y=1 - 0.15 / height)
    handles = [Patch(color=palette[o], alpha=0.72, label=area_name(o, language)) for o in origins]
    if hidden_flows:
        handles.append(suppressed_handle(language))
    _legend(axis, handles, language, anchor=(0.5, -0.03))
    notes = [say("flows_hidden", language, n=number(hidden_flows, language))] if hidden_flows else []
    if unlabelled:
        notes.append(say("flows_unlabelled", language, n=number(unlabelled, language)))
    figure.text(0.95 if rtl else 0.05, 0.68 / height, "\n".join(notes), ha="right" if rtl else "left",
                va="top", fontsize=FONT_SIZE, color="#333333")
    _source(figure, language, 0.25 / height)
    return figure


@dataclass
class Nodes:
    """One side of the flows chart: its regions, their published totals and flows, and (set
    by `_layout`) each region's bar height, slot (bar plus room for its label) and top."""
    names: list[str]
    totals: dict[str, Cell]
    flows: dict[str, list[Cell]]
    heights: dict[str, float] = field(default_factory=dict)
    slots: dict[str, float] = field(default_factory=dict)
    tops: dict[str, float] = field(default_factory=dict)


def _layout(sides, label_points: float, axis_points: float, nominal: float, reserve: float) -> float:
    """Stacks each side's regions from the top; returns the span (in victims) both sides fit
    in. A region's bar is its published total (at least its published flows; a hidden total
    gets a nominal stub for its hidden flows); its slot is at least `label_points` tall."""
    sides = list(sides)
    for side in sides:
        for name in side.names:
            drawn = sum(cell.value or 0 for cell in side.flows[name])
            hidden = any(cell.hidden for cell in side.flows[name])
            total = side.totals[name].value
            side.heights[name] = max(total, drawn) if total is not None else drawn + (nominal if hidden else 0)
    span = max(sum(side.heights.values()) for side in sides) or 1.0
    for _ in range(20):  # the label room depends on the span: a few rounds settle it
        unit = label_points * (span + reserve * 1.4) / axis_points
        gap = 0.02 * span
        needed = max([sum(max(side.heights[n], unit) + gap for n in side.names) - gap for side in sides] + [1.0])
        if abs(needed - span) < 1e-6 * span:
            break
        span = needed
    for side in sides:
        top = span
        for name in side.names:
            side.slots[name] = max(side.heights[name], unit)
            side.tops[name] = top
            top -= side.slots[name] + gap
    return span


def _round_scale(value: float) -> float:
    """1, 2 or 5 times a power of ten, at most `value` (at least 1)."""
    if value < 1:
        return 1
    power = 10 ** np.floor(np.log10(value))
    return float(max(m * power for m in (1, 2, 5) if m * power <= value))
