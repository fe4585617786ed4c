"""The deployment, run for real: docker-compose.yml on this machine's Docker, one month through Celery.

The steps of README's Deploy section: build the image, `up` (airflow-init first), sign in to
the API server, unpause, backfill one source-month, and `statistics` follows on the Asset;
everything runs on the Celery worker. Images: stand-ins built here under the tags the compose
file uses (tests/deployment/docker_services.py). compose.test.yml changes only networking,
ports, the pull policy and the inbox. Then `down -v`, and a daemon started here is stopped.

Runs with CI=true and with `make test-deploy`; a plain `make test` skips it (it takes minutes).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deployment.docker_services import Compose, build_standins, docker_daemon, require_docker_machine
from tests.helpers import TEST_PII_KEY, open_report, read_report
from tests.processes import free_port

SOURCE, YEAR, MONTH = "work_orders", 2023, 3
INGEST = f"ingest_{SOURCE}"
ADMIN = "admin"
CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"


class Api:
    """The API server's REST API, signed in as the admin airflow-init created."""

    def __init__(self, port: int, password: str):
        self.base = f"http://127.0.0.1:{port}"
        self.token = self.request("POST", "/auth/token", {"username": ADMIN, "password": password})["access_token"]

    def request(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(self.base + path, method=method, data=body and json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        if getattr(self, "token", None):
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def runs(self, dag_id: str) -> list[dict]:
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns")["dag_runs"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        instances = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["state"] for ti in instances}


@dataclass
class Deployed:
    stack: Compose
    api: Api
    inbox: Path


def wait(what: str, condition, stack: Compose, timeout: float, every: float = 5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(every)
    raise TimeoutError(f"{what}: not done after {timeout:.0f} s\n{stack.logs()}")


def one_month_inbox(demo_inbox: Path, inbox: Path) -> Path:
    """The demo's export of SOURCE for YEAR-MONTH, alone in an inbox the airflow user (uid 50000) can read."""
    (inbox / SOURCE).mkdir(parents=True)
    for export in (demo_inbox / SOURCE).glob(f"*_{YEAR}{MONTH:02d}.*"):
        shutil.copy(export, inbox / SOURCE)
    for path in [inbox, *inbox.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert any((inbox / SOURCE).iterdir()), f"the demo inbox has no {SOURCE} export for {YEAR}-{MONTH:02d}"
    return inbox


def settled(api: Api) -> bool:
    """True once statistics has published after the backfilled month; a failed run fails at once."""
    backfilled = [r for r in api.runs(INGEST) if r["run_type"] == "backfill"]
    statistics = api.runs("statistics")
    failed = [r for r in backfilled + statistics if r["state"] == "failed"]
    if failed:
        raise AssertionError(f"failed runs: {[(r['dag_id'], r['dag_run_id']) for r in failed]}")
    return bool(backfilled) and backfilled[0]["state"] == "success" and any(r["state"] == "success" for r in statistics)


@pytest.fixture(scope="module")
def deployed(request, tmp_path_factory):
    require_docker_machine()
    from cryptography.fernet import Fernet

    root = tmp_path_factory.mktemp("compose_up")
    inbox = one_month_inbox(request.getfixturevalue("demo_inbox"), root / "inbox")
    ports = {name: free_port() for name in ("POSTGRES", "REDIS", "API", "SCHEDULER_HEALTH", "WORKER_LOG", "TRIGGER_LOG")}
    password = os.urandom(12).hex()
    env = {
        "POSTGRES_PASSWORD": os.urandom(12).hex(),
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(32).hex(),
        "AIRFLOW__API__SECRET_KEY": os.urandom(16).hex(),
        "REPORTPIPE_PII_KEY": TEST_PII_KEY,
        "_AIRFLOW_WWW_USER_USERNAME": ADMIN,
        "_AIRFLOW_WWW_USER_PASSWORD": password,
        "REPORTPIPE_INBOX_HOST": str(inbox),
        **{f"TEST_{name}_PORT": str(port) for name, port in ports.items()},
    }
    seconds = {}
    started = time.monotonic()

    def lap(step: str) -> None:
        seconds[step] = round(time.monotonic() - started - sum(seconds.values()))

    with docker_daemon(root / "dockerd.log"):
        build_standins(root)
        lap("stand-in images")
        stack = Compose(root, env)
        try:
            stack("build", timeout=1800)
            lap("docker-compose build")
            stack("up", "-d", timeout=1200)
            wait("every service healthy", lambda: all(
                state in ("healthy", "exited/0") for state in stack.health().values()), stack, timeout=600)
            lap("up, until every service is healthy")
            api = Api(ports["API"], password)
            wait("the DAGs parsed", lambda: {INGEST, "statistics"} <= {
                dag["dag_id"] for dag in api.request("GET", "/api/v2/dags?limit=100")["dags"]}, stack, timeout=300)
            assert api.request("GET", "/api/v2/importErrors")["total_entries"] == 0, stack.logs()
            stack.exec("airflow-scheduler", "airflow", "dags", "unpause", "--treat-dag-id-as-regex",
                       f"^({INGEST}|statistics)$", "--yes")
            stack.exec("airflow-scheduler", "airflow", "backfill", "create", "--dag-id", INGEST,
                       "--from-date", f"{YEAR}-{MONTH:02d}-01", "--to-date", f"{YEAR}-{MONTH:02d}-28")
            lap("unpause and backfill")
            wait("the backfilled month and statistics", lambda: settled(api), stack, timeout=900)
            lap("the runs")
            yield Deployed(stack, api, inbox)
        finally:
            lap("the checks (or the step that failed)")
            (root / "compose.log").write_text(stack.logs(tail=2000))
            stack.down()
            lap("down -v")
            # In the run's output, with or without -s: what the deployment's time goes to.
            with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
                print(f"\ndeployment test, seconds per step: {seconds}")


def test_every_service_came_up_healthy_and_airflow_init_finished(deployed):
    health = deployed.stack.health()
    assert health.pop("airflow-init") == "exited/0"
    assert set(health.values()) == {"healthy"}, health
    assert set(health) == {"postgres", "redis", "airflow-apiserver", "airflow-scheduler",
                           "airflow-dag-processor", "airflow-triggerer", "airflow-worker"}


def test_airflow_init_made_the_admin_and_the_warehouse_pool(deployed):
    """The admin signed in (the fixture's token); the pool lets one task at a time write the warehouse."""
    pool = deployed.api.request("GET", "/api/v2/pools/reportpipe_warehouse")
    assert pool["slots"] == 1


def test_the_worker_serves_the_default_and_the_warehouse_queue(deployed):
    out = deployed.stack.exec("airflow-worker", "celery", "--app", CELERY_APP, "inspect", "active_queues", "--json")
    (queues,) = json.loads(out.strip().splitlines()[-1]).values()
    assert {q["name"] for q in queues} == {"default", "warehouse"}


def test_the_month_and_statistics_ran_on_the_celery_worker(deployed):
    api = deployed.api
    (backfill,) = [r for r in api.runs(INGEST) if r["run_type"] == "backfill"]
    assert dt.datetime.fromisoformat(backfill["data_interval_start"]).astimezone(
        dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m") == f"{YEAR}-{MONTH:02d}"
    assert set(api.task_states(INGEST, backfill["dag_run_id"]).values()) == {"success"}
    statistics = [r for r in api.runs("statistics") if r["state"] == "success"]
    assert statistics and statistics[0]["run_type"] == "asset_triggered"
    tasks = api.task_states("statistics", statistics[0]["dag_run_id"])
    assert tasks and set(tasks.values()) == {"success"}, tasks
    # Each task went through the Redis broker, its result into PostgreSQL (Celery's result backend).
    results = deployed.stack.exec("postgres", "psql", "-U", "airflow", "-d", "airflow", "-At", "-c",
                                  "SELECT status FROM celery_taskmeta")
    assert results.split().count("SUCCESS") >= 2 + len(tasks), results


def test_the_warehouse_volume_holds_the_months_figures_and_the_workbook(deployed, tmp_path):
    from reportpipe.offices import deployment
    from reportpipe.outputs.reports import write_report
    from reportpipe.pipeline import run

    volume = deployed.stack.volume("warehouse")
    deployed_copy = tmp_path / "deployed"
    deployed_copy.mkdir()
    shutil.copy2(volume / "report.duckdb", deployed_copy)  # the same file time: the publication's
    workbook = volume / "reports" / "jiaodaokou" / str(YEAR) / f"report_{YEAR}_figures.xlsx"
    assert workbook.is_file()

    # The same inbox through the command line, on this machine: the figures must be the same.
    local = tmp_path / "local"
    run(deployed.inbox, local)
    query = "SELECT figure_id, value FROM report_figures WHERE year = ? ORDER BY figure_id"
    with open_report(deployed_copy) as con:
        figures = con.execute(query, [YEAR]).fetchall()
        loaded = con.execute("SELECT source_id, left(CAST(month AS VARCHAR), 7) FROM loaded_months").fetchall()
        counted = con.execute("SELECT count(*) FROM report_figures WHERE source_id = ? AND value > 0",
                              [SOURCE]).fetchone()[0]
    assert figures == read_report(local, query, [YEAR])
    assert loaded == [(SOURCE, f"{YEAR}-{MONTH:02d}")]
    assert counted > 0, f"no figure of {SOURCE} counted anything"

    # The workbook the statistics DAG wrote is the one this code writes from that report.duckdb
    # (but for the cover, which says when it was made).
    import openpyxl

    expected = write_report(YEAR, tmp_path / "expected", deployed_copy, deployment().office())[0]
    ours, theirs = openpyxl.load_workbook(expected), openpyxl.load_workbook(workbook)
    assert ours.sheetnames == theirs.sheetnames
    for name in ours.sheetnames[1:]:  # the first is the cover
        cells = [[c.value for c in row] for row in ours[name].iter_rows()]
        assert cells == [[c.value for c in row] for row in theirs[name].iter_rows()], name
