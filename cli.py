"""`glotip`: the command line of the GLOTIP submissions pipeline.

Heavy imports (Prefect above all) happen inside the commands that need them, so that
`glotip validate` and `glotip sql` start fast and never start Prefect.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from schemas.codelists import LANGUAGE  # plain data: no pandas, so the command starts fast

app = typer.Typer(help="Receive, validate and warehouse GLOTIP submissions.", no_args_is_help=True,
                  add_completion=False)
# A pipe or CI log has no width: do not squeeze submission ids and report paths to 80 columns.
console = Console(width=None if sys.stdout.isatty() else 200)

# Paths default to None: `_settings` then takes them from glotip.toml / GLOTIP_* (pipeline/settings.py).
DB_HELP = "DuckDB warehouse file. Default: glotip.toml or GLOTIP_DB, else var/glotip.duckdb."
REPORTS_HELP = "Where reports are written. Default: glotip.toml or GLOTIP_REPORTS, else var/reports."
ARCHIVE_HELP = "Raw archive, by sha256. Default: glotip.toml or GLOTIP_ARCHIVE, else var/archive."
# `--lang`: one of the six codes, the same for every command that takes it; anything else is
# refused by click (exit code 2) with the list of the six.
Language = Enum("Language", {code: code for code in LANGUAGE.codes}, type=str)


def language_option(default: Language | None, help: str):
    return typer.Option(default, "--lang", case_sensitive=False, show_default=bool(default),
                        help=f"{help} One of {', '.join(LANGUAGE.codes)}.")


STATUS_STYLE = {"accepted": "green", "accepted_with_warnings": "yellow", "held": "yellow", "rejected": "red",
                "failed": "red", "duplicate": "dim", "completed": "green", "validated": "green",
                "deferred": "yellow", "skipped": "dim"}


@app.command()
def ingest(
    inbox: Optional[Path] = typer.Argument(
        None, help="Folder of submissions. Default: glotip.toml or GLOTIP_INBOX, else sample_submissions."),
    db: Optional[Path] = typer.Option(None, help=DB_HELP + " Created if absent."),
    reports: Optional[Path] = typer.Option(None, help=REPORTS_HELP),
    archive: Optional[Path] = typer.Option(None, help=ARCHIVE_HELP),
    move_processed: Optional[bool] = typer.Option(
        None, "--move-processed/--keep-processed",
        help="Remove each entry from the inbox once its outcome is recorded, or keep it. "
             "Default: glotip.toml or GLOTIP_MOVE_PROCESSED, else keep."),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Show Prefect's log here too (it is always written to "
                                      "REPORTS/runs/RUN/prefect.log). Default: off."),
) -> None:
    """Run the Prefect ingestion flow over INBOX: a progress bar, then the summary."""
    settings = _settings(inbox=inbox, db=db, reports=reports, archive=archive,
                         move_processed=move_processed)
    inbox, db = Path(settings.inbox), Path(settings.db)
    if not inbox.is_dir():
        console.print(f"[red]No inbox folder at {_shown(inbox)}[/red]")
        raise typer.Exit(2)
    from transforms.isolated import start_reader_server

    start_reader_server()  # its imports overlap Prefect's, below
    from flows import offline_defaults, prefect_log_to_file, without_heartbeats

    offline_defaults()
    import tempfile
    import time

    from warehouse.snapshot import snapshot_path

    started = time.time()
    # The run's id is known once it has started: the log is written in a folder named by the
    # start time (and made unique: two commands may start in the same second), renamed after
    # the run.
    runs = Path(settings.reports) / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    log = Path(tempfile.mkdtemp(prefix=time.strftime("ingest-%Y%m%dT%H%M%S-"), dir=runs)) / "prefect.log"
    with prefect_log_to_file(log, also_on_terminal=verbose), without_heartbeats():
        outcomes = _run_ingestion(settings, show_progress=not verbose)
    log = _named_after_run(log, outcomes)
    if not outcomes:
        console.print(f"[yellow]Nothing ingested: {_shown(inbox)} is empty, or {_shown(db)} could "
                      f"not be used (see {_shown(log)}).[/yellow]", soft_wrap=True)
    table = Table(title=f"Ingestion of {_shown(inbox)} into {_shown(db)}")
    for column in ("file", "submission", "status", "rows loaded", "errors", "warnings", "report"):
        table.add_column(column, justify="right" if column in ("rows loaded", "errors", "warnings") else "left")
    for o in outcomes:
        style = STATUS_STYLE.get(o["status"], "")
        report = f"{o['report']}/report.html" if o["report"] else o["note"]
        if o["report"] and o["note"] and o["status"] != "duplicate":
            report += f" ({o['note']})"
        table.add_row(_shown(o["file_name"]), o["submission_id"] or "-", f"[{style}]{o['status']}[/{style}]",
                      str(o["rows_loaded"]), str(o["errors"]), str(o["warnings"]), _shown(report))
    if outcomes:
        console.print(table)
    for o in outcomes:  # resubmissions: what each replaces, and how much of it changed
        if o.get("resubmission"):
            console.print(f"{_shown(o['file_name'])} ({o['submission_id']}): {_shown(o['resubmission'])}",
                          soft_wrap=True)
    for o in outcomes:  # what to do, in full, one line each (a table cell would wrap it)
        if o["status"] == "failed" or o.get("report_pending"):
            console.print(f"{_shown(o['file_name'])}: {o['status']}: {_shown(o['note'])}", soft_wrap=True)
    totals = {}
    for o in outcomes:
        totals[o["status"]] = totals.get(o["status"], 0) + 1
    pending = sum(bool(o.get("report_pending")) for o in outcomes)
    console.print(ingestion_summary(len(outcomes), totals, sum(o["rows_loaded"] for o in outcomes), pending))
    console.print(f"Prefect's log: {_shown(log)}", style="dim", soft_wrap=True)
    snapshot = snapshot_path(db)
    unpublished = bool(outcomes) and (not snapshot.exists() or snapshot.stat().st_mtime < started)
    if unpublished:
        console.print("[red]The analysts' snapshot was not published (see Prefect's log); once the "
                      "cause is fixed, run `glotip publish`.[/red]")
    if totals.get("failed") or pending or unpublished:  # a scheduler or script sees what is left to do
        console.print("[red]Not everything was done (see the notes above); the next run takes up "
                      "what is missing.[/red]")
        raise typer.Exit(1)


def ingestion_summary(files: int, by_status: dict[str, int], rows_loaded: int, reports_pending: int) -> str:
    """The closing line of `glotip ingest`, in English (the data team's command), its counts in
    their plural forms: "1 file: 1 accepted; 118 rows loaded."."""
    from schemas.i18n import ui

    statuses = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
    line = (ui("file_count", "en", count=files, n=files) + (f": {statuses}" if statuses else "")
            + "; " + ui("loaded_row_count", "en", count=rows_loaded, n=rows_loaded) + ".")
    if reports_pending:
        line += " " + ui("unwritten_report_count", "en", count=reports_pending, n=reports_pending) + "."
    return line


def _run_ingestion(settings, show_progress: bool) -> list[dict]:
    """The flow, in this process; with a progress bar drawn from its progress records
    (flows/ingest.py, `PROGRESS_LOGGER`): one step per submission, the one in hand named."""
    import logging

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from flows.ingest import PROGRESS_LOGGER, ingest_submissions

    if not show_progress:
        return ingest_submissions(**settings.flow_parameters())

    class ProgressBar(logging.Handler):
        def __init__(self, progress: Progress):
            super().__init__()
            self.progress = progress
            self.bar = progress.add_task("starting Prefect", total=None)

        def emit(self, record: logging.LogRecord) -> None:
            step = getattr(record, "progress", {})
            if "entries" in step:
                self.progress.update(self.bar, total=step["entries"], description="submissions")
            elif "started" in step:
                self.progress.update(self.bar, description=_shown(step["started"]))
            elif "finished" in step:
                self.progress.advance(self.bar)

    steps = logging.getLogger(PROGRESS_LOGGER)
    level, propagate = steps.level, steps.propagate
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        bar = ProgressBar(progress)
        steps.addHandler(bar)
        steps.setLevel(logging.INFO)
        steps.propagate = False  # the bar shows them; nowhere else
        try:
            return ingest_submissions(**settings.flow_parameters())
        finally:
            steps.removeHandler(bar)
            steps.setLevel(level)
            steps.propagate = propagate


def _named_after_run(log: Path, outcomes: list[dict]) -> Path:
    """The log's folder renamed after the run it holds (REPORTS/runs/RUN/prefect.log), when the
    run started; else it keeps the start time."""
    run_ids = {o.get("run_id") for o in outcomes} - {None}
    if len(run_ids) != 1:
        return log
    folder = log.parent.with_name(run_ids.pop())
    try:
        return log.parent.rename(folder) / log.name
    except OSError:  # taken (a rerun of the same id cannot be), or the folder cannot be renamed
        return log


def _shown(text) -> str:
    """A name or message for the terminal: control characters escaped (a file name cannot
    forge a line or move the cursor), rich markup taken literally."""
    from schemas.printable import printable

    return escape(printable(text))


def _problem_line(problem: Exception) -> str:
    """A one-line problem for the terminal: capitalised, safe to print, ended by a full stop."""
    text = str(problem)
    return _shown(text[:1].upper() + text[1:]) + "."


def _existing_warehouse(db) -> Path:
    """The warehouse file at `db`; a missing one ends the command (exit 2), never a reason to
    create an empty warehouse or read another file."""
    from warehouse.snapshot_files import NoSnapshot, existing_warehouse

    try:
        return existing_warehouse(db)
    except NoSnapshot as missing:
        console.print(f"[red]{_problem_line(missing)}[/red]", soft_wrap=True)
        raise typer.Exit(2)


def _settings(**flags):
    """glotip.toml, then GLOTIP_*, then the flags the user gave: the same for every command."""
    from pipeline.settings import load_settings

    try:
        settings = load_settings()
    except ValueError as problem:  # an unknown or malformed setting
        console.print(f"[red]{escape(str(problem))}[/red]")
        raise typer.Exit(2)
    return settings.with_flags(**{name: str(value) if isinstance(value, Path) else value
                                  for name, value in flags.items()})


@app.command()
def validate(
    file: Path = typer.Argument(..., help="A submission: .xlsx, .zip of CSVs, or a folder of CSVs."),
    reports: Optional[Path] = typer.Option(None, help=REPORTS_HELP),
    db: Optional[Path] = typer.Option(None, help="Compare with the figures this warehouse holds. "
                                      "Default: glotip.toml or GLOTIP_DB, when that file exists."),
    lang: Optional[Language] = language_option(
        None, "Language of the reports and of this command's output. Default: the submission's "
        "`language`, else en."),
    send: bool = typer.Option(False, "--send", help="Send message.eml to the contact (needs --smtp-host). Default: off (nothing is sent)."),
    smtp_host: Optional[str] = typer.Option(None, envvar="GLOTIP_SMTP_HOST", help="SMTP server for --send. Default: GLOTIP_SMTP_HOST, else none."),
    smtp_port: int = typer.Option(25, envvar="GLOTIP_SMTP_PORT", help="SMTP port for --send."),
) -> None:
    """Validate one submission without loading it, and write its reports.

    Its message.eml attaches the reports and has no portal link, whatever `attach_report` says:
    nothing is loaded, so the portal has nothing to show, and the data team sends it by hand."""
    from pipeline import submission as sequence
    from reporting.notice import BY_HAND

    settings = _settings(db=db, reports=reports)
    if not file.exists():
        console.print(f"[red]No such file: {_shown(file)}[/red]")
        raise typer.Exit(2)
    language = lang.value if lang is not None else None
    warehouse_path = Path(settings.db)
    if db is not None:  # asked for by name: it must exist
        _existing_warehouse(warehouse_path)
    warehouse = None
    try:
        # A workbook's reader is forked from this process, which has imported the readers (a
        # forkserver would start and import them again: about a second) and, the warehouse not
        # opened yet, runs no other thread for the fork to copy.
        assessment = sequence.assess_file(file, limits=settings.limits, start_method="fork")
        warehouse = _warehouse_to_compare(warehouse_path)
        # not in the portal's register: no link; the report attached, as the data team sends it
        outcome = sequence.process(assessment, warehouse, reports_dir=settings.reports, load=False,
                                   language=language, source_path=str(file), notice=BY_HAND)
    except sequence.TRANSIENT_ERRORS as problem:  # a full disk, a reports folder we cannot write
        console.print(f"[red]{_shown(sequence.why_failed(problem, 'validating and writing the report'))}[/red]")
        raise typer.Exit(2)
    finally:
        if warehouse is not None:
            warehouse.close()
    out = Path(outcome.report)
    if send:
        _send_report(out, smtp_host, smtp_port)
    from schemas.i18n import language_or_default, ui

    language = language or language_or_default(assessment.details.language)  # as the report says it
    _print_findings(outcome.findings, language)
    style = STATUS_STYLE.get(outcome.status, "")
    status = _said(ui(f"status.{outcome.status}", language))
    console.print(ui("validate_result", language, status=f"[{style}]{status}[/{style}]", errors=outcome.errors,
                     warnings=outcome.warnings, report=f"{_shown(out)}/report.html"), soft_wrap=True)
    raise typer.Exit(1 if outcome.status == "rejected" else 0)


def _warehouse_to_compare(path: Path):
    """The warehouse at `path`, read-only, to compare a submission with the figures it holds;
    None when there is none, or when an ingestion holds it (validated without history)."""
    import duckdb

    from warehouse.session import Warehouse

    if not path.exists():
        return None
    warehouse = Warehouse(path, read_only=True)
    try:
        warehouse.connection
    except duckdb.IOException as problem:  # held by an ingestion
        console.print(f"[yellow]Not compared with {path}: {escape(str(problem))}[/yellow]")
        return None
    return warehouse


def _said(text: str) -> str:
    """A rendered message for the terminal: shown safely (`_shown`), without the Markdown code
    marks of the catalogue's templates (the terminal does not render Markdown)."""
    return _shown(text.replace("`", ""))


def _print_findings(findings, language: str, limit: int = 30) -> None:
    """The findings in the report's language: where, severity, the rule's title (its code
    dimmed after it, for the data team) and the message."""
    if not findings:
        return
    from schemas import messages
    from schemas.i18n import ui

    table = Table(title=ui("all_findings", language))
    for key in ("where", "severity", "rule", "what_is_wrong"):
        table.add_column(ui(key, language))
    for f in findings[:limit]:
        # submitted text may hold [brackets] that rich would read as markup, or control characters
        table.add_row(_shown(messages.render_location(f.location, language)),
                      _said(messages.severity(f.severity, language)),
                      f"{_said(messages.rule_title(f.rule, language))} [dim]({_shown(f.rule)})[/dim]",
                      _said(messages.render_message(f, language)))
    console.print(table)
    if len(findings) > limit:
        console.print(_said(ui("listing_capped", language, cap=limit, total=len(findings))), soft_wrap=True)


@app.command()
def template(
    path: Path = typer.Argument(Path("glotip_template.xlsx"), help="Where to write it."),
    lang: Language = language_option(Language.en, "Language of the template."),
) -> None:
    """Write the blank Excel submission template."""
    from transforms.template import write_template

    console.print(f"Template written to {write_template(path, language=lang.value)}")


@app.command()
def sql(
    query: Optional[str] = typer.Argument(None, help="A SQL query (read-only); or --query NAME. Default: none."),
    db: Optional[Path] = typer.Option(None, help=DB_HELP),
    format: str = typer.Option("table", "--format", "-f", help="Output format: table, csv or json."),
    named: Optional[str] = typer.Option(None, "--query", "-q",
                                        help="Run a standard query of warehouse/queries/ (see --list). Default: none."),
    param: Optional[list[str]] = typer.Option(None, "--param", "-p",
                                              help="A standard query's parameter, key=value (repeatable). Default: the query's own."),
    list_queries: bool = typer.Option(False, "--list", help="List the standard queries and their questions. Default: off."),
    as_of: Optional[str] = typer.Option(None, "--as-of",
                                        help="See the data as it was current then (e.g. 2025-01-31). Default: now."),
    live: bool = typer.Option(False, "--live", help="Read the warehouse itself, not the analysts' "
                              "snapshot (waits for, and can hold up, ingestion). Default: off."),
) -> None:
    """Run a read-only SQL query (or a standard query) against the analysts' snapshot."""
    import duckdb

    # neither pandas nor pandera: the answer is read as Python values (reporting/query_output.py)
    from reporting.query_output import fetched, table_cells, write_csv, write_json
    from warehouse.queries import execute_standard_query, load_query, parse_params, query_names
    from warehouse.snapshot_files import NoSnapshot, existing_snapshot, existing_warehouse, use_as_of

    if list_queries:
        for name in query_names():
            standard = load_query(name)
            params = ", ".join(f"{k}={v or ''}" for k, v in standard.defaults.items())
            console.print(f"[bold]{name}[/bold] ({params}): {standard.question}")
        return
    if (query is None) == (named is None):
        console.print("[red]Give either a SQL query or --query NAME.[/red]")
        raise typer.Exit(2)
    db = Path(_settings(db=db).db)
    try:  # a missing warehouse is an error, never a reason to read some other file
        source = existing_warehouse(db) if live else existing_snapshot(db)
    except NoSnapshot as problem:
        console.print(f"[red]{_problem_line(problem)}[/red]", soft_wrap=True)
        raise typer.Exit(1)
    try:
        with duckdb.connect(str(source), read_only=True) as connection:
            if as_of:
                use_as_of(connection, as_of)
            if named:
                answer = fetched(execute_standard_query(connection, named, parse_params(param or [])))
            else:
                answer = fetched(connection.execute(query))
    except (duckdb.Error, KeyError, ValueError) as problem:
        console.print(f"[red]{type(problem).__name__}: {problem}[/red]")
        raise typer.Exit(1)
    # One text for a missing value, whole numbers as integers, shares and rates rounded
    # (reporting/query_output.py); the CSV is inert in a spreadsheet.
    if format == "csv":
        write_csv(answer, sys.stdout)
    elif format == "json":
        write_json(answer, sys.stdout)
    else:
        table = Table()
        for column, numeric in zip(answer.columns, answer.numeric):
            table.add_column(escape(column), justify="right" if numeric else "left")
        for row in table_cells(answer):
            table.add_row(*(escape(cell) for cell in row))
        console.print(table)
        console.print(f"{len(answer.rows)} {'row' if len(answer.rows) == 1 else 'rows'}")


@app.command()
def serve(
    config: Optional[Path] = typer.Option(None, help="Config file. Default: GLOTIP_CONFIG, else glotip.toml."),
) -> None:
    """Serve the scheduled ingestion deployment from this process until stopped (Ctrl-C).

    The one-machine form. Needs `prefect server start` running and PREFECT_API_URL pointing at
    it. For a team (work pool, workers, prefect.yaml): docs/operations.md, "Team set-up".
    """
    import os

    from pipeline.settings import load_settings

    settings = load_settings(deployment=True, config=config)
    if not os.environ.get("PREFECT_API_URL"):
        console.print("[yellow]PREFECT_API_URL is not set: start `prefect server start` and "
                      "export PREFECT_API_URL=http://127.0.0.1:4200/api, or nothing will be "
                      "scheduled once this process stops.[/yellow]")
    Path(settings.inbox).mkdir(parents=True, exist_ok=True)
    from flows import offline_defaults

    offline_defaults()
    from flows.deployment import deployment_name, serve_ingestion

    console.print(f"Serving {deployment_name(settings)}: {settings.cron} ({settings.timezone}), "
                  f"inbox {settings.inbox}, warehouse {settings.db}, reports {settings.reports}, "
                  f"move_processed={settings.move_processed}")
    serve_ingestion(settings)


@app.command()
def publish(db: Optional[Path] = typer.Option(None, help=DB_HELP)) -> None:
    """Publish the analysts' read-only snapshot and Parquet files now (ingest does it after each run)."""
    from pipeline.submission import WAREHOUSE_ERRORS, warehouse_problem
    from warehouse.session import Warehouse
    from warehouse.snapshot import publish as publish_for_analysts
    from warehouse.snapshot import shared_layout_leftovers

    db = _existing_warehouse(_settings(db=db).db)
    try:
        published = publish_for_analysts(Warehouse(db))
    except WAREHOUSE_ERRORS as problem:  # held by another process, read-only, disk full
        console.print(f"[red]Not published: {_shown(warehouse_problem(problem, db))}[/red]")
        raise typer.Exit(1)
    console.print(f"Snapshot: {published['snapshot']}\nParquet: {published['parquet']}")
    leftovers = shared_layout_leftovers(db)
    if leftovers:  # not ours to remove: nothing says which warehouse they were made from
        console.print(f"[yellow]Left from the earlier layout, shared by every warehouse of the "
                      f"folder, and no longer read or updated: {', '.join(_shown(str(path)) for path in leftovers)}; "
                      f"remove them once nobody reads them.[/yellow]", soft_wrap=True)


def _change_reference_data(db: Optional[Path], change) -> str:
    """Run `change(connection)` on the warehouse's reference tables, then republish the
    analysts' snapshot; a bad file or name is a one-line error, not a traceback."""
    from warehouse import snapshot as analyst
    from warehouse.session import Warehouse

    warehouse = Warehouse(_settings(db=db).db)
    try:
        analyst.refresh_reference_tables(warehouse.connection)
        message = change(warehouse.connection)
    except (ValueError, OSError) as problem:
        warehouse.close()
        console.print(f"[red]{escape(str(problem))}[/red]")
        raise typer.Exit(1)
    analyst.publish(warehouse)
    return message


@app.command()
def held(db: Optional[Path] = typer.Option(None, help=DB_HELP)) -> None:
    """List the submissions held for confirmation (most of their figures differ from those held)."""
    from pipeline.submission import WAREHOUSE_ERRORS, warehouse_problem
    from warehouse.load import held_submissions
    from warehouse.session import Warehouse

    db = _existing_warehouse(_settings(db=db).db)
    try:
        with Warehouse(db, read_only=True) as warehouse:
            rows = held_submissions(warehouse.connection)
    except WAREHOUSE_ERRORS as problem:  # held by an ingestion
        console.print(f"[red]{_shown(warehouse_problem(problem, db))}[/red]")
        raise typer.Exit(1)
    table = Table(title=f"Held for confirmation in {_shown(db)}")
    for column in ("submission", "country", "years", "file", "received"):
        table.add_column(column)
    for submission_id, country, year_from, year_to, file_name, received_at in rows:
        table.add_row(submission_id, country or "-", f"{year_from}-{year_to}", _shown(file_name),
                      f"{received_at:%Y-%m-%d %H:%M}")
    console.print(table if rows else "No submission is held.")


HELD_ID_HELP = "The held submission (see `glotip held`)."


@app.command()
def release(
    submission_id: str = typer.Argument(..., help=HELD_ID_HELP),
    db: Optional[Path] = typer.Option(None, help=DB_HELP),
    reports: Optional[Path] = typer.Option(None, help=REPORTS_HELP),
    archive: Optional[Path] = typer.Option(None, help=ARCHIVE_HELP),
) -> None:
    """Confirm a held submission: its figures become current and replace those held."""
    _decide_held(submission_id, True, db, reports, archive)


@app.command()
def reject(
    submission_id: str = typer.Argument(..., help=HELD_ID_HELP),
    db: Optional[Path] = typer.Option(None, help=DB_HELP),
    reports: Optional[Path] = typer.Option(None, help=REPORTS_HELP),
    archive: Optional[Path] = typer.Option(None, help=ARCHIVE_HELP),
) -> None:
    """Refuse a held submission: its staged rows are removed; the register and archive keep it."""
    _decide_held(submission_id, False, db, reports, archive)


def _decide_held(submission_id: str, release: bool, db, reports, archive) -> None:
    """In one turn at the warehouse (a run's load waits for it, or it for the load), then the
    snapshot republished."""
    from pipeline.submission import WAREHOUSE_ERRORS, decide_held, warehouse_problem
    from warehouse.session import Warehouse
    from warehouse.snapshot import publish as publish_for_analysts

    settings = _settings(db=db, reports=reports, archive=archive)
    _existing_warehouse(settings.db)
    warehouse = Warehouse(settings.db, wait_seconds=settings.warehouse_wait_seconds)
    try:
        try:
            decided = decide_held(submission_id, release, warehouse, settings.reports,
                                  settings.archive, limits=settings.limits, notice=settings.notice())
        except (LookupError, ValueError) as problem:
            console.print(f"[red]{_shown(problem)}[/red]")
            raise typer.Exit(1)
        publish_for_analysts(warehouse)  # closes the session
    except WAREHOUSE_ERRORS as problem:  # held open by an analyst, read-only, disk full
        console.print(f"[red]{_shown(warehouse_problem(problem, settings.db))}[/red]")
        raise typer.Exit(1)
    done = "released: its figures are now current" if release else "rejected: its staged rows were removed"
    console.print(f"{submission_id} {done} ({decided.rows_loaded} rows); snapshot republished.")
    console.print(f"Report: {_shown(decided.report)}/report.html" if decided.report else _shown(decided.note))


@app.command("load-grouping")
def load_grouping(
    name: str = typer.Argument(..., help="Name of the grouping, e.g. glotip_2024."),
    file: Optional[Path] = typer.Argument(None, help="CSV with columns country (ISO3), region, subregion. Default: none (activate the loaded grouping NAME)."),
    activate: bool = typer.Option(False, "--activate", help="Make it the grouping the views use. Default: off."),
    db: Optional[Path] = typer.Option(None, help=DB_HELP),
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
    db: Optional[Path] = typer.Option(None, help=DB_HELP),
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
    out: Optional[Path] = typer.Option(None, "--out", help="Folder to write to. Default: drafting_pack/YEAR next to the warehouse."),
    db: Optional[Path] = typer.Option(None, help=DB_HELP + " Its snapshot is read."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Use the data as current then (e.g. 2025-01-31). Default: now."),
    suppression_seconds: Optional[float] = typer.Option(
        None, "--suppression-seconds", help="Solver time for the secondary suppression of the release; past it the "
        "safe fallback (more cells hidden). Default: suppression_seconds of glotip.toml (120)."),
    lang: Language = language_option(Language.en, "Language of the pack: its tables, charts, profiles and pages."),
) -> None:
    """Write the drafting pack: tables (.xlsx and CSV), charts (PNG, SVG), the disclosure audit
    and an index page."""
    from reporting.drafting_pack import NoDataForYear, write_drafting_pack
    from reporting.disclosure import DisclosureError

    settings = _settings(db=db, suppression_seconds=suppression_seconds)
    db = Path(settings.db)
    out = out or db.parent / "drafting_pack" / str(year)
    try:
        index = write_drafting_pack(db, year, out, as_of=as_of, suppression_seconds=settings.suppression_seconds,
                                    language=lang.value)
    except FileNotFoundError as problem:
        console.print(f"[red]{problem}[/red]")
        raise typer.Exit(2)
    except NoDataForYear as problem:
        console.print(f"[red]{_shown(problem)}[/red]")
        raise typer.Exit(1)
    except DisclosureError as problem:
        console.print(f"[red]Not written: {problem}[/red]")
        raise typer.Exit(1)
    console.print(f"Drafting pack for {year}: {index}")


@app.command("case-law")
def case_law(
    year: Optional[int] = typer.Option(None, "--year", help="Only the cases of this year. Default: every year."),
    country: Optional[str] = typer.Option(None, "--country", help="Only the cases of this reporting country (ISO3). Default: every country."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder to write to. Default: case_law next to the warehouse."),
    db: Optional[Path] = typer.Option(None, help=DB_HELP + " Its snapshot is read."),
) -> None:
    """Write the organ-removal cases as records for UNODC's case-law database:
    case_law_records.json and case_law_records.xlsx, texts holding personal data withheld."""
    from reporting.case_law import NoCases, write_case_law
    from schemas.countries import country_codes

    if country is not None:
        country = country.strip().upper()
        if country not in country_codes():
            console.print(f"[red]--country {_shown(country)} is not an ISO 3166-1 alpha-3 code.[/red]")
            raise typer.Exit(2)
    db = Path(_settings(db=db).db)
    out = out or db.parent / "case_law"
    try:
        json_path, xlsx_path, count = write_case_law(db, out, year=year, country=country)
    except FileNotFoundError as problem:
        console.print(f"[red]{_shown(problem)}[/red]")
        raise typer.Exit(2)
    except NoCases as problem:
        console.print(f"[red]{_shown(problem)}[/red]")
        raise typer.Exit(1)
    console.print(f"{count} case-law record{'s' if count != 1 else ''}: {_shown(json_path)}, {_shown(xlsx_path)}")


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
    smtp_host: str = typer.Option(..., envvar="GLOTIP_SMTP_HOST", help="SMTP server. Default: GLOTIP_SMTP_HOST."),
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
    db: Optional[Path] = typer.Option(None, help=DB_HELP + " Created if absent."),
    reports: Optional[Path] = typer.Option(None, help=REPORTS_HELP),
    export_date: Optional[str] = typer.Option(
        None, help="The export's date (YYYY-MM-DD), when neither the file's preamble nor its "
        "name gives it; overrides both. Default: from the file."),
    force: bool = typer.Option(False, "--force", help="Import again a file already imported, or "
                               "replace the figures of an export date already imported. Default: off."),
) -> None:
    """Import the published dataUNODC GLOTIP export into the warehouse (Prefect flow)."""
    import datetime as dt
    import time

    if not file.is_file():
        console.print(f"[red]No such file: {_shown(file)}[/red]")
        raise typer.Exit(2)
    try:
        date = dt.date.fromisoformat(export_date) if export_date else None
    except ValueError:
        console.print(f"[red]--export-date must be YYYY-MM-DD, not {export_date}[/red]")
        raise typer.Exit(2)
    settings = _settings(db=db, reports=reports)
    db = Path(settings.db)
    from flows import offline_defaults

    offline_defaults()
    from flows.import_published import import_published as run_import

    started = time.perf_counter()
    result = run_import(str(file), settings.db, settings.reports, export_date=date, force=force)
    elapsed = time.perf_counter() - started
    status = result["status"]
    unpublished = "published" in result and result["published"] is None
    if status != "loaded":
        style = "dim" if status == "duplicate" else "red"
        console.print(f"[{style}]{_shown(file.name)}: {status}[/{style}]: {_shown(result['note'])}")
        _say_unpublished(unpublished)
        raise typer.Exit(0 if status == "duplicate" and not unpublished else 1)
    table = Table(title=f"Import of {_shown(file.name)} (export of {result['export_date']}) as "
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
    if not unpublished:
        console.print(f"Analysts' snapshot republished: {result['published']['snapshot']}")
    _say_unpublished(unpublished)
    if unpublished:
        raise typer.Exit(1)


portal_app = typer.Typer(help="The submitters' portal: self-check and submit in the browser (docs/portal.md).",
                         add_completion=False)
app.add_typer(portal_app, name="portal")
PORTAL_DIR_HELP = "The portal's accounts, audit log and checks. Default: portal/ beside the warehouse."


# what the config's `[portal]` table (or GLOTIP_PORTAL_<NAME>) may set; the rest is the command's
PORTAL_SETTINGS = ("session_hours", "failures_per_email", "failures_per_client", "failure_window_minutes",
                   "upload_seconds", "upload_idle_seconds", "checks_at_once")


def _portal_config(portal_dir: Optional[Path], config: Optional[Path] = None):
    """The portal's settings: the scheduled deployment's (`[ingest]` then `[deployment]`), so
    that a submitted file goes into the inbox the scheduled run takes, never the demo's; then
    the `[portal]` table."""
    from dataclasses import fields

    from pipeline.settings import load_settings, load_table
    from portal.app import PortalConfig

    settings = load_settings(deployment=True, config=config)
    tuned = load_table("portal", {f.name: f for f in fields(PortalConfig) if f.name in PORTAL_SETTINGS}, config)
    return PortalConfig(settings, portal_dir or Path(settings.db).parent / "portal", **tuned)


@portal_app.callback(invoke_without_command=True)
def portal(
    context: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on. Default: loopback only; "
                             "serve others through an HTTPS reverse proxy (docs/portal.md)."),
    port: int = typer.Option(8765, help="Port to listen on."),
    portal_dir: Optional[Path] = typer.Option(None, help=PORTAL_DIR_HELP),
    config: Optional[Path] = typer.Option(None, help="Config file. Default: GLOTIP_CONFIG, else glotip.toml."),
    run_on_submit: bool = typer.Option(
        False, "--run-on-submit", help="After each submission, ask Prefect for a run of the ingestion "
        "deployment now (needs PREFECT_API_URL and a worker or `glotip serve`). Default: the file "
        "waits for the next scheduled run."),
) -> None:
    """Serve the portal (until Ctrl-C). Focal points sign in, check a file against the rules
    (nothing loaded), read its report and submit it into the inbox of the scheduled run."""
    if context.invoked_subcommand is not None:
        return
    import uvicorn

    from portal.app import create_app

    settings = _portal_config(portal_dir, config)
    if run_on_submit:
        import dataclasses
        import functools
        import os

        if not os.environ.get("PREFECT_API_URL"):
            console.print("[red]--run-on-submit needs PREFECT_API_URL (the server the deployment is on).[/red]")
            raise typer.Exit(2)
        from flows import offline_defaults
        from flows.deployment import run_now

        offline_defaults()
        # the deployment's settings, which the portal already holds (its inbox is the run's)
        settings = dataclasses.replace(settings, after_submit=functools.partial(run_now, settings.settings))
    console.print(f"Portal on http://{host}:{port}: inbox {settings.settings.inbox}, warehouse "
                  f"{settings.settings.db}, records in {settings.portal_dir}. Ctrl-C stops it.")
    # past 100 open connections uvicorn answers 503 at once instead of queueing without end
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", server_header=False,
                timeout_keep_alive=5, limit_concurrency=100)


@portal_app.command("add-user")
def portal_add_user(
    email: str = typer.Option(..., help="The focal point's e-mail address: their sign-in name."),
    country: Optional[str] = typer.Option(None, help="ISO 3166-1 alpha-3 code of the country whose "
                                          "submissions they see."),
    team: bool = typer.Option(False, "--team", help="A member of the UNODC data team: sees every country."),
    portal_dir: Optional[Path] = typer.Option(None, help=PORTAL_DIR_HELP),
    url: Optional[str] = typer.Option(None, help="The portal's address, for the one-time sign-in link. "
                                      "Default: portal_url of glotip.toml or GLOTIP_PORTAL_URL."),
) -> None:
    """Create an account. Prints its secret and a one-time sign-in link, once: neither is stored."""
    from portal import store
    from schemas.countries import country_codes

    if team == (country is not None):
        console.print("[red]Give either --country ISO3 or --team.[/red]")
        raise typer.Exit(2)
    code = store.TEAM if team else country.strip().upper()
    if not team and code not in set(country_codes()):
        console.print(f"[red]{_shown(country)} is not an ISO 3166-1 alpha-3 country code.[/red]")
        raise typer.Exit(2)
    if not store.plausible_email(email):
        console.print(f"[red]{_shown(email)} is not an e-mail address.[/red]")
        raise typer.Exit(2)
    records = store.Store(_portal_config(portal_dir).store_path)
    try:
        secret = store.add_user(records, email.strip(), code)
    except store.AccountExists:
        console.print(f"[red]There is already an account for {_shown(email)} (`glotip portal reset-secret`).[/red]")
        raise typer.Exit(1)
    store.audit(records, "add-user", "ok", email=email.strip(), detail=code)
    _print_secret(records, email.strip(), secret, url)


@portal_app.command("reset-secret")
def portal_reset_secret(
    email: str = typer.Option(..., help="The account's e-mail address."),
    portal_dir: Optional[Path] = typer.Option(None, help=PORTAL_DIR_HELP),
    url: Optional[str] = typer.Option(None, help="The portal's address, for the one-time sign-in link. "
                                      "Default: portal_url of glotip.toml or GLOTIP_PORTAL_URL."),
) -> None:
    """Give an account a new secret (the old one stops working and its sessions end)."""
    from portal import store

    records = store.Store(_portal_config(portal_dir).store_path)
    secret = store.reset_secret(records, email.strip())
    if secret is None:
        console.print(f"[red]No account for {_shown(email)}.[/red]")
        raise typer.Exit(1)
    store.audit(records, "reset-secret", "ok", email=email.strip())
    _print_secret(records, email.strip(), secret, url)


def _print_secret(records, email: str, secret: str, url: str | None) -> None:
    from portal import store

    token = store.sign_in_link(records, email)
    url = url or _portal_config(None).settings.portal_url
    console.print(f"Account {_shown(email)}. Give the focal point, by a channel other than e-mail if you can:")
    console.print(f"  secret (shown once): {secret}")
    console.print(f"  or this one-time sign-in link, valid 24 hours: {url.rstrip('/')}/sign-in/link/{token}")


@portal_app.command("disable-user")
def portal_disable_user(
    email: str = typer.Option(..., help="The account's e-mail address."),
    enable: bool = typer.Option(False, "--enable", help="Enable the account again instead."),
    portal_dir: Optional[Path] = typer.Option(None, help=PORTAL_DIR_HELP),
) -> None:
    """Disable an account: its sessions and sign-in links end at once and it cannot sign in
    (a focal point who has left). `--enable` undoes it (then `reset-secret` for a new secret)."""
    from portal import store

    records = store.Store(_portal_config(portal_dir).store_path)
    if not store.set_disabled(records, email.strip(), not enable):
        console.print(f"[red]No account for {_shown(email)}.[/red]")
        raise typer.Exit(1)
    store.audit(records, "enable-user" if enable else "disable-user", "ok", email=email.strip())
    console.print(f"Account {_shown(email)} {'enabled' if enable else 'disabled'}.")


@portal_app.command("users")
def portal_users(portal_dir: Optional[Path] = typer.Option(None, help=PORTAL_DIR_HELP)) -> None:
    """List the accounts."""
    from portal import store

    table = Table("e-mail", "country", "created", "disabled")
    for row in store.users(store.Store(_portal_config(portal_dir).store_path)):
        table.add_row(escape(row["email"]), row["country"], row["created_at"], "yes" if row["disabled"] else "")
    console.print(table)


@portal_app.command("prune")
def portal_prune(
    days: float = typer.Option(30, help="Delete the files and reports of checks older than this."),
    portal_dir: Optional[Path] = typer.Option(None, help=PORTAL_DIR_HELP),
) -> None:
    """Delete old self-checks' uploaded files and reports (victims' data is kept no longer than
    needed; submitted files stay in the ingestion's archive). Their rows and the audit log stay."""
    import datetime as dt

    from portal import store

    config = _portal_config(portal_dir)
    records = store.Store(config.store_path)
    removed = store.prune_checks(records, dt.timedelta(days=days), config.portal_dir / "checks")
    store.audit(records, "prune", "ok", detail=f"{removed} checks older than {days:g} days")
    console.print(f"{removed} check{'s' if removed != 1 else ''} older than {days:g} days removed.")


@portal_app.command("audit")
def portal_audit(
    limit: int = typer.Option(50, help="How many of the latest entries."),
    portal_dir: Optional[Path] = typer.Option(None, help=PORTAL_DIR_HELP),
) -> None:
    """The latest entries of the audit log: sign-ins, uploads, downloads, submissions, refusals."""
    from portal import store

    table = Table("at", "event", "outcome", "e-mail", "country", "object", "detail", "client")
    for row in store.audit_entries(store.Store(_portal_config(portal_dir).store_path), limit):
        table.add_row(*(escape(str(row[name] or "")) for name in
                        ("at", "event", "outcome", "email", "country", "object", "detail", "client")))
    console.print(table)


def _say_unpublished(unpublished: bool) -> None:
    if unpublished:
        console.print("[red]The analysts' snapshot was not republished (see the log above); it "
                      "still shows the figures from before. Once the cause is fixed, run "
                      "`glotip publish`.[/red]")


def main() -> None:
    """The `glotip` command (pyproject's entry point): the command, then its process ends as
    Python ends one (other threads waited for, atexit handlers run: Prefect's log and event
    workers send what they hold, logging is flushed, the reader's forkserver stopped; output
    flushed; the exit code kept) without CPython's teardown after it, which frees every
    object of Prefect, pandas and pandera one by one: half a second after `glotip ingest`
    had printed its last line, on a process about to end. Nothing of ours needs it: every
    file and warehouse connection is closed when a command returns. A command that fails
    with an unexpected exception ends the ordinary way, with its traceback, and so does one
    run under a profiler or debugger (pyinstrument, cProfile, pdb), which writes its results
    after the program."""
    import atexit
    import os
    import threading

    try:
        app()
        code = 0
    except SystemExit as ended:
        if sys.getprofile() or sys.gettrace():
            raise
        code = ended.code
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, exit code 1
        print(code, file=sys.stderr)
        code = 1
    for thread in threading.enumerate():  # what Python does first at exit, then the atexit handlers
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe (`glotip sql ... | head`): Python's own exit code for it
        code = 120
    os._exit(code)


if __name__ == "__main__":
    main()
