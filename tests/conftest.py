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


def pytest_configure(config):
    """Before any test imports Prefect: its database and logs go to a temporary PREFECT_HOME
    (never the user's home), offline, quiet."""
    from flows import offline_defaults

    config.prefect_home = tempfile.mkdtemp(prefix="glotip-prefect-")
    os.environ["PREFECT_HOME"] = config.prefect_home
    offline_defaults()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def pytest_unconfigure(config):
    if getattr(config, "prefect_home", None):
        shutil.rmtree(config.prefect_home, ignore_errors=True)


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



def _checkout_files() -> set[str]:
    """Every file of the checkout but the virtualenv, git's and Python's own caches."""
    skipped = {".venv", ".git", "__pycache__", ".hypothesis", ".pytest_cache"}
    found = set()
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders
                         if name not in skipped and not name.endswith(".egg-info")]
        found.update(os.path.relpath(os.path.join(folder, name), ROOT) for name in files)
    return found


@pytest.fixture(scope="session", autouse=True)
def _nothing_written_into_the_checkout():
    """Tests write only into their temporary folders: the checkout ends as it began."""
    before = _checkout_files()
    yield
    added = sorted(_checkout_files() - before)
    assert not added, f"tests wrote into the checkout: {added[:10]}"
