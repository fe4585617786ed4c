"""A real Airflow deployment on this machine's PostgreSQL (and Redis), for the production-like tests.

`Deployment` creates its own metadata database, starts the components as separate
processes (as docker-compose.yml does), and on `stop()` ends every process it
started and drops the database, leaving the servers as it found them.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import TEST_PII_KEY
from tests.processes import api_server_up, free_port, stop

COMPONENTS = ["scheduler", "dag-processor", "api-server", "triggerer"]
WAIT_HOURS = 0.01  # a missing export fails after 36 s instead of 72 h
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS = ("127.0.0.1", 6379)
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require(host: str, port: int, what: str) -> None:
    """Skip without the server, with the reason; with CI=true its absence is a failure."""
    from tests.system import require as require_system

    require_system(reachable(host, port), f"{what} at {host}:{port}", "the production-like Airflow tests need it")


def reportpipe_env(inbox: Path, warehouse: Path) -> dict[str, str]:
    return {"REPORTPIPE_INBOX": str(inbox), "REPORTPIPE_WAREHOUSE": str(warehouse),
            "REPORTPIPE_PII_KEY": TEST_PII_KEY, "REPORTPIPE_EXPORT_WAIT_HOURS": str(WAIT_HOURS)}


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as con:
        con.execute(sql)


class Deployment:
    def __init__(self, root: Path, executor: str, env: dict[str, str], components: list[str]):
        self.root, self.components = root, components
        self.database = f"reportpipe_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.port = free_port()
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(root / "airflow_home"),
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
            "AIRFLOW__CORE__FERNET_KEY": "",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.database}",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(root / "task_logs"),
            # Two cores carry every component and the tasks: give the Execution API time to answer.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
            **env,
        }
        self.processes: list[subprocess.Popen] = []

    def airflow(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def start(self) -> None:
        _admin(f'CREATE DATABASE "{self.database}"')
        self.airflow("db", "migrate")
        # As airflow-init does in docker-compose.yml: the pool of the tasks that write the warehouse.
        subprocess.run([sys.executable, "-m", "reportpipe.orchestration.pool"], env=self.env, check=True,
                       capture_output=True)
        for component in self.components:
            command = [AIRFLOW, *component.split()]
            log = (self.logs / f"{component.split()[0]}.log").open("w")
            self.processes.append(subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT))

    def start_and_wait(self) -> None:
        """Start, then wait until the api-server answers and every DAG is parsed into the database."""
        from reportpipe.contracts import sources

        self.start()
        self.wait("the api-server to answer", self.api_up, timeout=180)
        expected = len(sources()) + 1
        self.wait("the dag-processor to parse the DAGs",
                  lambda: len(self.query("SELECT dag_id FROM dag WHERE NOT is_stale")) == expected, timeout=180)

    def query(self, sql: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(dbname=self.database, **PG) as con:
            return con.execute(sql, params or None).fetchall()

    def wait(self, what: str, condition, timeout: float, every: float = 2.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if result := condition():
                return result
            time.sleep(every)
        raise TimeoutError(f"{what}: not done after {timeout:.0f} s; logs in {self.logs}\n{self.tail_logs()}")

    def api_up(self) -> bool:
        return api_server_up(f"http://127.0.0.1:{self.port}")

    def check_alive(self) -> None:
        for component, process in zip(self.components, self.processes):
            if process.poll() is not None:
                raise RuntimeError(f"airflow {component} exited with {process.returncode}\n{self.tail_logs()}")

    def tail_logs(self, lines: int = 30) -> str:
        out = []
        for log in sorted(self.logs.glob("*.log")):
            out.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(out)

    def stop(self) -> None:
        stop([p.pid for p in self.processes])
        _admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
