"""Nothing bad gets in, nothing good gets lost: every hostile file of issue 9, in one run.

Each case is rejected (or, where SPEC allows it, accepted) with one message naming
the file, and the row and column where there is one; no traceback reaches the
user; every other file still loads; the published figures equal the run without
the bad files; a re-run gives the same result. The files and the runs: conftest.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.faults.conftest import (
    CASES,
    FAKE_PROGRESS,
    PASSWD,
    figures,
    rejection_block,
    require_run,
    text_columns,
)
from tests.helpers import cli, query

REJECTED = [c for c in CASES if c.outcome == "rejected"]
ACCEPTED = [c for c in CASES if c.outcome == "accepted"]
STRAYS = [c for c in CASES if c.outcome == "stray"]
REPORTED = [c for c in CASES if c.outcome == "reported"]
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def month(case) -> str:
    return "2023-" + re.search(r"_2023(\d\d)", case.name).group(1)


def visible(name: str) -> str:
    """The part of a file name before its first control character."""
    return CONTROL.split(name)[0]


def published(runs) -> Path:
    """report.duckdb as the hostile run published it."""
    require_run(runs.first)
    assert runs.first_report is not None, "the run over the hostile inbox published nothing"
    return runs.first_report


def loaded(db: Path) -> set[tuple]:
    """(source, month, file name, version, rows) of every loaded source-month."""
    rows = query(db, "SELECT source_id, left(CAST(month AS VARCHAR), 7), path, version, rows FROM loaded_months")
    return {(s, m, Path(p).name, v, n) for s, m, p, v, n in rows}


def intake(db: Path, case) -> list[tuple[str, str | None]]:
    """(status, message) of every decision about the case's file."""
    rows = query(db, "SELECT path, status, message FROM intake_log")
    return [(status, message) for path, status, message in rows
            if Path(path).name == case.name and Path(path).parent.name == case.source_id]


def stg_tables(db: Path) -> dict[str, list[tuple]]:
    tables = [t for t, in query(db, "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'stg\\_%' ESCAPE '\\'")]
    return {t: query(db, f"SELECT * EXCLUDE (file_id) FROM {t} ORDER BY ALL") for t in tables}


def test_no_traceback_reaches_the_user(runs):
    for run in (runs.first, runs.rerun):
        require_run(run)
        assert "Traceback" not in run.output, run.output[-5000:]
    assert runs.first.code == 1, "files were rejected: the run must say so by its exit code"


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c.id)
def test_a_bad_file_is_rejected_with_one_message_naming_it(runs, case):
    require_run(runs.first)
    block = rejection_block(runs.first.err, case.name)
    assert block, f"no rejection of {case.name} on stderr:\n{runs.first.err[-3000:]}"
    text = "\n".join(block)
    assert re.match(rf"{case.source_id} {month(case)} v\d+ {re.escape(case.name)}: rejected", block[0]), text
    if case.row is not None:
        at_row = [line for line in block if re.search(rf"\brow {case.row}\b", line)]
        assert at_row, f"row {case.row} is not named:\n{text}"
        if case.column:
            assert any(case.column in line for line in at_row), f"column {case.column} is not named with row {case.row}:\n{text}"
    for column in case.columns:
        assert column in text, f"column {column} is not named:\n{text}"
    if case.keywords:
        assert any(k.casefold() in text.casefold() for k in case.keywords), f"none of {case.keywords} in:\n{text}"


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c.id)
def test_a_rejected_file_is_in_the_published_intake_log(runs, case):
    decisions = intake(published(runs), case)
    assert decisions, f"intake_log has no row for {case.name}"
    assert {status for status, _ in decisions} == {"rejected"}
    assert all(message and message.strip() for _, message in decisions)


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.id)
def test_a_header_only_file_is_a_month_without_records(runs, case):
    require_run(runs.first)
    assert not rejection_block(runs.first.err, case.name)
    assert (case.source_id, month(case), case.name, 1, 0) in loaded(published(runs))


@pytest.mark.parametrize("case", STRAYS, ids=lambda c: c.id)
def test_a_stray_is_reported_and_left_alone(runs, case):
    require_run(runs.first)
    assert visible(case.name) in runs.first.output, f"{case.name!r} is not reported"
    assert (runs.inbox / case.source_id / case.name).read_bytes() == runs.strays[case.name]
    assert not intake(published(runs), case)
    assert not [row for row in loaded(published(runs)) if row[:2] == (case.source_id, month(case))]


@pytest.mark.parametrize("case", REPORTED, ids=lambda c: c.id)
def test_a_folder_named_like_an_export_is_reported(runs, case):
    require_run(runs.first)
    lines = [line for line in runs.first.output.split("\n") if case.name in line]
    assert any(k in line.casefold() for line in lines for k in case.keywords), \
        f"{case.name} is not reported as a folder:\n" + "\n".join(lines)


def test_strays_do_not_change_the_exit_code(runs, small, tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    shutil.copytree(small.inbox, inbox)
    shutil.copytree(small.warehouse, warehouse, symlinks=True)
    for case in STRAYS:
        (inbox / case.source_id).mkdir(exist_ok=True)
        (inbox / case.source_id / case.name).write_bytes(runs.strays[case.name])
    run = cli("run", "--inbox", inbox, "--warehouse", warehouse)
    require_run(run)
    assert run.code == 0, run.err
    for case in STRAYS:
        assert visible(case.name) in run.output


def test_no_output_line_carries_a_control_character(runs):
    for run in (runs.first, runs.rerun):
        require_run(run)
        raw = [line for line in run.output.split("\n") if CONTROL.search(line)]
        assert not raw, f"raw control characters in: {raw!r}"
        # A file name must never fake a progress line.
        assert not [line for line in re.split(r"[\r\n]", run.output) if line.startswith(FAKE_PROGRESS)]


def test_every_good_file_still_loads(runs):
    clean = loaded(runs.clean / "report.duckdb")
    assert clean, "the clean run loaded nothing"
    header_only = {(c.source_id, month(c), c.name, 1, 0) for c in ACCEPTED}
    assert loaded(published(runs)) == clean | header_only
    counts = lambda db: {t: len(rows) for t, rows in stg_tables(db).items()}
    assert counts(published(runs)) == counts(runs.clean / "report.duckdb")


def test_the_published_figures_equal_a_run_without_the_bad_files(runs):
    assert figures(published(runs)) == figures(runs.clean / "report.duckdb")


def test_a_rerun_gives_the_same_result(runs):
    first = published(runs)
    require_run(runs.rerun)
    assert runs.rerun.code == runs.first.code
    rejections = lambda run: sorted(line for line in run.err.splitlines() if ": rejected" in line)
    assert rejections(runs.rerun) == rejections(runs.first)
    after = runs.warehouse / "report.duckdb"
    assert figures(after) == figures(first)
    assert loaded(after) == loaded(first)
    assert stg_tables(after) == stg_tables(first)
    rejected = "SELECT DISTINCT path, message FROM intake_log WHERE status = 'rejected' ORDER BY ALL"
    assert query(after, rejected) == query(first, rejected)


def test_nothing_outside_the_inbox_is_read(runs):
    """Symbolic links are not followed, external entities not resolved: /etc/passwd never shows."""
    require_run(runs.first)
    for run in (runs.first, runs.rerun):
        assert PASSWD not in run.output
    for column, values in text_columns(published(runs)).items():
        assert not [v for v in values if PASSWD in v], f"{column} holds a line of /etc/passwd"


def test_the_zip_bomb_is_refused_before_it_is_inflated(runs):
    # Inflating its sheet would take hundreds of MB; checking the zip's directory takes nothing.
    require_run(runs.first)
    assert runs.rss_growth_mb < 300, f"the run's peak memory grew by {runs.rss_growth_mb:.0f} MB"
