"""Load a prepared dataUNODC export into the warehouse, in one transaction.

The export is registered as one pseudo-submission per country (`PUB-20250414-THA`, source
`published`, `published_as_of` = the export date) with its country-years in
`submission_years`, so the current views need nothing special: a later Member State
submission for the same years wins, and among exports the newest export date containing the
country wins, whatever the order they were imported in (002_views.sql). A country-year that an
older export had and the country's newest export lacks is withdrawn (no longer current; the
outcome lists it). Older figures stay in the fact tables, queryable with the
`published_*_as_of(date)` macros (003_published.sql).

The same file (by sha256) is imported once: importing it again changes nothing. Another file
with an export date already imported (say the .csv of an .xlsx already loaded) is refused
unless `force`, which imports it as a new version of that date (`PUB-20250414v2`) that wins over
the earlier one; `force` also re-imports the same file (after an alias was added to the country
resolver, say). Nothing is deleted: the earlier version stays, so the warehouse as it stood
before the re-import (`current_country_years_as_of`) still answers.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from warehouse import register
from warehouse.load import now
from warehouse.session import insert_frame, transaction

if TYPE_CHECKING:  # the loader takes what transforms/ prepared; it imports none of transforms/
    from schemas.findings import Finding
    from schemas.dataunodc import PreparedExport

SOURCE = "published"
INSTITUTION = "UNODC (dataUNODC: Global Report on Trafficking in Persons data)"
PUBLISHED_TABLES = ("victims", "offenders", "repatriated", "offences")  # fact_<name>


class AlreadyImported(Exception):
    """Another file with the same export date is in the warehouse (use force to replace it)."""


@dataclass
class ImportOutcome:
    import_id: str
    status: str  # loaded, duplicate
    export_date: dt.date
    load_seq: int | None = None
    submissions: int = 0
    rows_loaded: dict[str, int] = field(default_factory=dict)
    replaced: list[str] = field(default_factory=list)  # earlier versions of this date (force)
    supersedes: list[str] = field(default_factory=list)  # submissions now superseded
    withdrawn: list[dict] = field(default_factory=list)  # {country, year, submission_id} no longer current
    note: str = ""


def import_id_for(export_date: dt.date, version: int = 1) -> str:
    """`PUB-20250414`; a --force re-import of the same date is `PUB-20250414v2`, and so on."""
    return f"PUB-{export_date:%Y%m%d}" + (f"v{version}" if version > 1 else "")


def find_import(connection, sha256: str) -> tuple[str, dt.date] | None:
    """The latest import of this file, if any."""
    rows = connection.execute(
        "SELECT import_id, export_date FROM published_imports WHERE sha256 = ? "
        "ORDER BY load_seq DESC LIMIT 1", [sha256]).fetchall()
    return rows[0] if rows else None


def files_imported_for(connection, export_date: dt.date) -> list[str]:
    """The files already imported for an export date, in import order."""
    rows = connection.execute("SELECT file_name FROM published_imports WHERE export_date = ? "
                              "ORDER BY load_seq", [export_date]).fetchall()
    return [row[0] for row in rows]


def _imports_of(connection, export_date: dt.date) -> list[str]:
    rows = connection.execute("SELECT import_id FROM published_imports WHERE export_date = ? "
                              "ORDER BY load_seq", [export_date]).fetchall()
    return [row[0] for row in rows]


def next_import_id(connection, export_date: dt.date) -> str:
    """The id the next import of this export date gets (a version after those already in)."""
    return import_id_for(export_date, len(_imports_of(connection, export_date)) + 1)


def load_export(
    connection: duckdb.DuckDBPyConnection,
    prepared: PreparedExport,
    *,
    force: bool = False,
    run_id: str | None = None,
    flow_run_id: str | None = None,
    report_dir: str | None = None,
    imported_at: dt.datetime | None = None,
) -> ImportOutcome:
    """Register the export, its findings and its figures: all or nothing."""
    export = prepared.export
    if export.export_date is None:
        raise ValueError("the export date is unknown: give it (--export-date)")
    imported_at = imported_at or now()
    with transaction(connection):
        same_file = find_import(connection, export.sha256)
        if same_file and not force:  # nothing written: the transaction ends empty
            return ImportOutcome(same_file[0], "duplicate", same_file[1],
                                 note=f"this file was already imported as {same_file[0]}")
        earlier = files_imported_for(connection, export.export_date)
        if earlier and not force:
            raise AlreadyImported(
                f"an export dated {export.export_date} is already in the warehouse (from "
                f"{', '.join(earlier)}); import with force to replace its figures")
        replaced = _imports_of(connection, export.export_date)
        import_id = next_import_id(connection, export.export_date)
        load_seq = connection.execute("SELECT nextval('submission_load_seq')").fetchall()[0][0]
        pseudo = _register(prepared, import_id, load_seq, imported_at, run_id, report_dir)
        rows_loaded = {}
        for table in PUBLISHED_TABLES:
            frame = prepared.tables.get(table)
            if frame is not None and not frame.empty:
                rows_loaded[table] = _insert_facts(connection, table, frame, import_id)
        _insert(connection, "submissions", pseudo)
        _insert(connection, "submission_years", _years(prepared, import_id, load_seq, imported_at))
        register.insert_findings(
            connection, _owned_findings(prepared, import_id, set(pseudo["country"])), run_id)
        new_ids = list(pseudo["submission_id"])
        withdrawn = _withdrawn(connection, new_ids)
        supersedes = sorted(set(register.supersede(connection, new_ids, imported_at))
                            | set(_superseded_by_newer_exports(connection, new_ids, imported_at)))
        _insert(connection, "published_imports", pd.DataFrame([{
            "import_id": import_id, "export_date": export.export_date,
            "export_date_from": export.export_date_from, "file_name": export.file_name,
            "file_format": export.file_format, "sheet": export.sheet,
            "header_line": export.header_line, "sha256": export.sha256,
            "size_bytes": export.size_bytes, "imported_at": imported_at, "run_id": run_id,
            "flow_run_id": flow_run_id, "load_seq": load_seq,
            "rows_read": prepared.stats.rows_read, "rows_loaded": prepared.stats.rows_loaded,
            "rows_quarantined": prepared.stats.rows_quarantined,
            "fact_rows": sum(rows_loaded.values()), "countries": len(pseudo),
            "stats": json.dumps(asdict(prepared.stats), default=str), "report_dir": report_dir}]))
    return ImportOutcome(import_id, "loaded", export.export_date, load_seq, len(pseudo),
                         rows_loaded, replaced, supersedes, withdrawn)


def pseudo_submission_id(import_id: str, country: str) -> str:
    return f"{import_id}-{country}"


def _register(prepared: PreparedExport, import_id: str, load_seq: int, imported_at: dt.datetime,
              run_id: str | None, report_dir: str | None) -> pd.DataFrame:
    """One accepted pseudo-submission per country with loaded rows."""
    export = prepared.export
    facts = pd.concat([frame[["country", "year"]].assign(table=name)
                       for name, frame in prepared.tables.items()], ignore_index=True)
    per_country = facts.groupby("country").agg(year_from=("year", "min"), year_to=("year", "max"),
                                               rows_loaded=("year", "size"))
    severity = pd.DataFrame({"country": [item.country for item in prepared.country_findings],
                             "severity": [item.finding.severity for item in prepared.country_findings]},
                            columns=["country", "severity"])
    counts = (severity.groupby(["country", "severity"]).size().unstack(fill_value=0)
              .reindex(columns=["error", "warning"], fill_value=0))
    per_country = per_country.join(counts).fillna(0)
    rows = pd.DataFrame({
        "submission_id": [pseudo_submission_id(import_id, c) for c in per_country.index],
        "load_seq": load_seq, "source": SOURCE, "country": per_country.index,
        "year_from": per_country["year_from"].astype("int64"),
        "year_to": per_country["year_to"].astype("int64"),
        "file_name": export.file_name, "file_format": export.file_format, "sha256": export.sha256,
        "size_bytes": export.size_bytes, "received_at": imported_at, "run_id": run_id,
        "status": ["accepted_with_warnings" if (e or w) else "accepted"
                   for e, w in zip(per_country["error"], per_country["warning"])],
        "institution": INSTITUTION, "language": "en",
        "rows_loaded": per_country["rows_loaded"].astype("int64"),
        "errors": per_country["error"].astype("int64"),
        "warnings": per_country["warning"].astype("int64"),
        "report_dir": report_dir, "published_as_of": export.export_date,
    })
    return rows.reset_index(drop=True)


def _years(prepared: PreparedExport, import_id: str, load_seq: int,
           imported_at: dt.datetime) -> pd.DataFrame:
    years = pd.concat([frame[["country", "year"]] for frame in prepared.tables.values()])
    years = years.drop_duplicates().sort_values(["country", "year"])
    return pd.DataFrame({
        "submission_id": [pseudo_submission_id(import_id, c) for c in years["country"]],
        "country": years["country"].to_numpy(), "year": years["year"].astype("int64").to_numpy(),
        "load_seq": load_seq, "loaded_at": imported_at})


def _insert_facts(connection, table: str, frame: pd.DataFrame, import_id: str) -> int:
    staged = frame.drop(columns="country").copy()
    staged.insert(0, "submission_id", import_id + "-" + frame["country"])
    _insert(connection, f"fact_{table}", staged)
    return len(staged)


def _owned_findings(prepared: PreparedExport, import_id: str,
                    countries: set[str]) -> list[tuple[str, Finding]]:
    """Each finding under its country's pseudo-submission, or under the import's id."""
    return [(pseudo_submission_id(import_id, item.country) if item.country in countries
             else import_id, item.finding) for item in prepared.country_findings]


def _insert(connection, table: str, frame: pd.DataFrame) -> None:
    if not frame.empty:
        insert_frame(connection, table, frame)


def _withdrawn(connection, new_ids: list[str]) -> list[dict]:
    """The country-years of these countries' exports that no export makes current: the
    country's newest export does not contain them (whichever of the two came in first)."""
    rows = connection.execute(
        """
        SELECT sy.country, sy.year, sy.submission_id
        FROM submission_years AS sy
        JOIN submissions AS s USING (submission_id)
        WHERE s.source = 'published' AND s.status IN ('accepted', 'accepted_with_warnings')
          AND s.superseded_by IS NULL
          AND s.country IN (SELECT country FROM submissions WHERE list_contains(?, submission_id))
          AND (sy.country, sy.year) NOT IN (SELECT (country, year) FROM current_country_years)
        ORDER BY sy.country, sy.year, sy.submission_id
        """, [new_ids]).fetchall()
    return [{"country": c, "year": int(y), "submission_id": s} for c, y, s in rows]


def _superseded_by_newer_exports(connection, new_ids: list[str], at: dt.datetime) -> list[str]:
    """The new pseudo-submissions an export already in the warehouse outdates (an older export
    imported after a newer one): marked as the newer one's, as if imported in date order."""
    winners = connection.execute(
        """
        SELECT c.submission_id AS winner, list(DISTINCT sy.submission_id ORDER BY sy.submission_id)
        FROM submission_years AS sy
        JOIN current_country_years AS c ON c.country = sy.country AND c.year = sy.year
        WHERE list_contains(?, sy.submission_id) AND NOT list_contains(?, c.submission_id)
        GROUP BY c.submission_id
        """, [new_ids, new_ids]).fetchall()
    marked = []
    for winner, losers in winners:
        connection.execute(
            "UPDATE submissions SET supersedes = list_sort(list_distinct("
            "list_concat(coalesce(supersedes, []), ?))) WHERE submission_id = ?", [losers, winner])
        marked += [row[0] for row in connection.execute(
            """
            UPDATE submissions SET superseded_by = ?, superseded_at = ?
            WHERE list_contains(?, submission_id) AND superseded_by IS NULL
              AND submission_id NOT IN (SELECT submission_id FROM current_country_years)
            RETURNING submission_id
            """, [winner, at, losers]).fetchall()]
    return marked
