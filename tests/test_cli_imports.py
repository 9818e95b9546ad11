"""What a short command imports, in a real process: `glotip sql` needs DuckDB and the output
formatting only (no pandas, pandera or Prefect); `glotip validate` never starts Prefect. Each
of those imports costs from a tenth of a second to a second of every run (issue 14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.builders import write_workbook
from warehouse import snapshot
from warehouse.session import Warehouse

ROOT = Path(__file__).resolve().parent.parent
# Runs the command as `glotip` does (cli.app), then writes its exit code and the top-level
# packages it imported: the process's own sys.modules, not a guess from the source.
PROBE = """
import json, sys
arguments, out = json.loads(sys.argv[1]), sys.argv[2]
sys.argv = ["glotip", *arguments]
import cli
try:
    cli.app()
except SystemExit as ended:
    code = ended.code
with open(out, "w", encoding="utf-8") as written:
    json.dump({"code": code, "packages": sorted({name.partition(".")[0] for name in sys.modules})}, written)
"""


def imported_by(arguments: list[str], folder: Path) -> tuple[int, set[str]]:
    out = folder / "probe.json"
    environment = {**os.environ, "GLOTIP_CONFIG": str(folder / "absent.toml"), "COLUMNS": "200"}
    run = subprocess.run([sys.executable, "-c", PROBE, json.dumps(arguments), str(out)], cwd=folder,
                         env=environment, capture_output=True, text=True, timeout=120)
    assert out.exists(), run.stdout + run.stderr
    probe = json.loads(out.read_text(encoding="utf-8"))
    return probe["code"], set(probe["packages"])


def test_glotip_sql_imports_neither_pandas_nor_pandera_nor_prefect(tmp_path):
    db = tmp_path / "glotip.duckdb"
    snapshot.publish(Warehouse(db))
    code, packages = imported_by(["sql", "select 1 AS one", "--db", str(db), "--format", "json"], tmp_path)
    assert code == 0
    assert "duckdb" in packages  # the probe saw the command run
    heavy = {"pandas", "pandera", "prefect", "numpy", "pyarrow", "scipy", "matplotlib", "jinja2", "babel"}
    assert not packages & heavy, f"glotip sql imported {sorted(packages & heavy)}"


def test_glotip_validate_does_not_import_prefect(tmp_path):
    """Compared with a warehouse's figures too: the reader's child is forked before it is opened."""
    workbook = write_workbook(tmp_path / "KEN.xlsx", "KEN", rows=50, first_year=2015)
    db = tmp_path / "glotip.duckdb"
    with Warehouse(db) as warehouse:
        warehouse.connection  # the tables created
    code, packages = imported_by(["validate", str(workbook), "--reports", str(tmp_path / "reports"),
                                  "--db", str(db)], tmp_path)
    assert code == 0, code
    assert [path.name for path in (tmp_path / "reports").glob("*/report.html")] == ["report.html"]
    assert "pandera" in packages  # the probe saw the submission validated
    assert "prefect" not in packages, "glotip validate imported Prefect"
