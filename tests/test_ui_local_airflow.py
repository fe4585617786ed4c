"""Airflow on this machine: the project's settings in <AIRFLOW_HOME>/airflow.cfg, read by every airflow command,
and the operator's page found as a plugin."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys

from reportpipe.orchestration.airflow_config import write
from reportpipe.settings import PROJECT_DIR

SETTINGS = [("core", "dags_folder"), ("core", "load_examples"), ("core", "default_timezone"), ("core", "executor"),
            ("core", "fernet_key"), ("api", "host"), ("api", "port"), ("api_auth", "jwt_secret"),
            ("logging", "base_log_folder")]

AIRFLOW_SEES = """
import sys
from airflow import plugins_manager
from airflow.configuration import conf
print("|".join(conf.get(s, k) for s, k in {settings!r}))
plugins, errors = plugins_manager._get_plugins()
(app,), (view,) = plugins[0].fastapi_apps, plugins[0].external_views
print([p.name for p in plugins], errors, app["url_prefix"], view["href"], view["destination"])
print(sorted(m for m in ("fastapi", "duckdb", "reportpipe.ui.app") if m in sys.modules))
"""


def test_an_airflow_command_typed_by_hand_gets_the_projects_settings_and_plugin(tmp_path):
    # An Airflow home from before: Airflow's own defaults (examples, UTC, its own DAG folder) and its secrets.
    home = tmp_path / "airflow_home"
    home.mkdir()
    (home / "airflow.cfg").write_text(
        "[core]\ndags_folder = /elsewhere/dags\nload_examples = True\ndefault_timezone = utc\nfernet_key = kept-fernet\n"
        "\n[api_auth]\njwt_secret = kept-secret\n\n[logging]\nbase_log_folder = /kept/logs\n")
    write(home, 8123)
    # As a newcomer's shell has it: AIRFLOW_HOME and nothing else of Airflow's (the test session sets some).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")} | {"AIRFLOW_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", AIRFLOW_SEES.format(settings=SETTINGS)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    settings, plugin, imported = done.stdout.strip().split("\n")[-3:]
    assert settings.split("|") == [str(PROJECT_DIR / "dags"), "False", "Asia/Shanghai", "LocalExecutor",
                                   "kept-fernet", "127.0.0.1", "8123", "kept-secret", "/kept/logs"]
    # Found once, through its entry point; its app under /reportpipe, its view in the navigation.
    assert plugin == "['reportpipe'] {} /reportpipe reportpipe/ nav"
    # Every Airflow process, each task too, loads every plugin: the page's app waits for a request.
    assert imported == "[]"


def test_a_new_airflow_home_gets_its_secrets_once(tmp_path):
    path = write(tmp_path / "new_home")
    first = path.read_bytes()
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(path)
    secrets = [cfg.get("core", "fernet_key"), cfg.get("api_auth", "jwt_secret"), cfg.get("api", "secret_key")]
    assert all(len(s) >= 16 for s in secrets)
    assert path.stat().st_mode & 0o077 == 0  # the secrets are the owner's only
    assert write(tmp_path / "new_home").read_bytes() == first  # written again: the same file, the same secrets
