"""Delivered data never runs as code: hostile cells, header names, sheet and file names on every HTML surface.

Files whose cells, header names, sheet name and file name carry script and template text
are delivered and go through `reportpipe run` (and, for the misnamed file, the ingest DAG's
wait and its failure alert). A real `airflow api-server` serves the pages; headless Chromium
logs in and opens every page that shows them: the operator's page, a figure's explain page,
the Data Docs index and each rejected file's validation page, then the alert e-mail. Every
payload that ran would set `window.name` (kept across the pages of a tab) or leave an element
with an event handler; each page must show every payload as the text it was.
"""

from __future__ import annotations

import shutil
import urllib.parse
from datetime import timedelta
from types import SimpleNamespace

import openpyxl
import pendulum
import pytest

from reportpipe.contracts import figures
from tests.api_server import ApiServer
from tests.browser import driver, log_in
from tests.helpers import TEST_PII_KEY, cli, write_csv
from tests.smtp import html_part, mailbox

YEAR = 2023
SHOWN = 100  # characters of a long value a message quotes (reportpipe.validation.validator.MAX_SHOWN)
# Each would set window.name if it ran; none has a single quote or backslash, so a message quoting
# it (Python's repr) shows it as delivered.
PAYLOADS = {
    "img": '<img src=x onerror="name=`img`">',
    "script": "<script>name=`script`</script>",
    "svg": '"><svg onload="name=`svg`">',
    "javascript_link": "javascript:name=`javascript_link`",
    "textarea": '</textarea><img src=x onerror="name=`textarea`">',
    "jinja": "{{7*7}}",
    "template_string": "${7*7}",
    "long": "长" * 10_000,
}
# A sheet name holds at most 31 characters and no slash.
SHEET_NAME = "<svg onload=name=`sheet`>"
MISNAMED = f'执法工单_{YEAR}01"><svg onload="name=`file`">.csv'
# What a page must not hold if no payload became markup.
ACTIVE = "[onerror], [onload], [src='x'], [href^='javascript:name']"


def _csv_rows(path):
    import csv

    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def warehouse(demo_inbox, tmp_path_factory):
    """January of two sources, then hostile re-deliveries of both, through `reportpipe run`."""
    root = tmp_path_factory.mktemp("hostile")
    inbox = root / "inbox"
    for source, name in (("work_orders", "执法工单_202301.csv"), ("penalty_cases", "处罚案件_202301.xlsx")):
        (inbox / source).mkdir(parents=True)
        shutil.copy(demo_inbox / source / name, inbox / source / name)

    header, *rows = _csv_rows(inbox / "work_orders" / "执法工单_202301.csv")
    for i, payload in enumerate(PAYLOADS.values()):
        rows[i][1] = payload  # 来源渠道: not one of its values
        rows[10 + i][2] = payload  # 受理时间: not a date-time
    hostile_header = header + list(PAYLOADS.values())
    write_csv(inbox / "work_orders" / "执法工单_202301_v2.csv", hostile_header,
              [row + ["x"] * len(PAYLOADS) for row in rows])

    workbook = openpyxl.load_workbook(inbox / "penalty_cases" / "处罚案件_202301.xlsx")
    sheet = workbook.worksheets[0]
    sheet.title = SHEET_NAME
    column = next(c.column for c in sheet[2] if c.value == "违法类型")  # row 1 is the title
    for i, payload in enumerate(PAYLOADS.values()):
        sheet.cell(row=3 + i, column=column, value=payload)
    workbook.save(inbox / "penalty_cases" / "处罚案件_202301_v2.xlsx")
    (inbox / "work_orders" / MISNAMED).write_bytes(b"")

    warehouse = root / "warehouse"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPORTPIPE_PII_KEY", TEST_PII_KEY)
        run = cli("run", "--inbox", inbox, "--warehouse", warehouse)
    assert run.code == 1 and run.crash is None, run.output
    assert "2 file(s) rejected" in run.output, run.output
    return SimpleNamespace(path=warehouse, inbox=inbox, output=run.output)


@pytest.fixture(scope="module")
def server(warehouse, tmp_path_factory):
    api = ApiServer(tmp_path_factory.mktemp("api-server"), {"REPORTPIPE_WAREHOUSE": str(warehouse.path)})
    api.start()
    yield api
    api.stop()


def test_the_terminal_shows_each_payload_as_text(warehouse):
    for payload in PAYLOADS.values():
        assert payload[:SHOWN] in warehouse.output
    assert "(10,000 characters)" in warehouse.output  # a long value is quoted, not printed whole
    assert f"skipped {warehouse.inbox / 'work_orders' / MISNAMED}" in warehouse.output


def assert_inert(browser, what: str, expected: list[str]) -> str:
    """No payload ran or became markup on the open page, and each expected text reads as delivered."""
    flags = browser.execute_script("return [window.name, document.querySelectorAll(arguments[0]).length]", ACTIVE)
    assert flags == ["", 0], f"{what}: a payload ran or became markup: {flags}"
    text = browser.execute_script("return document.documentElement.textContent")
    for payload in expected:
        assert payload[:SHOWN] in text, f"{what} does not show {payload[:60]!r} as text"
    return text


def test_no_payload_runs_on_any_page_in_a_browser(server, warehouse):
    from selenium.webdriver.common.by import By

    payloads = list(PAYLOADS.values())
    figure = next(f for f in figures() if f.source_id == "work_orders")
    with driver() as browser:
        log_in(browser, server)

        browser.get(f"{server.url}/reportpipe/?year={YEAR}")
        assert_inert(browser, "the operator's page", payloads)
        validations = [a.get_attribute("href") for a in
                       browser.find_elements(By.CSS_SELECTOR, "section.rejected-month h3 a")]
        index = browser.find_element(By.PARTIAL_LINK_TEXT, "Data Docs").get_attribute("href")
        assert len(validations) == 2

        browser.get(f"{server.url}/reportpipe/figures/{figure.figure_id}?year={YEAR}")
        assert_inert(browser, "the explain page", [])

        browser.get(index)
        assert_inert(browser, "the Data Docs index", [])
        for url in validations:
            browser.get(url)
            page = urllib.parse.unquote(url.rsplit("/", 4)[-3])  # the run name: month and file
            text = assert_inert(browser, page, payloads)
            assert "违法类型" in text if "处罚案件" in page else "来源渠道" in text
            # Its own scripts ran (bootstrap-table drew the tables), in an origin of its own.
            assert browser.execute_script("return document.querySelectorAll('.bootstrap-table').length") > 0
            assert browser.execute_script("return self.origin") == "null"
            assert browser.execute_script("try { return document.cookie } catch (e) { return e.name }") \
                == "SecurityError"


def test_every_page_says_what_the_browser_may_do(server):
    from lxml import html

    token = server.token()
    _, body = server.get(f"/reportpipe/?year={YEAR}", token)
    (index,) = html.fromstring(body).xpath("//nav//a[contains(., 'Data Docs')]/@href")
    for path in (f"/reportpipe/?year={YEAR}", f"/reportpipe/figures/orders_zhengtong?year={YEAR}"):
        headers = server.headers(path, token)
        assert headers["X-Content-Type-Options"] == "nosniff"
        # Only the page's own script file: none inline, no event handler, none from elsewhere.
        policy = dict(d.strip().split(" ", 1) for d in headers["Content-Security-Policy"].split(";"))
        assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'", policy
    headers = server.headers(f"/reportpipe/{index}", token)
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = dict(d.strip().split(" ", 1) for d in headers["Content-Security-Policy"].split(";"))
    # Its own scripts run, in an opaque origin (no allow-same-origin), and nothing is sent anywhere.
    assert policy["sandbox"] == "allow-scripts" and policy["connect-src"] == "'none'", policy


def test_the_alert_for_a_hostile_misnamed_file_is_inert_in_a_browser(warehouse, tmp_path, monkeypatch):
    """The ingest DAG's wait fails on the misnamed file at once; its alert e-mail names it, as text."""
    from airflow.sdk.exceptions import AirflowFailException

    from reportpipe.orchestration.alerts import on_failure
    from reportpipe.orchestration.sensors import ExportSensor

    inbox = tmp_path / "inbox"
    (inbox / "work_orders").mkdir(parents=True)
    shutil.copy(warehouse.inbox / "work_orders" / MISNAMED, inbox / "work_orders")
    monkeypatch.setenv("REPORTPIPE_INBOX", str(inbox))
    ti = SimpleNamespace(dag_id="ingest_work_orders", task_id="wait_for_export", try_number=1)
    context = {"data_interval_start": pendulum.datetime(YEAR, 1, 1, tz="Asia/Shanghai"), "params": {"month": None},
               "ti": ti, "run_id": "scheduled__x"}
    with pytest.raises(AirflowFailException) as failed:
        ExportSensor(task_id="wait_for_export", source_id="work_orders", office_id="jiaodaokou", timeout=timedelta(hours=1)).execute(context)
    with mailbox(monkeypatch) as received:
        on_failure({**context, "exception": failed.value})
        body = html_part(received())
    page = tmp_path / "alert.html"
    page.write_text(f"<!doctype html><meta charset=utf-8><body>{body}</body>", encoding="utf-8")
    with driver() as browser:
        browser.get(page.as_uri())
        assert_inert(browser, "the alert e-mail", [MISNAMED])
