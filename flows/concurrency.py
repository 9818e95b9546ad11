"""Loads take turns through a Prefect global concurrency limit.

Several workers may validate submissions at the same time; writing to a warehouse is the step
that must take turns. Each load (an ingestion's `load` step, an import's `load-export` task)
runs holding one slot of the global concurrency limit `glotip-load`, when the server has a
limit of that name (`prefect gcl create glotip-load --limit 1`; docs/operations.md, "Team
set-up").

A run asks the server once, at its start, whether the limit exists (`LoadTurns.for_this_run`),
and asks for slots only if it does: asking for a slot of a limit that does not exist costs a
round trip at every load, and up to two seconds on a busy server. Without a server
(PREFECT_API_URL unset: `glotip ingest` on a temporary server that has no limits) nothing is
asked at all.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from prefect.concurrency.sync import concurrency
from prefect.settings import get_current_settings

LOAD_CONCURRENCY_LIMIT = "glotip-load"


@dataclass(frozen=True)
class LoadTurns:
    """Whether this run's loads take turns through `glotip-load`."""

    limit_in_force: bool

    @classmethod
    def for_this_run(cls) -> LoadTurns:
        if not get_current_settings().api.url:
            return cls(False)
        from prefect.client.orchestration import get_client
        from prefect.exceptions import ObjectNotFound

        with get_client(sync_client=True) as client:
            try:
                client.read_global_concurrency_limit_by_name(LOAD_CONCURRENCY_LIMIT)
            except ObjectNotFound:
                return cls(False)
        return cls(True)

    def turn(self) -> AbstractContextManager:
        """One slot of `glotip-load`, held around a load (a task run, or the logged duration of
        an ingestion's load step, is the load, not the wait for a turn). `strict=False`: a limit
        deleted since the run began lets the load go ahead."""
        if not self.limit_in_force:
            return nullcontext()
        return concurrency(LOAD_CONCURRENCY_LIMIT, occupy=1, strict=False)
