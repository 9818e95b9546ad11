"""The benchmark runs end to end at a small size and reports every goal it measured.

Only that it works and what it writes: speed is judged by its figures, never by a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_benchmark_measures_every_goal_and_writes_them_to_its_json(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--workdir", str(tmp_path),
         "--rows", "3000", "--excel-rows", "400", "--command-runs", "1", "--skip-scheduled",
         "--markdown"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    goals = results["goals"]
    assert set(goals) == {"full_over_duckdb", "peak_mb", "excel_over_calamine", "sql_select_1_s",
                          "validate_5000_s"}
    for line in goals.values():
        assert line["value"] > 0 and isinstance(line["met"], bool)
        assert line["measure"] in completed.stdout  # printed as well as written
    assert results["full"]["status"] == "accepted" and results["full"]["rows"] == 3000
    assert results["excel"]["rows"] >= 400
    assert "| measure | measured | target | met |" in completed.stdout
