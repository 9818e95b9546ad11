"""Read an untrusted workbook in a child process with a memory and a time limit.

A parse that dies (calamine aborts the whole process, exit 134, when it cannot allocate; a
MemoryError; the kernel's SIGKILL) or runs past `parse_seconds` takes only the child with it:
the caller gets a `ParsedSubmission` whose finding names the limit (`parse_memory_bytes`,
`parse_seconds`) and the run goes on with the next file. The outcome is always a finding,
never an exception, so a retry policy for transient faults (a MemoryError in the parent) never
retries a file that is simply too big.

The child is forked from a `forkserver` that has already imported the readers (a fresh
interpreter per file, `spawn`, costs about 2 s), or, for one file in a command that has
imported them itself (`glotip validate`), from the command's own process (`start_method`);
its address space is capped with
`RLIMIT_AS` at its size when it starts plus `parse_memory_bytes` (checked: pyarrow, pandas and
calamine work under it). Zips of CSV files, folders
and plain CSV files are read in this process: each is a sequence of checks the readers make
before parsing (the zip's directory: `unpacked_bytes`, `compression_ratio`, `archive_members`;
then `rows`, `columns`), and a child costs about 100 ms per file in a Prefect run.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
from pathlib import Path

from schemas.findings import ParsedSubmission, make_finding
from schemas.limits import Limits
from schemas.personal_data import shown_file_name
from transforms.readers import read_submission, sha256_of, sniff

# `__main__` once in the server: otherwise every child imports the caller's main module again
# (`glotip`'s cli.py: typer, rich, Prefect; about 120 ms a file). warm_reader imports the
# readers and fills their caches.
PRELOADED = ["__main__", "transforms.warm_reader"]
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
EXIT_MEMORY = 3  # the child's own exit code when a MemoryError reached it


def start_reader_server() -> None:
    """Start the forkserver now, so that it imports the readers (about a second) on the other
    core while this process goes on (`glotip ingest` importing Prefect, a flow run listing its
    inbox), rather than when the first workbook is read. Starting it again does nothing."""
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOADED)
    forkserver.ensure_running()


def read_isolated(path: str | Path, limits: Limits, start_method: str = "forkserver") -> ParsedSubmission:
    """`read_submission(path, limits)`, in a child process for workbooks.

    `start_method` is how the child starts: `forkserver` (forked from the server that imported
    the readers once: a run of many files, in a process whose other threads (Prefect's, DuckDB's)
    a fork must not copy) or `fork` (forked from this process: one file in a command that has
    imported the readers itself and runs nothing else, `glotip validate`, where starting the
    server and importing them again would cost about a second). Either way the child holds
    the same limits."""
    path = Path(path)
    if not _is_workbook(path):
        return read_submission(path, limits)
    context = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        context.set_forkserver_preload(PRELOADED)
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_read_in_child, args=(str(path), limits, sending),
                            name=f"read {path.name}", daemon=True)
    child.start()
    sending.close()  # the child holds the only sending end: its death ends the pipe
    try:
        if receiving.poll(limits.parse_seconds):
            try:
                parsed = receiving.recv()
            except (EOFError, OSError):  # died before answering
                parsed = None
            if parsed is not None:
                child.join(timeout=10)
                return parsed
            child.join(timeout=10)
            if child.exitcode in MEMORY_DEATHS:
                return _refused(path, limits, "parse_memory_bytes")
            if child.exitcode == -signal.SIGKILL:
                raise MemoryError(f"the reader of {shown_file_name(path.name)} was killed from outside "
                                  "(the kernel's out-of-memory killer, or an operator)")
            # anything else stopped the child before it read (it could not start, say): the
            # reader's fault, not the file's, so the entry is retried, never rejected
            raise ChildProcessError(f"the isolated reader stopped (exit code {child.exitcode}) "
                                    f"before reading {shown_file_name(path.name)}")
        return _refused(path, limits, "parse_seconds")
    finally:
        receiving.close()
        if child.is_alive():
            child.kill()
            child.join()


def _is_workbook(path: Path) -> bool:
    """A regular file that is an .xlsx by its content, whatever its name (the zip's directory
    is read here: `file_bytes` bounds it)."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        with path.open("rb") as handle:
            if handle.read(4) not in ZIP_MAGIC:
                return False
        return sniff(path) == "xlsx"
    except Exception:  # noqa: BLE001 - anything odd: the in-process reader reports it
        return False


def _read_in_child(path: str, limits: Limits, sending) -> None:
    os.environ["RUST_BACKTRACE"] = "0"  # calamine's abort is reported as a finding, not a stack
    # what the reading may add to the address space the child starts with (inherited from the
    # forkserver, whose size depends on what its parent had imported and started)
    ceiling = _address_space() + limits.parse_memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    try:
        parsed = read_submission(path, limits)
        parsed.reader_peak_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        sending.send(parsed)
    except MemoryError:  # reading, or pickling the tables back
        raise SystemExit(EXIT_MEMORY) from None
    sending.close()


def _address_space() -> int:
    """This process's virtual size now (Linux: /proc/self/status, VmSize in kB)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


# How a child dies when the file needs more than its `parse_memory_bytes`: a MemoryError (our
# exit code), calamine's abort on a failed allocation (SIGABRT, exit 134 in a shell); a failed
# allocation can also surface as a segfault or bus error in native code. A SIGKILL we did not
# send is the kernel's OOM killer (the machine, not the file, is short of memory) or an
# operator: transient, retried by the next run, never a rejection.
MEMORY_DEATHS = {EXIT_MEMORY, -signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS}


def _refused(path: Path, limits: Limits, limit: str) -> ParsedSubmission:
    """The file as not read, with a finding that names the limit its parse met."""
    size = path.stat().st_size
    parsed = ParsedSubmission(path=str(path), file_name=shown_file_name(path.name),
                              sha256=sha256_of(path) if size <= limits.file_bytes else "",
                              file_format="unknown", size_bytes=size)
    allowed = getattr(limits, limit)  # a parse stopped at its limit never says how far it would have gone
    parsed.read_findings.append(make_finding("limit-exceeded", limit=limit, actual=allowed, allowed=allowed))
    return parsed
