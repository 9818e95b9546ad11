"""Personal data never travels: the screen (schemas/personal_data.py), its time, its recall and
false alarms on a labelled set, and a submission holding personal data in every free-text field
run through the real pipeline into a real DuckDB file, its reports, snapshot and Parquet."""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline import submission as sequence
from schemas.findings import SHEET, TableFrame, make_finding
from schemas.limits import Limits
from schemas.messages import render_message, render_value
from schemas.personal_data import KINDS, NOT_SCREENED_IN_TIME, screen
from tests.builders import victims, write_submission
from tests.conftest import TEST_DATA
from warehouse.session import Warehouse
from warehouse.snapshot import analyst_dir, publish, snapshot_path

LABELLED = TEST_DATA / "personal_data_labelled.csv"
# Measured on the labelled set (written by the team, tests/data/SOURCES.md): recall 132/132,
# 2 false alarms in 184 ordinary summaries ("Dr. Congo-based", "Don Bosco"); its last 58 texts,
# written after the patterns, gave recall 18/25 and 1 false alarm in 33 before the patterns were
# mended (docs/operations.md). The bounds leave room for patterns to change, not for them to
# get much worse.
RECALL_FLOOR = 0.95
FALSE_ALARM_CEILING = 0.03
SECONDS_BOUND = 10  # generous on a loaded 2-core machine: each case takes well under a second


# -- the screen --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind", [
    ("write to amina.bello@example.org", "email"),
    ("recruit.kidney [at] example [dot] com", "email"),
    ("Broker on +234 803 123 4567", "telephone"),
    ("la victime a appelé le 06 12 34 56 78", "telephone"),
    ("8 (912) 345-67-89", "telephone"),
    ("中介的手机号码为13812345678。", "telephone"),
    ("هاتف 0501234567", "telephone"),
    ("Passport no. A1234567 seized", "identity_number"),
    ("паспорт 4510 123456", "identity_number"),
    ("身份证号码110105199003121234", "identity_number"),
    ("El DNI 12345678Z de la víctima", "identity_number"),
    ("born 12/03/1990 in Kano", "date_of_birth"),
    ("née le 12 mars 1990", "date_of_birth"),
    ("1990 г.р.", "date_of_birth"),
    ("من مواليد 1990", "date_of_birth"),
    ("1990年3月12日出生", "date_of_birth"),
    ("Victim Mrs. Amina Bello", "personal_name"),
    ("M. Dupont a organisé le transport", "personal_name"),
    ("la Sra. García fue captada", "personal_name"),
    ("قام السيد أحمد بتنسيق النقل", "personal_name"),
    ("Г-н Иванов организовал перевозку", "personal_name"),
    ("хирург Петров А.В.", "personal_name"),
    ("王先生负责运送", "personal_name"),
    ("一名名叫李娜的女子", "personal_name"),
    # written to slip past: full-width digits, a zero-width space, a spelled-out address
    ("call ０８０３ １２３ ４５６７", "telephone"),
    ("amina.bello@exa\u200bmple.org", "email"),
    ("amina dot bello at example dot org", "email"),
    ("Mr\u200b Okafor", "personal_name"),
    ("M.Dupont", "personal_name"),
    ("السيّد أحمد", "personal_name"),  # a shadda
    ("الســيد أحمد", "personal_name"),  # a kashida
    ("г\u2011н Иванов", "personal_name"),  # a non-breaking hyphen
    ("call 0803\u2013123\u20134567", "telephone"),  # en dashes
])
def test_each_kind_in_the_six_languages_is_caught(text, kind):
    assert screen(text) == kind


@pytest.mark.parametrize("text", [
    "Supreme Court, 123/2022", "OR-2022-01", "Law No. 2005-123 of 12 May 2005",
    "between 2019 and 2021", "on 21.09.2022", "8 500 000 рублей", "USD 10,000",
    "a 24-year-old woman", "Police called the labour inspectorate", "被告人王某某、李某",
    "يدعى أن الطبيب وعد الضحايا بعمل", "гражданка Украины", "Kidney; liver", "1",
    "U.S. Army", "the DR Congo", "M. le juge d'instruction",
])
def test_ordinary_texts_pass(text):
    assert screen(text) is None


def test_a_text_not_screened_in_time_counts_as_a_hit():
    assert screen("A" * 200_000, timeout=1e-6) == NOT_SCREENED_IN_TIME
    assert screen("A" * 200_000) is None  # the same text, given its time


@pytest.mark.parametrize("unit", ["a", "1", "1.", "x@", "Mr. ", "0 ", "Иванов И.", "السيد", "passport ",
                                  "+1", "王先生", "a@b.", "born 1"])
def test_time_grows_linearly_200_kb_without_spaces(unit):
    text = unit * (200_000 // len(unit))
    started = time.monotonic()
    kind = screen(text, timeout=60)  # a timeout far away: this measures the patterns themselves
    elapsed = time.monotonic() - started
    assert kind != NOT_SCREENED_IN_TIME
    assert elapsed < SECONDS_BOUND, f"{elapsed:.2f} s for 200 KB of {unit!r}"


def test_forty_cells_at_excels_limit_take_well_under_the_bound():
    cells = [(unit * 32_767)[:32_767] for unit in ("a", "1", "1.", "x@", "0 ", "A", "Mr.", "-")] * 5
    started = time.monotonic()
    kinds = [screen(text, timeout=60) for text in cells]
    elapsed = time.monotonic() - started
    assert NOT_SCREENED_IN_TIME not in kinds
    assert elapsed < SECONDS_BOUND, f"{elapsed:.2f} s for 40 cells of 32,767 characters"


@pytest.mark.parametrize("form, cells, length", [("xlsx", 40, 32_767), ("folder", 1, 200_000)])
def test_huge_texts_without_spaces_are_validated_in_bounded_time(tmp_path, form, cells, length):
    """The issue's cases through the real reading and validation: 40 summaries at Excel's limit
    of 32,767 characters (two minutes before), a 200 KB summary (held the lock two minutes)."""
    header, *_ = CASES
    rows = [[f"OR-{n}", 2021, "conviction", 1, "kidney", "yes", None, ("a1." * length)[:length]]
            for n in range(cells)]
    submission = write_submission(tmp_path / f"THA_2021.{form}", {
        **victims(f"2021,total,total,removal_of_organs,total,{cells}"),
        "organ_removal_cases": [header, *rows]}, {"year_from": 2021, "year_to": 2021}, form=form)
    started = time.monotonic()
    assessment = sequence.assess_file(submission)
    elapsed = time.monotonic() - started
    # beyond Excel's own cell limit, the reader refuses the cell (`text_length`) before any rule
    expected = {"text-too-long": cells} if length <= Limits().text_length else {"limit-exceeded": 1}
    assert Counter(f.rule for f in assessment.findings) == expected
    assert elapsed < 6 * SECONDS_BOUND, f"{elapsed:.1f} s"


def test_recall_and_false_alarms_on_the_labelled_set():
    with LABELLED.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ordinary = [row for row in rows if not row["label"]]
    personal = [row for row in rows if row["label"]]
    assert len(ordinary) >= 150 and len(personal) >= 100
    assert {row["language"] for row in rows} == {"ar", "zh", "en", "fr", "ru", "es"}
    assert {row["label"] for row in personal} == set(KINDS)
    false_alarms = [row["text"] for row in ordinary if screen(row["text"])]
    caught = Counter(row["label"] for row in personal if screen(row["text"]))
    recall = sum(caught.values()) / len(personal)
    false_alarm_rate = len(false_alarms) / len(ordinary)
    by_kind = {kind: f"{caught[kind]}/{sum(r['label'] == kind for r in personal)}" for kind in KINDS}
    print(f"\npersonal-data screen: recall {recall:.1%} ({sum(caught.values())}/{len(personal)}; "
          f"{by_kind}), false alarms {false_alarm_rate:.1%} ({len(false_alarms)}/{len(ordinary)}): "
          f"{false_alarms}")
    assert recall >= RECALL_FLOOR
    assert false_alarm_rate <= FALSE_ALARM_CEILING


# -- whatever rule echoes a text ----------------------------------------------------------------

def test_any_finding_withholds_a_value_or_a_parameter_that_holds_personal_data():
    unknown = make_finding("unknown-code", table="victims", line=3, column="sex",
                           value="ask Mr Okafor", allowed=["female", "male"])
    assert (unknown.value, unknown.params["withheld"], unknown.params["allowed"]) == (
        None, True, ["female", "male"])
    assert "Okafor" not in render_message(unknown, "fr") and render_value(unknown, "fr") == "(masqué)"
    sheet = make_finding("unknown-table", name="cases of +234 803 123 4567")
    assert sheet.params == {"name": None, "withheld": True}
    assert "(withheld)" in render_message(sheet) and "803" not in json.dumps(sheet.to_dict())
    ordinary = make_finding("unknown-code", table="victims", line=3, column="sex", value="femme")
    assert ordinary.value == "femme" and "withheld" not in ordinary.params
    header = "notes on Mr Okafor"  # a header as written is the finding's column and value
    frame = TableFrame("victims", "victims", SHEET, pd.DataFrame(), column_positions={header: 8})
    unknown_column = make_finding("unknown-column", frame=frame, line=1, column=header, value=header)
    assert (unknown_column.value, unknown_column.column, unknown_column.cell) == (None, None, "H1")
    assert "Okafor" not in render_message(unknown_column, "zh")


# -- end to end --------------------------------------------------------------------------------

PHONE = "+66 2 123 4567"
PASSPORT = "AB1234567"
NAME = "Dupont"
EMAIL = "amina.bello@example.org"
CONTACT = "focal.point@example.go.th"  # the focal point's address: in the register only
LONG_SUMMARY = ("Recruited in Nepal with promises of work; kidneys removed in a private clinic. "
                f"Contact of the victim: {EMAIL}. " + "The network operated for two years. " * 40)
CASES = [["case_reference", "year", "stage", "victims_total", "material_removed",
          "medical_professionals_involved", "court_decision_reference", "summary"],
         [f"Passport {PASSPORT}", 2021, "conviction", 1, "kidney", "yes", "Supreme Court, 123/2022",
          "Kidney removed in a private clinic."],
         ["OR-2", 2021, "conviction", 1, "kidney", "yes", None, f"M. {NAME} a recruté la victime."],
         ["OR-3", 2021, "conviction", 1, "kidney", "yes", None, LONG_SUMMARY]]
SECRETS = [PHONE, PASSPORT, NAME, EMAIL]


def test_personal_data_in_every_free_text_field_is_rejected_and_echoed_nowhere(tmp_path):
    workbook = write_submission(tmp_path / f"THA_2021 passport {PASSPORT}.xlsx", {
        **victims("2021,total,total,removal_of_organs,total,3"), "organ_removal_cases": CASES},
        {"institution": f"Ministry of Social Development, tel. {PHONE}", "contact_email": CONTACT,
         "year_from": 2021, "year_to": 2021})
    assessment = sequence.assess_file(workbook)
    personal = {(f.table, f.cell): f.params["kind"] for f in assessment.findings if f.rule == "personal-data"}
    assert personal == {("submission", "D2"): "telephone", ("organ_removal_cases", "A2"): "identity_number",
                        ("organ_removal_cases", "H3"): "personal_name", ("organ_removal_cases", "H4"): "email"}
    assert not any(f.rule == "text-too-long" for f in assessment.findings)  # personal data wins
    assert assessment.details.institution is None
    db = tmp_path / "var" / "glotip.duckdb"
    with Warehouse(db) as warehouse:
        outcome = sequence.process(assessment, warehouse, reports_dir=tmp_path / "reports",
                                   source_path=str(workbook))
        assert (outcome.status, outcome.rows_loaded) == ("rejected", 0)
        register = warehouse.connection.execute("SELECT * FROM submissions").df()
        findings = warehouse.connection.execute("SELECT * FROM validation_findings").df()
        publish(warehouse)
    assert register["contact_email"].tolist() == [CONTACT]
    assert register["file_name"].tolist() == ["(withheld).xlsx"]
    assert register["institution"].isna().all()
    report_dir = Path(outcome.report)
    texts = {name: (report_dir / name).read_text(encoding="utf-8-sig")
             for name in ("report.html", "report.json", "findings.csv")}
    texts["register"] = register.to_csv()
    texts["validation_findings"] = findings.to_csv()
    texts["annotated.xlsx"] = _workbook_text(report_dir / "annotated.xlsx")
    texts["snapshot"] = _database_text(snapshot_path(db))
    texts["parquet"] = "".join(pd.read_parquet(path).to_csv()
                               for path in sorted((analyst_dir(db) / "parquet").glob("*.parquet")))
    assert "personal-data" in texts["snapshot"] and "rejected" in texts["parquet"]  # they were read
    assert "Supreme Court, 123/2022" in texts["annotated.xlsx"]
    for where, text in texts.items():
        leaked = [secret for secret in SECRETS if secret in text]
        assert leaked == [], f"{where} echoes {leaked}"
    assert CONTACT not in texts["snapshot"] and CONTACT not in texts["parquet"]
    annotated = load_workbook(report_dir / "annotated.xlsx")
    for sheet, cell in (("submission", "D2"), ("organ_removal_cases", "A2"),
                        ("organ_removal_cases", "H3"), ("organ_removal_cases", "H4")):
        assert annotated[sheet][cell].value is None
        assert "Write it again without names" in annotated[sheet][cell].comment.text
    assert annotated["organ_removal_cases"]["H2"].value == "Kidney removed in a private clinic."


def _workbook_text(path: Path) -> str:
    """Every value and comment of a workbook, as one text."""
    workbook = load_workbook(path)
    parts = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                parts.append(str(cell.value))
                if cell.comment is not None:
                    parts.append(cell.comment.text)
    return "\n".join(parts)


def _database_text(path: Path) -> str:
    """Every row of every table and view of a DuckDB file, as one text."""
    with duckdb.connect(str(path), read_only=True) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary UNION "
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary").fetchall()]
        return "".join(connection.execute(f'SELECT * FROM "{name}"').df().to_csv() for name in names)


def test_an_inbox_entry_named_with_personal_data_is_shown_withheld(tmp_path):
    inbox = tmp_path / "inbox"
    entry = write_submission(inbox / "cases of Mr Okafor", victims("2021,total,total,total,total,3"))
    options = sequence.InboxOptions(str(inbox), str(tmp_path / "reports"), str(tmp_path / "archive"),
                                    settle_seconds=0)
    with Warehouse(tmp_path / "w.duckdb") as warehouse:
        outcome = sequence.ingest_entry(entry, warehouse, options, run_id="run-1")
        registered = warehouse.connection.execute("SELECT file_name FROM submissions").fetchall()
    assert (outcome.status, outcome.file_name, registered) == ("accepted", "(withheld)", [("(withheld)",)])
    report = (Path(outcome.report) / "report.json").read_text(encoding="utf-8")
    assert "Okafor" not in report and "Okafor" not in json.dumps(sequence.as_row(outcome))
