"""Shared fixtures. Tests run the real pipeline on real files in temporary folders."""

from __future__ import annotations

import os
import signal
import socket
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
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
    # A command a test runs without naming its folders writes here, never into the checkout's
    # var/ (relative defaults follow the working folder). Tests that check the defaults pass
    # their own `environ`; the guard below still fails the suite if anything lands in the checkout.
    config.glotip_defaults = tempfile.mkdtemp(prefix="glotip-defaults-")
    for name, default in (("DB", "glotip.duckdb"), ("REPORTS", "reports"), ("ARCHIVE", "archive")):
        os.environ[f"GLOTIP_{name}"] = os.path.join(config.glotip_defaults, default)


def pytest_unconfigure(config):
    for folder in (getattr(config, "prefect_home", None), getattr(config, "glotip_defaults", None)):
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server for the whole session (each flow call would start one)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """`prefect server start` on loopback, for tests that run `glotip` in other processes;
    yields the environment that points at it."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"}
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
         "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Prefect server did not start:\n" + (home / "server.log").read_text()[-3000:])
            time.sleep(0.5)
        yield env
    finally:
        stop_process_group(server, seconds=20)  # the server and the workers it started
        log.close()


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



def _checkout_state() -> dict[str, tuple]:
    """Every file and folder of the checkout but the virtualenv, git's and Python's own caches,
    with size and modification time: a file rewritten in place counts, not only a new one."""
    skipped = {".venv", ".git", "__pycache__", ".hypothesis", ".pytest_cache"}
    found = {}
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders
                         if name not in skipped and not name.endswith(".egg-info")]
        for name in [*subfolders, *files]:
            path = os.path.join(folder, name)
            status = os.lstat(path)
            found[os.path.relpath(path, ROOT)] = (
                (status.st_size, status.st_mtime_ns) if name in files else ("folder",))
    return found


@pytest.fixture(scope="session", autouse=True)
def _nothing_written_into_the_checkout():
    """Tests write only into their temporary folders: the checkout ends as it began."""
    before = _checkout_state()
    yield
    after = _checkout_state()
    changed = sorted(path for path, state in after.items() if before.get(path) != state)
    assert not changed, f"tests wrote into the checkout: {changed[:10]}"


def stop_process_group(process: subprocess.Popen, seconds: float) -> None:
    """SIGTERM to a process started with start_new_session=True and everything it started;
    SIGKILL when it has not ended within `seconds`."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
