"""Helpers for tests: write small, real submissions to a folder."""

from __future__ import annotations

import csv
from pathlib import Path

SUBMISSION = {
    "country": "THA", "year_from": "2021", "year_to": "2022", "institution": "Ministry",
    "contact_email": "focal.point@example.go.th", "language": "en",
}
VICTIMS_HEADER = ["year", "sex", "age", "form", "citizenship", "count"]


def write_submission(folder: Path, tables: dict[str, list[list[str]]], submission: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    row = {**SUBMISSION, **(submission or {})}
    tables = {"submission": [list(row), list(row.values())], **tables}
    for name, rows in tables.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
    return folder


def victims(*rows: str) -> dict[str, list[list[str]]]:
    return {"victims": [VICTIMS_HEADER] + [row.split(",") for row in rows]}
