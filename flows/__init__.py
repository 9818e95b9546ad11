"""Prefect flows: they only orchestrate the plain functions of `pipeline/` as tasks.

`offline_defaults` is called by the command line before it imports a flow (and so Prefect):
with no PREFECT_API_URL a flow run starts a temporary local server; on a busy 2-core machine
its first start (database migrations) can take over a minute, longer than Prefect's default
20 s wait, and analytics calls fail noisily offline. Any value the user has set wins.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

PREFECT_OFFLINE_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "DO_NOT_TRACK": "1",
}


def offline_defaults(environ: MutableMapping[str, str] = os.environ) -> None:
    for name, value in PREFECT_OFFLINE_DEFAULTS.items():
        environ.setdefault(name, value)
