"""The limits every submitted file is read within: bytes, sheets, rows, cells, text, time, memory.

One frozen value, built from glotip.toml's `[limits]` table (then `GLOTIP_*` variables) by
`pipeline/settings.py` and passed down explicitly to whatever reads a file. Each limit is
checked before the heavy work it protects (a file's size before it is hashed or archived, a
sheet's extent before the grid is allocated) or while streaming; a file over a limit gets one
`limit-exceeded` finding that names the setting (`limit`), the value found (`actual`) and the
value allowed (`allowed`). docs/operations.md explains each one.

The defaults are generous for honest national submissions (thousands of rows; the 1M-row
benchmark CSV is 35 MB) and far below what would exhaust the 2-core, 23 GB machine.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

MiB = 1024**2


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 100 * MiB  # a submission as received (a folder: all its files)
    unpacked_bytes: int = 400 * MiB  # everything inside an .xlsx or .zip, unpacked
    compression_ratio: int = 200  # unpacked / packed, a zip bomb packs far tighter ...
    ratio_checked_above_bytes: int = 50 * MiB  # ... but only large archives are held to it
    archive_members: int = 2_000  # files inside an .xlsx or .zip
    sheets: int = 100  # sheets in a workbook (the template has 6)
    rows: int = 2_000_000  # rows of one table (sheet or CSV file)
    columns: int = 1_000  # columns of one sheet or CSV file (the widest table has 15)
    cells: int = 10_000_000  # rows x columns of one sheet's extent, before it is read
    text_length: int = 32_767  # characters in one cell (Excel's own maximum)
    parse_seconds: float = 300.0  # wall-clock time to read one workbook or zip (child process)
    parse_memory_bytes: int = 3 * 1024 * MiB  # memory the reading child may add to its start
    annotated_cells: int = 250_000  # above this, no annotated.xlsx (openpyxl: ~1 KB per cell)
    localise_seconds: float = 5.0  # solver time to find which cells to change, per table
    # findings of one rule on one column of a table listed cell by cell; the rest are counted
    # in one `more-errors` / `more-warnings` finding (every cell is still checked). A file with
    # a million bad cells otherwise took minutes and gigabytes to report, and no one reads it.
    findings_per_rule: int = 1_000


LIMIT_NAMES = tuple(f.name for f in fields(Limits))
