"""Reconciliation blocks the publication of figures that contradict each other."""

from __future__ import annotations

import duckdb
import pytest

from reportpipe.contracts import figures
from reportpipe.pipeline import run
from reportpipe.statistics import reconcile
from reportpipe.statistics.figures import NO_COMMUNITY
from tests.helpers import MARCH_LAWSUITS, write_litigation


def report_tables(values: dict[str, float], monthly_factor: float = 1.0,
                  communities: dict[str, dict[str, float]] | None = None) -> duckdb.DuckDBPyConnection:
    """report_figures for 2023 with the given values (others 0), a one-month breakdown, and the
    community breakdown given (figure_id → community → value)."""
    con = duckdb.connect()
    rows = [(2023, f.figure_id, values.get(f.figure_id, 0.0), f.unit) for f in figures()]
    con.execute("CREATE TABLE report_figures (year INTEGER, figure_id VARCHAR, value DOUBLE, unit VARCHAR)")
    con.executemany("INSERT INTO report_figures VALUES (?, ?, ?, ?)", rows)
    con.execute(f"CREATE TABLE report_figures_monthly AS SELECT year, '2023-01' AS month, figure_id, value * {monthly_factor} AS value FROM report_figures")
    con.execute("CREATE TABLE report_figures_by_community (year INTEGER, figure_id VARCHAR, community VARCHAR, value DOUBLE)")
    for figure_id, by in (communities or {}).items():
        con.executemany("INSERT INTO report_figures_by_community VALUES (2023, ?, ?, ?)",
                        [(figure_id, c, v) for c, v in by.items()])
    return con


def test_consistent_figures_pass():
    assert reconcile.failures(report_tables({"cases_general": 2, "cases_simple": 1, "cases_closed": 3})) == []


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"cases_general": 2, "cases_simple": 1, "cases_closed": 4}, "case files by procedure"),
        ({"lawsuits": 1, "lawsuits_lost": 1, "lawsuits_pending": 1}, "lawsuit outcomes"),
        ({"disputes_received": 3, "disputes_resolved": 4}, "resolved disputes"),
        ({"mediation_success_rate": 100.5}, "a rate above 100"),
        ({"extinguishers": -1}, "negative"),
    ],
)
def test_each_contradiction_is_named(values, expected):
    broken = reconcile.failures(report_tables(values))
    assert len(broken) == 1 and expected in broken[0]


def test_annual_figure_must_equal_its_months():
    broken = reconcile.failures(report_tables({"extinguishers": 10}, monthly_factor=0.5))
    assert broken == ["extinguishers 2023: 10 differs from the sum of its months 5"]


def test_communities_of_a_count_must_add_up_to_it_and_those_of_a_rate_need_not():
    orders = {"府学社区": 5, "福祥社区": 3, NO_COMMUNITY: 2}
    assert reconcile.failures(report_tables({"orders_zhengtong": 10}, communities={"orders_zhengtong": orders})) == []
    broken = reconcile.failures(report_tables({"orders_zhengtong": 11}, communities={"orders_zhengtong": orders}))
    assert broken == ["orders_zhengtong 2023: 11 differs from the sum of its communities 10"]
    rates = {"府学社区": 90.0, "福祥社区": 80.0}
    assert reconcile.failures(report_tables({"mediation_success_rate": 85.0}, communities={"mediation_success_rate": rates})) == []


def test_a_community_breakdown_that_loses_rows_blocks_the_publication(demo_inbox, tmp_path, monkeypatch):
    """Through the real refresh: communities that drop the rows without one no longer add up."""
    import shutil

    from reportpipe.statistics import figures as report_figures

    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    (inbox / "supplies").mkdir(parents=True)
    shutil.copy(demo_inbox / "supplies" / "物资发放_202301.csv", inbox / "supplies")
    run(inbox, wh)
    before = (wh / "report.duckdb").read_bytes()
    real = report_figures.community_sql
    monkeypatch.setattr(report_figures, "community_sql",
                        lambda figure, year=None: real(figure, year).replace("WHERE (", "WHERE community IS NOT NULL AND ("))
    shutil.copy(demo_inbox / "supplies" / "物资发放_202302.csv", inbox / "supplies")
    with pytest.raises(reconcile.ReconciliationError, match="differs from the sum of its communities"):
        run(inbox, wh)
    assert (wh / "report.duckdb").read_bytes() == before


def test_failed_reconciliation_leaves_the_published_file_byte_identical(tmp_path, monkeypatch):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    run(inbox, wh)
    before = (wh / "report.duckdb").read_bytes()
    write_litigation(inbox, "复议诉讼_202304.csv", [["(2023)京0101行初9号", "2023-04-02", "行政诉讼", "", "败诉", "否"]])
    monkeypatch.setattr(reconcile, "checks", lambda: [("lawsuits never lost", "lawsuits_lost = 0")])
    with pytest.raises(reconcile.ReconciliationError, match="lawsuits never lost"):
        run(inbox, wh)
    assert (wh / "report.duckdb").read_bytes() == before
