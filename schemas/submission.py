"""The submission's own details (the `submission` sheet), as one typed object.

Every layer that needs the submitting country, the period, the contact or the report language
reads them here, and there is one rule for whether the country is valid: a known ISO 3166-1
alpha-3 code (`schemas.countries`), the same rule the `country` column's check applies.
Identifiers and folder names are built only from a valid country.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import pandas as pd

from schemas.countries import country_codes
from schemas.i18n import language_or_default
from schemas.personal_data import shown


@dataclass(frozen=True)
class SubmissionDetails:
    country: str | None = None  # as normalised: an ISO3 code, or the text as submitted
    year_from: int | None = None
    year_to: int | None = None
    institution: str | None = None
    contact_email: str | None = None
    language: str = "en"  # one of the six; English when absent or not one of them
    template_version: str | None = None

    @property
    def valid_country(self) -> str | None:
        """The ISO3 code of the submitting country, or None when it is not a known country."""
        return self.country if is_valid_country(self.country) else None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SubmissionDetails:
        """From the typed submission row (missing values as NA)."""
        def value(name: str) -> Any:
            item = row.get(name)
            return None if item is None or (not isinstance(item, str) and pd.isna(item)) else item

        def year(name: str) -> int | None:
            item = value(name)
            return None if item is None else int(item)

        def text(name: str) -> str | None:
            item = value(name)
            return None if item is None else str(item)

        # Free texts that hold personal data are dropped here, so the register, the reports and
        # the e-mail never have them (validation rejects the submission for them). The contact
        # e-mail is the focal point's work address, meant to be there: it is not screened.
        return cls(country=text("country"), year_from=year("year_from"), year_to=year("year_to"),
                   institution=shown(text("institution")), contact_email=text("contact_email"),
                   language=language_or_default(value("language")),
                   template_version=shown(text("template_version")))


def is_valid_country(code: Any) -> bool:
    return isinstance(code, str) and code in country_codes()


_UPPER_WORD = re.compile(r"[A-Z]+")  # linear: a run of capitals, bounded by anything else


def country_in_file_name(file_name: str) -> str | None:
    """The ISO3 code a file name gives its country (`THA_2021-2022.xlsx` -> THA): a word of
    exactly three capitals that is a known code, when the name has exactly one such code.
    Lower-case words are never taken for codes (`and`, `can`, `per` are words first)."""
    words = _UPPER_WORD.findall(PurePath(file_name).stem)
    codes = {word for word in words if len(word) == 3 and is_valid_country(word)}
    return codes.pop() if len(codes) == 1 else None
