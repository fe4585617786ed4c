"""An operator types relative folders: `reportpipe run --inbox inbox --warehouse state` from the project."""

from __future__ import annotations

from tests.helpers import cli, read_report, write_litigation


def test_run_with_relative_inbox_and_warehouse_loads_the_month(tmp_path, monkeypatch):
    write_litigation(tmp_path / "inbox", "复议诉讼_202303.csv",
                     [["(2023)京0101行初1号", "2023-03-02", "行政诉讼", "不服行政处罚决定", "未判决", "否"]])
    monkeypatch.chdir(tmp_path)
    assert cli("run", "--inbox", "inbox", "--warehouse", "state").code == 0
    assert read_report(tmp_path / "state", "SELECT source_id, rows FROM loaded_months") == [("litigation", 1)]
