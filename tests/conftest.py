"""Shared fixtures. Tests run the real pipeline on real files in temporary folders."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_submissions"
TEST_DATA = Path(__file__).resolve().parent / "data"

# Prefect writes its database and logs under PREFECT_HOME: keep them out of the user's home.
_PREFECT_HOME = tempfile.mkdtemp(prefix="glotip-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server for the whole session (each flow call would start one)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def inbox(tmp_path: Path):
    """An empty inbox folder; copy submissions into it with `add`."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def copy_sample(name: str, inbox: Path) -> Path:
    source = SAMPLES / name
    target = inbox / name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)
    return target


@pytest.fixture(scope="session", autouse=True)
def _cleanup_prefect_home():
    yield
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)
