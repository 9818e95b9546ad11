"""Known data for the analysts' tests: small CSV submissions, written to a tmp folder and loaded
through the real pipeline functions (read -> normalise -> validate -> load), then published.

The figures are chosen so that every standard query's answer can be worked out by hand; the
expected answers are in the tests, next to the arithmetic.
M49 regions: NGA, GHA Africa / Sub-Saharan Africa; DEU Europe / Western Europe; ITA Europe /
Southern Europe; THA Asia / South-eastern Asia.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline import submission as sequence
from schemas.messages import render_message
from tests.builders import HEADERS, write_submission
from tests.conftest import TEST_DATA
from transforms.dataunodc import prepare_export, read_export
from warehouse.dataunodc import load_export
from warehouse import snapshot as analyst_snapshot
from warehouse.session import Warehouse

T, F, M, U = "total", "female", "male", "unknown"


def victims_rows(year, total, sex_age=None, forms=None, citizenship=None):
    """Rows of a victims table: the grand total, sex x age cells, forms, citizenships."""
    rows = [(year, T, T, T, T, total)]
    for (sex, age), count in (sex_age or {}).items():
        rows.append((year, sex, age, T, T, count))
    for form, count in (forms or {}).items():
        rows.append((year, T, T, form, T, count))
    for country, count in (citizenship or {}).items():
        rows.append((year, T, T, T, country, count))
    return rows


SUBMISSIONS = {
    "NGA": {
        "years": (2021, 2022),
        "victims": victims_rows(2021, 80, {(F, "child"): 20, (F, "adult"): 30, (M, "child"): 10, (M, "adult"): 20},
                                {"sexual_exploitation": 50, "forced_labour": 30},
                                {"NGA": 70, "GHA": 10})
        + victims_rows(2022, 100, {(F, "child"): 30, (F, "adult"): 40, (M, "child"): 10, (M, "adult"): 15},
                       {"sexual_exploitation": 60, "forced_labour": 30, "removal_of_organs": 2, U: 8},
                       {"NGA": 90, "GHA": 7, "THA": 3}),
        "offenders": [
            (2021, "prosecuted", T, T, T, T, 20), (2021, "prosecuted", F, T, T, T, 5), (2021, "prosecuted", M, T, T, T, 15),
            (2021, "convicted", T, T, T, T, 10), (2021, "convicted", F, T, T, T, 2), (2021, "convicted", M, T, T, T, 8),
            (2022, "prosecuted", T, T, T, T, 30),
            (2022, "convicted", T, T, T, T, 12), (2022, "convicted", F, T, T, T, 3), (2022, "convicted", M, T, T, T, 9),
        ],
        "repatriated": [(2022, "ITA", T, T, 6), (2022, "DEU", T, T, 4)],
        "organ_removal_cases": [
            ("NGA-OR-1", 2022, "conviction", 2, 1, 1, 0, "NGA", "kidney", "NGA", "EGY", "DEU", "yes"),
        ],
    },
    "DEU": {
        "years": (2022, 2022),
        "victims": victims_rows(2022, 50, {(F, "child"): 3, (F, "adult"): 30, (M, "child"): 5, (M, "adult"): 12},
                                {"sexual_exploitation": 35, "forced_labour": 15},
                                {"DEU": 10, "NGA": 20, "ITA": 5, "THA": 15}),
        "offenders": [
            (2022, "prosecuted", T, T, T, T, 15),
            (2022, "convicted", T, T, T, T, 8), (2022, "convicted", F, T, T, T, 2), (2022, "convicted", M, T, T, T, 6),
        ],
        "organ_removal_cases": [
            ("DEU-OR-7", 2022, "prosecution", 1, 0, 1, 0, "MDA", "kidney;liver", "MDA", "TUR", "DEU", "unknown"),
        ],
    },
    "ITA": {
        "years": (2022, 2022),
        "victims": victims_rows(2022, 20, {(F, "child"): 2, (F, "adult"): 12, (M, "adult"): 6},
                                {"sexual_exploitation": 10, "forced_labour": 10},
                                {"ITA": 4, "NGA": 16}),
    },
    "THA": {
        "years": (2021, 2022),
        "victims": victims_rows(2021, 40, forms={"forced_labour": 40}, citizenship={"THA": 40})
        + victims_rows(2022, 60, forms={"forced_labour": 45, "sexual_exploitation": 15},
                       citizenship={"THA": 50, "NGA": 10}),
    },
}

# A later resubmission of Germany's 2022 data (replaces the one above in the current views).
DEU_REVISED = {
    "years": (2022, 2022),
    "victims": victims_rows(2022, 55, {(F, "child"): 3, (F, "adult"): 33, (M, "child"): 5, (M, "adult"): 14},
                            {"sexual_exploitation": 40, "forced_labour": 15},
                            {"DEU": 10, "NGA": 25, "ITA": 5, "THA": 15}),
    "offenders": SUBMISSIONS["DEU"]["offenders"],
    "organ_removal_cases": SUBMISSIONS["DEU"]["organ_removal_cases"],
}

FIRST_LOAD = dt.datetime(2025, 1, 10, 9, 0)
REVISION_LOAD = dt.datetime(2025, 3, 1, 9, 0)


def write_known_submission(folder: Path, country: str, spec: dict) -> Path:
    """A folder of CSVs, as a Member State may send it."""
    tables = {table: [header, *spec[table]] for table, header in HEADERS.items() if table in spec}
    year_from, year_to = spec["years"]
    return write_submission(folder, tables, {
        "country": country, "year_from": year_from, "year_to": year_to,
        "institution": "Test institution", "contact_email": "focal.point@example.org", "language": "en"})


def load_folder(db_path: Path, folder: Path, received_at: dt.datetime) -> sequence.Outcome:
    """Through the product's own sequence: assess, compare with history, load, report."""
    assessment = sequence.assess_file(folder)
    errors = [f for f in assessment.findings if f.severity == "error"]
    assert not errors, [render_message(f) for f in errors]
    with Warehouse(db_path) as warehouse:
        return sequence.process(assessment, warehouse, reports_dir=db_path.parent / "reports",
                                run_id="test", received_at=received_at)


def build_known_warehouse(root: Path, revised: bool = True) -> Path:
    """Load the known submissions (and Germany's revision) and publish the snapshot."""
    db_path = root / "var" / "glotip.duckdb"
    for country, spec in SUBMISSIONS.items():
        load_folder(db_path, write_known_submission(root / "inbox" / country, country, spec), FIRST_LOAD)
    if revised:
        load_folder(db_path, write_known_submission(root / "inbox" / "DEU-revised", "DEU", DEU_REVISED),
                    REVISION_LOAD)
    analyst_snapshot.publish(Warehouse(db_path))
    return db_path


def build_imported_warehouse(root: Path) -> Path:
    """The real dataUNODC export (2025-04-14) imported with the plain functions into
    `root/var/glotip.duckdb`, its snapshot published."""
    db = root / "var" / "glotip.duckdb"
    db.parent.mkdir(parents=True)
    with Warehouse(db) as warehouse:
        load_export(warehouse.connection, prepare_export(read_export(TEST_DATA / "data_glotip_2025-04-14.xlsx")))
    analyst_snapshot.publish(Warehouse(db))
    return db
