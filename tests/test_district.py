"""One deployment, a district of offices: each office its own rows, figures and outputs; the district adds up.

The district below is small enough to work out by hand. 交道口 and 安定门 deliver January 2024
(with the same inspection and mediation ids: each office numbers its own records); 北新桥 delivers
nothing yet; a folder of an office nobody declared sits in the inbox.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from tests.district import (
    ANDINGMEN_INSPECTIONS,
    ANDINGMEN_MEDIATIONS,
    JIAODAOKOU_INSPECTIONS,
    JIAODAOKOU_MEDIATIONS,
    OFFICES,
    YEAR,
    offices_file,
    write_inspections,
    write_mediations,
)
from tests.helpers import TEST_PII_KEY, cli, open_read_only


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> SimpleNamespace:
    """The district above, run once by `reportpipe run`. Read it; never change it."""
    folder = tmp_path_factory.mktemp("district")
    inbox = folder / "inbox"
    write_inspections(inbox, "jiaodaokou", 1, JIAODAOKOU_INSPECTIONS)
    write_mediations(inbox, "jiaodaokou", 1, JIAODAOKOU_MEDIATIONS)
    write_inspections(inbox, "andingmen", 1, ANDINGMEN_INSPECTIONS)
    write_mediations(inbox, "andingmen", 1, ANDINGMEN_MEDIATIONS)
    # 安定门's February names a community of 交道口: outside its own set, as any other value would be.
    write_inspections(inbox, "andingmen", 2, [("垃圾分类", "交东社区", 1, 1, 100)])
    write_inspections(inbox, "xicheng", 1, JIAODAOKOU_INSPECTIONS)  # no such office declared
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPORTPIPE_PII_KEY", TEST_PII_KEY)
        mp.setenv("REPORTPIPE_OFFICES", str(offices_file(folder / "offices.yaml")))
        run = cli("run", "--inbox", inbox, "--warehouse", folder / "warehouse")
    assert run.crash is None, run.crash
    return SimpleNamespace(folder=folder, inbox=inbox, warehouse=folder / "warehouse", run=run)


def figures(database: Path, office_id: str) -> dict[str, tuple]:
    """figure_id → (value, is_provisional, provisional_reason) of an office's or the district's rows."""
    with open_read_only(database) as con:
        return {f: (v, p, r) for f, v, p, r in con.execute(
            "SELECT figure_id, value, is_provisional, provisional_reason FROM report_figures"
            " WHERE year = ? AND office_id = ?", [YEAR, office_id]).fetchall()}


def test_each_office_has_its_figures_and_the_district_adds_them_up(district):
    report = district.warehouse / "report.duckdb"
    a, b, d = (figures(report, o) for o in ("jiaodaokou", "andingmen", "dongcheng"))
    # A count: rows of each office, added.
    assert (a["garbage_inspections"][0], b["garbage_inspections"][0], d["garbage_inspections"][0]) == (2, 1, 3)
    # Sums: of each office's rows, added.
    assert (a["garbage_leaflets"][0], b["garbage_leaflets"][0], d["garbage_leaflets"][0]) == (15, 7, 22)
    assert (a["catering_hazards_fixed"][0], b["catering_hazards_fixed"][0], d["catering_hazards_fixed"][0]) == (3, 2, 5)
    # A rate: 1 of 1 and 1 of 3 cases settled are 2 of 4 in the district, 50 %: not 133.3 (summed) nor 66.7 (averaged).
    assert (a["mediation_success_rate"][0], b["mediation_success_rate"][0]) == (100.0, 33.3)
    assert d["mediation_success_rate"][0] == 50.0
    assert d["mediations_handled"][0] == 4
    with open_read_only(report) as con:
        by_community = dict(con.execute(
            "SELECT community, value FROM report_figures_by_community WHERE office_id = 'dongcheng' AND year = ?"
            " AND figure_id = 'garbage_inspections'", [YEAR]).fetchall())
    assert by_community == {"交东社区": 1, "菊儿社区": 1, "国子监社区": 1, "五道营社区": 0}


def test_a_district_figure_is_provisional_naming_each_office_that_is(district):
    d = figures(district.warehouse / "report.duckdb", "dongcheng")
    value, provisional, reason = d["garbage_inspections"]
    assert provisional
    assert "交道口街道: 1 of 12 months loaded" in reason and "安定门街道: " in reason
    assert "北新桥街道: 0 of 12 months loaded" in reason  # delivered nothing: late, and only it waits


def test_a_value_of_another_office_is_rejected_and_ids_repeat_across_offices(district):
    assert district.run.code == 1
    rejected = district.run.err
    assert "检查记录_202402.csv row 2, column 所属社区: '交东社区' is not one of 国子监社区、五道营社区" in rejected
    with open_read_only(district.warehouse / "report.duckdb") as con:
        loaded = con.execute("SELECT office_id, source_id, strftime(month, '%Y-%m') FROM loaded_months ORDER BY ALL").fetchall()
        ids = con.execute("SELECT office_id, inspection_id FROM stg_inspections ORDER BY ALL").fetchall()
    assert loaded == [("andingmen", "inspections", "2024-01"), ("andingmen", "mediations", "2024-01"),
                      ("jiaodaokou", "inspections", "2024-01"), ("jiaodaokou", "mediations", "2024-01")]
    assert [i for o, i in ids if o == "andingmen"] == ["I-1-1", "I-1-2"]
    assert [i for o, i in ids if o == "jiaodaokou"] == ["I-1-1", "I-1-2", "I-1-3"]


def test_a_folder_of_no_declared_office_is_named_and_left_alone(district):
    assert "xicheng" in district.run.err and "not a declared office" in district.run.err
    assert not (district.warehouse / "offices" / "xicheng").exists()


def test_each_office_gets_a_published_file_of_its_own_rows_only(district):
    for office in ("jiaodaokou", "andingmen"):
        with open_read_only(district.warehouse / "offices" / office / "report.duckdb") as con:
            tables = [t for t, in con.execute(
                "SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = 'office_id'"
                " AND database_name = current_database()").fetchall()]
            assert {"report_figures", "report_figures_monthly", "stg_inspections", "fct_inspections"} <= set(tables)
            for table in tables:
                assert {o for o, in con.execute(f"SELECT DISTINCT office_id FROM {table}").fetchall()} <= {office}, table


def test_every_table_of_the_district_file_says_whose_rows_they_are(district):
    with open_read_only(district.warehouse / "report.duckdb") as con:
        tables = {t for t, in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() UNION ALL"
            " SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal").fetchall()}
        with_office = {t for t, in con.execute("SELECT table_name FROM duckdb_columns() WHERE column_name = 'office_id'"
                                               " AND database_name = current_database()").fetchall()}
        offices = {o for o, in con.execute("SELECT DISTINCT office_id FROM report_figures").fetchall()}
        comment = con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'stg_inspections'"
                              " AND column_name = 'office_id'").fetchone()[0]
    assert tables - with_office == {"publication"}
    assert offices == {"dongcheng", "jiaodaokou", "andingmen"}
    assert comment.startswith("单位编号")


def test_each_office_writes_its_own_report_under_its_name(district, monkeypatch):
    """As the statistics DAG writes them: each office's outputs from its own published file."""
    from reportpipe.outputs.reports import publish_reports

    monkeypatch.setenv("REPORTPIPE_OFFICES", str(district.folder / "offices.yaml"))
    written = [p for office in OFFICES for p in publish_reports(district.warehouse, office["id"])]
    reports = district.warehouse / "reports"
    assert written == [reports / "jiaodaokou" / str(YEAR), reports / "andingmen" / str(YEAR)]  # 北新桥: no figures yet
    text = (reports / "andingmen" / str(YEAR) / f"report_{YEAR}_text.md").read_text(encoding="utf-8")
    assert text.startswith(f"# 安定门街道{YEAR}年法治政府建设年度情况报告\n")
    assert "交道口" not in text and "安定门街道办事处" in text
    # A figure's name of 交道口's own (its forum's brand) is 交道口's alone: 安定门's is the generic one.
    forum = OFFICES[0]["labels"]["business_forums"]
    own = (reports / "jiaodaokou" / str(YEAR) / f"report_{YEAR}_text.md").read_text(encoding="utf-8")
    assert re.search(rf"举办了\d+期(\[p\])?{forum}，深入听取企业诉求", own), own
    assert re.search(r"举办了\d+期(\[p\])?政企交流活动，深入听取企业诉求", text), text
    labels = dict(duckdb.connect(str(district.warehouse / "report.duckdb"), read_only=True).execute(
        "SELECT office_id, label FROM report_figures WHERE figure_id = 'business_forums'").fetchall())
    assert labels == {"dongcheng": "政企交流活动", "jiaodaokou": forum, "andingmen": "政企交流活动"}
    for office, label in (("jiaodaokou", forum), ("andingmen", "政企交流活动")):  # and explain says it so
        explained = cli("explain", "business_forums", "--year", YEAR, "--office", office, "--warehouse", district.warehouse)
        assert explained.out.startswith(f"business_forums: {label}\n"), explained.output


def test_an_office_whose_warehouse_is_broken_stops_no_other(district, tmp_path, monkeypatch):
    """安定门's work.duckdb is damaged; 交道口's February still loads and the district is published with it."""
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    shutil.copytree(district.inbox, inbox)
    shutil.copytree(district.warehouse, warehouse, symlinks=True)
    (warehouse / "offices" / "andingmen" / "work.duckdb").write_bytes(b"not a database" * 1000)
    write_inspections(inbox, "jiaodaokou", 2, [("垃圾分类", "府学社区", 0, 0, 4)])
    monkeypatch.setenv("REPORTPIPE_OFFICES", str(offices_file(tmp_path / "offices.yaml")))
    run = cli("run", "--inbox", inbox, "--warehouse", warehouse)
    assert run.code == 3, run.output
    assert "andingmen (安定门街道)" in run.err and "cannot be opened as a DuckDB database" in run.err
    report = warehouse / "report.duckdb"
    assert figures(report, "jiaodaokou")["garbage_inspections"][0] == 3
    assert figures(report, "andingmen")["garbage_inspections"][0] == 1  # as last published
    assert figures(report, "dongcheng")["garbage_inspections"][0] == 4


def test_a_single_office_may_keep_its_folder_in_the_inbox(tmp_path):
    write_inspections(tmp_path / "inbox", "jiaodaokou", 1, [("垃圾分类", "交东社区", 2, 1, 10)])
    run = cli("run", "--inbox", tmp_path / "inbox", "--warehouse", tmp_path / "warehouse")
    assert run.code == 0, run.output
    assert figures(tmp_path / "warehouse" / "report.duckdb", "jiaodaokou")["garbage_inspections"][0] == 1


@pytest.mark.parametrize("broken, named", [
    ("offices: []", "offices"),
    ("offices:\n  - {id: Bad-Id, name: 某街道, communities: [某社区]}", "offices → 0 → id"),
    ("district: {id: a, name: 区}\noffices:\n  - {id: a, name: 某街道, communities: [某社区]}", "a more than once"),
    ("offices:\n  - {id: a, name: 某街道, communities: [某社区, 某社区]}", "communities must be distinct"),
    ("offices:\n  - {id: a, name: 某街道, communities: [某社区], labels: {forums: 会客厅}}",
     "offices → 0 → labels → forums: no figure 'forums'"),
])
def test_a_broken_offices_file_is_refused_by_name(tmp_path, monkeypatch, broken, named):
    path = tmp_path / "offices.yaml"
    path.write_text(broken, encoding="utf-8")
    monkeypatch.setenv("REPORTPIPE_OFFICES", str(path))
    (tmp_path / "inbox").mkdir()
    run = cli("run", "--inbox", tmp_path / "inbox", "--warehouse", tmp_path / "warehouse")
    assert run.code == 2 and str(path) in run.err and named in run.err, run.output


def test_the_demo_district_gives_each_office_its_own_communities_and_volumes(tmp_path):
    import csv

    path = offices_file(tmp_path / "offices.yaml")
    run = cli("demo-inbox", tmp_path / "inbox", "--offices", path)
    assert run.code == 0, run.output
    assert sorted(p.name for p in (tmp_path / "inbox").iterdir()) == sorted(o["id"] for o in OFFICES)
    seen, volumes = {}, {}
    for office in OFFICES:
        rows = []
        for file in sorted((tmp_path / "inbox" / office["id"] / "work_orders").glob("*.csv")):
            with file.open(encoding="utf-8") as f:
                rows += list(csv.DictReader(f))
        seen[office["id"]] = {r["所属社区"].strip(" \u3000") for r in rows}
        volumes[office["id"]] = len(rows)
    for office in OFFICES:
        assert seen[office["id"]] <= set(office["communities"]), office["id"]
    assert len(set(volumes.values())) == len(OFFICES)


def test_the_district_file_is_replaced_whole_and_unchanged_offices_are_not_rewritten(district, tmp_path, monkeypatch):
    """Publishing again from the same offices' files gives the same content, and only an office's changed
    months are written again."""
    from reportpipe.statistics.district import publish_district

    warehouse = tmp_path / "warehouse"
    shutil.copytree(district.warehouse, warehouse, symlinks=True)
    monkeypatch.setenv("REPORTPIPE_OFFICES", str(offices_file(tmp_path / "offices.yaml")))
    before = figures(warehouse / "report.duckdb", "dongcheng")
    with open_read_only(warehouse / "report.duckdb") as con:
        published_at = con.execute("SELECT published_at FROM publication").fetchone()
    publish_district(warehouse)
    assert figures(warehouse / "report.duckdb", "dongcheng") == before
    with open_read_only(warehouse / "report.duckdb") as con:
        assert con.execute("SELECT published_at FROM publication").fetchone() == published_at
    # An office's file that cannot be read: the district is published without it, and says so.
    (warehouse / "offices" / "andingmen" / "report.duckdb").write_bytes(b"damaged")
    publish_district(warehouse)
    d = figures(warehouse / "report.duckdb", "dongcheng")
    assert d["garbage_inspections"][0] == 2 and "安定门街道: 0 of 12 months loaded" in d["garbage_inspections"][2]
    with duckdb.connect(str(warehouse / "report.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM stg_inspections WHERE office_id = 'andingmen'").fetchone() == (0,)


def test_offices_load_side_by_side_with_no_lock_over_the_warehouse(district, tmp_path, monkeypatch):
    """While one office's warehouse is held (a load of its own), another office's load goes through at once;
    only the held office's waits. Airflow's pool gives each office a slot."""
    import datetime as dt

    from reportpipe.orchestration.pool import pool_slots
    from reportpipe.pipeline import ingest_month
    from reportpipe.warehouse.session import WarehouseError, writer

    warehouse = tmp_path / "warehouse"
    shutil.copytree(district.warehouse, warehouse, symlinks=True)
    monkeypatch.setenv("REPORTPIPE_OFFICES", str(offices_file(tmp_path / "offices.yaml")))
    assert pool_slots() == len(OFFICES)
    march = {o: write_inspections(tmp_path / "inbox", o, 3, [("垃圾分类", c, 0, 0, 1)])
             for o, c in (("jiaodaokou", "府学社区"), ("andingmen", "国子监社区"))}
    with writer(warehouse / "offices" / "jiaodaokou"):  # 交道口's own load, in progress
        loaded = ingest_month("inspections", dt.date(YEAR, 3, 1), [march["andingmen"]], warehouse,
                              wait_s=0, office_id="andingmen")
        assert [o.status for o in loaded] == ["loaded"]
        with pytest.raises(WarehouseError, match="jiaodaokou is in use"):
            ingest_month("inspections", dt.date(YEAR, 3, 1), [march["jiaodaokou"]], warehouse,
                         wait_s=0, office_id="jiaodaokou")


def test_the_district_compares_its_offices_figure_by_figure(district, monkeypatch):
    import openpyxl

    from reportpipe.outputs.comparison import publish_comparison

    monkeypatch.setenv("REPORTPIPE_OFFICES", str(district.folder / "offices.yaml"))
    [folder] = publish_comparison(district.warehouse)
    assert folder == district.warehouse / "reports" / "dongcheng" / str(YEAR)
    book = openpyxl.load_workbook(folder / f"district_{YEAR}_comparison.xlsx")
    assert book["封面"]["A1"].value == f"东城区{YEAR}年法治政府建设年度情况：各街道比较"
    assert book.sheetnames[3:] == ["一（一）", "一（二）", "一（四）", "一（五）", "一（六）", "一（七）", "一（八）"]
    rows = [[c.value for c in r] for ws in book.worksheets[3:] for r in ws.iter_rows()]
    # The district first, then each office as declared: value, share of the district, markers.
    garbage = [(r[1], r[2], r[4], r[5]) for r in rows if r[-1] == "garbage_inspections"]
    assert garbage == [("东城区", 3, 100, "[p]"), ("交道口街道", 2, 66.7, "[p]"), ("安定门街道", 1, 33.3, "[p]"),
                       ("北新桥街道", "[x]", "[x]", None)]
    # A rate is the district's own, and has no share.
    rate = [(r[1], r[2], r[4]) for r in rows if r[-1] == "mediation_success_rate"]
    assert rate == [("东城区", 50, "[z]"), ("交道口街道", 100, "[z]"), ("安定门街道", 33.3, "[z]"), ("北新桥街道", "[x]", "[z]")]
    # A chart per section's first count or sum, a bar per office.
    charts = sorted(p.name for p in folder.glob("*.png"))
    assert len(charts) == len(book.sheetnames[3:]) and f"district_{YEAR}_orders_zhengtong.png" in charts
    assert all((folder / c).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for c in charts)


def test_reportpipe_report_for_the_district_writes_its_comparison(district, tmp_path, monkeypatch):
    """`reportpipe report --office <district>`: the comparison the statistics DAG writes, from the command line."""
    import openpyxl

    from reportpipe.outputs.comparison import publish_comparison

    monkeypatch.setenv("REPORTPIPE_OFFICES", str(district.folder / "offices.yaml"))
    run = cli("report", "--office", "dongcheng", "--year", YEAR, "--out", tmp_path / "out",
              "--warehouse", district.warehouse)
    assert run.code == 0, run.output
    written = [Path(line) for line in run.out.splitlines()]
    [folder] = publish_comparison(district.warehouse)
    assert sorted(p.name for p in written) == sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))

    def cells(path: Path) -> list:
        book = openpyxl.load_workbook(path)
        return [[c.value for c in r] for ws in book.worksheets[1:] for r in ws.iter_rows()]  # the cover says when

    assert cells(written[0]) == cells(folder / written[0].name)
    missing = cli("report", "--office", "dongcheng", "--year", YEAR - 1, "--out", tmp_path / "none",
                  "--warehouse", district.warehouse)
    assert missing.code == 1 and f"东城区 has no figures of {YEAR - 1}" in missing.err
