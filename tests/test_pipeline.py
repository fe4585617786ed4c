"""Intake, validation and loading of source-months: re-deliveries, duplicates, rejections, re-runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import shutil

import duckdb
import pytest

from reportpipe.pipeline import run
from tests.helpers import (
    LITIGATION_HEADER,
    MARCH_LAWSUITS,
    cli,
    published_rows,
    read_report,
    write_csv,
    write_litigation,
)

WO_HEADER = ["工单编号", "来源渠道", "受理时间", "问题类型", "所属社区", "问题地址", "诉求人电话", "首次响应时间", "办结时间", "办理状态"]
# March's re-delivery: the pending lawsuit was withdrawn.
MARCH_LAWSUITS_V2 = [MARCH_LAWSUITS[0][:4] + ["撤诉", "否"], MARCH_LAWSUITS[1]]


def figure(wh, figure_id, year=2023):
    return read_report(wh, "SELECT value FROM report_figures WHERE figure_id = ? AND year = ?", [figure_id, year])[0][0]


def test_redelivery_replaces_the_month_and_rerun_changes_nothing(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    assert not run(inbox, wh).rejected
    # v1: one lawsuit pending, one withdrawn.
    assert (figure(wh, "lawsuits_pending"), figure(wh, "lawsuits_withdrawn")) == (1, 1)

    write_litigation(inbox, "复议诉讼_202303_v2.csv", MARCH_LAWSUITS_V2)
    run(inbox, wh)
    # v2 replaces v1: the pending case was withdrawn; the month still has two rows, not four.
    assert (figure(wh, "lawsuits_pending"), figure(wh, "lawsuits_withdrawn"), figure(wh, "lawsuits")) == (0, 2, 2)
    assert read_report(wh, "SELECT version FROM loaded_months WHERE source_id = 'litigation'") == [(2,)]

    first = published_rows(wh)
    run(inbox, wh)
    assert published_rows(wh) == first


def test_fresh_warehouse_from_the_same_inbox_gives_the_same_tables(tmp_path):
    inbox = tmp_path / "inbox"
    write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    write_litigation(inbox, "复议诉讼_202303_v2.csv", MARCH_LAWSUITS_V2)
    run(inbox, tmp_path / "a")
    run(inbox, tmp_path / "b")
    without_intake_log = lambda s: {t: rows for t, rows in s.items() if t != "intake_log"}  # noqa: E731
    assert without_intake_log(published_rows(tmp_path / "a")) == without_intake_log(published_rows(tmp_path / "b"))


def test_identical_bytes_delivered_again_change_nothing(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    first = write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    run(inbox, wh)
    before = published_rows(wh)
    shutil.copy(first, inbox / "litigation" / "复议诉讼_202303_v2.csv")
    report = run(inbox, wh)
    assert [o.status for o in report.outcomes] == ["current", "duplicate"] or \
        sorted(o.status for o in report.outcomes) == ["current", "duplicate"]
    after = published_rows(wh)
    assert after["stg_litigation"] == before["stg_litigation"]
    assert after["report_figures"] == before["report_figures"]


def test_rejected_redelivery_keeps_the_month_and_fails_the_run(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    run(inbox, wh)
    before = published_rows(wh)["stg_litigation"]
    write_litigation(inbox, "复议诉讼_202303_v2.csv", [MARCH_LAWSUITS[0][:4] + ["改判", "否"], MARCH_LAWSUITS[1]])
    ran = cli("run", "--inbox", inbox, "--warehouse", wh)
    assert ran.code == 1
    err = ran.err
    # The message names file, row, column, value and rule.
    assert "复议诉讼_202303_v2.csv row 2, column 审理结果: '改判' is not one of" in err
    assert "[values: expect_column_values_to_be_in_set]" in err
    assert published_rows(wh)["stg_litigation"] == before
    assert read_report(wh, "SELECT status FROM intake_log WHERE path LIKE '%_v2.csv'") == [("rejected",)]


def test_a_rejected_file_does_not_stop_the_other_files(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    write_litigation(inbox, "复议诉讼_202303.csv", [MARCH_LAWSUITS[0][:1] + ["2023-04-01"] + MARCH_LAWSUITS[0][2:]])
    write_litigation(inbox, "复议诉讼_202304.csv", [["(2023)京0101行初3号", "2023-04-02", "行政复议", "", "驳回", "否"]])
    report = run(inbox, wh)
    assert [(o.export.period, o.status) for o in report.outcomes] == [("2023-03", "rejected"), ("2023-04", "loaded")]
    assert read_report(wh, "SELECT strftime(month, '%Y-%m') FROM loaded_months") == [("2023-04",)]


def test_stray_files_are_reported_and_left_alone(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    (inbox / "litigation" / "复议诉讼.csv").write_text("x")
    (inbox / "unknown").mkdir()
    (inbox / "unknown" / "复议诉讼_202303.csv").write_text("x")
    (inbox / "README.txt").write_text("x")
    report = run(inbox, wh)
    assert not report.rejected
    # A folder that is no source is one stray, whatever it holds.
    assert sorted(s.path.name for s in report.strays) == ["README.txt", "unknown", "复议诉讼.csv"]
    assert (inbox / "README.txt").exists()


def test_header_only_month_is_loaded_and_counts_zero(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    write_litigation(inbox, "复议诉讼_202305.csv", [], encoding="gb18030")
    assert not run(inbox, wh).rejected
    assert read_report(wh, "SELECT strftime(month, '%Y-%m'), rows FROM loaded_months") == [("2023-05", 0)]
    assert figure(wh, "lawsuits") == 0
    # A rate with nothing to divide by has no value.
    assert figure(wh, "mediation_success_rate") is None


def test_personal_data_is_published_only_as_a_keyed_hash(tmp_path, pii_key):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    phone = "13812345678"
    write_csv(inbox / "work_orders" / "执法工单_202303.csv", WO_HEADER,
              [["W1", "政通", "2023-03-05 14:07", "其他", "府学社区", "", f" {phone}", "", "", "办理中"]])
    assert not run(inbox, wh).rejected
    expected = hmac.new(pii_key, phone.encode(), hashlib.sha256).hexdigest()
    assert read_report(wh, "SELECT caller_phone_hash FROM stg_work_orders") == [(expected,)]
    tables = [t for t, in read_report(wh, "SELECT table_name FROM duckdb_tables()")]
    assert not [t for t in tables if t.startswith("raw_")]
    for table in tables:
        text = str(read_report(wh, f"SELECT * FROM {table}"))
        assert phone not in text, table


def test_loading_without_a_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("REPORTPIPE_PII_KEY")
    monkeypatch.chdir(tmp_path)  # no .env here either
    inbox = tmp_path / "inbox"
    write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    ran = cli("run", "--inbox", inbox, "--warehouse", tmp_path / "wh")
    assert ran.code == 2
    assert "REPORTPIPE_PII_KEY" in ran.err


@pytest.mark.parametrize(
    "rows, column, kind",
    [
        ([MARCH_LAWSUITS[0], MARCH_LAWSUITS[0]], "案号", "unique"),
        ([MARCH_LAWSUITS[0][:1] + ["2023-02-28"] + MARCH_LAWSUITS[0][2:]], "收案日期", "month"),
        ([MARCH_LAWSUITS[0][:1] + ["2023-03-32"] + MARCH_LAWSUITS[0][2:]], "收案日期", "type"),
        ([MARCH_LAWSUITS[0][:2] + [""] + MARCH_LAWSUITS[0][3:]], "案件类型", "required"),
        ([MARCH_LAWSUITS[0][:2] + ["民事诉讼"] + MARCH_LAWSUITS[0][3:]], "案件类型", "values"),
        ([MARCH_LAWSUITS[0][:5] + ["Y"]], "负责人出庭", "type"),
    ],
)
def test_each_rule_names_row_column_and_kind(tmp_path, rows, column, kind):
    inbox = tmp_path / "inbox"
    write_litigation(inbox, "复议诉讼_202303.csv", rows)
    report = run(inbox, tmp_path / "wh")
    problems = report.rejected[0].problems
    # Exactly the broken rule is reported, starting at the broken row (a duplicate id: both rows).
    assert {(p.column, p.kind) for p in problems} == {(column, kind)}
    assert problems[0].row == 2


def test_id_loaded_for_another_month_is_rejected(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    run(inbox, wh)
    write_litigation(inbox, "复议诉讼_202304.csv", [[MARCH_LAWSUITS[0][0], "2023-04-03"] + MARCH_LAWSUITS[0][2:]])
    problems = run(inbox, wh).rejected[0].problems
    assert [(p.row, p.column, p.kind) for p in problems] == [(2, "案号", "loaded_before")]
    assert "was already loaded for 2023-03" in problems[0].message


def test_wrong_columns_are_named(tmp_path):
    inbox = tmp_path / "inbox"
    write_csv(inbox / "litigation" / "复议诉讼_202303.csv", LITIGATION_HEADER[:-1] + ["出庭"], [])
    problems = run(inbox, tmp_path / "wh").rejected[0].problems
    assert [p.kind for p in problems] == ["columns"]
    assert "missing 负责人出庭" in problems[0].message and "unexpected 出庭" in problems[0].message


def test_missing_or_rejected_months_make_figures_provisional(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    for month in range(1, 13):
        write_litigation(inbox, f"复议诉讼_2023{month:02d}.csv", [])
    run(inbox, wh)
    assert read_report(wh, "SELECT DISTINCT is_provisional FROM report_figures WHERE source_id = 'litigation'") == [(False,)]
    # A source without files has provisional figures; litigation, complete, has none.
    assert read_report(wh, "SELECT DISTINCT is_provisional FROM report_figures WHERE source_id = 'supplies'") == [(True,)]

    write_litigation(inbox, "复议诉讼_202303_v2.csv", [MARCH_LAWSUITS[0][:4] + ["改判", "否"]])
    run(inbox, wh)
    assert read_report(wh, "SELECT DISTINCT is_provisional FROM report_figures WHERE source_id = 'litigation'") == [(True,)]

    # Exit 1: supplies' exports of 2023 are all overdue.
    status = cli("status", "--year", "2023", "--warehouse", wh)
    assert status.code == 1
    grid = {line.split()[0]: line.split()[1:] for line in status.out.splitlines()[1:13]}
    assert grid["litigation"] == ["v1", "v1", "v1!"] + ["v1"] * 9
    assert grid["supplies"] == ["late"] * 12


def test_redelivery_that_changes_a_published_figure_is_recorded_as_a_revision(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    run(inbox, wh)
    # A new month changes year-to-date figures, but is no revision.
    write_litigation(inbox, "复议诉讼_202304.csv", [["(2023)京0101行初3号", "2023-04-02", "行政诉讼", "", "败诉", "否"]])
    run(inbox, wh)
    assert read_report(wh, "SELECT count(*) FROM figure_revisions") == [(0,)]

    write_litigation(inbox, "复议诉讼_202303_v2.csv", MARCH_LAWSUITS_V2)
    run(inbox, wh)
    revisions = read_report(wh, "SELECT figure_id, old_value, new_value, caused_by FROM figure_revisions ORDER BY figure_id")
    assert [r[:3] for r in revisions] == [("lawsuits_pending", 1, 0), ("lawsuits_withdrawn", 1, 2)]
    assert all(r[3].endswith("复议诉讼_202303_v2.csv") for r in revisions)
    run(inbox, wh)  # a re-run revises nothing
    assert read_report(wh, "SELECT count(*) FROM figure_revisions") == [(2,)]

    revisions = cli("revisions", "--year", "2023", "--warehouse", wh)
    assert revisions.code == 0
    out = revisions.out
    assert "lawsuits_withdrawn" in out and "复议诉讼_202303_v2.csv" in out


def set_clock_back(wh, status: str) -> None:
    """As if the machine's clock had gone back years before the newest decision of this status was made."""
    with duckdb.connect(str(wh / "work.duckdb")) as con:
        (file_id,) = con.execute("SELECT max(file_id) FROM intake_log WHERE status = ?", [status]).fetchone()
        con.execute("UPDATE intake_log SET logged_at = TIMESTAMPTZ '2001-01-01 00:00:00+00' WHERE file_id = ?", [file_id])
        con.execute("UPDATE loaded_months SET loaded_at = TIMESTAMPTZ '2001-01-01 00:00:00+00' WHERE file_id = ?",
                    [file_id])


def test_deliveries_are_ordered_by_their_sequence_whatever_the_clock_says(tmp_path):
    from reportpipe.pipeline import ingest_month, refresh_statistics
    from reportpipe.problems import RejectedExport

    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    run(inbox, wh)
    # A re-delivery loaded after the last refresh, on a clock set back: still a revision.
    v2 = write_litigation(inbox, "复议诉讼_202303_v2.csv", MARCH_LAWSUITS_V2)
    ingest_month("litigation", dt.date(2023, 3, 1), [v2], wh)
    set_clock_back(wh, "loaded")
    refresh_statistics(wh)
    assert read_report(wh, "SELECT figure_id FROM figure_revisions ORDER BY 1") == [("lawsuits_pending",), ("lawsuits_withdrawn",)]
    # Other bytes under the loaded name, rejected on that clock: the month is in doubt all the same.
    write_litigation(inbox, "复议诉讼_202303_v2.csv", [MARCH_LAWSUITS_V2[0][:4] + ["胜诉?", "否"]])
    with pytest.raises(RejectedExport):
        ingest_month("litigation", dt.date(2023, 3, 1), [v2], wh)
    set_clock_back(wh, "rejected")
    refresh_statistics(wh)
    assert read_report(wh, "SELECT loaded_version, rejected_version FROM month_status WHERE month = DATE '2023-03-01'") == [(2, 2)]


def test_ingest_month_raises_with_every_problem_for_the_dag_to_fail(tmp_path):
    """What an ingest DAG task runs: a rejection raises, naming file, row, column and expectation."""
    from reportpipe.pipeline import ingest_month
    from reportpipe.problems import RejectedExport

    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    march = write_litigation(inbox, "复议诉讼_202303.csv", [MARCH_LAWSUITS[0][:4] + ["改判", "否"]])
    april = write_litigation(inbox, "复议诉讼_202304.csv", [])
    with pytest.raises(RejectedExport) as raised:
        ingest_month("litigation", dt.date(2023, 3, 1), [march], wh)
    message = str(raised.value)
    assert "复议诉讼_202303.csv row 2, column 审理结果: '改判' is not one of" in message
    assert "[values: expect_column_values_to_be_in_set]" in message
    assert raised.value.files == ["复议诉讼_202303.csv"]
    # Another month of the same source is independent of the rejection.
    assert [o.status for o in ingest_month("litigation", dt.date(2023, 4, 1), [april], wh)] == ["loaded"]
    assert ingest_month("litigation", dt.date(2023, 5, 1), [], wh) == []


def test_validate_checks_one_file_without_loading_it(tmp_path):
    good = write_litigation(tmp_path / "inbox", "复议诉讼_202303.csv", MARCH_LAWSUITS)
    validated = cli("validate", good, "--warehouse", tmp_path / "wh")
    assert validated.code == 0
    assert "valid:" in validated.out
    bad = write_litigation(tmp_path / "inbox", "复议诉讼_202304.csv", [[MARCH_LAWSUITS[0][0], "2023-04-03", "行政诉讼", "", "改判", "否"]])
    validated = cli("validate", bad, "--warehouse", tmp_path / "wh")
    assert validated.code == 1
    assert "复议诉讼_202304.csv row 2, column 审理结果: '改判' is not one of" in validated.out
    link = tmp_path / "inbox" / "litigation" / "复议诉讼_202305.csv"
    link.symlink_to(good)
    validated = cli("validate", link, "--warehouse", tmp_path / "wh")
    assert validated.code == 1
    assert "symbolic link" in validated.out
    assert not (tmp_path / "wh" / "work.duckdb").exists()  # nothing was loaded


def test_the_pipelines_duckdb_draws_no_progress_bar(tmp_path):
    """DuckDB's own progress bar (on by default) would write its carriage-return redraws of long queries
    into Airflow's task logs and the CLI's output; the pipeline shows its own steps instead."""
    from reportpipe.warehouse.session import writer

    with writer(tmp_path / "warehouse") as w:
        assert w.con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)


def test_the_statistics_dag_publishes_only_when_a_file_was_decided_since_the_last_refresh(tmp_path):
    from reportpipe.pipeline import ingest_month, refresh_office

    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    write_litigation(inbox, "复议诉讼_202303.csv", MARCH_LAWSUITS)
    run(inbox, wh)
    published = (wh / "report.duckdb").stat()
    refresh_office(wh, only_if_changed=True)  # a second statistics run of the same burst: nothing new
    assert (wh / "report.duckdb").stat().st_ino == published.st_ino
    v2 = write_litigation(inbox, "复议诉讼_202303_v2.csv", MARCH_LAWSUITS_V2)
    ingest_month("litigation", dt.date(2023, 3, 1), [v2], wh)
    refresh_office(wh, only_if_changed=True)
    assert (wh / "report.duckdb").stat().st_ino != published.st_ino
    assert read_report(wh, "SELECT count(*) FROM figure_revisions") == [(2,)]
