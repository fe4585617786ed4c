"""A corrupt work.duckdb: say which file, and what to do (restore it, or remove it and re-run)."""

from __future__ import annotations

import shutil

from tests.faults.conftest import figures, require_run
from tests.helpers import cli

ADVICE = ("remove", "delete", "restore")


def corrupt_warehouse(small, tmp_path):
    warehouse = tmp_path / "warehouse"
    shutil.copytree(small.warehouse, warehouse, symlinks=True)
    return warehouse, (warehouse / "report.duckdb").read_bytes()


def assert_named_with_advice(run, warehouse, report: bytes) -> None:
    require_run(run)
    assert run.code not in (0, None)
    assert "Traceback" not in run.output, run.output
    assert "work.duckdb" in run.err, run.err
    assert any(word in run.err.casefold() for word in ADVICE), run.err
    assert (warehouse / "report.duckdb").read_bytes() == report, "the analysts' file changed"


def test_a_work_database_overwritten_with_garbage(small, tmp_path):
    warehouse, report = corrupt_warehouse(small, tmp_path)
    work = warehouse / "work.duckdb"
    work.write_bytes(b"\x00garbage, not a database\n" * 40_000)
    assert_named_with_advice(cli("run", "--inbox", small.inbox, "--warehouse", warehouse), warehouse, report)
    # The advice holds: everything is rebuilt from the inbox.
    work.unlink()
    rebuilt = cli("run", "--inbox", small.inbox, "--warehouse", warehouse)
    require_run(rebuilt)
    assert rebuilt.code == 0, rebuilt.err
    assert figures(warehouse / "report.duckdb") == figures(small.warehouse / "report.duckdb")


def test_a_work_database_with_damaged_blocks(small, tmp_path):
    """Its headers intact, every block after them overwritten: DuckDB opens it, then fails its checksums."""
    warehouse, report = corrupt_warehouse(small, tmp_path)
    work = warehouse / "work.duckdb"
    data = bytearray(work.read_bytes())
    headers = 3 * 4096  # the file header and the two database headers
    data[headers:] = bytes(range(251)) * ((len(data) - headers) // 251) + bytes((len(data) - headers) % 251)
    work.write_bytes(bytes(data))
    assert_named_with_advice(cli("run", "--inbox", small.inbox, "--warehouse", warehouse), warehouse, report)
