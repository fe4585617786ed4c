"""History-aware checks (issue 14): a month out of line with its source's past months still loads,
but is flagged; its figures are provisional with the reason until an operator accepts it.

One small hand-made inbox for HISTORY_YEAR (the `history_scenario` fixture), run once through `reportpipe run`:
- work_orders, by 来源渠道 (channel): three ordinary months, then April at a third of their size,
  May without any 网格 order, June with 环保扬尘 orders for the first time; July is never delivered;
- petitions, by 信访形式, a handful of rows a month: April far below the band and without its 来信,
  May far above the band; nothing flagged.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import statistics
from pathlib import Path

import pytest

from reportpipe.contracts import sources
from tests.helpers import (
    HISTORY_CHANNELS,
    HISTORY_PETITION_FORMS,
    HISTORY_PETITIONS,
    HISTORY_WORK_ORDERS,
    HISTORY_YEAR,
    anomaly,
    cli,
    query,
    read_report,
)

DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="module")
def warehouse(history_scenario) -> Path:
    return history_scenario.warehouse


def median(values) -> str:
    return f"{statistics.median(values):,.0f}"


def channel(month: int, name: str) -> int:
    return HISTORY_WORK_ORDERS[month][HISTORY_CHANNELS.index(name)]


def provisional_reasons(warehouse: Path, source_id: str) -> set[str]:
    return {r for r, in read_report(warehouse, "SELECT DISTINCT provisional_reason FROM report_figures"
                                               " WHERE source_id = ? AND year = ?", [source_id, HISTORY_YEAR])}


def test_a_month_a_third_of_its_history_is_flagged_with_the_reason_and_provisional_figures(warehouse):
    band = sources()["work_orders"].history.volume
    total = {m: sum(c) for m, c in HISTORY_WORK_ORDERS.items()}
    assert total[4] < band.low * statistics.median([total[1], total[2], total[3]])  # the scenario is what it says
    expected = [f"{HISTORY_YEAR}-04 work_orders: {total[4]:,} rows, median {median([total[1], total[2], total[3]])}"] + [
        f"{HISTORY_YEAR}-04 work_orders: channel={c} {channel(4, c):,} rows, median {median(channel(m, c) for m in (1, 2, 3))}"
        for c in ("政通", "网格")]
    flagged, accepted = anomaly(warehouse, "work_orders", 4)
    assert (flagged, accepted) == ("; ".join(expected), None)
    # The month is loaded all the same, and every figure of the source says why it is provisional.
    assert read_report(warehouse, "SELECT rows FROM loaded_months WHERE source_id = 'work_orders' AND month = ?",
                       [dt.date(HISTORY_YEAR, 4, 1)]) == [(total[4],)]
    [reason] = provisional_reasons(warehouse, "work_orders")
    assert flagged in reason
    assert read_report(warehouse, "SELECT bool_and(is_provisional) FROM report_figures WHERE source_id = 'work_orders'"
                                  " AND year = ?", [HISTORY_YEAR]) == [(True,)]


def test_a_vanished_and_a_new_category_are_flagged(warehouse):
    before_may = [channel(m, "网格") for m in (1, 2, 3, 4)]
    assert anomaly(warehouse, "work_orders", 5)[0] == \
        f"{HISTORY_YEAR}-05 work_orders: channel=网格 disappeared (median {median(before_may)})"
    assert anomaly(warehouse, "work_orders", 6)[0] == \
        f"{HISTORY_YEAR}-06 work_orders: channel=环保扬尘 appears for the first time ({channel(6, '环保扬尘')} rows)"
    # Ordinary months, and months without three months of history, carry no flag.
    for month in (1, 2, 3):
        assert anomaly(warehouse, "work_orders", month) == (None, None)


def test_a_handful_of_rows_more_or_less_is_not_flagged(warehouse):
    band = sources()["petitions"].history.volume
    total = {m: sum(c) for m, c in HISTORY_PETITIONS.items()}
    history = [total[m] for m in (1, 2, 3)]
    assert statistics.median(history) < band.min_median
    assert total[4] < band.low * statistics.median(history)  # out of the band, but a handful
    assert total[5] > band.high * statistics.median(history + [total[4]])
    assert HISTORY_PETITIONS[4][HISTORY_PETITION_FORMS.index("来信")] == 0  # a handful of 来信 gone: one less, not news
    checked = read_report(warehouse, "SELECT month(month), subject, observed, flagged FROM month_checks"
                                     " WHERE source_id = 'petitions' ORDER BY month, subject NULLS FIRST")
    assert checked == sorted([(m, None, total[m], False) for m in (4, 5)] +
                             [(m, f"petition_form={f}", HISTORY_PETITIONS[m][i], False) for m in (4, 5)
                              for i, f in enumerate(HISTORY_PETITION_FORMS)], key=lambda c: (c[0], c[1] or ""))
    assert provisional_reasons(warehouse, "petitions") == {f"{len(HISTORY_PETITIONS)} of 12 months loaded"}


def test_the_demo_year_raises_no_flag(demo_warehouse):
    checked = read_report(demo_warehouse, "SELECT source_id, subject, flagged, reason FROM month_checks")
    assert [c for c in checked if c[2]] == []
    # …while its categories were checked, not skipped.
    subjects = {(s, subject.split("=")[0]) for s, subject, _, _ in checked if subject}
    assert subjects == {(s.source_id, column) for s in sources().values() for column in s.history.volume.by}
    assert read_report(demo_warehouse, "SELECT count(*) FROM report_figures WHERE year = 2023 AND is_provisional") \
        == [(0,)]


def test_a_rerun_leaves_the_checks_and_the_flags_as_they_were(history_scenario, warehouse, tmp_path):
    from reportpipe.pipeline import run

    inbox = history_scenario.inbox
    copy = tmp_path / "warehouse"
    shutil.copytree(warehouse, copy, symlinks=True)
    state = ("SELECT * EXCLUDE (checked_at) FROM month_checks ORDER BY ALL",
             "SELECT * FROM month_status ORDER BY ALL",
             "SELECT year, figure_id, value, is_provisional, provisional_reason FROM report_figures ORDER BY ALL")
    before = [read_report(copy, sql) for sql in state]
    run(inbox, copy)
    assert [read_report(copy, sql) for sql in state] == before


def test_reportpipe_run_names_each_flagged_month_and_how_to_accept_it(history_scenario, warehouse, tmp_path):
    copy = tmp_path / "warehouse"
    shutil.copytree(warehouse, copy, symlinks=True)
    ran = cli("run", "--inbox", history_scenario.inbox, "--warehouse", copy)
    assert ran.code == 0  # the months loaded
    said = ran.err
    flags = read_report(copy, "SELECT source_id, month, anomaly FROM month_status WHERE anomaly IS NOT NULL")
    assert {s for s, *_ in flags} == {"work_orders"} and len(flags) == 3  # April, May and June
    for source_id, month, reasons in flags:
        assert f"{reasons} (check with the sending office, then: reportpipe accept {source_id} {month:%Y-%m}" in said


class Collected(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_months_loaded_out_of_order_are_checked_as_in_order_and_their_flags_alert_once(history_scenario, warehouse,
                                                                                        tmp_path, monkeypatch):
    """Newest month first (a backfill runs months side by side): each load checks the later months again,
    and the end is where loading in order ends. The statistics DAG then publishes the flags and alerts."""
    from types import SimpleNamespace

    from airflow.dag_processing.dagbag import DagBag

    from reportpipe.pipeline import ingest_month

    folder = history_scenario.inbox / "work_orders"
    wh = tmp_path / "warehouse"
    for month in sorted(HISTORY_WORK_ORDERS, reverse=True):
        ingest_month("work_orders", dt.date(HISTORY_YEAR, month, 1), sorted(folder.glob(f"*_{HISTORY_YEAR}{month:02d}*")), wh)
    checks = query(wh / "work.duckdb", "SELECT * EXCLUDE (file_id, checked_at) FROM month_checks ORDER BY ALL")
    assert checks == read_report(warehouse, "SELECT * EXCLUDE (file_id, checked_at, office_id) FROM month_checks"
                                            " WHERE source_id = 'work_orders' ORDER BY ALL")

    monkeypatch.setenv("REPORTPIPE_WAREHOUSE", str(wh))
    monkeypatch.delenv("REPORTPIPE_ALERT_EMAIL", raising=False)
    publish = DagBag(dag_folder=str(DAGS / "statistics.py")).dags["statistics"].task_dict["publish_figures"]
    ti = SimpleNamespace(dag_id="statistics", task_id="publish_figures", try_number=1)

    def publish_figures() -> list[str]:
        """Run the task; the alerts it logged (Airflow's logging set-up takes caplog's handler away)."""
        alerts = Collected()
        logging.getLogger("reportpipe.orchestration.alerts").addHandler(alerts)
        try:
            publish.python_callable("jiaodaokou", ti=ti, run_id="asset_triggered__x")
        finally:
            logging.getLogger("reportpipe.orchestration.alerts").removeHandler(alerts)
        return alerts.messages

    [alert] = publish_figures()
    months = [f"work_orders {HISTORY_YEAR}-{m:02d}" for m in (4, 5, 6)]
    assert alert.startswith(f"ALERT [reportpipe] out of line with its history: {', '.join(months)}\n")
    for month, text in zip((4, 5, 6), months):
        assert f"flag:   v1 {anomaly(warehouse, 'work_orders', month)[0]}\n" in alert
        assert f"reportpipe accept {text} --note" in alert
    assert publish_figures() == []  # published already: said once
