"""The Airflow plugin: the page's FastAPI app under the api-server and its entry in the UI's navigation.

Airflow finds it through the `airflow.plugins` entry point (pyproject.toml), in a venv and
in the image alike. Every Airflow process loads every plugin, each task included, so this
module stays light: the app (FastAPI, duckdb, Airflow's API security) is imported on the
first request, in the api-server only.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/reportpipe"


class LazyApp:
    """An ASGI app that imports reportpipe.ui.app when the first request arrives."""

    async def __call__(self, scope, receive, send):
        from reportpipe.ui.app import app

        await app(scope, receive, send)


class ReportpipePlugin(AirflowPlugin):
    name = "reportpipe"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "reportpipe"}]
    # The UI shows it at /plugin/report, in a frame loading href (relative to the UI's base URL).
    external_views = [{"name": "Report", "href": URL_PREFIX.lstrip("/") + "/", "url_route": "report",
                       "destination": "nav"}]
