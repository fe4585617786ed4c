"""Commands that just work after `make demo` (issue 14): the analysts' own DuckDB shell opens the
published file; `reportpipe` reads the `.env` of the folder it runs in (an exported variable wins);
long work shows its steps on a terminal, and only there."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys

import pytest

from reportpipe.cli import main
from tests.helpers import DUCKDB_SHELL, HISTORY_WORK_ORDERS, cli, read_report, write_work_orders


def test_the_venvs_duckdb_shell_reads_the_published_file(demo_warehouse):
    if not DUCKDB_SHELL.exists():
        message = f"{DUCKDB_SHELL} is missing (requirements.lock installs duckdb-cli)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    report = demo_warehouse / "report.duckdb"
    sql = "SELECT count(*), sum(value) FILTER (WHERE unit = '件') FROM report_figures"
    shell = subprocess.run([DUCKDB_SHELL, "-readonly", "-csv", "-noheader", report, sql],
                           capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    [(count, total)] = read_report(demo_warehouse, sql)
    assert count > 0
    shown_count, shown_total = shell.stdout.strip().split(",")
    assert (int(shown_count), float(shown_total)) == (count, total)


@pytest.fixture
def no_warehouse_variable(monkeypatch):
    # Whatever main() loads from a .env goes when the test ends.
    monkeypatch.setenv("REPORTPIPE_WAREHOUSE", "unset")
    monkeypatch.delenv("REPORTPIPE_WAREHOUSE")


def test_the_env_file_of_the_current_folder_is_read_and_an_exported_variable_wins(
        demo_warehouse, tmp_path, monkeypatch, no_warehouse_variable):
    (tmp_path / ".env").write_text(f"REPORTPIPE_WAREHOUSE={demo_warehouse}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    status = cli("status", "--year", "2023")
    assert status.code == 0
    assert status.out.startswith("2023 ")

    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("REPORTPIPE_WAREHOUSE", str(elsewhere))
    status = cli("status", "--year", "2023")
    assert status.code == 2
    assert f"{elsewhere / 'report.duckdb'} does not exist" in status.err


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "log file"])
def test_long_work_shows_its_steps_on_a_terminal_only(terminal, tmp_path, monkeypatch):
    from reportpipe import loading

    write_work_orders(tmp_path / "inbox", 1, HISTORY_WORK_ORDERS[1])
    name = "执法工单_202401.csv"
    monkeypatch.setattr(loading, "BIG_FILE_ROWS", sum(HISTORY_WORK_ORDERS[1]))  # this file counts as a big one
    # main() itself, not cli(): stderr must be a terminal here, which cli()'s captured output is not.
    err = Tty() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["run", "--inbox", str(tmp_path / "inbox"), "--warehouse", str(tmp_path / "warehouse")]) == 0
    text = err.getvalue()
    steps = [f"reading {name} …", f"typing {sum(HISTORY_WORK_ORDERS[1])} rows of {name} …",
             f"validating {sum(HISTORY_WORK_ORDERS[1])} rows of {name} …", f"loading {sum(HISTORY_WORK_ORDERS[1])} rows of {name} …"]
    # The timing of a big file is a result: printed once, on its own line, wherever stderr goes.
    timing = [line for line in text.replace("\r\033[K", "\n").splitlines() if line.startswith(f"{name}: read ")]
    assert len(timing) == 1 and " rows in " in timing[0] and " expectations in " in timing[0]
    if terminal:  # each step overwrites the line before it
        for step in steps:
            assert f"\r\033[K{step}" in text
    else:
        assert "\r" not in text and "\033" not in text
        assert not any(step in text for step in steps)
