"""One operator re-run on the distributed engine: CeleryExecutor, a Redis broker, PostgreSQL results.

With CI=true a missing PostgreSQL or Redis is a failure; elsewhere the test skips and says why.
"""

from __future__ import annotations

import pytest

from tests.deployment.airflow_services import COMPONENTS, PG, REDIS, Deployment, reportpipe_env, require
from tests.helpers import query


@pytest.fixture
def redis_db():
    """An empty Redis database for the broker, emptied again afterwards."""
    require(*REDIS, "Redis")
    import redis

    for number in range(15, 0, -1):
        client = redis.Redis(host=REDIS[0], port=REDIS[1], db=number)
        if client.dbsize() == 0:
            yield number
            client.flushdb()
            return
    pytest.fail("every Redis database 1-15 holds keys: refusing to use one")


def test_a_celery_worker_runs_an_operator_rerun_of_one_month(demo_inbox, redis_db, tmp_path):
    require(PG["host"], PG["port"], "PostgreSQL")
    warehouse = tmp_path / "warehouse"
    deployment = Deployment(tmp_path, "CeleryExecutor", {
        **reportpipe_env(demo_inbox, warehouse),
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/{redis_db}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "reportpipe.orchestration.celery_config.CELERY_CONFIG",
    }, [*COMPONENTS, "celery worker --queues default,warehouse"])
    deployment.env["AIRFLOW__CELERY__RESULT_BACKEND"] = f"db+postgresql://postgres@127.0.0.1:5432/{deployment.database}"
    try:
        deployment.start_and_wait()
        deployment.airflow("dags", "unpause", "ingest_work_orders")
        # An operator re-runs one source-month through the DAG's param.
        deployment.airflow("dags", "trigger", "ingest_work_orders", "--run-id", "rerun_2023_03",
                           "--conf", '{"month": "2023-03"}')
        finished = deployment.wait("the re-run", lambda: deployment.query(
            "SELECT state FROM dag_run WHERE run_id = 'rerun_2023_03' AND state IN ('success', 'failed')"),
            timeout=300)
        assert finished == [("success",)], deployment.tail_logs()
        # The tasks went through the broker (load_month on the warehouse queue), their results into PostgreSQL.
        # A worker stores a result after the task process has reported its state, so the run can finish first.
        deployment.wait("both Celery results", lambda: deployment.query(
            "SELECT count(*) FROM celery_taskmeta WHERE status = 'SUCCESS'")[0][0] >= 2, timeout=60)
        assert deployment.query(
            "SELECT task_id, state FROM task_instance WHERE run_id = 'rerun_2023_03' ORDER BY 1"
        ) == [("load_month", "success"), ("wait_for_export", "success")]
        # The load updated the Asset that schedules statistics.
        assert deployment.query(
            "SELECT a.name FROM asset_event e JOIN asset a ON a.id = e.asset_id") == [("stg_work_orders",)]
    finally:
        deployment.stop()
    assert query(warehouse / "work.duckdb", "SELECT source_id, strftime(month, '%Y-%m') FROM loaded_months") == [
        ("work_orders", "2023-03")]


def test_the_worker_config_is_airflows_plus_the_preloaded_modules():
    """What AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS selects (here and in docker-compose.yml)."""
    import importlib

    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

    from reportpipe.orchestration.celery_config import CELERY_CONFIG

    assert {k: v for k, v in CELERY_CONFIG.items() if k != "imports"} == DEFAULT_CELERY_CONFIG
    for module in CELERY_CONFIG["imports"]:
        importlib.import_module(module)
