"""The README's import rules, as a test: the import-linter contracts of pyproject.toml are kept.

Imports point down (cli > flows > pipeline > reporting > transforms | warehouse > schemas);
`transforms` and `warehouse` do not import each other; `reporting` never imports `transforms`;
nothing below `flows` imports Prefect. An import that runs back up fails here, with the chain.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"  # import-linter, of the `test` extra


def test_import_contracts_are_kept():
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} is missing: install the test extra (.[test])"
    run = subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "COLUMNS": "200"})
    report = run.stdout + run.stderr
    broken = report[report.find("Broken contracts"):] if "Broken contracts" in report else report
    assert run.returncode == 0, f"import contracts broken:\n{broken}"
    assert "BROKEN" not in report and " KEPT" in report, report
