"""Loads take turns through a Prefect global concurrency limit.

Several workers may validate submissions at the same time; writing to a warehouse is the step
that must take turns. Each load (an ingestion's `load` task, an import's `load-export` task)
runs holding one slot of the global concurrency limit `glotip-load`, when the server has a
limit of that name (`prefect gcl create glotip-load --limit 1`; docs/operations.md, "Team
set-up"). Without such a limit it is a no-op: `strict=False` lets the load go ahead at once
(Prefect logs a warning that the limit does not exist, a hint to create it). Without a server
(PREFECT_API_URL unset: `glotip ingest` on a temporary server that has no limits) the slot is
not asked for at all: no API call, no warning.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from prefect.concurrency.sync import concurrency
from prefect.settings import get_current_settings

LOAD_CONCURRENCY_LIMIT = "glotip-load"


def load_turn() -> AbstractContextManager:
    """One slot of `glotip-load`, held around a load task's call (so the task run itself is the
    load, not the wait for a turn)."""
    if not get_current_settings().api.url:
        return nullcontext()
    return concurrency(LOAD_CONCURRENCY_LIMIT, occupy=1, strict=False)
