"""Shared fixtures: a test PII key, an isolated Airflow home, the demo year and the history scenario built once."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.helpers import (
    HISTORY_PETITIONS,
    HISTORY_WORK_ORDERS,
    TEST_PII_KEY,
    cli,
    write_petitions,
    write_work_orders,
)

# Before anything imports Airflow: never touch a developer's ~/airflow.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="reportpipe-airflow-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")


@pytest.fixture(autouse=True)
def pii_key(monkeypatch):
    monkeypatch.setenv("REPORTPIPE_PII_KEY", TEST_PII_KEY)
    return TEST_PII_KEY.encode()


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
    import hashlib
    import warnings

    digest = lambda: hashlib.sha256((demo_warehouse / "report.duckdb").read_bytes()).hexdigest()  # noqa: E731
    before = digest()
    out = tmp_path_factory.mktemp("demo_report")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = cli("report", "--year", "2023", "--out", out, "--warehouse", demo_warehouse)
    assert written.code == 0
    return {
        "paths": [Path(line) for line in written.out.splitlines()],
        "missing_glyphs": [str(w.message) for w in caught if "missing from font" in str(w.message)],
        "unchanged": before == digest(),
    }


@pytest.fixture(scope="session")
def history_scenario(tmp_path_factory) -> SimpleNamespace:
    """The inbox and warehouse of the history scenario (tests/helpers.py: HISTORY_WORK_ORDERS and
    HISTORY_PETITIONS), built once per session by `reportpipe run`. Read them; never change them."""
    from reportpipe.pipeline import run

    folder = tmp_path_factory.mktemp("history")
    for month, counts in HISTORY_WORK_ORDERS.items():
        write_work_orders(folder / "inbox", month, counts)
    for month, counts in HISTORY_PETITIONS.items():
        write_petitions(folder / "inbox", month, counts)
    with pytest.MonkeyPatch.context() as mp:  # the per-test key is not set yet in a session fixture
        mp.setenv("REPORTPIPE_PII_KEY", TEST_PII_KEY)
        report = run(folder / "inbox", folder / "warehouse")
    assert not report.rejected, [o.describe() for o in report.rejected]
    return SimpleNamespace(inbox=folder / "inbox", warehouse=folder / "warehouse")


@pytest.fixture(scope="session")
def printed(demo_report, tmp_path_factory) -> dict:
    """The demo year's draft and workbook rendered to PDF by LibreOffice, once: their pages' text, sizes,
    words with their places, and the font sizes printed."""
    import shutil

    import tests.office as office
    from tests.helpers import output

    folder = tmp_path_factory.mktemp("printed")
    draft, book = folder / "draft.docx", folder / "book.xlsx"
    shutil.copy(output(demo_report["paths"], ".docx"), draft)
    shutil.copy(output(demo_report["paths"], ".xlsx"), book)
    draft_pdf, book_pdf = office.to_pdf([draft, book], folder)
    return {"draft": office.pages(draft_pdf), "draft_sizes": office.page_sizes(draft_pdf),
            "draft_words": office.words(draft_pdf), "docx": output(demo_report["paths"], ".docx"),
            "book": office.pages(book_pdf), "book_sizes": office.page_sizes(book_pdf), "workbook": book,
            "book_fonts": office.font_sizes(book_pdf)}
