"""Codelists: the one place where every coded value and its English label is defined.

Validation (pandera `isin`), the Excel template's dropdowns, the label-to-code normaliser and
the reports all read these lists. Codes are short, stable, lower-case identifiers; labels are
what a person sees. Anchors: domain.md section 5, HTCDS v2 and ICS-TIP for forms, SDMX `_T`
for totals (our `total`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Codelist:
    name: str
    title: str
    items: tuple[tuple[str, str], ...]  # (code, English label)

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.items]

    def label(self, code: str) -> str:
        return dict(self.items).get(code, code)


TOTAL = "total"
UNKNOWN = "unknown"

SEX = Codelist(
    "sex",
    "Sex",
    (
        (TOTAL, "Total"),
        ("female", "Female"),
        ("male", "Male"),
        ("other", "Other"),
        (UNKNOWN, "Unknown"),
    ),
)

AGE = Codelist(
    "age",
    "Age group",
    (
        (TOTAL, "Total"),
        ("child", "0 to 17 years"),
        ("adult", "18 years or over"),
        (UNKNOWN, "Unknown"),
    ),
)

FORM = Codelist(
    "form",
    "Form of exploitation",
    (
        (TOTAL, "Total"),
        ("sexual_exploitation", "Sexual exploitation"),
        ("forced_labour", "Forced labour"),
        ("removal_of_organs", "Removal of organs"),
        ("forced_marriage", "Forced marriage"),
        ("forced_begging", "Forced begging"),
        ("forced_criminal_activity", "Forced criminal activity"),
        ("illegal_adoption", "Illegal adoption"),
        ("mixed", "Mixed forms"),
        ("other", "Other forms of exploitation"),
        (UNKNOWN, "Unknown"),
    ),
)

STAGE = Codelist(
    "stage",
    "Criminal-justice stage",
    (
        ("suspected", "Suspected (brought into formal contact)"),
        ("prosecuted", "Prosecuted"),
        ("convicted", "Convicted"),
    ),
)

CASE_STAGE = Codelist(
    "case_stage",
    "Stage of the case",
    (
        ("investigation", "Under investigation"),
        ("prosecution", "Prosecution"),
        ("conviction", "Conviction"),
        ("acquittal", "Acquittal"),
        ("other", "Other"),
    ),
)

MATERIAL_REMOVED = Codelist(
    "material_removed",
    "What was removed",
    (
        ("kidney", "Kidney"),
        ("liver", "Liver (or part of it)"),
        ("other_organ", "Other organ"),
        ("tissue", "Tissue"),
        ("cells", "Cells"),
        (UNKNOWN, "Unknown"),
    ),
)

# The decision's outcome, as UNODC's case-law database (SHERLOC) records a verdict: guilty of at
# least one charge, not guilty, no judgment on the merits, or no final decision yet.
CASE_OUTCOME = Codelist(
    "case_outcome",
    "Outcome of the case",
    (
        ("conviction", "Conviction (guilty of at least one charge)"),
        ("acquittal", "Acquittal"),
        ("dismissed", "Dismissed or discontinued"),
        ("ongoing", "Ongoing (no final decision)"),
        ("other", "Other"),
        (UNKNOWN, "Unknown"),
    ),
)

YES_NO_UNKNOWN = Codelist(
    "yes_no_unknown",
    "Yes / No / Unknown",
    (("yes", "Yes"), ("no", "No"), (UNKNOWN, "Unknown")),
)

LANGUAGE = Codelist(
    "language",
    "Report language",
    (
        ("ar", "Arabic"),
        ("zh", "Chinese"),
        ("en", "English"),
        ("fr", "French"),
        ("ru", "Russian"),
        ("es", "Spanish"),
    ),
)

# Citizenship is open-ended: an ISO 3166-1 alpha-3 code, or one of these.
CITIZENSHIP_SPECIAL = Codelist(
    "citizenship_special",
    "Citizenship (besides a country)",
    ((TOTAL, "Total"), (UNKNOWN, "Unknown")),
)

# In the published dataUNODC data (warehouse only, never in a submission): what a citizenship or
# country-of-repatriation text resolved to, when it is not a country (transforms/dataunodc.py).
PUBLISHED_COUNTRY_SPECIAL = Codelist(
    "published_country_special",
    "Citizenship or country of repatriation in the published data (besides a country)",
    (
        (TOTAL, "Total"),
        (UNKNOWN, "Unknown"),
        ("abroad", "Another country, not named (e.g. `Abroad`, `Foreigners`)"),
        ("unresolved", "A text that names no single country; kept in `category_text`"),
    ),
)

CODELISTS: dict[str, Codelist] = {
    c.name: c
    for c in (SEX, AGE, FORM, STAGE, CASE_STAGE, CASE_OUTCOME, MATERIAL_REMOVED, YES_NO_UNKNOWN,
              LANGUAGE)
}


def match_key(text: str) -> str:
    """How labels and codes are compared: case, spaces, `_` and `-` do not matter."""
    return " ".join(str(text).casefold().replace("_", " ").replace("-", " ").split())


def code_lookup(codelist: Codelist, extra_labels: dict[str, str] | None = None) -> dict[str, str]:
    """Every accepted spelling (code or label, any case) -> code."""
    lookup = {}
    for code, label in codelist.items:
        lookup[match_key(code)] = code
        lookup[match_key(label)] = code
    for label, code in (extra_labels or {}).items():
        lookup[match_key(label)] = code
    return lookup
