"""The look every chart of the publication outputs shares (the pack's charts, the country
profiles): a colour-blind-safe palette, how a suppressed segment is drawn, and saving as PNG
and SVG. One place, so that a profile's chart reads like the pack's."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on a server
import matplotlib.pyplot as plt  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design": told apart by readers with any common colour
# vision deficiency, and in greyscale print by their lightness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
# A suppressed segment (`<5`, `x`): drawn, hatched, never as a number or a gap.
SUPPRESSED_COLOUR = "#BBBBBB"
SUPPRESSED_HATCH = "////"
CHART_FORMATS = ("png", "svg")


def save(figure, out: Path, name: str) -> list[str]:
    """`out/name.png` and `out/name.svg`; returns the files' names. Closes the figure."""
    written = []
    for fmt in CHART_FORMATS:
        figure.savefig(out / f"{name}.{fmt}", dpi=130, bbox_inches="tight")
        written.append(f"{name}.{fmt}")
    plt.close(figure)
    return written
