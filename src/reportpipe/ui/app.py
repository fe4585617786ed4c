"""The operator's page: a FastAPI app the Airflow api-server mounts at /reportpipe (see plugin.py).

Every route requires an Airflow login, as the rest of the UI does (a plugin's routes are
not protected unless the plugin asks): Airflow's own security dependency reads the JWT
from the `_token` cookie or the Authorization header and asks the configured auth
manager (simple or FAB) whether the user may see the website.

It reads only the published report.duckdb, read-only, with a new connection per request
closed before the answer: a refresh renames a new file into place and is never blocked,
and the next request sees the new file (DuckDB shares one database per path within a
process, so no connection outlives a request).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import requires_access_view
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from reportpipe import settings
from reportpipe.contracts import figures, sources
from reportpipe.report import PROVISIONAL, REPORT_DB, REVISED, figure_text, local_time, published
from reportpipe.status import LEGEND, published_years, year_status
from reportpipe.validation import validation_pages

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.globals.update(figure_text=figure_text, local_time=local_time, LEGEND=LEGEND,
                             PROVISIONAL=PROVISIONAL, REVISED=REVISED)

# Whoever may see Airflow's UI may see this page (a Viewer, under either auth manager).
require_login = requires_access_view(AccessView.WEBSITE)

app = FastAPI(
    title="reportpipe",
    description="Where every source-month of the report stands, its rejected files, figures and validations.",
    dependencies=[Depends(require_login)],
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)


@app.exception_handler(HTTPException)
def problem_page(request: Request, exc: HTTPException):
    """Errors as a page the operator can read in the UI; an anonymous one gets a link to Airflow's login."""
    login = get_auth_manager().get_url_login(next_url=str(request.url)) if exc.status_code == 401 else None
    return templates.TemplateResponse(request, "problem.html", {"detail": exc.detail, "login": login},
                                      status_code=exc.status_code, headers=exc.headers)


def warehouse() -> Path:
    return settings.warehouse_dir()


def connect() -> duckdb.DuckDBPyConnection:
    report_db = warehouse() / REPORT_DB
    if not report_db.exists():
        raise HTTPException(404, f"{report_db} does not exist: nothing has been published yet"
                                 " (the statistics DAG publishes it; make demo runs the demo year)")
    return duckdb.connect(str(report_db), read_only=True)


def data_docs() -> Path:
    from reportpipe.validation import data_docs_dir

    return data_docs_dir(warehouse())


@app.get("/", response_class=HTMLResponse)
def status_page(request: Request, year: int | None = None):
    """The source × month grid of a year, its rejected files, its figures, links to validations and explains."""
    with connect() as con:
        years = published_years(con)
        year = year or (years[-1] if years else None)
        grid = year_status(con, year).grid if year else {}
    try:
        pub = published(year, warehouse()) if year else None
    except LookupError:  # the year's deliveries were all rejected: no figures yet
        pub = None
    return templates.TemplateResponse(request, "status.html", {
        "year": year,
        "years": years,
        "grid": grid,
        "cells": [c for cells in grid.values() for c in cells],
        "sources": sources(),
        "pub": pub,
        "pages": validation_pages(data_docs()),
        "has_data_docs": (data_docs() / "index.html").exists(),
    })


@app.get("/figures/{figure_id}", response_class=HTMLResponse)
def explain_page(request: Request, figure_id: str, year: int):
    """`reportpipe explain`: how a figure is computed, from which files, recomputed now."""
    from reportpipe.figures import explain

    figure = next((f for f in figures() if f.figure_id == figure_id), None)
    if figure is None:
        raise HTTPException(404, f"no figure {figure_id!r}")
    with connect() as con:
        try:
            explanation = explain(con, figure, year)
        except LookupError as e:
            raise HTTPException(404, str(e)) from None
    return templates.TemplateResponse(request, "explain.html", {"e": explanation, "year": year})


@app.get("/data-docs/{path:path}")
def data_docs_file(path: str):
    """A file of the Great Expectations Data Docs site, behind the same login."""
    root = data_docs().resolve()
    file = (root / (path or "index.html")).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        raise HTTPException(404, f"no Data Docs file {path!r}")
    return FileResponse(file)
