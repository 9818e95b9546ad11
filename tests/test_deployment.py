"""The deployments of prefect.yaml, as a Prefect user runs them: a real Prefect server on
loopback (`prefect_api` in conftest.py: free port, temporary PREFECT_HOME, SQLite), the
process work pool, `prefect deploy`, `prefect worker start`, a run triggered through the API,
and the warehouse checked. Also: two workers whose loads take turns through the `glotip-load`
global concurrency limit.

prefect.yaml is deployed from a copy in tmp_path whose parameters point into tmp_path and whose
schedule is inactive: a scheduled run must never write into the checkout. Everything else is
the file as committed. Waits are on states, with generous timeouts (a busy 2-core machine).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.settings import load_settings
from tests.builders import write_csv_zip, write_workbook
from tests.conftest import TEST_DATA, stop_process_group

ROOT = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).parent / "prefect")
POOL = "glotip"
LOAD_LIMIT = "glotip-load"
WAIT = 300  # seconds: a flow run's process start plus its work, on a loaded machine


def _deployments() -> dict[str, dict]:
    document = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["name"]: d for d in document["deployments"]}


# -- one source of truth ------------------------------------------------------------------------

def test_prefect_yaml_is_what_glotip_toml_says():
    settings = load_settings(deployment=True, config=ROOT / "glotip.toml", environ={})
    deployments = _deployments()
    ingestion = deployments[settings.deployment_name]
    assert ingestion["entrypoint"] == "flows/ingest.py:ingest_submissions"
    assert ingestion["schedules"] == [{"cron": settings.cron, "timezone": settings.timezone}]
    assert ingestion["parameters"] == settings.flow_parameters()
    assert ingestion["work_pool"]["name"] == POOL
    from flows.deployment import RUNS_AT_ONCE  # what `glotip serve` deploys

    assert ingestion["concurrency_limit"] == {"limit": RUNS_AT_ONCE.limit,
                                              "collision_strategy": RUNS_AT_ONCE.collision_strategy.value}
    published = deployments["published-import"]
    assert published["entrypoint"] == "flows/import_published.py:import_published"
    assert published["parameters"] == {"db_path": settings.db, "reports_dir": settings.reports}
    assert published["work_pool"]["name"] == POOL


def test_the_load_limit_is_named_where_the_docs_and_prefect_yaml_name_it():
    from flows.concurrency import LOAD_CONCURRENCY_LIMIT

    assert LOAD_CONCURRENCY_LIMIT == LOAD_LIMIT
    assert f"prefect gcl create {LOAD_LIMIT} --limit 1" in (ROOT / "prefect.yaml").read_text()
    assert f"prefect gcl create {LOAD_LIMIT} --limit 1" in (ROOT / "docs/operations.md").read_text()


# -- helpers ------------------------------------------------------------------------------------

def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@contextmanager
def prefect_client(api: str):
    """Prefect's own client: it retries the 503s of a busy SQLite server, as workers do."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        yield client


def prefect(env: dict, *arguments: str, log: Path) -> None:
    """A `prefect` command run from the checkout, as the docs run it."""
    with log.open("a") as out:
        done = subprocess.run([PREFECT, *arguments], cwd=ROOT, env=env, stdout=out,
                              stderr=subprocess.STDOUT, timeout=WAIT)
    assert done.returncode == 0, f"prefect {' '.join(arguments)}:\n{log.read_text()[-3000:]}"


def deploy(env: dict, tmp_path: Path, parameters: dict[str, dict]) -> None:
    """The work pool, then `prefect deploy --all` of prefect.yaml with each deployment's
    parameters updated from `parameters` and its schedule inactive."""
    document = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    for deployment in document["deployments"]:
        deployment["parameters"].update(parameters.get(deployment["name"], {}))
        for schedule in deployment.get("schedules", []):
            schedule["active"] = False
    copy = tmp_path / "prefect.yaml"
    copy.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    log = tmp_path / "deploy.log"
    prefect(env, "work-pool", "create", POOL, "--type", "process", "--overwrite", log=log)
    prefect(env, "deploy", "--all", "--prefect-file", str(copy), "--no-prompt", log=log)


@contextmanager
def workers(env: dict, tmp_path: Path, count: int):
    """`prefect worker start` processes, each taking one flow run at a time."""
    started = []
    try:
        for number in range(count):
            log = (tmp_path / f"worker-{number}.log").open("w")
            started.append((subprocess.Popen(
                [PREFECT, "worker", "start", "--pool", POOL, "--name", f"test-worker-{number}",
                 "--limit", "1"], cwd=ROOT, env={**env, "PREFECT_WORKER_QUERY_SECONDS": "1"},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log))
        yield [process for process, _ in started]
    finally:
        for process, log in started:
            stop_process_group(process, seconds=30)  # the worker and any flow run it started
            log.close()


def wait_for(probe, what: str, processes, tmp_path: Path, seconds: float = WAIT):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        stopped = [p for p in processes if p.poll() is not None]
        if stopped:
            pytest.fail(f"a worker stopped while waiting for {what}:\n{_logs(tmp_path)}")
        time.sleep(0.5)
    pytest.fail(f"timed out after {seconds} s waiting for {what}:\n{_logs(tmp_path)}")


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-2000:]}" for log in sorted(tmp_path.glob("*.log")))


def final_state(client, run_id) -> str | None:
    state = client.read_flow_run(run_id).state
    return state.type.value if state is not None and state.is_final() else None


def task_runs(client, run_id) -> dict[str, object]:
    """The task runs of a flow run by task name (Prefect names a run `<task>-<suffix>`)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    found = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    return {run.name.rsplit("-", 1)[0]: run for run in found}


def completed(client, run_id, task_name: str) -> bool:
    run = task_runs(client, run_id).get(task_name)
    return run is not None and run.state is not None and run.state.is_completed()


def run_logs(client, run_id) -> list:
    """The flow run's log as the server holds it (sent at INFO: `INFO_LOGS`)."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    return client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))


def logged(client, run_id, text: str) -> bool:
    return any(text in log.message for log in run_logs(client, run_id))


def load_span(client, run_id, entry: str) -> tuple[dt.datetime, dt.datetime]:
    """When an ingestion's load of `entry` started and ended, from its line `ENTRY: load in S s`
    (logged as it ends; S counts from when it had its turn)."""
    [(seconds, at)] = [(float(log.message.split()[-2]), log.timestamp) for log in run_logs(client, run_id)
                     if log.message.startswith(f"{entry}: load in ")]
    return at - dt.timedelta(seconds=seconds), at


INFO_LOGS = {"PREFECT_LOGGING_LEVEL": "INFO"}  # a flow run's per-step lines (flows/ingest.py)


# -- a deployment, a worker, a run --------------------------------------------------------------

@pytest.mark.slow
def test_a_worker_runs_the_deployed_ingestion(prefect_api, tmp_path):
    from prefect.exceptions import ObjectNotFound

    inbox = tmp_path / "inbox"
    write_csv_zip(inbox / "NGA.zip", "NGA", rows=120)
    write_workbook(inbox / "KEN.xlsx", "KEN", rows=80)
    db = tmp_path / "w.duckdb"
    deploy(prefect_api, tmp_path, {"scheduled-ingestion": {
        "inbox": str(inbox), "db_path": str(db), "reports_dir": str(tmp_path / "reports"),
        "archive_dir": str(tmp_path / "archive"), "settle_seconds": 0}})
    with prefect_client(prefect_api["PREFECT_API_URL"]) as client, \
            workers(prefect_api, tmp_path, 1) as started:
        deployment = client.read_deployment_by_name("ingest_submissions/scheduled-ingestion")
        assert deployment.schedules[0].schedule.cron == "*/15 * * * *"
        assert deployment.work_pool_name == POOL
        run = client.create_flow_run_from_deployment(deployment.id)
        state = wait_for(lambda: final_state(client, run.id), "the flow run", started, tmp_path)
        assert state == "COMPLETED", _logs(tmp_path)
        # no `glotip-load` limit on this server: the loads went ahead (below), and none was created
        with pytest.raises(ObjectNotFound):
            client.read_global_concurrency_limit_by_name(LOAD_LIMIT)
    assert query(db, "SELECT file_name, status, rows_loaded FROM submissions ORDER BY 1") == [
        ("KEN.xlsx", "accepted", 80), ("NGA.zip", "accepted", 120)]
    [(flow_run_id, status)] = query(db, "SELECT flow_run_id, status FROM ingestion_runs")
    assert (flow_run_id, status) == (str(run.id), "completed")
    assert list(inbox.iterdir()) == []  # move_processed, from prefect.yaml


# -- two workers, loads taking turns ------------------------------------------------------------

@pytest.mark.slow
def test_two_workers_take_turns_to_load(prefect_api, tmp_path):
    """An ingestion and a published import, each on its own worker and warehouse, run at the
    same time; the test holds the only `glotip-load` slot until both have validated, then lets
    go: each load starts after that, and the two loads never overlap."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency
    from prefect.settings import PREFECT_API_URL, temporary_settings

    inbox = tmp_path / "inbox"
    write_csv_zip(inbox / "NGA.zip", "NGA", rows=2_000)
    ingestion_db, import_db = tmp_path / "ingested.duckdb", tmp_path / "imported.duckdb"
    deploy(prefect_api, tmp_path, {
        "scheduled-ingestion": {"inbox": str(inbox), "db_path": str(ingestion_db),
                                "reports_dir": str(tmp_path / "reports-a"),
                                "archive_dir": str(tmp_path / "archive"), "settle_seconds": 0},
        "published-import": {"db_path": str(import_db), "reports_dir": str(tmp_path / "reports-b")}})
    api = prefect_api["PREFECT_API_URL"]
    with prefect_client(api) as client, ExitStack() as cleanup:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=LOAD_LIMIT, limit=1))
        cleanup.callback(client.delete_global_concurrency_limit_by_name, LOAD_LIMIT)
        started = cleanup.enter_context(workers({**prefect_api, **INFO_LOGS}, tmp_path, 2))
        with temporary_settings({PREFECT_API_URL: api}), \
                concurrency(LOAD_LIMIT, occupy=1, strict=True):  # the only slot: nobody loads
            ingestion = client.create_flow_run_from_deployment(
                client.read_deployment_by_name("ingest_submissions/scheduled-ingestion").id)
            imported = client.create_flow_run_from_deployment(
                client.read_deployment_by_name("import_published/published-import").id,
                parameters={"file": str(TEST_DATA / "data_glotip_2025-04-14.xlsx")})
            wait_for(lambda: logged(client, ingestion.id, "NGA.zip: compare-with-history in")
                     and completed(client, imported.id, "prepare-export"),
                     "both runs to reach their loads", started, tmp_path)
            # each worker takes one run at a time (--limit 1): both runs are running at once
            assert client.read_flow_run(ingestion.id).state.is_running()
            assert client.read_flow_run(imported.id).state.is_running()
            released = dt.datetime.now(dt.timezone.utc)
        for run in (ingestion, imported):
            state = wait_for(lambda: final_state(client, run.id), "the flow runs", started, tmp_path)
            assert state == "COMPLETED", _logs(tmp_path)
        wait_for(lambda: logged(client, ingestion.id, "NGA.zip: load in "), "the load's log line",
                 started, tmp_path)  # a run's last lines may reach the server after its final state
        export = task_runs(client, imported.id)["load-export"]
        loads = sorted((load_span(client, ingestion.id, "NGA.zip"), (export.start_time, export.end_time)))
    assert all(start >= released for start, _ in loads), (released, loads)
    assert loads[0][1] <= loads[1][0], "the two loads overlapped"
    assert query(ingestion_db, "SELECT file_name, status FROM submissions") == [("NGA.zip", "accepted")]
    assert query(import_db, "SELECT count(*) > 0 FROM published_imports") == [(True,)]


# -- two workers, one warehouse: validating side by side ---------------------------------------

@pytest.mark.slow
def test_two_workers_validate_side_by_side_on_one_warehouse(prefect_api, tmp_path):
    """Two ingestion runs on two workers, one warehouse: both read, validate and compare with
    history while the test holds the only `glotip-load` slot (the warehouse file is held only for
    a step's turn, never for a whole run); then their loads take turns, and both complete."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency
    from prefect.settings import PREFECT_API_URL, temporary_settings

    first, second, db = tmp_path / "inbox-a", tmp_path / "inbox-b", tmp_path / "w.duckdb"
    write_csv_zip(first / "NGA.zip", "NGA", rows=2_000)
    write_workbook(second / "KEN.xlsx", "KEN", rows=400)
    deploy(prefect_api, tmp_path, {"scheduled-ingestion": {
        "inbox": str(first), "db_path": str(db), "reports_dir": str(tmp_path / "reports"),
        "archive_dir": str(tmp_path / "archive"), "settle_seconds": 0}})
    api = prefect_api["PREFECT_API_URL"]
    with prefect_client(api) as client, ExitStack() as cleanup:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=LOAD_LIMIT, limit=1))
        cleanup.callback(client.delete_global_concurrency_limit_by_name, LOAD_LIMIT)
        started = cleanup.enter_context(workers({**prefect_api, **INFO_LOGS}, tmp_path, 2))
        deployment = client.read_deployment_by_name("ingest_submissions/scheduled-ingestion").id
        with temporary_settings({PREFECT_API_URL: api}), \
                concurrency(LOAD_LIMIT, occupy=1, strict=True):  # the only slot: nobody loads
            runs = [client.create_flow_run_from_deployment(deployment),
                    client.create_flow_run_from_deployment(deployment, parameters={"inbox": str(second)})]
            wait_for(lambda: all(logged(client, run.id, f"{name}: compare-with-history in")
                                 for run, name in zip(runs, ("NGA.zip", "KEN.xlsx"))),
                     "both runs to validate and compare", started, tmp_path)
            assert all(client.read_flow_run(run.id).state.is_running() for run in runs)
            released = dt.datetime.now(dt.timezone.utc)
        for run in runs:
            state = wait_for(lambda: final_state(client, run.id), "the flow runs", started, tmp_path)
            assert state == "COMPLETED", _logs(tmp_path)
        # a run's last lines may reach the server after its final state
        wait_for(lambda: all(logged(client, run.id, f"{name}: load in ") for run, name in zip(runs, ("NGA.zip", "KEN.xlsx"))),
                 "the loads' log lines", started, tmp_path)
        loads = sorted(load_span(client, run.id, name) for run, name in zip(runs, ("NGA.zip", "KEN.xlsx")))
    assert all(start >= released for start, _ in loads), (released, loads)
    assert loads[0][1] <= loads[1][0], "the two loads overlapped"
    assert query(db, "SELECT file_name, status, rows_loaded FROM submissions ORDER BY 1") == [
        ("KEN.xlsx", "accepted", 400), ("NGA.zip", "accepted", 2_000)]
    assert query(db, "SELECT status, count(*) FROM ingestion_runs GROUP BY 1") == [("completed", 2)]
