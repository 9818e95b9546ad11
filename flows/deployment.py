"""The scheduled deployment of the ingestion flow, served by this process (`glotip serve`):
the one-machine form. The team form, with a work pool and workers, is prefect.yaml at the
repository root (docs/operations.md, "Team set-up"); both take their schedule and parameters
from the same settings.

It needs a running Prefect server (`prefect server start`) and `PREFECT_API_URL` pointing at
it: without one, Prefect would start a temporary server that dies with this process, and
nothing would be scheduled. Settings come from pipeline/settings.py (`[ingest]` then
`[deployment]` of glotip.toml, then `GLOTIP_*`).

One run at a time: the deployment carries a Prefect concurrency limit of 1 that cancels a run
starting while another is active, and the flow itself takes a lock on the warehouse (which
also covers a `glotip ingest` started by hand).
"""

from __future__ import annotations

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from flows.ingest import ingest_submissions
from pipeline.settings import Settings

FLOW_NAME = "ingest_submissions"


def deployment_name(settings: Settings) -> str:
    """As the API and `prefect deployment run` name it: `<flow>/<deployment>`."""
    return f"{FLOW_NAME}/{settings.deployment_name}"


def serve_ingestion(settings: Settings) -> None:
    """Register the deployment with its cron schedule and run its flow runs until stopped."""
    ingest_submissions.serve(
        name=settings.deployment_name,
        schedule=Cron(settings.cron, timezone=settings.timezone),
        parameters=settings.flow_parameters(),
        global_limit=ConcurrencyLimitConfig(limit=1,
                                            collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
        description=f"Ingest the submissions in {settings.inbox} into {settings.db} "
                    f"({settings.cron}, {settings.timezone}).",
        tags=["glotip", "ingestion"],
    )
