"""The pipeline's operations: the one implementation the CLI, the DAGs and the tests call.

- `ingest_month(source, month)`: decide which delivered file holds the month's
  truth, validate it and replace the month's rows in one transaction.
- `refresh_statistics()`: rebuild business and report tables, then publish.
- `run()`: both, for every source-month found in the inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from reportpipe import revisions, settings, staging, validation, warehouse
from reportpipe.contracts import Source, sources
from reportpipe.figures import build_report_tables
from reportpipe.inbox import Export, Stray, scan, sha256
from reportpipe.readers import ExportFormatError
from reportpipe.reconcile import reconcile

log = logging.getLogger(__name__)
MAX_MESSAGE_LINES = 50


class RejectedExport(RuntimeError):
    """A delivered file broke the contract; the month keeps its earlier good version."""

    def __init__(self, message: str, files: list[str]):
        super().__init__(message)
        self.files = files


@dataclass
class FileOutcome:
    export: Export
    status: str  # loaded | rejected | duplicate | superseded | current
    rows: int | None = None
    problems: list[staging.Problem] = field(default_factory=list)
    evidence: object = None  # key of the stored GX validation result

    def describe(self) -> str:
        e = self.export
        text = f"{e.source_id} {e.month} v{e.version} {e.name}: {self.status}"
        if self.rows is not None:
            text += f" ({self.rows} rows)"
        if self.problems:
            text += "\n" + "\n".join(f"  {p}" for p in self.problems[:MAX_MESSAGE_LINES])
            if len(self.problems) > MAX_MESSAGE_LINES:
                text += f"\n  … {len(self.problems) - MAX_MESSAGE_LINES} more problems"
        return text


@dataclass
class RunReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    strays: list[Stray] = field(default_factory=list)
    data_docs: Path | None = None  # index page of the validation results' Data Docs

    @property
    def rejected(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "rejected"]


def _log(con: duckdb.DuckDBPyConnection, export: Export, digest: str, status: str, rows: int | None,
         message: str | None, file_id: int | None = None) -> None:
    if file_id is None:
        file_id = con.execute("SELECT nextval('file_id_seq')").fetchall()[0][0]
    con.execute(
        "INSERT INTO intake_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [file_id, str(export.path), digest, export.source_id, export.month, export.version, rows, status, message],
    )


def _log_once(con: duckdb.DuckDBPyConnection, export: Export, digest: str, status: str, message: str) -> None:
    """Record a decision that changes nothing, once, however often the inbox is re-read."""
    seen = con.execute(
        "SELECT 1 FROM intake_log WHERE path = ? AND sha256 = ? AND status = ? AND month = ?",
        [str(export.path), digest, status, export.month],
    ).fetchall()
    if not seen:
        _log(con, export, digest, status, None, message)


def check_export(con: duckdb.DuckDBPyConnection, export: Export, source: Source,
                 loaded: str | None) -> tuple[int | None, validation.Validation]:
    """Stage a file into `incoming` and validate it (`loaded`: the table of earlier months)."""
    try:
        header, rows = staging.stage(con, export)
    except ExportFormatError as e:
        problem = staging.Problem(export.name, None, None, "format", str(e).removeprefix(f"{export.name}: "))
        return None, validation.Validation(success=False, problems=[problem])
    return rows, validation.validate(con, source, export, header, loaded)


def _record_validation(con: duckdb.DuckDBPyConnection, export: Export, digest: str, rows: int | None,
                       checked: validation.Validation) -> None:
    con.executemany(
        "INSERT INTO validation_runs VALUES (now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [str(export.path), digest, export.source_id, export.month, export.version, export.source_id,
             kind, column, success, unexpected, rows]
            for kind, column, success, unexpected in checked.expectations
        ],
    )


def _load(con: duckdb.DuckDBPyConnection, export: Export, digest: str, source: Source) -> FileOutcome:
    pii_key = settings.pii_key()  # before any work: without it nothing can load
    warehouse.ensure_source_tables(con, source)
    rows, checked = check_export(con, export, source, f"stg_{source.source_id}")
    evidence = validation.store(checked, source, export, digest) if checked.result is not None else None
    if not checked.success:
        _record_validation(con, export, digest, rows, checked)
        _log(con, export, digest, "rejected", rows, "\n".join(map(str, checked.problems[:MAX_MESSAGE_LINES])))
        con.execute("DROP TABLE IF EXISTS incoming")
        return FileOutcome(export, "rejected", rows, checked.problems, evidence)
    sid = source.source_id
    con.execute("BEGIN TRANSACTION")
    try:
        file_id = con.execute("SELECT nextval('file_id_seq')").fetchall()[0][0]
        con.execute(f"DELETE FROM raw_{sid} WHERE month = ?", [export.month])
        con.execute(
            f"INSERT INTO raw_{sid} BY NAME SELECT {file_id} AS file_id, ? AS month, * FROM incoming", [export.month]
        )
        con.execute(f"DELETE FROM stg_{sid} WHERE month = ?", [export.month])
        stg = staging.typed_sql(source, pii_key, export.month, file_id)
        con.execute(f"INSERT INTO stg_{sid} BY NAME {stg}")
        _record_validation(con, export, digest, rows, checked)
        _log(con, export, digest, "loaded", rows, None, file_id)
        con.execute("DELETE FROM loaded_months WHERE source_id = ? AND month = ?", [sid, export.month])
        con.execute(
            "INSERT INTO loaded_months VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [sid, export.month, file_id, export.version, digest, str(export.path), rows],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS incoming")
    return FileOutcome(export, "loaded", rows, evidence=evidence)


def decide_month(con: duckdb.DuckDBPyConnection, exports: list[Export], source: Source) -> list[FileOutcome]:
    """Load the highest valid version of one source-month, unless it is loaded already."""
    current = con.execute(
        "SELECT version, sha256 FROM loaded_months WHERE source_id = ? AND month = ?",
        [source.source_id, exports[0].month],
    ).fetchall()
    current = current[0] if current else None
    outcomes = []
    ordered = sorted(exports, key=lambda e: (-e.version, e.name))
    digests = {e: sha256(e.path) for e in ordered}
    for e in ordered:
        rivals = {digests[o] for o in ordered if o.version == e.version}
        if len(rivals) > 1:
            message = f"{len(rivals)} different files claim {e.month} version {e.version}: deliver a higher _vN"
            problem = staging.Problem(e.name, None, None, "version", message)
            _log(con, e, digests[e], "rejected", None, str(problem))
            outcomes.append(FileOutcome(e, "rejected", problems=[problem]))
            continue
        if current and digests[e] == current[1]:
            outcomes.append(FileOutcome(e, "current"))
            break
        if current and e.version < current[0]:
            break
        outcome = _load(con, e, digests[e], source)
        outcomes.append(outcome)
        if outcome.status == "loaded":
            current = (e.version, digests[e])
            break
    # Files below the one that holds the month are not read: they change nothing.
    for e in ordered[len(outcomes):]:
        if digests[e] == current[1]:
            _log_once(con, e, digests[e], "duplicate", "same bytes as the loaded file")
            outcomes.append(FileOutcome(e, "duplicate"))
        else:
            _log_once(con, e, digests[e], "superseded", f"version {current[0]} holds {e.month}")
            outcomes.append(FileOutcome(e, "superseded"))
    return outcomes


def ingest_month(source_id: str, month: str, inbox: Path | None = None, warehouse_dir: Path | None = None) -> list[FileOutcome]:
    """Ingest one source-month from the inbox; raise RejectedExport when a file was rejected."""
    inbox = inbox or settings.inbox_dir()
    warehouse_dir = warehouse_dir or settings.warehouse_dir()
    source = sources()[source_id]
    exports = [e for e in scan(inbox, {source_id: source})[0] if e.month == month]
    if not exports:
        return []
    with warehouse.work(warehouse_dir) as con:
        outcomes = decide_month(con, exports, source)
    for o in outcomes:
        log.info(o.describe())
    rejected = [o for o in outcomes if o.status == "rejected"]
    if rejected:
        # Published results get their Data Docs with the statistics; a rejection publishes nothing.
        docs = validation.build_data_docs([o.evidence for o in rejected if o.evidence])
        raise RejectedExport("\n".join(o.describe() for o in rejected) + f"\nData Docs: {docs}",
                             files=[o.export.name for o in rejected])
    return outcomes


def refresh_statistics(warehouse_dir: Path | None = None) -> Path:
    """Rebuild the business and report tables and publish report.duckdb; its path."""
    warehouse_dir = warehouse_dir or settings.warehouse_dir()
    with warehouse.work(warehouse_dir) as con:
        return _refresh(con, warehouse_dir)


def _refresh(con: duckdb.DuckDBPyConnection, warehouse_dir: Path) -> Path:
    for source in sources().values():
        warehouse.ensure_source_tables(con, source)
    con.execute("BEGIN TRANSACTION")
    try:
        revisions.previous_figures(con)
        build_report_tables(con)
        revisions.record(con)
        reconcile(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")  # the last good build stays, and so does the published file
        raise
    return warehouse.publish(con, warehouse_dir)


def run(inbox: Path, warehouse_dir: Path, progress: Callable[[str], None] = print) -> RunReport:
    """Ingest every source-month in the inbox, month by month, then publish the statistics."""
    all_sources = sources()
    exports, strays = scan(inbox, all_sources)
    report = RunReport(strays=strays)
    for stray in strays:
        progress(f"skipped {stray.path}: {stray.reason}")
    by_month: dict[str, dict[str, list[Export]]] = {}
    for e in exports:
        by_month.setdefault(e.month, {}).setdefault(e.source_id, []).append(e)
    with warehouse.work(warehouse_dir) as con:
        for month in sorted(by_month):
            outcomes = []
            for source_id, month_exports in sorted(by_month[month].items()):
                outcomes += decide_month(con, month_exports, all_sources[source_id])
            loaded = sum(o.status == "loaded" for o in outcomes)
            rejected = [o for o in outcomes if o.status == "rejected"]
            progress(f"{month}: {loaded} loaded, {len(rejected)} rejected, {len(by_month[month])} sources")
            for o in rejected:
                progress(o.describe())
            report.outcomes += outcomes
        _refresh(con, warehouse_dir)
    report.data_docs = validation.build_data_docs()
    return report
