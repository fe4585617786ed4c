"""`reportpipe status` and `reportpipe accept` (issue 14) on the history scenario of test_history:
overdue months against a given day, the exit codes cron relies on, --json, and an accepted flag
that a re-delivery brings back."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import shutil

import duckdb
import pytest

from reportpipe.cli import main
from reportpipe.contracts import sources
from reportpipe.statistics.history import due_date
from reportpipe.statistics.status import year_status
from tests.conftest import write_csv
from tests.test_history import WORK_ORDERS, YEAR, anomaly, published, scenario, work_orders_file


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return scenario(tmp_path_factory)[1]


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def cells(warehouse, today: dt.date | None = None) -> dict:
    with duckdb.connect(str(warehouse / "report.duckdb"), read_only=True) as con:
        return {c.month: c for c in year_status(con, YEAR, today).grid["work_orders"]}


def test_a_month_not_delivered_by_its_due_day_is_overdue(warehouse):
    july = dt.date(YEAR, 7, 1)
    due = due_date(july, sources()["work_orders"])
    assert (due.year, due.month, due.day) == (YEAR, 8, sources()["work_orders"].history.due_day)
    on_time, late = cells(warehouse, due), cells(warehouse, due + dt.timedelta(days=1))
    assert (on_time[f"{YEAR}-07"].label, on_time[f"{YEAR}-07"].overdue) == ("·", False)
    assert (late[f"{YEAR}-07"].label, late[f"{YEAR}-07"].states, late[f"{YEAR}-07"].needs_attention) == \
        ("late", ["overdue"], True)
    assert not late[f"{YEAR}-08"].overdue  # due in September
    assert not any(late[f"{YEAR}-{m:02d}"].overdue for m in WORK_ORDERS)  # loaded, however late


def test_status_exits_1_on_a_flag_or_an_overdue_export_0_when_all_is_well_2_without_a_warehouse(
        warehouse, demo_warehouse, tmp_path):
    code, out, _ = cli("status", "--year", str(YEAR), "--warehouse", str(warehouse))
    assert code == 1
    assert f"flagged: {anomaly(warehouse, 'work_orders', 4)[0]} (reportpipe accept work_orders {YEAR}-04 --note \"…\"" \
        " clears it)" in out.splitlines()
    assert f"overdue: work_orders {YEAR}-07 (due {due_date(dt.date(YEAR, 7, 1), sources()['work_orders'])})" \
        in out.splitlines()
    assert cli("status", "--year", "2023", "--warehouse", str(demo_warehouse))[0] == 0
    code, out, _ = cli("status", "--year", "2022", "--warehouse", str(demo_warehouse))  # nothing flagged, all late
    assert code == 1 and "flagged:" not in out and "overdue: work_orders 2022-12" in out
    code, out, err = cli("status", "--year", str(YEAR), "--warehouse", str(tmp_path))
    assert (code, out) == (2, "")
    assert f"{tmp_path / 'report.duckdb'} does not exist" in err


def test_status_json_says_the_same_for_machines(warehouse):
    code, out, _ = cli("status", "--year", str(YEAR), "--json", "--warehouse", str(warehouse))
    status = json.loads(out)
    assert (code, status["year"], status["ok"]) == (1, YEAR, False)
    assert status["flagged"] == [anomaly(warehouse, "work_orders", m)[0] for m in (4, 5, 6)]
    assert f"work_orders {YEAR}-07" in status["overdue"]
    april = status["sources"]["work_orders"][3]
    assert (april["month"], april["label"], april["states"]) == (f"{YEAR}-04", "v1?", ["loaded", "anomaly"])
    assert (april["loaded"]["file"], april["loaded"]["rows"]) == (f"执法工单_{YEAR}04.csv", sum(WORK_ORDERS[4]))
    assert (april["anomaly"], april["accepted"], april["overdue"]) == \
        (anomaly(warehouse, "work_orders", 4)[0], None, False)
    assert status["sources"]["work_orders"][6]["states"] == ["overdue"]
    assert list(status["sources"]) == list(sources())


def test_accept_clears_the_flag_keeps_the_note_and_a_new_delivery_needs_its_own(warehouse, tmp_path):
    from reportpipe.pipeline import run

    wh, inbox = tmp_path / "warehouse", tmp_path / "inbox"
    shutil.copytree(warehouse, wh, symlinks=True)
    april, note = anomaly(warehouse, "work_orders", 4)[0], "checked with 综合执法队: the 政通 platform was down for two weeks"

    code, _, err = cli("accept", "work_orders", f"{YEAR}-03", "--note", note, "--warehouse", str(wh))
    assert (code, err) == (2, f"reportpipe: work_orders {YEAR}-03 has no history flag to accept"
                              " (`reportpipe status` shows them)\n")
    assert cli("accept", "work_orders", f"{YEAR}-04", "--note", "  ", "--warehouse", str(wh))[0] == 2
    assert cli("accept", "work_order", f"{YEAR}-04", "--note", note, "--warehouse", str(wh))[0] == 2
    assert published(wh, "SELECT count(*) FROM acceptances") == [(0,)]

    code, out, _ = cli("accept", "work_orders", f"{YEAR}-04", "--note", note, "--warehouse", str(wh))
    assert (code, out) == (0, f"accepted work_orders {YEAR}-04: {april}\nnote: {note}\n")
    assert anomaly(wh, "work_orders", 4) == (april, note)
    assert published(wh, "SELECT source_id, month, file_id, note FROM acceptances") == published(
        wh, "SELECT source_id, month, file_id, ? FROM loaded_months WHERE source_id = 'work_orders' AND month = ?",
        [note, dt.date(YEAR, 4, 1)])
    reasons = published(wh, "SELECT DISTINCT provisional_reason FROM report_figures WHERE source_id = 'work_orders'"
                            " AND year = ?", [YEAR])
    assert len(reasons) == 1 and april not in reasons[0][0] and anomaly(wh, "work_orders", 5)[0] in reasons[0][0]
    status = json.loads(cli("status", "--year", str(YEAR), "--json", "--warehouse", str(wh))[1])
    assert status["sources"]["work_orders"][3]["label"] == "v1✓"
    assert april not in status["flagged"]

    # A corrected April (v2, still a third of the usual size) and March again under its own name,
    # broken: April is flagged anew, its acceptance stays with the file it was for; March is in doubt.
    work_orders_file(inbox, 4, WORK_ORDERS[4], version="_v2")
    source = sources()["work_orders"]
    write_csv(inbox / "work_orders" / f"执法工单_{YEAR}03.csv", [c.name for c in source.columns],
              [["WO-X", "微信", f"{YEAR}/3/1 09:00", "其他", "交东社区", "", "", "", "", "办理中"]])
    assert [o.export.name for o in run(inbox, wh).rejected] == [f"执法工单_{YEAR}03.csv"]
    renewed, accepted = anomaly(wh, "work_orders", 4)
    assert (renewed, accepted) == (april, None)
    assert published(wh, "SELECT note FROM acceptances") == [(note,)]
    grid = cells(wh)
    assert (grid[f"{YEAR}-04"].label, grid[f"{YEAR}-03"].label) == ("v2?", "v1!")
    [reason] = published(wh, "SELECT DISTINCT provisional_reason FROM report_figures WHERE source_id = 'work_orders'"
                             " AND year = ?", [YEAR])
    assert april in reason[0] and f"latest delivery rejected: {YEAR}-03 v1" in reason[0]
