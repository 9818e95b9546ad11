"""The look every chart of the publication outputs shares (the pack's charts, the country
profiles): a colour-blind-safe palette, how a suppressed segment is drawn, the fonts of the six
languages, and saving as PNG and SVG. One place, so that a profile's chart reads like the pack's.

Fonts come from PyPI only (a fresh machine has no system fonts beyond matplotlib's DejaVu):
DejaVu Sans covers Latin, Cyrillic and Arabic (matplotlib >= 3.11 shapes Arabic right to left
with libraqm); Chinese is set in Noto Sans CJK SC, shipped by the `mplfonts` wheel and
registered in this process only (no matplotlib config or cache is written).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.metadata import distribution
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on a server
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.colors import to_hex, to_rgb  # noqa: E402

from schemas.i18n import RIGHT_TO_LEFT  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design": told apart by readers with any common colour
# vision deficiency, and in greyscale print by their lightness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
# A suppressed segment (`<5`, `x`): drawn, hatched, never as a number or a gap.
SUPPRESSED_COLOUR = "#BBBBBB"
SUPPRESSED_HATCH = "////"
SUPPRESSED_HATCH_COLOUR = "#666666"
CHART_FORMATS = ("png", "svg")
LATIN_FONT = "DejaVu Sans"  # Latin, Cyrillic and Arabic; bundled with matplotlib
CJK_FONT_FILE = "mplfonts/fonts/NotoSansCJKsc-Regular.otf"  # inside the `mplfonts` wheel


def colours(n: int) -> list[str]:
    """`n` colours: the palette, then (past its eight) the same hues lighter, so that a chart
    of ten forms of exploitation never repeats a colour."""
    tints = [to_hex(tuple(0.5 + 0.5 * c for c in to_rgb(colour))) for colour in PALETTE]
    extended = [*PALETTE, *tints]
    return [extended[i % len(extended)] for i in range(n)]


def text_colour_on(background: str) -> str:
    """Black or white, whichever reads better on `background` (relative luminance)."""
    red, green, blue = to_rgb(background)
    return "#000000" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.45 else "#FFFFFF"


def right_to_left(language: str) -> bool:
    return language in RIGHT_TO_LEFT


@cache
def _cjk_font_name() -> str:
    """Registers the CJK font of the `mplfonts` wheel with matplotlib (once per process) and
    returns its family name. Located through the package's metadata: importing `mplfonts`
    is not needed."""
    path = Path(str(distribution("mplfonts").locate_file(CJK_FONT_FILE)))
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def font_families(language: str) -> list[str]:
    """The font families of a chart in `language`, first choice first (matplotlib falls back
    glyph by glyph along the list)."""
    return [_cjk_font_name(), LATIN_FONT] if language == "zh" else [LATIN_FONT]


def bold_weight(language: str) -> str:
    """"bold", or "normal" where the language's font has no bold face (the CJK font ships its
    regular face only: matplotlib would log a fallback for every bold text)."""
    return "normal" if language == "zh" else "bold"


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Charts drawn and saved inside are set in `language`'s fonts; SVGs keep their text as
    text (editable in a layout program, searchable). No text is read as mathtext: a `$` in a
    region's name (groupings come from analysts' files) is a dollar sign, never markup."""
    with plt.rc_context({"font.family": font_families(language), "svg.fonttype": "none",
                         "hatch.linewidth": 0.8, "text.parse_math": False}):
        yield


def save(figure, out: Path, name: str) -> list[str]:
    """`out/name.png` and `out/name.svg`; returns the files' names. Closes the figure."""
    written = []
    for fmt in CHART_FORMATS:
        figure.savefig(out / f"{name}.{fmt}", dpi=130, bbox_inches="tight")
        written.append(f"{name}.{fmt}")
    plt.close(figure)
    return written
