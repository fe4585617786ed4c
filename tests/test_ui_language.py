"""The operator's page in the language of the Airflow UI (简体中文 or English), and what it says of the
exports a month's ingest runs still wait for. In-process, the login waived (tests/test_ui.py logs in)."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from lxml import html

YEAR = 2023


@pytest.fixture(scope="module")
def client(demo_warehouse, tmp_path_factory):
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.testclient import TestClient

    from reportpipe.ui.app import app, require_login

    warehouse = tmp_path_factory.mktemp("ui-language") / "warehouse"
    shutil.copytree(demo_warehouse, warehouse, symlinks=True)
    app.dependency_overrides[require_login] = lambda: None
    app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(username="operator", role="viewer")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPORTPIPE_WAREHOUSE", str(warehouse))
        yield TestClient(app)
    app.dependency_overrides.clear()


def test_a_chinese_browser_reads_the_page_in_chinese_and_others_in_english(client):
    chinese = html.fromstring(client.get(f"/?year={YEAR}", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text)
    english = html.fromstring(client.get(f"/?year={YEAR}", headers={"Accept-Language": "en-GB"}).text)
    assert chinese.get("lang") == "zh-CN" and english.get("lang") == "en"
    assert chinese.xpath("string(//h1)") == f"报告数据状态 {YEAR}" and english.xpath("string(//h1)") == f"Report status {YEAR}"
    legend = chinese.xpath("string(//p[@class='legend'])")
    assert "已载入第 N 版" in legend and "loaded" not in legend
    # Every cell's state still names its CSS class, whatever the language.
    assert {s.get("class") for s in chinese.xpath("//p[@class='legend']/span")} == \
        {s.get("class") for s in english.xpath("//p[@class='legend']/span")}


def test_the_language_asked_for_wins_and_is_remembered(client):
    answer = client.get(f"/?year={YEAR}&lang=zh-CN", headers={"Accept-Language": "en"})
    assert html.fromstring(answer.text).get("lang") == "zh-CN"
    assert answer.cookies.get("reportpipe_lang") == "zh-CN"
    again = client.get(f"/figures/orders_zhengtong?year={YEAR}", headers={"Accept-Language": "en"})
    assert html.fromstring(again.text).get("lang") == "zh-CN"
    client.cookies.clear()


def test_the_explain_page_gives_the_caliber_in_prose_before_the_machine_definition(client):
    from reportpipe.contracts import figures

    figure = next(f for f in figures() if f.figure_id == "orders_zhengtong")
    doc = html.fromstring(client.get(f"/figures/orders_zhengtong?year={YEAR}&lang=zh-CN").text)
    client.cookies.clear()
    headings = [h.text_content() for h in doc.xpath("//h2")]
    assert headings[0] == "口径" and headings[1].startswith("计算方法")
    assert doc.xpath("string(//p[@id='caliber'])") == figure.caliber
    assert doc.xpath("string(//pre[@id='explain'])").startswith(f"{figure.figure_id}: {figure.label}")


def test_the_page_says_which_exports_this_months_runs_wait_for_and_when_they_are_due(client, monkeypatch):
    import reportpipe.statistics.status as status
    from reportpipe.contracts import sources

    real = status.awaited
    # In January 2024 the demo has delivered every export of December 2023.
    monkeypatch.setattr("reportpipe.ui.app.awaited", lambda con: real(con, today=dt.date(2024, 1, 5)))
    doc = html.fromstring(client.get(f"/?year={YEAR}", headers={"Accept-Language": "zh-CN"}).text)
    assert doc.xpath("//ul[@id='awaited']/li") == []  # the demo delivered every export of December
    monkeypatch.setattr("reportpipe.ui.app.awaited", lambda con: real(con, today=dt.date(2024, 2, 12)))
    doc = html.fromstring(client.get(f"/?year={YEAR}", headers={"Accept-Language": "zh-CN"}).text)
    items = {li.get("data-source"): li.text_content() for li in doc.xpath("//ul[@id='awaited']/li")}
    assert set(items) == set(sources())  # January 2024: nothing delivered
    work_orders = sources()["work_orders"]
    assert f"2024-01: 截止 2024-02-{work_orders.history.due_day:02d}" in items["work_orders"]
    assert all(("已逾期" in text) == (12 > sources()[s].history.due_day) for s, text in items.items())
