"""Who sees what on the operator's page: each user only the offices the offices file grants them.

Two offices of a district, each with a month of lawsuits and its own Data Docs; alice is granted
交道口, bob 安定门, carol the district. A real api-server and headless Chromium: alice logs in through
Airflow's login page and reads her office; 安定门's grid, explain and Data Docs answer her 403, and so do
the district's comparison and its files; carol reads the comparison with its charts.
"""

from __future__ import annotations

import pytest
import yaml
from lxml import html

from tests.api_server import ApiServer
from tests.browser import driver, log_in
from tests.helpers import LITIGATION_HEADER, MARCH_LAWSUITS, TEST_PII_KEY, cli, read_report, write_csv

OFFICES = {
    "district": {"id": "dongcheng", "name": "东城区", "users": ["carol"]},
    "offices": [
        {"id": "jiaodaokou", "name": "交道口街道", "communities": ["交东社区"], "users": ["alice"]},
        {"id": "andingmen", "name": "安定门街道", "communities": ["国子监社区"], "users": ["bob"]},
    ],
}
FIGURE = "lawsuits"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("access")
    offices = root / "offices.yaml"
    offices.write_text(yaml.safe_dump(OFFICES, allow_unicode=True), encoding="utf-8")
    for office in ("jiaodaokou", "andingmen"):
        write_csv(root / "inbox" / office / "litigation" / "复议诉讼_202303.csv", LITIGATION_HEADER, MARCH_LAWSUITS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPORTPIPE_PII_KEY", TEST_PII_KEY)
        mp.setenv("REPORTPIPE_OFFICES", str(offices))
        assert cli("run", "--inbox", root / "inbox", "--warehouse", root / "warehouse").code == 0
        from reportpipe.outputs.comparison import publish_comparison  # as the statistics DAG's last task

        assert publish_comparison(root / "warehouse")
    (root / "api").mkdir()
    api = ApiServer(root / "api", {"REPORTPIPE_WAREHOUSE": str(root / "warehouse"), "REPORTPIPE_OFFICES": str(offices)},
                    users={"alice": "viewer", "bob": "viewer", "carol": "viewer", "admin": "admin"})
    api.start()
    api.warehouse = root / "warehouse"
    yield api
    api.stop()


def links(body: str, xpath: str) -> list[str]:
    return html.fromstring(body).xpath(xpath)


def test_a_user_sees_only_the_offices_granted(server):
    alice, bob, carol, admin = (server.token(u) for u in ("alice", "bob", "carol", "admin"))
    own, other = "/reportpipe/?office=jiaodaokou", "/reportpipe/?office=andingmen"
    assert server.get(own, alice)[0] == 200
    status, body = server.get(other, alice)
    assert status == 403 and "alice is not granted the office andingmen" in body
    assert server.get(f"/reportpipe/figures/{FIGURE}?year=2023&office=andingmen", alice)[0] == 403
    assert server.get(f"/reportpipe/figures/{FIGURE}?year=2023&office=jiaodaokou", alice)[0] == 200
    # Without naming one, the page is the user's own office; only a district user or an admin may pick another.
    assert links(server.get("/reportpipe/", bob)[1], "//nav[@id='offices']//a/text()") == []
    assert server.get("/reportpipe/", bob)[0] == 200 and server.get(own, bob)[0] == 403
    for everyone in (carol, admin):
        assert links(server.get("/reportpipe/", everyone)[1], "//nav[@id='offices']//a/text()") == ["交道口街道", "安定门街道"]
        assert [server.get(p, everyone)[0] for p in (own, other)] == [200, 200]
    # An office's Data Docs open only through a link signed for that office: alice's link is no key to 安定门's.
    [docs] = links(server.get(own, alice)[1], "//nav//a[contains(., 'Data Docs')]/@href")
    assert server.get(f"/reportpipe/{docs}")[0] == 200
    assert server.get(f"/reportpipe/{docs}".replace("/jiaodaokou/", "/andingmen/"))[0] == 403
    [theirs] = links(server.get(other, bob)[1], "//nav//a[contains(., 'Data Docs')]/@href")
    assert theirs.startswith("data-docs/andingmen/") and server.get(f"/reportpipe/{theirs}")[0] == 200


def test_in_a_browser_alice_reads_her_office_and_is_refused_the_other(server):
    from selenium.webdriver.common.by import By

    with driver() as browser:
        log_in(browser, server, "alice")
        browser.get(server.url + "/reportpipe/?office=jiaodaokou&year=2023")
        own = browser.find_element(By.CSS_SELECTOR, "tr[data-source='litigation'] td[data-month='2023-03'] .label").text
        [docs] = [a.get_attribute("href") for a in browser.find_elements(By.PARTIAL_LINK_TEXT, "Data Docs")]
        browser.get(server.url + "/reportpipe/?office=andingmen&year=2023")
        refused = browser.find_element(By.TAG_NAME, "body").text
        browser.get(docs.replace("/jiaodaokou/", "/andingmen/"))
        refused_docs = browser.find_element(By.TAG_NAME, "body").text
    assert own == "v1"
    assert "alice is not granted the office andingmen" in refused and "v1" not in refused
    assert "not a link to the Data Docs" in refused_docs


def test_the_district_compares_its_offices_for_its_users_alone(server):
    alice, bob, carol, admin = (server.token(u) for u in ("alice", "bob", "carol", "admin"))
    page = "/reportpipe/district?year=2023"
    for office_user in (alice, bob):
        status, body = server.get(page, office_user)
        assert status == 403 and "is not granted the district dongcheng" in body
        assert server.get("/reportpipe/district/2023/district_2023_comparison.xlsx", office_user)[0] == 403
        assert links(server.get("/reportpipe/", office_user)[1], "//a[@id='district']") == []
    figures = {office: dict(read_report(server.warehouse, "SELECT figure_id, value FROM report_figures"
                                        " WHERE year = 2023 AND office_id = ?", [office]))
               for office in ("dongcheng", "jiaodaokou", "andingmen")}
    for district_user in (carol, admin):
        status, body = server.get(page, district_user)
        assert status == 200
        row = html.fromstring(body).xpath(f"//table[@id='comparison']//tr[@data-figure='{FIGURE}']")[0]
        values = {td.get("data-office"): td.xpath("string(.//span[@class='value'])") for td in row.xpath("td[@data-office]")}
        assert values == {o: f"{v[FIGURE]:g}件" for o, v in figures.items()}
        shares = [s.strip() for s in row.xpath(".//span[contains(@class, 'share')]/text()")]
        assert shares == [f"{100 * figures[o][FIGURE] / figures['dongcheng'][FIGURE]:.1f}% of it"
                          for o in ("jiaodaokou", "andingmen")]
        assert links(server.get("/reportpipe/", district_user)[1], "//a[@id='district']/@href") == ["district"]
        [workbook] = links(body, "//a[@id='workbook']/@href")
        download = server.headers(f"/reportpipe/{workbook}", district_user)
        assert download["content-disposition"].startswith("attachment")
        assert links(body, "//figure/img/@src"), "no chart of the headline figures"
    # Nothing outside the year's comparison folder is served through it.
    assert server.get("/reportpipe/district/2023/..%2F..%2Fjiaodaokou%2F2023%2Freport_2023_figures.xlsx", carol)[0] == 404


def test_in_a_browser_carol_reads_the_district_with_its_charts(server):
    from selenium.webdriver.common.by import By

    with driver() as browser:
        log_in(browser, server, "carol")
        browser.get(server.url + "/reportpipe/?office=andingmen&year=2023")
        browser.find_element(By.ID, "district").click()
        cell = browser.find_element(By.CSS_SELECTOR, f"tr[data-figure='{FIGURE}'] td[data-office='dongcheng'] .value").text
        drawn = browser.execute_script(
            "return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    district = read_report(server.warehouse, "SELECT value FROM report_figures WHERE year = 2023 AND office_id ="
                           " 'dongcheng' AND figure_id = ?", [FIGURE])[0][0]
    assert cell == f"{district:g}件"
    assert drawn and all(drawn), drawn
