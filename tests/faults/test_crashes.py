"""A refresh killed (kill -9, the OOM killer, a power cut) during validation, inside the load
transaction, or while publishing: no partial month, report.duckdb as it was, and the next run
cleans up and ends where a run that was never killed ends.

Each run is a process of its own (tests/faults/commands.py), killed with SIGKILL the moment
it calls the function named for its phase.
"""

from __future__ import annotations

import hashlib
import shutil
import signal

import pytest

from tests.faults.commands import start
from tests.faults.conftest import figures
from tests.helpers import TEST_PII_KEY, query

# Where each phase is reached: the function called at that moment of a refresh.
DIE_AT = {
    # validating the first new file: the month is staged in the scratch database, nothing loaded
    "validation": "reportpipe.validation.validator.validate",
    # inside the transaction that replaces the month: the file is kept, stg_, intake_log and loaded_months
    # are written, not committed (the history check is its last step)
    "load": "reportpipe.statistics.history.check_month",
    # publishing: the new report.duckdb is built beside the old one, not yet renamed into place
    "publication": "reportpipe.warehouse.publication.set_comments",
}


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(warehouse) -> list[str]:
    """Files a killed run leaves behind that a finished run does not."""
    found = [p.name for p in warehouse.glob(".report.duckdb.*")] + [p.name for p in warehouse.glob(".parquet.*.link")]
    sets = [p for p in warehouse.glob(".parquet.*") if p.is_dir()]
    found += [p.name for p in sets if p.resolve() != (warehouse / "parquet").resolve()]
    return found + [p.name for p in (warehouse / ".scratch").glob("**/*")]


def partial_months(warehouse) -> list[str]:
    """The months of stg_ tables that do not hold exactly the rows their loaded file had."""
    work = warehouse / "work.duckdb"
    broken = []
    for table, in query(work, "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, 'stg_')"):
        source = table.removeprefix("stg_")
        staged = dict(query(work, f"SELECT month, count(*) FROM {table} GROUP BY month"))
        loaded = dict(query(work, "SELECT month, rows FROM loaded_months WHERE source_id = ?", [source]))
        broken += [f"{table} {m}: {staged.get(m)} rows staged, {loaded.get(m)} loaded"
                   for m in staged.keys() | loaded.keys() if staged.get(m, 0) != loaded.get(m, 0)]
    return broken


@pytest.mark.parametrize("phase", DIE_AT)
def test_a_killed_refresh_changes_nothing_and_the_next_one_ends_as_a_clean_one(small, tmp_path, phase):
    env = {"REPORTPIPE_PII_KEY": TEST_PII_KEY}
    inbox, warehouse, output = tmp_path / "inbox", tmp_path / "warehouse", tmp_path / "output"
    # The first month is published; the second is what the killed refresh brings.
    shutil.copytree(small.inbox, inbox)
    second = sorted(p for p in inbox.glob("*/*") if "_202302" in p.name)
    assert second
    held = tmp_path / "held"
    held.mkdir()
    for path in second:
        path.rename(held / path.name)
    assert start("run", "--inbox", inbox, "--warehouse", warehouse, env=env, folder=output).wait().code == 0
    published, before = digest(warehouse / "report.duckdb"), figures(warehouse / "report.duckdb")
    months_before = query(warehouse / "work.duckdb", "SELECT source_id, month, sha256 FROM loaded_months ORDER BY ALL")
    for path in second:
        (held / path.name).rename(path)

    killed = start("run", "--inbox", inbox, "--warehouse", warehouse, env=env, folder=output,
                   die_at=DIE_AT[phase]).wait()
    assert killed.code == -signal.SIGKILL, f"the run was not killed at {phase}:\n{killed.err[-3000:]}"
    assert digest(warehouse / "report.duckdb") == published  # analysts never saw a half-made file
    assert partial_months(warehouse) == []
    months = query(warehouse / "work.duckdb", "SELECT source_id, month, sha256 FROM loaded_months ORDER BY ALL")
    if phase == "publication":  # the loads had committed; only the publication was cut short
        assert len(months) > len(months_before)
    else:
        assert months == months_before

    again = start("run", "--inbox", inbox, "--warehouse", warehouse, env=env, folder=output).wait()
    assert again.code == 0, again.err[-5000:]
    assert leftovers(warehouse) == []
    assert partial_months(warehouse) == []
    assert figures(warehouse / "report.duckdb") == figures(small.warehouse / "report.duckdb") != before
    count = "SELECT count(*) FROM {}"
    for table, in query(small.warehouse / "report.duckdb",
                        "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, 'stg_')"):
        assert query(warehouse / "report.duckdb", count.format(table)) == \
            query(small.warehouse / "report.duckdb", count.format(table)), table
    assert not query(warehouse / "report.duckdb", "SELECT source_id, month FROM intake_log WHERE status = 'loaded'"
                                                  " GROUP BY ALL HAVING count(*) > 1")
