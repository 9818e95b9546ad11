"""The inbox as unattended runs see it: settled files, a raw archive, each entry handled by one run.

- A file still being copied in is not touched: an entry is *settled* once nothing in it has
  changed for `settle_seconds` (size and modification time of the file, or of every file of a
  folder submission).
- Every settled entry is archived as received, content-addressed by its sha256, before anything
  else reads it, so that any submission can be re-run from the archive whatever its outcome.
  The copy is written under a temporary name and renamed, so a crash never leaves a half copy
  under the final name.
- Runs side by side on one warehouse: each entry is handled by the run that claims it
  (warehouse/locks.py).
- The inbox is cleaned (when asked) only after the outcome is recorded, and only inside the
  inbox.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from schemas.limits import Limits
from transforms.readers import check_limit, sha256_of, size_of

PARTIAL_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp", ".filepart")


class FileStillBeingWritten(Exception):
    """The entry changed within the settle time: someone is still copying it in."""


class PartialDownload(FileStillBeingWritten):
    """A name that copy tools give a file until it is complete (`x.xlsx.part`): waiting for it
    is pointless, the finished file will have another name."""


class NotARegularSubmission(Exception):
    """A symbolic link, a pipe or a device in the inbox: never opened."""


# -- settled files ----------------------------------------------------------------------------

def check_entry(path: str | Path) -> None:
    """Refuse what must never be opened: links (they may point anywhere), pipes, devices."""
    path = Path(path)
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        raise NotARegularSubmission(f"{path.name} is a symbolic link; links are not followed, "
                                    "copy the file itself into the inbox")
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise NotARegularSubmission(f"{path.name} is not a regular file or folder")
    if stat.S_ISDIR(mode):
        for member in path.rglob("*"):
            if member.is_symlink() or not (member.is_file() or member.is_dir()):
                raise NotARegularSubmission(f"{path.name} holds {member.name}, which is not a "
                                            "regular file (links are not followed)")


def check_size(path: str | Path, limits: Limits) -> None:
    """Refuse an entry over `file_bytes` from its metadata alone, before it is hashed or copied
    (a 3 GB file used to be hashed and archived whole before it was refused): raises
    `readers.LimitExceeded`."""
    check_limit(limits, "file_bytes", size_of(Path(path)))


def fingerprint(path: str | Path) -> tuple:
    """(name, size, mtime) of the file, or of a folder and everything in it.

    A folder's own modification time changes whenever a file is created in it, so a folder
    copied file by file with the files' old times kept (`cp -rp`) still looks fresh between files.
    """
    path = Path(path)
    members = [path] if path.is_file() else [path, *sorted(path.rglob("*"))]
    return tuple((str(p.relative_to(path.parent)), p.stat().st_size, p.stat().st_mtime_ns)
                 for p in members)


def check_settled(path: str | Path, settle_seconds: float, now: float | None = None) -> None:
    """Raise FileStillBeingWritten unless the entry has been quiet for `settle_seconds`.

    Two looks, `settle_seconds` apart at most, catch a copy that is slow but steady; the age of
    the newest modification catches the one that has just started.
    """
    path = Path(path)
    if path.name.lower().endswith(PARTIAL_SUFFIXES):
        raise PartialDownload(f"{path.name} has the name of a partial download")
    before = fingerprint(path)
    newest = max((mtime for _, _, mtime in before), default=0) / 1e9
    age = (now if now is not None else time.time()) - newest
    if age < settle_seconds:
        time.sleep(min(settle_seconds - age, settle_seconds))
        after = fingerprint(path)
        if after != before:
            raise FileStillBeingWritten(f"{path.name} changed in the last {settle_seconds:g} s; "
                                        "it is still being written")


# -- the raw archive --------------------------------------------------------------------------

@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    path: Path  # the archived copy: <archive>/<sha[:2]>/<sha>/<original name>
    created: bool  # False when the same content was archived before


def archive_path(archive_root: str | Path, sha256: str, name: str) -> Path:
    return Path(archive_root) / sha256[:2] / sha256 / Path(name).name


def archived_copy(archive_root: str | Path, sha256: str) -> Path | None:
    """The archived copy of a content, found by its sha256 alone (the register may show its
    name withheld); the first by name when the same bytes came under several names."""
    folder = Path(archive_root) / sha256[:2] / sha256
    copies = sorted(p for p in folder.glob("*") if not p.name.startswith(".")) if folder.is_dir() else []
    return copies[0] if copies else None


def archive_raw(path: str | Path, archive_root: str | Path) -> ArchivedFile:
    """Copy the entry, as received, to the content-addressed archive (once per content)."""
    path = Path(path)
    sha256 = sha256_of(path)
    target = archive_path(archive_root, sha256, path.name)
    # half copies left by a process killed while copying (callers hold the ingestion lock, so
    # no other process is copying now)
    for stale in target.parent.glob(f".{target.name}.*.incoming"):
        _remove(stale)
    if target.exists():
        return ArchivedFile(sha256, target, created=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.incoming")
    try:
        if path.is_dir():
            shutil.copytree(path, temporary, symlinks=True)
        else:
            shutil.copyfile(path, temporary)
            with temporary.open("rb") as handle:
                os.fsync(handle.fileno())
        if sha256_of(temporary) != sha256:
            raise FileStillBeingWritten(f"{path.name} changed while it was archived")
        os.replace(temporary, target)
    except BaseException:
        _remove(temporary)
        raise
    return ArchivedFile(sha256, target, created=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def remove_from_inbox(path: str | Path, inbox: str | Path) -> None:
    """Delete a processed entry; only ever something directly inside the inbox."""
    path, inbox = Path(path), Path(inbox)
    if path.parent.resolve() != inbox.resolve():
        raise ValueError(f"{path} is not directly inside the inbox {inbox}")
    if path.is_dir() and not path.is_symlink():
        # a folder is renamed out of sight first (hidden names are not submissions), so that a
        # crash halfway through deleting it never leaves half a submission to be read as new
        hidden = path.with_name(f".{path.name}.removing")
        _remove(hidden)
        os.replace(path, hidden)
        path = hidden
    _remove(path)


def describe_os_error(problem: OSError, doing: str) -> str:
    """A sentence for the run summary: what failed, and what to do."""
    where = f" ({problem.filename})" if problem.filename else ""
    if problem.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):  # no space, quota, file size limit
        return f"the disk is full while {doing}{where}; free space and rerun"
    if problem.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied while {doing}{where}; give the pipeline write access and rerun"
    if problem.errno == errno.EROFS:
        return f"the folder is read-only while {doing}{where}; make it writable and rerun"
    if problem.errno == errno.ENOENT:
        return f"the file disappeared while {doing}{where}"
    return f"{problem.strerror or problem} while {doing}{where}"
