"""Every example in the docs runs, on a warehouse built by the pipeline itself.

The examples are taken from the Markdown (README.md and docs/*.md) when the test runs, so an
example written tomorrow is tested tomorrow: every `glotip sql` line of a code block is run
through the command line, every `sql` block on the analysts' snapshot, every `python` block
that opens the warehouse or its snapshot with `exec`. The warehouse: `sample_submissions/`
ingested by the Prefect flow, then the published export imported by its flow (which
republishes the snapshot), at `var/glotip.duckdb` in the folder the examples run from, as the
README's set-up leaves it.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLES, TEST_DATA

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
GLOTIP_SQL = re.compile(r"^\s*(?:\S*/)?glotip\s+sql(?:\s|$)")
DUCKDB_PROMPT = re.compile(r"^D\s+(.+)$")  # a query typed at the DuckDB command line's prompt
# A python block is an example of reading the data when it opens the warehouse or snapshot.
READS_DATA = re.compile(r"duckdb\.connect|open_snapshot")
READS_FLOWS = re.compile(r"\bFROM\s+flows\b", re.IGNORECASE)


@dataclass(frozen=True)
class Example:
    where: str  # document:line, shown when it fails
    kind: str  # "command", "sql" or "python"
    text: str

    def __str__(self) -> str:
        return self.where


def examples() -> list[Example]:
    found = []
    for document in DOCUMENTS:
        markdown = document.read_text(encoding="utf-8")
        for block in FENCE.finditer(markdown):
            language, body = block.group(1).lower(), block.group(2)
            first_line = markdown.count("\n", 0, block.start()) + 2
            where = f"{document.relative_to(ROOT)}:{first_line}"
            if language == "sql":
                found.append(Example(where, "sql", body))
            elif language == "python" and READS_DATA.search(body):
                found.append(Example(where, "python", body))
            else:
                lines = body.replace("\\\n", " ").splitlines()  # continued lines are one command
                for number, line in enumerate(lines):
                    where = f"{document.relative_to(ROOT)}:{first_line + number}"
                    if GLOTIP_SQL.match(line):
                        found.append(Example(where, "command", line))
                    elif DUCKDB_PROMPT.match(line):
                        found.append(Example(where, "sql", DUCKDB_PROMPT.match(line).group(1)))
    return found


EXAMPLES = examples()


def test_the_examples_are_found():
    """The extraction itself: the pages' known examples are among them (so a broken pattern
    cannot make the test below pass on nothing)."""
    kinds = {kind: [e.where.split(":")[0] for e in EXAMPLES if e.kind == kind]
             for kind in ("command", "sql", "python")}
    assert {"README.md", "docs/analysts.md", "docs/operations.md",
            "docs/published-data.md"} <= set(kinds["command"])
    assert "docs/analysts.md" in kinds["sql"] and "docs/analysts.md" in kinds["python"]


def test_no_example_adds_the_two_perspectives_of_flows():
    """`flows` holds the same victims seen from both ends: an example reading it names one."""
    adding = [str(e) for e in EXAMPLES if READS_FLOWS.search(e.text) and "perspective" not in e.text]
    assert not adding


@pytest.fixture(scope="module")
def warehouse_folder(prefect_server, tmp_path_factory):
    """The folder the examples run in, holding var/glotip.duckdb made by the pipeline."""
    from flows.import_published import import_published
    from flows.ingest import ingest_submissions

    root = tmp_path_factory.mktemp("docs")
    inbox = root / "inbox"
    shutil.copytree(SAMPLES, inbox)
    db = root / "var" / "glotip.duckdb"
    outcomes = ingest_submissions(str(inbox), str(db), str(root / "var" / "reports"),
                                  str(root / "var" / "archive"))
    assert any(o["rows_loaded"] for o in outcomes)
    imported = import_published(str(TEST_DATA / "data_glotip_2025-04-14.xlsx"), str(db),
                                str(root / "var" / "reports"))
    assert imported["status"] == "loaded" and imported["published"], imported
    return root


@pytest.fixture
def in_warehouse_folder(warehouse_folder, monkeypatch):
    monkeypatch.chdir(warehouse_folder)
    monkeypatch.setenv("GLOTIP_DB", "var/glotip.duckdb")  # the default the docs assume
    return warehouse_folder


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.kind == "command"], ids=str)
def test_every_glotip_sql_example_runs_and_answers(in_warehouse_folder, example):
    from cli import app

    arguments = shlex.split(GLOTIP_SQL.sub("", example.text), comments=True)
    result = CliRunner().invoke(app, ["sql", *arguments, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows, f"{example}: no rows on the sample warehouse"


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.kind == "sql"], ids=str)
def test_every_sql_block_runs_on_the_snapshot(in_warehouse_folder, example):
    from warehouse.snapshot import open_snapshot

    with open_snapshot("var/glotip.duckdb") as connection:
        answer = connection.execute(example.text)
        if example.text.lstrip().upper().startswith(("SELECT", "WITH")):
            assert answer.fetchall(), f"{example}: no rows on the sample warehouse"
        # a block that shadows a view (as of a date) leaves the views built on it working
        for view in ("victims", "offenders", "flows"):
            connection.execute(f"SELECT count(*) FROM {view}").fetchall()


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.kind == "python"], ids=str)
def test_every_python_example_runs(in_warehouse_folder, example):
    namespace: dict = {}
    exec(compile(example.text, example.where, "exec"), namespace)
    connection = namespace.get("con")
    if isinstance(connection, duckdb.DuckDBPyConnection):
        connection.close()
