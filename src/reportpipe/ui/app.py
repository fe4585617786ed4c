"""The operator's page: a FastAPI app the Airflow api-server mounts at /reportpipe (see plugin.py).

Every route requires an Airflow login, as the rest of the UI does (a plugin's routes are
not protected unless the plugin asks): Airflow's own security dependency reads the JWT
from the `_token` cookie or the Authorization header and asks the configured auth
manager (simple or FAB) whether the user may see the website.

A user sees only the offices the offices file grants them (`users:` of an office, or of the
district for all of them; an Airflow admin sees all): another office's page, explain or Data
Docs answer 403. It reads only an office's published report.duckdb, read-only, with a new connection per request
closed before the answer: a refresh renames a new file into place and is never blocked,
and the next request sees the new file (DuckDB shares one database per path within a
process, so no connection outlives a request).

Delivered values reach these pages (rejection reasons, Data Docs), so every answer says what
the browser may do with it (`security_headers`): the operator's pages run only the plugin's
own script file (static/language.js), and a Data Docs page runs its own scripts in a sandbox, an origin of its own that cannot read
Airflow's cookies or call its API. A sandboxed page sends no cookie with what it loads or
links to, so the Data Docs are reached through links the logged-in page hands out: a path
prefix signed with the api-server's secret key that opens the site, and nothing else, for
DATA_DOCS_LINK_HOURS (a pre-signed link, as object stores give).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path

import duckdb
from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_view
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from reportpipe import settings
from reportpipe.contracts import figures, sources
from reportpipe.offices import deployment
from reportpipe.outputs.numbers import NOT_AVAILABLE, PROVISIONAL, REVISED, figure_text, local_time
from reportpipe.outputs.published import published
from reportpipe.statistics.status import LEGEND, awaited, published_years, year_status
from reportpipe.ui import words
from reportpipe.validation.data_docs import validation_pages
from reportpipe.warehouse.publication import open_published

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.globals.update(figure_text=figure_text, local_time=local_time, LEGEND=LEGEND,
                             PROVISIONAL=PROVISIONAL, REVISED=REVISED, NOT_AVAILABLE=NOT_AVAILABLE)

# Whoever may see Airflow's UI may see this page (a Viewer, under either auth manager).
require_login = requires_access_view(AccessView.WEBSITE)

STATIC = Path(__file__).with_name("static")
DATA_DOCS_LINK_HOURS = 8

# The operator's pages: their one script and stylesheet from here, no inline script or event handler,
# nothing from elsewhere, framed only by Airflow's UI.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'self'")
# A Data Docs page: a sandbox (an opaque origin: no cookies, no Airflow API) whose own inline and
# local scripts run; nothing is sent anywhere (connect-src, form-action).
DATA_DOCS_POLICY = ("sandbox allow-scripts; default-src 'none'; script-src 'self' 'unsafe-inline'; "
                    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
                    "connect-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'")

app = FastAPI(
    title="reportpipe",
    description="Where every source-month of the report stands, its rejected files, figures and validations.",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)
# Every route but the signed Data Docs links is on this router: a route added to it asks for the login.
pages = APIRouter(dependencies=[Depends(require_login)])


@app.middleware("http")
async def security_headers(request: Request, call_next):
    """What the browser may do with each answer: Data Docs sandboxed, the operator's pages only their own script."""
    response = await call_next(request)
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    data_docs_page = path.startswith("/data-docs/") and response.headers.get("content-type", "").startswith("text/html")
    response.headers["Content-Security-Policy"] = DATA_DOCS_POLICY if data_docs_page else PAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # a Data Docs link is a credential
    return response


def page(request: Request, template: str, context: dict, status_code: int = 200, headers=None) -> HTMLResponse:
    """A page in the operator's language (words.choose), remembered in a cookie when it was asked for."""
    language = words.choose(request.query_params.get("lang"), request.cookies.get(words.COOKIE),
                            request.headers.get("accept-language"))
    response = templates.TemplateResponse(request, template, {**context, "lang": language, "t": words.words(language)},
                                          status_code=status_code, headers=headers)
    if request.query_params.get("lang") == language:
        response.set_cookie(words.COOKIE, language, samesite="lax", httponly=True,
                            path=request.scope.get("root_path") or "/")
    return response


@app.exception_handler(HTTPException)
def problem_page(request: Request, exc: HTTPException):
    """Errors as a page the operator can read in the UI; an anonymous one gets a link to Airflow's login."""
    login = get_auth_manager().get_url_login(next_url=str(request.url)) if exc.status_code == 401 else None
    return page(request, "problem.html", {"detail": exc.detail, "login": login}, exc.status_code, exc.headers)


def warehouse() -> Path:
    return settings.warehouse_dir()


def _visible(user) -> list[str]:
    """The offices and the district the user may see: an Airflow admin (who may change Airflow's configuration,
    under either auth manager) sees all."""
    return deployment().visible_to(
        user.get_name(), lambda: get_auth_manager().is_authorized_configuration(method="PUT", user=user))


def visible_offices(user) -> list[str]:
    """The offices the user may see."""
    district = deployment().district.id if deployment().district else None
    return [o for o in _visible(user) if o != district]


def sees_district(user) -> bool:
    district = deployment().district
    return district is not None and district.id in _visible(user)


def granted_office(user, office: str | None) -> str:
    """The office a page is about (the first one granted when none is named), if the user may see it."""
    visible = visible_offices(user)
    office = office or (visible[0] if visible else None)
    if office is None or office not in visible:
        raise HTTPException(403, f"{user.get_name()} is not granted the office {office or '(none)'}: an administrator "
                                 "grants offices in the offices file (users:)")
    return office


def granted_district(user):
    """The district, if the deployment has one and the user may see it (its users, or an Airflow admin)."""
    district = deployment().district
    if district is None:
        raise HTTPException(404, "this deployment serves no district (the offices file declares none)")
    if not sees_district(user):
        raise HTTPException(403, f"{user.get_name()} is not granted the district {district.id}: an administrator "
                                 "grants it in the offices file (district: users:)")
    return district


def folder(office: str) -> Path:
    return deployment().folder(warehouse(), office)


def connect(office: str | None = None) -> duckdb.DuckDBPyConnection:
    """An office's published file, or with none the warehouse's (the district's)."""
    try:
        return open_published(folder(office) if office else warehouse())
    except FileNotFoundError as e:
        raise HTTPException(404, str(e)) from None


def data_docs(office: str) -> Path:
    from reportpipe.validation.data_docs import data_docs_dir

    return data_docs_dir(folder(office))


def _signature(office: str, expires: int) -> str:
    from airflow.configuration import conf

    secret = conf.get("api", "secret_key", fallback="")
    if not secret:
        raise HTTPException(500, "the api-server has no [api] secret_key: Data Docs links cannot be signed")
    mac = hmac.new(secret.encode(), f"reportpipe data docs of {office} until {expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:18]).decode()


def data_docs_link(office: str) -> str:
    """An office's Data Docs site's path prefix for the next DATA_DOCS_LINK_HOURS, relative to the page: it opens
    that office's site alone."""
    expires = int(time.time()) + DATA_DOCS_LINK_HOURS * 3600
    return f"data-docs/{office}/{expires}-{_signature(office, expires)}/"


def _check_link(office: str, token: str) -> None:
    expires, _, signature = token.partition("-")
    if not expires.isdigit() or not hmac.compare_digest(signature, _signature(office, int(expires))):
        raise HTTPException(403, "not a link to the Data Docs: open them from the Report page")
    if int(expires) < time.time():
        raise HTTPException(403, "this link to the Data Docs has expired: open them again from the Report page")


@pages.get("/page.css")
def stylesheet():
    return FileResponse(STATIC / "page.css", media_type="text/css")


@pages.get("/language.js")
def language_script():
    return FileResponse(STATIC / "language.js", media_type="text/javascript")


@pages.get("/", response_class=HTMLResponse)
def status_page(request: Request, user: GetUserDep, year: int | None = None, office: str | None = None):
    """An office's source × month grid of a year, its rejected files, its figures, links to validations and explains."""
    office = granted_office(user, office)
    with connect(office) as con:
        years = published_years(con)
        year = year or (years[-1] if years else None)
        grid = year_status(con, year).grid if year else {}
        waiting = awaited(con)
    try:
        pub = published(year, folder(office), deployment().office(office)) if year else None
    except LookupError:  # the year's deliveries were all rejected: no figures yet
        pub = None
    return page(request, "status.html", {
        "year": year,
        "years": years,
        "grid": grid,
        "cells": [c for cells in grid.values() for c in cells],
        "sources": sources(),
        "pub": pub,
        "pages": validation_pages(data_docs(office)),
        "docs": data_docs_link(office),
        "has_data_docs": (data_docs(office) / "index.html").exists(),
        "office": deployment().office(office),
        "offices": [deployment().office(o) for o in visible_offices(user)],
        "district": deployment().district if sees_district(user) else None,
        "awaited": waiting,
    })


@pages.get("/district", response_class=HTMLResponse)
def district_page(request: Request, user: GetUserDep, year: int | None = None):
    """The district's figures beside each office's, with each office's share: what the comparison workbook holds."""
    from reportpipe.outputs.comparison import compared, headline_figures, share

    district = granted_district(user)
    with connect() as con:
        years = [y for y, in con.execute("SELECT DISTINCT year FROM report_figures WHERE office_id = ? ORDER BY 1",
                                         [district.id]).fetchall()]
    year = year or (years[-1] if years else None)
    if year is not None and year not in years:
        raise HTTPException(404, f"{district.name} has no figures of {year}")
    c = compared(year, warehouse()) if year else None
    files = _district_files(district.id, year) if year else {}
    return page(request, "district.html", {
        "district": district, "year": year, "years": years, "c": c, "share": share,
        "charts": [f for f in headline_figures(c) if f"district_{year}_{f.figure_id}.png" in files] if c else [],
        "workbook": f"district_{year}_comparison.xlsx" if f"district_{year}_comparison.xlsx" in files else None,
    })


def _district_files(district_id: str, year: int) -> dict[str, Path]:
    """The comparison's files of a year, by name, as the statistics DAG wrote them."""
    from reportpipe.outputs.reports import REPORTS

    written = warehouse() / REPORTS / district_id / str(year)
    return {f.name: f for f in written.glob(f"district_{year}_*") if f.suffix in (".xlsx", ".png")}


@pages.get("/district/{year}/{name}")
def district_file(user: GetUserDep, year: int, name: str):
    """The comparison workbook (a download) or one of its charts."""
    district = granted_district(user)
    file = _district_files(district.id, year).get(name)
    if file is None:
        raise HTTPException(404, f"no comparison file {name!r} of {year}")
    return FileResponse(file, filename=name if file.suffix == ".xlsx" else None,
                        content_disposition_type="attachment" if file.suffix == ".xlsx" else "inline")


@pages.get("/figures/{figure_id}", response_class=HTMLResponse)
def explain_page(request: Request, user: GetUserDep, figure_id: str, year: int, office: str | None = None):
    """`reportpipe explain`: how an office's figure is computed, from which files, recomputed now."""
    from reportpipe.statistics.explain import explain

    office = granted_office(user, office)
    figure = next((f for f in figures() if f.figure_id == figure_id), None)
    if figure is None:
        raise HTTPException(404, f"no figure {figure_id!r}")
    with connect(office) as con:
        try:
            explanation = explain(con, figure, year)
        except LookupError as e:
            raise HTTPException(404, str(e)) from None
    return page(request, "explain.html", {"e": explanation, "year": year, "office": deployment().office(office)})


@app.get("/data-docs/{office}/{token}/{path:path}")
def data_docs_file(office: str, token: str, path: str):
    """A file of an office's Great Expectations Data Docs site, through a link the logged-in page signed for it."""
    _check_link(office, token)
    root = data_docs(office).resolve()
    file = (root / (path or "index.html")).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        raise HTTPException(404, f"no Data Docs file {path!r}")
    # The sandboxed page loads its fonts in CORS mode, from its opaque origin; static/ holds no data.
    shared = {"Access-Control-Allow-Origin": "*"} if file.is_relative_to(root / "static") else None
    return FileResponse(file, headers=shared)


app.include_router(pages)
