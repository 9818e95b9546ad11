"""`annotated.xlsx`: the submitter's own workbook, with each finding on its cell.

openpyxl loads the workbook as it came (never re-saved through pandas), fills each finding's
cell and attaches the message as a cell comment, then adds one `findings` sheet listing every
finding with a link to its cell. A cell whose text was withheld for personal data is blanked,
with a comment asking for it to be written again without it: the copy goes back by e-mail.
Nothing else in the workbook is touched. Everything written that came from the submission is
formula-neutralised.
"""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from reporting.safe import neutralise_formula
from schemas import i18n, messages
from schemas.findings import Finding, column_letter
from schemas.personal_data import shown
from schemas.tables import TABLES

FILLS = {"error": PatternFill("solid", fgColor="FFC7CE"), "warning": PatternFill("solid", fgColor="FFEB9C")}
# the cells of a failing breakdown: its parts lighter than the total, and the cells of the
# fewest changes (schemas.localise) in blue
PART_FILLS = {"error": PatternFill("solid", fgColor="FFE8EB"), "warning": PatternFill("solid", fgColor="FFF6D6")}
SUGGESTED_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_FONT = Font(bold=True)
EXCEL_CELL = re.compile(r"^[A-Z]{1,3}[1-9][0-9]{0,6}$")
COMMENT_AUTHOR = "UNODC GLOTIP"


def annotate_workbook(source: str | Path, target: str | Path, findings: list[Finding],
                      language: str = i18n.DEFAULT_LANGUAGE) -> Path | None:
    """Write the annotated copy of the workbook at `source` to `target`; None if unreadable."""
    try:
        workbook = load_workbook(source)  # formulas, styles, validations and comments kept
    except Exception:  # noqa: BLE001 - an unreadable workbook already has its finding
        return None
    by_cell = _by_cell(findings)
    for cell_findings in by_cell.values():
        first = cell_findings[0]
        if first.source not in workbook.sheetnames:
            continue
        cell = workbook[first.source][first.cell]
        worst = "error" if any(f.severity == "error" for f in cell_findings) else "warning"
        cell.fill = FILLS[worst]
        text = "\n\n".join(_comment_text(f, language) for f in cell_findings)
        if any(_holds_personal_data(f) for f in cell_findings):
            cell.value = None
            text = f"{i18n.ui('personal_data_blanked', language)}\n\n{text}"
        if cell.comment is not None and shown(cell.comment.text):  # the submitter's own note, ours after it
            text = f"{cell.comment.text}\n\n{text}"
        cell.comment = Comment(neutralise_formula(text), COMMENT_AUTHOR, width=360, height=160)
    _mark_breakdowns(workbook, findings, set(by_cell), language)
    _add_findings_sheet(workbook, findings, language)
    target = Path(target)
    workbook.save(target)
    return target


def _by_cell(findings: list[Finding]) -> dict[tuple[str, str], list[Finding]]:
    """Findings that point at one cell of a sheet present in the workbook."""
    cells: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        if finding.source and finding.cell and EXCEL_CELL.match(finding.cell):
            cells.setdefault((finding.source, finding.cell), []).append(finding)
    return cells


def _mark_breakdowns(workbook, findings: list[Finding], finding_cells: set, language: str) -> None:
    """The parts of each total that fails against them (`part_lines`), and the cells the
    fewest changes would touch (`changes`): a fill and a comment pointing to the total's
    finding. A cell with a finding of its own keeps its fill; the note is added to its comment."""
    marks: dict[tuple[str, str], dict] = {}
    for finding in findings:
        if not (finding.params.get("part_lines") and finding.source in workbook.sheetnames
                and finding.cell and finding.location.position):
            continue
        letter = column_letter(finding.location.position)
        title = messages.rule_title(finding.rule, language)
        for line in finding.params["part_lines"]:
            mark = marks.setdefault((finding.source, f"{letter}{line}"), {"texts": [], "suggested": False})
            mark["severity"] = "error" if finding.severity == "error" else mark.get("severity", "warning")
            mark["texts"].append(i18n.ui("part_of_total", language, cell=finding.cell, title=title))
        for changes in finding.params.get("changes") or []:
            for change in changes:
                if change.get("cell") and EXCEL_CELL.match(change["cell"]):
                    mark = marks.setdefault((finding.source, change["cell"]), {"texts": [], "suggested": False})
                    mark["suggested"] = True
                    mark["texts"].append(i18n.ui("suggested_change", language, cell=finding.cell,
                                                 change=i18n.ui("change_cells", language,
                                                                cells=messages.cell_change_text(change, language))))
    for (sheet, reference), mark in marks.items():
        cell = workbook[sheet][reference]
        if (sheet, reference) not in finding_cells:
            cell.fill = SUGGESTED_FILL if mark["suggested"] else PART_FILLS[mark.get("severity", "warning")]
        text = "\n".join(dict.fromkeys(mark["texts"]))  # once each, in the order found
        if cell.comment is not None and shown(cell.comment.text):  # the submitter's or ours, kept first
            text = f"{cell.comment.text}\n\n{text}"
        cell.comment = Comment(neutralise_formula(text), COMMENT_AUTHOR, width=360, height=160)


def _holds_personal_data(finding: Finding) -> bool:
    """A finding whose cell text was withheld for personal data; not the focal point's own
    contact, meant to be an address."""
    if not finding.params.get("withheld"):
        return False
    spec = TABLES.get(finding.table or "")
    return not (spec and finding.column in spec.columns and spec.column_meta(finding.column).get("contact"))


def _comment_text(finding: Finding, language: str) -> str:
    """`Error: Repeated row` and the message and hint, in plain text (quotation marks, no markup)."""
    title = i18n.label_value(messages.severity(finding.severity, language),
                             messages.rule_title(finding.rule, language), language)
    message = messages.render_message(finding, language, marked=False)
    return f"{title}\n{message}\n{messages.render_hint(finding, language, marked=False)}"


def _add_findings_sheet(workbook, findings: list[Finding], language: str) -> None:
    name = i18n.ui("findings_sheet", language)
    while name in workbook.sheetnames:  # never overwrite a sheet of the submitter's
        name = f"{name}_"
    sheet = workbook.create_sheet(name[:31])
    headers = [i18n.ui(key, language) for key in ("where", "severity", "rule", "value", "message", "hint")]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = HEADER_FONT
    present = set(workbook.sheetnames)
    for finding in findings:
        row = [messages.render_location(finding.location, language),
               messages.severity(finding.severity, language), messages.rule_title(finding.rule, language),
               _submitted_value(workbook, finding, language),
               messages.render_message(finding, language, marked=False),
               messages.render_hint(finding, language, marked=False)]
        sheet.append([neutralise_formula(value) for value in row])
        if finding.source in present and finding.cell and EXCEL_CELL.match(finding.cell):
            link = sheet.cell(row=sheet.max_row, column=1)
            link.hyperlink = f"#'{finding.source}'!{finding.cell}"
            link.font = Font(color="0563C1", underline="single")
    for letter, width in zip("ABCDEF", (18, 12, 30, 18, 70, 60)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    if language in i18n.RIGHT_TO_LEFT:
        sheet.sheet_view.rightToLeft = True
    _open_on(workbook, sheet)


def _open_on(workbook, sheet) -> None:
    """The copy opens on its findings: the active tab, and the only one selected (a tab the
    submitter left selected would otherwise be grouped with it, and edits go to both)."""
    for other in workbook.worksheets:
        other.sheet_view.tabSelected = other is sheet
    workbook.active = sheet


def _submitted_value(workbook, finding: Finding, language: str):
    """The value as the submitter typed it: the cell's own number when it was typed as a
    number (`-5` stays the number -5, not the text `'-5`); otherwise the finding's text."""
    value = messages.render_value(finding, language)
    if value is None or finding.source not in workbook.sheetnames or not (
            finding.cell and EXCEL_CELL.match(finding.cell)):
        return value
    typed = workbook[finding.source][finding.cell].value
    if isinstance(typed, (int, float)) and not isinstance(typed, bool) and _same_number(value, typed):
        return typed
    return value


def _same_number(text: str, number: int | float) -> bool:
    try:
        return float(text) == float(number)
    except ValueError:
        return False
