"""Intake, validation and loading of source-months: re-deliveries, duplicates, rejections, re-runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import shutil

import duckdb
import pytest

from reportpipe.cli import main as cli
from reportpipe.pipeline import run
from reportpipe.warehouse.publication import TIMESTAMPS
from tests.conftest import write_csv

LIT_HEADER = ["案号", "收案日期", "案件类型", "案由", "审理结果", "负责人出庭"]
WO_HEADER = ["工单编号", "来源渠道", "受理时间", "问题类型", "所属社区", "问题地址", "诉求人电话", "首次响应时间", "办结时间", "办理状态"]


def lit(inbox, name, rows, encoding="utf-8"):
    return write_csv(inbox / "litigation" / name, LIT_HEADER, rows, encoding)


def quiet_run(inbox, wh):
    return run(inbox, wh)


def query(wh, sql, params=()):
    with duckdb.connect(str(wh / "report.duckdb"), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def figure(wh, figure_id, year=2023):
    return query(wh, "SELECT value FROM report_figures WHERE figure_id = ? AND year = ?", [figure_id, year])[0][0]


def snapshot(wh):
    """Every published table's rows, minus load timestamps: what a re-run must not change."""
    with duckdb.connect(str(wh / "report.duckdb"), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        out = {}
        for t in tables:
            cols = [c for c, in con.execute(f"SELECT column_name FROM duckdb_columns() WHERE table_name = '{t}'").fetchall()
                    if c not in (*TIMESTAMPS, "published_at")]
            out[t] = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY ALL").fetchall()
        return out


V1 = [["(2023)京0101行初1号", "2023-03-02", "行政诉讼", "拆除牌匾", "未判决", "否"],
      ["(2023)京0101行初2号", "2023/3/9", "行政诉讼", "罚款", "撤诉", "是"]]
V2 = [V1[0][:4] + ["撤诉", "否"], V1[1]]


def test_redelivery_replaces_the_month_and_rerun_changes_nothing(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    lit(inbox, "复议诉讼_202303.csv", V1)
    assert not quiet_run(inbox, wh).rejected
    # v1: one lawsuit pending, one withdrawn.
    assert (figure(wh, "lawsuits_pending"), figure(wh, "lawsuits_withdrawn")) == (1, 1)

    lit(inbox, "复议诉讼_202303_v2.csv", V2)
    quiet_run(inbox, wh)
    # v2 replaces v1: the pending case was withdrawn; the month still has two rows, not four.
    assert (figure(wh, "lawsuits_pending"), figure(wh, "lawsuits_withdrawn"), figure(wh, "lawsuits")) == (0, 2, 2)
    assert query(wh, "SELECT version FROM loaded_months WHERE source_id = 'litigation'") == [(2,)]

    first = snapshot(wh)
    quiet_run(inbox, wh)
    assert snapshot(wh) == first


def test_fresh_warehouse_from_the_same_inbox_gives_the_same_tables(tmp_path):
    inbox = tmp_path / "inbox"
    lit(inbox, "复议诉讼_202303.csv", V1)
    lit(inbox, "复议诉讼_202303_v2.csv", V2)
    quiet_run(inbox, tmp_path / "a")
    quiet_run(inbox, tmp_path / "b")
    strip_ids = lambda s: {t: [r for r in rows] for t, rows in s.items() if t != "intake_log"}
    assert strip_ids(snapshot(tmp_path / "a")) == strip_ids(snapshot(tmp_path / "b"))


def test_identical_bytes_delivered_again_change_nothing(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    first = lit(inbox, "复议诉讼_202303.csv", V1)
    quiet_run(inbox, wh)
    before = snapshot(wh)
    shutil.copy(first, inbox / "litigation" / "复议诉讼_202303_v2.csv")
    report = quiet_run(inbox, wh)
    assert [o.status for o in report.outcomes] == ["current", "duplicate"] or \
        sorted(o.status for o in report.outcomes) == ["current", "duplicate"]
    after = snapshot(wh)
    assert after["stg_litigation"] == before["stg_litigation"]
    assert after["report_figures"] == before["report_figures"]


def test_rejected_redelivery_keeps_the_month_and_fails_the_run(tmp_path, capsys):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    lit(inbox, "复议诉讼_202303.csv", V1)
    quiet_run(inbox, wh)
    before = snapshot(wh)["stg_litigation"]
    lit(inbox, "复议诉讼_202303_v2.csv", [V1[0][:4] + ["改判", "否"], V1[1]])
    assert cli(["run", "--inbox", str(inbox), "--warehouse", str(wh)]) == 1
    err = capsys.readouterr().err
    # The message names file, row, column, value and rule.
    assert "复议诉讼_202303_v2.csv row 2, column 审理结果: '改判' is not one of" in err
    assert "[values: expect_column_values_to_be_in_set]" in err
    assert snapshot(wh)["stg_litigation"] == before
    assert query(wh, "SELECT status FROM intake_log WHERE path LIKE '%_v2.csv'") == [("rejected",)]


def test_a_rejected_file_does_not_stop_the_other_files(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    lit(inbox, "复议诉讼_202303.csv", [V1[0][:1] + ["2023-04-01"] + V1[0][2:]])
    lit(inbox, "复议诉讼_202304.csv", V1[1:2] and [["(2023)京0101行初3号", "2023-04-02", "行政复议", "", "驳回", "否"]])
    report = quiet_run(inbox, wh)
    assert [(o.export.period, o.status) for o in report.outcomes] == [("2023-03", "rejected"), ("2023-04", "loaded")]
    assert query(wh, "SELECT strftime(month, '%Y-%m') FROM loaded_months") == [("2023-04",)]


def test_stray_files_are_reported_and_left_alone(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    lit(inbox, "复议诉讼_202303.csv", V1)
    (inbox / "litigation" / "复议诉讼.csv").write_text("x")
    (inbox / "unknown").mkdir()
    (inbox / "unknown" / "复议诉讼_202303.csv").write_text("x")
    (inbox / "README.txt").write_text("x")
    report = quiet_run(inbox, wh)
    assert not report.rejected
    # A folder that is no source is one stray, whatever it holds.
    assert sorted(s.path.name for s in report.strays) == ["README.txt", "unknown", "复议诉讼.csv"]
    assert (inbox / "README.txt").exists()


def test_header_only_month_is_loaded_and_counts_zero(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    lit(inbox, "复议诉讼_202305.csv", [], encoding="gb18030")
    assert not quiet_run(inbox, wh).rejected
    assert query(wh, "SELECT strftime(month, '%Y-%m'), rows FROM loaded_months") == [("2023-05", 0)]
    assert figure(wh, "lawsuits") == 0
    # A rate with nothing to divide by has no value.
    assert figure(wh, "mediation_success_rate") is None


def test_personal_data_is_published_only_as_a_keyed_hash(tmp_path, pii_key):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    phone = "13812345678"
    write_csv(inbox / "work_orders" / "执法工单_202303.csv", WO_HEADER,
              [["W1", "政通", "2023-03-05 14:07", "其他", "府学社区", "", f" {phone}", "", "", "办理中"]])
    assert not quiet_run(inbox, wh).rejected
    expected = hmac.new(pii_key, phone.encode(), hashlib.sha256).hexdigest()
    assert query(wh, "SELECT caller_phone_hash FROM stg_work_orders") == [(expected,)]
    tables = [t for t, in query(wh, "SELECT table_name FROM duckdb_tables()")]
    assert not [t for t in tables if t.startswith("raw_")]
    for table in tables:
        text = str(query(wh, f"SELECT * FROM {table}"))
        assert phone not in text, table


def test_loading_without_a_key_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("REPORTPIPE_PII_KEY")
    monkeypatch.chdir(tmp_path)  # no .env here either
    inbox = tmp_path / "inbox"
    lit(inbox, "复议诉讼_202303.csv", V1)
    assert cli(["run", "--inbox", str(inbox), "--warehouse", str(tmp_path / "wh")]) == 2
    assert "REPORTPIPE_PII_KEY" in capsys.readouterr().err


@pytest.mark.parametrize(
    "rows, column, kind",
    [
        ([V1[0], V1[0]], "案号", "unique"),
        ([V1[0][:1] + ["2023-02-28"] + V1[0][2:]], "收案日期", "month"),
        ([V1[0][:1] + ["2023-03-32"] + V1[0][2:]], "收案日期", "type"),
        ([V1[0][:2] + [""] + V1[0][3:]], "案件类型", "required"),
        ([V1[0][:2] + ["民事诉讼"] + V1[0][3:]], "案件类型", "values"),
        ([V1[0][:5] + ["Y"]], "负责人出庭", "type"),
    ],
)
def test_each_rule_names_row_column_and_kind(tmp_path, rows, column, kind):
    inbox = tmp_path / "inbox"
    lit(inbox, "复议诉讼_202303.csv", rows)
    report = quiet_run(inbox, tmp_path / "wh")
    problems = report.rejected[0].problems
    # Exactly the broken rule is reported, starting at the broken row (a duplicate id: both rows).
    assert {(p.column, p.kind) for p in problems} == {(column, kind)}
    assert problems[0].row == 2


def test_id_loaded_for_another_month_is_rejected(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    lit(inbox, "复议诉讼_202303.csv", V1)
    quiet_run(inbox, wh)
    lit(inbox, "复议诉讼_202304.csv", [[V1[0][0], "2023-04-03"] + V1[0][2:]])
    problems = quiet_run(inbox, wh).rejected[0].problems
    assert [(p.row, p.column, p.kind) for p in problems] == [(2, "案号", "loaded_before")]
    assert "was already loaded for 2023-03" in problems[0].message


def test_wrong_columns_are_named(tmp_path):
    inbox = tmp_path / "inbox"
    write_csv(inbox / "litigation" / "复议诉讼_202303.csv", LIT_HEADER[:-1] + ["出庭"], [])
    problems = quiet_run(inbox, tmp_path / "wh").rejected[0].problems
    assert [p.kind for p in problems] == ["columns"]
    assert "missing 负责人出庭" in problems[0].message and "unexpected 出庭" in problems[0].message


def test_missing_or_rejected_months_make_figures_provisional(tmp_path, capsys):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    for month in range(1, 13):
        lit(inbox, f"复议诉讼_2023{month:02d}.csv", [])
    quiet_run(inbox, wh)
    assert query(wh, "SELECT DISTINCT is_provisional FROM report_figures WHERE source_id = 'litigation'") == [(False,)]
    # A source without files has provisional figures; litigation, complete, has none.
    assert query(wh, "SELECT DISTINCT is_provisional FROM report_figures WHERE source_id = 'supplies'") == [(True,)]

    lit(inbox, "复议诉讼_202303_v2.csv", [V1[0][:4] + ["改判", "否"]])
    quiet_run(inbox, wh)
    assert query(wh, "SELECT DISTINCT is_provisional FROM report_figures WHERE source_id = 'litigation'") == [(True,)]

    # Exit 1: supplies' exports of 2023 are all overdue.
    assert cli(["status", "--year", "2023", "--warehouse", str(wh)]) == 1
    grid = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[1:13]}
    assert grid["litigation"] == ["v1", "v1", "v1!"] + ["v1"] * 9
    assert grid["supplies"] == ["late"] * 12


def test_redelivery_that_changes_a_published_figure_is_recorded_as_a_revision(tmp_path, capsys):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    lit(inbox, "复议诉讼_202303.csv", V1)
    quiet_run(inbox, wh)
    # A new month changes year-to-date figures, but is no revision.
    lit(inbox, "复议诉讼_202304.csv", [["(2023)京0101行初3号", "2023-04-02", "行政诉讼", "", "败诉", "否"]])
    quiet_run(inbox, wh)
    assert query(wh, "SELECT count(*) FROM figure_revisions") == [(0,)]

    lit(inbox, "复议诉讼_202303_v2.csv", V2)
    quiet_run(inbox, wh)
    revisions = query(wh, "SELECT figure_id, old_value, new_value, caused_by FROM figure_revisions ORDER BY figure_id")
    assert [r[:3] for r in revisions] == [("lawsuits_pending", 1, 0), ("lawsuits_withdrawn", 1, 2)]
    assert all(r[3].endswith("复议诉讼_202303_v2.csv") for r in revisions)
    quiet_run(inbox, wh)  # a re-run revises nothing
    assert query(wh, "SELECT count(*) FROM figure_revisions") == [(2,)]

    assert cli(["revisions", "--year", "2023", "--warehouse", str(wh)]) == 0
    out = capsys.readouterr().out
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
    lit(inbox, "复议诉讼_202303.csv", V1)
    quiet_run(inbox, wh)
    # A re-delivery loaded after the last refresh, on a clock set back: still a revision.
    v2 = lit(inbox, "复议诉讼_202303_v2.csv", V2)
    ingest_month("litigation", dt.date(2023, 3, 1), [v2], wh)
    set_clock_back(wh, "loaded")
    refresh_statistics(wh)
    assert query(wh, "SELECT figure_id FROM figure_revisions ORDER BY 1") == [("lawsuits_pending",), ("lawsuits_withdrawn",)]
    # Other bytes under the loaded name, rejected on that clock: the month is in doubt all the same.
    lit(inbox, "复议诉讼_202303_v2.csv", [V2[0][:4] + ["胜诉?", "否"]])
    with pytest.raises(RejectedExport):
        ingest_month("litigation", dt.date(2023, 3, 1), [v2], wh)
    set_clock_back(wh, "rejected")
    refresh_statistics(wh)
    assert query(wh, "SELECT loaded_version, rejected_version FROM month_status WHERE month = DATE '2023-03-01'") == [(2, 2)]


def test_ingest_month_raises_with_every_problem_for_the_dag_to_fail(tmp_path):
    """What an ingest DAG task runs: a rejection raises, naming file, row, column and expectation."""
    from reportpipe.pipeline import ingest_month
    from reportpipe.problems import RejectedExport

    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    march = lit(inbox, "复议诉讼_202303.csv", [V1[0][:4] + ["改判", "否"]])
    april = lit(inbox, "复议诉讼_202304.csv", [])
    with pytest.raises(RejectedExport) as raised:
        ingest_month("litigation", dt.date(2023, 3, 1), [march], wh)
    message = str(raised.value)
    assert "复议诉讼_202303.csv row 2, column 审理结果: '改判' is not one of" in message
    assert "[values: expect_column_values_to_be_in_set]" in message
    assert raised.value.files == ["复议诉讼_202303.csv"]
    # Another month of the same source is independent of the rejection.
    assert [o.status for o in ingest_month("litigation", dt.date(2023, 4, 1), [april], wh)] == ["loaded"]
    assert ingest_month("litigation", dt.date(2023, 5, 1), [], wh) == []


def test_validate_checks_one_file_without_loading_it(tmp_path, capsys):
    good = lit(tmp_path / "inbox", "复议诉讼_202303.csv", V1)
    assert cli(["validate", str(good), "--warehouse", str(tmp_path / "wh")]) == 0
    assert "valid:" in capsys.readouterr().out
    bad = lit(tmp_path / "inbox", "复议诉讼_202304.csv", [[V1[0][0], "2023-04-03", "行政诉讼", "", "改判", "否"]])
    assert cli(["validate", str(bad), "--warehouse", str(tmp_path / "wh")]) == 1
    assert "复议诉讼_202304.csv row 2, column 审理结果: '改判' is not one of" in capsys.readouterr().out
    link = tmp_path / "inbox" / "litigation" / "复议诉讼_202305.csv"
    link.symlink_to(good)
    assert cli(["validate", str(link), "--warehouse", str(tmp_path / "wh")]) == 1
    assert "symbolic link" in capsys.readouterr().out
    assert not (tmp_path / "wh" / "work.duckdb").exists()  # nothing was loaded


def test_the_pipelines_duckdb_draws_no_progress_bar(tmp_path):
    """DuckDB's own progress bar (on by default) would write its carriage-return redraws of long queries
    into Airflow's task logs and the CLI's output; the pipeline shows its own steps instead."""
    from reportpipe.warehouse.session import writer

    with writer(tmp_path / "warehouse") as w:
        assert w.con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
