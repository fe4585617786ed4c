"""`reportpipe status` and `reportpipe accept` (issue 14) on the history scenario (conftest: history_scenario):
overdue months against a given day, the exit codes cron relies on, --json, and an accepted flag
that a re-delivery brings back."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from reportpipe.contracts import sources
from reportpipe.statistics.history import due_date
from reportpipe.statistics.status import year_status
from tests.helpers import (
    HISTORY_WORK_ORDERS,
    HISTORY_YEAR,
    anomaly,
    cli,
    open_report,
    read_report,
    write_csv,
    write_work_orders,
)


@pytest.fixture(scope="module")
def warehouse(history_scenario):
    return history_scenario.warehouse


def work_orders_cells(warehouse, today: dt.date | None = None) -> dict:
    """The work_orders row of HISTORY_YEAR's status grid, by month, as of `today`."""
    with open_report(warehouse) as con:
        return {c.month: c for c in year_status(con, HISTORY_YEAR, today).grid["work_orders"]}


def test_a_month_not_delivered_by_its_due_day_is_overdue(warehouse):
    july = dt.date(HISTORY_YEAR, 7, 1)
    due = due_date(july, sources()["work_orders"])
    assert (due.year, due.month, due.day) == (HISTORY_YEAR, 8, sources()["work_orders"].history.due_day)
    on_time, late = work_orders_cells(warehouse, due), work_orders_cells(warehouse, due + dt.timedelta(days=1))
    assert (on_time[f"{HISTORY_YEAR}-07"].label, on_time[f"{HISTORY_YEAR}-07"].overdue) == ("·", False)
    assert (late[f"{HISTORY_YEAR}-07"].label, late[f"{HISTORY_YEAR}-07"].states, late[f"{HISTORY_YEAR}-07"].needs_attention) == \
        ("late", ["overdue"], True)
    assert not late[f"{HISTORY_YEAR}-08"].overdue  # due in September
    assert not any(late[f"{HISTORY_YEAR}-{m:02d}"].overdue for m in HISTORY_WORK_ORDERS)  # loaded, however late


def test_status_exits_1_on_a_flag_or_an_overdue_export_0_when_all_is_well_2_without_a_warehouse(
        warehouse, demo_warehouse, tmp_path):
    status = cli("status", "--year", HISTORY_YEAR, "--warehouse", warehouse)
    assert status.code == 1
    assert f"flagged: {anomaly(warehouse, 'work_orders', 4)[0]} (reportpipe accept work_orders {HISTORY_YEAR}-04 --note \"…\"" \
        " clears it)" in status.out.splitlines()
    assert f"overdue: work_orders {HISTORY_YEAR}-07 (due {due_date(dt.date(HISTORY_YEAR, 7, 1), sources()['work_orders'])})" \
        in status.out.splitlines()
    assert cli("status", "--year", "2023", "--warehouse", demo_warehouse).code == 0
    status = cli("status", "--year", "2022", "--warehouse", demo_warehouse)  # nothing flagged, all late
    assert status.code == 1 and "flagged:" not in status.out and "overdue: work_orders 2022-12" in status.out
    status = cli("status", "--year", HISTORY_YEAR, "--warehouse", tmp_path)
    assert (status.code, status.out) == (2, "")
    assert f"{tmp_path / 'report.duckdb'} does not exist" in status.err


def test_status_json_says_the_same_for_machines(warehouse):
    printed = cli("status", "--year", HISTORY_YEAR, "--json", "--warehouse", warehouse)
    status = json.loads(printed.out)
    assert (printed.code, status["year"], status["ok"]) == (1, HISTORY_YEAR, False)
    assert status["flagged"] == [anomaly(warehouse, "work_orders", m)[0] for m in (4, 5, 6)]
    assert f"work_orders {HISTORY_YEAR}-07" in status["overdue"]
    april = status["sources"]["work_orders"][3]
    assert (april["month"], april["label"], april["states"]) == (f"{HISTORY_YEAR}-04", "v1?", ["loaded", "anomaly"])
    assert (april["loaded"]["file"], april["loaded"]["rows"]) == (f"执法工单_{HISTORY_YEAR}04.csv", sum(HISTORY_WORK_ORDERS[4]))
    assert (april["anomaly"], april["accepted"], april["overdue"]) == \
        (anomaly(warehouse, "work_orders", 4)[0], None, False)
    assert status["sources"]["work_orders"][6]["states"] == ["overdue"]
    assert list(status["sources"]) == list(sources())


def test_accept_clears_the_flag_keeps_the_note_and_a_new_delivery_needs_its_own(warehouse, tmp_path):
    from reportpipe.pipeline import run

    wh, inbox = tmp_path / "warehouse", tmp_path / "inbox"
    shutil.copytree(warehouse, wh, symlinks=True)
    april, note = anomaly(warehouse, "work_orders", 4)[0], "checked with 综合执法队: the 政通 platform was down for two weeks"

    accepted = cli("accept", "work_orders", f"{HISTORY_YEAR}-03", "--note", note, "--warehouse", wh)
    assert (accepted.code, accepted.err) == (2, f"reportpipe: work_orders {HISTORY_YEAR}-03 has no history flag to accept"
                                                " (`reportpipe status` shows them)\n")
    assert cli("accept", "work_orders", f"{HISTORY_YEAR}-04", "--note", "  ", "--warehouse", wh).code == 2
    assert cli("accept", "work_order", f"{HISTORY_YEAR}-04", "--note", note, "--warehouse", wh).code == 2
    assert read_report(wh, "SELECT count(*) FROM acceptances") == [(0,)]

    accepted = cli("accept", "work_orders", f"{HISTORY_YEAR}-04", "--note", note, "--warehouse", wh)
    assert (accepted.code, accepted.out) == (0, f"accepted work_orders {HISTORY_YEAR}-04: {april}\nnote: {note}\n")
    assert anomaly(wh, "work_orders", 4) == (april, note)
    assert read_report(wh, "SELECT source_id, month, file_id, note FROM acceptances") == read_report(
        wh, "SELECT source_id, month, file_id, ? FROM loaded_months WHERE source_id = 'work_orders' AND month = ?",
        [note, dt.date(HISTORY_YEAR, 4, 1)])
    reasons = read_report(wh, "SELECT DISTINCT provisional_reason FROM report_figures WHERE source_id = 'work_orders'"
                              " AND year = ?", [HISTORY_YEAR])
    assert len(reasons) == 1 and april not in reasons[0][0] and anomaly(wh, "work_orders", 5)[0] in reasons[0][0]
    status = json.loads(cli("status", "--year", HISTORY_YEAR, "--json", "--warehouse", wh).out)
    assert status["sources"]["work_orders"][3]["label"] == "v1✓"
    assert april not in status["flagged"]

    # A corrected April (v2, still a third of the usual size) and March again under its own name,
    # broken: April is flagged anew, its acceptance stays with the file it was for; March is in doubt.
    write_work_orders(inbox, 4, HISTORY_WORK_ORDERS[4], version="_v2")
    source = sources()["work_orders"]
    write_csv(inbox / "work_orders" / f"执法工单_{HISTORY_YEAR}03.csv", [c.name for c in source.columns],
              [["WO-X", "微信", f"{HISTORY_YEAR}/3/1 09:00", "其他", "交东社区", "", "", "", "", "办理中"]])
    assert [o.export.name for o in run(inbox, wh).rejected] == [f"执法工单_{HISTORY_YEAR}03.csv"]
    renewed, accepted = anomaly(wh, "work_orders", 4)
    assert (renewed, accepted) == (april, None)
    assert read_report(wh, "SELECT note FROM acceptances") == [(note,)]
    grid = work_orders_cells(wh)
    assert (grid[f"{HISTORY_YEAR}-04"].label, grid[f"{HISTORY_YEAR}-03"].label) == ("v2?", "v1!")
    [reason] = read_report(wh, "SELECT DISTINCT provisional_reason FROM report_figures WHERE source_id = 'work_orders'"
                               " AND year = ?", [HISTORY_YEAR])
    assert april in reason[0] and f"latest delivery rejected: {HISTORY_YEAR}-03 v1" in reason[0]


def test_a_rejected_redelivery_or_a_month_of_rejected_files_only_needs_attention(demo_warehouse, demo_inbox, tmp_path):
    """v1! (a newer delivery rejected) and ✗vN (only rejected ones) exit 1 like a flag or a late export."""
    import csv

    from reportpipe.pipeline import run

    wh, inbox = tmp_path / "warehouse", tmp_path / "inbox"
    shutil.copytree(demo_warehouse, wh, symlinks=True)
    assert cli("status", "--year", "2023", "--warehouse", wh).code == 0
    with (demo_inbox / "work_orders" / "执法工单_202303.csv").open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    rows[0][1] = "微信"  # 来源渠道 out of its set
    write_csv(inbox / "work_orders" / "执法工单_202303_v2.csv", header, rows)
    run(inbox, wh)
    status = cli("status", "--year", "2023", "--warehouse", wh)
    assert status.code == 1
    assert "rejected: work_orders 2023-03 v2 (v1 still holds the month; deliver a corrected _vN)" in status.out.splitlines()
    report = json.loads(cli("status", "--year", "2023", "--json", "--warehouse", wh).out)
    assert (report["ok"], report["rejected"], report["overdue"], report["flagged"]) == \
        (False, ["work_orders 2023-03 v2"], [], [])
