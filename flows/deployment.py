"""The scheduled deployment of the ingestion flow, served by this process (`glotip serve`):
the one-machine form. The team form, with a work pool and workers, is prefect.yaml at the
repository root (docs/operations.md, "Team set-up"); both take their schedule and parameters
from the same settings.

It needs a running Prefect server (`prefect server start`) and `PREFECT_API_URL` pointing at
it: without one, Prefect would start a temporary server that dies with this process, and
nothing would be scheduled. Settings come from pipeline/settings.py (`[ingest]` then
`[deployment]` of glotip.toml, then `GLOTIP_*`).

Runs may overlap (one that outlasts the interval, a `glotip ingest` by hand): each inbox entry
is handled by the run that claims it and the warehouse is held one step at a time
(flows/ingest.py). As in prefect.yaml, at most two runs go at once; a third waits its turn.
"""

from __future__ import annotations

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from flows.ingest import ingest_submissions
from pipeline.settings import Settings

FLOW_NAME = "ingest_submissions"
# Ingestion runs at once (prefect.yaml says the same; tests/test_deployment.py holds them equal)
RUNS_AT_ONCE = ConcurrencyLimitConfig(limit=2, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


def deployment_name(settings: Settings) -> str:
    """As the API and `prefect deployment run` name it: `<flow>/<deployment>`."""
    return f"{FLOW_NAME}/{settings.deployment_name}"


def serve_ingestion(settings: Settings) -> None:
    """Register the deployment with its cron schedule and run its flow runs until stopped."""
    ingest_submissions.serve(
        name=settings.deployment_name,
        schedule=Cron(settings.cron, timezone=settings.timezone),
        parameters=settings.flow_parameters(),
        global_limit=RUNS_AT_ONCE,
        description=f"Ingest the submissions in {settings.inbox} into {settings.db} "
                    f"({settings.cron}, {settings.timezone}).",
        tags=["glotip", "ingestion"],
    )


def run_now(settings: Settings) -> str:
    """Ask the Prefect server for a run of the ingestion deployment now, without waiting for
    it (`glotip portal --run-on-submit`, after a focal point submits); returns the run's id.
    A worker (or `glotip serve`) runs it as it would a scheduled run."""
    from prefect.deployments import run_deployment

    return str(run_deployment(deployment_name(settings), timeout=0).id)
