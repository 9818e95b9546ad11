"""Rules across tables: the submission sheet's country against the data rows.

(The fact years against the declared period, and organ-removal case victims against victims,
are in `schemas.validate`.)
"""

from __future__ import annotations

import pandas as pd

from schemas.findings import LINE, Finding, make_finding
from schemas.submission import SubmissionDetails


def cross_table_findings(tables: dict[str, pd.DataFrame], frames: dict,
                         details: SubmissionDetails | None) -> list[Finding]:
    return _repatriated_from_own_country(tables, frames, details)


def _repatriated_from_own_country(tables, frames, details) -> list[Finding]:
    """Repatriated victims are nationals found abroad: never detected in the submitting country."""
    country = details.valid_country if details else None
    table = tables.get("repatriated")
    if country is None or table is None or table.empty:
        return []
    own = table[table["country_of_detection"] == country]
    return [make_finding("repatriated-from-own-country", frame=frames.get("repatriated"),
                         line=int(line), column="country_of_detection", value=country,
                         country=country)
            for line in own[LINE]]
