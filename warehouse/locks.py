"""How processes share one warehouse: claims on inbox entries, markers of live runs, requests
for a turn at the file. Everything lives in `<warehouse>.locks/`, beside the file.

Each is an exclusive `flock` on one small file. The kernel drops it when its holder's process
dies, even by SIGKILL, so none is ever stale; a holder that is done removes its file, so a lock
nobody holds leaves none behind.

- **Entry claims**: the run that claims an inbox entry handles it; every other run leaves it.
- **Run markers**: held by a run for as long as it lives; a run recorded `running` whose marker
  nobody holds has died.
- **Turn requests**: a process waiting for the DuckDB file (held by another) says so; the holder
  lets go as soon as it is between two steps (`warehouse/session.py`), and otherwise keeps the
  file open, which spares it about 30 ms of opening per step.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
import uuid
from pathlib import Path


class FileLock:
    """An exclusive, non-blocking `flock` on one file, removed when released. A process that
    locked a file its holder removed meanwhile tries again on the new one (the inode check), so
    two processes never both believe they hold the same path."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._handle = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False (at once) if another holder has it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            handle = open(self.path, "a+")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            try:
                same_file = os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same_file = False
            if same_file:
                handle.seek(0)
                handle.truncate()
                handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
                handle.flush()
                self._handle = handle
                return True
            handle.close()  # its holder removed it between our open and our lock: again

    def release(self) -> None:
        """Let go, removing the file."""
        if self._handle is not None:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            self._handle.close()  # closing drops the flock
            self._handle = None

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def locks_folder(db_path: str | Path) -> Path:
    return Path(f"{db_path}.locks")


def entry_claim(db_path: str | Path, entry: str | Path) -> FileLock:
    """The claim on one inbox entry, among the runs on one warehouse. Named by a digest of the
    entry's absolute path, never by its name (which may hold personal data)."""
    digest = hashlib.sha256(str(Path(entry).absolute()).encode("utf-8", "surrogateescape")).hexdigest()
    return FileLock(locks_folder(db_path) / f"entry-{digest[:32]}.lock")


def run_marker(db_path: str | Path, run_id: str) -> FileLock:
    return FileLock(locks_folder(db_path) / f"run-{hashlib.sha256(run_id.encode()).hexdigest()[:32]}.lock")


def run_is_alive(db_path: str | Path, run_id: str) -> bool:
    """Whether the process of a run recorded `running` still holds its marker."""
    probe = run_marker(db_path, run_id)
    if not probe.path.exists():
        return False
    if probe.try_acquire():  # nobody held it: its run died; the marker goes
        probe.release()
        return False
    return True


TURN_REQUEST_SUFFIX = ".wants-turn"


def turn_request(db_path: str | Path) -> FileLock:
    """A new request for a turn at the file, held while its process waits."""
    return FileLock(locks_folder(db_path) / f"{os.getpid()}-{uuid.uuid4().hex[:12]}{TURN_REQUEST_SUFFIX}")


def turn_wanted(db_path: str | Path) -> bool:
    """Whether a live process is waiting for the file. A request left by a process that died is
    removed on the way (it would make every holder let go after every step, for nothing)."""
    try:
        requests = [entry.path for entry in os.scandir(locks_folder(db_path))
                    if entry.name.endswith(TURN_REQUEST_SUFFIX)]
    except FileNotFoundError:
        return False
    for path in requests:
        left = FileLock(path)
        if not left.try_acquire():
            return True  # held: its process is waiting
        left.release()
    return False
