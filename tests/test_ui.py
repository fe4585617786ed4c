"""The operator's page in the Airflow UI (src/reportpipe/ui): its content, its login, and a real browser on it.

One warehouse for the module: the demo year plus a rejected re-delivery of work_orders
2023-03 (a phone number one digit short, a channel out of its set). The page is read
in-process first (FastAPI's test client, the login waived), then through one real
`airflow api-server`, by HTTP and by headless Chromium.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil

import duckdb
import pytest
from lxml import html

from reportpipe.contracts import figures
from reportpipe.outputs.numbers import PROVISIONAL, figure_text
from reportpipe.statistics.status import year_status
from reportpipe.ui.app import data_docs_link
from tests.api_server import ApiServer
from tests.browser import driver, log_in
from tests.helpers import open_report, read_report, write_csv

YEAR = 2023
OFFICE = "jiaodaokou"  # the one office of the default offices file
BROKEN_PHONE = "1796745448"  # one digit short: the validation names it, masked


@pytest.fixture(scope="module")
def warehouse(demo_warehouse, demo_inbox, tmp_path_factory):
    from reportpipe.pipeline import run

    root = tmp_path_factory.mktemp("ui")
    wh = root / "warehouse"
    shutil.copytree(demo_warehouse, wh, symlinks=True)
    with (demo_inbox / "work_orders" / "执法工单_202303.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[2][6] = BROKEN_PHONE  # 诉求人电话
    rows[3][1] = "微信"  # 来源渠道
    broken = write_csv(root / "inbox" / "work_orders" / "执法工单_202303_v2.csv", rows[0], rows[1:])
    assert len(run(broken.parents[1], wh).rejected) == 1
    return wh


@pytest.fixture(scope="module")
def client(warehouse):
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.testclient import TestClient

    from reportpipe.ui.app import app, require_login

    app.dependency_overrides[require_login] = lambda: None
    app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(username="operator", role="viewer")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPORTPIPE_WAREHOUSE", str(warehouse))
        yield TestClient(app)
    app.dependency_overrides.clear()


def page(client, path=f"/?year={YEAR}"):
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    return html.fromstring(answer.text)


def row_labels(doc, source_id):
    return [td.xpath("string(.//*[@class='label'])") for td in doc.xpath(f"//tr[@data-source='{source_id}']/td")]


def test_the_grid_is_what_reportpipe_status_prints_with_a_validation_link_per_file(client, warehouse):
    doc = page(client)
    with open_report(warehouse) as con:
        expected = {s: [c.label for c in cells] for s, cells in year_status(con, YEAR).grid.items()}
    assert {s: row_labels(doc, s) for s in expected} == expected
    assert row_labels(doc, "work_orders")[2] == "v1!"  # the fixture's rejected re-delivery
    # Each loaded cell opens the Data Docs page of its file's validation (GX's batch id: sha256[:16]).
    loaded = read_report(warehouse, "SELECT source_id, month, sha256 FROM loaded_months")
    links = {(tr.get("data-source"), td.get("data-month")): td.xpath("string(a[@class='label']/@href)")
             for tr in doc.xpath("//tr[@data-source]") for td in tr.xpath("td")}
    assert all(sha256[:16] in links[(s, str(m)[:7])] for s, m, sha256 in loaded)
    validation = client.get("/" + links[("litigation", f"{YEAR}-10")])
    assert validation.status_code == 200 and validation.headers["content-type"].startswith("text/html")


def test_a_rejected_delivery_shows_its_reasons_with_personal_data_masked(client, warehouse):
    doc = page(client)
    (section,) = doc.xpath(f"//section[@id='rejected-work_orders-{YEAR}-03']")
    heading, reasons = section.xpath("string(h3)"), section.xpath("string(pre)")
    assert "执法工单_202303_v2.csv (v2" in heading
    assert "row 3, column 诉求人电话" in reasons and "row 4, column 来源渠道: '微信'" in reasons
    assert BROKEN_PHONE not in doc.text_content()
    (sha256,) = read_report(warehouse, "SELECT DISTINCT sha256 FROM intake_log WHERE status = 'rejected'")[0]
    (validation,) = section.xpath("h3/a/@href")
    assert sha256[:16] in validation and client.get(validation).status_code == 200


def test_the_figures_show_their_published_value_marker_and_explain(client, warehouse):
    doc = page(client)
    rows = read_report(warehouse, "SELECT figure_id, value, unit, is_provisional FROM report_figures WHERE year = ?", [YEAR])
    shown = {tr.get("data-figure"): (tr.xpath("string(td[@class='num value'])"), tr.xpath("string(td[@class='marker'])"))
             for tr in doc.xpath("//table[@id='figures']//tr[@data-figure]")}
    assert shown == {f: (figure_text(v, unit), PROVISIONAL if p else "") for f, v, unit, p in rows}
    assert any(PROVISIONAL in marker for _, marker in shown.values())  # work_orders waits for a good 2023-03

    figure = next(f for f in figures() if f.source_id == "work_orders")
    (link,) = doc.xpath(f"//tr[@data-figure='{figure.figure_id}']//a/@href")
    explained = page(client, "/" + link).xpath("string(//pre[@id='explain'])")
    assert explained.startswith(f"{figure.figure_id}: {figure.label}")
    assert "PROVISIONAL" in explained and f"latest delivery rejected: {YEAR}-03 v2" in explained


def test_the_history_checks_flags_show_with_a_class_and_in_the_legend(client, monkeypatch):
    import reportpipe.ui.app as ui

    real = ui.year_status

    def flagged(con, year):  # cells as the history checks and the calendar set them
        status = real(con, year)
        cells, december = status.grid["work_orders"], status.grid["litigation"][11]
        cells[4] = dataclasses.replace(cells[4], anomaly="412 rows, median 1,050")
        cells[5] = dataclasses.replace(cells[5], anomaly="412 rows, median 1,050", accepted="system migration, checked")
        status.grid["litigation"][11] = dataclasses.replace(december, loaded=None, overdue=True)
        return status

    monkeypatch.setattr(ui, "year_status", flagged)
    doc = page(client)
    states = {(tr.get("data-source"), td.get("data-month")): td.get("class").split()
              for tr in doc.xpath("//tr[@data-source]") for td in tr.xpath("td")}
    assert states[("work_orders", f"{YEAR}-05")] == ["loaded", "anomaly"]
    assert states[("work_orders", f"{YEAR}-06")] == ["loaded", "accepted"]
    assert states[("litigation", f"{YEAR}-12")] == ["overdue"]
    flags = [li.text_content() for li in doc.xpath("//ul[@id='flags']/li")]
    assert flags[0] == f"litigation {YEAR}-12: overdue, no delivery by {YEAR + 1}-01-10"
    assert flags[1].startswith(f"work_orders {YEAR}-05: 412 rows, median 1,050 (reportpipe accept work_orders {YEAR}-05")
    assert flags[2] == f"work_orders {YEAR}-06: 412 rows, median 1,050 — accepted: system migration, checked"
    legend = {span.get("class") for span in doc.xpath("//p[@class='legend']/span")}
    assert {c for cls in states.values() for c in cls} <= legend


def test_each_request_reads_the_file_a_refresh_renamed_into_place(client, warehouse, tmp_path, monkeypatch):
    # A connection kept open would keep serving the old file: DuckDB shares one database per path in a process.
    wh = tmp_path / "wh"
    wh.mkdir()
    shutil.copy(warehouse / "report.duckdb", wh / "report.duckdb")
    monkeypatch.setenv("REPORTPIPE_WAREHOUSE", str(wh))
    assert not set(row_labels(page(client), "litigation")) & {"·", "late"}
    # The refresh publishes by building a new file and renaming it over the old one.
    shutil.copy(wh / "report.duckdb", wh / "report.duckdb.new")
    with duckdb.connect(str(wh / "report.duckdb.new")) as con:
        con.execute("DELETE FROM month_status WHERE source_id = 'litigation'")
        con.execute("DELETE FROM loaded_months WHERE source_id = 'litigation'")
    os.replace(wh / "report.duckdb.new", wh / "report.duckdb")
    assert set(row_labels(page(client), "litigation")) == {"late"}  # 2023's exports, none delivered now


def test_a_data_docs_link_opens_the_site_until_it_expires(client, monkeypatch):
    import reportpipe.ui.app as ui

    docs = data_docs_link(OFFICE)
    answer = client.get(f"/{docs}index.html")
    assert answer.status_code == 200 and "sandbox allow-scripts" in answer.headers["content-security-policy"]
    expires, signature = docs.split("/")[2].split("-", 1)
    forged = [f"data-docs/{OFFICE}/{int(expires) + 3600}-{signature}/",
              f"data-docs/{OFFICE}/{expires}-{signature[:-2]}AA/", f"data-docs/{OFFICE}/index.html/"]
    for link in forged:
        answer = client.get(f"/{link}index.html")
        assert answer.status_code == 403 and "not a link to the Data Docs" in answer.text, link
    monkeypatch.setattr(ui.time, "time", lambda: int(expires) + 1)
    answer = client.get(f"/{docs}index.html")
    assert answer.status_code == 403 and "has expired" in answer.text


def test_wrong_requests_get_a_page_that_says_why(client, tmp_path, monkeypatch):
    assert client.get("/figures/orders_zhengtung?year=2023").status_code == 404
    assert "no published value of orders_zhengtong for 2019" in client.get("/figures/orders_zhengtong?year=2019").text
    # A path out of the Data Docs folder is not served, even encoded, nor one that is not a file of the site.
    docs = data_docs_link(OFFICE)
    assert client.get(f"/{docs}%2E%2E/report.duckdb").status_code == 404
    assert client.get(f"/{docs}validations").status_code == 404
    monkeypatch.setenv("REPORTPIPE_WAREHOUSE", str(tmp_path))
    answer = client.get("/")
    assert answer.status_code == 404 and "nothing has been published yet" in answer.text


# ---------------------------------------------------------------- a real api-server


@pytest.fixture(scope="module")
def server(warehouse, tmp_path_factory):
    api = ApiServer(tmp_path_factory.mktemp("api-server"), {"REPORTPIPE_WAREHOUSE": str(warehouse)})
    api.start()
    yield api
    api.stop()


def test_every_route_of_the_plugin_requires_an_airflow_login(server):
    from reportpipe.ui.app import app, pages

    paths = ["/reportpipe/", "/reportpipe/page.css", f"/reportpipe/figures/orders_zhengtong?year={YEAR}"]
    # Every route is on the router that asks for the login, but the signed Data Docs links.
    assert {r.path for r in app.routes if hasattr(r, "endpoint")} - {r.path for r in pages.routes} == \
        {"/data-docs/{office}/{token}/{path:path}"}
    for path in [*paths, f"/reportpipe/data-docs/{OFFICE}/index.html/"]:
        status, body = server.get(path)
        assert status in (401, 403), (path, status)
        assert "执法工单" not in body and "validations/" not in body
    assert server.get(paths[0], token="forged.jwt.token")[0] in (401, 403)
    token = server.token()
    assert [server.get(path, token)[0] for path in paths] == [200, 200, 200]
    # The Data Docs open through the link the logged-in page signed, with no cookie (a sandbox sends none).
    (link,) = html.fromstring(server.get(paths[0], token)[1]).xpath("//nav//a[contains(., 'Data Docs')]/@href")
    assert server.get(f"/reportpipe/{link}")[0] == 200
    assert server.get(f"/reportpipe/{link}".replace("index.html", "../report.duckdb"))[0] == 404
    # Airflow found the plugin once, through its entry point.
    assert json.loads(server.get("/api/v2/plugins/importErrors", token)[1])["total_entries"] == 0


def test_an_operator_logs_in_and_reads_the_grid_and_a_figure_in_a_browser(server, warehouse):
    from selenium.webdriver.common.by import By

    versions = dict(read_report(warehouse, "SELECT left(CAST(month AS VARCHAR), 7), version FROM loaded_months"
                                           " WHERE source_id = 'litigation'"))
    figure = next(f for f in figures() if f.source_id == "litigation")
    ((value, unit),) = read_report(warehouse, "SELECT value, unit FROM report_figures WHERE year = ? AND figure_id = ?",
                                   [YEAR, figure.figure_id])
    with driver() as browser:
        log_in(browser, server)
        browser.find_element(By.XPATH, "//a[normalize-space()='Report']").click()
        browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
        cells = browser.find_elements(By.CSS_SELECTOR, "tr[data-source='litigation'] td .label")
        grid = [c.text for c in cells]
        shown = browser.find_element(By.CSS_SELECTOR, f"tr[data-figure='{figure.figure_id}'] td.value").text
        # A cell opens its file's validation in the same frame, and the Data Docs' own links work there
        # (their signed path, not a cookie, opens them: the sandboxed page sends none).
        cells[0].click()
        browser.find_element(By.CSS_SELECTOR, ".bootstrap-table")
        assert "litigation" in browser.execute_script("return location.pathname")
        browser.find_element(By.PARTIAL_LINK_TEXT, "Home").click()
        browser.find_element(By.CSS_SELECTOR, "tr.clickable-row")
        assert browser.execute_script("return location.pathname").endswith("/index.html")
    assert grid == [f"v{versions[f'{YEAR}-{m:02d}']}" for m in range(1, 13)]
    assert "v2" in grid  # the demo re-delivered a month of litigation
    assert shown == figure_text(value, unit)


def test_an_operator_whose_airflow_speaks_chinese_reads_the_page_in_chinese(server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with driver() as browser:
        log_in(browser, server)
        # Airflow's UI keeps the language chosen in its settings in the browser's localStorage (i18next).
        browser.execute_script("localStorage.setItem('i18nextLng', 'zh-CN')")
        browser.refresh()
        browser.find_element(By.XPATH, "//a[normalize-space()='Report']").click()
        browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
        WebDriverWait(browser, 30).until(lambda b: b.find_element(By.TAG_NAME, "h1").text.startswith("报告数据状态"))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
        assert "已载入第 N 版" in browser.find_element(By.CSS_SELECTOR, "p.legend").text
        browser.find_element(By.CSS_SELECTOR, "table#figures a").click()
        WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.TAG_NAME, "h2"))
        assert [h.text for h in browser.find_elements(By.TAG_NAME, "h2")][0] == "口径"


def test_a_deployment_without_a_district_has_no_district_page(client):
    answer = client.get("/district")
    assert answer.status_code == 404 and "serves no district" in answer.text
    assert page(client).xpath("//a[@id='district']") == []
