"""The drafting pack's charts (PNG and SVG), drawn from its published tables: a cell hidden by
disclosure control (`<5`, `x`) is never drawn as a number."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on a server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.path import Path as CurvePath  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402

from reporting import disclosure as sdc  # noqa: E402
from reporting.chart_style import save  # noqa: E402

WORLD = "World"
TOTAL_LABEL = "Total"


def _stacked_counts(rows: pd.DataFrame, labels: list[str], title: str, out: Path, name: str) -> list[str]:
    """Stacked bars of published counts. A hidden cell (`<5`, `x`) is not drawn: its bar is
    marked, so that no one reads a missing segment as a zero or a share."""
    values = pd.DataFrame({label: sdc.published_values(rows[label]) for label in labels}, index=rows.index)
    incomplete = values.isna().any(axis=1)
    values = values.fillna(0)
    figure, axis = plt.subplots(figsize=(9, 0.55 * len(values) + 1.8))
    left = np.zeros(len(values))
    colours = plt.get_cmap("tab10").colors
    for i, label in enumerate(labels):
        axis.barh(values.index, values[label], left=left, color=colours[i % 10], label=label)
        left += values[label].to_numpy()
    for y, (area, has_hidden) in enumerate(incomplete.items()):
        if has_hidden:
            axis.text(left[y], y, "  some cells suppressed", va="center", fontsize=7, color="#555")
    axis.invert_yaxis()
    axis.set_xlabel("Detected victims (published counts)")
    axis.set_title(title)
    axis.margins(x=0.25)
    axis.legend(ncol=min(len(labels), 4), loc="upper center", bbox_to_anchor=(0.5, -0.18),
                frameon=False, fontsize=8)
    return save(figure, out, name)


def chart_sex_age(table: pd.DataFrame, out: Path, year: int) -> list[str]:
    regions = table[table["level"].isin(["world", "region"])].set_index("area")
    return _stacked_counts(regions, ["Girls", "Boys", "Women", "Men", "Other or unknown"],
                           f"Detected victims by sex and age, {year}", out, "victims_by_sex_age")


def chart_forms(table: pd.DataFrame, out: Path, year: int) -> list[str]:
    labels = [c for c in table.columns if c not in ("region", TOTAL_LABEL) and not c.endswith("(share)")]
    return _stacked_counts(table.set_index("region"), labels,
                           f"Forms of exploitation by region, {year}", out, "forms_by_region")


def chart_trends(victims: pd.DataFrame, offenders: pd.DataFrame, out: Path) -> list[str]:
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    years = [c for c in victims.columns if c != "region"]
    for record in victims.itertuples(index=False):
        values = sdc.published_values(pd.Series(list(record)[1:], dtype=object))
        left.plot([int(y) for y in years], values, marker="o", label=record[0],
                  linewidth=2.5 if record[0] == WORLD else 1.2)
    left.set_title("Detected victims by region")
    left.legend(fontsize=7, frameon=False)
    for column, colour in (("Prosecuted", "#386cb0"), ("Convicted", "#d95f02")):
        right.plot(offenders["year"], sdc.published_values(offenders[column]), marker="o", label=column, color=colour)
    right.set_title("Persons prosecuted and convicted")
    right.legend(fontsize=8, frameon=False)
    for axis in (left, right):
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.set_xlabel("Year")
        axis.grid(alpha=0.3)
    return save(figure, out, "trends")


def chart_flows(table: pd.DataFrame, out: Path, year: int) -> list[str]:
    """Origin regions (left) to regions of detection (right), band width by victims."""
    matrix = table.set_index("destination_region").drop(index=TOTAL_LABEL, errors="ignore")
    matrix = matrix.drop(columns=[TOTAL_LABEL], errors="ignore")
    matrix.columns = [c.removeprefix("from ") for c in matrix.columns]
    hidden = int(matrix.apply(sdc.published_values).isna().to_numpy().sum())
    values = matrix.apply(sdc.published_values).fillna(0)
    origins, destinations = list(values.columns), list(values.index)
    figure, axis = plt.subplots(figsize=(9, 0.6 * max(len(origins), len(destinations)) + 2))
    y_origin = {r: i for i, r in enumerate(reversed(origins))}
    y_destination = {r: i for i, r in enumerate(reversed(destinations))}
    largest = values.to_numpy().max() or 1
    colours = plt.get_cmap("tab10").colors
    for i, origin in enumerate(origins):
        for destination in destinations:
            victims = values.at[destination, origin]
            if victims <= 0:
                continue
            y0, y1 = y_origin[origin], y_destination[destination]
            curve = CurvePath([(0, y0), (0.5, y0), (0.5, y1), (1, y1)],
                              [CurvePath.MOVETO, CurvePath.CURVE4, CurvePath.CURVE4, CurvePath.CURVE4])
            axis.add_patch(PathPatch(curve, facecolor="none", edgecolor=colours[i % 10], alpha=0.6,
                                     linewidth=1 + 18 * victims / largest))
    for region, y in y_origin.items():
        axis.text(-0.02, y, region, ha="right", va="center", fontsize=9)
    for region, y in y_destination.items():
        axis.text(1.02, y, region, ha="left", va="center", fontsize=9)
    axis.set_xlim(-0.6, 1.6)
    axis.set_ylim(-1, max(len(origins), len(destinations)))
    axis.axis("off")
    axis.set_title(f"Detected victims: region of origin (left) to region of detection (right), {year}")
    if hidden:
        axis.text(0.5, -0.9, f"{hidden} flows hidden by disclosure control (<5 or x) are not drawn.",
                  ha="center", fontsize=8, color="#555")
    return save(figure, out, "flows")


