"""Write the example submissions in `sample_submissions/` from the published GLOTIP export.

    .venv/bin/python scripts/make_sample_submissions.py [../shared/data/real/data_glotip_2025-04-14.xlsx]

The numbers come from UNODC's dataUNODC export `data_glotip` dated 14/04/2025. Only this script
reads the export; the files it writes are committed and the pipeline never reads the export.
How published figures become submission figures (see also sample_submissions/README.md):

- `<5` becomes an exact count of 1 to 4, chosen from the cell's key (so every run picks the
  same); `1,757` becomes 1757; rows repeating a key ("Other forms of exploitation" sub-forms)
  are added up.
- The finest published cells are kept (girls, boys, women, men, `Other` and `Unknown` sex).
  What a published total leaves unexplained by its parts becomes `unknown`; a total that is
  smaller than its parts is raised to their sum. Every total row written is the sum of the
  cells under it, so parts never exceed totals.
- A form-of-exploitation or citizenship breakdown that adds up to more than the figure it
  breaks down is scaled down proportionally to fit it (the export's convicted-by-form rows,
  for instance, repeat the victims' figures).
- Where the export has no figure for a year, the country's latest published year stands in;
  the README says where.

The script is deterministic: the same export gives byte-identical files (fixed zip times).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import itertools
import re
import shutil
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd

from schemas import codelists as cl
from schemas.tables import TABLES, TEMPLATE_VERSION
from transforms.template import write_template

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sample_submissions"
DEFAULT_EXPORT = "../shared/data/real/data_glotip_2025-04-14.xlsx"
ZIP_TIME = (2025, 4, 14, 0, 0, 0)  # every member of every zip/xlsx written carries this time

VICTIMS_INDICATOR = "Detected trafficking victims"
STAGE_INDICATORS = {"suspected": "Persons brought into formal contact", "prosecuted": "Persons prosecuted",
                    "convicted": "Persons convicted"}
BY_FORM, BY_CITIZENSHIP, BY_REPATRIATION = ("by form of exploitation", "by citizenship",
                                            "by country of repatriation")
SEX_LABELS = {"female": "Female", "male": "Male", "other": "Other", "unknown": "Unknown"}
AGE_LABELS = {"child": "0 to 17 years", "adult": "18 years or over", "unknown": "Unknown"}
FORM_LABELS = {"sexual_exploitation": "Sexual exploitation", "forced_labour": "Forced labour",
               "other": "Other forms of exploitation"}

# The export's free-text citizenship / repatriation categories used below, as ISO3 codes.
COUNTRY_TEXTS = {
    "Afghani": "AFG", "Albanians": "ALB", "Algerians": "DZA", "Bangladesh": "BGD",
    "Beninoise": "BEN", "Benin Rep": "BEN", "Brazilian": "BRA", "British": "GBR",
    "Bulgarian": "BGR", "Burkina Faso": "BFA", "Burmese": "MMR", "Burundean": "BDI",
    "Cambodian": "KHM", "Cameroonian": "CMR", "Chadian": "TCD", "Chinese": "CHN",
    "Colombian": "COL", "Comorian islands": "COM", "Congolese (DRC)": "COD",
    "Cote d'ivoire": "CIV", "Cuban": "CUB", "Dominican rep": "DOM", "Dutch": "NLD",
    "Egyptian": "EGY", "Equatorial Guinea": "GNQ", "Eritrean": "ERI", "Ethiopian": "ETH",
    "Filippino": "PHL", "French": "FRA", "Gabon": "GAB", "Georgian": "GEO", "Ghana": "GHA",
    "Ghanean": "GHA", "Guinean": "GIN", "Haitian": "HTI", "Indian": "IND", "Iranian": "IRN",
    "Iraq": "IRQ", "Israelian": "ISR", "Ivory Coast": "CIV", "Japanese": "JPN",
    "Laotian": "LAO", "Liberian": "LBR", "Libya": "LBY", "Lybians": "LBY", "Malaysian": "MYS",
    "Mali": "MLI", "Malian": "MLI", "Mauritius": "MUS", "Mexican": "MEX", "Moldavian": "MDA",
    "Moroccan": "MAR", "Nepalese": "NPL", "Nigerians": "NGA", "Nigerin": "NER", "Oman": "OMN",
    "Pakistani": "PAK", "Paraguayian": "PRY", "Peruvian": "PER", "Portuguese": "PRT",
    "Romanian": "ROU", "Senegal": "SEN", "Senegalese": "SEN", "Serbians": "SRB",
    "Sierra Leonean": "SLE", "Sierra leone": "SLE", "South Korean": "KOR", "Spanish": "ESP",
    "Sri Lankan": "LKA", "Sudanese": "SDN", "Syria": "SYR", "Taiwanese": "TWN",
    "Tanzanian": "TZA", "Togo": "TGO", "Togolese": "TGO", "Tunisia": "TUN", "UAE": "ARE",
    "USA": "USA", "Ugandan": "UGA", "Ukraineans": "UKR", "Venezuelan": "VEN",
    "Vietnamese": "VNM", "Unknown": "unknown",
}


# -- the published export -----------------------------------------------------------------------

class Export:
    """The export's values by key; `get` answers 0 where the export has no row."""

    def __init__(self, path: Path):
        raw = pd.read_excel(path, engine="calamine", header=None)
        data = raw.iloc[3:].set_axis([str(c) for c in raw.iloc[2]], axis=1)
        columns = ["Iso3_code", "Indicator", "Dimension", "Category", "Sex", "Age", "Year", "txtVALUE"]
        self.values: Counter = Counter()
        for *key, text in data[columns].itertuples(index=False):
            key = tuple(str(k).strip() for k in key[:-1]) + (int(key[-1]),)
            self.values[key] += exact(text, key)

    def get(self, iso, indicator, year, sex="Total", age="Total", dimension="Total", category="Total") -> int:
        return self.values.get((iso, indicator, dimension, category, sex, age, year), 0)

    def categories(self, iso, indicator, year, dimension) -> dict[str, int]:
        """A breakdown published at sex and age Total, by its `Category` text."""
        return {key[3]: n for key, n in self.values.items()
                if key[:3] == (iso, indicator, dimension) and key[4:] == ("Total", "Total", year)}


def exact(text, key) -> int:
    """A published value as an exact count: `<5` becomes 1-4, picked from the cell's key."""
    text = str(text).strip()
    if text.startswith("<"):
        return 1 + zlib.crc32("|".join(map(str, key)).encode()) % 4
    return int(float(text.replace(",", "")))


# -- consistent breakdowns ----------------------------------------------------------------------

def fit(parts: dict, total: int, rest: str | None = "unknown") -> dict:
    """Parts scaled down proportionally if they exceed `total`; what is left goes to `rest`."""
    parts = {k: v for k, v in parts.items() if v}
    if sum(parts.values()) > total:
        scale = sum(parts.values())
        parts = {k: v * total // scale for k, v in parts.items()}
    if rest:
        parts[rest] = parts.get(rest, 0) + total - sum(parts.values())
    return {k: v for k, v in parts.items() if v}


def sex_age_cells(export: Export, iso: str, indicator: str, year: int) -> Counter:
    """Counts by (sex, age) at the finest level published, totals' remainders as `unknown`."""
    def get(sex="Total", age="Total") -> int:
        return export.get(iso, indicator, year, sex, age)

    cells = Counter()
    for sex in ("female", "male", "other"):
        for age in ("child", "adult"):
            cells[sex, age] = get(SEX_LABELS[sex], AGE_LABELS[age])
        cells[sex, "unknown"] = max(0, get(SEX_LABELS[sex]) - cells[sex, "child"] - cells[sex, "adult"])
    cells["unknown", "unknown"] = get("Unknown", "Unknown")
    room = get() - sum(cells.values())  # victims in the total that no sex row accounts for
    for age in ("child", "adult"):
        extra = get(age=AGE_LABELS[age]) - sum(cells[sex, age] for sex in ("female", "male", "other"))
        extra = max(0, min(extra, room))
        cells["unknown", age] += extra
        room -= extra
    cells["unknown", "unknown"] += max(0, room)
    return +cells


def victim_cells(export: Export, iso: str, year: int, forms=FORM_LABELS, added=None) -> Counter:
    """Counts by (sex, age, form): each sex-age cell split by the published forms (and by the
    `added` cells, e.g. removal of organs), the rest of the cell being form `unknown`."""
    cells = Counter()
    for (sex, age), n in sex_age_cells(export, iso, VICTIMS_INDICATOR, year).items():
        parts = {form: export.get(iso, VICTIMS_INDICATOR, year, SEX_LABELS[sex], AGE_LABELS[age], BY_FORM, label)
                 for form, label in forms.items()}
        parts.update((added or {}).get((sex, age), {}))
        for form, m in fit(parts, n).items():
            cells[sex, age, form] = m
    return cells


def with_totals(cells: Counter) -> Counter:
    """Every cell counted in itself and in each total row above it (any dimension `total`)."""
    rows = Counter()
    for key, n in cells.items():
        for mask in itertools.product((False, True), repeat=len(key)):
            rows[tuple(cl.TOTAL if m else k for k, m in zip(key, mask))] += n
    return rows


def by_country(export: Export, iso, indicator, year, dimension, total, keep=None) -> dict:
    """A published citizenship / repatriation breakdown as ISO3 codes, fitted into `total`."""
    parts = Counter()
    for text, n in export.categories(iso, indicator, year, dimension).items():
        code = iso if text == "Nationals" else COUNTRY_TEXTS.get(text)
        if code and (keep is None or code in keep):
            parts[code] += n
    return fit(parts, total, rest=None)


# -- tables -------------------------------------------------------------------------------------

ORDER = {code: i for codelist in (cl.SEX, cl.AGE, cl.FORM, cl.STAGE) for i, code in enumerate(codelist.codes)}


def sort_key(row: dict):
    def rank(value):
        if isinstance(value, int):
            return (0, value, "")
        if value in (cl.TOTAL, cl.UNKNOWN):
            return (1 if value == cl.TOTAL else 3, 0, "")
        return (2, ORDER.get(value, 0), value)
    return [rank(v) for k, v in row.items() if k != "count"]


def victims_rows(year: int, cells: Counter, citizenship: dict | None = None) -> list[dict]:
    rows = [dict(year=year, sex=s, age=a, form=f, citizenship=cl.TOTAL, count=n)
            for (s, a, f), n in with_totals(cells).items()]
    rows += [dict(year=year, sex=cl.TOTAL, age=cl.TOTAL, form=cl.TOTAL, citizenship=c, count=n)
             for c, n in (citizenship or {}).items()]
    return sorted(rows, key=sort_key)


def offenders_rows(export: Export, iso: str, year: int, data_year: int | None = None,
                   citizenship_of: tuple = ("convicted",), form_of: tuple = ("convicted",)) -> list[dict]:
    """Each stage by sex and age; convicted persons also by citizenship and by form."""
    data_year = data_year or year
    rows = []
    for stage, indicator in STAGE_INDICATORS.items():
        cells = sex_age_cells(export, iso, indicator, data_year)
        if not cells:
            continue
        total = sum(cells.values())
        for (sex, age), n in with_totals(cells).items():
            rows.append(dict(year=year, stage=stage, sex=sex, age=age, citizenship=cl.TOTAL,
                             form=cl.TOTAL, count=n))
        if stage in citizenship_of:
            for code, n in by_country(export, iso, indicator, data_year, BY_CITIZENSHIP, total).items():
                rows.append(dict(year=year, stage=stage, sex=cl.TOTAL, age=cl.TOTAL, citizenship=code,
                                 form=cl.TOTAL, count=n))
        if stage in form_of:
            parts = {form: export.get(iso, indicator, data_year, dimension=BY_FORM, category=label)
                     for form, label in FORM_LABELS.items()}
            if any(parts.values()):
                for form, n in fit(parts, total).items():
                    rows.append(dict(year=year, stage=stage, sex=cl.TOTAL, age=cl.TOTAL,
                                     citizenship=cl.TOTAL, form=form, count=n))
    return sorted(rows, key=sort_key)


def repatriated_rows(year: int, countries: dict, total: int) -> list[dict]:
    total = max(total, sum(countries.values()))
    rows = [dict(year=year, country_of_detection=cl.TOTAL, sex=cl.TOTAL, age=cl.TOTAL, count=total)]
    rows += [dict(year=year, country_of_detection=c, sex=cl.TOTAL, age=cl.TOTAL, count=n)
             for c, n in sorted(countries.items())]
    return rows


def published_repatriated(export: Export, iso: str, year: int, data_year: int | None = None) -> list[dict]:
    data_year = data_year or year
    abroad = export.categories(iso, VICTIMS_INDICATOR, data_year, BY_REPATRIATION).get("Abroad", 0)
    countries = by_country(export, iso, VICTIMS_INDICATOR, data_year, BY_REPATRIATION, 10**9)
    return repatriated_rows(year, countries, abroad)


def submission(country, year_from, year_to, institution, email, language) -> list[dict]:
    return [dict(country=country, year_from=year_from, year_to=year_to, institution=institution,
                 contact_email=email, language=language, template_version=TEMPLATE_VERSION)]


# -- how values are spelled in a file -----------------------------------------------------------

def _country_names() -> dict[str, str]:
    from schemas.countries import load_countries

    names = load_countries().set_index("iso3")["name"].to_dict()
    return {iso3: name for iso3, name in names.items() if "," not in name}  # lists split on commas


def as_labels(table: str, rows: list[dict]) -> list[dict]:
    """Codes written as the English labels a person would pick (countries as names)."""
    names = _country_names()
    out = []
    for row in rows:
        row = dict(row)
        for column, value in row.items():
            meta = TABLES[table].column_meta(column)
            if not isinstance(value, str):
                continue
            if meta.get("codelist"):
                row[column] = cl.CODELISTS[meta["codelist"]].label(value)
            elif meta.get("country") or meta.get("list_of") == "country":
                items = (names.get(v, cl.CITIZENSHIP_SPECIAL.label(v)) for v in value.split(";"))
                row[column] = "; ".join(items)
            elif meta.get("list_of"):
                items = (cl.CODELISTS[meta["list_of"]].label(v) for v in value.split(";"))
                row[column] = "; ".join(items)
        out.append(row)
    return out


def odd_spellings(table: str, rows: list[dict], every: int = 5) -> list[dict]:
    """Every `every`-th row's coded values in another accepted spelling (case, spaces, label)."""
    variants = (str.upper, lambda v: f"  {v} ", lambda v: v.replace("_", " ").title())
    out = []
    for index, row in enumerate(rows):
        row = dict(row)
        if index % every == 1:
            variant = variants[(index // every) % len(variants)]
            for column, value in row.items():
                if TABLES[table].column_meta(column).get("codelist") and isinstance(value, str):
                    row[column] = variant(value)
        out.append(row)
    return out


# -- writers ------------------------------------------------------------------------------------

def write_xlsx(path: Path, tables: dict[str, list[dict]]) -> None:
    """The template, filled in: numbers as numbers, codes and labels as text."""
    write_template(path)
    workbook = openpyxl.load_workbook(path)
    for table, rows in tables.items():
        sheet = workbook[table]
        header = [cell.value for cell in sheet[1]]
        for line, row in enumerate(rows, start=2):
            for column, value in row.items():
                if column == "template_version":
                    continue  # the template fills it in
                sheet.cell(row=line, column=header.index(column) + 1, value=value)
    workbook.save(path)
    freeze_zip(path)


def csv_text(table: str, rows: list[dict], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TABLES[table].columns, delimiter=delimiter,
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def freeze_zip(path: Path) -> None:
    """Rewrite a zip (or .xlsx) with fixed times, so that reruns give identical bytes."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                              rb"\g<1>2025-04-14T00:00:00Z", data)
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, zipfile.ZIP_DEFLATED)


# -- the submissions ----------------------------------------------------------------------------

def thailand(export: Export) -> None:
    """THA 2021-2022, English labels throughout; accepted with no findings."""
    victims, offenders = [], []
    for year in (2021, 2022):
        cells = victim_cells(export, "THA", year)
        total = sum(cells.values())
        citizenship = by_country(export, "THA", VICTIMS_INDICATOR, year, BY_CITIZENSHIP, total,
                                 keep={"MMR", "KHM", "LAO", "THA", "unknown"})
        victims += victims_rows(year, cells, citizenship)
        offenders += offenders_rows(export, "THA", year)
    # The export's latest repatriation figure for Thailand is 2020 (59, "Abroad"); these
    # 2021-2022 rows are illustrative splits of a similar number.
    repatriated = (repatriated_rows(2021, {"MYS": 23, "JPN": 9, "KOR": 7, "unknown": 6}, 59)
                   + repatriated_rows(2022, {"MYS": 27, "JPN": 11, "KOR": 8, "ARE": 4}, 64))
    write_xlsx(OUT / "THA_2021-2022.xlsx", {
        "submission": as_labels("submission", submission(
            "Thailand", 2021, 2022, "Office of the National Anti-Trafficking Data Committee",
            "focal.point@antitrafficking-data.go.th", "en")),
        "victims": as_labels("victims", victims),
        "offenders": as_labels("offenders", offenders),
        "repatriated": as_labels("repatriated", repatriated),
    })


def nigeria(export: Export) -> None:
    """NGA 2021-2022 as a .zip of comma-separated CSV files, codes throughout; accepted."""
    victims, offenders = [], []
    for year in (2021, 2022):
        cells = victim_cells(export, "NGA", year)
        citizenship = by_country(export, "NGA", VICTIMS_INDICATOR, year, BY_CITIZENSHIP, sum(cells.values()))
        victims += victims_rows(year, cells, citizenship)
        offenders += offenders_rows(export, "NGA", year)
    tables = {
        "submission": submission("NGA", 2021, 2022, "National Trafficking in Persons Statistics Unit",
                                 "focal.point@tip-statistics.gov.ng", "en"),
        "victims": victims,
        "offenders": offenders,
        "repatriated": published_repatriated(export, "NGA", 2021),  # none published for 2022
    }
    path = OUT / "NGA_2021-2022.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for table, rows in tables.items():
            archive.writestr(zipfile.ZipInfo(f"{table}.csv", ZIP_TIME), csv_text(table, rows),
                             zipfile.ZIP_DEFLATED)


def mexico(export: Export) -> None:
    """MEX 2022: a folder of `;`-separated CSV files with a UTF-8 BOM, Spanish report;
    codes with some odd spellings (upper case, spaces, labels); accepted."""
    cells = victim_cells(export, "MEX", 2022)
    tables = {
        "submission": submission("México", 2022, 2022,
                                 "Unidad de Estadística sobre Trata de Personas, Fiscalía Especializada",
                                 "punto.focal@estadistica-trata.gob.mx", "es"),
        "victims": odd_spellings("victims", victims_rows(2022, cells)),
        "offenders": odd_spellings("offenders", offenders_rows(export, "MEX", 2022)),
    }
    folder = OUT / "MEX_2022"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for table, rows in tables.items():
        text = csv_text(table, rows, delimiter=";")
        (folder / f"{table}.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


def france(export: Export) -> None:
    """FRA 2021-2022, French report, codes; every published citizenship; accepted."""
    victims, offenders = [], []
    for year in (2021, 2022):
        cells = victim_cells(export, "FRA", year)
        citizenship = by_country(export, "FRA", VICTIMS_INDICATOR, year, BY_CITIZENSHIP, sum(cells.values()))
        victims += victims_rows(year, cells, citizenship)
        offenders += offenders_rows(export, "FRA", year)
    write_xlsx(OUT / "FRA_2021-2022.xlsx", {
        "submission": submission("FRA", 2021, 2022,
                                 "Observatoire national des données sur la traite des êtres humains",
                                 "point.focal@observatoire-traite.gouv.fr", "fr"),
        "victims": victims,
        "offenders": offenders,
    })


def organ_case(reference, year, stage, victims, female, male, children, citizenship, material,
               recruitment, removal, recipients, medical, decision_reference, summary,
               **case_law) -> dict:
    """`case_law`: the case-law columns (court, decision_date, outcome, offenders_*), where a
    sample has them."""
    return dict(case_reference=reference, year=year, stage=stage, victims_total=victims,
                victims_female=female, victims_male=male, victims_children=children,
                victims_citizenship=citizenship, material_removed=material,
                recruitment_countries=recruitment, removal_countries=removal,
                recipient_countries=recipients, medical_professionals_involved=medical,
                court_decision_reference=decision_reference, summary=summary, **case_law)


def egypt(export: Export) -> None:
    """EGY 2022, Arabic report, English labels, organ-removal cases; accepted.

    The export has one 2022 cell for Egypt (other forms of exploitation, <5): removal of
    organs here, matching the cases. The other 2022 figures repeat the 2021 published ones."""
    cases = [
        organ_case("EGY-OR-2022-01", 2022, "prosecution", 2, 0, 2, 0, "EGY", "kidney", "EGY", "EGY",
                   "unknown", "yes", None,
                   "Two adult men were recruited in a rural area with offers of payment for a "
                   "kidney. The removals took place in an unlicensed private clinic; a surgeon "
                   "and two brokers were charged."),
        organ_case("EGY-OR-2022-02", 2022, "investigation", 1, 1, 0, 0, "SDN", "liver", "SDN;EGY",
                   "EGY", "EGY", "unknown", None,
                   "A woman from a neighbouring country was recruited through an intermediary and "
                   "part of her liver was removed. The investigation of the clinic and of the "
                   "recipient is ongoing."),
    ]
    organs = {("male", "adult"): {"removal_of_organs": 2}, ("female", "adult"): {"removal_of_organs": 1}}
    forms = {f: label for f, label in FORM_LABELS.items() if f != "other"}
    cells = victim_cells(export, "EGY", 2021, forms=forms, added=organs)
    citizenship = by_country(export, "EGY", VICTIMS_INDICATOR, 2021, BY_CITIZENSHIP, sum(cells.values()) - 1)
    citizenship["SDN"] = 1
    write_xlsx(OUT / "EGY_2022.xlsx", {
        "submission": as_labels("submission", submission(
            "Egypt", 2022, 2022, "الوحدة الوطنية لتنسيق بيانات مكافحة الاتجار بالبشر",
            "focal.point@tip-data.gov.eg", "ar")),
        "victims": as_labels("victims", victims_rows(2022, cells, citizenship)),
        "offenders": as_labels("offenders", offenders_rows(export, "EGY", 2022, data_year=2021)),
        "repatriated": as_labels("repatriated",
                                 published_repatriated(export, "EGY", 2022, data_year=2021)),
        "organ_removal_cases": as_labels("organ_removal_cases", cases),
    })


def nepal(export: Export) -> None:
    """NPL 2022, codes (a few in odd spellings), organ-removal cases (kidneys removed in
    India) with the case-law columns (court, decision date as an Excel date, outcome,
    offenders); accepted. Like Egypt, the single 2022 cell is the organ removals; the rest
    repeats 2021, the latest year with a breakdown."""
    cases = [
        organ_case("NPL-OR-2022-01", 2022, "conviction", 2, 0, 2, 0, "NPL", "kidney", "NPL", "IND",
                   "IND", "yes", "District Court, criminal case of 2022",
                   "Two men from a rural district were recruited with promises of work abroad, "
                   "taken across the border and had a kidney removed in a private hospital. "
                   "The broker was convicted.",
                   offenders_total=1, offenders_female=0, offenders_male=1,
                   offenders_citizenship="NPL", court="District Court",
                   decision_date=dt.datetime(2022, 11, 15), outcome="conviction"),
        organ_case("NPL-OR-2022-02", 2022, "investigation", 1, 0, 1, None, "NPL", "kidney", "NPL",
                   "IND", "unknown", "unknown", None,
                   "A man was offered a loan against the sale of a kidney, which was removed in "
                   "a hospital across the border; the recruiters are under investigation.",
                   outcome="ongoing"),
    ]
    organs = {("male", "adult"): {"removal_of_organs": 3}}
    cells = victim_cells(export, "NPL", 2021, forms={}, added=organs)
    write_xlsx(OUT / "NPL_2022.xlsx", {
        "submission": submission("NPL", 2022, 2022, "National Anti-Trafficking Data Cell",
                                 "focal.point@antitrafficking-data.gov.np", "en"),
        "victims": odd_spellings("victims", victims_rows(2022, cells, {"NPL": sum(cells.values())})),
        "offenders": offenders_rows(export, "NPL", 2022, data_year=2021),
        "organ_removal_cases": cases,
    })


def ukraine(export: Export) -> None:
    """UKR 2021-2022, codes; accepted with warnings only:
    - 2021: all four sex categories given, adding up to less than the total (the export's
      total includes 26 children whose sex it does not give): parts-differ-from-total;
    - 2022: organ-removal cases count 3 victims, `victims` reports 1 for removal of organs:
      organ-cases-exceed-victims."""
    def get(year, **kw) -> int:
        return export.get("UKR", VICTIMS_INDICATOR, year, **kw)

    victims = []
    for year in (2021, 2022):
        total, children = get(year), get(year, age=AGE_LABELS["child"])
        rows = {("total", "total", "total"): total,
                ("female", "total", "total"): get(year, sex="Female"),
                ("male", "total", "total"): get(year, sex="Male"),
                ("total", "child", "total"): children,
                ("total", "adult", "total"): total - children}
        if year == 2021:
            rows["other", "total", "total"] = 1
            rows["unknown", "total", "total"] = 2
            rows["total", "total", "other"] = get(year, dimension=BY_FORM, category=FORM_LABELS["other"])
        else:
            rows["total", "total", "removal_of_organs"] = 1  # the export's `<5` other forms
        victims += [dict(year=year, sex=s, age=a, form=f, citizenship=cl.TOTAL, count=n)
                    for (s, a, f), n in rows.items()]
    offenders = offenders_rows(export, "UKR", 2021) + offenders_rows(export, "UKR", 2022)
    cases = [
        organ_case("UKR-OR-2022-01", 2022, "investigation", 2, 0, 2, 0, "UKR", "kidney", "UKR",
                   "unknown", "unknown", "unknown", None,
                   "Two men displaced by the war were offered paid work abroad; medical "
                   "examinations before departure revealed a plan to sell their kidneys."),
        organ_case("UKR-OR-2022-02", 2022, "prosecution", 1, 1, 0, 0, "UKR", "kidney", "UKR",
                   "unknown", "unknown", "yes", None,
                   "A woman was recruited through an online advertisement offering payment for "
                   "a kidney; a clinic employee arranged the examinations."),
    ]
    write_xlsx(OUT / "UKR_2021-2022_warnings.xlsx", {
        "submission": submission("UKR", 2021, 2022, "National Counter-Trafficking Statistics Office",
                                 "focal.point@ctip-stats.gov.ua", "en"),
        "victims": sorted(victims, key=sort_key),
        "offenders": offenders,
        "organ_removal_cases": cases,
    })


def philippines(export: Export) -> None:
    """PHL 2022 with the mistakes submitters make; rejected. The export has one 2022 cell for
    the Philippines; the figures are its 2021 victims (girls, women, boys, men) and its 2021
    persons brought into formal contact."""
    def published(sex, age) -> int:
        return export.get("PHL", VICTIMS_INDICATOR, 2021, SEX_LABELS[sex], AGE_LABELS[age])

    def v(sex, age, form, citizenship, count, year=2022) -> dict:
        return dict(year=year, sex=sex, age=age, form=form, citizenship=citizenship, count=count)

    girls, women = published("female", "child"), published("female", "adult")
    boys, men = published("male", "child"), published("male", "adult")
    total = girls + women + boys + men
    victims = [
        v("total", "total", "total", "total", total),
        v("female", "total", "total", "total", girls + women),
        v("male", "total", "total", "total", boys + men),
        v("female", "child", "total", "total", girls),
        v("female", "adult", "total", "total", women),
        v("male", "child", "total", "total", boys),
        v("male", "adult", "total", "total", "<5"),  # suppressed-value: a published, not exact, count
        v("total", "child", "total", "total", 120),  # parts-exceed-total: girls + boys > 120
        v("total", "adult", "total", "total", women + men),
        v("total", "total", "sexual_exploitation", "total", 12.5),  # not-an-integer
        v("total", "total", "forced_labour", "total", "ten"),  # not-an-integer
        v("femal", "child", "sexual_exploitation", "total", 40),  # unknown-code
        v("total", "total", "total", "Philippines", total),
        v("total", "total", "total", "Philipines", 12),  # unknown-country
        v("total", "total", "total", "Philippines", total),  # duplicate-key
        v("total", "total", "total", "total", 214, year=2021),  # year-outside-period
        v("male", None, "total", "total", 9),  # missing-value (age)
        {"year": "Total", "count": total + 120},  # totals-row typed under the data
    ]
    # Offenders: the export's 2021 persons brought into formal contact, split by sex here.
    suspected = export.get("PHL", STAGE_INDICATORS["suspected"], 2021)

    def o(sex, count) -> dict:
        return dict(year=2022, stage="suspected", sex=sex, age="total", citizenship="total",
                    form="total", count=count)

    offenders = [
        o("total", suspected),
        o("female", -(suspected * 2 // 5)),  # negative-count
        o("male", suspected - suspected * 2 // 5),
    ]
    write_xlsx(OUT / "PHL_2022_errors.xlsx", {
        "submission": submission("PHL", 2022, 2022, "Inter-Agency Anti-Trafficking Data Secretariat",
                                 "focal.point[at]tip-data.gov.ph", "en"),  # invalid-email
        "victims": victims,
        "offenders": offenders,
    })


def corrupted() -> None:
    """The first 3000 bytes of a real workbook, as if a transfer was cut short; rejected."""
    data = (OUT / "THA_2021-2022.xlsx").read_bytes()[:3000]
    (OUT / "corrupted_submission.xlsx").write_bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", nargs="?", default=DEFAULT_EXPORT,
                        help=f"the published export (default: {DEFAULT_EXPORT}, "
                             "relative to the repository root)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        choices=["thailand", "nigeria", "mexico", "france", "egypt", "nepal",
                                 "ukraine", "philippines", "corrupted"],
                        help="write only these samples (by their function's name, e.g. nepal)")
    path = Path(parser.parse_args().export)
    if not path.is_absolute() and not path.exists():
        path = ROOT / path
    export = Export(path)
    OUT.mkdir(exist_ok=True)
    only = set(parser.parse_args().only or [])
    for make in (thailand, nigeria, mexico, france, egypt, nepal, ukraine, philippines):
        if not only or make.__name__ in only:
            make(export)
    if not only or "corrupted" in only:
        corrupted()
    for entry in sorted(OUT.iterdir()):
        print(entry.relative_to(ROOT))


if __name__ == "__main__":
    main()
