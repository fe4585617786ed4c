"""The project's Airflow settings, written into <AIRFLOW_HOME>/airflow.cfg (make does it for .airflow/).

Every way of running Airflow here reads that file: `make airflow`, `make demo`, and
`.venv/bin/airflow …` typed by hand with AIRFLOW_HOME=.airflow. So all get the same
Airflow: the project's DAGs and no examples, Asia/Shanghai, SQLite with the LocalExecutor
and few processes (this is a 2-core machine), the UI on 127.0.0.1 only.

Whatever else the file holds is kept, Airflow's secrets among them (a new file gets new
ones); the settings below always win.

    python -m reportpipe.orchestration.airflow_config AIRFLOW_HOME [PORT]
"""

from __future__ import annotations

import base64
import configparser
import os
import secrets
import sys
from pathlib import Path

from reportpipe.settings import PROJECT_DIR, TIMEZONE

DEFAULT_PORT = 8080


def project_settings(port: int = DEFAULT_PORT) -> dict[str, dict[str, str]]:
    return {
        "core": {
            "dags_folder": str(PROJECT_DIR / "dags"),
            "load_examples": "False",
            "default_timezone": TIMEZONE,
            # The DAGs run as soon as they are found (the scheduler's own months; an operator's re-run).
            "dags_are_paused_at_creation": "False",
            "executor": "LocalExecutor",
            "parallelism": "2",
            # Task processes fork from a server that imported Great Expectations once (README: Executors).
            "mp_forkserver_preload": "great_expectations,reportpipe.validation.engine,reportpipe.validation.expectations,reportpipe.pipeline",
        },
        "scheduler": {"mp_start_method": "forkserver"},
        "dag_processor": {"parsing_processes": "1"},
        # base_url also tells the LocalExecutor's tasks where the Execution API is.
        "api": {"host": "127.0.0.1", "port": str(port), "workers": "1", "base_url": f"http://127.0.0.1:{port}"},
    }


def _new_secrets() -> dict[tuple[str, str], str]:
    """What Airflow itself writes into a new airflow.cfg: the same in every component."""
    return {
        ("core", "fernet_key"): base64.urlsafe_b64encode(os.urandom(32)).decode(),
        ("api_auth", "jwt_secret"): secrets.token_urlsafe(32),
        ("api", "secret_key"): secrets.token_urlsafe(16),
    }


def write(airflow_home: Path, port: int = DEFAULT_PORT) -> Path:
    """Write the project's settings into airflow_home/airflow.cfg, keeping the rest of it."""
    path = airflow_home / "airflow.cfg"
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(path, encoding="utf-8")
    settings = {(section, key): value for section, options in project_settings(port).items()
                for key, value in options.items()}
    for (section, key), value in _new_secrets().items():
        if not cfg.get(section, key, fallback=""):
            settings[section, key] = value
    for (section, key), value in settings.items():
        if not cfg.has_section(section):
            cfg.add_section(section)
        cfg[section][key] = value
    airflow_home.mkdir(parents=True, exist_ok=True)
    partial = path.with_name("airflow.cfg.partial")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
        cfg.write(f)
    partial.replace(path)
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1]).resolve(), int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_PORT))
