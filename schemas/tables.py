"""The submitted tables, declared once as pandera models.

Each model says what a table's columns must be (types, codelists, ranges, required values,
unique keys). The Field metadata says how a column is coded, so that the normaliser, the
template's dropdowns, the table-level rules and the reports read the same declaration:
- `codelist`: the column takes codes of that codelist (labels are accepted and mapped);
- `country`: an ISO 3166-1 alpha-3 code (names are accepted and resolved), plus the codes of
  the codelist named by `special` (e.g. `total`, `unknown`);
- `list_of`: a `;`-separated list of countries (`country`) or of codes of a codelist;
- `dimension`: a breakdown whose categories must not add up to more than its `total` row;
- `example`: a value shown in the template's instructions;
- `date`: a calendar date, `YYYY-MM-DD` (an Excel date cell is read as one);
- `free_text`: text written by the submitter (not a code, a number or a country), screened for
  personal data (`schemas.personal_data`, rule `personal-data`);
- `contact`: the focal point's own work contact: not screened (it is meant to hold an
  address), kept in the register for the data team, never in the analysts' snapshot or Parquet.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

import pandas as pd
import pandera.pandas as pa
from pandera import extensions
from pandera.typing import Series

from schemas import codelists as cl
from schemas.countries import country_codes

TEMPLATE_VERSION = "1"
MIN_YEAR, MAX_YEAR = 1990, 2100
SUMMARY_MAX_CHARS = 1000
EMAIL_PATTERN = r"^[^@\s;,]+@[^@\s;,]+\.[A-Za-z]{2,}$"
LIST_SEPARATOR = ";"


@cache
def allowed_countries(special: str | None = None) -> frozenset[str]:
    codes = set(country_codes())
    if special:
        codes |= set(cl.CODELISTS.get(special, cl.CITIZENSHIP_SPECIAL).codes)
    return frozenset(codes)


def _codes(codelist: cl.Codelist) -> list[str]:
    return codelist.codes


def _list_allowed(list_of: str, special: str) -> frozenset[str]:
    if list_of == "country":
        return allowed_countries(special or None)
    return frozenset(cl.CODELISTS[list_of].codes)


@extensions.register_check_method(statistics=["special"])
def country(series: pd.Series, *, special: str) -> pd.Series:
    """An ISO3 code (or one of the `special` codelist's codes, when named)."""
    return series.isin(allowed_countries(special or None))


@extensions.register_check_method(statistics=["list_of", "special"])
def list_items(series: pd.Series, *, list_of: str, special: str) -> pd.Series:
    """Every `;`-separated item is a country (list_of="country") or a code of `list_of`."""
    allowed = _list_allowed(list_of, special)
    return series.map(
        lambda text: all(item in allowed for item in str(text).split(LIST_SEPARATOR) if item),
        na_action="ignore",
    ).fillna(True).astype(bool)


DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parsed_date(text: object) -> dt.date | None:
    """A `YYYY-MM-DD` text as a date; None for anything else (`15/03/2022` could be either
    order of day and month, so only the ISO form is taken)."""
    text = str(text)
    if not DATE_PATTERN.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:  # 2022-02-30
        return None


@extensions.register_check_method(statistics=["min_year", "max_year"])
def iso_date(series: pd.Series, *, min_year: int, max_year: int) -> pd.Series:
    """A real calendar date written YYYY-MM-DD, in a plausible year."""
    def valid(text) -> bool:
        date = parsed_date(text)
        return date is not None and min_year <= date.year <= max_year
    return series.map(valid, na_action="ignore").fillna(True).astype(bool)


def _year(**kwargs) -> pa.Field:
    return pa.Field(ge=MIN_YEAR, le=MAX_YEAR, coerce=True, title="Year",
                    description="Calendar year the figures refer to (four digits).",
                    metadata={"example": "2022"}, **kwargs)


def _coded(codelist: cl.Codelist, *, title: str, dimension: bool = False, nullable: bool = False,
           description: str = "") -> pa.Field:
    """A column of codes. Its `title` is the column's own (its header in a translated
    template), never the codelist's: a list such as Yes / No / Unknown is no column's name."""
    return pa.Field(isin=_codes(codelist), nullable=nullable, title=title,
                    description=description or f"One of the {codelist.title.lower()} codes.",
                    metadata={"codelist": codelist.name, "dimension": dimension,
                              "example": codelist.codes[0]})


def _citizenship() -> pa.Field:
    return pa.Field(nullable=False, country={"special": cl.CITIZENSHIP_SPECIAL.name}, title="Citizenship",
                    description="ISO 3166-1 alpha-3 code or English name of the victims' "
                                "country of citizenship, `total` or `unknown`.",
                    metadata={"country": True, "special": cl.CITIZENSHIP_SPECIAL.name,
                              "dimension": True, "example": "total"})


def _countries(title: str, description: str, example: str) -> pa.Field:
    """A `;`-separated list of countries (ISO3 codes or names), or unknown / total."""
    return pa.Field(nullable=True, list_items={"list_of": "country", "special": cl.CITIZENSHIP_SPECIAL.name},
                    title=title, description=description,
                    metadata={"list_of": "country", "example": example})


def _count(title: str = "Count", nullable: bool = False, description: str = "",
           example: str = "12") -> pa.Field:
    return pa.Field(ge=0, coerce=True, nullable=nullable, title=title,
                    description=description or "Exact number of persons (a whole number, "
                                               "0 or more; never `<5`).",
                    metadata={"count": True, "example": example})


class SubmissionModel(pa.DataFrameModel):
    """One row that says who submits what."""

    country: Series[str] = pa.Field(
        country={"special": ""}, title="Country", description="ISO 3166-1 alpha-3 code or English name of the submitting "
        "Member State.", metadata={"country": True, "example": "NGA"})
    year_from: Series[pd.Int64Dtype] = pa.Field(
        ge=MIN_YEAR, le=MAX_YEAR, coerce=True, title="First year reported",
        description="First calendar year covered by this submission.", metadata={"example": "2021"})
    year_to: Series[pd.Int64Dtype] = pa.Field(
        ge=MIN_YEAR, le=MAX_YEAR, coerce=True, title="Last year reported",
        description="Last calendar year covered by this submission.", metadata={"example": "2022"})
    institution: Series[str] = pa.Field(
        title="Institution", description="Name of the national institution submitting the data.",
        metadata={"free_text": True, "example": "National Referral Mechanism"})
    # The focal point's work address, so not screened for personal data (it would always be
    # one): its own check lets through one address and nothing else (a telephone number typed
    # here is an `invalid-email`, whose value is withheld). Register only, never the analysts'.
    contact_email: Series[str] = pa.Field(
        str_matches=EMAIL_PATTERN, title="Contact e-mail",
        description="E-mail address of the national focal point who answers questions on it.",
        metadata={"contact": True, "example": "focal.point@ministry.gov"})
    language: Series[str] = pa.Field(
        isin=_codes(cl.LANGUAGE), nullable=True, title="Report language",
        description="Language of the validation report (ar, zh, en, fr, ru, es; English when empty).",
        metadata={"codelist": cl.LANGUAGE.name, "example": "en"})
    template_version: Series[str] = pa.Field(
        nullable=True, title="Template version",
        description="Version of the template used (filled in by the template).",
        metadata={"free_text": True, "example": "1"})

    class Config:
        coerce = True


class VictimsModel(pa.DataFrameModel):
    """Detected victims: one row per cell of a breakdown."""

    year: Series[pd.Int64Dtype] = _year()
    sex: Series[str] = _coded(cl.SEX, title="Sex", dimension=True)
    age: Series[str] = _coded(cl.AGE, title="Age group", dimension=True,
                              description="Age group: child is 0 to 17 years, adult 18 years or over.")
    form: Series[str] = _coded(cl.FORM, title="Form of exploitation", dimension=True)
    citizenship: Series[str] = _citizenship()
    count: Series[pd.Int64Dtype] = _count("Victims")

    class Config:
        coerce = True
        unique = ["year", "sex", "age", "form", "citizenship"]


class OffendersModel(pa.DataFrameModel):
    """Persons suspected, prosecuted and convicted of trafficking in persons."""

    year: Series[pd.Int64Dtype] = _year()
    stage: Series[str] = _coded(cl.STAGE, title="Criminal-justice stage")
    sex: Series[str] = _coded(cl.SEX, title="Sex", dimension=True)
    age: Series[str] = _coded(cl.AGE, title="Age group", dimension=True)
    citizenship: Series[str] = _citizenship()
    form: Series[str] = _coded(cl.FORM, title="Form of exploitation", dimension=True,
                               description="Form of exploitation of the offence, where known.")
    count: Series[pd.Int64Dtype] = _count("Persons")

    class Config:
        coerce = True
        unique = ["year", "stage", "sex", "age", "citizenship", "form"]


class RepatriatedModel(pa.DataFrameModel):
    """Nationals identified as victims abroad and returned home."""

    year: Series[pd.Int64Dtype] = _year()
    country_of_detection: Series[str] = pa.Field(
        country={"special": cl.CITIZENSHIP_SPECIAL.name}, title="Country of detection",
        description="ISO3 code or English name of the country where the victims were "
                    "identified, `total` or `unknown`.",
        metadata={"country": True, "special": cl.CITIZENSHIP_SPECIAL.name, "dimension": True,
                  "example": "THA"})
    sex: Series[str] = _coded(cl.SEX, title="Sex", dimension=True)
    age: Series[str] = _coded(cl.AGE, title="Age group", dimension=True)
    count: Series[pd.Int64Dtype] = _count("Victims repatriated")

    class Config:
        coerce = True
        unique = ["year", "country_of_detection", "sex", "age"]


class OrganRemovalCasesModel(pa.DataFrameModel):
    """One row per case of trafficking for the removal of organs, tissues or cells.

    No names or personal identifiers: the submitter's own case reference only.
    """

    case_reference: Series[str] = pa.Field(
        unique=True, title="Case reference",
        description="The submitter's own reference for the case (no names).",
        metadata={"free_text": True, "example": "OR-2022-01"})
    year: Series[pd.Int64Dtype] = _year()
    stage: Series[str] = _coded(cl.CASE_STAGE, title="Stage of the case")
    # examples of one case that add up: 3 victims, 1 woman and 2 men, no child
    victims_total: Series[pd.Int64Dtype] = _count("Victims (total)", example="3")
    victims_female: Series[pd.Int64Dtype] = _count("Victims (female)", nullable=True, example="1",
                                                    description="Female victims, where known.")
    victims_male: Series[pd.Int64Dtype] = _count("Victims (male)", nullable=True, example="2",
                                                  description="Male victims, where known.")
    victims_children: Series[pd.Int64Dtype] = _count(
        "Victims (children)", nullable=True, example="0", description="Victims aged 0 to 17, where known.")
    victims_citizenship: Series[str] = _countries(
        "Victims' citizenship",
        "Countries of citizenship of the victims (ISO3 codes or names, separated by ;).",
        example="NPL;IND")
    material_removed: Series[str] = pa.Field(
        list_items={"list_of": cl.MATERIAL_REMOVED.name, "special": ""},
        title="What was removed",
        description="What was removed (kidney, liver, other_organ, tissue, cells, unknown; "
                    "several separated by ;).",
        metadata={"list_of": cl.MATERIAL_REMOVED.name, "example": "kidney"})
    recruitment_countries: Series[str] = _countries(
        "Countries of recruitment",
        "Where victims were recruited (ISO3; ;-separated).",
        example="NPL")
    removal_countries: Series[str] = _countries(
        "Countries of removal",
        "Where the removal took place (ISO3; ;-separated).",
        example="IND")
    recipient_countries: Series[str] = _countries(
        "Countries of the recipients",
        "Where the recipients of the organs came from (ISO3; ;-separated).",
        example="ISR")
    medical_professionals_involved: Series[str] = _coded(
        cl.YES_NO_UNKNOWN, title="Medical professionals involved", description="Whether medical professionals took part (yes, no, unknown).")
    # What a record of UNODC's case-law database holds beyond the rest: who was prosecuted,
    # which court decided, when and how. All optional: files made before they existed stay valid.
    offenders_total: Series[pd.Int64Dtype] = _count(
        "Offenders (total)", nullable=True, example="2",
        description="Persons prosecuted or convicted in the case, where known.")
    offenders_female: Series[pd.Int64Dtype] = _count(
        "Offenders (female)", nullable=True, example="0", description="Female offenders, where known.")
    offenders_male: Series[pd.Int64Dtype] = _count(
        "Offenders (male)", nullable=True, example="2", description="Male offenders, where known.")
    offenders_citizenship: Series[str] = _countries(
        "Offenders' citizenship",
        "Countries of citizenship of the offenders (ISO3 codes or names, separated by ;).",
        example="NPL;IND")
    court: Series[str] = pa.Field(
        nullable=True, title="Court",
        description="Name of the court that decided the case (no names of persons).",
        metadata={"free_text": True, "example": "District Court of Kathmandu"})
    court_decision_reference: Series[str] = pa.Field(
        nullable=True, title="Court decision reference",
        description="Reference of the court decision, for UNODC's case law database.",
        metadata={"free_text": True, "example": "Supreme Court, 123/2022"})
    decision_date: Series[str] = pa.Field(
        nullable=True, iso_date={"min_year": MIN_YEAR, "max_year": MAX_YEAR}, title="Decision date",
        description="Date of the court decision, as YYYY-MM-DD or an Excel date; not in the future.",
        metadata={"date": True, "example": "2022-11-15"})
    outcome: Series[str] = _coded(
        cl.CASE_OUTCOME, title="Outcome", nullable=True,
        description="Outcome of the decision (conviction, acquittal, dismissed, ongoing, other, unknown).")
    summary: Series[str] = pa.Field(
        nullable=True, str_length={"max_value": SUMMARY_MAX_CHARS}, title="Case summary",
        description=f"A short description (at most {SUMMARY_MAX_CHARS} characters) with no "
                    "names or identifying details.",
        metadata={"free_text": True, "example": "Recruited with promises of work; kidneys removed in a private clinic."})

    class Config:
        coerce = True


@dataclass(frozen=True)
class TableSpec:
    name: str
    model: type[pa.DataFrameModel]
    required: bool
    title: str
    description: str

    @property
    def schema(self) -> pa.DataFrameSchema:
        return _schema(self.model)

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)

    @property
    def key(self) -> list[str]:
        unique = self.schema.unique
        return list(unique) if unique else []

    def column_meta(self, column: str) -> dict:
        return self.schema.columns[column].metadata or {}

    def columns_where(self, meta_key: str) -> list[str]:
        return [c for c in self.columns if self.column_meta(c).get(meta_key)]


@cache
def _schema(model: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    return model.to_schema()


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("submission", SubmissionModel, True, "Submission",
                  "Who submits, for which country and years, and where to send the report."),
        TableSpec("victims", VictimsModel, True, "Detected victims",
                  "Victims of trafficking in persons detected, by year, sex, age, form of "
                  "exploitation and citizenship."),
        TableSpec("offenders", OffendersModel, False, "Offenders",
                  "Persons suspected, prosecuted and convicted, by year, sex, age, citizenship "
                  "and form of exploitation."),
        TableSpec("repatriated", RepatriatedModel, False, "Repatriated victims",
                  "Nationals identified as victims abroad and repatriated, by country of "
                  "detection."),
        TableSpec("organ_removal_cases", OrganRemovalCasesModel, False,
                  "Organ removal cases",
                  "One row per case of trafficking for the removal of organs, tissues or cells."),
    )
}

FACT_TABLES = [name for name in TABLES if name != "submission"]
