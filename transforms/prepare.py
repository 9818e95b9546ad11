"""From a file in the inbox to normalised frames, ready for validation."""

from __future__ import annotations

from pathlib import Path

from schemas.findings import ParsedSubmission
from schemas.limits import Limits
from transforms.isolated import read_isolated
from transforms.normalise import normalise_submission


def prepare_submission(path: str | Path, limits: Limits = Limits(),
                       start_method: str = "forkserver") -> ParsedSubmission:
    """Read within `limits` (a workbook in a child process with a memory and a time limit,
    started by `start_method`: transforms/isolated.py) and normalise: the one way a submission
    is read."""
    return normalise_submission(read_isolated(path, limits, start_method))


def discover(inbox: str | Path) -> list[Path]:
    """Submissions in an inbox: workbooks, zips, lone CSVs and folders of CSVs.

    Hidden files, temporary Office lock files (`~$...`) and notes (README, .md, .txt) are not
    submissions. Any other file is returned too, so that it gets a report saying why it cannot
    be read instead of being silently ignored.
    """
    inbox = Path(inbox)
    found = []
    for entry in sorted(inbox.iterdir()):
        name = entry.name
        if name.startswith((".", "~$", "_")) or name.lower().startswith("readme"):
            continue
        if entry.is_dir():
            if any(p.suffix.lower() == ".csv" for p in entry.iterdir()):
                found.append(entry)
        elif entry.suffix.lower() not in (".md", ".txt"):
            found.append(entry)
    return found
