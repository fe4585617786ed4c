"""Shared fixtures: a test PII key, an isolated Airflow home, export writers."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import pytest

# Before anything imports Airflow: never touch a developer's ~/airflow.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="reportpipe-airflow-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")

TEST_PII_KEY = "test-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def pii_key(monkeypatch):
    monkeypatch.setenv("REPORTPIPE_PII_KEY", TEST_PII_KEY)
    return TEST_PII_KEY.encode()


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """A CSV export as a source system would write it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list], title: str | None = None, total: bool = False) -> Path:
    """An XLSX export, optionally with a title row above the header and a 合计 row below."""
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append(row)
    if total:
        ws.append(["合计", None, len(rows)])
    wb.save(path)
    return path


@pytest.fixture(scope="session")
def demo_inbox(tmp_path_factory) -> Path:
    """The 2023 demo inbox, written once per test session."""
    from reportpipe.demo.inbox import write_inbox

    inbox = tmp_path_factory.mktemp("demo") / "inbox"
    write_inbox(inbox, 2023)
    return inbox


@pytest.fixture(scope="session")
def demo_warehouse(demo_inbox, tmp_path_factory) -> Path:
    """A warehouse holding the 2023 demo year, built once by the CLI path. Read it; never change it."""
    from reportpipe.pipeline import run

    os.environ.setdefault("REPORTPIPE_PII_KEY", TEST_PII_KEY)
    warehouse = tmp_path_factory.mktemp("demo_warehouse")
    report = run(demo_inbox, warehouse)
    assert not report.rejected, [o.describe() for o in report.rejected]
    return warehouse


@pytest.fixture(scope="session")
def demo_report(demo_warehouse, tmp_path_factory) -> dict:
    """The demo year's report outputs, written once per session by `reportpipe report`: the paths it
    printed, the font warnings matplotlib raised, and whether report.duckdb stayed unchanged."""
    import contextlib
    import hashlib
    import io
    import warnings

    from reportpipe.cli import main

    digest = lambda: hashlib.sha256((demo_warehouse / "report.duckdb").read_bytes()).hexdigest()  # noqa: E731
    before, stdout = digest(), io.StringIO()
    out = tmp_path_factory.mktemp("demo_report")
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(stdout):
        warnings.simplefilter("always")
        code = main(["report", "--year", "2023", "--out", str(out), "--warehouse", str(demo_warehouse)])
    assert code == 0
    return {
        "paths": [Path(line) for line in stdout.getvalue().splitlines()],
        "missing_glyphs": [str(w.message) for w in caught if "missing from font" in str(w.message)],
        "unchanged": before == digest(),
    }
