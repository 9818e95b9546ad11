"""`glotip`: the command line of the GLOTIP submissions pipeline.

Heavy imports (Prefect above all) happen inside the commands that need them, so that
`glotip validate` and `glotip sql` start fast and never start Prefect.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(help="Receive, validate and warehouse GLOTIP submissions.", no_args_is_help=True,
                  add_completion=False)
# A pipe or CI log has no width: do not squeeze submission ids and report paths to 80 columns.
console = Console(width=None if sys.stdout.isatty() else 200)

DEFAULT_DB = Path("var/glotip.duckdb")
DEFAULT_REPORTS = Path("var/reports")
STATUS_STYLE = {"accepted": "green", "accepted_with_warnings": "yellow", "rejected": "red",
                "failed": "red", "duplicate": "dim", "validated": "green"}


@app.command()
def ingest(
    inbox: Optional[Path] = typer.Argument(None, help="Folder of submissions [default: sample_submissions, or glotip.toml / GLOTIP_INBOX]."),
    db: Path = typer.Option(DEFAULT_DB, help="DuckDB warehouse file (created if absent)."),
    reports: Path = typer.Option(DEFAULT_REPORTS, help="Where each submission's report is written."),
    archive: Optional[Path] = typer.Option(None, help="Raw archive, by sha256 [default: var/archive]."),
    move_processed: Optional[bool] = typer.Option(
        None, "--move-processed/--keep-processed",
        help="Remove each entry from the inbox once its outcome is recorded [default: keep]."),
) -> None:
    """Run the Prefect ingestion flow over INBOX."""
    from flows.settings import load_settings

    settings = load_settings()
    inbox = inbox or Path(settings.inbox)
    db = Path(settings.db) if db == DEFAULT_DB else db
    reports = Path(settings.reports) if reports == DEFAULT_REPORTS else reports
    if not inbox.is_dir():
        console.print(f"[red]No inbox folder at {inbox}[/red]")
        raise typer.Exit(2)
    from flows.ingest import ingest_submissions

    outcomes = ingest_submissions(
        str(inbox), str(db), str(reports), archive_dir=str(archive or settings.archive),
        move_processed=settings.move_processed if move_processed is None else move_processed,
        settle_seconds=settings.settle_seconds, lock_wait_seconds=settings.lock_wait_seconds)
    if not outcomes:
        console.print(f"[yellow]Nothing ingested: another ingestion holds {db}, or {inbox} is "
                      "empty (see the log above).[/yellow]")
    table = Table(title=f"Ingestion of {inbox} into {db}")
    for column in ("file", "submission", "status", "rows loaded", "errors", "warnings", "report"):
        table.add_column(column, justify="right" if column in ("rows loaded", "errors", "warnings") else "left")
    for o in outcomes:
        style = STATUS_STYLE.get(o["status"], "")
        report = f"{o['report']}/report.html" if o["report"] else o["note"]
        table.add_row(escape(o["file_name"]), o["submission_id"] or "-", f"[{style}]{o['status']}[/{style}]",
                      str(o["rows_loaded"]), str(o["errors"]), str(o["warnings"]), report)
    console.print(table)
    totals = {}
    for o in outcomes:
        totals[o["status"]] = totals.get(o["status"], 0) + 1
    console.print(f"{len(outcomes)} files: " + ", ".join(f"{n} {s}" for s, n in sorted(totals.items()))
                  + f"; {sum(o['rows_loaded'] for o in outcomes)} rows loaded.")


@app.command()
def validate(
    file: Path = typer.Argument(..., help="A submission: .xlsx, .zip of CSVs, or a folder of CSVs."),
    reports: Path = typer.Option(DEFAULT_REPORTS, help="Where the report is written."),
    db: Optional[Path] = typer.Option(None, help="Also compare with the figures this warehouse holds."),
    lang: Optional[str] = typer.Option(None, help="Report language (ar, zh, en, fr, ru, es); "
                                       "default: the submission's `language`."),
    send: bool = typer.Option(False, "--send", help="Send message.eml to the contact (needs --smtp-host)."),
    smtp_host: Optional[str] = typer.Option(None, envvar="GLOTIP_SMTP_HOST", help="SMTP server for --send."),
    smtp_port: int = typer.Option(25, envvar="GLOTIP_SMTP_PORT", help="SMTP port for --send."),
) -> None:
    """Validate one submission without loading it, and write its reports."""
    from reporting.render import ReportSummary, report_details, write_reports
    from schemas.history import check_against_history, submitted_country
    from warehouse.history import held_figures_at
    from schemas.findings import outcome
    from schemas.validate import validate_submission
    from transforms.prepare import prepare_submission
    from warehouse.load import submission_id_for

    if not file.exists():
        console.print(f"[red]No such file: {file}[/red]")
        raise typer.Exit(2)
    parsed = prepare_submission(file)
    result = validate_submission(parsed)
    history = None
    if db is not None:
        history = check_against_history(
            result.tables, result.frames, held_figures_at(db, submitted_country(result)),
            result.findings, result.info.get("year_from"), result.info.get("year_to"))
        result.findings.extend(history.findings)
    status = outcome(result.findings)
    country = result.info.get("country") if result.info else None
    country = country if isinstance(country, str) and len(country) == 3 else None
    submission_id = submission_id_for(country, parsed.sha256)
    summary = ReportSummary(submission_id=submission_id, file_name=file.name, sha256=parsed.sha256,
                            status=status, country=country,
                            year_from=result.info.get("year_from"), year_to=result.info.get("year_to"),
                            rows={t: len(df) for t, df in result.tables.items()},
                            note="note_validated_only", **report_details(parsed, result, history))
    if lang:
        summary.language = lang
    out = write_reports(reports / submission_id, summary, result.findings)
    if send:
        _send_report(out, smtp_host, smtp_port)
    _print_findings(result.findings)
    style = STATUS_STYLE.get(status, "")
    console.print(f"[{style}]{status}[/{style}]: {sum(f.severity == 'error' for f in result.findings)} errors, "
                  f"{sum(f.severity == 'warning' for f in result.findings)} warnings. Report: {out}/report.html")
    raise typer.Exit(1 if status == "rejected" else 0)


def _print_findings(findings, limit: int = 30) -> None:
    if not findings:
        return
    table = Table(title=f"Findings ({len(findings)}{', first ' + str(limit) if len(findings) > limit else ''})")
    for column in ("where", "severity", "rule", "message"):
        table.add_column(column)
    for f in findings[:limit]:
        # submitted text may hold [brackets] that rich would read as markup
        table.add_row(escape(f.location), f.severity, f.rule, escape(f.message))
    console.print(table)


@app.command()
def template(
    path: Path = typer.Argument(Path("glotip_template.xlsx"), help="Where to write it."),
    lang: str = typer.Option("en", help="Language of the template: ar, zh, en, fr, ru or es."),
) -> None:
    """Write the blank Excel submission template."""
    from schemas.i18n import LANGUAGES
    from transforms.template import write_template

    if lang not in LANGUAGES:
        console.print(f"[red]--lang must be one of {', '.join(LANGUAGES)}[/red]")
        raise typer.Exit(2)
    console.print(f"Template written to {write_template(path, language=lang)}")


@app.command()
def sql(
    query: Optional[str] = typer.Argument(None, help="A SQL query (read-only); or --query NAME."),
    db: Path = typer.Option(DEFAULT_DB, help="DuckDB warehouse file."),
    format: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
    named: Optional[str] = typer.Option(None, "--query", "-q",
                                        help="Run a standard query of warehouse/queries/ (see --list)."),
    param: Optional[list[str]] = typer.Option(None, "--param", "-p",
                                              help="A standard query's parameter, key=value (repeatable)."),
    list_queries: bool = typer.Option(False, "--list", help="List the standard queries and their questions."),
    as_of: Optional[str] = typer.Option(None, "--as-of",
                                        help="See the data as it was current then (e.g. 2025-01-31)."),
    live: bool = typer.Option(False, "--live", help="Read the warehouse itself, not the analysts' "
                              "snapshot (waits for, and can hold up, ingestion)."),
) -> None:
    """Run a read-only SQL query (or a standard query) against the analysts' snapshot."""
    import duckdb

    from warehouse.snapshot import snapshot_path, use_as_of
    from warehouse.queries import load_query, parse_params, query_names, run_standard_query

    if list_queries:
        for name in query_names():
            standard = load_query(name)
            params = ", ".join(f"{k}={v or ''}" for k, v in standard.defaults.items())
            console.print(f"[bold]{name}[/bold] ({params}): {standard.question}")
        return
    if (query is None) == (named is None):
        console.print("[red]Give either a SQL query or --query NAME.[/red]")
        raise typer.Exit(2)
    source = db if live else snapshot_path(db)
    if not source.exists():
        console.print(f"[red]No {'warehouse' if live else 'snapshot'} at {source}; run `glotip ingest` "
                      f"(or `glotip publish`) first.[/red]")
        raise typer.Exit(2)
    try:
        with duckdb.connect(str(source), read_only=True) as connection:
            if as_of:
                use_as_of(connection, as_of)
            if named:
                frame = run_standard_query(connection, named, parse_params(param or []))
            else:
                frame = connection.execute(query).df()
    except (duckdb.Error, KeyError, ValueError) as problem:
        console.print(f"[red]{type(problem).__name__}: {problem}[/red]")
        raise typer.Exit(1)
    if format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif format == "json":
        sys.stdout.write(json.dumps(json.loads(frame.to_json(orient="records", date_format="iso")),
                                    indent=2, ensure_ascii=False) + "\n")
    else:
        table = Table()
        for column in frame.columns:
            table.add_column(str(column))
        for row in frame.itertuples(index=False):
            table.add_row(*("" if v is None else escape(str(v)) for v in row))
        console.print(table)
        console.print(f"{len(frame)} rows")


@app.command()
def serve(
    config: Optional[Path] = typer.Option(None, help="Config file [default: glotip.toml, or GLOTIP_CONFIG]."),
) -> None:
    """Serve the scheduled ingestion deployment until stopped (Ctrl-C).

    Needs `prefect server start` running and PREFECT_API_URL pointing at it
    (docs/operations.md).
    """
    import os

    from flows.settings import load_settings

    settings = load_settings(deployment=True, config=config)
    if not os.environ.get("PREFECT_API_URL"):
        console.print("[yellow]PREFECT_API_URL is not set: start `prefect server start` and "
                      "export PREFECT_API_URL=http://127.0.0.1:4200/api, or nothing will be "
                      "scheduled once this process stops.[/yellow]")
    Path(settings.inbox).mkdir(parents=True, exist_ok=True)
    from flows.deployment import deployment_name, serve_ingestion

    console.print(f"Serving {deployment_name(settings)}: {settings.cron} ({settings.timezone}), "
                  f"inbox {settings.inbox}, warehouse {settings.db}, reports {settings.reports}, "
                  f"move_processed={settings.move_processed}")
    serve_ingestion(settings)


@app.command()
def publish(db: Path = typer.Option(DEFAULT_DB, help="DuckDB warehouse file.")) -> None:
    """Publish the analysts' read-only snapshot and Parquet files now (ingest does it after each run)."""
    from warehouse.load import connect
    from warehouse.snapshot import publish as publish_for_analysts

    if not db.exists():
        console.print(f"[red]No warehouse at {db}; run `glotip ingest` first.[/red]")
        raise typer.Exit(2)
    published = publish_for_analysts(db, connect)
    console.print(f"Snapshot: {published['snapshot']}\nParquet: {published['parquet']}")


def _change_reference_data(db: Path, change) -> str:
    """Run `change(connection)` on the warehouse's reference tables, then republish the
    analysts' snapshot; a bad file or name is a one-line error, not a traceback."""
    from warehouse import snapshot as analyst
    from warehouse.load import connect

    try:
        connection = connect(db)
        try:
            analyst.refresh_reference_tables(connection)
            message = change(connection)
        finally:
            connection.close()
    except (ValueError, OSError) as problem:
        console.print(f"[red]{escape(str(problem))}[/red]")
        raise typer.Exit(1)
    analyst.publish(db, connect)
    return message


@app.command("load-grouping")
def load_grouping(
    name: str = typer.Argument(..., help="Name of the grouping, e.g. glotip_2024."),
    file: Optional[Path] = typer.Argument(None, help="CSV with columns country (ISO3), region, subregion."),
    activate: bool = typer.Option(False, "--activate", help="Make it the grouping the views use."),
    db: Path = typer.Option(DEFAULT_DB, help="DuckDB warehouse file."),
) -> None:
    """Load a regional grouping (or, without FILE, activate a loaded one: m49, glotip, ...)."""
    from warehouse import snapshot as analyst

    def change(connection) -> str:
        if file is None:
            analyst.activate_grouping(connection, name)
            return f"Grouping `{name}` is now active"
        rows = analyst.load_grouping(connection, name, analyst.read_grouping_file(file), activate)
        return f"Grouping `{name}`: {rows} countries loaded{' and activated' if activate else ''}"

    console.print(f"{_change_reference_data(db, change)}; snapshot republished.")


@app.command("load-population")
def load_population(
    file: Path = typer.Argument(..., help="CSV with columns country (ISO3), year, population[, source]."),
    db: Path = typer.Option(DEFAULT_DB, help="DuckDB warehouse file."),
) -> None:
    """Load population figures for SDG 16.2.2 rates (replacing those of the same country and year)."""
    from warehouse import snapshot as analyst

    def change(connection) -> str:
        rows = analyst.load_population(connection, analyst.read_population_file(file))
        return f"{rows} population figures loaded"

    console.print(f"{_change_reference_data(db, change)}; snapshot republished.")


@app.command()
def report(
    year: int = typer.Option(..., "--year", help="The data year of the edition."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder to write to (default var/drafting_pack/YEAR)."),
    db: Path = typer.Option(DEFAULT_DB, help="DuckDB warehouse file (its snapshot is read)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Use the data as current then (e.g. 2025-01-31)."),
) -> None:
    """Write the drafting pack: tables (.xlsx and CSV), charts (PNG, SVG) and an index page."""
    from reporting.drafting_pack import write_drafting_pack
    from reporting.disclosure import DisclosureError

    out = out or db.parent / "drafting_pack" / str(year)
    try:
        index = write_drafting_pack(db, year, out, as_of=as_of)
    except FileNotFoundError as problem:
        console.print(f"[red]{problem}[/red]")
        raise typer.Exit(2)
    except DisclosureError as problem:
        console.print(f"[red]Not written: {problem}[/red]")
        raise typer.Exit(1)
    console.print(f"Drafting pack for {year}: {index}")


def _send_report(report_dir: Path, smtp_host: Optional[str], smtp_port: int) -> None:
    from reporting.mail import send_message

    message = report_dir / "message.eml"
    if not smtp_host:
        console.print("[red]--send needs --smtp-host (or GLOTIP_SMTP_HOST); nothing was sent.[/red]")
        raise typer.Exit(2)
    if not message.exists():
        console.print(f"[red]No message.eml in {report_dir} (no valid contact e-mail); nothing was sent.[/red]")
        raise typer.Exit(2)
    import smtplib

    try:
        recipients = send_message(message, smtp_host, smtp_port)
    except (OSError, smtplib.SMTPException) as problem:
        console.print(f"[red]Not sent through {smtp_host}:{smtp_port}: {problem}[/red]")
        raise typer.Exit(3)
    console.print(f"Report sent to {', '.join(recipients)} through {smtp_host}:{smtp_port}")


@app.command("send-report")
def send_report(
    report_dir: Path = typer.Argument(..., help="A report folder holding message.eml."),
    smtp_host: str = typer.Option(..., envvar="GLOTIP_SMTP_HOST", help="SMTP server."),
    smtp_port: int = typer.Option(25, envvar="GLOTIP_SMTP_PORT", help="SMTP port."),
) -> None:
    """Send a report's message.eml to the submission's contact (never done by default)."""
    _send_report(report_dir, smtp_host, smtp_port)


@app.command()
def docs(
    out: Path = typer.Option(Path("docs/rules.md"), help="Where to write the rule catalogue."),
) -> None:
    """Write docs/rules.md, the catalogue of validation rules, from schemas/catalogue.py."""
    from reporting.rules_doc import write_rules_doc

    console.print(f"Rules written to {write_rules_doc(out)}")


@app.command("import-published")
def import_published(
    file: Path = typer.Argument(..., help="The dataUNODC GLOTIP export: .xlsx or .csv."),
    db: Path = typer.Option(DEFAULT_DB, help="DuckDB warehouse file (created if absent)."),
    reports: Path = typer.Option(DEFAULT_REPORTS, help="Where the import report is written."),
    export_date: Optional[str] = typer.Option(
        None, help="The export's date (YYYY-MM-DD), when neither the file's preamble nor its "
        "name gives it; overrides both."),
    force: bool = typer.Option(False, "--force", help="Import again a file already imported, or "
                               "replace the figures of an export date already imported."),
) -> None:
    """Import the published dataUNODC GLOTIP export into the warehouse (Prefect flow)."""
    import datetime as dt
    import time

    if not file.is_file():
        console.print(f"[red]No such file: {file}[/red]")
        raise typer.Exit(2)
    try:
        date = dt.date.fromisoformat(export_date) if export_date else None
    except ValueError:
        console.print(f"[red]--export-date must be YYYY-MM-DD, not {export_date}[/red]")
        raise typer.Exit(2)
    from flows.import_published import import_published as run_import

    started = time.perf_counter()
    result = run_import(str(file), str(db), str(reports), export_date=date, force=force)
    elapsed = time.perf_counter() - started
    status = result["status"]
    if status != "loaded":
        style = "dim" if status == "duplicate" else "red"
        console.print(f"[{style}]{escape(file.name)}: {status}[/{style}]: {escape(result['note'])}")
        raise typer.Exit(0 if status == "duplicate" else 1)
    table = Table(title=f"Import of {escape(file.name)} (export of {result['export_date']}) as "
                        f"{result['import_id']} into {db}")
    table.add_column("what")
    table.add_column("rows", justify="right")
    table.add_row("read", f"{result['rows_read']:,}")
    table.add_row("loaded", f"{result['rows_loaded']:,}")
    table.add_row("quarantined", f"{result['rows_quarantined']:,}")
    for rule, n in result["quarantined_by_reason"].items():
        table.add_row(f"  {rule}", f"{n:,}")
    for name, n in result["fact_rows"].items():
        table.add_row(f"fact_{name}", f"{n:,}")
    console.print(table)
    for key, label in (("citizenship", "citizenship"), ("repatriation", "country of repatriation")):
        item = result[key]
        if item["rows"]:
            console.print(f"{label}: {item['rows_country']:,} of {item['rows']:,} rows "
                          f"({item['share_resolved_to_country']:.1%}) resolved to a country; "
                          f"{item['rows_unresolved']:,} rows unresolved "
                          f"({item['texts_unresolved']} texts, listed in the report)")
    repeated = result["repeated_keys"]
    console.print(f"repeated keys: {repeated['summed_keys']:,} summed, "
                  f"{repeated['exact_duplicate_rows']:,} exact duplicates, "
                  f"{repeated['conflicting_keys']:,} conflicting; parts exceeding their total "
                  f"in the published data: {result['parts_exceed_total']:,}")
    console.print(f"{result['submissions']} country pseudo-submissions; import {result['seconds']:.1f} s "
                  f"(command {elapsed:.1f} s, with Prefect's start). Report: {result['report']}/report.html")


if __name__ == "__main__":
    app()
