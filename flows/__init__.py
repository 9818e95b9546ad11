"""Prefect flows: they only orchestrate the plain functions of `pipeline/` as tasks.

`offline_defaults` is called by the command line before it imports a flow (and so Prefect):
with no PREFECT_API_URL a flow run starts a temporary local server; on a busy 2-core machine
its first start (database migrations) can take over a minute, longer than Prefect's default
20 s wait, and analytics calls fail noisily offline. Any value the user has set wins.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

PREFECT_OFFLINE_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "DO_NOT_TRACK": "1",
}


def offline_defaults(environ: MutableMapping[str, str] = os.environ) -> None:
    for name, value in PREFECT_OFFLINE_DEFAULTS.items():
        environ.setdefault(name, value)


@contextmanager
def without_heartbeats() -> Iterator[None]:
    """Flow runs started within send no heartbeats: for the flow run in the foreground of
    `glotip ingest`, whose end its user sees.

    A heartbeat lets a server's automation mark a run whose process died as crashed. Prefect
    sends them from a thread that sleeps in one-second steps, and waits for it at the end of
    every flow run: half a second on average, after the run has finished. A command's user
    sees its process die, and the next ingestion records the run as interrupted.
    Deployments run by a worker or `glotip serve` keep Prefect's default (every 180 s).
    Prefect accepts no "off" from the environment (the setting is at least 30 s), hence here:
    a copy of the current settings with this one changed (Prefect's `temporary_settings`
    would read every settings source again, a tenth of a second)."""
    from prefect.context import SettingsContext, get_settings_context

    context = get_settings_context()
    flows = context.settings.flows.model_copy(update={"heartbeat_frequency": None})
    with SettingsContext(profile=context.profile,
                         settings=context.settings.model_copy(update={"flows": flows})):
        yield


@contextmanager
def prefect_log_to_file(path: Path, also_on_terminal: bool = False) -> Iterator[Path]:
    """Prefect's log (flow and task runs, the temporary server, warnings) written to `path` in
    Prefect's own format, instead of the terminal (as well as, with `also_on_terminal`).

    Prefect configures logging when its API is imported (prefect/logging/logging.yml; later
    calls only adjust levels): its console handler sits on the root logger and on
    `uvicorn`/`fastapi`. Each is swapped for a file handler for the duration, then put back.
    """
    from prefect import flow  # noqa: F401 - configures Prefect's logging: its handlers exist to swap
    from prefect.logging.handlers import PrefectConsoleHandler

    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(path, encoding="utf-8")
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.root.manager.loggerDict)]
    swapped = {logger: [h for h in logger.handlers if isinstance(h, PrefectConsoleHandler)]
               for logger in loggers}
    swapped = {logger: consoles for logger, consoles in swapped.items() if consoles}
    for logger, consoles in swapped.items():
        to_file.setFormatter(consoles[0].formatter)
        logger.addHandler(to_file)
        if not also_on_terminal:
            for console in consoles:
                logger.removeHandler(console)
    try:
        yield path
        # The temporary server (no PREFECT_API_URL) would otherwise be stopped at exit, with a
        # line on the terminal; stopping it here logs that line to the file. A configured
        # server (a test harness's too) is never stopped. (Prefect's test fixtures do the same.)
        from prefect.settings import get_current_settings

        if not get_current_settings().api.url:
            # Prefect's log and event workers send what they still hold first: after the stop
            # they would fail ("Error logging to API") on the terminal at exit. The server's
            # module is imported only here: it takes more than a second to import.
            from prefect.events.worker import EventsWorker
            from prefect.logging.handlers import APILogWorker
            from prefect.server.api.server import SubprocessASGIServer

            APILogWorker.drain_all(timeout=5)
            EventsWorker.drain_all(timeout=5)
            SubprocessASGIServer().stop()
    finally:
        for logger, consoles in swapped.items():
            logger.removeHandler(to_file)
            for console in consoles:
                if console not in logger.handlers:
                    logger.addHandler(console)
        to_file.close()
