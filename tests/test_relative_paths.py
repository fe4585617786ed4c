"""An operator types relative folders: `reportpipe run --inbox inbox --warehouse state` from the project."""

from __future__ import annotations

import duckdb

from reportpipe.cli import main as cli
from tests.conftest import write_csv

HEADER = ["案号", "收案日期", "案件类型", "案由", "审理结果", "负责人出庭"]


def test_run_with_relative_inbox_and_warehouse_loads_the_month(tmp_path, monkeypatch):
    write_csv(tmp_path / "inbox" / "litigation" / "复议诉讼_202303.csv", HEADER,
              [["(2023)京0101行初1号", "2023-03-02", "行政诉讼", "不服行政处罚决定", "未判决", "否"]])
    monkeypatch.chdir(tmp_path)
    assert cli(["run", "--inbox", "inbox", "--warehouse", "state"]) == 0
    with duckdb.connect(str(tmp_path / "state" / "report.duckdb"), read_only=True) as con:
        assert con.execute("SELECT source_id, rows FROM loaded_months").fetchall() == [("litigation", 1)]
