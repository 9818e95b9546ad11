"""Prefect flows. Importing this package configures Prefect for offline, serverless runs.

With no PREFECT_API_URL a flow run starts a temporary local server; on a busy 2-core machine
its first start (database migrations) can take over a minute, longer than Prefect's default
20 s wait. Analytics calls fail noisily offline. Set before Prefect is imported; any value the
user has set wins.
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("DO_NOT_TRACK", "1")
